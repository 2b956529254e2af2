"""Issue 12's headline: removing one plugin must never turn a failing pull
into a green tick.

A Kubernetes manifest whose pull secret holds a token the registry has
revoked, against a real ``docker-registry`` (token auth) and the token
server of tests/servers.  With each other plugin disabled in turn the
kubelet's pull is still an error with cause ``token-invalid``, no ``HD``
finding appears, and the exit status is 1.  With the ``oci`` protocol plugin
disabled nothing can walk the registry: the core reports the pull as not
checked (CHK001) -- never as passing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers import (
    MissingBinaryError,
    Registry,
    TokenServer,
    build_oci_layout,
    push_image,
    require_binary,
    server_missing,
)

pytestmark = pytest.mark.live

REPO = "team/app"
TAG = "v1"
#: Every built-in plugin except the two the pull needs (k8s, oci).
OTHERS = ("docker", "harness", "npm", "pip", "maven")


@dataclass
class Env:
    host: str
    revoked: str


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    try:
        require_binary("docker-registry")
    except MissingBinaryError as exc:
        server_missing(str(exc))
    old = "hd-walls-" + secrets.token_hex(8)
    ts = TokenServer(users={"dev": old}, grants={"dev": {"*": ["pull", "push"]}})
    with ts:
        layout = build_oci_layout(tmp_path_factory.mktemp("oci") / "layout", TAG)
        with Registry(auth="token", token_server=ts) as reg:
            push_image(layout.layout_dir, reg.host, REPO, TAG, ("dev", old))
            # Revoke: the token server no longer accepts the old token.
            ts.users["dev"] = "hd-walls-" + secrets.token_hex(8)
            yield Env(reg.host, old)


def manifest(env: Env, home: Path) -> Path:
    value = json.dumps({"auths": {env.host: {"username": "dev", "password": env.revoked}}})
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: shop\n"
        "type: kubernetes.io/dockerconfigjson\n"
        f"stringData:\n  .dockerconfigjson: '{value}'\n"
        "---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: shop\n"
        "spec:\n  template:\n    spec:\n      imagePullSecrets:\n      - name: regcred\n"
        f"      containers:\n      - name: app\n        image: {env.host}/{REPO}:{TAG}\n"
    )
    path = home / "k8s" / "app.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def check(home: Path, path: Path, disabled: str | None, fmt: str) -> tuple[int, str]:
    argv = ["check", "--format", fmt, "--timeout", "15", "--manifests", str(path.parent)]
    if disabled:
        argv += ["--disable-plugin", disabled]
    res = run_cli(argv, home=home)
    assert "Traceback" not in res.err, res.err
    return res.rc, res.out


def host_line(text: str, host: str) -> str:
    (line,) = [ln for ln in text.splitlines() if ln.split()[1:2] == [host]]
    return line


@pytest.mark.parametrize("disabled", [None, *OTHERS], ids=["none", *OTHERS])
def test_revoked_pull_secret_fails_whatever_else_is_disabled(
    env: Env, home: Path, disabled: str | None
) -> None:
    path = manifest(env, home)
    rc, out = check(home, path, disabled, "json")
    report = assert_valid_report(out)
    assert rc == 1, out
    findings = report["findings"]
    assert not [f for f in findings if f["rule"].startswith("HD")], findings
    errors = [f for f in findings if f["severity"] == "error" and f["ecosystem"] == "k8s"]
    assert "token-invalid" in {f["cause"] for f in errors}, findings
    assert env.revoked not in out

    rc, text = check(home, path, disabled, "text")
    assert rc == 1
    assert host_line(text, env.host).startswith("✗"), text
    assert "✓" not in text


def test_without_the_protocol_plugin_the_pull_is_not_checked(env: Env, home: Path) -> None:
    path = manifest(env, home)
    rc, out = check(home, path, "oci", "json")
    report = assert_valid_report(out)
    findings = report["findings"]
    # The core says so (CHK001): the only "not checked" finding of this run.
    assert not [f for f in findings if f["rule"].startswith("HD")], findings
    assert {f["rule"] for f in findings if f["rule"] == "CHK001"} == {"CHK001"}, findings
    assert [f for f in findings if f["rule"] == "CHK001" and f["registry"] == env.host
            and f["severity"] == "warning"], findings
    assert not [p for p in report["probes"] if p["outcome"] == "ok"]

    rc, text = check(home, path, "oci", "text")
    assert not host_line(text, env.host).startswith("✓"), text
    assert "✓" not in text
    assert env.revoked not in out + text
