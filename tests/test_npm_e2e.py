"""The user's story with real parts: real `npm` fails against a real
verdaccio on 127.0.0.1 because of a broken .npmrc from tests/fixtures,
`hardoctor check` names the cause and the line, and after `hardoctor fix
--apply` (or the remedy hardoctor prints) the same npm command succeeds.

npm runs fully isolated: HOME, user config, global config and cache in the
test's own folders, and only PATH/LANG from this machine (which exports
NODE_EXTRA_CA_CERTS and friends: none of them reach npm or hardoctor)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import FIXTURES, assert_valid_report, run_cli
from tests.servers.util import MissingBinaryError, server_missing
from tests.servers.verdaccio import Verdaccio

pytestmark = pytest.mark.live

USER, PASSWORD = "dev", "hd-verdaccio-pass-1"


@dataclass
class Reg:
    server: Verdaccio
    token: str

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
        token = server.add_user(USER, PASSWORD)
        server.publish("hd-demo", "1.0.0", token)
        server.publish("@acme/lib", "1.0.0", token)
        yield Reg(server, token)
    finally:
        server.stop()


@dataclass
class Box:
    """An isolated HOME + project folder where npm and hardoctor run."""

    home: Path
    proj: Path
    env: dict[str, str]

    @property
    def npmrc(self) -> Path:
        return self.home / ".npmrc"


@pytest.fixture
def box(tmp_path: Path) -> Box:
    home = tmp_path / "home"
    proj = tmp_path / "proj"
    home.mkdir(mode=0o700)
    proj.mkdir()
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


def materialize(name: str, box: Box, **values: str) -> Path:
    text = (FIXTURES / name / ".npmrc").read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    assert "{{" not in text, text
    box.npmrc.write_text(text)
    box.npmrc.chmod(0o600)
    return box.npmrc


def npm(box: Box, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "HOME": str(box.home),
           **box.env, **(extra or {})}
    return subprocess.run(["npm", *args], cwd=box.proj, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def hd(box: Box, *args: str, extra: dict[str, str] | None = None) -> dict:
    res = run_cli([*args, "--format", "json", "--project", str(box.proj)], home=box.home,
                  cwd=box.proj, environ={**box.env, **(extra or {})})
    assert res.rc in (0, 1), res
    return assert_valid_report(res.out)


def rules(report: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in report["findings"]}


def fix(box: Box, *extra: str) -> None:
    res = run_cli(["fix", "--offline", "--apply", "--project", str(box.proj), *extra],
                  home=box.home, cwd=box.proj, environ=box.env)
    assert res.rc == 0, res


def test_unscoped_token(reg: Reg, box: Box) -> None:
    materialize("npm-unscoped-token", box, REGISTRY=reg.url, TOKEN=reg.token)
    before = npm(box, "view", "hd-demo", "version")
    assert before.returncode != 0 and "ERR_INVALID_AUTH" in before.stderr

    f = rules(hd(box, "check", "--offline"))["NPM001"]
    assert f["cause"] == "config-invalid"
    assert f["location"]["line"] == 3 and f["location"]["path"].endswith(".npmrc")
    assert "ERR_INVALID_AUTH" in f["message"]
    assert f["fix"]["applicability"] == "safe"

    fix(box)
    assert f"//{reg.host}/:_authToken=" in box.npmrc.read_text()
    after = npm(box, "view", "hd-demo", "version")
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "1.0.0"
    assert "NPM001" not in rules(hd(box, "check", "--offline"))


def test_key_without_trailing_slash(reg: Reg, box: Box) -> None:
    materialize("npm-slash-mismatch", box, REGISTRY=reg.url, HOST=reg.host, TOKEN=reg.token)
    # Installs walk the request path and find the key ...
    assert npm(box, "view", "hd-demo", "version").returncode == 0
    # ... whoami looks up the exact nerf dart and gives up without asking.
    before = npm(box, "whoami")
    assert before.returncode != 0 and "ENEEDAUTH" in before.stderr

    f = rules(hd(box, "check", "--offline"))["NPM005"]
    assert f["cause"] == "credential-not-matched"
    assert f["location"]["line"] == 3
    assert "whoami" in f["message"]

    fix(box)
    assert f"//{reg.host}/:_authToken=" in box.npmrc.read_text()
    after = npm(box, "whoami")
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == USER


def test_key_with_other_path(reg: Reg, box: Box) -> None:
    materialize("npm-path-mismatch", box, REGISTRY=reg.url, HOST=reg.host, TOKEN=reg.token)
    before = npm(box, "view", "hd-demo", "version")
    assert before.returncode != 0 and "E401" in before.stderr

    report = hd(box, "check", "npm:hd-demo")
    f = rules(report)["NPM005"]
    assert f["cause"] == "credential-not-matched" and f["location"]["line"] == 2
    npm_res = next(r for r in report["resolutions"] if r["client"] == "npm")
    assert npm_res["credential"] is None
    assert any(s["outcome"] == "skipped" for s in npm_res["chain"])
    assert any(p["status"] == 401 for p in report["probes"])

    fix(box)
    after = npm(box, "view", "hd-demo", "version")
    assert after.returncode == 0, after.stderr
    assert not [f for f in hd(box, "check", "npm:hd-demo")["findings"]
                if f["severity"] != "info"]


def test_env_var_unset(reg: Reg, box: Box) -> None:
    materialize("npm-env-unset", box, REGISTRY=reg.url, HOST=reg.host)
    before = npm(box, "view", "hd-demo", "version")
    assert before.returncode != 0 and "E401" in before.stderr

    report = hd(box, "check", "npm:hd-demo")
    f = rules(report)["NPM006"]
    assert f["cause"] == "env-unset" and f["location"]["line"] == 2
    assert "${NPM_TOKEN}" in f["message"]
    # The literal placeholder really is what went out, and was refused.
    assert any(p["status"] == 401 for p in report["probes"])
    assert "NPM101" not in rules(report)  # one finding for one cause

    # The printed remedy: export the variable.
    assert any("export NPM_TOKEN" in c for c in f["remediation"]["commands"])
    env = {"NPM_TOKEN": reg.token}
    after = npm(box, "view", "hd-demo", "version", extra=env)
    assert after.returncode == 0, after.stderr
    assert not [f for f in hd(box, "check", "npm:hd-demo", extra=env)["findings"]
                if f["severity"] != "info"]


def test_wrong_host(reg: Reg, box: Box) -> None:
    other = reg.host.replace("127.0.0.1", "localhost")
    materialize("npm-wrong-host", box, REGISTRY=reg.url, OTHER_HOST=other, TOKEN=reg.token)
    before = npm(box, "view", "hd-demo", "version")
    assert before.returncode != 0 and "E401" in before.stderr

    report = hd(box, "check", "npm:hd-demo")
    f = rules(report)["NPM013"]
    assert f["cause"] == "credential-not-matched" and f["severity"] == "error"
    assert f["location"]["line"] == 3
    assert other in f["message"]

    # The printed remedy, with the token in $TOKEN.
    cmd = next(c for c in f["remediation"]["commands"] if c.startswith("npm config set"))
    assert f"//{reg.host}/:_authToken" in cmd
    done = npm(box, "config", "set", f"//{reg.host}/:_authToken", reg.token)
    assert done.returncode == 0, done.stderr
    after = npm(box, "view", "hd-demo", "version")
    assert after.returncode == 0, after.stderr


def test_wrong_token(reg: Reg, box: Box) -> None:
    materialize("npm-wrong-token", box, REGISTRY=reg.url, HOST=reg.host,
                WRONG_TOKEN="hd-wrong-token-" + "x" * 20)
    before = npm(box, "view", "hd-demo", "version")
    assert before.returncode != 0 and "E401" in before.stderr

    offline = hd(box, "check", "--offline", "npm:hd-demo")
    assert not [f for f in offline["findings"] if f["severity"] == "error"]  # looks fine offline

    t0 = time.perf_counter()
    report = hd(box, "check", "npm:hd-demo")
    assert time.perf_counter() - t0 < 5
    f = rules(report)["NPM101"]
    assert f["cause"] == "token-invalid" and f["location"]["line"] == 2

    done = npm(box, "config", "set", f"//{reg.host}/:_authToken", reg.token)
    assert done.returncode == 0
    assert npm(box, "view", "hd-demo", "version").returncode == 0
    assert "NPM101" not in rules(hd(box, "check", "npm:hd-demo"))


def test_whoami_is_not_proof(reg: Reg, box: Box) -> None:
    """verdaccio answers /-/whoami with 200 {} for a bad token: a registry
    target (no package) still finds the bad token."""
    materialize("npm-wrong-token", box, REGISTRY=reg.url, HOST=reg.host,
                WRONG_TOKEN="hd-wrong-token-" + "y" * 20)
    report = hd(box, "check", "npm:" + reg.url)
    f = rules(report)["NPM105"]
    assert f["cause"] == "token-invalid"


def test_scoped_registry_without_auth(reg: Reg, box: Box) -> None:
    materialize("npm-scope-no-auth", box, REGISTRY=reg.url, TOKEN=reg.token)
    before = npm(box, "view", "@acme/lib", "version")
    assert before.returncode != 0 and "E401" in before.stderr

    offline = rules(hd(box, "check", "--offline"))
    f = offline["NPM009"]
    assert f["cause"] == "no-credentials" and f["location"]["line"] == 2

    report = hd(box, "check", "npm:@acme/lib")
    f = rules(report)["NPM102"]
    assert f["cause"] == "no-credentials" and f["severity"] == "error"
    cmd = next(c for c in f["remediation"]["commands"] if c.startswith("npm config set"))
    assert f"//{reg.host}/:_authToken" in cmd

    assert npm(box, "config", "set", f"//{reg.host}/:_authToken", reg.token).returncode == 0
    after = npm(box, "view", "@acme/lib", "version")
    assert after.returncode == 0, after.stderr
    assert not [f for f in hd(box, "check", "npm:@acme/lib")["findings"]
                if f["severity"] == "error"]


def test_project_npmrc_shadows_user(reg: Reg, box: Box) -> None:
    """The classic story: the user fixed ~/.npmrc, the project's .npmrc still
    holds the old token and wins."""
    box.npmrc.write_text(f"registry={reg.url}\n//{reg.host}/:_authToken={reg.token}\n")
    (box.proj / "package.json").write_text('{"name": "app", "dependencies": {"hd-demo": "1.0.0"}}')
    (box.proj / ".npmrc").write_text(f"//{reg.host}/:_authToken=hd-stale-token-zzzzzzzzzzzz\n")
    assert npm(box, "view", "hd-demo", "version").returncode != 0

    report = hd(box, "check")
    found = rules(report)
    assert found["NPM012"]["cause"] == "credential-shadowed"
    assert found["NPM012"]["location"]["path"].endswith("proj/.npmrc")
    assert found["NPM101"]["location"]["path"].endswith("proj/.npmrc")
    npm_res = next(r for r in report["resolutions"] if r["client"] == "npm")
    assert [s["outcome"] for s in npm_res["chain"]].count("lost") >= 1
