"""The CLI side: `hardoctor token inspect` (stdin only, text and JSON, API
lookups, exit codes), `--harness-api-key-stdin`, and the end-to-end story
through `hardoctor check` with the HAR registry emulator and the Harness API
emulator -- including where the token went, and that no output holds it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from tests.helpers import Result, assert_no_traceback, assert_usage_error, run_cli
from tests.servers.har_registry import HarRegistry
from tests.servers.harness_api import HarnessApi, Recorder

NOW = datetime.now(timezone.utc)
PAT = "pat.AcmeX1bcDEfgHIjkLMno12.6418b2a4ef2d1e3b41cb12a1.Zk3qW9rT2vXy8LmN0pQa"


def secret_forms(*values: str) -> list[str]:
    out: list[str] = []
    for v in values:
        raw = v.encode()
        out += [
            v,
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
            repr(v),
        ]
    return out


def assert_no_secret(result: Result, *values: str) -> None:
    for form in secret_forms(*values):
        assert form not in result.out and form not in result.err, f"leak of {form[:6]}… in output"


@pytest.fixture
def api() -> Iterator[HarnessApi]:
    with HarnessApi() as server:
        yield server


# ------------------------------------------------------------- token inspect


def test_inspect_pat_offline(tmp_path: Path) -> None:
    r = run_cli(["token", "inspect", "--offline"], home=tmp_path, stdin=PAT + "\n")
    assert r.rc == 0, str(r)
    assert "harness-pat" in r.out and "AcmeX1bcDEfgHIjkLMno12" in r.out
    assert "6418b2a4ef2d1e3b41cb12a1" in r.out and "#" in r.out
    assert "not asked" in r.out
    assert_no_secret(r, PAT, "Zk3qW9rT2vXy8LmN0pQa")


def test_inspect_json(tmp_path: Path) -> None:
    r = run_cli(["token", "inspect", "--offline", "--format", "json"], home=tmp_path, stdin=PAT)
    assert r.rc == 0, str(r)
    doc = r.json()
    assert doc["schema"] == "hardoctor/token/v1"
    assert doc["kind"] == "harness-pat" and doc["account_id"] == "AcmeX1bcDEfgHIjkLMno12"
    assert doc["token_id"] == "6418b2a4ef2d1e3b41cb12a1" and len(doc["fingerprint"]) == 8
    assert (
        doc["expiry_source"] == "unknown" and doc["status"] == "unknown" and doc["problems"] == []
    )
    assert_no_secret(r, PAT, "Zk3qW9rT2vXy8LmN0pQa")


def test_inspect_jwt_expired_exits_1(tmp_path: Path) -> None:
    token = jwt.encode(
        {
            "iss": "har",
            "sub": "dev",
            "iat": int((NOW - timedelta(days=2)).timestamp()),
            "exp": int((NOW - timedelta(days=1)).timestamp()),
        },
        "k" * 32,
    )
    r = run_cli(["token", "inspect", "--format", "json"], home=tmp_path, stdin=token)
    assert r.rc == 1, str(r)
    doc = r.json()
    assert doc["kind"] == "jwt" and doc["status"] == "expired" and doc["expiry_source"] == "token"
    assert doc["issued_at"] and doc["expires_at"] and doc["details"]["iss"] == "har"
    assert_no_secret(r, token)


def test_inspect_malformed_exits_1(tmp_path: Path) -> None:
    r = run_cli(["token", "inspect", "--offline"], home=tmp_path, stdin=f'"{PAT}"')
    assert r.rc == 1 and "quotes" in r.out
    assert_no_secret(r, PAT)


def test_inspect_asks_the_api(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token("AcmeX1", valid_days=30, age_days=10, name="laptop")
    r = run_cli(
        ["token", "inspect", "--harness-api", api.url, "--format", "json"],
        home=tmp_path,
        stdin=tok.value,
    )
    assert r.rc == 0, str(r)
    doc = r.json()
    assert doc["expiry_source"] == "harness-api" and doc["status"] == "valid"
    assert doc["details"]["name"] == "laptop"
    expected = datetime.fromtimestamp(tok.valid_to / 1000, timezone.utc)
    assert abs(
        datetime.fromisoformat(doc["expires_at"].replace("Z", "+00:00")) - expected
    ) < timedelta(seconds=1)
    assert len(api.requests) == 1
    text = run_cli(["token", "inspect", "--harness-api", api.url], home=tmp_path, stdin=tok.value)
    assert "from the Harness API" in text.out and "in 20.0 days" in text.out
    assert_no_secret(r, tok.value)
    assert_no_secret(text, tok.value)


def test_inspect_expired_via_caller_key(api: HarnessApi, tmp_path: Path) -> None:
    caller = api.new_token("AcmeX1", valid_days=None)
    tok = api.new_token("AcmeX1", valid_days=30, age_days=45)
    r = run_cli(
        ["token", "inspect", "--harness-api", api.url],
        home=tmp_path,
        stdin=tok.value,
        environ={"HARNESS_API_KEY": caller.value},
    )
    assert r.rc == 1 and "expired" in r.out and "from the Harness API" in r.out
    assert api.requests[0].headers["x-api-key"] == caller.value
    assert_no_secret(r, tok.value, caller.value)


def test_inspect_no_token_api_sends_nothing(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token("AcmeX1")
    for flag in ("--no-token-api", "--offline"):
        r = run_cli(
            ["token", "inspect", "--harness-api", api.url, flag], home=tmp_path, stdin=tok.value
        )
        assert r.rc == 0, str(r)
    r = run_cli(
        ["token", "inspect", "--harness-api", api.url],
        home=tmp_path,
        stdin=tok.value,
        environ={"HARDOCTOR_NO_TOKEN_API": "1"},
    )
    assert r.rc == 0 and api.requests == []


def test_inspect_empty_stdin_is_one_line_exit_2(tmp_path: Path) -> None:
    for stdin in ("", "\n", "   \n"):
        r = run_cli(["token", "inspect"], home=tmp_path, stdin=stdin)
        assert r.rc == 2 and r.out == ""
        assert_no_traceback(r)
        assert r.err.count("\n") == 1 and r.err.startswith("hardoctor: error: no token on stdin")


def test_inspect_refuses_more_than_one_token(tmp_path: Path) -> None:
    r = run_cli(["token", "inspect"], home=tmp_path, stdin=f"{PAT}\n{PAT}x\n")
    assert r.rc == 2 and "2 lines" in r.err
    assert_no_secret(r, PAT)


def test_inspect_never_takes_the_token_from_argv(tmp_path: Path) -> None:
    r = run_cli(["token", "inspect", PAT], home=tmp_path, stdin="")
    line = assert_usage_error(r, "stdin")
    assert PAT not in line
    assert_no_secret(r, PAT)
    assert_usage_error(run_cli(["token"], home=tmp_path), "inspect")


# ------------------------------------------------------ --harness-api-key-stdin


def test_harness_api_key_stdin(tmp_path: Path) -> None:
    r = run_cli(["check", "--offline", "--harness-api-key-stdin"], home=tmp_path, stdin="")
    assert_usage_error(r, "--harness-api-key-stdin")
    r = run_cli(
        ["check", "--offline", "--harness-api-key-stdin", "--manifests", "-"],
        home=tmp_path,
        stdin="key\n",
    )
    assert_usage_error(r, "stdin")
    r = run_cli(
        ["check", "--offline", "--harness-api-key-stdin"], home=tmp_path, stdin="key-value\n"
    )
    assert r.rc == 0, str(r)


# ----------------------------------------------------- the end-to-end story


def docker_config(home: Path, host: str, username: str, token: str, age_days: float) -> Path:
    path = home / ".docker" / "config.json"
    path.parent.mkdir(parents=True)
    auth = base64.b64encode(f"{username}:{token}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": auth}}}, indent=2) + "\n")
    path.chmod(0o600)
    stamp = (NOW - timedelta(days=age_days)).timestamp()
    import os

    os.utime(path, (stamp, stamp))
    return path


def test_check_expired_token_story_and_where_the_token_went(tmp_path: Path) -> None:
    """The registry gets the token only the way Docker sends it (Basic auth
    to its token endpoint); the Harness API gets it only on the validate
    endpoint; a third server, the API's redirect target, gets nothing."""
    home = tmp_path / "home"
    home.mkdir()
    with HarRegistry() as registry, HarnessApi() as api, Recorder() as elsewhere:
        registry.add_registry("acmex1", "docker-prod")
        registry.push("acmex1", "docker-prod", "web", "1.4")
        token = registry.new_token("AcmeX1", {"docker-prod": ["read"]}, expired=True)
        api.add_token(token, valid_days=30, age_days=41)
        caller = api.new_token("AcmeX1", valid_days=None)
        docker_config(home, registry.host, "dev@acme.io", token, age_days=41)
        argv = [
            "check",
            f"{registry.host}/acmex1/docker-prod/web:1.4",
            "--format",
            "json",
            "--harness-host",
            registry.host,
            "--harness-api",
            api.url,
            "--timeout",
            "5",
        ]
        r = run_cli(argv, home=home, environ={"HARNESS_API_KEY": caller.value})
        assert r.rc == 1, str(r)
        report = r.report()
        (finding,) = [f for f in report["findings"] if f["rule"] == "HAR101"]
        date = (
            datetime.fromtimestamp(api.tokens[token].valid_to / 1000, timezone.utc)
            .date()
            .isoformat()
        )
        assert finding["severity"] == "error" and finding["cause"] == "token-expired"
        assert f"expired on {date} (from the Harness API)" in finding["message"]
        assert any("docker login" in c for c in finding["remediation"]["commands"])
        (cred,) = report["credentials"]
        assert cred["secret"]["kind"] == "harness-pat" and cred["secret"]["status"] == "expired"
        assert cred["secret"]["expiry_source"] == "harness-api"
        assert_no_secret(r, token, caller.value)

        # where the token went
        at_api = api.received(token)
        assert at_api and all(
            q.path == "/gateway/ng/api/token/validate" and q.body == token for q in at_api
        )
        assert all(
            q.headers.get("x-api-key") != token for q in at_api
        )  # the caller key authenticated
        for q in registry.requests:
            assert "x-api-key" not in q.headers
            auth = q.headers.get("authorization", "")
            if token in (base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else ""):
                assert q.path == "/v2/token"
        assert elsewhere.requests == []

        # redirects from the API are not followed: the decoy still gets nothing
        api.redirect_to = elsewhere.origin + "/collect"
        r = run_cli(argv, home=home, environ={"HARNESS_API_KEY": caller.value})
        assert elsewhere.requests == [] and r.rc == 1
        assert_no_secret(r, token, caller.value)

        # offline: nobody gets anything, and the estimate says so
        before = (len(api.requests), len(registry.requests))
        r = run_cli([*argv[:2], "--offline", "--harness-host", registry.host], home=home)
        assert (len(api.requests), len(registry.requests)) == before
        assert "probably expired" in r.out and "estimated" in r.out
        assert_no_secret(r, token)


def test_check_text_output_holds_no_secret(api: HarnessApi, tmp_path: Path) -> None:
    with HarRegistry() as registry:
        registry.add_registry("acmex1", "docker-prod")
        token = registry.new_token("AcmeX1", {"docker-prod": ["read"]})
        api.add_token(token, valid_days=30, age_days=28)
        docker_config(tmp_path, registry.host, "dev@acme.io", token, age_days=28)
        r = run_cli(
            [
                "check",
                "--harness-api",
                api.url,
                "--harness-host",
                registry.host,
                "--no-color",
                f"{registry.host}/acmex1/docker-prod/web:1",
            ],
            home=tmp_path,
        )
    assert_no_traceback(r)
    assert "HAR102" in r.out and "from the Harness API" in r.out
    assert_no_secret(r, token)
