"""The user's story with the real pnpm 12 and Yarn Berry 4 against a real
verdaccio: the client fails, hardoctor names why at file:line, the fix is
applied, the same client succeeds -- and npm, which the project does not
use, is shown but never judged.

Clients: scripts/install-clients-deps.sh (pnpm 12.23.0, @yarnpkg/cli-dist
4.18.1); server: scripts/install-npm-deps.sh (verdaccio).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers import MissingBinaryError, clients, server_missing
from tests.servers.util import clean_env
from tests.servers.verdaccio import Verdaccio, verdaccio_entry

pytestmark = pytest.mark.live

USER = "dev"
PASSWORD = "hd-clients-Node-pass-5"


@pytest.fixture(scope="module")
def registry() -> Iterator[tuple[Verdaccio, str]]:
    try:
        verdaccio_entry()
        clients.pnpm()
        clients.yarn()
    except MissingBinaryError as exc:
        server_missing(str(exc))
    with Verdaccio() as reg:
        token = reg.add_user(USER, PASSWORD)
        reg.publish("hdpkg", "1.0.0", token)
        yield reg, token


def project(home: Path, manager: str) -> Path:
    """A project that says which client it uses: ``packageManager`` for
    Yarn; for pnpm its pnpm-workspace.yaml (a ``packageManager: pnpm@...``
    makes pnpm 12 fetch its own binary from the public registry)."""
    proj = home / "app"
    proj.mkdir(exist_ok=True)
    pkg: dict[str, object] = {"name": "app", "version": "1.0.0",
                              "dependencies": {"hdpkg": "1.0.0"}}
    if manager.startswith("pnpm"):
        (proj / "pnpm-workspace.yaml").write_text("minimumReleaseAge: 0\n")
    else:
        pkg["packageManager"] = manager
    (proj / "package.json").write_text(json.dumps(pkg))
    return proj


def node_env(home: Path, **extra: str) -> dict[str, str]:
    return clean_env({
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"), "XDG_CACHE_HOME": str(home / ".cache"),
        "npm_config_update_notifier": "false", "YARN_ENABLE_TELEMETRY": "0",
        "YARN_ENABLE_GLOBAL_CACHE": "false", "YARN_CACHE_FOLDER": str(home / "ycache"),
        "YARN_GLOBAL_FOLDER": str(home / "yglobal"), "YARN_ENABLE_IMMUTABLE_INSTALLS": "false",
        **extra})


def install(argv: list[str], proj: Path, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    for d in (proj / "node_modules", home / ".cache", home / ".local", home / "ycache",
              home / "yglobal"):
        shutil.rmtree(d, ignore_errors=True)
    for f in ("pnpm-lock.yaml", "yarn.lock"):
        (proj / f).unlink(missing_ok=True)
    return subprocess.run(argv, cwd=proj, env=node_env(home, **extra), capture_output=True,
                          text=True, timeout=180, check=False)


def pnpm_install(proj: Path, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return install([*clients.pnpm(), "install"], proj, home, **extra)


def yarn_install(proj: Path, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return install([*clients.yarn(), "install"], proj, home, **extra)


def hd(home: Path, proj: Path, token: str, *args: str, **extra: str) -> tuple[int, dict, str]:
    env = {"npm_config_globalconfig": str(home / "no-global-npmrc"), **extra}
    res = run_cli(["check", "--project", str(proj), *args, "--format", "json"], home=home,
                  cwd=proj, environ=env)
    text = run_cli(["check", "--project", str(proj), *args, "--no-color"], home=home, cwd=proj,
                   environ=env)
    for out in (res.out, res.err, text.out, text.err):
        assert token not in out and PASSWORD not in out
    assert "Traceback" not in res.err
    return res.rc, assert_valid_report(res.out), text.out


def rules(report: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in report["findings"]}


def judged(report: dict) -> set[str]:
    return {r["client"] for r in report["resolutions"] if r["judged"]}


# -- pnpm 12 ---------------------------------------------------------------------


def test_pnpm_ignores_env_credentials_in_the_project_npmrc(registry, tmp_path: Path) -> None:
    reg, token = registry
    home = tmp_path
    proj = project(home, "pnpm@12.23.0")
    npmrc = proj / ".npmrc"
    npmrc.write_text(f"registry={reg.url}\n//{reg.host}/:_authToken=${{NPM_TOKEN}}\n")
    failed = pnpm_install(proj, home, NPM_TOKEN=token)
    assert failed.returncode != 0 and "ERR_PNPM_FETCH_401" in failed.stdout + failed.stderr

    rc, report, text = hd(home, proj, token, NPM_TOKEN=token)
    assert rc == 1, text
    f = rules(report)["NPM024"]
    assert f["location"]["path"] == str(npmrc) and f["location"]["line"] == 2
    assert judged(report) == {"pnpm"}

    # The fix hardoctor prints: the line goes to ~/.npmrc, where pnpm expands it.
    npmrc.write_text(f"registry={reg.url}\n")
    (home / ".npmrc").write_text(f"//{reg.host}/:_authToken=${{NPM_TOKEN}}\n")
    ok = pnpm_install(proj, home, NPM_TOKEN=token)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rc, report, text = hd(home, proj, token, NPM_TOKEN=token)
    assert rc == 0, text


def test_pnpm_key_without_trailing_slash_works(registry, tmp_path: Path) -> None:
    """pnpm 12 sends `//host:port:_authToken` (no slash): not an error."""
    reg, token = registry
    home = tmp_path
    proj = project(home, "pnpm@12.23.0")
    (proj / ".npmrc").write_text(f"registry={reg.url}\n//{reg.host}:_authToken={token}\n")
    ok = pnpm_install(proj, home)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rc, report, text = hd(home, proj, token)
    assert rc == 0, text
    assert all(f["severity"] != "error" for f in report["findings"]), text
    # A wrong token with the same key: the real failure is named.
    (proj / ".npmrc").write_text(f"registry={reg.url}\n//{reg.host}:_authToken=hd-bogus-token\n")
    assert pnpm_install(proj, home).returncode != 0
    rc, report, text = hd(home, proj, token)
    assert rc == 1 and "NPM101" in rules(report), text


# -- Yarn Berry 4 ------------------------------------------------------------------


def yarnrc(proj: Path, reg: Verdaccio, body: str) -> Path:
    path = proj / ".yarnrc.yml"
    path.write_text(f'npmRegistryServer: "{reg.url}"\nnodeLinker: node-modules\n'
                    'unsafeHttpWhitelist: ["127.0.0.1"]\nnpmMinimalAgeGate: 0\n' + body)
    return path


def test_yarn_token_without_always_auth(registry, tmp_path: Path) -> None:
    reg, token = registry
    home = tmp_path
    proj = project(home, "yarn@4.18.1")
    rc_file = yarnrc(proj, reg, f'npmRegistries:\n  "//{reg.host}":\n    npmAuthToken: "{token}"\n')
    failed = yarn_install(proj, home)
    assert failed.returncode != 0 and "YN0041" in failed.stdout
    rc, report, text = hd(home, proj, token)
    assert rc == 1, text
    f = rules(report)["NPM032"]
    assert f["location"]["path"] == str(rc_file) and f["location"]["line"] == 7
    assert "NPM104" not in rules(report) and "npm" not in judged(report)
    assert "not judged: npm" in text

    # Top-level npmAlwaysAuth does not reach an npmRegistries entry (Yarn 4.18).
    rc_file = yarnrc(proj, reg, f'npmAlwaysAuth: true\nnpmRegistries:\n  "//{reg.host}/":\n'
                                f'    npmAuthToken: "{token}"\n')
    assert yarn_install(proj, home).returncode != 0
    assert "NPM032" in rules(hd(home, proj, token)[1])

    yarnrc(proj, reg, f'npmRegistries:\n  "//{reg.host}/":\n    npmAlwaysAuth: true\n'
                      f'    npmAuthToken: "{token}"\n')
    ok = yarn_install(proj, home)
    assert ok.returncode == 0, ok.stdout
    rc, report, text = hd(home, proj, token)
    assert rc == 0, text


@pytest.mark.parametrize("key", ["{host}", "https://{host}"])
def test_yarn_registry_key_never_matched(registry, tmp_path: Path, key: str) -> None:
    reg, token = registry
    home = tmp_path
    proj = project(home, "yarn@4.18.1")
    raw = key.format(host=reg.host)
    rc_file = yarnrc(proj, reg, f'npmRegistries:\n  "{raw}":\n    npmAlwaysAuth: true\n'
                                f'    npmAuthToken: "{token}"\n')
    assert yarn_install(proj, home).returncode != 0
    rc, report, text = hd(home, proj, token)
    assert rc == 1, text
    f = rules(report)["NPM013"]
    assert f["location"]["path"] == str(rc_file) and f["location"]["line"] == 6
    for good in (f"//{reg.host}", f"http://{reg.host}/"):
        yarnrc(proj, reg, f'npmRegistries:\n  "{good}":\n    npmAlwaysAuth: true\n'
                          f'    npmAuthToken: "{token}"\n')
        assert yarn_install(proj, home).returncode == 0
        rc, report, text = hd(home, proj, token)
        assert rc == 0, text


def test_yarn_ignores_the_npmrc_token(registry, tmp_path: Path) -> None:
    reg, token = registry
    home = tmp_path
    proj = project(home, "yarn@4.18.1")
    yarnrc(proj, reg, "npmAlwaysAuth: true\n")
    (home / ".npmrc").write_text(f"registry={reg.url}\n//{reg.host}/:_authToken={token}\n")
    assert yarn_install(proj, home).returncode != 0
    rc, report, text = hd(home, proj, token)
    assert rc == 1 and "NPM036" in rules(report), text
    yarnrc(proj, reg, "npmAlwaysAuth: true\nnpmAuthToken: \"${NPM_TOKEN}\"\n")
    assert yarn_install(proj, home, NPM_TOKEN=token).returncode == 0
    assert hd(home, proj, token, NPM_TOKEN=token)[0] == 0


def test_yarn_unset_variable_and_ident(registry, tmp_path: Path) -> None:
    reg, token = registry
    home = tmp_path
    proj = project(home, "yarn@4.18.1")
    rc_file = yarnrc(proj, reg, f'npmRegistries:\n  "//{reg.host}":\n    npmAlwaysAuth: true\n'
                                '    npmAuthToken: "${HD_YARN_TOKEN}"\n')
    failed = yarn_install(proj, home)
    assert failed.returncode != 0 and "HD_YARN_TOKEN" in failed.stdout + failed.stderr
    rc, report, text = hd(home, proj, token)
    assert rc == 1
    f = rules(report)["NPM031"]
    assert f["location"]["path"] == str(rc_file) and f["cause"] == "env-unset"
    yarnrc(proj, reg, f'npmRegistries:\n  "//{reg.host}":\n    npmAlwaysAuth: true\n'
                      f'    npmAuthIdent: "{USER}:{PASSWORD}"\n')
    assert yarn_install(proj, home).returncode == 0
    assert hd(home, proj, token)[0] == 0


# -- Yarn and a private CA -----------------------------------------------------------


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Verdaccio, str, Path]]:
    from tests.servers.tlsca import private_ca

    try:
        verdaccio_entry()
        clients.yarn()
    except MissingBinaryError as exc:
        server_missing(str(exc))
    ca, cert, key = private_ca(tmp_path_factory.mktemp("ca"))
    with Verdaccio(tls=(ca, cert, key)) as reg:
        token = reg.add_user(USER, PASSWORD)
        reg.publish("hdpkg", "1.0.0", token)
        yield reg, token, ca


def test_yarn_private_ca(tls_registry, tmp_path: Path) -> None:
    """Yarn trusts NODE_EXTRA_CA_CERTS and its own httpsCaFilePath: with
    either, hardoctor reaches the registry and judges the credential (a wrong
    npmRegistries key stays the diagnosis, not a TLS error)."""
    reg, token, ca = tls_registry
    home = tmp_path
    proj = project(home, "yarn@4.18.1")
    body = f'npmRegistryServer: "{reg.url}"\nnodeLinker: node-modules\nnpmMinimalAgeGate: 0\n'
    rc_file = proj / ".yarnrc.yml"
    rc_file.write_text(body + f'npmRegistries:\n  "//{reg.host}":\n    npmAlwaysAuth: true\n'
                              f'    npmAuthToken: "{token}"\n')
    # No CA at all: a TLS error, for Yarn and for hardoctor.
    assert yarn_install(proj, home).returncode != 0
    rc, report, text = hd(home, proj, token)
    assert rc == 1 and any(f["cause"] == "tls-error" for f in report["findings"]), text
    # NODE_EXTRA_CA_CERTS: Yarn's Node trusts the CA.
    ok = yarn_install(proj, home, NODE_EXTRA_CA_CERTS=str(ca))
    assert ok.returncode == 0, ok.stdout
    rc, report, text = hd(home, proj, token, NODE_EXTRA_CA_CERTS=str(ca))
    assert rc == 0, text
    # httpsCaFilePath (relative to the .yarnrc.yml), and a key Yarn never matches:
    # the diagnosis is the key, not TLS.
    (proj / "certs").mkdir()
    (proj / "certs" / "ca.pem").write_bytes(ca.read_bytes())
    rc_file.write_text(body + 'httpsCaFilePath: "certs/ca.pem"\n'
                       f'npmRegistries:\n  "{reg.host}":\n    npmAlwaysAuth: true\n'
                       f'    npmAuthToken: "{token}"\n')
    assert yarn_install(proj, home).returncode != 0
    rc, report, text = hd(home, proj, token)
    assert rc == 1 and "NPM013" in rules(report), text
    assert not any(f["cause"] == "tls-error" for f in report["findings"]), text
    rc_file.write_text(body + 'httpsCaFilePath: "certs/ca.pem"\n'
                       f'npmRegistries:\n  "//{reg.host}":\n    npmAlwaysAuth: true\n'
                       f'    npmAuthToken: "{token}"\n')
    assert yarn_install(proj, home).returncode == 0
    rc, report, text = hd(home, proj, token)
    assert rc == 0, text


def test_yarn_project_and_home_files_merge(registry, tmp_path: Path) -> None:
    """Yarn 4 merges an npmRegistries entry across the project's and the home
    .yarnrc.yml (the project wins per setting): a stale project token hides a
    good home one."""
    reg, token = registry
    home = tmp_path
    proj = project(home, "yarn@4.18.1")
    (home / ".yarnrc.yml").write_text(
        f'npmRegistries:\n  "//{reg.host}":\n    npmAuthToken: "{token}"\n')
    rc_file = yarnrc(proj, reg, f'npmRegistries:\n  "//{reg.host}":\n    npmAlwaysAuth: true\n'
                                '    npmAuthToken: "hd-stale-yarn-token"\n')
    assert yarn_install(proj, home).returncode != 0
    rc, report, text = hd(home, proj, token)
    assert rc == 1, text
    f = rules(report)["NPM101"]
    assert f["location"]["path"] == str(rc_file) and f["location"]["line"] == 8
    # Drop the project's token: alwaysAuth from the project, the token from home.
    yarnrc(proj, reg, f'npmRegistries:\n  "//{reg.host}":\n    npmAlwaysAuth: true\n')
    assert yarn_install(proj, home).returncode == 0
    rc, report, text = hd(home, proj, token)
    assert rc == 0, text
    yarn = next(r for r in report["resolutions"] if r["client"] == "yarn")
    assert str(home / ".yarnrc.yml") in (yarn["credential"] or "")


def test_pnpm_workspace_reads_the_root_npmrc_only(registry, tmp_path: Path) -> None:
    """In a pnpm workspace pnpm 12 reads the root's .npmrc and ignores a
    member's own: the token in pkgs/a/.npmrc is never sent (NPM020)."""
    reg, token = registry
    home = tmp_path
    root = home / "ws"
    member = root / "pkgs" / "a"
    member.mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "ws", "private": True}))
    (root / "pnpm-workspace.yaml").write_text("packages:\n  - pkgs/*\nminimumReleaseAge: 0\n")
    (member / "package.json").write_text(json.dumps(
        {"name": "a", "version": "1.0.0", "dependencies": {"hdpkg": "1.0.0"}}))
    (root / ".npmrc").write_text(f"registry={reg.url}\n")
    (member / ".npmrc").write_text(f"//{reg.host}/:_authToken={token}\n")
    assert install([*clients.pnpm(), "install"], member, home).returncode != 0
    rc, report, text = hd(home, member, token)
    assert rc == 1, text
    assert rules(report)["NPM020"]["location"]["path"] == str(member / ".npmrc")
    assert judged(report) == {"pnpm"}
    (member / ".npmrc").unlink()
    (root / ".npmrc").write_text(f"registry={reg.url}\n//{reg.host}/:_authToken={token}\n")
    ok = install([*clients.pnpm(), "install"], member, home)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rc, report, text = hd(home, member, token)
    assert rc == 0, text


def test_npm_and_pnpm_private_ca(tls_registry, tmp_path: Path) -> None:
    """npm 11 trusts only `cafile` (NODE_EXTRA_CA_CERTS is ignored); pnpm 12
    trusts NODE_EXTRA_CA_CERTS.  hardoctor's verdict follows each client."""
    reg, token, ca = tls_registry
    home = tmp_path
    proj = home / "app"
    proj.mkdir()
    (proj / "package.json").write_text(json.dumps(
        {"name": "app", "version": "1.0.0", "dependencies": {"hdpkg": "1.0.0"}}))
    (proj / ".npmrc").write_text(f"registry={reg.url}\n//{reg.host}/:_authToken={token}\n")
    npm = ["npm", "install", "--no-audit", "--no-fund"]
    extra = {"NODE_EXTRA_CA_CERTS": str(ca)}
    npm_env = {"npm_config_cache": str(home / "npm-cache"), "npm_config_fetch_retries": "0"}
    assert install(npm, proj, home, **npm_env, **extra).returncode != 0
    rc, report, text = hd(home, proj, token, "--client", "npm", **extra)
    assert rc == 1 and any(f["cause"] == "tls-error" for f in report["findings"]), text
    ok = install(npm, proj, home, **npm_env, npm_config_cafile=str(ca))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert hd(home, proj, token, "--client", "npm", npm_config_cafile=str(ca))[0] == 0

    (proj / "package-lock.json").unlink()  # now a pnpm project only
    (proj / "pnpm-workspace.yaml").write_text("minimumReleaseAge: 0\n")
    ok = install([*clients.pnpm(), "install"], proj, home, **extra)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rc, report, text = hd(home, proj, token, **extra)
    assert rc == 0 and judged(report) == {"pnpm"}, text
