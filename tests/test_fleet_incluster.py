"""In-cluster: ``hardoctor check --kube -A`` as the Deployment runs it: the
ServiceAccount token and CA mounted at the in-cluster paths
(``/var/run/secrets/kubernetes.io/serviceaccount``) and the kubeconfig of
deploy/kubernetes/kubeconfig.yaml (which points kubectl at them) -- against
the suite's Kubernetes API emulator, with the real kubectl.

Why a kubeconfig at all: kubectl falls back to the in-cluster config only
when no client flag is set, and hardoctor passes ``--request-timeout``; the
second test pins that kubectl behaviour.

The in-cluster paths are fixed, so the test mounts a private tmpfs over
``/run`` in its own user and mount namespace (``unshare``): nothing on the
machine changes."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from tests.fleet_helpers import CANARY, make_jwt, samples
from tests.helpers import ROOT, code_pythonpath, isolated_environ
from tests.servers.kube_api import KubeApi
from tests.servers.util import server_missing

pytestmark = pytest.mark.live

SA_DIR = "/run/secrets/kubernetes.io/serviceaccount"
MOUNT = (f'mount -t tmpfs none /run && mkdir -p {SA_DIR} && cp "$SA_SRC"/* {SA_DIR}/ '
         '&& exec "$@"')


def _need(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        server_missing(f"{name} is not installed")
    return str(path)


def _can_unshare(unshare: str) -> bool:
    probe = subprocess.run([unshare, "--mount", "--map-root-user", "--fork", "true"],
                           capture_output=True, timeout=10, check=False)
    return probe.returncode == 0


def _deploy_kubeconfig(tmp_path: Path, url: str) -> Path:
    """deploy/kubernetes/kubeconfig.yaml's kubeconfig, with the API server's
    in-cluster name (no DNS here) replaced by the emulator's address."""
    doc = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "kubeconfig.yaml").read_text())
    text = doc["data"]["kubeconfig"]
    assert "https://kubernetes.default.svc" in text and "tokenFile: " + SA_DIR.replace("/run", "/var/run", 1) in text
    path = tmp_path / "kubeconfig"
    path.write_text(text.replace("https://kubernetes.default.svc", url), encoding="utf-8")
    return path


def test_check_in_cluster_reads_pull_secrets_with_the_service_account(
    home: Path, tmp_path: Path
) -> None:
    _need("kubectl")
    unshare = _need("unshare")
    if not _can_unshare(unshare):
        server_missing("unshare --mount --map-root-user is not permitted here")
    exp = int(time.time()) + 5 * 86400
    token = make_jwt("robot", exp)
    auth = base64.b64encode(f"robot:{token}".encode()).decode()
    dockercfg = json.dumps({"auths": {"reg.example:5000": {"auth": auth}}})
    with KubeApi() as api:
        api.add({"kind": "Secret", "metadata": {"name": "pull", "namespace": "team-a"},
                 "type": "kubernetes.io/dockerconfigjson",
                 "data": {".dockerconfigjson": base64.b64encode(dockercfg.encode()).decode()}})
        api.add({"kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "team-a"},
                 "imagePullSecrets": [{"name": "pull"}]})
        sa = tmp_path / "sa"
        sa.mkdir()
        (sa / "token").write_text(api.token, encoding="ascii")
        (sa / "ca.crt").write_bytes(api.ca_pem)
        (sa / "namespace").write_text("hardoctor", encoding="ascii")
        env = isolated_environ(home, {
            "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(api.port),
            "SA_SRC": str(sa), "PYTHONPATH": os.pathsep.join(code_pythonpath()),
            "KUBECONFIG": str(_deploy_kubeconfig(tmp_path, api.url)),
        })
        argv = [unshare, "--mount", "--map-root-user", "--fork", "sh", "-c", MOUNT, "sh",
                sys.executable, "-m", "hardoctor", "check", "--kube", "--all-namespaces",
                "--offline", "--format", "openmetrics", "--fail-on", "never"]
        proc = subprocess.run(argv, env=env, cwd=home, capture_output=True, text=True,
                              timeout=60, check=False)
        lists = api.received("GET")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (home / ".kube" / "config").exists()
    series = samples(proc.stdout, "hardoctor_credential_expiry_timestamp_seconds")
    assert [(labels["registry"], value) for labels, value in series] == [("reg.example:5000", exp)]
    assert "pull" in series[0][0]["location"]
    # kubectl used the mounted ServiceAccount token (the emulator refuses anything else)
    assert lists and all(r.method == "GET" for r in lists)
    for secret in (token, auth, api.token, CANARY):
        assert secret not in proc.stdout + proc.stderr


def test_kubectl_drops_in_cluster_config_when_a_flag_is_set(tmp_path: Path) -> None:
    """The trap kubeconfig.yaml exists for: with the in-cluster files and
    variables but no kubeconfig, ``kubectl --request-timeout=5s`` talks to
    localhost:8080 instead of the API server."""
    kubectl = _need("kubectl")
    unshare = _need("unshare")
    if not _can_unshare(unshare):
        server_missing("unshare --mount --map-root-user is not permitted here")
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("t", encoding="ascii")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "SA_SRC": str(sa),
           "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "1"}
    argv = [unshare, "--mount", "--map-root-user", "--fork", "sh", "-c", MOUNT, "sh", kubectl,
            "get", "secrets", "--request-timeout=2s", "-v=6"]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert "localhost:8080" in proc.stderr and "in-cluster configuration" not in proc.stderr
