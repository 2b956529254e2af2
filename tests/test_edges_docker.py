"""A near-miss Docker key (issue 15): logged in under another name of the
same registry -- ``localhost:PORT`` or ``[::1]:PORT`` while pulling
``127.0.0.1:PORT/...`` -- with the real Debian ``docker-registry``
(htpasswd) and real ``skopeo``.

skopeo fails (it looks the credential up under the image's host, as the
Docker CLI does); hardoctor must say ``credential-not-matched`` at the
entry's file:line, its safe fix adds the entry under the key the client
looks up (the old one stays), and then the same skopeo succeeds.  Also the
alias comparison itself: literal forms and well-known aliases only.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers.oci import build_oci_layout, push_image, skopeo_inspect
from tests.servers.registry import Registry
from tests.servers.util import MissingBinaryError, require_binary, server_missing

from hardoctor.targets import same_registry_aliases


@dataclass
class Env:
    reg: Registry
    password: str


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    for binary in ("docker-registry", "skopeo", "htpasswd"):
        try:
            require_binary(binary)
        except MissingBinaryError as exc:
            server_missing(str(exc))
    password = "hd-edge-" + secrets.token_hex(8)
    layout = build_oci_layout(tmp_path_factory.mktemp("oci") / "layout", "v1")
    with Registry(auth="htpasswd", users={"dev": password}) as reg:
        push_image(layout.layout_dir, reg.host, "team/app", "v1", ("dev", password))
        yield Env(reg, password)


@pytest.mark.live
@pytest.mark.parametrize("alias", ["localhost", "[::1]"])
def test_docker_key_under_loopback_alias(env: Env, home: Path, alias: str) -> None:
    port = env.reg.host.rsplit(":", 1)[1]
    key = f"{alias}:{port}"
    image = f"127.0.0.1:{port}/team/app:v1"
    cfg = home / ".docker" / "config.json"
    cfg.parent.mkdir(parents=True)
    auth = base64.b64encode(f"dev:{env.password}".encode()).decode()
    cfg.write_text(json.dumps({"auths": {key: {"auth": auth}}}, indent="\t") + "\n")
    cfg.chmod(0o600)
    rc, _, err = skopeo_inspect(image, env={"HOME": str(home)})
    assert rc != 0, err

    res = run_cli(["check", "--format", "json", "--timeout", "10", image], home=home)
    assert res.rc == 1, res
    report = assert_valid_report(res.out)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert errors and {f["cause"] for f in errors} == {"credential-not-matched"}, errors
    f = errors[0]
    assert f["location"]["path"].endswith(".docker/config.json")
    assert f["location"]["line"] == 3 and key in f["location"]["key"]
    assert env.password not in res.out + res.err

    fixed = run_cli(["fix", "--apply", "--timeout", "10", image], home=home)
    assert fixed.rc == 0, fixed
    stored = json.loads(cfg.read_text())["auths"]
    assert set(stored) == {key, f"127.0.0.1:{port}"}  # the old entry stays
    rc, _, err = skopeo_inspect(image, env={"HOME": str(home)})
    assert rc == 0, err
    after = run_cli(["check", "--timeout", "10", image], home=home)
    assert after.rc == 0 and "✗" not in after.out, after.out


@pytest.mark.parametrize(("a", "b", "kinds"), [
    ("localhost:5000", "127.0.0.1:5000", {"loopback"}),
    ("[::1]:5000", "127.0.0.1:5000", {"loopback"}),
    ("registry.example.org:443", "registry.example.org", {"default-port"}),
    ("https://registry.example.org/", "registry.example.org", {"scheme", "trailing-slash"}),
    ("//localhost:4873/", "http://127.0.0.1:4873/", {"loopback", "scheme"}),
    ("Registry.Example.org", "registry.example.org", {"case"}),
])
def test_aliases_are_literal_forms(a: str, b: str, kinds: set[str]) -> None:
    m = same_registry_aliases(a, b)
    assert m is not None and set(m.kinds) == kinds


@pytest.mark.parametrize(("a", "b"), [
    ("localhost:5000", "127.0.0.1:5001"),     # another port is another service
    ("registry.example.org", "10.0.0.7"),     # never resolved through DNS
    ("https://h:80", "h"),                    # 80 is not https's default
    ("127.0.0.2:5000", "127.0.0.1:5000"),     # only the well-known loopback names
    ("https://h/a/", "https://h/b/"),
])
def test_not_aliases(a: str, b: str) -> None:
    assert same_registry_aliases(a, b) is None


@pytest.mark.parametrize("stored", [["", ""], None])
def test_helper_with_nothing_is_not_an_empty_token(home: Path, tmp_path: Path,
                                                   stored: list[str] | None) -> None:
    """A credential helper that answers with nothing (an empty Username and
    Secret, or "credentials not found"): the Docker CLI sends no credential.
    That is not a malformed "empty token" (TOK001) and fails nothing offline."""
    import os

    from tests.servers.credhelper import file_credential_helper

    bindir = tmp_path / "bin"
    bindir.mkdir()
    store = tmp_path / "store.json"
    host = "registry.example.org:5000"
    store.write_text(json.dumps({host: stored} if stored else {}))
    file_credential_helper(bindir, store)
    cfg = home / ".docker" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(json.dumps({"credHelpers": {host: "hdfile"}}))
    res = run_cli(["check", "--offline", "--format", "json", f"{host}/team/app:1"], home=home,
                  environ={"PATH": f"{bindir}:{os.environ.get('PATH', os.defpath)}"})
    report = assert_valid_report(res.out)
    assert not [f for f in report["findings"] if f["rule"].startswith("TOK")], report["findings"]
    assert res.rc == 0, [(f["rule"], f["message"]) for f in report["findings"]]
