"""Never a ✓ for a failing registry; one token, one story (issue 15).

One expired Harness token stored for Docker (``~/.docker/config.json``) and
for npm (``~/.npmrc``) on the same HAR host -- the HAR OCI and npm emulators
behind one front on 127.0.0.1, as HAR serves every package type from one
host -- with real ``skopeo`` and real ``npm`` as the clients.  Both fail;
hardoctor must show no registry with ✓, tell the expired token once (where
it is stored, which clients fail), lead with ``hardoctor fix --token-stdin``,
and after that very command both clients succeed and the check is green.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers.front import Front
from tests.servers.har_npm import HarNpm
from tests.servers.har_registry import HarRegistry, HarToken
from tests.servers.harness_api import HarnessApi
from tests.servers.oci import skopeo_inspect
from tests.servers.util import MissingBinaryError, require_binary, server_missing

pytestmark = pytest.mark.live

ACCT = "AcmeX1"
IMAGE = "acmex1/docker-prod/app"


@dataclass
class Har:
    oci: HarRegistry
    npm: HarNpm
    api: HarnessApi
    front: Front

    def add(self, value: str, *, expired: bool) -> None:
        self.oci.tokens[value] = HarToken(value, ACCT, {"*": {"read", "write"}}, expired=expired)
        self.npm.add_token(value, ACCT, expired=expired)

    @property
    def host(self) -> str:
        return self.front.host

    @property
    def npm_url(self) -> str:
        return f"http://{self.host}/pkg/{ACCT}/npm-prod/npm/"


@pytest.fixture
def har() -> Iterator[Har]:
    for binary in ("skopeo", "npm"):
        try:
            require_binary(binary)
        except MissingBinaryError as exc:
            server_missing(str(exc))
    oci = HarRegistry()
    oci.add_registry(ACCT, "docker-prod")
    oci.push(ACCT, "docker-prod", "app", "1.0")
    npm = HarNpm()
    npm.add_registry(ACCT, "npm-prod")
    npm.add_package(ACCT, "npm-prod", "@acme/widget", "1.2.0")
    with oci, npm, HarnessApi() as api, Front(
            [("/v2/", oci.url), ("/pkg/", f"http://{npm.host}")]) as front:
        yield Har(oci, npm, api, front)


def store(home: Path, har: Har, token: str) -> None:
    cfg = home / ".docker" / "config.json"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"dev@acme.io:{token}".encode()).decode()
    cfg.write_text(json.dumps({"auths": {har.host: {"auth": auth}}}, indent="\t") + "\n")
    cfg.chmod(0o600)
    npmrc = home / ".npmrc"
    npmrc.write_text(f"registry={har.npm_url}\n//{har.host}/pkg/{ACCT}/npm-prod/npm/"
                     f":_authToken={token}\n")
    npmrc.chmod(0o600)


def npm_view(home: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    (tmp / "global-npmrc").write_text("")
    env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "HOME": str(home),
           "npm_config_cache": str(tmp / "npm-cache"),
           "npm_config_globalconfig": str(tmp / "global-npmrc"),
           "npm_config_update_notifier": "false", "npm_config_fetch_retries": "0"}
    return subprocess.run([shutil.which("npm") or "npm", "view", "@acme/widget", "version"],
                          cwd=home, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def skopeo(home: Path, har: Har) -> int:
    rc, _, _ = skopeo_inspect(f"{har.host}/{IMAGE}:1.0", env={"HOME": str(home)},
                              extra_args=("--raw",))
    return rc


def args(har: Har, *extra: str) -> list[str]:
    return ["check", "--timeout", "10", "--harness-host", har.host, "--harness-api",
            har.api.url, f"{har.host}/{IMAGE}:1.0", "npm:@acme/widget", *extra]


def test_expired_token_for_docker_and_npm_one_story_no_green(
        har: Har, home: Path, tmp_path: Path) -> None:
    old = har.api.new_token(ACCT, valid_days=30, age_days=45).value
    har.add(old, expired=True)
    store(home, har, old)
    assert skopeo(home, har) != 0
    before = npm_view(home, tmp_path)
    assert before.returncode != 0 and "E401" in before.stderr

    text = run_cli(args(har), home=home)
    assert text.rc == 1, text
    verdicts = [ln for ln in text.out.splitlines() if ln[:2] in ("✓ ", "✗ ", "! ", "- ")]
    assert verdicts and not [v for v in verdicts if v.startswith("✓")], text.out
    assert old not in text.out + text.err
    assert "hardoctor fix --token-stdin" in text.out

    report = assert_valid_report(run_cli(args(har, "--format", "json"), home=home).out)
    expired = [f for f in report["findings"] if f["cause"] == "token-expired"]
    assert len(expired) == 1, [(f["rule"], f["message"]) for f in expired]
    story = " ".join(expired[0]["evidence"])
    assert ".docker/config.json" in story and ".npmrc" in story
    assert "hardoctor fix --token-stdin" in " ".join(expired[0]["remediation"]["commands"])
    # Every client that sends the token is counted as failing.
    creds = {c["id"]: c for c in report["credentials"]}
    told = {expired[0]["credential"], *[c for c in creds if c != expired[0]["credential"]
                                        and creds[c]["host"] == har.host]}
    assert {creds[c]["ecosystem"] for c in told} == {"docker", "npm"}
    metrics = run_cli(args(har, "--format", "openmetrics"), home=home).out
    up = [ln for ln in metrics.splitlines() if ln.startswith("hardoctor_registry_up{")]
    assert up and all(ln.endswith(" 0") or ln.endswith(" 0.0") for ln in up), up

    # The fix it leads with: one new token, every place, then both clients work.
    fresh = har.api.new_token(ACCT).value
    har.add(fresh, expired=False)
    rotated = run_cli(["fix", "--token-stdin", "--apply", "--harness-host", har.host,
                       "--harness-api", har.api.url, har.host], home=home, stdin=fresh + "\n")
    assert rotated.rc == 0, rotated
    assert skopeo(home, har) == 0
    assert npm_view(home, tmp_path).stdout.strip() == "1.2.0"
    after = run_cli(args(har), home=home)
    assert after.rc == 0 and "✗" not in after.out, after.out


def test_generic_registry_gets_no_vendor_wording(home: Path) -> None:
    """A Harness-shaped (expired) token stored for registries no vendor owns:
    the token's story is told, but the advice is generic and uses the stored
    user name -- never "your Harness login e-mail", ``-u EMAIL`` or "%40"."""
    from tests.servers.util import free_port

    dead = f"127.0.0.1:{free_port()}"
    with HarnessApi() as api:
        tok = api.new_token(ACCT, valid_days=30, age_days=45).value
        cfg = home / ".docker" / "config.json"
        cfg.parent.mkdir(parents=True)
        auth = base64.b64encode(f"ci:{tok}".encode()).decode()
        cfg.write_text(json.dumps({"auths": {dead: {"auth": auth}}}))
        cfg.chmod(0o600)
        pip = home / ".config" / "pip" / "pip.conf"
        pip.parent.mkdir(parents=True)
        pip.write_text(f"[global]\nindex-url = http://dev:{tok}@{dead}/simple\n")
        pip.chmod(0o600)
        res = run_cli(["check", "--timeout", "2", "--harness-api", api.url, "--format", "json"],
                      home=home, environ={"HARDOCTOR_PIP_ETC_CONFIG": "",
                                          "XDG_CONFIG_DIRS": str(home / "xdg")})
    report = assert_valid_report(res.out)
    assert tok not in res.out + res.err
    expired = [f for f in report["findings"] if f["cause"] == "token-expired"]
    assert expired, [(f["rule"], f["message"]) for f in report["findings"]]
    text = json.dumps([f["remediation"] for f in report["findings"]])
    for vendor_words in ("Harness login", "-u EMAIL", "%40", "e-mail"):
        assert vendor_words not in text, vendor_words
    assert f"login {dead} -u ci " in text


def test_npm_tls_untrusted_is_never_green(home: Path, tmp_path: Path,
                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    """npm against verdaccio serving https with a private CA npm is not told
    about: npm fails, and the npm registry's group must not be ✓ (the TLS
    finding is keyed by host, the npm resolution by URL: they are one
    registry).  With ``cafile`` npm succeeds and hardoctor agrees."""
    from tests.servers.tlsca import private_ca
    from tests.servers.verdaccio import Verdaccio, verdaccio_entry

    try:
        verdaccio_entry()
        require_binary("npm")
    except MissingBinaryError as exc:
        server_missing(str(exc))
    ca, cert, key = private_ca(tmp_path_factory.mktemp("ca"))
    with Verdaccio(tls=(ca, cert, key)) as reg:
        token = reg.add_user("dev", "hd-edge-Pass-01")
        reg.publish("hd-tls", "1.0.0", token)
        npmrc = home / ".npmrc"
        npmrc.write_text(f"registry={reg.url}\n//{reg.host}/:_authToken={token}\n")
        npmrc.chmod(0o600)
        env = {"NODE_EXTRA_CA_CERTS": None, "SSL_CERT_FILE": None}

        def view() -> subprocess.CompletedProcess[str]:
            (tmp_path / "global-npmrc").write_text("")
            run_env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(home),
                       "LANG": "C.UTF-8", "npm_config_cache": str(tmp_path / "npm-cache"),
                       "npm_config_globalconfig": str(tmp_path / "global-npmrc"),
                       "npm_config_fetch_retries": "0", "npm_config_update_notifier": "false"}
            return subprocess.run(["npm", "view", "hd-tls", "version"], cwd=home, env=run_env,
                                  capture_output=True, text=True, timeout=120, check=False)

        assert view().returncode != 0
        text = run_cli(["check", "--timeout", "10", "npm:hd-tls"], home=home, environ=env)
        assert text.rc == 1, text
        verdicts = [ln for ln in text.out.splitlines() if ln[:2] in ("✓ ", "✗ ", "! ", "- ")]
        assert verdicts and not [v for v in verdicts if v.startswith("✓")], text.out
        assert [v for v in verdicts if v.startswith("✗") and "npm" in v], text.out
        assert token not in text.out + text.err

        npmrc.write_text(npmrc.read_text() + f"cafile={ca}\n")
        assert view().stdout.strip() == "1.0.0"
        after = run_cli(["check", "--timeout", "10", "npm:hd-tls"], home=home, environ=env)
        assert after.rc == 0 and "✗" not in after.out, after.out
