"""``hardoctor fix --token-stdin`` for pip, uv and Poetry.

Offline: the new token goes into every slot pip, uv and Poetry read it from
-- an index URL's password (or its username, where the old token sat),
percent-encoded; a ``.netrc`` password; Poetry's ``http-basic`` password --
every other byte kept, and the result read back by the real parsers
(configparser, netrc, tomllib, urllib).  A value from the environment is
never overwritten: the printed ``export``, run by a real shell, gives the
client exactly the new credential.

Live: real ``pip download --no-input`` against a real pypiserver on
127.0.0.1 fails with the old password, succeeds after one ``fix
--token-stdin --apply``; a second run changes nothing, ``fix --undo`` brings
back every byte, a token pypiserver refuses (403) changes nothing, and no
output shows a token in any form.
"""

from __future__ import annotations

import base64
import configparser
import netrc as netrc_mod
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers import run_cli
from tests.servers import MissingBinaryError, server_missing
from tests.servers.pypiserver import PypiServer, find_pypiserver, pip_download, venv_of

from hardoctor_pip import rotate as pip_rotate

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the backport hardoctor depends on
    import tomli as tomllib

HOST = "pypi.example.test"
INDEX = f"https://{HOST}/simple"
USER = "dev@example.test"
OLD = "hd-old-pip-" + "a1" * 10
NEW = "hd-new-pip-" + "b2" * 10
#: Every character a URL's userinfo must not hold raw, and a literal "%2F"
#: that must not be taken for an escape.
ODD = "hd-New/p@ss#w?rd%2F+=:x'y\"z$`~"


def pct(value: str) -> str:
    return quote(value, safe="")


def forms(*tokens: str) -> list[str]:
    """Every way a token could show up in output."""
    out = []
    for t in tokens:
        for v in (t, pct(t)):
            out += [v, base64.b64encode(v.encode()).decode().rstrip("=")]
        for user in (USER, "dev", pct(USER)):
            out.append(base64.b64encode(f"{user}:{t}".encode()).decode().rstrip("="))
    return out


def assert_no_tokens(text: str, *tokens: str) -> None:
    for form in forms(*tokens):
        assert form not in text, f"a token ({form[:6]}...) is in the output:\n{text}"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    path.chmod(0o600)
    return path


def base_env(home: Path) -> dict[str, str]:
    return {"HARDOCTOR_PIP_ETC_CONFIG": "", "XDG_CONFIG_DIRS": str(home / "xdg")}


def fix(home: Path, *args: str, token: str = NEW, environ: dict[str, str] | None = None,
        online: bool = False, project: Path | None = None) -> tuple[int, str, str]:
    argv = ["fix", "--token-stdin", "--no-token-api", "--ecosystem", "pip"]
    if not online:
        argv.append("--offline")
    if project is not None:
        argv += ["--project", str(project)]
    res = run_cli([*argv, *args], home=home, cwd=project or home,
                  environ={**base_env(home), **(environ or {})}, stdin=token + "\n")
    assert "Traceback" not in res.out + res.err, res
    return res.rc, res.out, res.err


def undo(home: Path) -> None:
    res = run_cli(["fix", "--undo"], home=home, environ=base_env(home))
    assert res.rc == 0, res


def backups(home: Path) -> list[Path]:
    root = home / ".local" / "state" / "hardoctor" / "backups"
    return sorted(root.iterdir()) if root.is_dir() else []


def conf_value(path: Path, option: str, section: str = "global") -> str:
    parser = configparser.RawConfigParser()
    parser.read(path, encoding="utf-8")
    return parser[section][option]


def userinfo(url: str) -> tuple[str | None, str | None]:
    """(username, password) as pip takes them from a URL."""
    netloc = urlsplit(url).netloc
    if "@" not in netloc:
        return None, None
    auth = netloc.rsplit("@", 1)[0]
    user, sep, pw = auth.partition(":")
    return unquote(user), (unquote(pw) if sep else None)


def sh(steps: list[str], token: str, echo: str) -> str:
    """Run the printed steps in a real shell with TOKEN set, then print ``echo``."""
    script = "\n".join(s.split("   # ")[0] for s in steps) + f'\nprintf "%s" "{echo}"'
    env = {"PATH": os.environ.get("PATH", os.defpath), "TOKEN": token}
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True,
                          env=env).stdout


def manual_steps(out: str) -> list[str]:
    return [line.strip()[2:] for line in out.splitlines() if line.strip().startswith("$ ")]


# -- pip.conf and .netrc, offline ------------------------------------------------------


PIP_CONF = (
    "; team settings\r\n"
    "[global]\r\n"
    f"index-url = https://dev%40example.test:{OLD}@{HOST}/simple\r\n"
    "extra-index-url =\r\n"
    "    https://mirror.example.test/simple\r\n"
    f"    https://ci:{OLD}@extra.example.test/simple\r\n"
    "timeout = 30"
)
NETRC = (
    "# tokens\n"
    f"machine {HOST}\n  login {USER}\n  password {OLD}\n"
    "machine other.example.test login someone password hd-unrelated-secret-9\n"
    f'machine extra.example.test login ci password "{OLD}"\n'
)


def test_pip_conf_and_netrc_get_the_token_percent_encoded_byte_exact(home: Path) -> None:
    conf = write(home / ".config" / "pip" / "pip.conf", PIP_CONF)
    rc_file = write(home / ".netrc", NETRC)
    before = conf.read_bytes(), rc_file.read_bytes()

    rc, out, err = fix(home, "pip:hdtestpkg", token=ODD)
    assert rc == 1, out
    assert "4 places hold the old credential" in out, out
    assert "[global] index-url: put the new token in the index URL's password" in out
    assert f"machine {HOST}: store the new token as the password" in out
    assert (conf.read_bytes(), rc_file.read_bytes()) == before  # a dry run writes nothing
    assert_no_tokens(out + err, OLD, ODD)

    rc, out, err = fix(home, "pip:hdtestpkg", "--apply", token=ODD)
    assert rc == 0, out
    assert "Updated 2 files" in out
    assert_no_tokens(out + err, OLD, ODD)
    # Only the old token's characters changed, in both files.
    assert conf.read_bytes().decode() == PIP_CONF.replace(OLD, pct(ODD))
    quoted = '"' + ODD.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert rc_file.read_text() == NETRC.replace(f'"{OLD}"', quoted).replace(OLD, quoted)
    # ... and the real parsers read exactly the new token back.
    assert userinfo(conf_value(conf, "index-url")) == (USER, ODD)
    extra = conf_value(conf, "extra-index-url").split()
    assert userinfo(extra[1]) == ("ci", ODD) and urlsplit(extra[1]).hostname == "extra.example.test"
    parsed = netrc_mod.netrc(str(rc_file))
    assert parsed.authenticators(HOST) == (USER, "", ODD)
    assert parsed.authenticators("extra.example.test") == ("ci", "", ODD)
    assert parsed.authenticators("other.example.test") == ("someone", "", "hd-unrelated-secret-9")

    rc, out, _ = fix(home, "pip:hdtestpkg", "--apply", token=ODD)
    assert rc == 0 and "0 places hold the old credential" in out, out
    assert len(backups(home)) == 1
    undo(home)
    assert (conf.read_bytes(), rc_file.read_bytes()) == before


def test_token_in_the_username_slot_stays_there(home: Path) -> None:
    # pip sends a lone username with an empty password: the token is the username.
    old = "hdold" + "7f3a" * 9
    new = "hdnew/" + "9c2e" * 9 + "+="
    conf = write(home / ".config" / "pip" / "pip.conf",
                 f"[global]\nindex-url = https://{old}@{HOST}/simple\n")
    rc, out, err = fix(home, "pip:hdtestpkg", "--apply", token=new)
    assert rc == 0, out
    assert "the index URL's username, where the old token was" in out
    assert conf.read_text() == f"[global]\nindex-url = https://{pct(new)}@{HOST}/simple\n"
    assert userinfo(conf_value(conf, "index-url")) == (new, None)
    assert_no_tokens(out + err, old, new)


def test_a_username_without_password_gets_the_token_as_password(home: Path) -> None:
    # pip sends the lone username with an empty password: the new token (as
    # probed: username + token) goes next to it.
    conf = write(home / ".config" / "pip" / "pip.conf",
                 f"[global]\nindex-url = https://dev%40example.test@{HOST}/simple\n")
    rc, out, _ = fix(home, "pip:hdtestpkg", "--apply", token=ODD)
    assert rc == 0, out
    assert "the index URL as its password" in out
    assert userinfo(conf_value(conf, "index-url")) == (USER, ODD)


def test_a_netrc_entry_without_password_gets_one(home: Path) -> None:
    write(home / ".config" / "pip" / "pip.conf", f"[global]\nindex-url = {INDEX}\n")
    rc_file = write(home / ".netrc", "machine elsewhere.example.test login x\n"
                    f"machine {HOST} login {USER}\n")
    rc, out, _ = fix(home, "pip:hdtestpkg", "--apply", token=ODD)
    assert rc == 0, out
    assert f"machine {HOST}: add the new token as the password" in out
    # The other entry without a password is not "the same old token".
    quoted = '"' + ODD.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert rc_file.read_text() == ("machine elsewhere.example.test login x\n"
                                   f"machine {HOST} login {USER} password {quoted}\n")
    assert netrc_mod.netrc(str(rc_file)).authenticators(HOST) == (USER, "", ODD)


# -- requirements files ---------------------------------------------------------------------


def test_requirements_literal_token_and_variables(home: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    text = (
        f"-i https://dev:{OLD}@{HOST}/simple\n"
        f"--extra-index-url https://dev:{OLD}@${{EXTRA_HOST}}/simple  # literal token\n"
        "--extra-index-url=https://dev:${HAR_TOKEN}@har.example.test/simple\n"
        "--extra-index-url ${WHOLE_URL}\n"
        "hdtestpkg==1.0\n"
    )
    req = write(proj / "requirements.txt", text)
    environ = {"EXTRA_HOST": "extra.example.test", "HAR_TOKEN": pct(OLD),
               "WHOLE_URL": f"https://u%40x.test:{OLD}@whole.example.test/simple"}
    rc, out, err = fix(home, "pip:hdtestpkg", "--apply", token=ODD, environ=environ, project=proj)
    assert rc == 0, out
    assert_no_tokens(out + err, OLD, ODD)
    # The two literal copies are edited; the ${VAR}s are left alone.
    assert req.read_text() == text.replace(f"dev:{OLD}@", f"dev:{pct(ODD)}@")
    steps = manual_steps(out)
    assert "export HAR_TOKEN=" in "\n".join(steps) and "export WHOLE_URL=" in "\n".join(steps)
    assert all("# and update the CI secret" in s for s in steps)
    # The steps, run by a shell, give pip exactly the new token.
    got = sh(steps, ODD, "$HAR_TOKEN\n$WHOLE_URL").split("\n")
    assert unquote(got[0]) == ODD
    assert userinfo(got[1]) == ("u@x.test", ODD)
    assert urlsplit(got[1]).hostname == "whole.example.test"


def test_an_unset_variable_in_requirements_is_never_overwritten(home: Path, tmp_path: Path) -> None:
    # pip sends "${HAR_TOKEN}" literally while it is unset: the fix is to set
    # the variable, never to write the token over the reference.
    proj = tmp_path / "proj"
    text = "--index-url https://dev:${HAR_TOKEN}@pypi.example.test/simple\nhdtestpkg\n"
    req = write(proj / "requirements.txt", text)
    rc, out, err = fix(home, "pip:hdtestpkg", "--apply", token=ODD, project=proj)
    assert req.read_text() == text and not backups(home)
    assert "requirements.txt --index-url: the token comes from $HAR_TOKEN" in out, out
    steps = manual_steps(out)
    assert len(steps) == 1 and steps[0].startswith("export HAR_TOKEN=")
    assert unquote(sh(steps, ODD, "$HAR_TOKEN")) == ODD
    assert_no_tokens(out + err, ODD)


# -- environment variables ------------------------------------------------------------------


def test_pip_variables_get_an_export_and_nothing_is_written(home: Path) -> None:
    rc_file = write(home / ".netrc", f"machine other.example.test login dev password {OLD}\n")
    before = rc_file.read_bytes()
    environ = {
        "PIP_INDEX_URL": f"https://dev%40example.test:{OLD}@{HOST}/simple",
        "PIP_EXTRA_INDEX_URL": f"https://mirror.example.test/simple  https://ci:{OLD}@a.example.test/s"
                               f" https://ci:{OLD}@b.example.test/s",
    }
    rc, out, err = fix(home, "pip:hdtestpkg", token=ODD, environ=environ)
    assert rc == 1, out
    assert "$PIP_INDEX_URL is set in the environment" in out
    assert "the export shown for it covers this URL too" in out
    assert_no_tokens(out + err, OLD, ODD)
    steps = [s for s in manual_steps(out) if s.startswith("export")]
    assert [s.split("=", 1)[0] for s in steps] == ["export PIP_INDEX_URL",
                                                   "export PIP_EXTRA_INDEX_URL"]
    assert steps[0].endswith("# and update the CI secret PIP_INDEX_URL")
    got = sh(steps, ODD, "$PIP_INDEX_URL\n$PIP_EXTRA_INDEX_URL").split("\n")
    assert userinfo(got[0]) == (USER, ODD) and urlsplit(got[0]).hostname == HOST
    extra = got[1].split()
    assert extra[0] == "https://mirror.example.test/simple"
    assert [userinfo(u) for u in extra[1:]] == [("ci", ODD), ("ci", ODD)]
    # A token with nothing to encode is exported as plain "$TOKEN".
    rc, out, _ = fix(home, "pip:hdtestpkg", environ=environ)
    assert f'export PIP_INDEX_URL="https://dev%40example.test:$TOKEN@{HOST}/simple"' in out

    # --apply changes only the file copy (the netrc), never the environment's.
    rc, out, err = fix(home, "pip:hdtestpkg", "--apply", token=ODD, environ=environ)
    assert "export PIP_INDEX_URL=" in out
    assert rc_file.read_bytes() != before
    assert_no_tokens(out + err, OLD, ODD)


def test_uv_and_poetry_variables(home: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    write(proj / "pyproject.toml", '[project]\nname = "app"\n\n[tool.uv]\n\n[[tool.uv.index]]\n'
          f'name = "har-py"\nurl = "{INDEX}"\n\n[tool.poetry]\nname = "app"\n\n'
          f'[[tool.poetry.source]]\nname = "har-py"\nurl = "{INDEX}"\npriority = "primary"\n')
    environ = {"UV_INDEX_HAR_PY_USERNAME": "dev", "UV_INDEX_HAR_PY_PASSWORD": OLD,
               "POETRY_HTTP_BASIC_HAR_PY_USERNAME": "dev", "POETRY_HTTP_BASIC_HAR_PY_PASSWORD": OLD,
               "UV_INDEX": f"other=https://dev:{OLD}@uv.example.test/simple"}
    rc, out, err = fix(home, INDEX, "--apply", token=ODD, environ=environ, project=proj)
    assert_no_tokens(out + err, OLD, ODD)
    steps = manual_steps(out)
    assert 'export UV_INDEX_HAR_PY_PASSWORD="$TOKEN"   # and update the CI secret ' \
        "UV_INDEX_HAR_PY_PASSWORD" in steps, out
    assert 'export POETRY_HTTP_BASIC_HAR_PY_PASSWORD="$TOKEN"   # and update the CI secret ' \
        "POETRY_HTTP_BASIC_HAR_PY_PASSWORD" in steps, out
    uv_step = next(s for s in steps if s.startswith("export UV_INDEX="))
    got = sh([uv_step], ODD, "$UV_INDEX")
    name, url = got.split("=", 1)
    assert name == "other" and userinfo(url) == ("dev", ODD)
    assert not backups(home)


# -- uv and Poetry files ----------------------------------------------------------------------


def test_uv_toml_pyproject_and_poetry_auth_toml(home: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    pyproject = write(proj / "pyproject.toml", (
        '[project]\nname = "app"\n\n[tool.uv]\n\n[[tool.uv.index]]\nname = "har-py"\n'
        f"url = 'https://dev:{OLD}@{HOST}/simple'  # keep\n\n"
        '[tool.poetry]\nname = "app"\n\n[[tool.poetry.source]]\nname = "har-py"\n'
        f'url = "{INDEX}"\npriority = "primary"\n'))
    auth_before = (f"[http-basic.har-py]\r\nusername = \"{USER}\"\r\npassword = '{OLD}'\r\n"
                   f'\r\n[http-basic.other]\r\nusername = "x"\r\npassword = "{OLD}"\r\n')
    auth = write(home / ".config" / "pypoetry" / "auth.toml", auth_before)
    uv_user = write(home / ".config" / "uv" / "uv.toml",
                    f'[[index]]\nname = "mine"\nurl = "https://u:{OLD}@mine.example.test/simple"\n')
    before = pyproject.read_bytes(), auth.read_bytes(), uv_user.read_bytes()

    rc, out, err = fix(home, INDEX, "--apply", token=ODD, project=proj)
    assert rc == 0, out
    assert_no_tokens(out + err, OLD, ODD)
    assert "http-basic.har-py.password: store the new token" in out
    assert "Updated 3 files" in out, out
    assert pyproject.read_text() == before[0].decode().replace(OLD, pct(ODD))
    data = tomllib.loads(pyproject.read_text())
    assert userinfo(data["tool"]["uv"]["index"][0]["url"]) == ("dev", ODD)
    assert userinfo(tomllib.loads(uv_user.read_text())["index"][0]["url"]) == ("u", ODD)
    # The literal string could not hold the quote in the new token: it became
    # a basic string; nothing else in the file moved.
    auth_data = tomllib.loads(auth.read_text())
    assert auth_data["http-basic"]["har-py"]["password"] == ODD
    assert auth_data["http-basic"]["other"]["password"] == ODD
    assert auth.read_bytes().decode().split("\r\n")[0:2] == auth_before.split("\r\n")[0:2]
    assert auth.read_bytes().count(b"\r\n") == auth_before.count("\r\n")

    rc, out, _ = fix(home, INDEX, "--apply", token=ODD, project=proj)
    assert rc == 0 and "0 places hold the old credential" in out, out
    undo(home)
    assert (pyproject.read_bytes(), auth.read_bytes(), uv_user.read_bytes()) == before


def test_a_plain_token_keeps_the_quote_style(home: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    write(proj / "pyproject.toml", '[tool.poetry]\nname = "app"\n\n[[tool.poetry.source]]\n'
          f'name = "har-py"\nurl = "{INDEX}"\npriority = "primary"\n')
    before = f"[http-basic.har-py]\nusername = 'dev'\npassword = '{OLD}'\n"
    auth = write(home / ".config" / "pypoetry" / "auth.toml", before)
    rc, out, _ = fix(home, INDEX, "--apply", project=proj)
    assert rc == 0, out
    assert auth.read_text() == before.replace(OLD, NEW)


# -- the plugin's helpers ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["plain", ODD, "a b", 'q"uote', "back\\slash", "#hash", ""])
def test_netrc_quoting_round_trips(value: str, tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text(f"machine h login u password {pip_rotate._netrc_quote(value)}\n")
    assert netrc_mod.netrc(str(path)).authenticators("h") == ("u", "", value)


@pytest.mark.parametrize("value", [ODD, "tab\there", "ctl\x01", "uni\u00e9"])
def test_toml_basic_round_trips(value: str) -> None:
    assert tomllib.loads(f'x = "{pip_rotate._toml_basic(value)}"')["x"] == value


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1))
def test_any_token_survives_every_encoding(value: str) -> None:
    url = f"https://dev%40example.test:{pip_rotate.pct(value)}@{HOST}/simple"
    assert urlsplit(url).hostname == HOST and userinfo(url) == (USER, value)
    assert tomllib.loads(f'x = "{pip_rotate._toml_basic(value)}"')["x"] == value
    assert pip_rotate.pct(value).isascii()


# -- live: real pip against a real pypiserver --------------------------------------------


@pytest.fixture(scope="module")
def pypi() -> Iterator[PypiServer]:
    try:
        find_pypiserver()
    except MissingBinaryError as exc:
        server_missing(str(exc))
    with PypiServer(users={USER: ODD}) as srv:
        yield srv


def live_env(home: Path, **extra: str) -> dict[str, str]:
    venv = venv_of(find_pypiserver()[1])
    return {**base_env(home), "VIRTUAL_ENV": venv, **extra}


def live_fix(home: Path, *args: str, token: str,
             environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    res = run_cli(["fix", "--token-stdin", "--no-token-api", "--timeout", "10", *args,
                   "pip:hdtestpkg"], home=home, environ=live_env(home, **(environ or {})),
                  stdin=token)
    assert "Traceback" not in res.out + res.err, res
    return res.rc, res.out, res.err


def pip_ok(home: Path, env: dict[str, str | None] | None = None) -> bool:
    return pip_download(home, "hdtestpkg", extra_env=env).returncode == 0


@pytest.mark.live
def test_real_pip_works_after_rotation_and_bad_tokens_change_nothing(
    pypi: PypiServer, home: Path
) -> None:
    old = "hd-old-" + secrets.token_hex(8)
    wrong = "hd-wrong-" + secrets.token_hex(8)
    conf = write(home / ".config" / "pip" / "pip.conf",
                 f"[global]\nindex-url = http://dev%40example.test:{old}@{pypi.host}/simple\n"
                 "no-input = true\n")
    # The same old token, kept for the bare URL (PIP_INDEX_URL below) in .netrc.
    rc_file = write(home / ".netrc", f"# pypiserver\nmachine 127.0.0.1\n  login {USER}\n"
                    f"  password {old}\n")
    before = conf.read_bytes(), rc_file.read_bytes()
    assert not pip_ok(home)

    # pypiserver answers 403 for a wrong password: refused, nothing written.
    rc, out, err = live_fix(home, "--apply", token=wrong)
    assert rc == 1, out
    assert "refused; nothing was written" in out and "PIP103" in out
    assert (conf.read_bytes(), rc_file.read_bytes()) == before and not backups(home)
    assert_no_tokens(out + err, old, ODD, wrong)

    rc, out, err = live_fix(home, "--apply", token=ODD)
    assert rc == 0, out
    assert "2 places hold the old credential" in out and "Updated 2 files" in out
    assert "Checked again" in out and "✓" in out
    assert_no_tokens(out + err, old, ODD)
    assert pip_ok(home)
    # The .netrc copy works too: pip with a bare index URL finds it by host.
    assert pip_ok(home, {"PIP_INDEX_URL": pypi.index})

    rc, out, _ = live_fix(home, "--apply", token=ODD)
    assert rc == 0 and "0 places hold the old credential" in out, out
    assert len(backups(home)) == 1

    undo(home)
    assert (conf.read_bytes(), rc_file.read_bytes()) == before
    assert not pip_ok(home)


@pytest.mark.live
def test_real_pip_with_an_index_url_from_the_environment(pypi: PypiServer, home: Path) -> None:
    old = "hd-old-" + secrets.token_hex(8)
    url = f"http://dev%40example.test:{old}@{pypi.host}/simple"
    assert not pip_ok(home, {"PIP_INDEX_URL": url})
    rc, out, err = live_fix(home, "--apply", token=ODD, environ={"PIP_INDEX_URL": url})
    assert rc == 1, out  # the environment still holds the old token
    assert_no_tokens(out + err, old, ODD)
    assert "Updated" not in out and not backups(home) and not list(home.rglob("pip.conf"))
    steps = [s for s in manual_steps(out) if s.startswith("export PIP_INDEX_URL=")]
    assert len(steps) == 1 and "update the CI secret PIP_INDEX_URL" in steps[0]
    new_url = sh(steps, ODD, "$PIP_INDEX_URL")
    assert pip_ok(home, {"PIP_INDEX_URL": new_url})
