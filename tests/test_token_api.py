"""The Harness plugin's token API client against the Harness API emulator: expiry of valid,
expiring-soon, expired, revoked and no-expiry tokens; the caller-key flow;
the origin rules (https / loopback / declared, no redirects); one deadline;
one request per token per run; concurrency."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.servers.harness_api import DAY_MS, HarnessApi, Recorder

from hardoctor.context import Context, Options
from hardoctor.env import Environment
from hardoctor.model import Secret
from hardoctor.plugins import PluginManager
from hardoctor_harness import tokenapi as token_api

ROOT = Path(__file__).resolve().parents[1]
#: Options the Harness plugin adds (they arrive as ``Options.extra``).
HARNESS_OPTIONS = ("harness_api", "harness_host", "no_token_api")


def harness_options(**options: Any) -> Options:
    extra = {k: options.pop(k) for k in HARNESS_OPTIONS if k in options}
    return Options(**options, extra=extra)


def make_ctx(home: Path, environ: dict[str, str] | None = None, **options: Any) -> Context:
    manager = PluginManager(autoload=False)
    manager.load()
    env = Environment(
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        stdin=io.StringIO(""),
        environ=environ or {},
        cwd=str(home),
        home=str(home),
    )
    ctx = Context(harness_options(**options), env, manager.rules, manager)
    manager.call("hardoctor_configure", ctx=ctx)
    return ctx


@pytest.fixture
def api() -> Any:
    with HarnessApi() as server:
        yield server


def near(dt: datetime | None, ms: int) -> bool:
    assert dt is not None
    return abs(dt.timestamp() * 1000 - ms) < 2


def test_valid_token_validto_in_epoch_ms(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token("AcmeX1", valid_days=30, age_days=2, name="setup-client")
    ctx = make_ctx(tmp_path, harness_api=api.url)
    ans = token_api.lookup(ctx, Secret(tok.value), "AcmeX1")
    assert ans.outcome == "ok" and ans.status == 200 and ans.valid is True
    assert near(ans.valid_to, tok.valid_to) and near(ans.valid_from, tok.valid_from)
    assert ans.name == "setup-client" and ans.email == "dev@acme.io" and ans.api_key_type == "USER"
    assert ans.caller == "the token itself" and not ans.no_expiry
    (req,) = api.requests
    assert req.method == "POST" and req.path == "/gateway/ng/api/token/validate"
    assert req.query == {"accountIdentifier": ["AcmeX1"]}
    assert req.headers["x-api-key"] == tok.value
    assert req.headers["content-type"] == "text/plain"
    assert req.body == tok.value


def test_no_expiry_token(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token("AcmeX1", kind="sat", valid_days=None)
    ans = token_api.lookup(make_ctx(tmp_path, harness_api=api.url), Secret(tok.value), "AcmeX1")
    assert ans.outcome == "ok" and ans.no_expiry and ans.valid_to is None
    assert ans.api_key_type == "SERVICE_ACCOUNT"


def test_expired_token_without_caller_key(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token("AcmeX1", valid_days=30, age_days=40)
    ans = token_api.lookup(make_ctx(tmp_path, harness_api=api.url), Secret(tok.value), "AcmeX1")
    assert ans.outcome == "expired" and ans.status == 401 and ans.valid_to is None


def test_expired_token_bare_401_is_only_rejected(tmp_path: Path) -> None:
    with HarnessApi(explain_401=False) as api:
        tok = api.new_token("AcmeX1", valid_days=30, age_days=40)
        ans = token_api.lookup(make_ctx(tmp_path, harness_api=api.url), Secret(tok.value), "AcmeX1")
    assert ans.outcome == "rejected" and ans.status == 401


def test_caller_key_learns_an_expired_tokens_date(api: HarnessApi, tmp_path: Path) -> None:
    caller = api.new_token("AcmeX1", valid_days=None, name="my-cli-key")
    tok = api.new_token("AcmeX1", valid_days=30, age_days=40)
    ctx = make_ctx(tmp_path, {"HARNESS_API_KEY": caller.value}, harness_api=api.url)
    ans = token_api.lookup(ctx, Secret(tok.value), "AcmeX1")
    assert ans.outcome == "ok" and ans.valid is False and ans.caller == "HARNESS_API_KEY"
    assert near(ans.valid_to, tok.valid_to)
    (req,) = api.requests
    assert req.headers["x-api-key"] == caller.value and req.body == tok.value


def test_revoked_token_with_and_without_caller(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token("AcmeX1", revoked=True)
    ans = token_api.lookup(make_ctx(tmp_path, harness_api=api.url), Secret(tok.value), "AcmeX1")
    assert ans.outcome == "rejected" and ans.status == 401
    caller = api.new_token("AcmeX1", valid_days=None)
    ctx = make_ctx(tmp_path, {"HARNESS_API_KEY": caller.value}, harness_api=api.url)
    ans = token_api.lookup(ctx, Secret(tok.value), "AcmeX1")
    assert ans.outcome == "rejected" and ans.status == 400  # the caller was fine, the body was not
    assert len(api.requests) == 2  # no second, self-authenticated attempt needed


def test_broken_caller_key_falls_back_to_the_token(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token("AcmeX1", valid_days=30, age_days=1)
    ctx = make_ctx(
        tmp_path, {"HARNESS_API_KEY": "pat.AcmeX1.deadbeef.revokedlongago"}, harness_api=api.url
    )
    ans = token_api.lookup(ctx, Secret(tok.value), "AcmeX1")
    assert ans.outcome == "ok" and ans.caller_rejected and ans.caller == "the token itself"
    assert [r.headers["x-api-key"] for r in api.requests] == [
        "pat.AcmeX1.deadbeef.revokedlongago",
        tok.value,
    ]


def test_caller_key_precedence(tmp_path: Path) -> None:
    (tmp_path / ".harness").mkdir()
    (tmp_path / ".harness" / "auth.json").write_text(
        json.dumps(
            {"token": "from-auth-json", "base_url": "https://app.harness.io", "account_id": "A"}
        )
    )
    ctx = make_ctx(tmp_path)
    key = token_api.caller_key(ctx)
    assert key is not None and key.origin == "~/.harness/auth.json"
    assert key.secret.reveal() == "from-auth-json"
    ctx = make_ctx(tmp_path, {"HARNESS_API_KEY": "from-env"})
    key = token_api.caller_key(ctx)
    assert key is not None and key.origin == "HARNESS_API_KEY"
    ctx.stash[token_api.STDIN_KEY] = Secret("from-stdin")
    key = token_api.caller_key(ctx)
    assert key is not None and key.origin == "--harness-api-key-stdin"
    (tmp_path / ".harness" / "auth.json").write_text("{not json")
    assert token_api.caller_key(make_ctx(tmp_path)) is None
    assert "from-env" not in repr(key)


def test_one_request_per_token_per_run(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token("AcmeX1")
    ctx = make_ctx(tmp_path, harness_api=api.url)
    for _ in range(4):  # the same token stored in four places
        assert token_api.lookup(ctx, Secret(tok.value), "AcmeX1").outcome == "ok"
    assert len(api.requests) == 1
    assert token_api.cached(ctx, Secret(tok.value), "AcmeX1") is not None
    # a new run asks again
    token_api.lookup(make_ctx(tmp_path, harness_api=api.url), Secret(tok.value), "AcmeX1")
    assert len(api.requests) == 2


def test_lookups_run_concurrently_under_one_deadline(tmp_path: Path) -> None:
    with HarnessApi(delay=0.6) as api:
        toks = [api.new_token("AcmeX1") for _ in range(5)]
        ctx = make_ctx(tmp_path, harness_api=api.url)
        t0 = time.monotonic()
        answers = token_api.lookup_many(ctx, [(Secret(t.value), "AcmeX1") for t in toks])
        elapsed = time.monotonic() - t0
    assert [a.outcome for a in answers] == ["ok"] * 5
    assert elapsed < 2.0, f"5 lookups of 0.6 s each took {elapsed:.2f} s: not concurrent"


def test_deadline(tmp_path: Path) -> None:
    with HarnessApi(delay=3.0) as api:
        tok = api.new_token("AcmeX1")
        ctx = make_ctx(tmp_path, harness_api=api.url, timeout=0.5)
        t0 = time.monotonic()
        ans = token_api.lookup(ctx, Secret(tok.value), "AcmeX1")
        assert time.monotonic() - t0 < 2.0
        assert ans.outcome == "timeout"
        # the shared deadline has passed: a later lookup in the run sends nothing
        other = api.new_token("AcmeX1")
        count = len(api.requests)
        assert token_api.lookup(ctx, Secret(other.value), "AcmeX1").outcome == "timeout"
        time.sleep(0.1)
        assert len(api.requests) == count


def test_redirects_are_not_followed(tmp_path: Path) -> None:
    with Recorder() as elsewhere, HarnessApi() as api:
        api.redirect_to = elsewhere.origin + "/steal"
        tok = api.new_token("AcmeX1")
        ans = token_api.lookup(make_ctx(tmp_path, harness_api=api.url), Secret(tok.value), "AcmeX1")
        assert ans.outcome == "error" and ans.status == 307 and "not followed" in ans.detail
        assert elsewhere.requests == []


def test_off_when_offline_or_no_token_api(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token("AcmeX1")
    for ctx in (
        make_ctx(tmp_path, harness_api=api.url, offline=True),
        make_ctx(tmp_path, harness_api=api.url, no_token_api=True),
    ):
        assert token_api.lookup(ctx, Secret(tok.value), "AcmeX1").outcome == "refused"
    assert api.requests == []


def test_origin_rules() -> None:
    assert token_api.origin_problem("https://app.harness.io/gateway") is None
    assert token_api.origin_problem("http://127.0.0.1:8080/gateway") is None
    assert token_api.origin_problem("http://[::1]:8080") is None
    assert token_api.origin_problem("http://localhost:1/") is None
    assert token_api.origin_problem("http://harness.corp:8080/gateway") is not None
    assert (
        token_api.origin_problem("http://harness.corp:8080/gateway", ["harness.corp:8080"]) is None
    )
    assert token_api.origin_problem("http://harness.corp:8080/gateway", ["harness.corp"]) is None
    assert token_api.origin_problem("http://harness.corp:8080/gateway", ["other:8080"]) is not None
    assert token_api.origin_problem("https://user:pw@app.harness.io") is not None
    assert token_api.origin_problem("ftp://app.harness.io") is not None


def test_plain_http_to_an_undeclared_host_sends_nothing(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, harness_api="http://harness-api.invalid:9/gateway")
    ans = token_api.lookup(ctx, Secret("pat.A.b.c"), "A")
    assert ans.outcome == "refused" and "https" in ans.detail


def test_unreachable(tmp_path: Path) -> None:
    from tests.servers.util import free_port

    ctx = make_ctx(tmp_path, harness_api=f"http://127.0.0.1:{free_port()}/gateway")
    assert token_api.lookup(ctx, Secret("pat.A.b.cccccccccc"), "A").outcome == "unreachable"


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (401, '{"message":"Unauthorized"}', "rejected"),
        (401, '{"code":"EXPIRED_TOKEN"}', "expired"),
        (400, '{"code":"INVALID_TOKEN"}', "rejected"),
        (403, '{"code":"ACCESS_DENIED"}', "denied"),
        (500, "oops", "error"),
        (200, "{}", "error"),
        (302, "", "error"),
    ],
)
def test_parse_answer(status: int, body: str, outcome: str) -> None:
    assert token_api.parse_answer(status, body, "https://x/v", "k").outcome == outcome


def test_parse_answer_epoch_ms() -> None:
    valid_to = int(datetime(2026, 11, 21, tzinfo=timezone.utc).timestamp() * 1000)
    doc = {
        "status": "SUCCESS",
        "data": {"validTo": valid_to, "validFrom": valid_to - 30 * DAY_MS, "valid": True},
    }
    ans = token_api.parse_answer(200, json.dumps(doc), "u", "k")
    assert ans.valid_to == datetime(2026, 11, 21, tzinfo=timezone.utc)
    assert ans.valid_from == datetime(2026, 11, 21, tzinfo=timezone.utc) - timedelta(days=30)
    zero = token_api.parse_answer(200, json.dumps({"data": {"validTo": 0}}), "u", "k")
    assert zero.no_expiry and zero.valid_to is None


def test_read_api_key_stdin(tmp_path: Path) -> None:
    env = Environment(stdin=io.StringIO("  key-value \n"), environ={}, home=str(tmp_path))
    assert token_api.read_api_key_stdin(env).reveal() == "key-value"
    with pytest.raises(ValueError):
        token_api.read_api_key_stdin(Environment(stdin=io.StringIO(""), environ={}))
    with pytest.raises(ValueError):
        token_api.read_api_key_stdin(Environment(stdin=io.StringIO("a\nb\n"), environ={}))


def test_offline_run_does_not_import_httpx(tmp_path: Path) -> None:
    code = (
        "import io, sys\n"
        "from hardoctor.cli import main\n"
        "from hardoctor.env import Environment\n"
        "env = Environment(stdout=io.StringIO(), stderr=io.StringIO(),\n"
        "    stdin=io.StringIO('pat.AcmeX1.6418b2a4ef2d1e3b41cb12a1.Zk3qW9rT2vXy8LmN0pQa'),\n"
        f"    environ={{'HOME': {str(tmp_path)!r}}},\n"
        f"    home={str(tmp_path)!r}, cwd={str(tmp_path)!r})\n"
        "rc = main(['token', 'inspect', '--offline'], env=env)\n"
        "print(rc, 'httpx' in sys.modules)\n"
    )
    paths = [str(ROOT / "src"), str(ROOT / "plugins")]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(paths),
        "HOME": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout
    assert out.split() == ["0", "False"], out
