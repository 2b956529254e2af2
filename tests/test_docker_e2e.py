"""The user's own story, with real parts: a real client (skopeo, docker via a
real dockerd) fails against a real docker-registry on 127.0.0.1, hardoctor
names the cause at file:line, `fix --apply` repairs the config, and the same
client then succeeds."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers import (
    Dockerd,
    MissingBinaryError,
    Registry,
    TokenServer,
    build_oci_layout,
    push_image,
    require_binary,
    server_missing,
    skopeo_inspect,
)

pytestmark = pytest.mark.live

REPO = "team/app"
TAG = "v1"


def need(*binaries: str) -> None:
    for name in binaries:
        try:
            require_binary(name)
        except MissingBinaryError as exc:
            server_missing(str(exc))


@dataclass
class Env:
    reg: Registry
    user: str
    password: str

    @property
    def image(self) -> str:
        return f"{self.reg.host}/{REPO}:{TAG}"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    need("docker-registry", "skopeo")
    password = "hd-e2e-" + secrets.token_hex(8)
    ts = TokenServer(users={"dev": password}, grants={"dev": {"*": ["pull", "push"]}})
    with ts:
        layout = build_oci_layout(tmp_path_factory.mktemp("oci") / "layout", TAG)
        with Registry(auth="token", token_server=ts) as reg:
            push_image(layout.layout_dir, reg.host, REPO, TAG, ("dev", password))
            yield Env(reg, "dev", password)


def write_config(home: Path, auths: dict[str, dict[str, str]]) -> Path:
    cfg = home / ".docker" / "config.json"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(json.dumps({"auths": auths}, indent="\t") + "\n")
    cfg.chmod(0o600)
    return cfg


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def offline_report(home: Path, *targets: str) -> dict:
    res = run_cli(["check", "--offline", "--format", "json", *targets], home=home)
    assert res.rc in (0, 1), res
    return assert_valid_report(res.out)


def online_report(home: Path, *targets: str, rc: int | None = None) -> dict:
    res = run_cli(["check", "--format", "json", "--timeout", "10", *targets], home=home)
    assert res.rc in ((0, 1) if rc is None else (rc,)), res
    return assert_valid_report(res.out)


def skopeo(env: Env, home: Path) -> tuple[int, str]:
    rc, _, err = skopeo_inspect(env.image, env={"HOME": str(home)})
    return rc, err


def test_skopeo_trailing_newline_story(env: Env, home: Path) -> None:
    # `echo dev:PASSWORD | base64` -- the newline is part of the password.
    write_config(home, {env.reg.host: {"auth": b64(f"{env.user}:{env.password}\n")}})
    rc, err = skopeo(env, home)
    assert rc != 0 and "unauthorized" in err.lower()

    report = offline_report(home, env.image)
    (f,) = [f for f in report["findings"] if f["rule"] == "DKR004"]
    assert f["cause"] == "token-malformed"
    assert f["location"]["path"].endswith(".docker/config.json")
    assert f["location"]["line"] == 4

    # Online, the registry's own answer confirms it: the token endpoint refuses
    # the value -- one story (the malformed value), with the refusal as evidence.
    online = online_report(home, env.image)
    (f,) = [f for f in online["findings"] if f["cause"] == "token-malformed"]
    assert f["rule"] == "DKR004" and f["fix"]["available"]
    assert any("DKR101" in line and "401" in line for line in f["evidence"])
    assert any(p["outcome"] == "unauthorized" and p["credential"] for p in online["probes"])

    fixed = run_cli(["fix", "--offline", "--apply"], home=home)
    assert fixed.rc == 0, fixed
    rc, err = skopeo(env, home)
    assert rc == 0, err
    assert not [f for f in offline_report(home, env.image)["findings"] if f["severity"] != "info"]
    online = online_report(home, env.image, rc=0)
    assert online["summary"]["status"] == "ok"
    assert {p["outcome"] for p in online["probes"]} == {"ok", "unauthorized"} or all(
        p["outcome"] == "ok" for p in online["probes"] if p["credential"]
    )


def test_skopeo_plaintext_fields_story(env: Env, home: Path) -> None:
    # The Docker CLI would read these fields; containers/image reads only `auth`.
    write_config(home, {env.reg.host: {"username": env.user, "password": env.password}})
    rc, err = skopeo(env, home)
    assert rc != 0

    report = offline_report(home, env.image)
    rules = {f["rule"] for f in report["findings"]}
    assert "DKR005" in rules
    podman = next(r for r in report["resolutions"] if r["client"] == "podman")
    assert podman["credential"] is None
    docker = next(r for r in report["resolutions"] if r["client"] == "docker")
    assert docker["credential"] is not None

    assert run_cli(["fix", "--offline", "--apply"], home=home).rc == 0
    rc, err = skopeo(env, home)
    assert rc == 0, err


def test_skopeo_bad_base64_breaks_only_that_registry_for_skopeo(env: Env, home: Path) -> None:
    write_config(home, {env.reg.host: {"auth": b64(f"{env.user}:{env.password}")[:-2]}})
    rc, err = skopeo(env, home)
    assert rc != 0 and "base64" in err
    report = offline_report(home, env.image)
    assert any(f["rule"] == "DKR002" and f["cause"] == "token-malformed" for f in report["findings"])


@pytest.mark.dockerd
def test_docker_pull_trailing_newline_story(env: Env, home: Path) -> None:
    need("dockerd", "docker")
    cfg_dir = home / ".docker"
    write_config(home, {env.reg.host: {"auth": b64(f"{env.user}:{env.password}\n")}})
    with Dockerd() as engine:
        before = engine.docker("pull", env.image, docker_config_dir=cfg_dir)
        assert before.returncode != 0
        assert "unauthorized" in (before.stderr + before.stdout).lower()

        report = offline_report(home, env.image)
        docker = next(r for r in report["resolutions"] if r["client"] == "docker")
        assert docker["credential"] is not None  # the right entry is used ...
        assert any(f["rule"] == "DKR004" for f in report["findings"])  # ... with a bad value

        assert run_cli(["fix", "--offline", "--apply"], home=home).rc == 0
        after = engine.docker("pull", env.image, docker_config_dir=cfg_dir)
        assert after.returncode == 0, after.stderr
        assert online_report(home, env.image, rc=0)["summary"]["status"] == "ok"


@pytest.mark.dockerd
def test_docker_pull_misspelt_store_story(env: Env, home: Path, tmp_path: Path) -> None:
    """`credStore` (misspelt) is silently ignored by Docker: the pull uses the
    stale plaintext entry.  Fixing the key makes Docker ask the store, which
    holds the current password."""
    need("dockerd", "docker")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-hdstore"
    helper.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = get ]; then read -r s; '
        f'printf \'{{"ServerURL":"%s","Username":"{env.user}","Secret":"%s"}}\' "$s" '
        f'"$(cat {tmp_path}/store-secret)"; '
        'elif [ "$1" = list ]; then echo "{}"; else exit 1; fi\n'
    )
    helper.chmod(0o755)
    (tmp_path / "store-secret").write_text(env.password)
    cfg = home / ".docker" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(json.dumps({
        "auths": {env.reg.host: {"auth": b64(f"{env.user}:stale-password")}},
        "credStore": "hdstore",
    }, indent=2))
    cfg.chmod(0o600)
    path = f"{bindir}:/usr/local/bin:/usr/bin:/bin"
    with Dockerd() as engine:
        before = engine.docker("pull", env.image, docker_config_dir=cfg.parent, env={"PATH": path})
        assert before.returncode != 0

        res = run_cli(["check", "--offline", "--format", "json"], home=home, environ={"PATH": path})
        report = assert_valid_report(res.out)
        (f,) = [f for f in report["findings"] if f["rule"] == "DKR011"]
        assert f["location"]["line"] == 7

        assert run_cli(["fix", "--offline", "--apply"], home=home, environ={"PATH": path}).rc == 0
        assert json.loads(cfg.read_text())["credsStore"] == "hdstore"
        after = engine.docker("pull", env.image, docker_config_dir=cfg.parent, env={"PATH": path})
        assert after.returncode == 0, after.stderr
        # Now the store shadows the (stale) plaintext entry, and hardoctor says so.
        res = run_cli(["check", "--offline", "--format", "json", env.image], home=home,
                      environ={"PATH": path})
        report = assert_valid_report(res.out)
        assert any(f["rule"] == "DKR008" for f in report["findings"])
