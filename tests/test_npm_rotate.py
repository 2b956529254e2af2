"""``hardoctor fix --token-stdin`` for npm, pnpm and Yarn Berry.

Offline: every field npm and Yarn take a credential from gets the new token
in its own encoding (``_authToken``, base64 ``_auth`` with the user kept,
``username`` + base64 ``_password``, ``npmAuthToken``, ``npmAuthIdent``
plain or base64), every other byte kept; a value from the environment is
never overwritten, the exact ``export`` is printed instead.

Live: real ``npm`` against a real verdaccio on 127.0.0.1 fails with the old
token, succeeds after one ``fix --token-stdin --apply``; a second run changes
nothing, ``fix --undo`` brings back every byte, a token verdaccio rejects is
refused before anything is written, and no output ever shows a token.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import run_cli
from tests.servers.util import MissingBinaryError, server_missing
from tests.servers.verdaccio import Verdaccio

from hardoctor_npm import rotate as npm_rotate

REG = "https://npm.example.test/"
HOST = "npm.example.test"
OLD = "hd-old-npm-" + "a1" * 12
NEW = "hd-new-npm-" + "b2" * 12


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forms(*tokens: str) -> list[str]:
    """Every way a token could show up in output: itself, base64, base64 of
    ``user:token``."""
    out = []
    for t in tokens:
        out += [t, b64(t), b64(t).rstrip("="), f"dev:{t}", b64(f"dev:{t}")]
    return out


def assert_no_tokens(text: str, *tokens: str) -> None:
    for form in forms(*tokens):
        assert form not in text, f"a token ({form[:8]}...) is in the output:\n{text}"


@dataclass
class Box:
    """An isolated HOME and a project folder (with package.json)."""

    home: Path
    proj: Path
    env: dict[str, str]

    @property
    def npmrc(self) -> Path:
        return self.home / ".npmrc"

    @property
    def project_npmrc(self) -> Path:
        return self.proj / ".npmrc"

    def write(self, path: Path, text: str) -> Path:
        path.write_bytes(text.encode())
        path.chmod(0o600)
        return path


@pytest.fixture
def box(tmp_path: Path) -> Box:
    home = tmp_path / "home"
    proj = tmp_path / "proj"
    home.mkdir(mode=0o700)
    proj.mkdir()
    (proj / "package.json").write_text('{"name": "app", "dependencies": {"hd-demo": "1.0.0"}}')
    (tmp_path / "global-npmrc").write_text("")
    env = {
        "npm_config_cache": str(tmp_path / "cache"),
        "npm_config_globalconfig": str(tmp_path / "global-npmrc"),
        "npm_config_update_notifier": "false",
        "npm_config_fetch_retries": "0",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
    }
    return Box(home, proj, env)


def rotate(box: Box, target: str, *flags: str, token: str = NEW,
           environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    res = run_cli(["fix", "--token-stdin", *flags, "--project", str(box.proj), target],
                  home=box.home, cwd=box.proj, environ={**box.env, **(environ or {})},
                  stdin=token + "\n")
    assert "Traceback" not in res.out + res.err, res
    return res.rc, res.out, res.err


def offline(box: Box, *flags: str, environ: dict[str, str] | None = None,
            target: str = "npm:" + REG) -> tuple[int, str, str]:
    return rotate(box, target, "--offline", *flags, environ=environ)


def backups(box: Box) -> list[Path]:
    root = box.home / ".local" / "state" / "hardoctor" / "backups"
    return sorted(root.iterdir()) if root.is_dir() else []


# -- .npmrc, offline -----------------------------------------------------------------


def test_auth_is_reencoded_for_the_same_user_and_nothing_else_changes(box: Box) -> None:
    before = (f"; team config\r\nregistry={REG}\r\n"
              f"//{HOST}/:_auth={b64('ci-bot:' + OLD)}\r\n"
              "email=ci@example.test\r\n# end")
    box.write(box.npmrc, before)
    rc, out, err = offline(box)
    assert rc == 1, out
    assert f"//{HOST}/:_auth: store base64(user:token) for user ci-bot" in out
    assert box.npmrc.read_bytes() == before.encode()  # a dry run writes nothing
    assert_no_tokens(out + err, OLD, NEW, f"ci-bot:{OLD}", f"ci-bot:{NEW}")

    rc, out, err = offline(box, "--apply")
    assert rc == 0, out
    assert "Updated 1 file" in out
    after = box.npmrc.read_bytes().decode()
    assert after == before.replace(b64("ci-bot:" + OLD), b64("ci-bot:" + NEW))
    assert_no_tokens(out + err, OLD, NEW, f"ci-bot:{OLD}", f"ci-bot:{NEW}")


def test_password_is_stored_base64_in_its_quotes(box: Box) -> None:
    before = (f"registry={REG}\n//{HOST}/:username=dev\n"
              f'//{HOST}/:_password="{b64(OLD)}"\n')
    box.write(box.npmrc, before)
    rc, out, _ = offline(box, "--apply")
    assert rc == 0, out
    assert f"//{HOST}/:_password: store the new token (base64) for user dev" in out
    assert box.npmrc.read_text() == before.replace(b64(OLD), b64(NEW))


def test_every_copy_of_the_key_and_inline_comments(box: Box) -> None:
    # npm reads the last assignment; the earlier one is a stale copy of the
    # same token. The quotes before an inline comment are part of the value
    # npm sends (TOK001): the new token is written without them.
    before = (f"registry={REG}\n//{HOST}/:_authToken={OLD}\n"
              f'//{HOST}/:_authToken = "{OLD}" ; rotated by hand\n')
    box.write(box.npmrc, before)
    rc, out, _ = offline(box, "--apply")
    assert rc == 0, out
    assert "and in 1 earlier assignment of the key" in out
    assert box.npmrc.read_text() == (
        f"registry={REG}\n//{HOST}/:_authToken={NEW}\n"
        f"//{HOST}/:_authToken = {NEW} ; rotated by hand\n")


def test_user_and_project_copies_second_run_and_undo(box: Box) -> None:
    user = box.write(box.npmrc, f"registry={REG}\n//{HOST}/:_authToken={OLD}\n")
    project = box.write(box.project_npmrc, f"# committed by mistake\n//{HOST}/:_authToken='{OLD}'")
    before = user.read_bytes(), project.read_bytes()
    rc, out, _ = offline(box, "--apply")
    assert rc == 0, out
    assert "2 places hold the old credential" in out and "Updated 2 files" in out
    assert user.read_text() == f"registry={REG}\n//{HOST}/:_authToken={NEW}\n"
    assert project.read_text() == f"# committed by mistake\n//{HOST}/:_authToken='{NEW}'"

    rc, out, _ = offline(box, "--apply")
    assert rc == 0 and "0 places hold the old credential" in out, out
    assert len(backups(box)) == 1

    undo = run_cli(["fix", "--undo"], home=box.home, cwd=box.proj, environ=box.env)
    assert undo.rc == 0, undo
    assert (user.read_bytes(), project.read_bytes()) == before


def test_env_references_are_never_overwritten(box: Box) -> None:
    before = (f"registry={REG}\n//{HOST}/:_authToken=${{NPM_TOKEN}}\n"
              f"@acme:registry=https://acme.example.test/\n"
              f"//acme.example.test/:_auth=${{ACME_AUTH}}\n")
    box.write(box.project_npmrc, before)
    environ = {"NPM_TOKEN": OLD, "ACME_AUTH": b64(f"dev:{OLD}")}
    res = run_cli(["fix", "--offline", "--token-stdin", "--apply", "--format", "json",
                   "--project", str(box.proj), "npm:" + REG, "npm:@acme/lib"],
                  home=box.home, cwd=box.proj, environ={**box.env, **environ}, stdin=NEW)
    data = res.json()
    assert box.project_npmrc.read_bytes() == before.encode()
    assert data["written"] == [] and data["diff"] == "" and not backups(box)
    assert sorted(data["manual"]) == [
        "export ACME_AUTH=\"$(printf '%s:%s' dev \"$TOKEN\" | base64 | tr -d '\\n')\"   "
        "# and update the CI secret ACME_AUTH",
        'export NPM_TOKEN="$TOKEN"   # and update the CI secret NPM_TOKEN',
    ]
    changes = sorted(p["change"] for p in data["places"])
    assert changes == [
        "//acme.example.test/:_auth comes from $ACME_AUTH: set it to the new token where it is set",
        f"//{HOST}/:_authToken comes from $NPM_TOKEN: set it to the new token where it is set",
    ]
    assert not any(p["automatic"] for p in data["places"])
    assert_no_tokens(res.out + res.err, OLD, NEW)

    # The printed steps, run by a shell, give npm exactly the new credential.
    script = "TOKEN=$1\n" + "\n".join(m.split("   #")[0] for m in data["manual"]) + \
        '\nprintf "%s\\n%s" "$NPM_TOKEN" "$ACME_AUTH"'
    shell = subprocess.run(["sh", "-c", script, "sh", NEW], capture_output=True, text=True,
                           check=True)
    assert shell.stdout.split("\n") == [NEW, b64(f"dev:{NEW}")]


def test_npm_config_variables_get_a_manual_step(box: Box) -> None:
    var = f"npm_config_//{HOST}/:_authToken"
    environ = {"npm_config_registry": REG, var: OLD}
    rc, out, err = offline(box, "--apply", environ=environ)
    assert f'$ env {var}="$TOKEN" npm install   # and update the CI variable {var}' in out, out
    assert "Updated" not in out and not backups(box)
    assert_no_tokens(out + err, OLD, NEW)


# -- Yarn Berry, offline ----------------------------------------------------------------


YARNRC = (
    "# Yarn settings\r\n"
    'npmRegistryServer: "https://npm.example.test"\r\n'
    "npmAlwaysAuth: true\r\n"
    "npmAuthToken: {token}  # from the Set up client page\r\n"
    "npmScopes:\r\n"
    "  acme:\r\n"
    "    npmRegistryServer: \"https://npm.example.test\"\r\n"
    "    npmAuthIdent: 'dev:{token}'\r\n"
    "npmRegistries:\r\n"
    '  "https://npm.example.test":\r\n'
    '    npmAuthIdent: "{ident}"\r\n'
)


def test_yarnrc_fields_each_in_their_own_encoding(box: Box) -> None:
    rc_file = box.proj / ".yarnrc.yml"
    before = YARNRC.format(token=OLD, ident=b64(f"dev:{OLD}"))
    box.write(rc_file, before)
    rc, out, err = offline(box, "--apply", target="npm:@acme/lib")
    assert rc == 0, out
    assert "npmScopes.acme.npmAuthIdent: store user:token for user dev" in out
    assert rc_file.read_bytes().decode() == YARNRC.format(token=NEW, ident=b64(f"dev:{NEW}"))
    assert_no_tokens(out + err, OLD, NEW)

    rc, out, _ = offline(box, "--apply", target="npm:@acme/lib")
    assert rc == 0 and "0 places hold the old credential" in out, out
    undo = run_cli(["fix", "--undo"], home=box.home, cwd=box.proj, environ=box.env)
    assert undo.rc == 0 and rc_file.read_bytes() == before.encode()


def test_yarn_values_from_the_environment(box: Box) -> None:
    rc_file = box.write(box.proj / ".yarnrc.yml",
                        'npmRegistryServer: "https://npm.example.test"\nnpmAlwaysAuth: true\n'
                        'npmAuthToken: "${NPM_TOKEN}"\n')
    before = rc_file.read_bytes()
    _, out, err = offline(box, "--apply", environ={"NPM_TOKEN": OLD})
    assert '$ export NPM_TOKEN="$TOKEN"   # and update the CI secret NPM_TOKEN' in out, out
    assert rc_file.read_bytes() == before
    assert_no_tokens(out + err, OLD, NEW)

    box.write(rc_file, 'npmRegistryServer: "https://npm.example.test"\nnpmAlwaysAuth: true\n')
    _, out, _ = offline(box, "--apply", environ={"YARN_NPM_AUTH_TOKEN": OLD})
    assert ('$ export YARN_NPM_AUTH_TOKEN="$TOKEN"   # and update the CI secret '
            "YARN_NPM_AUTH_TOKEN") in out, out
    assert not backups(box)


def test_rotation_texts_hold_no_secret_even_unscrubbed(box: Box,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Scrubbing is the second line of defence: the descriptions and manual
    steps themselves must not hold a token (the diff does, by design, and is
    scrubbed by the core)."""
    from hardoctor import redact

    box.write(box.npmrc, f"registry={REG}\n//{HOST}/:_auth={b64('dev:' + OLD)}\n")
    box.write(box.project_npmrc, f"//{HOST}/:_authToken=${{NPM_TOKEN}}\n")
    box.write(box.proj / ".yarnrc.yml", YARNRC.format(token=OLD, ident=b64(f"dev:{OLD}")))
    monkeypatch.setattr(redact, "scrub", lambda text: text)
    res = run_cli(["fix", "--offline", "--token-stdin", "--format", "json",
                   "--project", str(box.proj), "npm:" + REG, "npm:@acme/lib"],
                  home=box.home, cwd=box.proj, environ={**box.env, "NPM_TOKEN": OLD}, stdin=NEW)
    data = res.json()
    assert len(data["places"]) >= 4, data["places"]
    data.pop("diff")
    assert_no_tokens(json.dumps(data) + res.err, OLD, NEW)


def test_values_that_ini_would_read_differently_are_escaped() -> None:
    from hardoctor_npm import ini

    for value in ("a;b#c\\d", "plain-Token_1.2~3+4/5="):
        plain = npm_rotate._ini_plain(value)
        assert ini.parse(f"k = {plain} ; comment\n").values["k"] == value, plain
        for old in ('"x"', "'x'", "x"):
            styled = npm_rotate._ini_styled(old, value)
            assert ini.parse(f"k = {styled}\n").values["k"] == value, styled
    assert npm_rotate._ini_plain("a;b") == "a\\;b"


# -- live: real npm against verdaccio -------------------------------------------------------


USER, PASSWORD = "dev", "hd-verdaccio-pass-2"


@dataclass
class Reg:
    server: Verdaccio
    #: A second token of the same user, never used before the rotation.
    new: str

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def reg() -> Iterator[Reg]:
    if shutil.which("npm") is None:
        server_missing("npm is not installed (scripts/install-npm-deps.sh)")
    try:
        server = Verdaccio().start()
    except MissingBinaryError as exc:
        server_missing(str(exc))
    try:
        first = server.add_user(USER, PASSWORD)
        server.publish("hd-demo", "1.0.0", first)
        second = server.add_user(USER, PASSWORD)  # logging in again: another token
        assert second != first
        yield Reg(server, second)
    finally:
        server.stop()


def npm(box: Box, *args: str, extra: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "HOME": str(box.home),
           **box.env, **(extra or {})}
    return subprocess.run(["npm", *args], cwd=box.proj, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def check_rules(box: Box, environ: dict[str, str] | None = None) -> set[str]:
    """The error rules of ``hardoctor check npm:hd-demo`` (online)."""
    res = run_cli(["check", "--format", "json", "--project", str(box.proj), "npm:hd-demo"],
                  home=box.home, cwd=box.proj, environ={**box.env, **(environ or {})})
    assert res.rc in (0, 1), res
    return {f["rule"] for f in res.report()["findings"] if f["severity"] == "error"}


@pytest.mark.live
def test_live_rotation_updates_user_and_project_npmrc(reg: Reg, box: Box) -> None:
    old = "hd-old-verdaccio-" + secrets.token_hex(12)  # revoked, as far as verdaccio knows
    user = box.write(box.npmrc, f"; npm\nregistry={reg.url}\n//{reg.host}/:_authToken={old}\n")
    project = box.write(box.project_npmrc,
                        f"# project copy\r\n//{reg.host}/:_authToken = {old}\r\nsave-exact=true\r\n")
    before = user.read_bytes(), project.read_bytes()
    failed = npm(box, "view", "hd-demo", "version")
    assert failed.returncode != 0 and "E401" in failed.stderr, failed.stderr

    rc, out, err = rotate(box, "npm:hd-demo", token=reg.new)
    assert rc == 1, out
    assert "passed its checks" in out and "2 places hold the old credential" in out, out
    assert "Run again with --apply" in out
    assert (user.read_bytes(), project.read_bytes()) == before
    outputs = out + err

    rc, out, err = rotate(box, "npm:hd-demo", "--apply", token=reg.new)
    assert rc == 0, out
    assert "Updated 2 files" in out and f"Checked again: {reg.host} ✓" in out, out
    outputs += out + err
    assert user.read_bytes() == before[0].replace(old.encode(), reg.new.encode())
    assert project.read_bytes() == before[1].replace(old.encode(), reg.new.encode())
    ok = npm(box, "view", "hd-demo", "version")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "1.0.0"
    assert not check_rules(box)

    rc, out, err = rotate(box, "npm:hd-demo", "--apply", token=reg.new)
    assert rc == 0 and "0 places hold the old credential" in out, out
    assert "Updated" not in out and len(backups(box)) == 1
    outputs += out + err

    undo = run_cli(["fix", "--undo"], home=box.home, cwd=box.proj, environ=box.env)
    assert undo.rc == 0, undo
    assert (user.read_bytes(), project.read_bytes()) == before
    outputs += undo.out + undo.err
    assert_no_tokens(outputs, old, reg.new)


@pytest.mark.live
def test_live_env_reference_prints_the_export_and_writes_nothing(reg: Reg, box: Box) -> None:
    old = "hd-old-verdaccio-" + secrets.token_hex(12)
    project = box.write(box.project_npmrc,
                        f"registry={reg.url}\n//{reg.host}/:_authToken=${{NPM_TOKEN}}\n")
    before = project.read_bytes()
    assert npm(box, "view", "hd-demo", "version", extra={"NPM_TOKEN": old}).returncode != 0

    rc, out, err = rotate(box, "npm:hd-demo", "--apply", token=reg.new,
                          environ={"NPM_TOKEN": old})
    assert "passed its checks" in out, out
    assert '$ export NPM_TOKEN="$TOKEN"   # and update the CI secret NPM_TOKEN' in out, out
    assert "Updated" not in out and not backups(box)
    assert project.read_bytes() == before
    assert rc in (0, 1), out
    assert_no_tokens(out + err, old, reg.new)
    assert "NPM101" in check_rules(box, {"NPM_TOKEN": old})  # still the old token

    # Doing what it says makes npm work.
    ok = npm(box, "view", "hd-demo", "version", extra={"NPM_TOKEN": reg.new})
    assert ok.returncode == 0, ok.stderr
    assert not check_rules(box, {"NPM_TOKEN": reg.new})


@pytest.mark.live
def test_live_bad_new_token_is_refused_and_nothing_is_written(reg: Reg, box: Box) -> None:
    old = "hd-old-verdaccio-" + secrets.token_hex(12)
    wrong = "hd-wrong-verdaccio-" + secrets.token_hex(12)
    user = box.write(box.npmrc, f"registry={reg.url}\n//{reg.host}/:_authToken={old}\n")
    project = box.write(box.project_npmrc, f"//{reg.host}/:_authToken={old}\n")
    before = user.read_bytes(), project.read_bytes()
    rc, out, err = rotate(box, "npm:hd-demo", "--apply", token=wrong)
    assert rc == 1, out
    assert "The new token was refused; nothing was written" in out, out
    assert "NPM101" in out
    assert (user.read_bytes(), project.read_bytes()) == before and not backups(box)
    assert_no_tokens(out + err, old, wrong, reg.new)
