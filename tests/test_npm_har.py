"""HAR-specific npm cases against the HAR npm-route emulator (and, for
expiry, the Harness API emulator), with real `npm` as the client: account
mismatch, an expired PAT, a 403, and a HAR URL of the wrong type."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers.har_npm import HarNpm
from tests.servers.harness_api import HarnessApi

ACCT = "AcmeX1"
REG = "npm-prod"


@pytest.fixture
def har() -> Iterator[HarNpm]:
    with HarNpm() as server:
        server.add_registry(ACCT, REG)
        server.add_registry(ACCT, "maven-prod", package_type="maven")
        server.add_package(ACCT, REG, "left-pad", "1.3.0")
        server.add_package(ACCT, REG, "@acme/lib", "2.0.0")
        yield server


@pytest.fixture
def api() -> Iterator[HarnessApi]:
    with HarnessApi() as server:
        yield server


def _env(tmp: Path) -> dict[str, str]:
    (tmp / "global-npmrc").write_text("")
    return {"npm_config_cache": str(tmp / "cache"),
            "npm_config_globalconfig": str(tmp / "global-npmrc"),
            "npm_config_update_notifier": "false", "npm_config_fetch_retries": "0",
            "npm_config_audit": "false", "npm_config_fund": "false"}


def write_npmrc(home: Path, text: str) -> Path:
    path = home / ".npmrc"
    path.write_text(text)
    path.chmod(0o600)
    return path


def npm(home: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "HOME": str(home),
           **_env(tmp)}
    return subprocess.run(["npm", *args], cwd=home, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def check(home: Path, tmp: Path, har: HarNpm, *args: str, api: HarnessApi | None = None) -> dict:
    argv = ["check", "--format", "json", "--harness-host", har.host, *args]
    argv += ["--harness-api", api.url] if api else ["--no-token-api"]
    res = run_cli(argv, home=home, environ=_env(tmp))
    assert res.rc in (0, 1), res
    return assert_valid_report(res.out)


def by_rule(report: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in report["findings"]}


def test_good_token_is_clean(har: HarNpm, home: Path, tmp_path: Path) -> None:
    tok = har.new_token(ACCT)
    url = har.registry_url(ACCT, REG)
    write_npmrc(home, f"registry={url}\n//{har.host}/pkg/{ACCT}/{REG}/npm/:_authToken={tok.value}\n")
    assert npm(home, tmp_path, "view", "left-pad", "version").stdout.strip() == "1.3.0"
    report = check(home, tmp_path, har, "npm:left-pad")
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
    (probe,) = report["probes"]
    assert probe["status"] == 200 and probe["outcome"] == "ok"
    assert har.requests[-1].auth == "bearer"
    cred = report["credentials"][0]
    assert cred["secret"]["kind"] == "harness-pat" and cred["secret"]["account_id"] == ACCT


def test_account_mismatch(har: HarNpm, home: Path, tmp_path: Path) -> None:
    other = har.new_token("OtherAcct9")
    good = har.new_token(ACCT)
    url = har.registry_url(ACCT, REG)
    write_npmrc(home, f"registry={url}\n//{har.host}/pkg/{ACCT}/{REG}/npm/:_authToken={other.value}\n")
    before = npm(home, tmp_path, "view", "left-pad", "version")
    assert before.returncode != 0 and "E401" in before.stderr

    found = by_rule(check(home, tmp_path, har, "npm:left-pad"))
    # The harness plugin compares the token's account with the key's account ...
    assert found["HAR105"]["cause"] == "account-mismatch"
    assert found["HAR105"]["location"]["line"] == 2
    # ... and the probe's 401 tells the same story: one finding, both pieces of evidence.
    assert "NPM101" not in found
    evidence = " ".join(found["HAR105"]["evidence"])
    assert "-> 401" in evidence and "also reported as NPM101" in evidence

    write_npmrc(home, f"registry={url}\n//{har.host}/pkg/{ACCT}/{REG}/npm/:_authToken={good.value}\n")
    assert npm(home, tmp_path, "view", "left-pad", "version").returncode == 0


def test_expired_pat(har: HarNpm, api: HarnessApi, home: Path, tmp_path: Path) -> None:
    old = api.new_token(ACCT, valid_days=30, age_days=45)
    har.add_token(old.value, ACCT, expired=True)
    url = har.registry_url(ACCT, REG)
    write_npmrc(home, f"registry={url}\n//{har.host}/pkg/{ACCT}/{REG}/npm/:_authToken={old.value}\n")
    before = npm(home, tmp_path, "view", "@acme/lib", "version")
    assert before.returncode != 0 and "E401" in before.stderr

    found = by_rule(check(home, tmp_path, har, "npm:@acme/lib", api=api))
    assert found["HAR101"]["cause"] == "token-expired"
    assert found["HAR101"]["location"]["line"] == 2
    evidence = " ".join(found["HAR101"]["evidence"])
    assert "-> 401" in evidence and "also reported as NPM101" in evidence

    fresh = api.new_token(ACCT)
    har.add_token(fresh.value, ACCT)
    write_npmrc(home, f"registry={url}\n//{har.host}/pkg/{ACCT}/{REG}/npm/:_authToken={fresh.value}\n")
    assert npm(home, tmp_path, "view", "@acme/lib", "version").stdout.strip() == "2.0.0"


def test_forbidden(har: HarNpm, home: Path, tmp_path: Path) -> None:
    tok = har.new_token(ACCT, {"other-reg": {"read"}})
    url = har.registry_url(ACCT, REG)
    write_npmrc(home, f"registry={url}\n//{har.host}/pkg/{ACCT}/{REG}/npm/:_authToken={tok.value}\n")
    before = npm(home, tmp_path, "view", "left-pad", "version")
    assert before.returncode != 0 and "E403" in before.stderr

    f = by_rule(check(home, tmp_path, har, "npm:left-pad"))["NPM103"]
    assert f["cause"] == "permission-denied"
    text = " ".join(f["remediation"]["steps"])
    assert "webhook" in text and "read" in text  # the principal story


def test_quarantined_package_is_policy(har: HarNpm, home: Path, tmp_path: Path) -> None:
    har.accounts[ACCT][REG].quarantined.add("left-pad")
    tok = har.new_token(ACCT)
    url = har.registry_url(ACCT, REG)
    write_npmrc(home, f"registry={url}\n//{har.host}/pkg/{ACCT}/{REG}/npm/:_authToken={tok.value}\n")
    f = by_rule(check(home, tmp_path, har, "npm:left-pad"))["NPM103"]
    assert f["cause"] == "blocked-by-policy"


def test_wrong_package_type_url(har: HarNpm, home: Path, tmp_path: Path) -> None:
    tok = har.new_token(ACCT)
    url = f"http://{har.host}/pkg/{ACCT}/maven-prod/maven/"
    write_npmrc(home, f"registry={url}\n//{har.host}/pkg/{ACCT}/maven-prod/maven/:_authToken={tok.value}\n")
    found = by_rule(check(home, tmp_path, har, "--offline"))
    assert found["NPM022"]["cause"] == "wrong-url"
    assert found["NPM022"]["location"]["line"] == 1


def test_no_token_for_har_registry(har: HarNpm, home: Path, tmp_path: Path) -> None:
    url = har.registry_url(ACCT, REG)
    write_npmrc(home, f"@acme:registry={url}\n")
    offline = by_rule(check(home, tmp_path, har, "--offline"))
    assert offline["NPM009"]["cause"] == "no-credentials"
    online = by_rule(check(home, tmp_path, har, "npm:@acme/lib"))
    assert online["NPM102"]["severity"] == "error"
