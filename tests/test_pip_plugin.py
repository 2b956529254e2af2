"""The pip plugin over real fixture files (offline): every lint rule with its
cause and line, pip's precedence, the credential chain of pip, uv and
Poetry, the keyring, and fixes with undo."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, copy_fixture, run_cli

#: What every test gives hardoctor: no /etc/pip.conf, no /etc/xdg, a clean HOME.
BASE_ENV = {"HARDOCTOR_PIP_ETC_CONFIG": ""}


def _prepare(name: str, home: Path) -> dict[str, str]:
    copy_fixture(name, home)
    for path in home.rglob("*"):
        if path.is_file() and path.parent.name == "bin":
            path.chmod(0o755)
        elif path.is_file():
            path.chmod(0o600)  # git does not keep modes; PIP012/PIP030 are tested on their own
    env = dict(BASE_ENV, XDG_CONFIG_DIRS=str(home / "xdg"))
    if (home / "bin").is_dir():
        env["PATH"] = f"{home / 'bin'}:{os.environ.get('PATH', os.defpath)}"
    return env


def check_json(home: Path, *args: str, environ: dict[str, str] | None = None,
               offline: bool = True) -> dict:
    argv = ["check", "--format", "json", "--no-token-api", "--ecosystem", "pip"]
    if offline:
        argv.append("--offline")
    res = run_cli([*argv, *args], home=home, environ=environ)
    assert res.rc in (0, 1), res
    assert "Traceback" not in res.err
    report = assert_valid_report(res.out)
    assert not [f for f in report["findings"] if f["rule"] == "HD002"], report["findings"]
    return report


def findings(report: dict, rule: str) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == rule]


def resolution(report: dict, client: str = "pip") -> dict:
    found = [r for r in report["resolutions"] if r["client"] == client]
    assert found, f"no {client} resolution in {report['resolutions']}"
    return found[0]


CASES = [
    # fixture, extra env, rule, severity, cause, file suffix, line
    ("pip-conf-invalid", {}, "PIP001", "error", "config-invalid", "pip.conf", 1),
    ("pip-duplicate-section", {}, "PIP001", "error", "config-invalid", "pip.conf", 4),
    ("pip-inline-comment", {}, "PIP002", "error", "config-invalid", "pip.conf", 2),
    ("pip-userinfo-at", {}, "PIP010", "warning", "config-invalid", "pip.conf", 2),
    ("pip-userinfo-slash", {}, "PIP010", "error", "config-invalid", "pip.conf", 3),
    ("pip-token-username", {}, "PIP011", "error", "token-malformed", "pip.conf", 2),
    ("pip-requirements-env", {}, "PIP015", "error", "env-unset", "requirements.txt", 2),
    ("pip-requirements-env", {}, "PIP016", "error", "env-unset", "requirements.txt", 3),
    ("pip-requirements-invalid", {}, "PIP006", "error", "config-invalid", "requirements.txt", 2),
    ("pip-dependency-confusion", {}, "PIP020", "warning", "insecure-storage", "pip.conf", 3),
    ("pip-http-index", {}, "PIP021", "error", "wrong-url", "pip.conf", 2),
    ("pip-http-index", {}, "PIP022", "warning", "insecure-storage", "pip.conf", 3),
    ("pip-har-no-simple", {}, "PIP023", "error", "wrong-url", "pip.conf", 2),
    ("pip-netrc-default", {}, "PIP031", "warning", "insecure-storage", ".netrc", 3),
    ("pip-netrc-invalid", {}, "PIP032", "error", "config-invalid", ".netrc", 3),
    ("pip-netrc-port", {}, "PIP033", "error", "credential-not-matched", ".netrc", 2),
    ("pip-netrc-duplicate", {}, "PIP034", "warning", "credential-shadowed", ".netrc", 2),
    ("pip-userinfo-at", {}, "PIP014", "info", None, "pip.conf", 2),
    ("pip-uv-invalid", {}, "PIP050", "error", "config-invalid", "uv.toml", 3),
    ("pip-uv", {}, "PIP052", "warning", "credential-not-matched", "pip.conf", 2),
    ("pip-poetry", {}, "PIP053", "warning", "credential-not-matched", "auth.toml", 1),
    ("pip-poetry", {}, "PIP020", "warning", "insecure-storage", "pyproject.toml", 7),
    ("pip-har-anonymous", {}, "PIP054", "warning", "no-credentials", "pip.conf", 2),
    ("pip-precedence", {}, "PIP005", "warning", "credential-shadowed", "pip.conf", 2),
]


@pytest.mark.parametrize(("fixture", "env", "rule", "severity", "cause", "suffix", "line"), CASES)
def test_rule_fires_with_cause_and_line(home, fixture, env, rule, severity, cause, suffix, line):
    environ = {**_prepare(fixture, home), **env}
    report = check_json(home, environ=environ)
    hits = findings(report, rule)
    assert hits, f"{rule} not reported; got {[(f['rule'], f['message']) for f in report['findings']]}"
    f = hits[0]
    assert f["severity"] == severity, f
    assert f["cause"] == cause, f
    assert f["location"]["path"].endswith(suffix), f
    assert f["location"]["line"] == line, f
    assert f["ecosystem"] == "pip"
    if f["severity"] in ("error", "warning"):
        assert f["cause"] is not None


def test_good_config_is_clean_and_resolves_through_netrc(home):
    env = _prepare("pip-good", home)
    report = check_json(home, environ=env)
    assert report["findings"] == [], report["findings"]
    res = resolution(report)
    assert res["target"] == "https://pypi.example.test/simple"
    outcomes = [(s["description"], s["outcome"]) for s in res["chain"]]
    assert outcomes[0] == ("[global] index-url", "missing")
    assert ("netrc machine pypi.example.test", "used") in outcomes
    cred = next(c for c in report["credentials"] if c["id"] == res["credential"])
    assert cred["username"] == "dev@example.test"
    assert cred["location"]["path"].endswith(".netrc") and cred["location"]["line"] == 1
    assert cred["registry"] == "pypi.example.test"


def test_text_report_names_cause_and_line(home):
    env = _prepare("pip-inline-comment", home)
    res = run_cli(["check", "--offline", "--ecosystem", "pip"], home=home, environ=env)
    assert res.rc == 1, res
    assert "PIP002" in res.out and "~/.config/pip/pip.conf:2" in res.out


# -- precedence -------------------------------------------------------------------------


def test_install_section_beats_global_in_any_file(home):
    env = _prepare("pip-precedence", home)
    report = check_json(home, environ=env)
    res = resolution(report)
    # [install] in the *global* file beats [global] in the user files.
    assert res["target"] == "https://system.example.test/simple"
    over = findings(report, "PIP005")
    assert {f["location"]["path"].split("/home/")[-1] for f in over} >= {".config/pip/pip.conf",
                                                                         ".pip/pip.conf"}


def test_env_var_beats_files_and_extra_is_whitespace_separated(home):
    env = _prepare("pip-good", home)
    env["PIP_INDEX_URL"] = "https://env.example.test/simple"
    env["PIP_EXTRA_INDEX_URL"] = "https://a.example.test/simple  https://b.example.test/simple"
    report = check_json(home, environ=env)
    targets = {r["target"] for r in report["resolutions"] if r["client"] == "pip"}
    assert targets == {"https://env.example.test/simple", "https://a.example.test/simple",
                       "https://b.example.test/simple"}
    (f,) = findings(report, "PIP005")
    assert f["location"]["path"].endswith("pip.conf") and "$PIP_INDEX_URL" in f["message"]


def test_pip_config_file_devnull_reads_no_file(home):
    env = _prepare("pip-good", home)
    env["PIP_CONFIG_FILE"] = os.devnull
    report = check_json(home, environ=env)
    assert not [r for r in report["resolutions"] if "pypi.example.test/simple" in r["target"]]
    (f,) = findings(report, "PIP004")
    assert f["cause"] == "credential-shadowed" and f["location"]["line"] == 2


def test_existing_pip_config_file_skips_user_files(home):
    env = _prepare("pip-good", home)
    other = home / "ci-pip.conf"
    other.write_text("[global]\ntimeout = 10\n")
    env["PIP_CONFIG_FILE"] = str(other)
    report = check_json(home, environ=env)
    (f,) = findings(report, "PIP004")
    assert "per-user" in f["message"]


def test_missing_pip_config_file(home):
    env = _prepare("pip-good", home)
    env["PIP_CONFIG_FILE"] = str(home / "nope.conf")
    report = check_json(home, environ=env)
    (f,) = findings(report, "PIP003")
    assert f["cause"] == "config-invalid"
    # pip then still reads the user file.
    assert resolution(report)["target"] == "https://pypi.example.test/simple"


def test_xdg_config_dirs_is_the_global_location(home):
    env = _prepare("pip-good", home)
    (home / "sys1" / "pip").mkdir(parents=True)
    (home / "sys1" / "pip" / "pip.conf").write_text("[global]\nextra-index-url = https://sys.example.test/simple\n")
    env["XDG_CONFIG_DIRS"] = f"{home / 'nothing'}:{home / 'sys1'}"
    report = check_json(home, environ=env)
    assert any(s["path"] and s["path"].endswith("sys1/pip/pip.conf") for s in report["sources"])
    assert any(r["target"] == "https://sys.example.test/simple" for r in report["resolutions"])


def test_virtualenv_site_file(home):
    env = _prepare("pip-good", home)
    venv = home / "venv"
    venv.mkdir()
    (venv / "pip.conf").write_text("[global]\nindex-url = https://venv.example.test/simple\n")
    env["VIRTUAL_ENV"] = str(venv)
    report = check_json(home, environ=env)
    assert resolution(report)["target"] == "https://venv.example.test/simple"


def test_netrc_env_and_port_stripping(home):
    env = _prepare("pip-netrc-port", home)
    report = check_json(home, environ=env)
    res = resolution(report)
    assert res["credential"] is None
    (f,) = findings(report, "PIP033")
    assert f["fix"]["applicability"] == "safe"
    env["NETRC"] = str(home / "missing-netrc")
    report = check_json(home, environ=env)
    (f,) = findings(report, "PIP036")
    assert f["cause"] == "config-invalid"


def fake_venv(root: Path, pip_version: str) -> dict[str, str]:
    """A venv whose pip has ``pip_version`` (what hardoctor reads to learn it)."""
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "python").write_text("")
    (root / "bin" / "pip").write_text(f"#!{root / 'bin' / 'python'}\n")
    (root / "lib" / "python3.11" / "site-packages" / f"pip-{pip_version}.dist-info").mkdir(parents=True)
    return {"VIRTUAL_ENV": str(root)}


def test_username_only_url_sends_empty_password(home, tmp_path):
    env = _prepare("pip-username-netrc", home)
    env.update(fake_venv(tmp_path / "venv24", "24.0"))
    report = check_json(home, environ=env)
    res = resolution(report)
    steps = {s["description"]: s for s in res["chain"]}
    netrc = next(s for d, s in steps.items() if d.startswith("netrc"))
    assert netrc["outcome"] == "missing" and "dev%40example.test@pypi.example.test" in netrc["reason"]
    assert steps["username only"]["outcome"] == "used"
    assert findings(report, "PIP035")[0]["severity"] == "error"


def test_username_only_url_finds_netrc_with_current_pip(home, tmp_path):
    env = _prepare("pip-username-netrc", home)
    env.update(fake_venv(tmp_path / "venv26", "26.3"))
    report = check_json(home, environ=env)
    assert not findings(report, "PIP035")
    assert any(s["description"] == "netrc machine pypi.example.test" and s["outcome"] == "used"
               for s in resolution(report)["chain"])
    # Unknown pip: a warning that names the version boundary.
    env = _prepare("pip-username-netrc", home)
    env["PATH"] = str(tmp_path / "empty-path")
    report = check_json(home, environ=env)
    (f,) = findings(report, "PIP035")
    assert f["severity"] == "warning" and "25.2" in f["message"]


def test_keyring_step_depends_on_no_input(home, tmp_path):
    env = _prepare("pip-har-anonymous", home)
    report = check_json(home, environ=env)
    kr = next(s for s in resolution(report)["chain"] if s["description"].startswith("keyring"))
    assert kr["outcome"] == "skipped" and "after a 401" in kr["reason"]
    env["PIP_NO_INPUT"] = "1"
    report = check_json(home, environ=env)
    kr = next(s for s in resolution(report)["chain"] if s["description"].startswith("keyring"))
    assert "--no-input" in kr["reason"]


def test_keyring_note_for_ci(home):
    env = _prepare("pip-har-anonymous", home)
    env.update(_fake_keyring(home, "hd-fixture-keyring-password"))
    env["PIP_NO_INPUT"] = "1"
    report = check_json(home, environ=env)
    (f,) = findings(report, "PIP040")
    assert f["severity"] == "info" and "--no-input" in f["message"]
    assert "pip config set global.keyring-provider subprocess" in f["remediation"]["commands"]
    assert not (home / "keyring.log").exists()


def _fake_keyring(home: Path, password: str) -> dict[str, str]:
    bindir = home / "bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / "keyring"
    log = home / "keyring.log"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {log}\n'
        'if [ "$1" = get ] && [ "$3" = dev@example.test ]; then\n'
        f"  printf '%s\\n' '{password}'; exit 0\n"
        "fi\nexit 1\n"
    )
    script.chmod(0o755)
    return {"PATH": f"{bindir}:{os.environ.get('PATH', os.defpath)}"}


def test_keyring_is_read_only_with_the_option(home):
    env = _prepare("pip-good", home)
    (home / ".netrc").unlink()
    (home / ".config" / "pip" / "pip.conf").write_text(
        "[global]\nindex-url = https://dev%40example.test@pypi.example.test/simple\n")
    env.update(_fake_keyring(home, "hdcanary-keyring-0031"))
    report = check_json(home, environ=env)
    assert not (home / "keyring.log").exists(), "the keyring was asked without --keyring"
    kr = next(s for s in resolution(report)["chain"] if s["description"].startswith("keyring"))
    assert kr["outcome"] == "skipped" and "--keyring" in kr["reason"]
    res = run_cli(["check", "--offline", "--format", "json", "--ecosystem", "pip", "--keyring"],
                  home=home, environ=env)
    report = assert_valid_report(res.out)
    assert "hdcanary-keyring-0031" not in res.out + res.err
    kr = next(s for s in resolution(report)["chain"] if s["description"].startswith("keyring"))
    assert kr["outcome"] == "used", kr
    assert (home / "keyring.log").read_text().splitlines()[0] == \
        "get https://pypi.example.test/simple dev@example.test"


# -- uv and Poetry ------------------------------------------------------------------


def test_uv_env_credentials_win_over_url(home):
    env = _prepare("pip-uv-index", home)
    env["UV_INDEX_HAR_PY_USERNAME"] = "envuser"
    env["UV_INDEX_HAR_PY_PASSWORD"] = "hd-fixture-uvenv-password"
    report = check_json(home, environ=env)
    res = resolution(report, "uv")
    chain = [(s["description"], s["outcome"]) for s in res["chain"]]
    assert chain[0] == ("$UV_INDEX_HAR_PY_USERNAME/_PASSWORD", "used")
    assert ("[[tool.uv.index]] har-py userinfo", "lost") in chain
    cred = next(c for c in report["credentials"] if c["id"] == res["credential"])
    assert cred["username"] == "envuser"
    url_cred = next(c for c in report["credentials"] if c["source"].endswith("pyproject.toml"))
    assert url_cred["location"]["line"] == 10


def test_uv_env_credentials_for_unknown_name(home):
    env = _prepare("pip-uv-index", home)
    env["UV_INDEX_HARPY_PASSWORD"] = "hd-fixture-uvenv-password"
    report = check_json(home, environ=env)
    (f,) = findings(report, "PIP051")
    assert "UV_INDEX_HAR_PY_*" in f["message"]


def test_uv_reads_user_config_and_uv_default_index(home):
    env = _prepare("pip-uv", home)
    env["UV_DEFAULT_INDEX"] = "https://uvdefault.example.test/simple"
    report = check_json(home, environ=env)
    assert resolution(report, "uv")["target"] == "https://uvdefault.example.test/simple"
    assert not findings(report, "PIP052")


def test_poetry_credentials_by_source_name(home):
    env = _prepare("pip-poetry-good", home)
    report = check_json(home, environ=env)
    res = resolution(report, "poetry")
    assert res["chain"][0]["description"] == "http-basic.har-py"
    assert res["chain"][0]["outcome"] == "used"
    cred = next(c for c in report["credentials"] if c["id"] == res["credential"])
    assert cred["location"]["path"].endswith("auth.toml") and cred["location"]["line"] == 3
    assert cred["registry"] == "https://pypi.example.test/simple"
    assert not findings(report, "PIP020")  # a primary source turns PyPI off


def test_poetry_env_overrides_auth_toml_keys(home):
    env = _prepare("pip-poetry-good", home)
    env["POETRY_HTTP_BASIC_HAR_PY_USERNAME"] = "from-env"
    report = check_json(home, environ=env)
    res = resolution(report, "poetry")
    cred = next(c for c in report["credentials"] if c["id"] == res["credential"])
    assert cred["username"] == "from-env"


# -- HAR: what the harness plugin reports for pip's URLs ------------------------------------


def test_harness_findings_for_pip_urls(home):
    env = _prepare("pip-har-pypi", home)
    report = check_json(home, environ=env)
    (f,) = findings(report, "HAR203")
    assert f["location"]["path"].endswith("pip.conf") and f["location"]["line"] == 2
    env = _prepare("pip-har-account-mismatch", home)
    report = check_json(home, environ=env)
    (f,) = findings(report, "HAR105")
    assert f["cause"] == "account-mismatch"


def test_har_path_fix_through_fix_hook(home):
    env = _prepare("pip-har-pypi", home)
    conf = home / ".config" / "pip" / "pip.conf"
    res = run_cli(["fix", "--offline", "--apply", "--no-token-api", "--only", "HAR203"],
                  home=home, environ=env)
    assert res.rc == 0, res
    assert "/pkg/AcmeX1/py-prod/python/simple/" in conf.read_text()
    assert "dev%40example.test:pat.AcmeX1.fixtok04." in conf.read_text()
    assert not findings(check_json(home, environ=env), "HAR203")


# -- fixes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("fixture", "rule", "expect"), [
    ("pip-inline-comment", "PIP002", "# the company index\nindex-url = https://pypi.example.test/simple\n"),
    ("pip-userinfo-at", "PIP010", "https://dev%40example.test:hd-fixture-at-password@pypi"),
    ("pip-userinfo-slash", "PIP010", "https://dev:hd-fixture%2Fslash-password@pypi"),
    ("pip-har-no-simple", "PIP023", "/pkg/AcmeX1/py-prod/python/simple\n"),
    ("pip-netrc-port", "PIP033", "machine pypi.example.test\n"),
])
def test_safe_fix_applies_converges_and_undoes(home, fixture, rule, expect):
    env = _prepare(fixture, home)
    files = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}
    report = check_json(home, environ=env)
    (f,) = findings(report, rule)
    assert f["fix"]["available"] and f["fix"]["applicability"] == "safe"
    res = run_cli(["fix", "--offline", "--apply", "--no-token-api"], home=home, environ=env)
    assert res.rc == 0, res
    changed = [p for p, data in files.items() if p.read_bytes() != data]
    assert changed and any(expect in p.read_text() for p in changed), [p.read_text() for p in changed]
    assert not findings(check_json(home, environ=env), rule)
    again = run_cli(["fix", "--offline", "--no-token-api"], home=home, environ=env)
    assert "Nothing to fix." in again.out
    undo = run_cli(["fix", "--undo"], home=home, environ=env)
    assert undo.rc == 0, undo
    assert all(p.read_bytes() == data for p, data in files.items())


def test_permission_fixes(home):
    env = _prepare("pip-userinfo-at", home)
    conf = home / ".config" / "pip" / "pip.conf"
    (home / ".netrc").write_text("machine other.example.test login a password hd-fixture-x-password\n")
    conf.chmod(0o644)
    (home / ".netrc").chmod(0o640)
    report = check_json(home, environ=env)
    (f,) = findings(report, "PIP012")
    assert f["cause"] == "insecure-storage" and f["fix"]["applicability"] == "safe"
    (g,) = findings(report, "PIP030")
    assert g["fix"]["applicability"] == "safe"
    assert run_cli(["fix", "--offline", "--apply", "--only", "PIP012", "--only", "PIP030"],
                   home=home, environ=env).rc == 0
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / ".netrc").stat().st_mode) == 0o600


def test_unsafe_move_to_netrc(home):
    env = _prepare("pip-userinfo-at", home)
    netrc = home / ".netrc"
    netrc.write_text("machine other.example.test login a password hd-fixture-x-password")  # no final newline
    netrc.chmod(0o600)
    report = check_json(home, environ=env)
    (f,) = findings(report, "PIP014")
    assert f["fix"]["applicability"] == "unsafe"
    assert any("keyring set" in c for c in f["remediation"]["commands"])
    safe_only = run_cli(["fix", "--offline", "--apply", "--only", "PIP014"], home=home, environ=env)
    assert "unsafe fix" in safe_only.out
    res = run_cli(["fix", "--offline", "--apply", "--unsafe", "--only", "PIP014"], home=home,
                  environ=env)
    assert res.rc == 0, res
    assert "hd-fixture-at-password" not in res.out
    conf = (home / ".config" / "pip" / "pip.conf").read_text()
    assert conf == "[global]\nindex-url = https://pypi.example.test/simple\n"
    text = netrc.read_text()
    assert text.startswith("machine other.example.test login a password hd-fixture-x-password\n")
    assert "machine pypi.example.test\n  login dev@example.test\n  password hd-fixture-at-password\n" in text
    report = check_json(home, environ=env)
    res_ = resolution(report)
    assert any(s["description"] == "netrc machine pypi.example.test" and s["outcome"] == "used"
               for s in res_["chain"])


def test_move_to_netrc_needs_an_existing_netrc(home):
    from hardoctor import fixes

    env = _prepare("pip-userinfo-at", home)
    report = check_json(home, environ=env)
    (f,) = findings(report, "PIP014")
    if getattr(fixes, "ABSENT", None) is None:
        # The core cannot create files yet: no fix, but the remediation says how.
        assert f["fix"]["available"] is False
        assert any(".netrc" in c for c in f["remediation"]["commands"])


def test_token_in_username_fix_is_unsafe(home):
    env = _prepare("pip-token-username", home)
    conf = home / ".config" / "pip" / "pip.conf"
    report = check_json(home, environ=env)
    (f,) = findings(report, "PIP011")
    assert f["fix"]["applicability"] == "unsafe"
    assert "pat.AcmeX1.fixtok01" not in str(report)
    assert run_cli(["fix", "--offline", "--apply", "--unsafe", "--only", "PIP011"], home=home,
                   environ=env).rc == 0
    assert "https://harness:pat.AcmeX1.fixtok01.hdFixtureSecret0000000001@pkg.harness.io" in conf.read_text()
    assert not findings(check_json(home, environ=env), "PIP011")


def test_username_defeating_netrc_fix(home, tmp_path):
    env = _prepare("pip-username-netrc", home)
    env.update(fake_venv(tmp_path / "venv24", "24.0"))
    assert run_cli(["fix", "--offline", "--apply", "--unsafe", "--only", "PIP035"], home=home,
                   environ=env).rc == 0
    report = check_json(home, environ=env)
    assert not findings(report, "PIP035")
    assert any(s["outcome"] == "used" and s["description"].startswith("netrc")
               for s in resolution(report)["chain"])


# -- committed files -----------------------------------------------------------------


def _git(cwd: Path, *args: str) -> None:
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(cwd), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.test", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.test"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=30)


def test_committed_requirements_with_password(home, tmp_path):
    if subprocess.run(["git", "--version"], capture_output=True).returncode != 0:  # pragma: no cover
        pytest.skip("git not installed")
    env = _prepare("pip-good", home)
    project = tmp_path / "proj"
    project.mkdir()
    req = project / "requirements.txt"
    req.write_text("--index-url https://dev:hd-fixture-committed-password@pypi.example.test/simple\n"
                   "hdtestpkg\n")
    untracked = project / "requirements-dev.txt"
    untracked.write_text("--extra-index-url https://dev:hd-fixture-local-password@dev.example.test/simple\n")
    _git(project, "init", "-q")
    _git(project, "add", "requirements.txt")
    _git(project, "commit", "-q", "-m", "x")
    report = check_json(home, "--project", str(project), environ=env)
    (f,) = findings(report, "PIP013")
    assert f["location"]["path"] == str(req) and f["location"]["line"] == 1
    assert f["cause"] == "insecure-storage"
    assert any("${INDEX_USER}" in s for s in f["remediation"]["steps"])
    local = findings(report, "PIP014")
    assert [g["location"]["path"] for g in local] == [str(untracked)]
    res = [r for r in report["resolutions"] if r["client"] == "pip -r requirements.txt"]
    assert res and res[0]["target"] == "https://pypi.example.test/simple"


def test_requirements_env_expansion_resolves(home):
    env = _prepare("pip-requirements-env", home)
    env["HD_FIXTURE_TOKEN"] = "hd-fixture-env-token-value"
    report = check_json(home, environ=env)
    assert not findings(report, "PIP015")
    assert not findings(report, "PIP013") and not findings(report, "PIP014")
    res = next(r for r in report["resolutions"] if r["client"] == "pip -r requirements.txt")
    assert res["chain"][0]["outcome"] == "used"
