"""The user's story with real parts: real ``pip download --no-input`` fails
against a real pypiserver (or the HAR Python emulator) on 127.0.0.1,
``hardoctor check`` names the cause at file:line, and after ``hardoctor fix``
(or the remedy it prints) the same pip succeeds.

pip runs isolated from this machine's pip configuration (see
``tests/servers/pypiserver.py``); hardoctor gets the same HOME and
``XDG_CONFIG_DIRS``, and no ``/etc/pip.conf`` (``HARDOCTOR_PIP_ETC_CONFIG``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers import MissingBinaryError, server_missing
from tests.servers.har_python import HarPython
from tests.servers.pypiserver import (
    PypiServer,
    find_old_pip,
    find_pypiserver,
    pip_download,
    venv_of,
)

pytestmark = pytest.mark.live

USER = "dev@example.test"
PASSWORD = "hd-e2e-Pypi-password-01"
SLASH_USER = "slashy"
SLASH_PASSWORD = "hd/e2e?pass#word-02"
ACCT = "AcmeX1"
REG = "py-prod"


@pytest.fixture(scope="module")
def pypi() -> Iterator[PypiServer]:
    try:
        find_pypiserver()
    except MissingBinaryError as exc:
        server_missing(str(exc))
    with PypiServer(users={USER: PASSWORD, SLASH_USER: SLASH_PASSWORD}) as srv:
        yield srv


@pytest.fixture(scope="module")
def har() -> Iterator[HarPython]:
    try:
        find_pypiserver()  # the pip client lives in the same venv
    except MissingBinaryError as exc:
        server_missing(str(exc))
    with HarPython() as emu:
        emu.add_registry(ACCT, REG)
        emu.add_registry(ACCT, "py-other")
        emu.add_project(ACCT, REG, "hdtestpkg")
        yield emu


def hd_env(home: Path, **extra: str) -> dict[str, str]:
    # VIRTUAL_ENV: hardoctor learns the pip version (and the site pip.conf)
    # of the pip that runs, exactly as it would in an activated venv.
    venv = venv_of(find_pypiserver()[1])
    return {"HARDOCTOR_PIP_ETC_CONFIG": "", "XDG_CONFIG_DIRS": str(home / "xdg"),
            "VIRTUAL_ENV": venv, **extra}


def pip_conf(home: Path, body: str) -> Path:
    path = home / ".config" / "pip" / "pip.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(0o600)
    return path


def netrc(home: Path, body: str) -> Path:
    path = home / ".netrc"
    path.write_text(body)
    path.chmod(0o600)
    return path


def pip_ok(home: Path, *args: str, env: dict[str, str] | None = None) -> bool:
    proc = pip_download(home, *(args or ("hdtestpkg",)), extra_env=env)
    return proc.returncode == 0


def check(home: Path, *args: str, env: dict[str, str] | None = None, har: HarPython | None = None) -> dict:
    argv = ["check", "--format", "json", "--no-token-api", "--ecosystem", "pip", "--timeout", "10"]
    if har is not None:
        argv += ["--harness-host", har.host]
    res = run_cli([*argv, *args], home=home, environ=hd_env(home, **(env or {})))
    assert res.rc in (0, 1), res
    report = assert_valid_report(res.out)
    assert not [f for f in report["findings"] if f["rule"] == "HD002"], report["findings"]
    return report


def fix(home: Path, *args: str, har: HarPython | None = None, env: dict[str, str] | None = None,
        online: bool = False) -> None:
    argv = ["fix", "--apply", "--no-token-api", "--ecosystem", "pip", *args]
    if not online:
        argv.append("--offline")
    if har is not None:
        argv += ["--harness-host", har.host]
    res = run_cli(argv, home=home, environ=hd_env(home, **(env or {})))
    assert res.rc == 0, res


def one(report: dict, rule: str) -> dict:
    hits = [f for f in report["findings"] if f["rule"] == rule]
    assert hits, f"{rule} not in {[(f['rule'], f['message']) for f in report['findings']]}"
    return hits[0]


def at(f: dict, suffix: str, line: int | None) -> None:
    assert f["location"] is not None, f
    assert f["location"]["path"].endswith(suffix), f
    assert f["location"]["line"] == line, f


# -- pypiserver -----------------------------------------------------------------------


def test_wrong_password_is_a_403_at_pypiserver(pypi: PypiServer, home: Path) -> None:
    conf = pip_conf(home, f"[global]\nindex-url = http://dev%40example.test:not-the-password@{pypi.host}/simple\n")
    assert not pip_ok(home)
    report = check(home, "pip:hdtestpkg")
    f = one(report, "PIP103")
    assert f["cause"] == "token-invalid" and "pypiserver" in f["message"]
    at(f, "pip.conf", 2)
    assert any("403" in e for e in f["evidence"])
    # the remedy: the right password in the place the chain names
    conf.write_text(conf.read_text().replace("not-the-password", PASSWORD))
    assert pip_ok(home)
    assert not [f for f in check(home, "pip:hdtestpkg")["findings"] if f["severity"] == "error"]


def test_no_credentials_is_a_401(pypi: PypiServer, home: Path) -> None:
    pip_conf(home, f"[global]\nindex-url = {pypi.index}\n")
    assert not pip_ok(home)
    report = check(home, "pip:hdtestpkg")
    f = one(report, "PIP101")
    assert f["cause"] == "no-credentials"
    at(f, "pip.conf", 2)
    netrc(home, f"machine 127.0.0.1\n  login {USER}\n  password {PASSWORD}\n")
    assert pip_ok(home)
    assert not [f for f in check(home, "pip:hdtestpkg")["findings"] if f["severity"] == "error"]


def test_inline_comment_story(pypi: PypiServer, home: Path) -> None:
    pip_conf(home, f"[global]\nindex-url = {pypi.index}   # our pypiserver\n")
    netrc(home, f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    assert not pip_ok(home)
    at(one(check(home), "PIP002"), "pip.conf", 2)
    fix(home)
    assert pip_ok(home)


def test_netrc_port_story(pypi: PypiServer, home: Path) -> None:
    pip_conf(home, f"[global]\nindex-url = {pypi.index}\n")
    netrc(home, f"machine {pypi.host}\n  login {USER}\n  password {PASSWORD}\n")
    assert not pip_ok(home)
    report = check(home, "pip:hdtestpkg")
    at(one(report, "PIP033"), ".netrc", 1)
    assert one(report, "PIP101")  # the probe agrees: nothing is sent
    fix(home)
    assert pip_ok(home)


def test_broken_netrc_story(pypi: PypiServer, home: Path) -> None:
    pip_conf(home, f"[global]\nindex-url = {pypi.index}\n")
    path = netrc(home, f"machine 127.0.0.1\n  login {USER}\n  pass {PASSWORD}\n")
    assert not pip_ok(home)
    f = one(check(home, "pip:hdtestpkg"), "PIP032")
    at(f, ".netrc", 3)
    path.write_text(path.read_text().replace("  pass ", "  password "))
    assert pip_ok(home)


def test_username_in_url_defeats_netrc_only_before_pip_25_2(pypi: PypiServer, home: Path) -> None:
    try:
        old = find_old_pip()
    except MissingBinaryError as exc:
        server_missing(str(exc))
    pip_conf(home, f"[global]\nindex-url = http://dev%40example.test@{pypi.host}/simple\n")
    netrc(home, f"machine 127.0.0.1\n  login {USER}\n  password {PASSWORD}\n")
    # Current pip (requests 2.32.4+) looks the host name up: fine.
    assert pip_ok(home)
    report = check(home, "pip:hdtestpkg")
    assert not [f for f in report["findings"] if f["rule"] == "PIP035"]
    # pip 24.0 looks up 'dev%40example.test@127.0.0.1' and sends an empty password.
    assert pip_download(home, "hdtestpkg", python=old).returncode != 0
    old_env = {"VIRTUAL_ENV": venv_of(old)}
    report = check(home, "pip:hdtestpkg", env=old_env)
    f = one(report, "PIP035")
    assert f["severity"] == "error"
    at(f, "pip.conf", 2)
    assert one(report, "PIP103")["cause"] == "token-invalid"  # pypiserver: 403 for the empty password
    fix(home, "--unsafe", env=old_env)
    assert pip_download(home, "hdtestpkg", python=old).returncode == 0


def test_unencoded_password_story(pypi: PypiServer, home: Path) -> None:
    pip_conf(home, f"[global]\nindex-url = http://{SLASH_USER}:{SLASH_PASSWORD}@{pypi.host}/simple\n")
    assert not pip_ok(home)
    f = one(check(home, "--offline"), "PIP010")
    assert f["severity"] == "error"
    at(f, "pip.conf", 2)
    fix(home)
    assert pip_ok(home)
    report = check(home, "pip:hdtestpkg")
    assert not [f for f in report["findings"] if f["severity"] == "error"], report["findings"]


def test_requirements_env_var_story(pypi: PypiServer, home: Path) -> None:
    req = home / "requirements.txt"
    req.write_text(f"# the token comes from CI\n-i http://dev%40example.test:${{HD_E2E_TOKEN}}@{pypi.host}/simple\n"
                   "hdtestpkg\n")
    assert not pip_ok(home, "-r", str(req))
    f = one(check(home), "PIP015")
    at(f, "requirements.txt", 2)
    assert "export HD_E2E_TOKEN=..." in f["remediation"]["commands"]
    assert pip_ok(home, "-r", str(req), env={"HD_E2E_TOKEN": PASSWORD})
    assert not [f for f in check(home, env={"HD_E2E_TOKEN": PASSWORD})["findings"]
                if f["severity"] == "error"]


def test_duplicate_section_story(pypi: PypiServer, home: Path) -> None:
    conf = pip_conf(home, f"[global]\nindex-url = {pypi.index}\n[global]\ntimeout = 20\n")
    netrc(home, f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    proc = pip_download(home, "hdtestpkg")
    assert proc.returncode != 0 and "could not be loaded" in proc.stderr
    at(one(check(home), "PIP001"), "pip.conf", 3)
    conf.write_text(f"[global]\nindex-url = {pypi.index}\ntimeout = 20\n")
    assert pip_ok(home)


def test_pip_config_file_hides_user_file_story(pypi: PypiServer, home: Path) -> None:
    pip_conf(home, f"[global]\nindex-url = http://dev%40example.test:{PASSWORD}@{pypi.host}/simple\n")
    ci = home / "ci.conf"
    ci.write_text(f"[global]\nindex-url = {pypi.index}\n")
    env = {"PIP_CONFIG_FILE": str(ci)}
    assert not pip_ok(home, env=env)
    report = check(home, "pip:hdtestpkg", env=env)
    at(one(report, "PIP004"), ".config/pip/pip.conf", 2)
    assert one(report, "PIP101")
    assert pip_ok(home)  # the remedy: unset PIP_CONFIG_FILE


def test_move_credentials_to_netrc_keeps_pip_working(pypi: PypiServer, home: Path) -> None:
    conf = pip_conf(home, f"[global]\nindex-url = http://dev%40example.test:{PASSWORD}@{pypi.host}/simple\n")
    netrc(home, "machine other.example.test login x password hd-e2e-other-password\n")
    assert pip_ok(home)
    one(check(home, "--offline"), "PIP014")
    fix(home, "--unsafe", "--only", "PIP014")
    assert PASSWORD not in conf.read_text()
    assert pip_ok(home)


# -- the HAR emulator ---------------------------------------------------------------------


def test_har_token_in_username_story(har: HarPython, home: Path) -> None:
    token = har.new_token(ACCT, {REG: ["read"]})
    pip_conf(home, f"[global]\nindex-url = http://{token}@{har.host}/pkg/{ACCT}/{REG}/python/simple\n")
    assert not pip_ok(home)
    report = check(home, "pip:hdtestpkg", har=har)
    assert token not in str(report)
    at(one(report, "PIP011"), "pip.conf", 2)
    assert one(report, "PIP102")["cause"] == "token-invalid"
    fix(home, "--unsafe", har=har)
    assert pip_ok(home)
    report = check(home, "pip:hdtestpkg", har=har)
    assert not [f for f in report["findings"] if f["severity"] == "error"], report["findings"]


def test_har_pypi_spelling_story(har: HarPython, home: Path) -> None:
    token = har.new_token(ACCT, {REG: ["read"]})
    pip_conf(home, f"[global]\nindex-url = http://dev%40example.test:{token}@{har.host}"
                   f"/pkg/{ACCT}/{REG}/pypi/simple/\n")
    assert not pip_ok(home)
    offline = check(home, "--offline", har=har)
    at(one(offline, "HAR203"), "pip.conf", 2)
    report = check(home, "pip:hdtestpkg", har=har)
    # Online the probe's 404 and the HAR plugin's URL finding tell one story
    # (same cause, same credential): one finding, carrying the path fix.
    f = one(report, "PIP104")
    assert f["cause"] == "wrong-url" and f["severity"] == "error"
    at(f, "pip.conf", 2)
    assert any("HAR203" in e for e in f["evidence"]), f["evidence"]
    assert f["fix"]["applicability"] == "safe"
    fix(home, har=har, online=True)
    assert pip_ok(home)


def test_har_missing_simple_story(har: HarPython, home: Path) -> None:
    token = har.new_token(ACCT, {REG: ["read"]})
    pip_conf(home, f"[global]\nindex-url = {har.url}/pkg/{ACCT}/{REG}/python\n")
    netrc(home, f"machine 127.0.0.1\n  login {USER}\n  password {token}\n")
    assert not pip_ok(home)
    report = check(home, "pip:hdtestpkg", har=har)
    at(one(report, "PIP023"), "pip.conf", 2)
    fix(home, har=har)
    assert pip_ok(home)


def test_har_403_is_permission(har: HarPython, home: Path) -> None:
    token = har.new_token(ACCT, {"py-other": ["read"]})
    pip_conf(home, f"[global]\nindex-url = {har.index_url(ACCT, REG)}\n")
    netrc(home, f"machine 127.0.0.1\n  login {USER}\n  password {token}\n")
    assert not pip_ok(home)
    f = one(check(home, "pip:hdtestpkg", har=har), "PIP103")
    assert f["cause"] == "permission-denied"
    assert any("webhook" in s for s in f["remediation"]["steps"])
    at(f, ".netrc", 1)


def test_har_missing_project_and_account_mismatch(har: HarPython, home: Path) -> None:
    token = har.new_token(ACCT, {REG: ["read"]})
    pip_conf(home, f"[global]\nindex-url = {har.index_url(ACCT, REG)}\n")
    netrc(home, f"machine 127.0.0.1\n  login {USER}\n  password {token}\n")
    assert not pip_ok(home, "hd-missing-project")
    f = one(check(home, "pip:hd_Missing.Project", har=har), "PIP105")
    assert f["cause"] == "not-found" and "'hd-missing-project'" in f["message"]
    other = har.new_token("OtherAcct9", {"*": ["read"]})
    pip_conf(home, f"[global]\nindex-url = http://dev%40example.test:{other}@{har.host}/pkg/{ACCT}/{REG}/python/simple\n")
    assert not pip_ok(home)
    report = check(home, "pip:hdtestpkg", har=har)
    assert one(report, "HAR105")["cause"] == "account-mismatch"
    assert one(report, "PIP102")


def test_har_quarantine_throttling_and_server_errors(har: HarPython, home: Path) -> None:
    token = har.new_token(ACCT, {REG: ["read"]})
    har.add_project(ACCT, REG, "hd-quarantined")
    har.accounts[ACCT][REG].quarantined.add("hd-quarantined")
    pip_conf(home, f"[global]\nindex-url = {har.index_url(ACCT, REG)}\n")
    netrc(home, f"machine 127.0.0.1\n  login {USER}\n  password {token}\n")
    assert not pip_ok(home, "hd-quarantined")
    f = one(check(home, "pip:hd-quarantined", har=har), "PIP108")
    assert f["cause"] == "blocked-by-policy" and "quarantined" in f["message"]
    try:
        har.force_status = 429
        assert one(check(home, "pip:hdtestpkg", har=har), "PIP107")["cause"] == "rate-limited"
        har.force_status = 502
        assert one(check(home, "pip:hdtestpkg", har=har), "PIP106")["severity"] == "error"
    finally:
        har.force_status = None
