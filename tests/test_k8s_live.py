"""Live clusters: the real ``kubectl`` against the Kubernetes API emulator
(``tests/servers/kube_api.py``) through a generated kubeconfig.

Covers reading Secrets, ServiceAccounts and workloads (all namespaces, one
namespace, a named context, paged lists), every way reading can fail (RBAC,
refused credentials, no kubectl, a hanging API server), and applying a
corrected Secret with ``fix --apply --unsafe --kube``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers.kube_api import KubeApi
from tests.servers.util import server_missing

pytestmark = pytest.mark.live

USER = "dev@acme.io"
OLD = "pat.AcmeX1.fakeTok11.FAKEsecretFAKEsecret11"
NEW = "pat.AcmeX1.fakeTok12.FAKEsecretFAKEsecret12"
IMAGE = "pkg.harness.io/acmex1/docker-prod/web:1.4"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def cfg(token: str, host: str = "pkg.harness.io") -> str:
    return json.dumps({"auths": {host: {"username": USER, "password": token,
                                        "auth": b64(f"{USER}:{token}")}}})


def need_kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        server_missing("kubectl is not installed")
    return path


def cluster(api: KubeApi) -> None:
    """A namespace `shop`: an old pull secret (created 2024), a Deployment
    whose pods got their pull secret from the ServiceAccount before it
    changed, and a Job listing a secret that only exists in `default`."""
    old = "2024-01-05T09:00:00Z"
    api.add({"kind": "Secret", "metadata": {"name": "har-pull", "namespace": "shop",
                                            "creationTimestamp": old},
             "type": "kubernetes.io/dockerconfigjson",
             "data": {".dockerconfigjson": b64(cfg(OLD))}})
    api.add({"kind": "Secret", "metadata": {"name": "har-pull-2026", "namespace": "shop"},
             "type": "kubernetes.io/dockerconfigjson",
             "stringData": {".dockerconfigjson": cfg(NEW)}})
    api.add({"kind": "Secret", "metadata": {"name": "elsewhere", "namespace": "default"},
             "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": b64(cfg(NEW))}})
    api.add({"kind": "Secret", "metadata": {"name": "app-config", "namespace": "shop"},
             "type": "Opaque", "data": {"password": b64("not-a-registry-token")}})
    api.add({"kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "shop"},
             "imagePullSecrets": [{"name": "har-pull-2026"}]})
    template = {"spec": {"containers": [{"name": "web", "image": IMAGE}]}}
    api.add({"kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
             "spec": {"template": template}})
    api.add({"kind": "ReplicaSet", "metadata": {
        "name": "web-5c9", "namespace": "shop",
        "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": True,
                             "apiVersion": "apps/v1", "uid": "d1"}]}, "spec": {"template": template}})
    for i in range(3):
        api.add({"kind": "Pod", "metadata": {
            "name": f"web-5c9-{i}", "namespace": "shop",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5c9", "controller": True,
                                 "apiVersion": "apps/v1", "uid": "r1"}]},
            "spec": {"imagePullSecrets": [{"name": "har-pull"}], **template["spec"]}})
    api.add({"kind": "Job", "metadata": {"name": "migrate", "namespace": "shop"},
             "spec": {"template": {"spec": {"imagePullSecrets": [{"name": "elsewhere"}],
                                            "containers": [{"name": "m", "image": IMAGE}]}}}})


@pytest.fixture
def api(home: Path) -> Iterator[KubeApi]:
    need_kubectl()
    server = KubeApi()
    cluster(server)
    with server:
        server.write_kubeconfig(home / ".kube" / "config", namespace="shop")
        yield server


def kube_check(home: Path, *args: str, environ: dict[str, str | None] | None = None) -> dict:
    env: dict[str, str | None] = {"KUBECONFIG": str(home / ".kube" / "config")}
    env.update(environ or {})
    res = run_cli(["check", "--offline", "--format", "json", "--kube", *args], home=home,
                  environ=env)
    assert res.rc in (0, 1), res
    assert "Traceback" not in res.err, res
    return assert_valid_report(res.out)


def rules(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in report["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


def test_reads_the_cluster_and_finds_every_live_problem(api: KubeApi, home: Path) -> None:
    report = kube_check(home, "-A")
    found = rules(report)
    (source,) = [s for s in report["sources"] if s["ecosystem"] == "k8s"]
    assert source["kind"] == "k8s" and "all namespaces" in source["description"]
    # The job's secret exists, but in another namespace (live: an error).
    (missing,) = found["K8S002"]
    assert missing["cause"] == "credential-not-matched" and missing["severity"] == "error"
    assert "Job shop/migrate" in missing["message"]
    # The pods were created before the ServiceAccount got the new secret.
    (pre,) = found["K8S013"]
    assert "Pod shop/web-5c9-0, Pod shop/web-5c9-1, Pod shop/web-5c9-2" in pre["message"]
    assert pre["remediation"]["commands"] == ["kubectl rollout restart deployment/web -n shop"]
    # The old token's expiry is estimated from the Secret's creation time.
    har = [f for f in found["HAR101"] if "fakeTok11" in f["message"]]
    assert har and har[0]["location"]["key"].startswith("Secret shop/har-pull ")
    assert "2024-02-04" in har[0]["message"]
    cred = next(c for c in report["credentials"] if "har-pull@" in c["id"])
    assert cred["location"]["path"] is None
    assert cred["source"] == source["id"]
    # kubectl listed every kind with the kubeconfig's token, cluster-wide.
    listed = {r.path for r in api.received("GET") if r.status == 200}
    assert {"/api/v1/secrets", "/api/v1/pods", "/api/v1/serviceaccounts",
            "/apis/apps/v1/deployments", "/apis/batch/v1/cronjobs"} <= listed
    # The Opaque app secret is nobody's pull secret: not a credential.
    assert not [c for c in report["credentials"] if "app-config" in c["id"]]


def test_the_deployment_resolves_through_the_serviceaccount(api: KubeApi, home: Path) -> None:
    report = kube_check(home, "-n", "shop")
    dep = next(r for r in report["resolutions"]
               if r["client"] == "kubelet" and "Deployment shop/web" in r["chain"][0]["description"])
    assert dep["chain"][1]["description"] == "ServiceAccount shop/default"
    assert dep["chain"][1]["outcome"] == "used"
    assert "har-pull-2026" in dep["credential"]
    assert all("/namespaces/shop/" in r.path for r in api.received("GET", "/secrets"))


def test_named_context_and_paged_lists(api: KubeApi, home: Path) -> None:
    api.page_size = 2
    for i in range(7):
        api.add({"kind": "Pod", "metadata": {"name": f"extra-{i}", "namespace": "shop"},
                 "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}})
    api.write_kubeconfig(home / ".kube" / "config", context="prod-eu")
    report = kube_check(home, "--context", "prod-eu", "-A")
    assert any(s["id"] == "k8s:cluster:prod-eu" for s in report["sources"])
    assert any(r["target"] == "nginx:1" for r in report["resolutions"])
    assert any("continue" in r.query for r in api.received("GET", "/pods"))


def test_rbac_forbidding_secrets_is_permission_denied(api: KubeApi, home: Path) -> None:
    api.forbidden = {"secrets"}
    report = kube_check(home, "-n", "shop")
    (f,) = rules(report)["K8S015"]
    assert f["cause"] == "permission-denied"
    assert "may not list secrets" in f["message"]
    assert any("kubectl auth can-i list secrets" in c for c in f["remediation"]["commands"])
    # What kubectl could read is still checked.
    assert any(r["client"] == "kubelet" for r in report["resolutions"])


def test_refused_kubeconfig_credentials(api: KubeApi, home: Path) -> None:
    api.write_kubeconfig(home / ".kube" / "config", token="kube-wrong-token")
    (f,) = rules(kube_check(home, "-A"))["K8S015"]
    assert f["cause"] == "token-invalid"
    assert "kube-wrong-token" not in json.dumps(f)


def test_kubectl_missing(api: KubeApi, home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    report = kube_check(home, "-A", environ={"PATH": str(empty)})
    (f,) = rules(report)["K8S015"]
    assert f["cause"] == "helper-failure" and "kubectl is not installed" in f["message"]


def test_a_hanging_api_server_is_a_timeout(api: KubeApi, home: Path) -> None:
    api.delay = 4.0
    t0 = time.monotonic()
    report = kube_check(home, "-A", "--kube-timeout", "1")
    assert time.monotonic() - t0 < 30
    (f,) = rules(report)["K8S015"]
    assert f["cause"] == "timeout"


def test_fix_applies_the_laptops_token_to_the_cluster(api: KubeApi, home: Path) -> None:
    docker = home / ".docker" / "config.json"
    docker.parent.mkdir()
    docker.write_text(json.dumps({"auths": {"pkg.harness.io": {"auth": b64(f"{USER}:{NEW}")}}}))
    docker.chmod(0o600)
    report = kube_check(home, "-n", "shop")
    (stale,) = [f for f in rules(report)["K8S011"] if "Secret shop/har-pull " in f["message"]]
    assert stale["fix"]["applicability"] == "unsafe"
    assert any("apiVersion: v1\nkind: Secret" in s for s in stale["remediation"]["steps"])
    assert NEW not in json.dumps(report) and b64(cfg(NEW)) not in json.dumps(report)

    env = {"KUBECONFIG": str(home / ".kube" / "config")}
    res = run_cli(["fix", "--offline", "--kube", "-n", "shop", "--apply"], home=home, environ=env)
    assert not api.received("PATCH"), "an unsafe fix must need --unsafe"
    res = run_cli(["fix", "--offline", "--kube", "-n", "shop", "--apply", "--unsafe"], home=home,
                  environ=env)
    assert res.rc in (0, 1), res
    assert "applied Secret shop/har-pull with kubectl apply" in res.err
    assert NEW not in res.out + res.err
    (patch,) = api.received("PATCH", "/secrets/har-pull")
    assert patch.query.get("fieldManager") == ["hardoctor"]
    secret = api.get("Secret", "shop", "har-pull")
    assert secret is not None and secret["type"] == "kubernetes.io/dockerconfigjson"
    stored = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    entry = stored["auths"]["pkg.harness.io"]
    assert entry["password"] == NEW and base64.b64decode(entry["auth"]).decode() == f"{USER}:{NEW}"
    after = kube_check(home, "-n", "shop")
    assert not [f for f in rules(after).get("K8S011", []) if "Secret shop/har-pull " in f["message"]]


def test_manifests_and_cluster_together(api: KubeApi, home: Path) -> None:
    """A Deployment in a manifest lists a Secret that only the cluster has."""
    (home / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\n"
        "spec:\n  template:\n    spec:\n      imagePullSecrets:\n      - name: har-pull-2026\n"
        f"      containers:\n      - name: api\n        image: {IMAGE}\n")
    report = kube_check(home, "-n", "shop", "--manifests", str(home / "deploy.yaml"))
    res = next(r for r in report["resolutions"]
               if r["client"] == "kubelet" and "Deployment shop/api" in r["chain"][0]["description"])
    assert res["credential"] and res["credential"].startswith("k8s:cluster:")
    assert not [f for f in report["findings"]
                if f["rule"] == "K8S002" and "Deployment shop/api" in f["message"]]


def test_kubeconfig_env_is_respected(api: KubeApi, home: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere.yaml"
    shutil.move(str(home / ".kube" / "config"), moved)
    report = kube_check(home, "-A", environ={"KUBECONFIG": str(moved)})
    assert "K8S015" not in rules(report)
    assert os.path.exists(moved)


def test_safe_fix_of_a_live_secret(api: KubeApi, home: Path) -> None:
    """A live Secret without the auths wrapper (the API server accepts any
    JSON): `fix --apply --kube` applies the wrapped value."""
    flat = json.dumps({"pkg.harness.io": {"auth": b64(f"{USER}:{NEW}")}})
    api.add({"kind": "Secret", "metadata": {"name": "flat", "namespace": "shop"},
             "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": b64(flat)}})
    report = kube_check(home, "-n", "shop")
    (f,) = [f for f in rules(report)["K8S005"] if "Secret shop/flat" in f["message"]]
    assert f["fix"]["applicability"] == "safe"
    assert f["fix"]["description"].startswith("kubectl apply a corrected Secret shop/flat")
    env = {"KUBECONFIG": str(home / ".kube" / "config")}
    res = run_cli(["fix", "--offline", "--kube", "-n", "shop", "--apply", "--only", "K8S005"],
                  home=home, environ=env)
    assert res.rc in (0, 1), res
    assert [r.path for r in api.received("PATCH")] == ["/api/v1/namespaces/shop/secrets/flat"]
    secret = api.get("Secret", "shop", "flat")
    assert secret is not None
    assert json.loads(base64.b64decode(secret["data"][".dockerconfigjson"])) == {
        "auths": json.loads(flat)}
    assert not [f for f in rules(kube_check(home, "-n", "shop")).get("K8S005", [])
                if "Secret shop/flat" in f["message"]]
