"""macOS and Windows, simulated on Linux: ``Environment.platform`` is
injected, and each client's configuration is looked for where that client
computes it on that platform (pip's ``appdirs``, npm's global prefix,
Maven's ``user.home``, containers/image, Helm's ``lazypath``).  Then the
code paths that Windows lacks (``os.fchmod``, ``os.killpg``,
``os.O_NONBLOCK``, ``selectors`` on pipes) are checked to be guarded.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import ROOT, Result, _swapped_os_environ, isolated_environ

from hardoctor.cli import main
from hardoctor.env import Environment


def run(platform: str, argv: list[str], home: Path, environ: dict[str, str | None] | None = None
        ) -> Result:
    env_vars = isolated_environ(home, environ)
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdin=io.StringIO(""), environ=env_vars,
                      cwd=str(home), home=str(home), platform=platform)
    with _swapped_os_environ(env_vars):
        rc = main(list(argv), env=env)
    return Result(int(rc), out.getvalue(), err.getvalue())


def report(platform: str, home: Path, *argv: str,
           environ: dict[str, str | None] | None = None) -> dict[str, Any]:
    r = run(platform, ["check", "--offline", "--format", "json", *argv], home, environ)
    assert r.rc in (0, 1), str(r)
    data: dict[str, Any] = json.loads(r.out)
    return data


def source_paths(data: dict[str, Any], ecosystem: str) -> set[str]:
    return {s["path"] for s in data["sources"] if s["ecosystem"] == ecosystem and s.get("path")}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_environment_defaults_to_this_machine() -> None:
    import sys

    assert Environment().platform == sys.platform


# -- pip -----------------------------------------------------------------------------------------

PIP = "[global]\nindex-url = https://{host}/simple\n"


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def pip_hosts(data: dict[str, Any]) -> set[str]:
    return {r["host"] for r in data["resolutions"] if r["ecosystem"] == "pip"}


def test_pip_on_macos_prefers_application_support_when_it_exists(home: Path) -> None:
    support = write(home / "Library/Application Support/pip/pip.conf",
                    PIP.format(host="support.example.test"))
    dot = write(home / ".config/pip/pip.conf", PIP.format(host="dotconfig.example.test"))
    data = report("darwin", home, "--ecosystem", "pip")
    assert str(support) in source_paths(data, "pip")
    assert str(dot) not in source_paths(data, "pip")
    assert "support.example.test" in pip_hosts(data)

    # Without the directory pip falls back to ~/.config/pip (XDG_CONFIG_HOME is not read).
    (home / "Library/Application Support/pip/pip.conf").unlink()
    (home / "Library/Application Support/pip").rmdir()
    data = report("darwin", home, "--ecosystem", "pip",
                  environ={"XDG_CONFIG_HOME": str(home / "xdg")})
    assert str(dot) in source_paths(data, "pip")
    assert "dotconfig.example.test" in pip_hosts(data)


def test_pip_on_linux_ignores_application_support(home: Path) -> None:
    write(home / "Library/Application Support/pip/pip.conf", PIP.format(host="mac.example.test"))
    dot = write(home / ".config/pip/pip.conf", PIP.format(host="linux.example.test"))
    data = report("linux", home, "--ecosystem", "pip")
    assert source_paths(data, "pip") >= {str(dot)}
    assert "mac.example.test" not in pip_hosts(data)


def test_pip_on_windows_reads_appdata_pip_ini(home: Path, tmp_path: Path) -> None:
    appdata = tmp_path / "AppData-Roaming"
    ini = write(appdata / "pip/pip.ini", PIP.format(host="appdata.example.test"))
    legacy = write(home / "pip/pip.ini", PIP.format(host="legacy.example.test"))
    unix = write(home / ".config/pip/pip.conf", PIP.format(host="unix.example.test"))
    data = report("win32", home, "--ecosystem", "pip", environ={"APPDATA": str(appdata)})
    paths = source_paths(data, "pip")
    assert {str(ini), str(legacy)} <= paths and str(unix) not in paths
    assert "appdata.example.test" in pip_hosts(data)  # the later (new) file wins
    assert "unix.example.test" not in pip_hosts(data)


# -- npm, Maven -----------------------------------------------------------------------------------


def test_npm_on_windows_reads_the_appdata_global_npmrc(home: Path, tmp_path: Path) -> None:
    appdata = tmp_path / "AppData-Roaming"
    glob = write(appdata / "npm/etc/npmrc", "registry=https://npm-global.example.test/\n")
    user = write(home / ".npmrc", "//npm-user.example.test/:_authToken=hdfake-platform-npm-01\n")
    data = report("win32", home, "--ecosystem", "npm", environ={"APPDATA": str(appdata)})
    assert {str(glob), str(user)} <= source_paths(data, "npm")


def test_maven_on_windows_reads_userprofile_m2(home: Path) -> None:
    """Maven's ``user.home`` on Windows is %USERPROFILE% -- hardoctor's home
    there (``os.path.expanduser`` reads USERPROFILE)."""
    settings = write(home / ".m2/settings.xml",
                     "<settings><servers><server><id>corp</id><username>u</username>"
                     "<password>hdfake-platform-mvn-01</password></server></servers>"
                     "</settings>\n")
    data = report("win32", home, "--ecosystem", "maven", environ={"USERPROFILE": str(home)})
    assert str(settings) in source_paths(data, "maven")


# -- containers/image and Helm --------------------------------------------------------------------

AUTH = json.dumps({"auths": {"quay.example.test": {
    "auth": base64.b64encode(b"u:hdfake-platform-podman-01").decode()}}})


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_containers_auth_file_outside_linux(home: Path, platform: str) -> None:
    auth = write(home / ".config/containers/auth.json", AUTH)
    data = report(platform, home, "--ecosystem", "docker", "quay.example.test/app:1",
                  environ={"XDG_RUNTIME_DIR": str(home / "run"), "REGISTRY_AUTH_FILE": None})
    podman = next(r for r in data["resolutions"] if r["client"] == "podman")
    assert not any("/run" in s["description"] for s in podman["chain"]), podman["chain"]
    used = next(s for s in podman["chain"] if s["outcome"] == "used")
    assert used["location"]["path"] == str(auth)


@pytest.mark.parametrize(("platform", "where"), [
    ("darwin", "Library/Preferences/helm/registry/config.json"),
    ("win32", "AppData-Roaming/helm/registry/config.json"),
    ("linux", ".config/helm/registry/config.json"),
])
def test_helm_registry_config_per_platform(home: Path, tmp_path: Path, platform: str,
                                           where: str) -> None:
    base = tmp_path if where.startswith("AppData") else home
    path = write(base / where, AUTH)
    data = report(platform, home, "--ecosystem", "docker", "quay.example.test/app:1",
                  environ={"APPDATA": str(tmp_path / "AppData-Roaming")})
    assert str(path) in source_paths(data, "docker")


# -- Docker Desktop's helpers ---------------------------------------------------------------------


def finding(data: dict[str, Any], rule: str) -> dict[str, Any]:
    found = [f for f in data["findings"] if f["rule"] == rule]
    assert found, [f["rule"] for f in data["findings"]]
    return found[0]


def text_of(f: dict[str, Any]) -> str:
    rem = f.get("remediation") or {}
    return " ".join([f["message"], f["why"], rem.get("summary", ""), *rem.get("steps", []),
                     *rem.get("commands", [])])


def test_osxkeychain_on_linux_is_a_config_copied_from_a_mac(home: Path) -> None:
    write(home / ".docker/config.json", json.dumps({"credsStore": "osxkeychain"}))
    data = report("linux", home, "--ecosystem", "docker", "reg.example.test/app:1")
    text = text_of(finding(data, "DKR006"))
    assert "macOS" in text and "copied" in text and '"credsStore": "osxkeychain"' in text


def test_desktop_helper_missing_mentions_wsl_integration(home: Path) -> None:
    write(home / ".docker/config.json", json.dumps({"credsStore": "desktop"}))
    data = report("linux", home, "--ecosystem", "docker", "reg.example.test/app:1")
    text = text_of(finding(data, "DKR006"))
    assert "Docker Desktop" in text and "WSL integration" in text


def test_wincred_missing_on_windows_says_how_to_install(home: Path) -> None:
    write(home / ".docker/config.json", json.dumps({"credsStore": "wincred"}))
    data = report("win32", home, "--ecosystem", "docker", "reg.example.test/app:1")
    text = text_of(finding(data, "DKR006"))
    assert "Windows Credential Manager" in text and "docker-credential-wincred" in text


def test_locked_keychain_on_macos(home: Path, tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    helper = write(bindir / "docker-credential-osxkeychain",
                   "#!/bin/sh\necho 'User interaction is not allowed.'\nexit 1\n")
    helper.chmod(0o755)
    write(home / ".docker/config.json", json.dumps({"credHelpers": {
        "reg.example.test": "osxkeychain"}}))
    data = report("darwin", home, "--ecosystem", "docker", "reg.example.test/app:1",
                  environ={"PATH": f"{bindir}:{os.environ['PATH']}"})
    assert "security unlock-keychain" in text_of(finding(data, "DKR007"))


# -- portable code paths ---------------------------------------------------------------------------

#: POSIX-only names a module may use only behind a ``hasattr``/``getattr`` check.
POSIX_ONLY = {"fchmod", "killpg", "O_NONBLOCK", "getuid", "geteuid", "setsid", "fchown",
              "getpgid", "setpgid"}


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST], name: str) -> bool:
    cur: ast.AST | None = node
    while cur is not None:
        test = getattr(cur, "test", None)
        if isinstance(cur, (ast.If, ast.IfExp)) and test is not None and name in ast.unparse(test):
            return True
        cur = parents.get(cur)
    return False


def test_posix_only_calls_are_guarded() -> None:
    bad = []
    for base in ("src", "plugins"):
        for path in sorted((ROOT / base).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                        node.value.id == "os" and node.attr in POSIX_ONLY and \
                        not _guarded(node, parents, node.attr):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: os.{node.attr}")
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                    if "selectors" in names:
                        bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: selectors "
                                   "(cannot wait on pipes on Windows)")
    assert not bad, "\n".join(bad)


#: Modules Windows lacks: imported only inside a ``try``/``except ImportError``.
POSIX_MODULES = {"fcntl", "pwd", "grp", "termios", "resource", "tty"}
#: Attributes of other modules that Windows lacks.
POSIX_ATTRS = {("signal", "SIGKILL"), ("signal", "SIGHUP"), ("socket", "AF_UNIX")}


def test_posix_only_modules_and_constants_are_guarded() -> None:
    bad = []
    for base in ("src", "plugins"):
        for path in sorted((ROOT / base).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
            for node in ast.walk(tree):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = {a.name.split(".")[0] for a in node.names} if isinstance(
                        node, ast.Import) else {(node.module or "").split(".")[0]}
                    if names & POSIX_MODULES and not _in_try(node, parents):
                        bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: import {names}")
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                        (node.value.id, node.attr) in POSIX_ATTRS and \
                        not _guarded(node, parents, node.attr):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: "
                               f"{node.value.id}.{node.attr}")
    assert not bad, "\n".join(bad)


def _in_try(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    cur = parents.get(node)
    while cur is not None:
        if isinstance(cur, ast.Try) and any(
                "ImportError" in ast.unparse(h.type) for h in cur.handlers if h.type is not None):
            return True
        cur = parents.get(cur)
    return False


def test_helper_runner_without_killpg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Windows has no os.killpg: a hanging helper is still stopped in time."""
    from hardoctor_docker import helpers

    bindir = tmp_path / "bin"
    hang = write(bindir / "docker-credential-hdhang", "#!/bin/sh\nsleep 30\n")
    hang.chmod(0o755)
    big = write(bindir / "docker-credential-hdbig",
                "#!/bin/sh\nhead -c 600000 /dev/zero | tr '\\0' x\nsleep 30\n")
    big.chmod(0o755)
    monkeypatch.delattr(os, "killpg", raising=False)
    env = {"PATH": f"{bindir}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    t0 = time.monotonic()
    answer = helpers.helper_get("hdhang", "reg.example.test", env, timeout=1.0)
    assert answer.status == "timeout" and time.monotonic() - t0 < 10
    answer = helpers.helper_get("hdbig", "reg.example.test", env, timeout=5.0)
    assert answer.status == "failed" and "KiB" in answer.detail
