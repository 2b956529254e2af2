"""``hardoctor setup DOCKER_URL --kube-secret NS/NAME``: the credential as a
``kubernetes.io/dockerconfigjson`` pull secret -- written to a manifest
file (its decoded ``.dockerconfigjson`` is a working auth file for real
skopeo; ``check --manifests`` sees kubelet use it), or applied to a cluster
(the Kubernetes API emulator) with real ``kubectl``, the Secret on stdin.
Idempotent, and the token in no output and no argv."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.servers import MissingBinaryError, require_binary, server_missing, skopeo_inspect
from tests.servers.har_registry import HarRegistry
from tests.servers.kube_api import KubeApi

pytestmark = pytest.mark.live

ACCT = "AcmeX1"
USER = "dev@acme.io"


@pytest.fixture(scope="module")
def har() -> Iterator[HarRegistry]:
    try:
        require_binary("skopeo")
    except MissingBinaryError as exc:
        server_missing(str(exc))
    with HarRegistry() as reg:
        reg.add_registry(ACCT, "docker-prod")
        reg.push(ACCT, "docker-prod", "web", "1.4")
        yield reg


def url(har: HarRegistry) -> str:
    return f"{har.host}/{ACCT.lower()}/docker-prod"


def hd(home: Path, *argv: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("hardoctor") or "hardoctor"
    environ = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", **_pythonpath(), "HOME": str(home),
               "XDG_RUNTIME_DIR": str(home / ".run"), "HARDOCTOR_NO_TOKEN_API": "1", **env}
    return subprocess.run([exe, *argv], input=stdin, env=environ, cwd=home, capture_output=True,
                          text=True, timeout=120, check=False)


def test_pull_secret_manifest(har: HarRegistry, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    token = har.new_token(ACCT, {"*": {"read"}})
    manifest = home / "deploy" / "pull-secret.yaml"
    argv = ["setup", url(har), "--token-stdin", "--user", USER, "--harness-host", har.host,
            "--kube-secret", "shop/har-pull", "--manifests", str(manifest), "--apply"]
    res = hd(home, *argv, stdin=token)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "✓ kubelet" in res.stdout and "imagePullSecrets" in res.stdout
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600
    (doc,) = list(yaml.safe_load_all(manifest.read_text()))
    assert doc["type"] == "kubernetes.io/dockerconfigjson"
    assert doc["metadata"] == {"name": "har-pull", "namespace": "shop"}
    config = base64.b64decode(doc["data"][".dockerconfigjson"])
    authfile = tmp_path / "auth.json"
    authfile.write_bytes(config)
    rc, _, err = skopeo_inspect(f"{url(har)}/web:1.4", authfile=authfile, extra_args=("--raw",))
    assert rc == 0, err

    again = hd(home, *argv, stdin=token)
    assert again.returncode == 0 and "Nothing to change" in again.stdout
    for out in (res.stdout, res.stderr, again.stdout, again.stderr):
        assert token not in out and doc["data"][".dockerconfigjson"] not in out


def test_kube_secret_needs_a_destination(har: HarRegistry, tmp_path: Path) -> None:
    token = har.new_token(ACCT, {"*": {"read"}})
    res = hd(tmp_path, "setup", url(har), "--token-stdin", "--user", USER, "--harness-host",
             har.host, "--kube-secret", "shop/har-pull", stdin=token)
    assert res.returncode == 2 and "--manifests FILE" in res.stderr


def test_pull_secret_applied_to_the_cluster(har: HarRegistry, tmp_path: Path) -> None:
    if shutil.which("kubectl") is None:
        server_missing("kubectl is not installed")
    home = tmp_path / "home"
    home.mkdir()
    token = har.new_token(ACCT, {"*": {"read"}})
    with KubeApi() as api:
        api.write_kubeconfig(home / ".kube" / "config", context="emu", namespace="default")
        env = {"KUBECONFIG": str(home / ".kube" / "config")}
        argv = ["setup", url(har), "--token-stdin", "--user", USER, "--harness-host", har.host,
                "--kube-secret", "shop/har-pull", "--kube", "--context", "emu", "--apply"]
        res = hd(home, *argv, stdin=token, **env)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "kubectl apply --server-side -f - (Secret shop/har-pull)" in res.stdout
        stored = api.get("Secret", "shop", "har-pull")
        assert stored is not None and stored["type"] == "kubernetes.io/dockerconfigjson"
        config = json.loads(base64.b64decode(stored["data"][".dockerconfigjson"]))
        assert config["auths"][har.host]["password"] == token
        patches = len(api.received("PATCH"))
        again = hd(home, *argv, stdin=token, **env)
        assert again.returncode == 0 and "Nothing to change" in again.stdout, again.stdout
        assert len(api.received("PATCH")) == patches
        for out in (res.stdout, res.stderr, again.stdout, again.stderr):
            assert token not in out


def _pythonpath() -> dict[str, str]:
    """The hardoctor under test, when the run points at a checkout."""
    value = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": value} if value else {}
