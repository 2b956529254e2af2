"""``hardoctor fix --token-stdin``: rotate a token everywhere, checked first,
against a real registry, with real clients reading the result."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import run_cli
from tests.servers import (
    MissingBinaryError,
    Registry,
    TokenServer,
    build_oci_layout,
    push_image,
    require_binary,
    server_missing,
    skopeo_inspect,
)
from tests.servers.credhelper import file_credential_helper

pytestmark = pytest.mark.live
REPO, TAG = "team/app", "v1"


def need(*binaries: str) -> None:
    for name in binaries:
        try:
            require_binary(name)
        except MissingBinaryError as exc:
            server_missing(str(exc))


@dataclass
class Env:
    ts: TokenServer
    reg: Registry

    @property
    def image(self) -> str:
        return f"{self.reg.host}/{REPO}:{TAG}"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    need("docker-registry", "skopeo")
    admin = "hd-admin-" + secrets.token_hex(6)
    ts = TokenServer(users={"admin": admin}, grants={"admin": {"*": ["pull", "push"]},
                                                     "dev": {"*": ["pull"]}})
    with ts:
        layout = build_oci_layout(tmp_path_factory.mktemp("oci") / "layout", TAG)
        with Registry(auth="token", token_server=ts) as reg:
            push_image(layout.layout_dir, reg.host, REPO, TAG, ("admin", admin))
            yield Env(ts, reg)


@pytest.fixture
def tokens(env: Env) -> Iterator[tuple[str, str]]:
    """(old, new): the registry now accepts only the new one."""
    old = "hd-old-" + secrets.token_hex(8)
    new = "hd-new-" + secrets.token_hex(8)
    env.ts.users["dev"] = new
    yield old, new
    env.ts.users.pop("dev", None)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    path.chmod(0o600)
    return path


def assert_no_tokens(text: str, *values: str) -> None:
    for v in values:
        assert v not in text and b64(v) not in text and b64(f"dev:{v}") not in text


def test_rotation_updates_every_copy_and_the_client_then_works(
    env: Env, tokens: tuple[str, str], home: Path
) -> None:
    old, new = tokens
    docker_cfg = write(home / ".docker" / "config.json",
                       {"auths": {env.reg.host: {"auth": b64(f"dev:{old}")}}})
    # The same old token, stored for podman/skopeo too (another copy to update).
    podman_cfg = write(home / ".config" / "containers" / "auth.json",
                       {"auths": {f"{env.reg.host}/team": {"auth": b64(f"dev:{old}")}}})
    before = docker_cfg.read_bytes(), podman_cfg.read_bytes()
    rc, _, err = skopeo_inspect(env.image, env={"HOME": str(home)})
    assert rc != 0

    dry = run_cli(["fix", "--token-stdin", env.image], home=home, stdin=new + "\n")
    assert dry.rc == 1, dry
    assert "2 places hold the old credential" in dry.out, dry.out
    assert "config.json" in dry.out and "auth.json" in dry.out
    assert (docker_cfg.read_bytes(), podman_cfg.read_bytes()) == before
    assert_no_tokens(dry.out + dry.err, old, new)

    done = run_cli(["fix", "--token-stdin", "--apply", env.image], home=home, stdin=new + "\n")
    assert done.rc == 0, done
    assert "Checked again" in done.out and "✓" in done.out
    assert_no_tokens(done.out + done.err, old, new)
    for cfg in (docker_cfg, podman_cfg):
        (entry,) = json.loads(cfg.read_text())["auths"].values()
        assert base64.b64decode(entry["auth"]).decode() == f"dev:{new}"
    rc, _, err = skopeo_inspect(env.image, env={"HOME": str(home)})
    assert rc == 0, err

    again = run_cli(["fix", "--token-stdin", "--apply", env.image], home=home, stdin=new + "\n")
    assert again.rc == 0, again
    assert "0 places hold the old credential" in again.out

    # --undo brings back every original byte (the last applied set is the
    # rotation; the second run wrote nothing).
    undo = run_cli(["fix", "--undo"], home=home)
    assert undo.rc == 0, undo
    assert (docker_cfg.read_bytes(), podman_cfg.read_bytes()) == before


def test_rotation_through_a_credential_helper(
    env: Env, tokens: tuple[str, str], home: Path, tmp_path: Path
) -> None:
    old, new = tokens
    store = tmp_path / "store.json"
    store.write_text(json.dumps({env.reg.host: ["dev", old]}))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    file_credential_helper(bindir, store)
    write(home / ".docker" / "config.json", {"auths": {}, "credHelpers": {env.reg.host: "hdfile"}})
    path = f"{bindir}:/usr/local/bin:/usr/bin:/bin"
    res = run_cli(["fix", "--token-stdin", "--apply", env.image], home=home, stdin=new,
                  environ={"PATH": path})
    assert res.rc == 0, res
    assert "docker-credential-hdfile store" in res.out
    assert json.loads(store.read_text())[env.reg.host] == ["dev", new]
    assert_no_tokens(res.out + res.err, old, new)


def test_bad_new_tokens_change_nothing(env: Env, tokens: tuple[str, str], home: Path) -> None:
    old, new = tokens
    cfg = write(home / ".docker" / "config.json",
                {"auths": {env.reg.host: {"auth": b64(f"dev:{old}")}}})
    before = cfg.read_bytes()
    wrong = "hd-wrong-" + secrets.token_hex(8)
    cases = {
        "rejected by the registry": wrong,
        "malformed": f"'{new}'",
        "placeholder": "<token>",
    }
    for why, value in cases.items():
        res = run_cli(["fix", "--token-stdin", "--apply", env.image], home=home, stdin=value)
        assert res.rc == 1, (why, res)
        assert "refused; nothing was written" in res.out, (why, res.out)
        assert cfg.read_bytes() == before, why
        assert_no_tokens(res.out + res.err, old, new, wrong)


def test_expired_harness_token_is_refused_offline(home: Path) -> None:
    """A JWT whose exp has passed is refused before anything is probed."""
    import time

    import jwt

    expired = jwt.encode({"sub": "dev", "exp": int(time.time()) - 3600}, "k" * 32, algorithm="HS256")
    cfg = write(home / ".docker" / "config.json",
                {"auths": {"registry.example.test": {"auth": b64("dev:hd-old-value")}}})
    before = cfg.read_bytes()
    res = run_cli(["fix", "--offline", "--token-stdin", "--apply", "registry.example.test"],
                  home=home, stdin=expired)
    assert res.rc == 1, res
    assert "expired" in res.out
    assert cfg.read_bytes() == before
    assert expired not in res.out


def test_token_stdin_usage_errors(home: Path) -> None:
    res = run_cli(["fix", "--token-stdin", "registry.example.test"], home=home, stdin="")
    assert res.rc == 2 and "no token on stdin" in res.err
    res = run_cli(["fix", "--token-stdin", "--undo"], home=home, stdin="x")
    assert res.rc == 2
    res = run_cli(["fix", "--token-stdin"], home=home, stdin="hd-some-opaque-token")
    assert res.rc == 2 and "name the registry" in res.err
