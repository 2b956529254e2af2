"""The user's story with the real uv and Poetry against a real pypiserver:
the client fails, hardoctor names why (file:line, the variable), the fix is
applied, the same client succeeds -- and hardoctor judges only the client
the project uses (pip is shown, never an error, in a uv or Poetry project).

Clients: scripts/install-clients-deps.sh (uv 0.13.9, Poetry 2.5.1);
server: scripts/install-pip-deps.sh (pypiserver).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers import MissingBinaryError, clients, server_missing
from tests.servers.pypiserver import PypiServer, find_pypiserver, pip_environ

pytestmark = pytest.mark.live

USER = "dev"
PASSWORD = "hd-clients-Py-pass-77"  # canary: never in any output


@pytest.fixture(scope="module")
def pypi() -> Iterator[PypiServer]:
    try:
        find_pypiserver()
        clients.uv()
        clients.poetry()
    except MissingBinaryError as exc:
        server_missing(str(exc))
    with PypiServer(users={USER: PASSWORD}) as srv:
        yield srv


def client_env(home: Path, **extra: str) -> dict[str, str]:
    env = pip_environ(home, {
        "UV_CACHE_DIR": str(home / "uv-cache"), "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1", "POETRY_CACHE_DIR": str(home / "poetry-cache"),
        "POETRY_VIRTUALENVS_CREATE": "false", "POETRY_NO_INTERACTION": "1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    })
    env.update(extra)
    return env


def run_client(argv: list[str], proj: Path, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    for cache in ("uv-cache", "poetry-cache"):
        shutil.rmtree(home / cache, ignore_errors=True)
    for lock in ("uv.lock", "poetry.lock"):
        (proj / lock).unlink(missing_ok=True)
    return subprocess.run(argv, cwd=proj, env=client_env(home, **extra), capture_output=True,
                          text=True, timeout=180, check=False)


def hd(home: Path, proj: Path, *args: str, **extra: str) -> tuple[int, dict, str]:
    env = {"HARDOCTOR_PIP_ETC_CONFIG": "", "XDG_CONFIG_DIRS": str(home / "xdg"),
           "XDG_CONFIG_HOME": str(home / ".config"), **extra}
    res = run_cli(["check", "--project", str(proj), *args, "--format", "json"], home=home,
                  cwd=proj, environ=env)
    text = run_cli(["check", "--project", str(proj), *args, "--no-color"], home=home, cwd=proj,
                   environ=env)
    for out in (res.out, res.err, text.out, text.err):
        assert PASSWORD not in out
    assert "Traceback" not in res.err
    return res.rc, assert_valid_report(res.out), text.out


def rules(report: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in report["findings"]}


def uv_project(home: Path, index: str, name: str = "private") -> Path:
    proj = home / "app"
    proj.mkdir(exist_ok=True)
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.8"\n'
        'dependencies = ["hdtestpkg"]\n\n'
        f'[[tool.uv.index]]\nname = "{name}"\nurl = "{index}"\ndefault = true\n')
    return proj


def test_uv_index_variables_unset_then_set(pypi: PypiServer, tmp_path: Path) -> None:
    home = tmp_path
    proj = uv_project(home, pypi.index)
    failed = run_client([*clients.uv(), "lock"], proj, home)
    assert failed.returncode != 0 and "401" in failed.stderr

    rc, report, text = hd(home, proj)
    assert rc == 1
    f = rules(report)["PIP055"]
    assert f["cause"] == "env-unset" and f["severity"] == "error"
    assert f["location"]["path"].endswith("pyproject.toml") and f["location"]["line"] == 9
    assert "UV_INDEX_PRIVATE_PASSWORD" in f["message"]
    assert "PIP105" not in rules(report)  # pip's default index is not judged in a uv project

    fixed = {"UV_INDEX_PRIVATE_USERNAME": USER, "UV_INDEX_PRIVATE_PASSWORD": PASSWORD}
    ok = run_client([*clients.uv(), "lock"], proj, home, **fixed)
    assert ok.returncode == 0, ok.stderr
    rc, report, text = hd(home, proj, **fixed)
    assert rc == 0, text
    uv = [r for r in report["resolutions"] if r["client"] == "uv"]
    assert uv and all(r["judged"] for r in uv)
    assert "judged: uv" in text


def test_uv_variables_with_a_name_that_does_not_match(pypi: PypiServer, tmp_path: Path) -> None:
    home = tmp_path
    proj = uv_project(home, pypi.index, name="corp-py")
    typo = {"UV_INDEX_CORPPY_USERNAME": USER, "UV_INDEX_CORPPY_PASSWORD": PASSWORD}
    assert run_client([*clients.uv(), "lock"], proj, home, **typo).returncode != 0
    rc, report, text = hd(home, proj, **typo)
    assert rc == 1
    f = rules(report)["PIP055"]
    assert "UV_INDEX_CORP_PY_PASSWORD" in f["message"]
    assert any("UV_INDEX_CORPPY_PASSWORD is set" in e for e in f["evidence"])
    assert "PIP051" in rules(report)
    right = {"UV_INDEX_CORP_PY_USERNAME": USER, "UV_INDEX_CORP_PY_PASSWORD": PASSWORD}
    assert run_client([*clients.uv(), "lock"], proj, home, **right).returncode == 0
    assert hd(home, proj, **right)[0] == 0


def test_uv_after_pip_the_leftover_pip_conf_is_named(pypi: PypiServer, tmp_path: Path) -> None:
    """Moved from pip to uv: the credentials stay in pip.conf, which uv never reads."""
    home = tmp_path
    conf = home / ".config" / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(f"[global]\nindex-url = http://{USER}:{PASSWORD}@{pypi.host}/simple\n")
    conf.chmod(0o600)
    proj = uv_project(home, pypi.index)
    assert run_client([*clients.uv(), "lock"], proj, home).returncode != 0
    rc, report, text = hd(home, proj)
    assert rc == 1
    f = rules(report)["PIP052"]
    assert f["severity"] == "error" and f["location"]["path"] == str(conf)
    assert f["location"]["line"] == 2
    pip = [r for r in report["resolutions"] if r["client"] == "pip"]
    assert pip and not any(r["judged"] for r in pip)
    assert "not judged: pip" in text

    netrc = home / ".netrc"  # the fix hardoctor gives: credentials uv reads
    netrc.write_text(f"machine 127.0.0.1\n  login {USER}\n  password {PASSWORD}\n")
    netrc.chmod(0o600)
    assert run_client([*clients.uv(), "lock"], proj, home).returncode == 0
    rc, report, text = hd(home, proj)
    assert rc == 0, text


def test_uv_index_url_variable_with_netrc(pypi: PypiServer, tmp_path: Path) -> None:
    home = tmp_path
    proj = home / "app"
    proj.mkdir()
    (proj / "requirements.in").write_text("hdtestpkg\n")
    env = {"UV_INDEX_URL": pypi.index}
    argv = [*clients.uv(), "pip", "compile", "--no-header", "requirements.in"]
    assert run_client(argv, proj, home, **env).returncode != 0
    rc, report, _ = hd(home, proj, "--client", "uv", **env)
    assert rc == 1 and "PIP101" in rules(report)
    (home / ".netrc").write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    (home / ".netrc").chmod(0o600)
    assert run_client(argv, proj, home, **env).returncode == 0
    rc, report, text = hd(home, proj, "--client", "uv", **env)
    assert rc == 0, text


def test_a_working_uv_project_passes_without_pip_config(pypi: PypiServer, tmp_path: Path) -> None:
    """The issue's first story: a uv project that works, no pip configuration,
    a package target -- pip's default index is not asked, nothing fails."""
    home = tmp_path
    proj = uv_project(home, pypi.index)
    env = {"UV_INDEX_PRIVATE_USERNAME": USER, "UV_INDEX_PRIVATE_PASSWORD": PASSWORD}
    assert run_client([*clients.uv(), "lock"], proj, home, **env).returncode == 0
    for target in ("uv:hdtestpkg", "pip:hdtestpkg"):  # pip: is the ecosystem's spelling
        rc, report, text = hd(home, proj, target, **env)
        judged = {r["client"] for r in report["resolutions"] if r["judged"]}
        assert rc == 0, text
        assert judged == {"uv"}
    # Said outright, pip is judged (offline: PyPI is not a test dependency).
    rc, report, text = hd(home, proj, "pip:hdtestpkg", "--client", "pip", "--offline", **env)
    assert {r["client"] for r in report["resolutions"] if r["judged"]} == {"pip"}
    assert run_cli(["check", "--client", "pipx"], home=home, cwd=proj).rc == 2


def poetry_project(home: Path, index: str) -> Path:
    proj = home / "app"
    proj.mkdir(exist_ok=True)
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.9"\n'
        'dependencies = ["hdtestpkg"]\n\n[tool.poetry]\npackage-mode = false\n\n'
        f'[[tool.poetry.source]]\nname = "private"\nurl = "{index}/"\npriority = "primary"\n')
    return proj


def test_poetry_http_basic_variables(pypi: PypiServer, tmp_path: Path) -> None:
    home = tmp_path
    proj = poetry_project(home, pypi.index)
    failed = run_client([*clients.poetry(), "lock"], proj, home)
    assert failed.returncode != 0 and "Authorization error" in failed.stdout + failed.stderr
    rc, report, text = hd(home, proj)
    assert rc == 1
    f = rules(report)["PIP055"]
    assert "POETRY_HTTP_BASIC_PRIVATE_PASSWORD" in f["message"]
    assert f["location"]["path"] == str(proj / "pyproject.toml")

    fixed = {"POETRY_HTTP_BASIC_PRIVATE_USERNAME": USER,
             "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": PASSWORD}
    ok = run_client([*clients.poetry(), "lock"], proj, home, **fixed)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rc, report, text = hd(home, proj, **fixed)
    assert rc == 0, text
    assert {r["client"] for r in report["resolutions"] if r["judged"]} == {"poetry"}


def test_poetry_wrong_password_in_auth_toml(pypi: PypiServer, tmp_path: Path) -> None:
    """`poetry config http-basic.private` with a wrong password: auth.toml's
    line is named; the real `poetry config` stores the right one."""
    home = tmp_path
    proj = poetry_project(home, pypi.index)
    poetry = clients.poetry()
    env = client_env(home)
    subprocess.run([*poetry, "config", "keyring.enabled", "false"], env=env, cwd=proj,
                   check=True, capture_output=True, timeout=60)
    subprocess.run([*poetry, "config", "http-basic.private", USER, "hd-wrong-pass-1"], env=env,
                   cwd=proj, check=True, capture_output=True, timeout=60)
    assert run_client([*poetry, "lock"], proj, home).returncode != 0
    rc, report, text = hd(home, proj)
    assert rc == 1
    bad = [f for f in report["findings"] if f["rule"] in ("PIP102", "PIP103")]
    assert bad and bad[0]["location"]["path"].endswith("auth.toml"), text
    subprocess.run([*poetry, "config", "http-basic.private", USER, PASSWORD], env=env, cwd=proj,
                   check=True, capture_output=True, timeout=60)
    assert run_client([*poetry, "lock"], proj, home).returncode == 0
    assert hd(home, proj)[0] == 0


def test_poetry_explicit_source_is_checked(pypi: PypiServer, tmp_path: Path) -> None:
    """`poetry source add --priority=explicit`: used only by the dependency
    that names it -- still checked, and its missing credentials named."""
    home = tmp_path
    proj = home / "app"
    proj.mkdir()
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.9"\n'
        'dynamic = ["dependencies"]\n\n[tool.poetry]\npackage-mode = false\n\n'
        '[tool.poetry.dependencies]\nhdtestpkg = { version = "*", source = "private" }\n')
    env = client_env(home)
    added = subprocess.run([*clients.poetry(), "source", "add", "--priority=explicit", "private",
                            f"{pypi.index}/"], cwd=proj, env=env, capture_output=True, text=True,
                           timeout=60, check=False)
    assert added.returncode == 0, added.stdout + added.stderr
    assert run_client([*clients.poetry(), "lock"], proj, home).returncode != 0
    rc, report, text = hd(home, proj)
    assert rc == 1, text
    assert "POETRY_HTTP_BASIC_PRIVATE_PASSWORD" in rules(report)["PIP055"]["message"]
    fixed = {"POETRY_HTTP_BASIC_PRIVATE_USERNAME": USER,
             "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": PASSWORD}
    ok = run_client([*clients.poetry(), "lock"], proj, home, **fixed)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert hd(home, proj, **fixed)[0] == 0



def test_uv_credentials_in_the_index_url(pypi: PypiServer, tmp_path: Path) -> None:
    """`[[tool.uv.index]] url = "http://user:pass@host/simple"` with a stale
    password: the pyproject.toml line is named, the right one works."""
    home = tmp_path
    bad = f"http://{USER}:hd-stale-pass-4@{pypi.host}/simple"
    proj = uv_project(home, bad)
    assert run_client([*clients.uv(), "lock"], proj, home).returncode != 0
    rc, report, text = hd(home, proj)
    assert rc == 1, text
    refused = [f for f in report["findings"] if f["rule"] in ("PIP102", "PIP103")]
    assert refused and refused[0]["location"]["path"] == str(proj / "pyproject.toml"), text
    proj = uv_project(home, f"http://{USER}:{PASSWORD}@{pypi.host}/simple")
    assert run_client([*clients.uv(), "lock"], proj, home).returncode == 0
    rc, report, text = hd(home, proj)
    assert rc == 0, text


def test_poetry_variables_with_a_name_that_does_not_match(pypi: PypiServer,
                                                          tmp_path: Path) -> None:
    home = tmp_path
    proj = poetry_project(home, pypi.index)
    typo = {"POETRY_HTTP_BASIC_PRIVAT_USERNAME": USER,
            "POETRY_HTTP_BASIC_PRIVAT_PASSWORD": PASSWORD}
    assert run_client([*clients.poetry(), "lock"], proj, home, **typo).returncode != 0
    rc, report, text = hd(home, proj, **typo)
    assert rc == 1, text
    f = rules(report)["PIP055"]
    assert any("POETRY_HTTP_BASIC_PRIVAT_PASSWORD is set" in e for e in f["evidence"]), text
