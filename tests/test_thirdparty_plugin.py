"""Third-party plugin loading, for real.

``tests/fixtures/plugin-dist`` is a tiny plugin distribution (hatchling,
entry point group ``hardoctor``).  This module builds a throw-away venv,
installs hardoctor from this checkout and the plugin into it with pip, and runs
that venv's own ``hardoctor`` console script.

Takes ~10 s: no download (``--system-site-packages`` reuses the installed
dependencies and pip; ``--no-build-isolation`` reuses hatchling when present).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from tests.helpers import (
    FIXTURES,
    ROOT,
    Result,
    assert_no_traceback,
    assert_valid_report,
    run_subprocess,
)

pytestmark = pytest.mark.slow

PLUGIN_DIST = FIXTURES / "plugin-dist"


def _pip_env() -> dict[str, str]:
    # pip keeps the machine's own configuration (index, find-links,
    # constraints); nothing from this test process leaks into the venv.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("thirdparty")
    dist = base / "plugin-dist"
    shutil.copytree(PLUGIN_DIST, dist, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__"))
    path = base / "venv"
    # --system-site-packages reuses the installed dependencies (pluggy, rich,
    # ...) and pip itself, so nothing is downloaded; --without-pip saves the
    # ensurepip step.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(path)],
                   check=True, timeout=120)
    python = path / "bin" / "python"
    # When this test itself runs in a venv (tox), --system-site-packages
    # reaches the *base* interpreter's packages, not ours: make our
    # site-packages (dependencies and pip) visible too, after the venv's own.
    venv_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, env={"PATH": os.environ.get("PATH", "")},
    ).stdout.strip()
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    Path(venv_site, "zz_parent_site.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    cmd = [str(python), "-m", "pip", "install", "--quiet", "--no-deps"]
    if importlib.util.find_spec("hatchling") is not None:
        cmd.append("--no-build-isolation")  # else pip fetches hatchling into an isolated build env
    # a regular (not editable) install: it also proves the wheel ships the core
    # and its built-in plugins; an editable one would need `editables`.
    cmd += [str(ROOT), str(dist)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_pip_env(), timeout=300, check=False)
    assert proc.returncode == 0, f"pip install failed:\n{proc.stdout}\n{proc.stderr}"
    assert (path / "bin" / "hardoctor").is_file()
    return path


@pytest.fixture
def acme_home(home: Path) -> Path:
    creds = home / ".acme" / "creds"
    creds.parent.mkdir()
    creds.write_text("[default]\ntoken = acme_live_0123456789abcdef\n", encoding="utf-8")
    return home


def hd(venv: Path, argv: list[str], home: Path, **environ: str) -> Result:
    r = run_subprocess(argv, home=home, autoload=True, environ=environ or None,
                       executable=[str(venv / "bin" / "hardoctor")])
    assert_no_traceback(r)
    return r


def test_the_plugin_is_only_in_the_venv(venv: Path) -> None:
    assert importlib.util.find_spec("hardoctor_acme") is None
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import sys, hardoctor, hardoctor_acme, hardoctor_docker\n"
         "print(sys.prefix)\n"
         "for m in (hardoctor, hardoctor_docker, hardoctor_acme): print(m.__file__)"],
        capture_output=True, text=True, check=True, env={"PATH": os.environ.get("PATH", "")},
    ).stdout.splitlines()
    assert Path(out[0]) == venv
    # the venv runs its own installed copy (the wheel ships core and built-ins)
    for module_file in out[1:]:
        assert Path(module_file).is_relative_to(venv), module_file


def test_rules_show_the_plugin_rule(venv: Path, home: Path) -> None:
    r = hd(venv, ["rules"], home)
    assert r.rc == 0, str(r)
    row = next(line for line in r.out.splitlines() if line.startswith("ACM001 "))
    assert "acme-plaintext-token" in row and "warning" in row
    assert row.split()[4] == "acme"  # the PLUGIN column
    r = hd(venv, ["rules", "--format", "json"], home)
    rule = next(x for x in json.loads(r.out) if x["code"] == "ACM001")
    assert rule["plugin"] == "acme" and rule["cause"] == "insecure-storage"
    r = hd(venv, ["explain", "ACM001"], home)
    assert r.rc == 0 and r.out.startswith("ACM001 acme-plaintext-token\n"), str(r)


def test_plugins_show_distribution_and_version(venv: Path, home: Path) -> None:
    r = hd(venv, ["plugins"], home)
    assert r.rc == 0, str(r)
    lines = r.out.splitlines()
    i = lines.index("acme 1.2.3 (from hardoctor-acme)")
    assert lines[i + 1].strip() == "hooks: discover, lint, register_rules"
    assert lines[i + 2].strip() == "rules: ACM001"
    data = json.loads(hd(venv, ["plugins", "--format", "json"], home).out)
    acme = next(p for p in data["plugins"] if p["name"] == "acme")
    assert acme == {
        "name": "acme",
        "version": "1.2.3",
        "builtin": False,
        "distribution": "hardoctor-acme",
        "module": "hardoctor_acme",
        "hooks": ["hardoctor_discover", "hardoctor_lint", "hardoctor_register_rules"],
        "rules": ["ACM001"],
    }
    assert data["problems"] == []


def test_check_reports_the_plugin_finding(venv: Path, acme_home: Path) -> None:
    r = hd(venv, ["check", "--offline", "--format", "json"], acme_home)
    assert r.rc == 0, str(r)  # a warning: below the default --fail-on error
    report = assert_valid_report(r.out)
    found = [f for f in report["findings"] if f["rule"] == "ACM001"]
    assert len(found) == 1, report["findings"]
    f = found[0]
    assert f["severity"] == "warning" and f["cause"] == "insecure-storage"
    assert f["location"]["path"] == str(acme_home / ".acme" / "creds")
    assert f["location"]["line"] == 2
    assert f["remediation"]["commands"] == ["acme login --helper"]
    assert any(s["ecosystem"] == "acme" for s in report["sources"])

    r = hd(venv, ["check", "--offline", "--fail-on", "warning"], acme_home)
    assert r.rc == 1, str(r)
    assert "ACM001 acme-plaintext-token" in r.out
    assert "~/.acme/creds:2" in r.out


def test_autoload_off_and_disable_hide_the_plugin(venv: Path, acme_home: Path) -> None:
    for environ, argv in (
        ({"HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1"}, []),
        ({"HARDOCTOR_DISABLE_PLUGINS": "acme"}, []),
        ({}, ["--disable-plugin", "acme"]),
    ):
        r = hd(venv, ["check", "--offline", "--format", "json", *argv], acme_home, **environ)
        assert r.rc == 0, str(r)
        report = assert_valid_report(r.out)
        assert "ACM001" not in {f["rule"] for f in report["findings"]}
        r = hd(venv, ["rules", *argv], acme_home, **environ)
        assert "ACM001" not in r.out
        r = hd(venv, ["plugins", *argv], acme_home, **environ)
        assert "hardoctor-acme" not in r.out
