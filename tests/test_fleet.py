"""Fleet: ``--format openmetrics`` (checked by a real promtool), ``check
--push-gateway`` against a real Pushgateway, the deploy/ manifests (Kubernetes
schemas) and the alert rules (promtool check/test rules)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.fleet_helpers import CANARY, assert_no_secret, fleet_home, samples
from tests.helpers import ROOT, require_binary, run_cli, run_subprocess
from tests.servers.prometheus import Pushgateway
from tests.servers.util import free_port

from hardoctor.model import Report
from hardoctor.report.openmetrics import Family, escape_label, render, render_family

DEPLOY = ROOT / "deploy"
EXPIRY = "hardoctor_credential_expiry_timestamp_seconds"


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_binary("promtool"), *args], input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)


# -- the exposition ------------------------------------------------------------------


def test_openmetrics_has_both_expiry_series_and_passes_promtool(home: Path) -> None:
    fh = fleet_home(home)
    result = run_cli(["check", "--offline", "--format", "openmetrics"], home=home)
    assert result.rc in (0, 1), str(result)
    text = result.out
    checked = promtool("check", "metrics", stdin=text)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr
    series = {labels["registry"]: (labels, value) for labels, value in samples(text, EXPIRY)}
    assert set(series) == set(fh.expiry)
    for registry, (labels, value) in series.items():
        assert value == fh.expiry[registry]
        assert labels["kind"] == "jwt" and labels["expiry_source"] == "token"
        assert labels["ecosystem"] == "docker" and labels["fingerprint"] not in ("", "none")
        assert registry in labels["location"]
    assert samples(text, "hardoctor_findings"), "no hardoctor_findings series"
    assert samples(text, "hardoctor_last_run_success") == [({}, 1.0)]
    assert samples(text, "hardoctor_credentials") == [({}, 2.0)]
    assert "# TYPE hardoctor_findings gauge" in text and text.endswith("# EOF\n")
    # offline: nothing was probed, so no client has an up/down verdict
    assert samples(text, "hardoctor_registry_up") == []
    assert_no_secret(text + result.err, fh, "the openmetrics output")


def test_label_values_are_escaped_and_never_empty(tmp_path: Path) -> None:
    nasty = 'C:\\dir\\"quoted"\nnext line'
    family = Family("hardoctor_escaping_test", "A test gauge.",
                    (({"path": nasty, "empty": "", "kind": "jwt"}, 1.5),
                     ({"path": nasty, "empty": "", "kind": "jwt"}, 2.0)))  # a duplicate: dropped
    text = render([family])
    assert text.count("hardoctor_escaping_test{") == 1
    assert samples(text, "hardoctor_escaping_test") == [({"path": nasty, "empty": "none", "kind": "jwt"}, 1.5)]
    assert escape_label('a"b') == 'a\\"b'
    checked = promtool("check", "metrics", stdin=text)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_label_values_are_scrubbed() -> None:
    from hardoctor import redact

    redact.register(CANARY)
    text = render_family(Family("hardoctor_x", "X.", (({"location": f"/etc/{CANARY}"}, 1.0),)))
    assert CANARY not in text and "<secret #" in text


def test_registry_up_follows_the_probe_and_the_findings() -> None:
    from datetime import datetime, timezone

    from hardoctor.model import Finding, ProbeResult, Resolution, Severity, Target
    from hardoctor.report.openmetrics import registry_up_family

    def res(host: str, client: str) -> Resolution:
        return Resolution(Target(host, "registry", host), "docker", client, None)

    report = Report(
        started_at=datetime.now(timezone.utc), duration_ms=1.0, sources=(), credentials=(),
        resolutions=(res("a.example", "docker"), res("b.example", "docker"), res("c.example", "docker")),
        probes=(ProbeResult("https://a.example/v2/", "ok"), ProbeResult("https://b.example/v2/", "unauthorized")),
        findings=(Finding("X1", "x", Severity.ERROR, "token-invalid", "m", ecosystem="docker",
                          registry="b.example"),),
    )
    got = {labels["registry"]: value for labels, value in registry_up_family(report).samples}
    assert got == {"a.example": 1.0, "b.example": 0.0}  # c.example was not probed: absent


# -- the Pushgateway ---------------------------------------------------------------------


def test_push_to_a_real_pushgateway(home: Path, tmp_path: Path) -> None:
    fh = fleet_home(home)
    with Pushgateway(tmp_path / "pgw") as gateway:
        result = run_subprocess(["check", "--offline", "--format", "json", "--fail-on", "never",
                                 "--push-gateway", gateway.url, "--job", "ci/runner-7"], home=home)
        assert result.rc == 0, str(result)
        result.report()  # the report itself is unchanged
        page = gateway.metrics()
    pushed = [(labels, v) for labels, v in samples(page, EXPIRY) if labels.get("job") == "ci/runner-7"]
    assert {labels["registry"]: v for labels, v in pushed} == fh.expiry
    assert any(labels.get("job") == "ci/runner-7" for labels, _ in samples(page, "hardoctor_findings"))
    assert_no_secret(page + result.out + result.err, fh, "the Pushgateway")


def test_a_failed_push_is_one_line_and_exit_2(home: Path) -> None:
    fleet_home(home)
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cli(["check", "--offline", "--fail-on", "never", "--timeout", "2",
                      "--push-gateway", url], home=home)
    assert result.rc == 2, str(result)
    assert result.out and "# TYPE" not in result.out  # the text report was written first
    errors = [line for line in result.err.splitlines() if not line.startswith("hardoctor: warning:")]
    assert len(errors) == 1 and errors[0].startswith("hardoctor: error: cannot push the metrics to "
                                                     f"{url}/metrics/job/hardoctor"), result.err


def test_push_gateway_password_never_shown(home: Path) -> None:
    fleet_home(home)
    secret = "pgw-" + "s3cr3t" * 4
    url = f"http://user:{secret}@127.0.0.1:{free_port()}"
    result = run_cli(["check", "--offline", "--timeout", "1", "--push-gateway", url], home=home)
    assert result.rc == 2 and secret not in result.out + result.err, str(result)


@pytest.mark.parametrize("value", ["ftp://x", "not a url", "http://h/?q=1"])
def test_bad_push_gateway_url_is_a_usage_error(home: Path, value: str) -> None:
    result = run_cli(["check", "--offline", "--push-gateway", value], home=home)
    assert result.rc == 2 and result.err.startswith("hardoctor: error: argument --push-gateway"), str(result)


# -- deploy/ -----------------------------------------------------------------------------


def _manifests() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            out += [(path, doc) for doc in yaml.safe_load_all(fh) if doc]
    return out


def test_manifests_validate_against_kubernetes_schemas() -> None:
    kv = pytest.importorskip("kubernetes_validate") if not _in_ci() else __import__("kubernetes_validate")
    version = "1.29.0"
    kinds = set()
    for _path, doc in _manifests():
        kinds.add(doc["kind"])
        if doc["apiVersion"].startswith(("monitoring.coreos.com/", "kustomize.config.k8s.io/")):
            continue  # CRD / kustomize: no schema in kubernetes-validate; checked below
        kv.validate(doc, version, strict=True)  # raises with the path of the bad field
    assert {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
            "Deployment", "Service", "ServiceMonitor", "CronJob", "Kustomization"} <= kinds


def _in_ci() -> bool:
    from tests.helpers import IN_CI

    return IN_CI


def test_rbac_is_read_only() -> None:
    for _, doc in _manifests():
        if doc["kind"] in ("ClusterRole", "Role"):
            for rule in doc["rules"]:
                assert set(rule["verbs"]) <= {"get", "list", "watch"}, rule
                assert "*" not in rule["resources"] and "*" not in rule["apiGroups"]


def test_workloads_run_hardoctor_hardened() -> None:
    workloads = {doc["kind"]: doc for _, doc in _manifests() if doc["kind"] in ("Deployment", "CronJob")}
    deploy = workloads["Deployment"]["spec"]["template"]["spec"]
    cron = workloads["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    for pod in (deploy, cron):
        assert pod["securityContext"]["runAsNonRoot"] is True
        (container,) = pod["containers"]
        assert container["image"].startswith("hardoctor")
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["resources"]["limits"] and container["resources"]["requests"]
        assert "--kube" in container["args"] and "--all-namespaces" in container["args"]
    (container,) = deploy["containers"]
    assert container["args"][0] == "serve"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    (job,) = cron["containers"]
    assert job["args"][0] == "check" and any(a.startswith("--push-gateway=") for a in job["args"])
    kustomization = yaml.safe_load((DEPLOY / "kubernetes" / "kustomization.yaml").read_text())
    for name in kustomization["resources"]:
        assert (DEPLOY / "kubernetes" / name).is_file(), name
    monitor = next(doc for _, doc in _manifests() if doc["kind"] == "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert (DEPLOY / "Containerfile").is_file()


def test_deployment_args_parse_as_a_serve_command(home: Path) -> None:
    """The Deployment's and CronJob's args are real options (`--help` exits 0
    only when every option parses)."""
    for _, doc in _manifests():
        if doc["kind"] == "Deployment":
            args = doc["spec"]["template"]["spec"]["containers"][0]["args"]
        elif doc["kind"] == "CronJob":
            args = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
        else:
            continue
        result = run_subprocess([*args, "--help"], home=home)
        assert result.rc == 0, f"{args}: {result}"


def test_alert_rules_check_and_unit_tests() -> None:
    rules = DEPLOY / "prometheus" / "alerts.yml"
    checked = promtool("check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", str(DEPLOY / "prometheus" / "alerts.test.yml"))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    names = {r["alert"] for g in yaml.safe_load(rules.read_text())["groups"] for r in g["rules"]}
    assert names == {"HardoctorTokenExpiringSoon", "HardoctorTokenExpired",
                     "HardoctorRegistryAuthFailing", "HardoctorCheckFailing"}
    for group in yaml.safe_load(rules.read_text())["groups"]:
        for rule in group["rules"]:
            assert "hardoctor " in rule["annotations"]["runbook"], rule["alert"]
