"""The HAR plugin's hooks, exercised directly with hand-built credentials:
PAT/SAT parsing, HAR URLs, decoding with expiry from the API or estimated,
the TOK/HAR findings, "also stored in", remediation text, and the whole
story through the engine with a fake credentials plugin."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jwt
import pytest
from tests.servers.harness_api import HarnessApi

import hardoctor_harness as har
from hardoctor import engine, hookimpl
from hardoctor.context import Context, Options
from hardoctor.env import Environment
from hardoctor.model import (
    Credential,
    Finding,
    Location,
    ProbeResult,
    Resolution,
    Secret,
    Severity,
    Source,
    Target,
)
from hardoctor.plugins import PluginManager
from hardoctor.report import to_dict
from hardoctor.tokencheck import token_rules
from hardoctor_harness import diagnose, urls
from hardoctor_harness.pat import parse_harness_token
from hardoctor_harness.remediation import permission_remediation
from hardoctor_harness.rules import RULES

NOW = datetime.now(timezone.utc)
ACCT = "AcmeX1bcDEfgHIjkLMno12"
PAT = f"pat.{ACCT}.6418b2a4ef2d1e3b41cb12a1.Zk3qW9rT2vXy8LmN0pQa"
SAT = f"sat.{ACCT}.6418b2a4ef2d1e3b41cb12ff.Qq3qW9rT2vXy8LmN0pQb"


def make_ctx(
    home: Path,
    environ: dict[str, str] | None = None,
    manager: PluginManager | None = None,
    **options: Any,
) -> Context:
    if manager is None:
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
    options.setdefault("offline", True)
    # The Harness plugin's own options arrive as Options.extra.
    extra = {k: options.pop(k) for k in ("harness_api", "harness_host", "no_token_api") if k in options}
    ctx = Context(Options(**options, extra=extra), env, manager.rules, manager)
    manager.call("hardoctor_configure", ctx=ctx)
    return ctx


def cred(
    secret: str | None = PAT,
    *,
    id: str = "docker:1",
    ecosystem: str = "docker",
    registry: str = "pkg.harness.io",
    host: str = "pkg.harness.io",
    username: str | None = "dev@acme.io",
    path: str = "/home/u/.docker/config.json",
    line: int = 4,
    key: str | None = 'auths["pkg.harness.io"]',
    stored_days_ago: float | None = None,
    scheme: str = "basic",
    via: str = "auths",
    plugin: str = "docker",
) -> Credential:
    return Credential(
        id=id,
        ecosystem=ecosystem,
        registry=registry,
        host=host,
        source=f"{ecosystem}:src",
        location=Location(path, line, None, key),
        username=username,
        secret=Secret(secret) if secret is not None else None,
        scheme=scheme,
        via=via,
        stored_at=NOW - timedelta(days=stored_days_ago) if stored_days_ago is not None else None,
        plugin=plugin,
        clients=("docker",) if ecosystem == "docker" else (),
    )


def decode(c: Credential, ctx: Context) -> Credential:
    """As the engine does: prefetch (the token API lookups), then decode."""
    ctx.plugins.call("hardoctor_prefetch", credentials=[c], ctx=ctx)  # type: ignore[union-attr]
    found = ctx.plugins.call_first("hardoctor_decode_secret", credential=c, ctx=ctx)  # type: ignore[union-attr]
    assert found is not None
    return replace(c, token=found[1])


def check_all(c: Credential, ctx: Context) -> list[Finding]:
    """Every plugin's ``hardoctor_check_credential``: the Harness checks and
    the core's generic token checks (TOK)."""
    return [f for _, f in ctx.plugins.call_flat("hardoctor_check_credential", credential=c, ctx=ctx)]  # type: ignore[union-attr]


def check(c: Credential, ctx: Context) -> list[Finding]:
    return check_all(decode(c, ctx), ctx)


def rules_of(findings: Sequence[Finding]) -> list[str]:
    return sorted(f.rule for f in findings)


def assert_secret_free(objects: Sequence[object], *secrets: str) -> None:
    """No value, no base64 of it, in the repr/str of anything."""
    forms: set[str] = set()
    for s in secrets:
        forms |= {
            s,
            base64.b64encode(s.encode()).decode().rstrip("="),
            base64.urlsafe_b64encode(s.encode()).decode().rstrip("="),
        }
    for obj in objects:
        text = repr(obj) + str(obj)
        for form in forms:
            assert form not in text, f"secret form leaked in {type(obj).__name__}"


@pytest.fixture
def api() -> Iterator[HarnessApi]:
    with HarnessApi() as server:
        yield server


# ------------------------------------------------------------------- PAT/SAT


def test_parse_pat_and_sat() -> None:
    t = parse_harness_token(PAT)
    assert t is not None and t.kind == "harness-pat" and t.complete
    assert t.account == ACCT and t.token_id == "6418b2a4ef2d1e3b41cb12a1"
    assert t.display() == f"pat.{ACCT}.6418b2a4ef2d1e3b41cb12a1.…"
    s = parse_harness_token(SAT)
    assert s is not None and s.kind == "harness-sat" and s.complete
    assert parse_harness_token("npm_abc") is None and parse_harness_token("patent.x.y.z") is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (f"pat.{ACCT}.6418b2a4ef2d1e3b41cb12a1", "truncated"),  # secret missing
        (f"pat.{ACCT}.6418b2a4ef2d1e3b41cb12a1.Zk3", "truncated"),  # secret cut
        (f"pat.{ACCT}..Zk3qW9rT2vXy8LmN0pQa", "truncated"),
        (f"pat.{ACCT}", "segments"),
        (f"{PAT}.extra", "segments"),
        (f"pat.{ACCT}.6418b2a4ef2d1e3b41cb12a1.Zk3qW9rT2v/y8LmN0pQa", "bad-chars"),
        ("PAT" + PAT[3:], "prefix-case"),
    ],
)
def test_parse_broken_pats(value: str, code: str) -> None:
    t = parse_harness_token(value)
    assert t is not None and not t.complete
    assert code in [p.code for p in t.problems]


def test_legacy_three_segment_pat_is_not_truncated() -> None:
    t = parse_harness_token("pat.6418b2a4ef2d1e3b41cb12a1.Zk3qW9rT2vXy8LmN0pQa")
    assert t is not None and t.complete and t.legacy and t.account is None
    assert t.token_id == "6418b2a4ef2d1e3b41cb12a1"


# ---------------------------------------------------------------------- URLs


def test_har_hosts() -> None:
    assert urls.is_har_host("pkg.harness.io") and urls.is_har_host("PKG.harness.io:443")
    assert urls.is_har_host("pkg.eu.harness.io")
    assert not urls.is_har_host("app.harness.io") and not urls.is_har_host("docker.io")
    assert urls.is_har_host("127.0.0.1:5000", ["127.0.0.1:5000"])
    assert urls.is_har_host("har.corp:8443", ["har.corp"])
    assert not urls.is_har_host("har.corp:8443", ["har.corp:9000"])


@pytest.mark.parametrize(
    ("value", "layout", "account", "registry", "ptype"),
    [
        ("pkg.harness.io/acmex1/docker-prod/web:1.4", "oci", "acmex1", "docker-prod", "docker"),
        (
            "pkg.harness.io/acmex1/docker-prod/team/web@sha256:" + "a" * 64,
            "oci",
            "acmex1",
            "docker-prod",
            "docker",
        ),
        ("https://pkg.harness.io/pkg/AcmeX1/npm-prod/npm/", "pkg", "AcmeX1", "npm-prod", "npm"),
        (
            "//pkg.harness.io/pkg/AcmeX1/npm-prod/npm/:_authToken",
            "pkg",
            "AcmeX1",
            "npm-prod",
            "npm",
        ),
        ("https://pkg.harness.io/pkg/AcmeX1/py/python/simple", "pkg", "AcmeX1", "py", "python"),
        ("https://pkg.harness.io/pkg/AcmeX1/mvn/maven", "pkg", "AcmeX1", "mvn", "maven"),
        ("pkg.harness.io", "host", None, None, None),
        ("https://pkg.harness.io/v2/", "host", None, None, None),
    ],
)
def test_parse_har_url(
    value: str, layout: str, account: str | None, registry: str | None, ptype: str | None
) -> None:
    u = urls.parse_har_url(value)
    assert u is not None
    assert (u.layout, u.account, u.registry, u.package_type) == (layout, account, registry, ptype)
    assert u.host == "pkg.harness.io"


@pytest.mark.parametrize(
    ("value", "eco", "code", "suggestion"),
    [
        (
            "https://pkg.harness.io/AcmeX1/npm-prod/npm/",
            "npm",
            "HAR201",
            "https://pkg.harness.io/pkg/AcmeX1/npm-prod/npm/",
        ),
        (
            "https://pkg.harness.io/pkg/AcmeX1/py-prod/pip/simple",
            "pip",
            "HAR202",
            "https://pkg.harness.io/pkg/AcmeX1/py-prod/python/simple",
        ),
        ("https://pkg.harness.io/pkg/AcmeX1/npm-prod/", "npm", "HAR202", None),
        (
            "https://pkg.harness.io/pkg/AcmeX1/py-prod/pypi/simple/",
            "pip",
            "HAR203",
            "https://pkg.harness.io/pkg/AcmeX1/py-prod/python/simple/",
        ),
        (
            "https://pkg.harness.io/pkg/AcmeX1/default/shop/npm-prod/npm/",
            "npm",
            "HAR204",
            "https://pkg.harness.io/pkg/AcmeX1/npm-prod/npm/",
        ),
        (
            "pkg.harness.io/acmex1/default/shop/docker-prod/web:1",
            "docker",
            "HAR204",
            "pkg.harness.io/acmex1/docker-prod/web",
        ),
        (
            "pkg.harness.io/AcmeX1/docker-prod/web:1.4",
            "docker",
            "HAR205",
            "pkg.harness.io/acmex1/docker-prod/web",
        ),
        ("pkg.harness.io/web:1.4", "docker", "HAR206", None),
        ("pkg.harness.io/docker-prod/web:1.4", "docker", "HAR206", None),
        (
            "https://pkg.harness.io/pkg/AcmeX1/docker-prod/docker/web",
            "docker",
            "HAR207",
            "pkg.harness.io/acmex1/docker-prod/web",
        ),
    ],
)
def test_url_issues(value: str, eco: str, code: str, suggestion: str | None) -> None:
    u = urls.parse_har_url(value, oci=eco == "docker" and "/pkg/" not in value)
    assert u is not None
    issues = urls.url_issues(u, eco)
    assert [i.code for i in issues] == [code]
    assert issues[0].suggestion == suggestion


@pytest.mark.parametrize(
    ("value", "eco"),
    [
        ("https://pkg.harness.io/pkg/AcmeX1/npm-prod/npm/", "npm"),
        ("https://pkg.harness.io/pkg/AcmeX1/py-prod/python/simple", "pip"),
        ("https://pkg.harness.io/pkg/AcmeX1/mvn/maven", "maven"),
        ("https://pkg.harness.io/pkg/AcmeX1/charts/helm", "helm"),
        ("pkg.harness.io/acmex1/docker-prod/web:1.4", "docker"),
        ("pkg.harness.io/acmex1/docker-prod/team/web:1.4", "docker"),
        ("pkg.harness.io", "docker"),
    ],
)
def test_good_urls_have_no_issues(value: str, eco: str) -> None:
    u = urls.parse_har_url(value, oci=eco == "docker")
    assert u is not None and urls.url_issues(u, eco) == []


# -------------------------------------------------------------------- decode


def test_decode_offline_estimates_setup_client_expiry(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    c = decode(cred(stored_days_ago=45), ctx)
    info = c.token
    assert info is not None and info.kind == "harness-pat"
    assert info.account_id == ACCT and info.token_id == "6418b2a4ef2d1e3b41cb12a1"
    assert info.expiry_source == "estimated" and info.status == "expired"
    assert info.expires_at is not None and abs(
        info.expires_at - (NOW - timedelta(days=15))
    ) < timedelta(seconds=5)
    assert "Setup Client" in info.details["estimate"]
    assert info.details["api"]["outcome"] == "off"
    # SATs come from account settings: no estimate; nor for a non-HAR host
    assert decode(cred(SAT, stored_days_ago=45), ctx).token.status == "unknown"  # type: ignore[union-attr]
    other = cred(host="registry.example.com", registry="registry.example.com", stored_days_ago=45)
    assert decode(other, ctx).token.expiry_source == "unknown"  # type: ignore[union-attr]


def test_decode_with_api(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token(ACCT, valid_days=30, age_days=27)
    ctx = make_ctx(tmp_path, offline=False, harness_api=api.url)
    info = decode(cred(tok.value, stored_days_ago=27), ctx).token
    assert (
        info is not None and info.expiry_source == "harness-api" and info.status == "expiring-soon"
    )
    assert info.issued_at is not None and info.details["email"] == "dev@acme.io"
    assert info.fingerprint == Secret(tok.value).fingerprint
    # a non-Harness secret falls through to the generic decoder
    npm = decode(cred("npm_" + "a" * 36, id="npm:1", ecosystem="npm"), ctx).token
    assert npm is not None and npm.kind == "basic" and npm.details["format"] == "npm-token"


# ----------------------------------------------------------- check_credential


def test_expired_offline_estimate_is_a_warning_that_says_estimated(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    (f,) = [f for f in check(cred(stored_days_ago=45), ctx) if f.rule == "HAR101"]
    assert f.severity is Severity.WARNING and f.cause == "token-expired"
    assert "probably expired" in f.message and "estimated" in f.message
    assert "Setup Client" in f.message and "not asked" in f.message


def test_expired_from_api_with_caller_key_names_date_source_and_places(
    api: HarnessApi, tmp_path: Path
) -> None:
    caller = api.new_token(ACCT, valid_days=None)
    tok = api.new_token(ACCT, valid_days=30, age_days=40)
    ctx = make_ctx(tmp_path, {"HARNESS_API_KEY": caller.value}, offline=False, harness_api=api.url)
    docker = cred(tok.value, stored_days_ago=40)
    npm = cred(
        tok.value + "\n",
        id="npm:1",
        ecosystem="npm",
        plugin="npm",
        registry="//pkg.harness.io/pkg/AcmeX1bcDEfgHIjkLMno12/npm-prod/npm/",
        path=str(tmp_path / ".npmrc"),
        line=2,
        key=None,
        username=None,
        via="",
    )
    k8s = cred(
        tok.value,
        id="k8s:1",
        ecosystem="k8s",
        plugin="k8s",
        path=str(tmp_path / "manifests" / "app.yaml"),
        line=7,
        key="Secret shop/har-pull",
    )
    # the engine prefetches and decodes all first, then checks each
    ctx.plugins.call("hardoctor_prefetch", credentials=[docker, npm, k8s], ctx=ctx)  # type: ignore[union-attr]
    decoded = [decode(c, ctx) for c in (docker, npm, k8s)]
    findings = [f for c in decoded for f in check_all(c, ctx)]
    expired = [f for f in findings if f.rule == "HAR101"]
    assert len(expired) == 3 and all(f.severity is Severity.ERROR for f in expired)
    date = datetime.fromtimestamp(tok.valid_to / 1000, timezone.utc).date().isoformat()
    first = next(f for f in expired if f.credential == "docker:1")
    assert f"expired on {date} (from the Harness API)" in first.message
    (also,) = [e for e in first.evidence if "also stored in" in e]
    assert (
        "~/.npmrc:2 (npm)" in also and "~/manifests/app.yaml:7 Secret shop/har-pull (k8s)" in also
    )
    rem = first.remediation
    assert rem is not None
    assert (
        "Set up client" in rem.steps[0] and "30 days" in rem.steps[0] and "API keys" in rem.steps[0]
    )
    assert any("keep working until their own expiry" in s for s in rem.steps)
    cmds = "\n".join(rem.commands)
    assert (
        "printf '%s' \"$TOKEN\" | docker login pkg.harness.io -u dev@acme.io --password-stdin"
        in cmds
    )
    assert f'npm config set //pkg.harness.io/pkg/{ACCT}/npm-prod/npm/:_authToken "$TOKEN"' in cmds
    assert (
        "kubectl create secret docker-registry har-pull --docker-server=pkg.harness.io "
        '--docker-username=dev@acme.io --docker-password="$TOKEN" -n shop --dry-run=client '
        "-o yaml | kubectl apply -f -"
    ) in cmds
    # the npm copy also has a newline: reported, and still recognised as the same token
    assert any(f.rule == "TOK001" and f.credential == "npm:1" for f in findings)
    assert len({f.credential for f in expired}) == 3
    # one API request for the three copies
    assert len([r for r in api.requests if r.body == tok.value]) == 1
    assert_secret_free([*findings, *decoded, *(c.token for c in decoded)], tok.value, caller.value)


def test_expired_without_caller_key(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token(ACCT, valid_days=30, age_days=40)
    ctx = make_ctx(tmp_path, offline=False, harness_api=api.url)
    (f,) = [f for f in check(cred(tok.value), ctx) if f.rule == "HAR101"]
    assert f.severity is Severity.ERROR and "the Harness API says so" in f.message
    assert "HARNESS_API_KEY" in f.message


def test_rejected_and_old_is_expired_estimated(tmp_path: Path) -> None:
    with HarnessApi(explain_401=False) as api:
        tok = api.new_token(ACCT, valid_days=30, age_days=40)
        ctx = make_ctx(tmp_path, offline=False, harness_api=api.url)
        (f,) = [
            f for f in check(cred(tok.value, stored_days_ago=40), ctx) if f.rule.startswith("HAR1")
        ]
    assert f.rule == "HAR101" and f.severity is Severity.ERROR
    assert "estimated" in f.message and "rejected" in f.message


def test_revoked_is_token_invalid(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token(ACCT, revoked=True)
    ctx = make_ctx(tmp_path, offline=False, harness_api=api.url)
    c = decode(cred(tok.value, stored_days_ago=3), ctx)
    assert c.token is not None and c.token.status == "invalid"
    (f,) = [
        f
        for f in check_all(c, ctx)
        if f.rule.startswith("HAR1")
    ]
    assert f.rule == "HAR103" and f.cause == "token-invalid" and "revoked" in f.message


def test_expiring_soon_names_date_and_days(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token(ACCT, valid_days=30, age_days=27.5)
    ctx = make_ctx(tmp_path, offline=False, harness_api=api.url, expiry_warning_days=7)
    (f,) = [f for f in check(cred(tok.value), ctx) if f.rule == "HAR102"]
    assert f.severity is Severity.WARNING and f.cause == "token-expiring-soon"
    date = datetime.fromtimestamp(tok.valid_to / 1000, timezone.utc).date().isoformat()
    assert f"expires on {date} (in 2 days, from the Harness API)" in f.message


@pytest.mark.parametrize("valid_days", [None, 90])
def test_valid_and_no_expiry_tokens_are_quiet(
    api: HarnessApi, tmp_path: Path, valid_days: float | None
) -> None:
    tok = api.new_token(ACCT, valid_days=valid_days, age_days=40)
    ctx = make_ctx(tmp_path, offline=False, harness_api=api.url)
    c = decode(cred(tok.value, stored_days_ago=40), ctx)
    assert (
        c.token is not None and c.token.status == "valid" and c.token.expiry_source == "harness-api"
    )
    assert bool(c.token.details.get("no_expiry")) == (valid_days is None)
    assert check_all(c, ctx) == []


def test_malformed_values(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    npm = {
        "id": "npm:1",
        "ecosystem": "npm",
        "plugin": "npm",
        "via": "",
        "registry": f"//pkg.harness.io/pkg/{ACCT}/npm-prod/npm/",
    }
    assert rules_of(check(cred(PAT + "\n", **npm), ctx)) == ["TOK001"]  # type: ignore[arg-type]
    # the Docker plugin's DKR004 reports a trailing newline in auths itself
    assert rules_of(check(cred(PAT + "\n"), ctx)) == []
    assert rules_of(check(cred(f'"{PAT}"'), ctx)) == ["TOK001"]
    assert rules_of(check(cred("${HARNESS_TOKEN}"), ctx)) == ["TOK002"]
    assert rules_of(check(cred("<token>"), ctx)) == ["TOK002"]
    assert rules_of(check(cred(f"pat.{ACCT}.6418b2a4ef2d1e3b41cb12a1"), ctx)) == ["HAR104"]
    # A unique address: a password is registered with the scrubber for the
    # whole test process, and "dev@acme.io" is everyone's username here.
    swapped = check(cred("swapped-user@acme.io", username=PAT), ctx)
    assert rules_of(swapped) == ["TOK003", "TOK004"]
    assert next(f for f in swapped if f.rule == "TOK004").severity is Severity.ERROR
    both = check(cred(PAT, username=PAT), ctx)
    assert [(f.rule, f.severity) for f in both] == [("TOK004", Severity.WARNING)]
    assert_secret_free([*swapped, *both], PAT)


def test_account_mismatch(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    other = cred(
        id="npm:1",
        ecosystem="npm",
        plugin="npm",
        username=None,
        registry="//pkg.harness.io/pkg/OtherAcct/npm-prod/npm/",
    )
    (f,) = check(other, ctx)
    assert f.rule == "HAR105" and f.cause == "account-mismatch" and "OtherAcct" in f.message
    case_only = cred(
        id="npm:2",
        ecosystem="npm",
        plugin="npm",
        username=None,
        registry=f"//pkg.harness.io/pkg/{ACCT.lower()}/npm-prod/npm/",
    )
    (f,) = check(case_only, ctx)
    assert f.rule == "HAR105" and f.severity is Severity.WARNING and "letter case" in f.message
    same = cred(
        id="npm:3",
        ecosystem="npm",
        plugin="npm",
        username=None,
        registry=f"//pkg.harness.io/pkg/{ACCT}/npm-prod/npm/",
    )
    assert check(same, ctx) == []


def test_username_checks(tmp_path: Path, api: HarnessApi) -> None:
    ctx = make_ctx(tmp_path)
    (f,) = check(cred(username="admin"), ctx)
    assert f.rule == "HAR106" and f.severity is Severity.WARNING and f.cause == "config-invalid"
    assert check(cred(username="harness"), ctx) == []
    assert check(cred(username="dev@acme.io"), ctx) == []
    tok = api.new_token(ACCT, email="bob@acme.io")
    online = make_ctx(tmp_path, offline=False, harness_api=api.url)
    (f,) = check(cred(tok.value, username="dev@acme.io"), online)
    assert f.rule == "HAR106" and "bob@acme.io" in f.message
    # not a HAR host: no HAR opinion about usernames (GitHub's plugin has one
    # about a Harness token on ghcr.io: GHP104)
    ghcr = check(cred(username="admin", host="ghcr.io", registry="ghcr.io"), ctx)
    assert [f.rule for f in ghcr if not f.rule.startswith("GHP")] == []


def test_credential_url_checks(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    pip = cred(
        id="pip:1",
        ecosystem="pip",
        plugin="pip",
        registry=f"https://pkg.harness.io/pkg/{ACCT}/py-prod/pypi/simple",
    )
    (f,) = check(pip, ctx)
    assert f.rule == "HAR203" and f.severity is Severity.WARNING and f.location == pip.location
    npm = cred(
        id="npm:1",
        ecosystem="npm",
        plugin="npm",
        username=None,
        registry=f"//pkg.harness.io/{ACCT}/npm-prod/npm/",
    )
    assert rules_of(check(npm, ctx)) == ["HAR201"]
    # Docker keys are hosts; a URL-form key is the Docker plugin's business
    assert check(cred(registry="https://pkg.harness.io/v1/"), ctx) == []


def test_generic_jwt_expiry_and_clock_skew(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    key = "k" * 32
    expired = jwt.encode({"exp": int((NOW - timedelta(days=1)).timestamp()), "iss": "sso"}, key)
    (f,) = check(cred(expired, host="ghcr.io", registry="ghcr.io", scheme="identitytoken"), ctx)
    assert (
        f.rule == "TOK005" and "issued by sso" in f.message and "from the token itself" in f.message
    )
    soon = jwt.encode({"exp": int((NOW + timedelta(days=2)).timestamp())}, key)
    assert rules_of(check(cred(soon, host="ghcr.io", registry="ghcr.io"), ctx)) == ["TOK006"]
    future = jwt.encode(
        {
            "iat": int((NOW + timedelta(hours=1)).timestamp()),
            "exp": int((NOW + timedelta(days=30)).timestamp()),
        },
        key,
    )
    (f,) = check(cred(future, host="ghcr.io", registry="ghcr.io"), ctx)
    assert f.rule == "TOK007" and f.cause == "clock-skew" and "behind" in f.message


# ------------------------------------------------------------------ diagnose


def resolution(name: str, c: Credential | None, host: str = "pkg.harness.io") -> Resolution:
    target = Target(raw=f"{host}/{name}:1.4", kind="image", host=host, name=name, reference="1.4")
    return Resolution(target=target, ecosystem="docker", client="docker", credential=c)


def test_diagnose_image_paths(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    c = decode(cred(), ctx)
    found = diagnose.diagnose(resolution(f"{ACCT}/docker-prod/web", c), [], ctx)
    assert rules_of(found) == ["HAR205"]
    assert rules_of(diagnose.diagnose(resolution("web", c), [], ctx)) == ["HAR206"]
    assert rules_of(diagnose.diagnose(resolution("web", None), [], ctx)) == ["HAR206"]
    (f,) = diagnose.diagnose(resolution("otheracct/docker-prod/web", c), [], ctx)
    assert f.rule == "HAR105" and "otheracct" in f.message
    assert diagnose.diagnose(resolution(f"{ACCT.lower()}/docker-prod/web", c), [], ctx) == []
    assert diagnose.diagnose(resolution("a/b/c", c, host="ghcr.io"), [], ctx) == []


def test_diagnose_pypi_is_an_error_after_a_404(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    url = f"https://pkg.harness.io/pkg/{ACCT}/py-prod/pypi/simple"
    target = Target(
        raw="pip:requests",
        kind="package",
        host="pkg.harness.io",
        ecosystem="pip",
        name="requests",
        url=url,
    )
    res = Resolution(target=target, ecosystem="pip", client="pip", credential=None)
    (f,) = diagnose.diagnose(res, [], ctx)
    assert f.rule == "HAR203" and f.severity is Severity.WARNING
    probe = ProbeResult(url=url + "/requests/", outcome="not-found", status=404)
    (f,) = diagnose.diagnose(res, [probe], ctx)
    assert f.severity is Severity.ERROR


# --------------------------------------------------------------- remediation


def test_permission_remediation_explains_the_principal() -> None:
    rem = permission_remediation("pull", "docker-prod", "the user dev@acme.io")
    text = " ".join(rem.steps)
    assert "read" in rem.summary and "docker-prod" in rem.summary
    for needle in (
        "manual run",
        "webhook",
        "schedule",
        "IDP",
        "service",
        "write",
        "dev@acme.io",
        "Upload Artifacts to HAR",
    ):
        assert needle in text, needle
    assert "write (upload)" in permission_remediation("push").summary


def test_every_rule_has_a_full_page() -> None:
    rules = (*RULES, *token_rules())
    codes = [r.code for r in rules]
    assert len(codes) == len(set(codes))
    for rule in rules:
        assert rule.code[:3] in ("HAR", "TOK") and rule.cause and rule.summary
        for section in ("What it does", "Why it matters", "Example", "Fix"):
            assert section in rule.explain, (rule.code, section)


# --------------------------------------------------- the story via the engine


class FakeCredentials:
    """A stand-in for the npm and k8s plugins: credentials from a list."""

    def __init__(self, creds: list[Credential]) -> None:
        self.creds = creds

    @hookimpl
    def hardoctor_discover(self, ctx: Context) -> list[Source]:
        return [Source(id="fake", ecosystem="fake", kind="file", description="fake", path="/fake")]

    @hookimpl
    def hardoctor_credentials(self, source: Source, ctx: Context) -> list[Credential] | None:
        return self.creds if source.id == "fake" else None


def test_engine_story_one_token_three_places(api: HarnessApi, tmp_path: Path) -> None:
    caller = api.new_token(ACCT, valid_days=None)
    tok = api.new_token(ACCT, valid_days=30, age_days=35)
    creds = [
        cred(
            tok.value,
            id="npm:1",
            ecosystem="npm",
            plugin="",
            username=None,
            key=None,
            via="",
            registry=f"//pkg.harness.io/pkg/{ACCT}/npm-prod/npm/",
            path=str(tmp_path / ".npmrc"),
            line=2,
        ),
        cred(
            tok.value,
            id="k8s:1",
            ecosystem="k8s",
            plugin="",
            path=str(tmp_path / "app.yaml"),
            line=7,
            key="Secret shop/har-pull",
        ),
    ]
    manager = PluginManager(autoload=False, disabled=["docker"])
    manager.load()
    manager.pm.register(FakeCredentials(creds), name="fake")
    ctx = make_ctx(
        tmp_path,
        {"HARNESS_API_KEY": caller.value},
        manager=manager,
        offline=False,
        harness_api=api.url,
        timeout=3.0,
    )
    report = engine.run(ctx, manager)
    expired = [f for f in report.findings if f.rule == "HAR101"]
    # One token, one story (issue 15): told once, about both places.
    assert len(expired) == 1
    assert {expired[0].credential, *expired[0].credentials} == {"npm:1", "k8s:1"}
    assert all("from the Harness API" in f.message for f in expired)
    assert expired[0].remediation is not None
    assert "hardoctor fix --token-stdin" in " ".join(expired[0].remediation.commands)
    doc = to_dict(report)
    secrets_ = {c["id"]: c["secret"] for c in doc["credentials"]}
    assert (
        secrets_["npm:1"]["expiry_source"] == "harness-api"
        and secrets_["npm:1"]["status"] == "expired"
    )
    assert secrets_["npm:1"]["fingerprint"] == secrets_["k8s:1"]["fingerprint"]
    text = json.dumps(doc)
    for form in (tok.value, caller.value, base64.b64encode(tok.value.encode()).decode()):
        assert form not in text
    assert_secret_free([report, *report.findings, *report.credentials], tok.value, caller.value)


def test_prefetch_makes_lookups_concurrent_and_decode_uses_the_cache(tmp_path: Path) -> None:
    import time

    with HarnessApi(delay=0.5) as api:
        toks = [api.new_token(ACCT, valid_days=30, age_days=1) for _ in range(4)]
        ctx = make_ctx(tmp_path, offline=False, harness_api=api.url)
        creds = [cred(t.value, id=f"c{i}") for i, t in enumerate(toks)]
        t0 = time.monotonic()
        har.hardoctor_prefetch(credentials=creds, ctx=ctx)
        assert time.monotonic() - t0 < 1.5  # 4 x 0.5 s, concurrently
        assert len(api.requests) == 4
        infos = [decode(c, ctx).token for c in creds]
        assert all(i is not None and i.expiry_source == "harness-api" for i in infos)
        assert len(api.requests) == 4  # answered from the cache


# ------------------------------------------------------------ vendor hooks


def test_registry_info_for_har_hosts_only(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, harness_host=["har.corp:8443"])
    info = ctx.registry_info(f"https://pkg.harness.io/pkg/{ACCT}/py-prod/pypi/simple", "python")
    assert info is not None and info.vendor == "harness" and info.account == ACCT
    assert info.registry == "py-prod" and info.package_type == "pypi"
    # the same suggestion the URL checks make for pip (HAR203)
    u = urls.parse_har_url(f"https://pkg.harness.io/pkg/{ACCT}/py-prod/pypi/simple", oci=False)
    assert u is not None
    assert info.suggested_url == urls.url_issues(u, "pip")[0].suggestion
    assert info.problems == (urls.url_issues(u, "pip")[0].message,)
    image = ctx.registry_info(f"pkg.harness.io/{ACCT}/docker-prod/web:1.4", "oci")
    assert image is not None and image.suggested_url == f"pkg.harness.io/{ACCT.lower()}/docker-prod/web"
    maven_as_npm = ctx.registry_info(f"https://pkg.harness.io/pkg/{ACCT}/mvn/maven/", "npm")
    assert maven_as_npm is not None and "maven registry" in maven_as_npm.problems[0]
    good = ctx.registry_info(f"https://pkg.harness.io/pkg/{ACCT}/npm-prod/npm/", "npm")
    assert good is not None and good.problems == () and good.suggested_url is None
    declared = ctx.registry_info("har.corp:8443", "oci")
    assert declared is not None and declared.host == "har.corp:8443"
    assert ctx.registry_info("other.example.org:5000", "oci") is None
    assert ctx.registry_info("https://registry.npmjs.org/", "npm") is None


def _finding(rule: str, cause: str, registry: str, credential: Credential, message: str) -> Finding:
    return Finding(
        rule=rule,
        name="x",
        severity=Severity.ERROR,
        cause=cause,
        message=message,
        ecosystem=credential.ecosystem,
        credential=credential.id,
        registry=registry,
    )


def test_remediation_hook_speaks_harness_only_on_har_hosts(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    har_cred = cred()
    denied = _finding("DKR103", "permission-denied", "pkg.harness.io", har_cred, "403 on pull")
    rem = ctx.remediation(denied, har_cred)
    assert rem is not None and "read (view/pull)" in rem.summary
    assert any("service" in s for s in rem.steps)
    push = _finding("DKR103", "permission-denied", "pkg.harness.io", har_cred, "403 on push")
    assert "write (upload)" in ctx.remediation(push, har_cred).summary  # type: ignore[union-attr]
    bad = _finding("TOK001", "token-malformed", "pkg.harness.io", har_cred, "quotes")
    rem = ctx.remediation(bad, har_cred)
    assert rem is not None and "Harness login e-mail" in " ".join(rem.steps)
    expired = _finding("DKR102", "token-expired", "pkg.harness.io", har_cred, "expired")
    rem = ctx.remediation(expired, har_cred)
    assert rem is not None and "Set up client" in rem.steps[0]
    # Another registry, user "ci": no Harness words at all.
    other = cred(
        host="other.example.org:5000", registry="other.example.org:5000", username="ci"
    )
    for rule, cause in (("DKR103", "permission-denied"), ("TOK001", "token-malformed"),
                        ("DKR102", "token-expired"), ("DKR101", "token-invalid")):
        f = _finding(rule, cause, "other.example.org:5000", other, "refused")
        assert ctx.remediation(f, other) is None
    findings = check(cred("swapped-user@acme.io", host="other.example.org:5000",
                          registry="other.example.org:5000", username="ci"), ctx)
    text = json.dumps([to_dict_finding(f) for f in findings])
    assert findings and "Harness" not in text and "HAR" not in text.replace("HARDOCTOR", "")


def to_dict_finding(f: Finding) -> dict[str, Any]:
    rem = f.remediation
    return {
        "message": f.message,
        "why": f.why,
        "remediation": [rem.summary, *rem.steps, *rem.commands] if rem else [],
    }


def test_engine_gives_harness_remediation_only_for_har_hosts(tmp_path: Path) -> None:
    creds = [
        cred('"' + PAT + '"', id="a", plugin="", via=""),
        cred(
            '"' + SAT + '"',
            id="b",
            plugin="",
            via="",
            host="other.example.org:5000",
            registry="other.example.org:5000",
            username="ci",
            path="/home/u/other.json",
        ),
    ]
    manager = PluginManager(autoload=False, disabled=["docker"])
    manager.load()
    manager.pm.register(FakeCredentials(creds), name="fake")
    ctx = make_ctx(tmp_path, manager=manager)
    report = engine.run(ctx, manager)
    tok = {f.credential: f for f in report.findings if f.rule == "TOK001"}
    assert set(tok) == {"a", "b"}
    har_steps = " ".join(tok["a"].remediation.steps)  # type: ignore[union-attr]
    assert "Harness login e-mail" in har_steps
    other = tok["b"].remediation
    assert other is not None and "Harness" not in " ".join([other.summary, *other.steps])


# ---------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["check", "--offline", "--harness-api", "ftp://x"], "--harness-api"),
        (["check", "--offline", "--harness-api", "https://"], "--harness-api"),
        (["check", "--offline", "--harness-host", "http://[::1"], "--harness-host"),
        (["check", "--offline", "--harness-host", "har.corp/path"], "--harness-host"),
        (["token", "inspect", "--harness-api", "ftp://x"], "--harness-api"),
    ],
)
def test_bad_harness_options_exit_2(tmp_path: Path, argv: list[str], needle: str) -> None:
    from tests.helpers import assert_usage_error, run_cli

    r = run_cli(argv, home=tmp_path, stdin=PAT)
    line = assert_usage_error(r, needle)
    assert "http" in line or "HOST[:PORT]" in line


def test_harness_option_twins_and_good_values(tmp_path: Path) -> None:
    from hardoctor_harness.options import harness_options

    ctx = make_ctx(
        tmp_path,
        {"HARDOCTOR_HARNESS_HOSTS": "a.example, ,[::1]:5000", "HARDOCTOR_NO_TOKEN_API": "1"},
        harness_host=["b.example:5000"],
        harness_api="http://127.0.0.1:9/gateway",
        offline=False,
    )
    opts = harness_options(ctx)
    assert opts.hosts == ("a.example", "[::1]:5000", "b.example:5000")
    assert opts.api == "http://127.0.0.1:9/gateway" and opts.no_token_api
    assert harness_options(make_ctx(tmp_path)).no_token_api  # offline implies it


def test_decode_is_pure_without_prefetch(api: HarnessApi, tmp_path: Path) -> None:
    tok = api.new_token(ACCT, valid_days=30, age_days=1)
    ctx = make_ctx(tmp_path, offline=False, harness_api=api.url)
    c = cred(tok.value, id="pure")
    found = ctx.plugins.call_first("hardoctor_decode_secret", credential=c, ctx=ctx)  # type: ignore[union-attr]
    assert found is not None and found[1].details["api"]["outcome"] == "skipped"
    assert api.requests == []  # decoding sends nothing; hardoctor_prefetch asks
