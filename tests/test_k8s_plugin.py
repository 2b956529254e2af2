"""The Kubernetes plugin over real manifest fixtures: every rule with its
cause and line, the kubelet's resolution chain, the Harness checks of the
tokens inside pull secrets, stdin and kubectl dumps, and in-place fixes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, copy_fixture, run_cli

FIXTURES = Path(__file__).parent / "fixtures"
IMAGE = "pkg.harness.io/acmex1/docker-prod/web:1.4"


def prepare(name: str, home: Path) -> Path:
    copy_fixture(name, home)
    now = time.time()
    for path in home.rglob("*"):
        if path.is_file():
            path.chmod(0o600)
            os.utime(path, (now, now))
    for sub in ("manifests", "dump.yaml", "dump.json"):
        if (home / sub).exists():
            return home / sub
    raise AssertionError(f"no manifests in {name}")


def check(home: Path, *args: str, stdin: str = "", rc: tuple[int, ...] = (0, 1)) -> dict:
    res = run_cli(["check", "--offline", "--format", "json", *args], home=home, stdin=stdin)
    assert res.rc in rc, res
    assert "Traceback" not in res.err, res
    return assert_valid_report(res.out)


def findings(report: dict, rule: str) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == rule]


def problems(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning")]


CASES = [
    # fixture, rule, cause, severity, line
    ("k8s-parse-error", "K8S001", "config-invalid", "error", 14),
    ("k8s-missing-secret", "K8S002", "credential-not-matched", "error", 19),
    ("k8s-type-key-mismatch", "K8S003", "config-invalid", "error", 8),
    ("k8s-opaque", "K8S004", "credential-not-matched", "error", 1),
    ("k8s-no-auths", "K8S005", "config-invalid", "error", 8),
    ("k8s-dockercfg-auths", "K8S005", "config-invalid", "error", 8),
    ("k8s-double-base64", "K8S006", "token-malformed", "error", 8),
    ("k8s-stringdata-base64", "K8S006", "token-malformed", "error", 8),
    ("k8s-raw-json-data", "K8S007", "config-invalid", "error", 8),
    ("k8s-auth-malformed", "K8S008", "token-malformed", "error", 8),
    ("k8s-identitytoken", "K8S009", "credential-not-matched", "error", 8),
    ("k8s-no-match", "K8S010", "credential-not-matched", "error", 22),
    ("k8s-sa-override", "K8S012", "credential-shadowed", "warning", 37),
    ("k8s-predates", "K8S013", "credential-shadowed", "warning", 75),
    ("k8s-dump-json", "K8S013", "credential-shadowed", "warning", 118),
    ("k8s-stringdata-override", "K8S014", "credential-shadowed", "warning", 10),
]


@pytest.mark.parametrize(("fixture", "rule", "cause", "severity", "line"), CASES)
def test_rule_fires_with_cause_and_line(home: Path, fixture: str, rule: str, cause: str,
                                        severity: str, line: int) -> None:
    manifests = prepare(fixture, home)
    report = check(home, "--manifests", str(manifests))
    hits = findings(report, rule)
    assert hits, f"{rule} not reported; got {[f['rule'] for f in report['findings']]}"
    f = hits[0]
    assert f["cause"] == cause
    assert f["severity"] == severity
    assert f["ecosystem"] == "k8s"
    assert f["location"]["line"] == line, f
    assert f["location"]["path"].startswith(str(manifests))


def test_each_fixture_reports_only_its_own_story(home: Path) -> None:
    """One root cause gives one finding: a secret without the auths wrapper
    is not also 'no entry matches'."""
    manifests = prepare("k8s-no-auths", home)
    report = check(home, "--manifests", str(manifests))
    assert [f["rule"] for f in problems(report)] == ["K8S005"]


def test_good_manifests_are_clean_and_resolve(home: Path) -> None:
    manifests = prepare("k8s-good", home)
    report = check(home, "--manifests", str(manifests))
    assert problems(report) == [], problems(report)
    (cred,) = [c for c in report["credentials"] if c["ecosystem"] == "k8s"]
    assert cred["registry"] == "pkg.harness.io"
    assert cred["username"] == "dev@acme.io"
    assert cred["clients"] == ["kubelet"]
    assert cred["location"]["line"] == 9
    assert cred["location"]["key"] == 'Secret shop/har-pull .dockerconfigjson auths["pkg.harness.io"]'
    assert cred["secret"]["kind"] == "harness-sat"
    (res,) = [r for r in report["resolutions"] if r["client"] == "kubelet"]
    assert res["credential"] == cred["id"]
    assert res["target"] == IMAGE
    outcomes = [(s["description"], s["outcome"]) for s in res["chain"]]
    assert outcomes[0] == ("imagePullSecrets of Deployment shop/web", "used")
    assert ('Secret shop/har-pull auths["pkg.harness.io"]', "used") in outcomes


def test_missing_secret_in_other_namespace_and_nowhere(home: Path) -> None:
    manifests = prepare("k8s-missing-secret", home)
    report = check(home, "--manifests", str(manifests))
    by_cause = {f["cause"]: f for f in findings(report, "K8S002")}
    other = by_cause["credential-not-matched"]
    assert "not in namespace shop but in default" in other["message"]
    nowhere = by_cause["no-credentials"]
    # Only manifests were read: the secret may be created another way.
    assert nowhere["severity"] == "warning"
    assert "'nowhere'" in nowhere["message"]


def test_chain_shows_serviceaccount_secrets_and_their_limit(home: Path) -> None:
    manifests = prepare("k8s-predates", home)
    report = check(home, "--manifests", str(manifests))
    chains = {tuple(s["description"] for s in r["chain"][:2]): r for r in report["resolutions"]
              if r["client"] == "kubelet"}
    dep = next(r for k, r in chains.items() if "Deployment shop/web" in k[0])
    assert dep["chain"][0]["outcome"] == "missing"
    assert dep["chain"][1]["description"] == "ServiceAccount shop/default"
    assert "pods created after" in dep["chain"][1]["reason"]
    f = findings(report, "K8S013")[0]
    assert "kubectl rollout restart deployment/web -n shop" in f["remediation"]["commands"]


def test_sa_override_names_both_lists(home: Path) -> None:
    manifests = prepare("k8s-sa-override", home)
    report = check(home, "--manifests", str(manifests))
    f = findings(report, "K8S012")[0]
    assert "(old-pull)" in f["message"] and "(har-pull-2026)" in f["message"]


def test_no_match_explains_the_kubelet_rule(home: Path) -> None:
    manifests = prepare("k8s-no-match", home)
    report = check(home, "--manifests", str(manifests))
    f = findings(report, "K8S010")[0]
    assert "'pkg.harness.io:443'" in f["message"]
    assert "the key has port 443, the image has none" in f["message"]
    (res,) = [r for r in report["resolutions"] if r["client"] == "kubelet"]
    assert res["credential"] is None
    skipped = [s for s in res["chain"] if s["outcome"] == "skipped"]
    assert any("port 443" in s["reason"] for s in skipped)


def test_auth_malformed_breaks_every_pull(home: Path) -> None:
    manifests = prepare("k8s-auth-malformed", home)
    report = check(home, "--manifests", str(manifests))
    f = findings(report, "K8S008")[0]
    assert "every image pull" in f["why"] and "Deployment shop/web" in f["why"]
    (res,) = [r for r in report["resolutions"] if r["client"] == "kubelet"]
    failed = [s for s in res["chain"] if s["outcome"] == "failed"]
    assert failed and "every pull of this pod fails" in failed[0]["reason"]


def test_expired_pat_estimated_from_secret_creation(home: Path) -> None:
    """A Secret read back from a cluster: its creationTimestamp dates the
    token; the Harness plugin estimates the 30-day expiry from it."""
    manifests = prepare("k8s-good", home)
    text = (manifests / "app.yaml").read_text()
    text = text.replace("  namespace: shop\ntype:",
                        "  namespace: shop\n  uid: 0f7c\n  creationTimestamp: \"2024-03-01T08:00:00Z\"\ntype:")
    # a PAT (Setup Client token) instead of the service account token
    import base64

    cfg = json.dumps({"auths": {"pkg.harness.io": {"auth": base64.b64encode(
        b"dev@acme.io:pat.AcmeX1.fakeTok09.FAKEsecretFAKEsecret09").decode()}}})
    lines = text.splitlines(keepends=True)
    lines = [f"  .dockerconfigjson: {base64.b64encode(cfg.encode()).decode()}\n"
             if line.startswith("  .dockerconfigjson:") else line for line in lines]
    (manifests / "app.yaml").write_text("".join(lines))
    report = check(home, "--manifests", str(manifests))
    f = findings(report, "HAR101")[0]
    assert f["ecosystem"] == "k8s" and f["cause"] == "token-expired"
    assert "2024-03-31" in f["message"] and "estimated" in f["message"]
    assert f["location"]["key"].startswith("Secret shop/har-pull")
    cred = next(c for c in report["credentials"] if c["ecosystem"] == "k8s")
    assert cred["secret"]["expiry_source"] == "estimated"
    assert cred["secret"]["status"] == "expired"


def test_account_mismatch_is_the_harness_plugins_finding(home: Path) -> None:
    manifests = prepare("k8s-account-mismatch", home)
    report = check(home, "--manifests", str(manifests))
    (f,) = findings(report, "HAR105")
    assert f["cause"] == "account-mismatch"
    assert f["ecosystem"] == "k8s"
    assert "OtherAcct9" in f["message"] and "acmex1" in f["message"]
    assert not [x for x in report["findings"] if x["rule"].startswith("K8S")]


# -- the laptop has a newer token -----------------------------------------------------


def _date_back(path: Path, days: int) -> None:
    then = time.time() - days * 86400
    os.utime(path, (then, then))


def test_stale_pull_secret_next_to_newer_local_login(home: Path) -> None:
    manifests = prepare("k8s-stale-token", home)
    _date_back(manifests / "app.yaml", 60)
    report = check(home, "--manifests", str(manifests))
    (f,) = findings(report, "K8S011")
    docker = next(c for c in report["credentials"] if c["ecosystem"] == "docker")
    k8s = next(c for c in report["credentials"] if c["ecosystem"] == "k8s")
    assert f["cause"] == "token-expired"
    assert f["location"]["line"] == 9
    assert f"#{k8s['secret']['fingerprint']}" in f["message"]
    assert f"#{docker['secret']['fingerprint']}" in f["message"]
    assert ".docker/config.json:3" in f["message"]
    # The Harness plugin's expiry finding is the same story: merged as evidence.
    assert any("HAR101" in e for e in f["evidence"])
    assert f["fix"] == {"available": True, "applicability": "unsafe",
                        "description": f["fix"]["description"]}

    # The safe pass leaves it alone; --unsafe writes the laptop's token.
    assert run_cli(["fix", "--offline", "--apply", "--manifests", str(manifests)], home=home).rc in (0, 1)
    assert findings(check(home, "--manifests", str(manifests)), "K8S011")
    before = (manifests / "app.yaml").read_text()
    fixed = run_cli(["fix", "--offline", "--unsafe", "--apply", "--manifests", str(manifests)],
                    home=home)
    assert fixed.rc == 0, fixed
    after = (manifests / "app.yaml").read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][0].startswith("  .dockerconfigjson: ")
    report = check(home, "--manifests", str(manifests))
    assert not findings(report, "K8S011")
    k8s = next(c for c in report["credentials"] if c["ecosystem"] == "k8s")
    assert k8s["secret"]["fingerprint"] == docker["secret"]["fingerprint"]
    assert k8s["username"] == "dev@acme.io"
    assert k8s["secret"]["status"] != "expired"


# -- fixes ------------------------------------------------------------------------------

FIXABLE = [
    ("k8s-type-key-mismatch", "K8S003"),
    ("k8s-opaque", "K8S004"),
    ("k8s-no-auths", "K8S005"),
    ("k8s-dockercfg-auths", "K8S005"),
    ("k8s-double-base64", "K8S006"),
    ("k8s-stringdata-base64", "K8S006"),
    ("k8s-raw-json-data", "K8S007"),
]


@pytest.mark.parametrize(("fixture", "rule"), FIXABLE)
def test_fix_repairs_in_place_and_converges(home: Path, fixture: str, rule: str) -> None:
    manifests = prepare(fixture, home)
    path = manifests / "app.yaml"
    before = path.read_text()
    report = check(home, "--manifests", str(manifests))
    f = findings(report, rule)[0]
    assert f["fix"]["available"] and f["fix"]["applicability"] == "safe"
    dry = run_cli(["fix", "--offline", "--manifests", str(manifests)], home=home)
    assert dry.rc == 1 and path.read_text() == before
    assert "--- a/" in dry.out
    res = run_cli(["fix", "--offline", "--apply", "--manifests", str(manifests)], home=home)
    assert res.rc == 0, res
    after = path.read_text()
    assert after != before
    # Only the secret's own lines changed; the deployment and comments did not.
    assert after.split("---\n", 1)[1] == before.split("---\n", 1)[1]
    report = check(home, "--manifests", str(manifests))
    assert problems(report) == [], problems(report)
    (res_,) = [r for r in report["resolutions"] if r["client"] == "kubelet"]
    assert res_["credential"] is not None
    again = run_cli(["fix", "--offline", "--apply", "--manifests", str(manifests)], home=home)
    assert again.rc == 0 and "Nothing to fix." in again.out
    assert path.read_text() == after


def test_fix_keeps_json_dumps_valid_json(home: Path, tmp_path: Path) -> None:
    """A value in a `kubectl get -o json` file is replaced by a JSON string."""
    import base64

    flat = json.dumps({"pkg.harness.io": {"auth": base64.b64encode(b"u:sat.AcmeX1.x.y").decode()}})
    doc = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
         "metadata": {"name": "p", "namespace": "shop"},
         "data": {".dockerconfigjson": base64.b64encode(flat.encode()).decode()}}]}
    path = home / "dump.json"
    path.write_text(json.dumps(doc, indent=4) + "\n")
    assert findings(check(home, "--manifests", str(path)), "K8S005")
    assert run_cli(["fix", "--offline", "--apply", "--manifests", str(path)], home=home).rc == 0
    fixed = json.loads(path.read_text())
    value = fixed["items"][0]["data"][".dockerconfigjson"]
    assert "auths" in json.loads(base64.b64decode(value))
    assert not findings(check(home, "--manifests", str(path)), "K8S005")


# -- sources ------------------------------------------------------------------------------


def test_stdin_manifests(home: Path) -> None:
    text = (FIXTURES / "k8s-missing-secret" / "manifests" / "app.yaml").read_text()
    report = check(home, "--manifests", "-", stdin=text)
    f = next(f for f in findings(report, "K8S002") if f["cause"] == "credential-not-matched")
    assert f["location"]["path"] == "<stdin>" and f["location"]["line"] == 19
    assert any(s["kind"] == "stdin" for s in report["sources"])


def test_stdin_fix_prints_no_edit(home: Path) -> None:
    text = (FIXTURES / "k8s-no-auths" / "manifests" / "app.yaml").read_text()
    res = run_cli(["fix", "--offline", "--apply", "--manifests", "-"], home=home, stdin=text)
    assert res.rc in (0, 1) and "Traceback" not in res.err


def test_directory_is_walked_and_missing_path_is_a_usage_error(home: Path) -> None:
    manifests = prepare("k8s-good", home)
    (manifests / "sub").mkdir()
    shutil.move(str(manifests / "app.yaml"), manifests / "sub" / "app.yml")
    (manifests / "notes.txt").write_text("not a manifest")
    report = check(home, "--manifests", str(manifests))
    assert any(s["path"] and s["path"].endswith("sub/app.yml") for s in report["sources"])
    assert [r for r in report["resolutions"] if r["client"] == "kubelet"]
    # A typo in CI must not pass as "nothing to check": exit 2 naming the option.
    result = run_cli(["check", "--offline", "--manifests", str(manifests), "--manifests",
                      str(home / "nope.yaml")], home=home)
    assert result.rc == 2 and "--manifests" in result.err and "nope.yaml" in result.err


def test_helm_template_is_named_as_such(home: Path) -> None:
    chart = home / "chart" / "templates"
    chart.mkdir(parents=True)
    (chart / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-pull\n"
        "data:\n  {{- range .Values.x }}\n  {{ . }}\n  {{- end }}\n")
    report = check(home, "--manifests", str(home / "chart"))
    f = findings(report, "K8S001")[0]
    assert "Helm chart template" in f["message"] and f["severity"] == "warning"
    assert "helm template" in f["remediation"]["commands"][0]


def test_namespace_option_places_objects_without_one(home: Path) -> None:
    doc = (FIXTURES / "k8s-good" / "manifests" / "app.yaml").read_text()
    doc = doc.replace("  namespace: shop\n", "")
    (home / "app.yaml").write_text(doc)
    report = check(home, "--manifests", str(home / "app.yaml"), "--namespace", "prod")
    cred = next(c for c in report["credentials"] if c["ecosystem"] == "k8s")
    assert cred["location"]["key"].startswith("Secret prod/har-pull")


def test_kubectl_generated_secret_is_understood(home: Path) -> None:
    """A manifest written by the real `kubectl create secret docker-registry`."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed")
    out = subprocess.run(
        [kubectl, "create", "secret", "docker-registry", "har-pull", "-n", "shop",
         "--docker-server=pkg.harness.io", "--docker-username=dev@acme.io",
         "--docker-password=sat.AcmeX1.fakeTok05.FAKEsecretFAKEsecret05",
         "--dry-run=client", "-o", "yaml"],
        capture_output=True, text=True, check=True, env={"PATH": os.environ["PATH"], "HOME": str(home)},
    ).stdout
    deploy = (FIXTURES / "k8s-good" / "manifests" / "app.yaml").read_text().split("---\n", 1)[1]
    (home / "app.yaml").write_text(out + "---\n" + deploy)
    report = check(home, "--manifests", str(home / "app.yaml"))
    assert problems(report) == []
    (res,) = [r for r in report["resolutions"] if r["client"] == "kubelet"]
    cred = next(c for c in report["credentials"] if c["id"] == res["credential"])
    assert cred["secret"]["kind"] == "harness-sat" and cred["username"] == "dev@acme.io"


def test_ecosystem_filter_and_no_sources(home: Path) -> None:
    manifests = prepare("k8s-no-auths", home)
    report = check(home, "--manifests", str(manifests), "--ecosystem", "docker")
    assert not [f for f in report["findings"] if f["ecosystem"] == "k8s"]
    report = check(home)
    assert not [s for s in report["sources"] if s["ecosystem"] == "k8s"]


def test_cli_target_resolves_for_the_kubelet_too(home: Path) -> None:
    manifests = prepare("k8s-good", home)
    report = check(home, "--manifests", str(manifests), IMAGE)
    clients = {r["client"] for r in report["resolutions"]}
    assert "kubelet" in clients and "docker" in clients


def test_unused_secret_is_still_checked(home: Path) -> None:
    manifests = prepare("k8s-good", home)
    text = (manifests / "app.yaml").read_text().split("---\n")[0]
    (manifests / "app.yaml").write_text(text)  # the secret alone
    report = check(home, "--manifests", str(manifests))
    (res,) = [r for r in report["resolutions"] if r["client"] == "kubelet"]
    assert res["target"] == "pkg.harness.io" and res["credential"] is not None
