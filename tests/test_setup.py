"""``hardoctor setup``: from an empty HOME and a token, every client works.

The user's story, with the installed CLI and the real clients against the
HAR emulators (OCI, npm and Python routes; the Harness API for expiry and
revocation): ``printf TOKEN | hardoctor setup DOCKER_URL NPM_URL PY_URL
--token-stdin --user dev@acme.io --apply`` exits 0; then ``skopeo
inspect``, ``npm view`` and ``pip download`` succeed and ``hardoctor check``
of the three URLs reports no error; every file holding the token is 0600; a
second run changes nothing; ``fix --undo`` leaves HOME as empty as it was.
A revoked token, a token of another account and a malformed one write
nothing.  No output ever holds the token (raw or as Docker's base64
``user:token``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.servers import MissingBinaryError, require_binary, server_missing, skopeo_inspect
from tests.servers.har_npm import HarNpm
from tests.servers.har_python import HarPython, PyToken
from tests.servers.har_registry import HarRegistry, HarToken
from tests.servers.harness_api import HarnessApi
from tests.servers.pypiserver import find_pypiserver, pip_download

pytestmark = pytest.mark.live

ACCT = "AcmeX1"
USER = "dev@acme.io"
READ = {"*": {"read"}}


@dataclass
class Har:
    oci: HarRegistry
    npm: HarNpm
    py: HarPython
    api: HarnessApi

    @property
    def docker_url(self) -> str:
        return f"{self.oci.host}/{ACCT.lower()}/docker-prod"

    @property
    def npm_url(self) -> str:
        return self.npm.registry_url(ACCT, "npm-prod")

    @property
    def py_url(self) -> str:
        return self.py.index_url(ACCT, "py-prod")

    @property
    def urls(self) -> list[str]:
        return [self.docker_url, self.npm_url, self.py_url]

    def token(self, account: str = ACCT, *, revoked: bool = False, known: bool = True) -> str:
        """A PAT the Harness API knows, accepted by all three routes."""
        value = self.api.new_token(account, revoked=revoked, valid_days=90).value
        if known:
            self.oci.tokens[value] = HarToken(value, account, {"*": {"read"}}, revoked=revoked)
            self.npm.add_token(value, account, {"*": {"read"}}, revoked=revoked)
            self.py.tokens[value] = PyToken(value, account, {"*": {"read"}}, revoked=revoked)
        return value


@pytest.fixture(scope="module")
def har() -> Iterator[Har]:
    try:
        for binary in ("skopeo", "npm"):
            require_binary(binary)
        find_pypiserver()
    except MissingBinaryError as exc:
        server_missing(str(exc))
    with contextlib.ExitStack() as stack:
        oci = stack.enter_context(HarRegistry())
        oci.add_registry(ACCT, "docker-prod")
        oci.push(ACCT, "docker-prod", "web", "1.4")
        npm = stack.enter_context(HarNpm())
        npm.add_registry(ACCT, "npm-prod")
        npm.add_package(ACCT, "npm-prod", "left-pad", "1.3.0")
        npm.add_package(ACCT, "npm-prod", "@acme/lib", "2.0.0")
        py = stack.enter_context(HarPython())
        py.add_registry(ACCT, "py-prod")
        py.add_project(ACCT, "py-prod", "hdtestpkg")
        api = stack.enter_context(HarnessApi())
        yield Har(oci, npm, py, api)


@dataclass
class Home:
    har: Har
    root: Path
    outputs: list[str] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.root / "home"

    def env(self) -> dict[str, str]:
        hosts = ",".join(h.host for h in (self.har.oci, self.har.npm, self.har.py))
        return {
            "PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", **_pythonpath(),
            "HOME": str(self.home), "XDG_RUNTIME_DIR": str(self.root / "run"),
            "HARDOCTOR_HARNESS_HOSTS": hosts, "HARDOCTOR_HARNESS_API": self.har.api.url,
            "npm_config_cache": str(self.root / "npm-cache"),
            "npm_config_globalconfig": str(self.root / "global-npmrc"),
            "npm_config_update_notifier": "false", "npm_config_fetch_retries": "0",
        }

    def hd(self, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """The installed CLI, as a person runs it."""
        exe = shutil.which("hardoctor") or ""
        cmd = [exe] if exe else [sys.executable, "-m", "hardoctor"]
        res = subprocess.run([*cmd, *argv], input=stdin, env=self.env(), cwd=self.home,
                             capture_output=True, text=True, timeout=120, check=False)
        self.outputs += [res.stdout, res.stderr]
        return res

    def setup(self, token: str, *extra: str, urls: list[str] | None = None,
              ) -> subprocess.CompletedProcess[str]:
        return self.hd("setup", *(urls or self.har.urls), "--token-stdin", "--user", USER,
                       *extra, stdin=token)

    def files(self) -> dict[str, bytes]:
        """Every regular file under HOME but the backup store and the
        caches the clients themselves leave (rustup's, behind uv)."""
        out = {}
        for p in sorted(self.home.rglob("*")):
            rel = str(p.relative_to(self.home))
            if p.is_file() and not rel.startswith((".local/state/hardoctor/", ".rustup/",
                                                   ".cache/")):
                out[rel] = p.read_bytes()
        return out

    def assert_no_leak(self, token: str) -> None:
        forms = [token, base64.b64encode(f"{USER}:{token}".encode()).decode()]
        for text in self.outputs:
            for form in forms:
                assert form not in text

    # The real clients.
    def skopeo(self) -> tuple[int, str, str]:
        return skopeo_inspect(f"{self.har.docker_url}/web:1.4",
                              env={"HOME": str(self.home)}, extra_args=("--raw",))

    def npm_view(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["npm", "view", "left-pad", "version"], env=self.env(),
                              cwd=self.home, capture_output=True, text=True, timeout=120,
                              check=False)

    def pip(self) -> subprocess.CompletedProcess[str]:
        return pip_download(self.home, "hdtestpkg", extra_env={"PIP_INDEX_URL": None})


@pytest.fixture
def home(har: Har, tmp_path: Path) -> Home:
    h = Home(har, tmp_path)
    h.home.mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "global-npmrc").write_text("")
    return h


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_empty_home_to_three_working_clients(home: Home) -> None:
    token = home.har.token()
    assert home.files() == {}
    assert home.skopeo()[0] != 0 and home.npm_view().returncode != 0

    res = home.setup(token, "--apply")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("✓") == 3
    assert "expires on" in res.stdout and "hardoctor check` warns" in res.stdout
    assert "docker pull" in res.stdout and "npm publish" in res.stdout
    assert "webhook" in res.stdout  # the vendor's 403 story, from the vendor plugin

    rc, out, err = home.skopeo()
    assert rc == 0, err
    view = home.npm_view()
    assert view.returncode == 0 and view.stdout.strip() == "1.3.0", view.stderr
    pip = home.pip()
    assert pip.returncode == 0, pip.stderr

    check = home.hd("check", *home.har.urls, "--format", "json")
    assert check.returncode == 0, check.stdout + check.stderr
    assert '"severity": "error"' not in check.stdout

    holding = [p for p, data in home.files().items() if token.encode() in data
               or base64.b64encode(f"{USER}:{token}".encode()) in data]
    assert sorted(holding) == [".docker/config.json", ".netrc", ".npmrc"]
    for rel in holding:
        assert mode(home.home / rel) == 0o600, rel
    assert b"@" not in (home.home / ".config/pip/pip.conf").read_bytes().split(b"://", 1)[1]

    before = home.files()
    again = home.setup(token, "--apply")
    assert again.returncode == 0, again.stdout
    assert "Nothing to change" in again.stdout
    assert home.files() == before

    undo = home.hd("fix", "--undo")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert home.files() == {}
    # The directories setup made go too: only the backup store stays (and
    # what the clients themselves left while they ran).
    left = {p.name for p in home.home.iterdir()}
    assert left <= {".local", ".rustup", ".cache", ".npm"}, left
    home.assert_no_leak(token)


def test_diff_first_writes_nothing(home: Home) -> None:
    token = home.har.token()
    res = home.setup(token)
    assert res.returncode == 1
    assert "--apply" in res.stdout and "+++ b/" in res.stdout
    assert home.files() == {}
    home.assert_no_leak(token)


@pytest.mark.parametrize("case", ["revoked", "other-account", "unknown", "malformed"])
def test_bad_token_writes_nothing(home: Home, case: str) -> None:
    if case == "revoked":
        token = home.har.token(revoked=True)
    elif case == "other-account":
        token = home.har.token("OtherAcct9")
    elif case == "unknown":
        token = home.har.token(known=False)  # the registry never issued it
    else:
        token = "pat.AcmeX1.not-a-token"
    res = home.setup(token, "--apply")
    assert res.returncode in (1, 2), res.stdout + res.stderr
    assert "nothing was written" in res.stdout or res.returncode == 2
    assert home.files() == {}
    home.assert_no_leak(token)


def test_existing_files_are_edited_not_replaced(home: Home) -> None:
    token = home.har.token()
    npmrc = home.home / ".npmrc"
    npmrc.write_text("fund=false\nregistry=https://registry.npmjs.org/\n")
    npmrc.chmod(0o644)
    netrc = home.home / ".netrc"
    netrc.write_text("machine example.org login me password other\n")
    netrc.chmod(0o600)
    conf = home.home / ".config" / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    # A command's own index-url wins over [global] for that command.
    conf.write_text("[global]\ntimeout = 60\n\n[download]\nindex-url = https://pypi.org/simple\n")
    res = home.setup(token, "--apply", urls=[home.har.npm_url, home.har.py_url])
    assert res.returncode == 0, res.stdout + res.stderr
    text = npmrc.read_text()
    assert text.startswith("fund=false\n") and f"registry={home.har.npm_url}\n" in text
    assert "registry.npmjs.org" not in text and mode(npmrc) == 0o600
    assert netrc.read_text().startswith("machine example.org login me password other\n")
    assert conf.read_text() == (f"[global]\nindex-url = {home.har.py_url}\ntimeout = 60\n\n"
                                f"[download]\nindex-url = {home.har.py_url}\n")
    assert home.npm_view().returncode == 0 and home.pip().returncode == 0
    home.assert_no_leak(token)


def test_project_scope_writes_references_only(home: Home) -> None:
    token = home.har.token()
    res = home.hd("setup", home.har.npm_url, "--token-stdin", "--scope", "project", "--apply",
                  stdin=token)
    assert res.returncode == 0, res.stdout + res.stderr
    text = (home.home / ".npmrc").read_text()
    assert "${NPM_TOKEN}" in text and token not in text
    assert "NPM_TOKEN" in res.stdout and "CI secret" in res.stdout
    home.assert_no_leak(token)


def test_usage_errors(home: Home) -> None:
    token = home.har.token()
    no_user = home.hd("setup", home.har.docker_url, "--token-stdin", stdin=token)
    assert no_user.returncode == 2 and "--user" in no_user.stderr
    unknown = home.hd("setup", "https://unknown.example/repo/", "--token-stdin", "--user", USER,
                      stdin=token)
    assert unknown.returncode == 2 and "--client" in unknown.stderr
    no_stdin = home.hd("setup", home.har.npm_url)
    assert no_stdin.returncode == 2 and "--token-stdin" in no_stdin.stderr
    assert home.files() == {}
    home.assert_no_leak(token)


def test_docker_credential_helper_gets_the_token(home: Home) -> None:
    """A Docker config with credsStore: the token goes to the helper's
    store, the config file is not touched, skopeo pulls through the helper."""
    from tests.servers.credhelper import file_credential_helper

    token = home.har.token()
    bindir = home.root / "bin"
    bindir.mkdir()
    store = home.root / "store.json"
    store.write_text("{}")
    file_credential_helper(bindir, store)
    cfg = home.home / ".docker" / "config.json"
    cfg.parent.mkdir()
    cfg.write_text('{"credsStore": "hdfile"}\n')
    path = f"{bindir}:{os.environ.get('PATH', os.defpath)}"
    env = {**home.env(), "PATH": path}
    exe = shutil.which("hardoctor") or "hardoctor"
    res = subprocess.run([exe, "setup", home.har.docker_url, "--token-stdin", "--user", USER,
                          "--apply"], input=token, env=env, cwd=home.home, capture_output=True,
                         text=True, timeout=120, check=False)
    home.outputs += [res.stdout, res.stderr]
    assert res.returncode == 0, res.stdout + res.stderr
    assert "docker-credential-hdfile store" in res.stdout and "✓" in res.stdout
    # The token only in the helper; credHelpers names it for podman/skopeo too.
    assert json.loads(cfg.read_text()) == {"credsStore": "hdfile",
                                           "credHelpers": {home.har.oci.host: "hdfile"}}
    rc, _, err = skopeo_inspect(f"{home.har.docker_url}/web:1.4", extra_args=("--raw",),
                                env={"HOME": str(home.home), "PATH": path})
    assert rc == 0, err
    assert json.loads(store.read_text()) == {home.har.oci.host: [USER, token]}
    again = subprocess.run([exe, "setup", home.har.docker_url, "--token-stdin", "--user", USER,
                            "--apply"], input=token, env=env, cwd=home.home,
                           capture_output=True, text=True, timeout=120, check=False)
    home.outputs += [again.stdout, again.stderr]
    assert again.returncode == 0 and "Nothing to change" in again.stdout
    home.assert_no_leak(token)


def test_offline_and_json(home: Home) -> None:
    token = home.har.token()
    res = home.setup(token, "--offline", "--apply", "--format", "json")
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["schema"] == "hardoctor/setup/v1" and doc["applied"] is True
    assert [c["client"] for c in doc["clients"]] == ["docker", "npm", "pip"]
    assert all(r["ok"] and r["summary"].startswith("not checked") for r in doc["recheck"])
    assert doc["token"]["account_id"] == ACCT
    home.assert_no_leak(token)


def test_client_option_for_a_registry_no_vendor_owns(home: Home) -> None:
    """Without a vendor that owns the host, --client says which client."""
    token = home.har.token()
    url = home.har.npm_url
    env_hosts = home.env()
    env_hosts.pop("HARDOCTOR_HARNESS_HOSTS")
    exe = shutil.which("hardoctor") or "hardoctor"
    res = subprocess.run([exe, "setup", url, "--token-stdin", "--client", "npm", "--apply"],
                         input=token, env=env_hosts, cwd=home.home, capture_output=True,
                         text=True, timeout=120, check=False)
    home.outputs += [res.stdout, res.stderr]
    assert res.returncode == 0, res.stdout + res.stderr
    assert home.npm_view().returncode == 0
    home.assert_no_leak(token)


def test_project_scope_for_per_user_clients_prints_the_ci_step(home: Home) -> None:
    token = home.har.token()
    res = home.hd("setup", home.har.docker_url, home.har.py_url, "--token-stdin", "--user", USER,
                  "--scope", "project", "--token-env", "HAR_TOKEN", "--apply", stdin=token)
    assert res.returncode == 0, res.stdout + res.stderr
    assert home.files() == {}
    assert "Nothing to change" in res.stdout
    assert '"$HAR_TOKEN" | docker login' in res.stdout and "PIP_INDEX_URL=" in res.stdout
    home.assert_no_leak(token)


def test_a_token_in_argv_is_refused_unshown(home: Home) -> None:
    token = home.har.token()
    other = home.har.token()
    res = home.hd("setup", other, "--token-stdin", "--user", USER, stdin=token)
    assert res.returncode == 2 and "looks like a token" in res.stderr
    with_userinfo = f"https://{USER}:{other}@{home.har.npm.host}/pkg/{ACCT}/npm-prod/npm/"
    res2 = home.hd("setup", with_userinfo, "--token-stdin", stdin=token)
    assert res2.returncode == 2 and "(not shown)" in res2.stderr
    for out in (res.stdout, res.stderr, res2.stdout, res2.stderr):
        assert other not in out
    assert home.files() == {}


def test_without_a_vendor_the_url_shape_decides(home: Home) -> None:
    """No vendor plugin owns the hosts: a scheme-less HOST/PATH is Docker's
    (checked at the host, as `docker login` checks), a .../simple URL pip's;
    an npm URL needs --client."""
    token = home.har.token()
    env = home.env()
    env.pop("HARDOCTOR_HARNESS_HOSTS")
    exe = shutil.which("hardoctor") or "hardoctor"

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        res = subprocess.run([exe, "setup", *argv, "--token-stdin", "--user", USER],
                             input=token, env=env, cwd=home.home, capture_output=True,
                             text=True, timeout=120, check=False)
        home.outputs += [res.stdout, res.stderr]
        return res

    res = run(home.har.docker_url, home.har.py_url, "--apply")
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"✓ docker   {home.har.oci.host}\n" in res.stdout
    assert home.skopeo()[0] == 0 and home.pip().returncode == 0
    npm = run(home.har.npm_url)
    assert npm.returncode == 2 and "--client" in npm.stderr
    home.assert_no_leak(token)


def test_npm_scope_routes_only_the_scope(home: Home) -> None:
    token = home.har.token()
    res = home.hd("setup", home.har.npm_url, "--token-stdin", "--npm-scope", "@acme", "--apply",
                  stdin=token)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = (home.home / ".npmrc").read_text().splitlines()
    assert f"@acme:registry={home.har.npm_url}" in lines
    assert not any(line.startswith("registry=") for line in lines)
    view = subprocess.run(["npm", "view", "@acme/lib", "version"], env=home.env(), cwd=home.home,
                          capture_output=True, text=True, timeout=120, check=False)
    assert view.returncode == 0 and view.stdout.strip() == "2.0.0", view.stderr
    bad = home.hd("setup", home.har.npm_url, "--token-stdin", "--npm-scope", "Not A Scope",
                  stdin=token)
    assert bad.returncode == 2 and "--npm-scope" in bad.stderr
    home.assert_no_leak(token)


@pytest.mark.parametrize("which", ["npm", "py"])
def test_each_client_probes_the_token_alone(home: Home, which: str) -> None:
    """A token the registry never issued is refused by that client's own
    probe (no other client in the run to catch it)."""
    token = home.har.token(known=False)
    url = home.har.npm_url if which == "npm" else home.har.py_url
    res = home.setup(token, "--apply", urls=[url])
    assert res.returncode == 1, res.stdout + res.stderr
    assert "nothing was written" in res.stdout and "401" in res.stdout
    assert home.files() == {}
    home.assert_no_leak(token)


def test_an_unreachable_registry_is_not_a_pass(home: Home) -> None:
    token = home.har.token()
    res = home.hd("setup", "http://127.0.0.1:9/simple", "--token-stdin", "--user", USER,
                  "--apply", stdin=token)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "nothing was written" in res.stdout and "refused" in res.stdout
    assert home.files() == {}
    home.assert_no_leak(token)

def _pythonpath() -> dict[str, str]:
    """The hardoctor under test, when the run points at a checkout."""
    value = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": value} if value else {}


def test_uv_where_asked(home: Home) -> None:
    """--client uv: a default [[index]] in the user's uv.toml and the netrc
    entry; real uv resolves the package through them."""
    from tests.servers.clients import uv

    try:
        uv_argv = uv()
    except MissingBinaryError as exc:
        server_missing(str(exc))
    token = home.har.token()
    res = home.setup(token, "--client", "uv", "--apply", urls=[home.har.py_url])
    assert res.returncode == 0, res.stdout + res.stderr
    toml = (home.home / ".config" / "uv" / "uv.toml").read_text()
    assert toml == f'[[index]]\nurl = "{home.har.py_url}"\ndefault = true\n'
    assert mode(home.home / ".netrc") == 0o600
    env = {**home.env(), "UV_CACHE_DIR": str(home.root / "uv-cache"), "UV_NO_PROGRESS": "1",
           "UV_PYTHON_DOWNLOADS": "never"}
    got = subprocess.run([*uv_argv, "pip", "compile", "-", "--no-header", "--python",
                          sys.executable], input="hdtestpkg\n", env=env, cwd=home.home,
                         capture_output=True, text=True, timeout=120, check=False)
    assert got.returncode == 0 and "hdtestpkg==1.0" in got.stdout, got.stderr
    again = home.setup(token, "--client", "uv", "--apply", urls=[home.har.py_url])
    assert again.returncode == 0 and "Nothing to change" in again.stdout
    home.assert_no_leak(token)
