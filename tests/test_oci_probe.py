"""The OCI pull walk and its diagnosis against real servers on 127.0.0.1.

* the Debian ``docker-registry`` (distribution 2.8) with token auth, behind
  the token server of tests/servers that signs real JWTs with chosen access;
* the same registry with htpasswd (Basic) auth;
* the HAR emulator (tests/servers/har_registry.py).

Each test builds the Resolution by hand (what the Docker plugin's resolver
would hand over), runs ``oci.plan`` through the real probe engine, and checks
the cause ``oci.diagnose`` finds -- and that no secret shows up anywhere.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

import pytest
from tests.servers import (
    MissingBinaryError,
    Registry,
    TokenServer,
    build_oci_layout,
    push_image,
    require_binary,
    server_missing,
)
from tests.servers.har_registry import HarRegistry

import hardoctor_oci as oci
from hardoctor.context import Context, Options
from hardoctor.env import Environment
from hardoctor.model import (
    ChainStep,
    Credential,
    Finding,
    Location,
    ProbeResult,
    Resolution,
    Secret,
    Severity,
    Target,
    TokenInfo,
)
from hardoctor.probe import run_plans
from hardoctor.probe.rules import NET_RULES
from hardoctor.rules import CORE_RULES, RuleRegistry
from hardoctor.tokens import decode_jwt

HOME = "/home/tester"
CONFIG = f"{HOME}/.docker/config.json"
REPO = "team/app"
TAG = "v1"


# -- helpers ------------------------------------------------------------------------


def need(*binaries: str) -> None:
    for name in binaries:
        try:
            require_binary(name)
        except MissingBinaryError as e:
            server_missing(str(e))


def make_ctx(push: bool = False, timeout: float = 10.0) -> Context:
    rules = RuleRegistry()
    for rule in CORE_RULES + NET_RULES + oci.OCI_RULES:
        rules.register(rule)
    env = Environment(environ={}, home=HOME, cwd="/tmp")
    return Context(Options(timeout=timeout, push=push), env, rules)


def cred(
    host: str,
    user: str | None,
    secret: str | None,
    *,
    scheme: str = "basic",
    token: TokenInfo | None = None,
    cid: str = "docker:config.json:1",
    line: int = 4,
) -> Credential:
    return Credential(
        id=cid,
        ecosystem="docker",
        registry=host,
        host=host,
        source="docker:config.json",
        location=Location(CONFIG, line, key=f'auths["{host}"]'),
        username=user,
        secret=Secret(secret) if secret is not None else None,
        scheme=scheme,
        token=token,
    )


def image(
    host: str,
    name: str | None = REPO,
    ref: str | None = TAG,
    credential: Credential | None = None,
    *,
    client: str = "docker",
    chain: Sequence[ChainStep] = (),
) -> Resolution:
    kind: Literal["image", "registry"] = "image" if name else "registry"
    raw = f"{host}/{name}:{ref}" if name else host
    return Resolution(
        target=Target(raw=raw, kind=kind, host=host, name=name, reference=ref if name else None),
        ecosystem="docker",
        client=client,
        credential=credential,
        chain=tuple(chain),
        registry=host,
    )


@dataclass
class Outcome:
    results: list[ProbeResult]
    findings: list[Finding]

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is not Severity.INFO]

    @property
    def causes(self) -> list[str | None]:
        return [f.cause for f in self.problems]

    def only(self) -> Finding:
        assert len(self.problems) == 1, [(f.rule, f.message) for f in self.problems]
        return self.problems[0]

    def step(self, name: str) -> ProbeResult:
        return next(r for r in self.results if r.facts.get("step") == name)


def probe(res: Resolution, ctx: Context | None = None, *, hide: Sequence[str] = ()) -> Outcome:
    ctx = ctx or make_ctx()
    [results] = run_plans(ctx, oci.plan(res, ctx))
    findings = oci.diagnose(res, results, ctx)
    secrets_ = list(hide)
    if res.credential is not None and res.credential.secret is not None:
        secrets_.append(res.credential.secret.reveal())
    assert_secret_free(secrets_, results, findings)
    return Outcome(list(results), findings)


def assert_secret_free(
    values: Sequence[str], results: Sequence[ProbeResult], findings: Sequence[Finding]
) -> None:
    text = "\n".join(repr(x) for x in [*results, *findings])
    for value in values:
        if len(value) >= 4:
            assert value not in text, "a secret leaked into a result or finding"


# -- the real registry with token auth ---------------------------------------------------


@dataclass
class TokenEnv:
    ts: TokenServer
    reg: Registry
    pw: dict[str, str]

    @property
    def host(self) -> str:
        return self.reg.host


@pytest.fixture(scope="module")
def token_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenEnv]:
    need("docker-registry", "skopeo")
    pw = {u: secrets.token_hex(10) for u in ("alice", "bob", "carol")}
    ts = TokenServer(
        users=pw,
        grants={
            "alice": {"*": ["pull", "push"]},
            "bob": {},  # authenticates, may do nothing
            "carol": {REPO: ["pull"]},
        },
    )
    layout = build_oci_layout(tmp_path_factory.mktemp("oci") / "layout", TAG)
    with ts, Registry(auth="token", token_server=ts) as reg:
        push_image(layout.layout_dir, reg.host, REPO, TAG, ("alice", pw["alice"]))
        yield TokenEnv(ts, reg, pw)


def test_token_good_credential_pulls(token_env: TokenEnv) -> None:
    e = token_env
    out = probe(image(e.host, credential=cred(e.host, "alice", e.pw["alice"])))
    assert out.problems == []
    assert [r.facts["step"] for r in out.results] == ["ping", "token", "manifest"]
    assert out.step("token").facts["granted"] == ["pull"]
    manifest = out.step("manifest")
    assert manifest.outcome == "ok" and manifest.facts["digest"].startswith("sha256:")
    # The realm is another origin (the token server's port): Docker sends the
    # credential there, and hardoctor says so.
    assert out.step("token").facts["credential_sent_to_other_origin"] is True
    notice = [f for f in out.findings if f.rule == "DKR112"]
    assert notice and notice[0].severity is Severity.INFO
    token_requests = [r for r in e.ts.requests if r.basic_credentials]
    assert token_requests[-1].basic_credentials == ("alice", e.pw["alice"])
    assert token_requests[-1].scopes == [f"repository:{REPO}:pull"]


def test_token_wrong_password_is_token_invalid(token_env: TokenEnv) -> None:
    e = token_env
    wrong = secrets.token_hex(10)
    out = probe(image(e.host, credential=cred(e.host, "alice", wrong)))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR101", "token-invalid")
    assert f"token endpoint at {e.ts.realm} refused" in f.message
    assert "~/.docker/config.json:4" in f.message and "401" in f.message
    assert f.registry == e.host and f.credential == "docker:config.json:1"
    assert f.location is not None and f.location.line == 4
    assert f.remediation is not None
    assert f.remediation.commands == (
        f"printf '%s' \"$TOKEN\" | docker login {e.host} -u alice --password-stdin",
    )


def test_token_expired_registry_token_is_token_expired(token_env: TokenEnv) -> None:
    e = token_env
    access = [{"type": "repository", "name": REPO, "actions": ["pull"]}]
    expired = e.ts.issue_token("alice", access, ttl=-600)
    info = decode_jwt(Secret(expired), datetime.now(timezone.utc), 7)
    assert info is not None and info.status == "expired"
    c = cred(e.host, "alice", expired, scheme="registrytoken", token=info)
    out = probe(image(e.host, credential=c))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR102", "token-expired")
    assert "expired on" in f.message and "from the token itself" in f.message
    assert out.step("manifest").facts.get("challenge_error") == "invalid_token"


def test_token_forged_registry_token_is_token_invalid(token_env: TokenEnv) -> None:
    e = token_env
    access = [{"type": "repository", "name": REPO, "actions": ["pull"]}]
    forged = e.ts.issue_token("alice", access, kid="AAAA:BBBB:CCCC")
    out = probe(image(e.host, credential=cred(e.host, "alice", forged, scheme="registrytoken")))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR101", "token-invalid")
    assert "token sent as Bearer" in f.message


def test_token_identity_token_good_and_bad(token_env: TokenEnv) -> None:
    e = token_env
    refresh = e.ts._new_refresh_token("alice", e.ts.service)
    good = probe(image(e.host, credential=cred(e.host, "<token>", refresh, scheme="identitytoken")))
    assert good.problems == []
    assert good.step("token").facts["grant"] == "refresh_token"
    posted = [r for r in e.ts.requests if r.method == "POST"][-1]
    assert posted.form["grant_type"] == ["refresh_token"]
    bad = secrets.token_urlsafe(16)
    out = probe(image(e.host, credential=cred(e.host, "<token>", bad, scheme="identitytoken")))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR101", "token-invalid")
    assert "identity token" in f.message


def test_token_no_scope_is_permission_denied(token_env: TokenEnv) -> None:
    e = token_env
    out = probe(image(e.host, credential=cred(e.host, "bob", e.pw["bob"])))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR104", "permission-denied")
    assert out.step("token").facts["granted"] == []
    assert "bob may not pull team/app" in f.message
    assert "service account" in f.why and "webhook" in f.why


def test_token_push_without_write_is_permission_denied(token_env: TokenEnv) -> None:
    e = token_env
    res = image(e.host, credential=cred(e.host, "carol", e.pw["carol"]))
    assert probe(res).problems == []  # carol may pull...
    out = probe(res, make_ctx(push=True))  # ...but not push
    f = out.only()
    assert (f.rule, f.cause) == ("DKR104", "permission-denied")
    assert "may not push" in f.message and "write" in f.why
    assert (
        probe(
            image(e.host, credential=cred(e.host, "alice", e.pw["alice"])), make_ctx(push=True)
        ).problems
        == []
    )


def test_token_missing_tag_is_not_found(token_env: TokenEnv) -> None:
    e = token_env
    out = probe(image(e.host, ref="v9", credential=cred(e.host, "alice", e.pw["alice"])))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR105", "not-found")
    assert out.step("manifest").error_code == "MANIFEST_UNKNOWN"
    assert out.step("tags").facts["repository_exists"] is True
    assert f"has no tag or digest `v9` (tags: {TAG})" in f.message


def test_token_missing_repository_is_not_found(token_env: TokenEnv) -> None:
    e = token_env
    out = probe(image(e.host, name="team/nope", credential=cred(e.host, "alice", e.pw["alice"])))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR105", "not-found")
    # distribution says MANIFEST_UNKNOWN for a missing repository too; the tag
    # list tells the two apart.
    assert out.step("manifest").error_code == "MANIFEST_UNKNOWN"
    assert out.step("tags").facts["repository_exists"] is False
    assert "team/nope does not exist" in f.message


def test_token_no_credentials(token_env: TokenEnv) -> None:
    e = token_env
    out = probe(image(e.host))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR103", "no-credentials")
    assert f.credential is None and f.location is None
    assert f.remediation is not None and "docker login" in f.remediation.commands[0]
    # Anonymous: nothing was sent to the token server.
    assert e.ts.requests[-1].authorization is None


def test_token_credential_under_the_wrong_key(token_env: TokenEnv) -> None:
    e = token_env
    where = Location(CONFIG, 3, key=f'auths["https://{e.host}/v2/"]')
    chain = [
        ChainStep(
            description=f'auths["https://{e.host}/v2/"]',
            outcome="skipped",
            reason=f"Docker looks up {e.host}, not a URL with a path",
            credential="docker:config.json:0",
            location=where,
        )
    ]
    out = probe(image(e.host, chain=chain))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR103", "credential-not-matched")
    assert f.location == where and f.credential == "docker:config.json:0"
    assert "~/.docker/config.json:3" in f.message


def test_token_registry_target_walks_like_docker_login(token_env: TokenEnv) -> None:
    e = token_env
    out = probe(image(e.host, name=None, credential=cred(e.host, "alice", e.pw["alice"])))
    assert out.problems == []
    assert [r.facts["step"] for r in out.results] == ["ping", "token", "login"]
    assert "scope" not in out.step("token").facts
    # docker login succeeds for a user with no pull rights: so do we.
    assert (
        probe(image(e.host, name=None, credential=cred(e.host, "bob", e.pw["bob"]))).problems == []
    )
    wrong = probe(image(e.host, name=None, credential=cred(e.host, "bob", "x" * 12)))
    assert wrong.causes == ["token-invalid"]


def test_shared_credential_is_walked_once(token_env: TokenEnv) -> None:
    e = token_env
    ctx = make_ctx()
    docker = image(e.host, credential=cred(e.host, "alice", e.pw["alice"], cid="docker:1"))
    podman = image(
        e.host, credential=cred(e.host, "alice", e.pw["alice"], cid="podman:1"), client="podman"
    )
    helm = image(
        e.host, credential=cred(e.host, "alice", e.pw["alice"], cid="docker:1"), client="helm"
    )
    plans = [p for res in (docker, podman, helm) for p in oci.plan(res, ctx)]
    before = len(e.ts.requests)
    results = run_plans(ctx, plans)
    assert len(e.ts.requests) - before == 1
    assert [{r.credential for r in rs} for rs in results] == [
        {"docker:1"},
        {"podman:1"},
        {"docker:1"},
    ]
    assert all(r.outcome == "ok" for r in results[1] if r.facts["step"] != "ping")


def test_login_command_follows_the_client(token_env: TokenEnv) -> None:
    e = token_env
    for client, expected in (
        ("podman", f"podman login {e.host}"),
        ("helm", f"helm registry login {e.host}"),
    ):
        out = probe(image(e.host, credential=cred(e.host, "alice", "wrongpass1"), client=client))
        rem = out.only().remediation
        assert rem is not None and expected in rem.commands[0]


def test_token_server_issuing_expired_tokens(tmp_path: Path) -> None:
    need("docker-registry")
    pw = {"alice": secrets.token_hex(10)}
    ts = TokenServer(users=pw, grants={"alice": {"*": ["pull"]}}, token_ttl=-600)
    with ts, Registry(auth="token", token_server=ts) as reg:
        out = probe(image(reg.host, credential=cred(reg.host, "alice", pw["alice"])))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR113", "token-invalid")
    assert "already expired" in f.message


# -- the real registry with htpasswd (Basic) auth -----------------------------------------


@pytest.fixture(scope="module")
def basic_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, str]]:
    need("docker-registry", "skopeo", "htpasswd")
    password = secrets.token_hex(10)
    layout = build_oci_layout(tmp_path_factory.mktemp("oci") / "layout", TAG)
    with Registry(auth="htpasswd", users={"alice": password}) as reg:
        push_image(layout.layout_dir, reg.host, REPO, TAG, ("alice", password))
        yield reg, password


def test_basic_registry(basic_env: tuple[Registry, str]) -> None:
    reg, password = basic_env
    good = probe(image(reg.host, credential=cred(reg.host, "alice", password)))
    assert good.problems == []
    assert good.step("ping").facts["challenge"] == "basic"
    assert [r.facts["step"] for r in good.results] == ["ping", "manifest"]

    bad = probe(image(reg.host, credential=cred(reg.host, "alice", secrets.token_hex(10))))
    assert (bad.only().rule, bad.only().cause) == ("DKR101", "token-invalid")
    assert f"The registry {reg.host} refused" in bad.only().message

    none = probe(image(reg.host))
    assert none.causes == ["no-credentials"]

    tag = probe(image(reg.host, ref="nope", credential=cred(reg.host, "alice", password)))
    assert tag.causes == ["not-found"] and tag.step("manifest").error_code == "MANIFEST_UNKNOWN"

    login = probe(image(reg.host, name=None, credential=cred(reg.host, "alice", password)))
    assert login.problems == [] and login.step("login").outcome == "ok"


# -- the HAR emulator ---------------------------------------------------------------------

ACCT = "AcmeX1"


@dataclass
class HarEnv:
    har: HarRegistry
    read: str  # a PAT with read on docker-prod

    @property
    def host(self) -> str:
        return self.har.host


@pytest.fixture(scope="module")
def har_env() -> Iterator[HarEnv]:
    har = HarRegistry()
    har.add_registry(ACCT, "docker-prod")
    har.add_registry(ACCT, "maven-prod", package_type="maven")
    for tag in ("1.4", "bad", "cve"):
        har.push(ACCT, "docker-prod", "web", tag)
    har.quarantine(ACCT, "docker-prod", "web", "bad")
    har.block(ACCT, "docker-prod", "web", "cve")
    read = har.new_token(ACCT, {"docker-prod": {"read"}})
    with har:
        yield HarEnv(har, read)


def har_image(env: HarEnv, path: str, ref: str, secret: str | None, **kw: object) -> Resolution:
    c = cred(env.host, "dev@acme.io", secret, **kw) if secret else None  # type: ignore[arg-type]
    return image(env.host, name=path, ref=ref, credential=c)


WEB = "acmex1/docker-prod/web"


def test_har_good(har_env: HarEnv) -> None:
    out = probe(har_image(har_env, WEB, "1.4", har_env.read))
    assert out.problems == []
    assert out.step("token").facts["token_kind"] == "jwt"
    assert "granted" not in out.step("token").facts  # HAR's JWT carries no access claim
    # The emulator saw the PAT as the Basic password and a JWT on the manifest.
    assert har_env.har.requests[-1].headers["authorization"].startswith("Bearer ")


def test_har_invalid_token(har_env: HarEnv) -> None:
    fake = f"pat.{ACCT}.{secrets.token_hex(6)}.{secrets.token_urlsafe(18)}"
    out = probe(har_image(har_env, WEB, "1.4", fake))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR101", "token-invalid")
    assert f"token endpoint at {har_env.har.realm} refused" in f.message
    assert out.step("token").facts["server_message"] == "Unauthorized"


def test_har_expired_token(har_env: HarEnv) -> None:
    expired = har_env.har.new_token(ACCT, {"docker-prod": {"read"}}, expired=True)
    info = TokenInfo(
        kind="harness-pat",
        fingerprint=Secret(expired).fingerprint,
        account_id=ACCT,
        expires_at=datetime(2026, 1, 2, tzinfo=timezone.utc),
        expiry_source="harness-api",
        status="expired",
    )
    out = probe(har_image(har_env, WEB, "1.4", expired, token=info))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR102", "token-expired")
    assert "expired on 2026-01-02 (from the Harness API)" in f.message


def test_har_denied_is_permission_denied(har_env: HarEnv) -> None:
    other = har_env.har.new_token(ACCT, {"maven-prod": {"read"}}, kind="sat")
    out = probe(har_image(har_env, WEB, "1.4", other))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR104", "permission-denied")
    assert out.step("manifest").error_code == "DENIED"
    assert "403 DENIED" in f.message
    assert "manual run" in f.why


@pytest.mark.parametrize(
    ("path", "code", "words"),
    [
        ("acmexx/docker-prod/web", "ROOT_NOT_FOUND", "the account `acmexx`"),
        ("acmex1/docker-dev/web", "REGISTRY_NOT_FOUND", "the registry `docker-dev`"),
        ("acmex1/docker-prod/api", "NAME_UNKNOWN", "acmex1/docker-prod/api does not exist"),
        ("acmex1/maven-prod/web", "NAME_UNKNOWN", "not a Docker/OCI registry"),
    ],
)
def test_har_not_found_names_the_part(har_env: HarEnv, path: str, code: str, words: str) -> None:
    token = har_env.har.new_token(ACCT, {"*": {"read"}})
    out = probe(har_image(har_env, path, "1.4", token))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR105", "not-found")
    assert out.step("manifest").error_code == code
    assert words in f.message


def test_har_missing_tag(har_env: HarEnv) -> None:
    out = probe(har_image(har_env, WEB, "9.9", har_env.read))
    f = out.only()
    assert out.step("manifest").error_code == "MANIFEST_UNKNOWN"
    assert f.cause == "not-found"
    assert "has no tag or digest `9.9` (tags: 1.4, bad, cve)" in f.message


@pytest.mark.parametrize(("tag", "text"), [("bad", "quarantined"), ("cve", "policy violations")])
def test_har_policy_block(har_env: HarEnv, tag: str, text: str) -> None:
    out = probe(har_image(har_env, WEB, tag, har_env.read))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR106", "blocked-by-policy")
    assert text in f.message


def test_har_rate_limited(har_env: HarEnv) -> None:
    har_env.har.rate_limited = True
    try:
        out = probe(har_image(har_env, WEB, "1.4", har_env.read))
    finally:
        har_env.har.rate_limited = False
    f = out.only()
    assert (f.rule, f.cause) == ("DKR107", "rate-limited")


def test_har_no_credentials(har_env: HarEnv) -> None:
    out = probe(har_image(har_env, WEB, "1.4", None))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR103", "no-credentials")


def test_har_clock_skew() -> None:
    har = HarRegistry(date_offset=-2 * 3600)
    har.add_registry(ACCT, "docker-prod")
    har.push(ACCT, "docker-prod", "web", "1.4")
    token = har.new_token(ACCT, {"docker-prod": {"read"}})
    with har:
        out = probe(image(har.host, name=WEB, ref="1.4", credential=cred(har.host, "u", token)))
    f = out.only()
    assert (f.rule, f.cause, f.severity) == ("DKR108", "clock-skew", Severity.WARNING)
    assert "2.0 hours ahead of" in f.message
    assert out.step("manifest").outcome == "ok"


# -- odd registries (a scripted fake) ---------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


class FakeRegistry:
    """A loopback server answering scripted (status, headers, body) per path."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.seen: list[tuple[str, str, bool]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _any(self) -> None:
                path = self.path.split("?")[0]
                outer.seen.append((self.command, path, "Authorization" in self.headers))
                route = outer.routes.get(f"{self.command} {path}") or outer.routes.get(path)
                status, headers, body = route(self) if route else (404, {}, b"")
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_POST = _any  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake() -> Iterator[Callable[[dict[str, Route]], FakeRegistry]]:
    made: list[FakeRegistry] = []

    def make(routes: dict[str, Route]) -> FakeRegistry:
        made.append(FakeRegistry(routes))
        return made[-1]

    yield make
    for f in made:
        f.close()


def _basic_ok(password: str) -> Route:
    expected = "Basic " + base64.b64encode(f"u:{password}".encode()).decode()

    def route(h: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        return (200, {}, b"{}") if h.headers.get("Authorization") == expected else (401, {}, b"")

    return route


def test_401_without_challenge(fake: Callable[[dict[str, Route]], FakeRegistry]) -> None:
    password = secrets.token_hex(8)
    reg = fake({"/v2/": _basic_ok(password)})
    out = probe(image(reg.host, credential=cred(reg.host, "u", password)))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR109", "no-credentials")
    assert "accept the credential when sent unasked" in f.message
    assert out.step("ping").facts["no_challenge"] is True


def test_open_v2_but_protected_repository(
    fake: Callable[[dict[str, Route]], FakeRegistry],
) -> None:
    challenge = {"WWW-Authenticate": 'Basic realm="r"'}
    reg = fake(
        {
            "/v2/": lambda h: (200, {}, b"{}"),
            f"/v2/{REPO}/manifests/{TAG}": lambda h: (401, challenge, b""),
        }
    )
    out = probe(image(reg.host, credential=cred(reg.host, "u", secrets.token_hex(8))))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR109", "no-credentials")
    assert "never sends a credential" in f.message
    assert not any(seen[2] for seen in reg.seen)  # like Docker: nothing was sent


def test_v2_404_is_not_a_registry(fake: Callable[[dict[str, Route]], FakeRegistry]) -> None:
    reg = fake({})
    out = probe(image(reg.host, credential=cred(reg.host, "u", secrets.token_hex(8))))
    assert (out.only().rule, out.only().cause) == ("DKR110", "wrong-url")


def test_token_endpoint_5xx_is_a_server_error(
    fake: Callable[[dict[str, Route]], FakeRegistry],
) -> None:
    reg: FakeRegistry

    def challenge(h: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        realm = f"http://{reg.host}/token"
        return 401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'}, b""

    reg = fake({"/v2/": challenge, "/token": lambda h: (503, {}, b"down for maintenance")})
    out = probe(image(reg.host, credential=cred(reg.host, "u", secrets.token_hex(8))))
    f = out.only()
    assert (f.rule, f.cause) == ("DKR111", "connection-error")
    assert "503" in f.message


def test_head_405_falls_back_to_get_and_basic_reaches_only_the_registry(
    fake: Callable[[dict[str, Route]], FakeRegistry],
) -> None:
    password = secrets.token_hex(8)
    ok = _basic_ok(password)

    def v2(h: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = ok(h)
        if status == 401:
            headers = {"WWW-Authenticate": 'Basic realm="r"'}
        return status, headers, body

    manifest = f"GET /v2/{REPO}/manifests/{TAG}"
    reg = fake(
        {
            "/v2/": v2,
            f"HEAD /v2/{REPO}/manifests/{TAG}": lambda h: (405, {}, b""),
            manifest: lambda h: (200, {"Content-Type": "application/json"}, b"{}"),
        }
    )
    out = probe(image(reg.host, credential=cred(reg.host, "u", password)))
    assert out.problems == []
    assert out.step("manifest").facts["method"] == "GET"
    assert out.step("manifest").facts["head_status"] == 405
    # Docker answers a Basic challenge by sending the credential; the first
    # ping goes out bare.
    assert reg.seen[0] == ("GET", "/v2/", False)


def test_unusable_realm(fake: Callable[[dict[str, Route]], FakeRegistry]) -> None:
    challenge = {"WWW-Authenticate": 'Bearer realm="/relative/token",service="s"'}
    reg = fake({"/v2/": lambda h: (401, challenge, b"")})
    out = probe(image(reg.host, credential=cred(reg.host, "u", secrets.token_hex(8))))
    assert out.step("token").outcome == "error"
    assert out.causes == ["connection-error"]


# -- transport through the OCI walk ----------------------------------------------------------


def test_connection_refused_gives_a_net_finding() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    host = f"127.0.0.1:{port}"
    out = probe(image(host, credential=cred(host, "alice", secrets.token_hex(8))))
    f = out.only()
    assert (f.rule, f.cause, f.registry) == ("NET006", "connection-error", host)
    # https first, then plain http: loopback is an insecure registry for Docker.
    assert out.results[0].url.startswith("http://")


def test_unresolvable_registry_gives_a_dns_finding() -> None:
    host = "registry.nonexistent.invalid"
    out = probe(image(host, credential=cred(host, "alice", secrets.token_hex(8))))
    f = out.only()
    assert (f.rule, f.cause) == ("NET005", "dns-error")
    assert f.remediation is not None and "getent hosts" in f.remediation.commands[0]


def test_offline_or_foreign_targets_give_nothing(har_env: HarEnv) -> None:
    ctx = make_ctx()
    res = har_image(har_env, WEB, "1.4", har_env.read)
    assert oci.diagnose(res, [], ctx) == []
    package = Resolution(
        target=Target(raw="npm:x", kind="package", host="h"),
        ecosystem="npm",
        client="npm",
        credential=None,
    )
    assert oci.plan(package, ctx) == []


def test_rules_are_complete() -> None:
    codes = [r.code for r in oci.OCI_RULES]
    assert len(codes) == len(set(codes))
    for rule in oci.OCI_RULES:
        assert rule.code.startswith("DKR1")
        for part in ("What it does", "Why it matters", "Example", "Fix"):
            assert part in rule.explain, (rule.code, part)
        assert rule.severity is Severity.INFO or rule.cause is not None
