"""`hardoctor check --push` for Python indexes, verified with a real upload:
twine 7.0.0 (scripts/install-clients-deps.sh) uploads a wheel to a real
pypiserver -- it fails, hardoctor names why, the fix is applied, the same
upload succeeds.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers import MissingBinaryError, clients, server_missing
from tests.servers.pypiserver import PypiServer, build_wheel, find_pypiserver, pip_environ

pytestmark = pytest.mark.live

USER = "dev"
PASSWORD = "hd-clients-Twine-pass-3"
_n = count(1)


@pytest.fixture(scope="module")
def pypi() -> Iterator[PypiServer]:
    try:
        find_pypiserver()
        clients.twine()
    except MissingBinaryError as exc:
        server_missing(str(exc))
    with PypiServer(users={USER: PASSWORD}) as srv:
        yield srv


def upload(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    wheel = build_wheel(home / "dist", f"hdup{next(_n)}", "1.0")
    environ = pip_environ(home, {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
                                 **env})
    return subprocess.run([*clients.twine(), "upload", "--non-interactive",
                           "--disable-progress-bar", *args, str(wheel)], env=environ,
                          capture_output=True, text=True, timeout=120, check=False)


def pypirc(home: Path, body: str) -> Path:
    path = home / ".pypirc"
    path.write_text(body)
    path.chmod(0o600)
    return path


def hd(home: Path, *args: str, **env: str) -> tuple[int, dict, str]:
    environ = {"HARDOCTOR_PIP_ETC_CONFIG": "", "XDG_CONFIG_DIRS": str(home / "xdg"), **env}
    res = run_cli(["check", "--push", *args, "--format", "json"], home=home, cwd=home,
                  environ=environ)
    text = run_cli(["check", "--push", *args, "--no-color"], home=home, cwd=home, environ=environ)
    for out in (res.out, res.err, text.out, text.err):
        assert PASSWORD not in out
    assert "Traceback" not in res.err
    return res.rc, assert_valid_report(res.out), text.out


def rules(report: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in report["findings"]}


def test_pypirc_section_not_in_index_servers(pypi: PypiServer, tmp_path: Path) -> None:
    home = tmp_path
    rc_path = pypirc(home, f"[private]\nrepository = {pypi.url}/\nusername = {USER}\n"
                           f"password = {PASSWORD}\n")
    failed = upload(home, "-r", "private")
    assert failed.returncode != 0 and "Missing 'private' section" in failed.stdout + failed.stderr
    rc, report, text = hd(home)
    assert rc == 1, text
    f = rules(report)["PIP060"]
    assert f["location"]["path"] == str(rc_path) and f["location"]["line"] == 2

    pypirc(home, "[distutils]\nindex-servers =\n    private\n\n"
                 f"[private]\nrepository = {pypi.url}/\nusername = {USER}\npassword = {PASSWORD}\n")
    ok = upload(home, "-r", "private")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rc, report, text = hd(home)
    assert rc == 0, text
    twine = [r for r in report["resolutions"] if r["client"] == "twine"]
    assert twine and twine[0]["credential"]


def test_repository_url_ignores_pypirc(pypi: PypiServer, tmp_path: Path) -> None:
    home = tmp_path
    rc_path = pypirc(home, "[distutils]\nindex-servers = private\n\n"
                           f"[private]\nrepository = {pypi.url}/\nusername = {USER}\n"
                           f"password = {PASSWORD}\n")
    env = {"TWINE_REPOSITORY_URL": f"{pypi.url}/"}
    failed = upload(home, **env)
    assert failed.returncode != 0 and "Credential not found" in failed.stdout + failed.stderr
    rc, report, text = hd(home, **env)
    assert rc == 1, text
    f = rules(report)["PIP061"]
    assert f["location"]["path"] == str(rc_path)
    # The fix: drop the URL variable and name the section.
    ok = upload(home, "-r", "private")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert hd(home, TWINE_REPOSITORY="private")[0] == 0


def test_twine_password_variable(pypi: PypiServer, tmp_path: Path) -> None:
    home = tmp_path
    env = {"TWINE_REPOSITORY_URL": f"{pypi.url}/", "TWINE_USERNAME": USER,
           "TWINE_PASSWORD": "hd-stale-token-8"}
    failed = upload(home, **env)
    assert failed.returncode != 0 and "403" in failed.stdout + failed.stderr
    rc, report, text = hd(home, **env)
    assert rc == 1, text
    f = rules(report)["PIP111"]
    assert f["location"]["key"] == "$TWINE_PASSWORD"
    env["TWINE_PASSWORD"] = PASSWORD
    assert upload(home, **env).returncode == 0
    rc, report, text = hd(home, **env)
    assert rc == 0, text
    # An index URL is not an upload URL.
    env["TWINE_REPOSITORY_URL"] = f"{pypi.url}/simple/"
    assert upload(home, **env).returncode != 0
    rc, report, text = hd(home, **env)
    assert rc == 1 and "PIP112" in rules(report), text


def test_without_push_twine_is_not_probed(pypi: PypiServer, tmp_path: Path) -> None:
    home = tmp_path
    env = {"TWINE_REPOSITORY_URL": f"{pypi.url}/", "TWINE_USERNAME": USER,
           "TWINE_PASSWORD": "hd-stale-token-8"}
    res = run_cli(["check", "--format", "json"], home=home, cwd=home,
                  environ={"HARDOCTOR_PIP_ETC_CONFIG": "", **env})
    report = assert_valid_report(res.out)
    assert not [r for r in report["resolutions"] if r["client"] == "twine"]
    assert PASSWORD not in res.out
