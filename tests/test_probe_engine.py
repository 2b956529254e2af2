"""The probe engine against real sockets on 127.0.0.1.

TLS servers use a CA generated per test run; every credential is generated
per run too, and each test that sends one asserts it never shows up in a
result.  The environment a probe sees is injected (``Environment.environ``),
so this machine's own SSL_CERT_FILE / proxies never leak in.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hardoctor.context import Context, Options
from hardoctor.env import Environment
from hardoctor.model import ProbeResult, Remediation, Secret
from hardoctor.probe import ProbePlan, run_plans
from hardoctor.probe.classify import (
    TransportFailure,
    classify_exception,
    classify_response,
    date_skew,
    is_policy_block,
    parse_error_body,
    parse_www_authenticate,
    transport_remediation,
)
from hardoctor.probe.proxy import display_proxy, proxy_for
from hardoctor.probe.rules import NET_RULES, transport_finding, transport_rule
from hardoctor.probe.session import (
    BasicAuth,
    BearerAuth,
    ProbeResponse,
    ProbeSession,
    origin,
    to_result,
)
from hardoctor.probe.tls import is_loopback
from hardoctor.rules import CORE_RULES, RuleRegistry
from hardoctor_docker.tls import docker_is_insecure, docker_tls

T = TypeVar("T")
LOOPBACK = "127.0.0.1"


# -- helpers ----------------------------------------------------------------------


def make_ctx(environ: Mapping[str, str] | None = None, timeout: float = 5.0) -> Context:
    rules = RuleRegistry()
    for rule in CORE_RULES + NET_RULES:
        rules.register(rule)
    env = Environment(environ=dict(environ or {}), home="/home/tester", cwd="/tmp")
    return Context(Options(timeout=timeout), env, rules)


def with_session(
    ctx: Context, fn: Callable[[ProbeSession], Awaitable[T]], deadline: float = 5.0
) -> T:
    async def main() -> T:
        async with ProbeSession(ctx, deadline=deadline) as session:
            return await fn(session)

    return asyncio.run(main())


def request(ctx: Context, method: str, url: str, deadline: float = 5.0, **kw: Any) -> Any:
    return with_session(ctx, lambda s: s.request(method, url, **kw), deadline)


def assert_no_secret(values: list[str], *objects: object) -> None:
    text = "\n".join(repr(o) for o in objects)
    for value in values:
        assert value not in text


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


# -- certificates -------------------------------------------------------------------


@dataclass
class Pki:
    dir: Path
    ca_key: ec.EllipticCurvePrivateKey
    ca_cert: x509.Certificate

    @property
    def ca_file(self) -> str:
        return str(self.dir / "ca.pem")

    def server_cert(
        self,
        name: str,
        sans: list[x509.GeneralName],
        *,
        expired: bool = False,
    ) -> tuple[str, str]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        start, end = (
            (now - dt.timedelta(days=30), now - dt.timedelta(days=1))
            if expired
            else (now - dt.timedelta(days=1), now + dt.timedelta(days=30))
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )
        cert_path = self.dir / f"{name}-{secrets.token_hex(3)}.pem"
        key_path = cert_path.with_suffix(".key")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hardoctor test CA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Pki(folder, key, cert)


# -- servers ---------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    client_port: int
    body: bytes = b""


@dataclass
class HttpServer:
    """A threaded HTTP/1.1 server whose answers tests script per path."""

    routes: dict[str, Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]] = (
        field(default_factory=dict)
    )
    seen: list[Seen] = field(default_factory=list)
    tls: ssl.SSLContext | None = None
    delay: float = 0.0
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    httpd: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.httpd is not None
        return int(self.httpd.server_address[1])

    def url(self, path: str = "/", host: str = LOOPBACK) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def start(self) -> HttpServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.lock:
                    server.seen.append(
                        Seen(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            self.client_address[1],
                            body,
                        )
                    )
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    if server.delay:
                        time.sleep(server.delay)
                    route = server.routes.get(self.path.split("?")[0])
                    status, headers, data = route(self) if route else (200, {}, b'{"ok": true}')
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    with server.lock:
                        server.active -= 1

            do_GET = do_POST = do_HEAD = _handle  # noqa: N815

        self.httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.httpd.daemon_threads = True
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


@pytest.fixture
def servers() -> Iterator[Callable[..., HttpServer]]:
    started: list[HttpServer] = []

    def make(**kw: Any) -> HttpServer:
        srv = HttpServer(**kw).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


def tls_context(cert: tuple[str, str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert)
    return context


class SilentServer:
    """Accepts connections and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.conns: list[socket.socket] = []
        self._stop = threading.Event()
        self.sock.settimeout(0.1)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.conns.append(conn)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        for c in self.conns:
            c.close()
        self.sock.close()


class Proxy407:
    """A loopback HTTP proxy that wants credentials it never accepts."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _refuse(self) -> None:
                outer.seen.append((self.command, self.path))
                body = b"proxy authentication required"
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="corp-proxy"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_CONNECT = do_GET = do_HEAD = do_POST = _refuse  # noqa: N815

        self.httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- WWW-Authenticate, bodies, dates ----------------------------------------------------


def test_parse_bearer_challenge_with_commas_in_quoted_scope() -> None:
    [c] = parse_www_authenticate(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",'
        'scope="repository:team/app:pull,push",error="insufficient_scope"'
    )
    assert c.scheme == "bearer"
    assert c.realm == "https://auth.example.com/token"
    assert c.service == "registry.example.com"
    assert c.scope == "repository:team/app:pull,push"
    assert c.error == "insufficient_scope"


def test_parse_several_challenges_escapes_and_token68() -> None:
    found = parse_www_authenticate(
        [
            'Basic realm="say \\"hi\\", friend", charset="UTF-8"',
            "Negotiate abc123==, Bearer realm=x",
        ]
    )
    assert [c.scheme for c in found] == ["basic", "negotiate", "bearer"]
    assert found[0].realm == 'say "hi", friend'
    assert found[0].params["charset"] == "UTF-8"
    assert found[1].token68 == "abc123=="
    assert found[2].realm == "x"


def test_parse_garbage_never_raises() -> None:
    for text in ["", ",,,", '"', "Bearer", 'Bearer realm="unterminated', "=== ,= ="]:
        parse_www_authenticate(text)
    assert parse_www_authenticate(None) == []
    assert parse_www_authenticate("Bearer")[0].params == {}


def test_error_bodies_oci_har_and_text() -> None:
    oci = b'{"errors":[{"code":"manifest_unknown","message":"manifest unknown","detail":{}}]}'
    assert parse_error_body(oci) == ("MANIFEST_UNKNOWN", "manifest unknown")
    assert parse_error_body(b'{"message":"Unauthorized"}') == (None, "Unauthorized")
    assert parse_error_body(b"Forbidden\n") == (None, "Forbidden")
    assert parse_error_body(b"<html>no</html>") == (None, None)
    assert parse_error_body(b"") == (None, None)


def test_classify_status_and_policy() -> None:
    assert classify_response(200).outcome == "ok"
    assert classify_response(401).outcome == "unauthorized"
    assert classify_response(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}').error_code == (
        "NAME_UNKNOWN"
    )
    assert classify_response(429).outcome == "rate-limited"
    assert classify_response(407).outcome == "proxy-error"
    assert classify_response(503).outcome == "error"
    quarantined = classify_response(
        403, b'{"errors":[{"code":"DENIED","message":"Artifact is quarantined"}]}'
    )
    assert quarantined.outcome == "forbidden" and quarantined.policy
    assert classify_response(403, b'{"message":"Forbidden"}').policy is False
    assert is_policy_block("Artifact is blocked due to policy violations")
    assert not is_policy_block("requested access to the resource is denied")


def test_date_skew() -> None:
    now = time.time()
    header = dt.datetime.fromtimestamp(now + 3600, dt.timezone.utc).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )
    skew = date_skew(header, now)
    assert skew is not None and abs(skew - 3600) < 2
    assert date_skew("not a date", now) is None
    assert date_skew(None, now) is None


def test_transport_rules_and_remediation() -> None:
    assert transport_rule("tls-error", "untrusted-issuer") == "NET001"
    assert transport_rule("tls-error", "hostname-mismatch") == "NET002"
    assert transport_rule("dns-error", "no-such-host") == "NET005"
    # The clients' own steps come from their plugins (hardoctor_transport_advice).
    from hardoctor_docker.advice import transport_advice as docker_advice
    from hardoctor_maven.advice import transport_advice as maven_advice
    from hardoctor_npm.advice import transport_advice as npm_advice
    from hardoctor_pip.advice import transport_advice as pip_advice

    def advice(host: str, ecosystems: list[str]) -> list[Remediation]:
        found = [
            docker_advice("tls-error", "untrusted-issuer", host, ecosystems),
            npm_advice("tls-error", "untrusted-issuer", ecosystems),
            maven_advice("tls-error", "untrusted-issuer", ecosystems),
            pip_advice("tls-error", "untrusted-issuer", ecosystems),
        ]
        return [r for r in found if r is not None]

    everyone = ["docker", "npm", "maven", "pip"]
    rem = transport_remediation("tls-error", "untrusted-issuer", "pkg.example.com",
                                advice("pkg.example.com", everyone))
    text = "\n".join(rem.commands)
    for needle in ("certs.d/pkg.example.com", "npm config set cafile", "global.cert", "trustStore"):
        assert needle in text
    only_npm = transport_remediation("tls-error", "untrusted-issuer", "h:8443",
                                     advice("h:8443", ["npm"]))
    assert not any("certs.d" in c for c in only_npm.commands)


# -- proxy / insecure / origin rules ------------------------------------------------------


def test_proxy_for_follows_go_rules() -> None:
    env = {"HTTPS_PROXY": "proxy.corp:3128", "http_proxy": "http://p2:8080"}
    assert proxy_for("https://pkg.example.com/v2/", env) == "http://proxy.corp:3128"
    assert proxy_for("http://pkg.example.com/v2/", env) == "http://p2:8080"
    assert proxy_for("https://127.0.0.1:5000/v2/", env) is None  # loopback never
    assert proxy_for("https://localhost/v2/", env) is None
    for no_proxy in ("example.com", ".example.com", "*", "pkg.example.com:443", "10.0.0.0/8"):
        bypass = proxy_for("https://pkg.example.com/", {**env, "NO_PROXY": no_proxy}) is None
        assert bypass == (no_proxy != "10.0.0.0/8"), no_proxy
    assert proxy_for("https://10.1.2.3/", {**env, "no_proxy": "10.0.0.0/8"}) is None
    assert proxy_for("https://pkg.example.com/", {**env, "NO_PROXY": "example.com:8443"})
    assert display_proxy("http://user:pw@proxy:3128") == "http://proxy:3128"


def test_docker_insecure_registries(tmp_path: Path) -> None:
    daemon = tmp_path / "daemon.json"
    daemon.write_text(
        json.dumps({"insecure-registries": ["reg.lan:5000", "10.9.0.0/16", "http://old:80"]})
    )
    env = {"HARDOCTOR_DOCKER_DAEMON_JSON": str(daemon)}
    assert docker_is_insecure("127.0.0.5:5000", {})
    assert docker_is_insecure("[::1]:5000", {})
    assert docker_is_insecure("localhost:5000", {})
    assert docker_is_insecure("reg.lan:5000", env)
    assert not docker_is_insecure("reg.lan:5001", env)
    assert docker_is_insecure("10.9.3.4:443", env)
    assert docker_is_insecure("old:80", env)
    assert not docker_is_insecure("pkg.harness.io", env)
    assert not docker_tls("pkg.harness.io", env).extra_cafiles
    assert not docker_tls("127.0.0.1:5000", env).verify
    assert is_loopback("127.1.2.3") and not is_loopback("128.0.0.1")


def test_origin() -> None:
    assert origin("https://Example.COM/v2/") == ("https", "example.com", 443)
    assert origin("http://h:80/") == origin("http://h/")
    assert origin("https://h/") != origin("http://h/")
    assert origin("https://[::1]:5000/v2/") == ("https", "::1", 5000)


def test_credential_headers_are_refused_as_plain_headers() -> None:
    ctx = make_ctx()
    with pytest.raises(ValueError, match="auth="):
        request(ctx, "GET", "http://127.0.0.1:9/", headers={"Authorization": "Basic x"})


# -- TLS --------------------------------------------------------------------------------


def _ip_sans() -> list[x509.GeneralName]:
    return [x509.IPAddress(ipaddress.ip_address(LOOPBACK)), x509.DNSName("localhost")]


def test_tls_untrusted_then_trusted_with_ssl_cert_file(
    pki: Pki, servers: Callable[..., HttpServer]
) -> None:
    srv = servers(tls=tls_context(pki.server_cert("reg", _ip_sans())))
    failed = request(make_ctx({}), "GET", srv.url("/v2/"))
    assert isinstance(failed, TransportFailure)
    assert (failed.outcome, failed.kind) == ("tls-error", "untrusted-issuer")
    result = to_result(failed, credential=None)
    assert result.outcome == "tls-error" and result.facts["transport"] == "untrusted-issuer"

    for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        ok = request(make_ctx({var: pki.ca_file}), "GET", srv.url("/v2/"))
        assert isinstance(ok, ProbeResponse) and ok.status == 200, var


def test_tls_untrusted_finding_points_at_the_ca_settings(
    pki: Pki, servers: Callable[..., HttpServer]
) -> None:
    srv = servers(tls=tls_context(pki.server_cert("reg", _ip_sans())))
    ctx = make_ctx({})
    failed = request(ctx, "GET", srv.url("/v2/"))
    finding = transport_finding(
        ctx, to_result(failed, credential=None), host=f"{LOOPBACK}:{srv.port}"
    )
    assert finding is not None and finding.rule == "NET001" and finding.cause == "tls-error"
    assert finding.remediation is not None
    # No client plugin loaded here: the generic CA setting (each client's own
    # comes from its plugin's hardoctor_transport_advice).
    assert any("SSL_CERT_FILE" in c for c in finding.remediation.commands)


def test_tls_hostname_mismatch(pki: Pki, servers: Callable[..., HttpServer]) -> None:
    srv = servers(tls=tls_context(pki.server_cert("other", [x509.DNSName("other.example")])))
    failed = request(make_ctx({"SSL_CERT_FILE": pki.ca_file}), "GET", srv.url("/v2/"))
    assert isinstance(failed, TransportFailure)
    assert (failed.outcome, failed.kind) == ("tls-error", "hostname-mismatch")


def test_tls_expired_certificate(pki: Pki, servers: Callable[..., HttpServer]) -> None:
    srv = servers(tls=tls_context(pki.server_cert("old", _ip_sans(), expired=True)))
    failed = request(make_ctx({"SSL_CERT_FILE": pki.ca_file}), "GET", srv.url("/v2/"))
    assert isinstance(failed, TransportFailure)
    assert (failed.outcome, failed.kind) == ("tls-error", "expired-certificate")


def test_docker_certs_d_adds_the_registry_ca(
    pki: Pki, servers: Callable[..., HttpServer], tmp_path: Path
) -> None:
    srv = servers(tls=tls_context(pki.server_cert("reg", _ip_sans())))
    host = f"localhost:{srv.port}"
    certs_d = tmp_path / "certs.d"
    (certs_d / host).mkdir(parents=True)
    (certs_d / host / "ca.crt").write_bytes(Path(pki.ca_file).read_bytes())
    env = {"HARDOCTOR_DOCKER_CERTS_D": str(certs_d)}
    opts = docker_tls(host, env)
    # localhost is an insecure registry for Docker: no verification at all...
    assert opts.verify is False
    # ...so check certs.d on the verifying path the way Docker does for real hosts.
    from hardoctor.probe.tls import TLSOptions
    from hardoctor_docker.tls import docker_certs

    cas, _ = docker_certs(host, env)
    assert cas
    url = srv.url("/v2/", host="localhost")
    ok = request(make_ctx(env), "GET", url, tls=TLSOptions(extra_cafiles=cas))
    assert isinstance(ok, ProbeResponse) and ok.status == 200
    bad = request(make_ctx(env), "GET", url, tls=TLSOptions())
    assert isinstance(bad, TransportFailure) and bad.outcome == "tls-error"


def test_unreadable_ca_file_is_a_tls_error_not_a_crash() -> None:
    failed = request(
        make_ctx({"SSL_CERT_FILE": "/nonexistent/ca.pem"}), "GET", "https://h.invalid/"
    )
    assert isinstance(failed, TransportFailure) and failed.outcome == "tls-error"
    assert failed.kind == "bad-ca-file"


# -- transport failures ----------------------------------------------------------------


def test_silent_server_is_bounded_by_the_deadline() -> None:
    silent = SilentServer()
    try:
        ctx = make_ctx(timeout=1.0)
        url = f"http://{LOOPBACK}:{silent.port}/v2/"

        async def probe(session: ProbeSession) -> list[ProbeResult]:
            answer = await session.request("GET", url)
            return [to_result(answer, credential=None, detail="GET /v2/")]

        t0 = time.monotonic()
        [[result]] = run_plans(ctx, [ProbePlan(url=url, credential=None, run=probe)])
        elapsed = time.monotonic() - t0
    finally:
        silent.close()
    assert elapsed < 1.0 + 1.0, elapsed
    assert result.outcome == "timeout"
    assert result.url == url


def test_plan_that_outlives_the_deadline_is_cut_off() -> None:
    ctx = make_ctx(timeout=0.5)

    async def stuck(session: ProbeSession) -> list[ProbeResult]:
        await asyncio.sleep(30)
        return []

    t0 = time.monotonic()
    [[result]] = run_plans(ctx, [ProbePlan(url="http://x/", credential="c1", run=stuck)])
    assert time.monotonic() - t0 < 1.5
    assert (result.outcome, result.credential) == ("timeout", "c1")


def test_plan_that_raises_becomes_an_error_result() -> None:
    async def broken(session: ProbeSession) -> list[ProbeResult]:
        raise KeyError("secret-looking text")

    [[result]] = run_plans(make_ctx(), [ProbePlan(url="http://x/", credential=None, run=broken)])
    assert result.outcome == "error" and "KeyError" in result.detail
    assert "secret-looking" not in result.detail
    assert run_plans(make_ctx(), []) == []


def test_plans_with_the_same_key_share_one_walk() -> None:
    calls: list[str] = []

    def walker(name: str) -> Callable[[ProbeSession], Awaitable[list[ProbeResult]]]:
        async def run(session: ProbeSession) -> list[ProbeResult]:
            calls.append(name)
            await asyncio.sleep(0.01)
            return [ProbeResult(url="http://x/", outcome="ok", credential="walker")]

        return run

    plans = [
        ProbePlan(url="http://x/", credential="c1", run=walker("a"), key=("oci", "k")),
        ProbePlan(url="http://x/", credential="c2", run=walker("b"), key=("oci", "k")),
        ProbePlan(url="http://x/", credential="c3", run=walker("c")),
        ProbePlan(url="http://x/", credential="c4", run=walker("d"), key=("oci", "other")),
    ]
    results = run_plans(make_ctx(), plans)
    assert sorted(calls) == ["a", "c", "d"]  # the second plan of key "k" never runs
    assert [[r.credential for r in rs] for rs in results] == [["c1"], ["c2"], ["walker"], ["c4"]]


def test_shared_walk_timeout_is_reported_per_plan() -> None:
    async def stuck(session: ProbeSession) -> list[ProbeResult]:
        await asyncio.sleep(30)
        return []

    plans = [ProbePlan(url="http://x/", credential=c, run=stuck, key="k") for c in ("c1", "c2")]
    results = run_plans(make_ctx(timeout=0.3), plans)
    assert [(r.outcome, r.credential) for [r] in results] == [("timeout", "c1"), ("timeout", "c2")]


def test_connection_refused() -> None:
    failed = request(make_ctx(), "GET", f"http://{LOOPBACK}:{free_port()}/v2/")
    assert isinstance(failed, TransportFailure)
    assert (failed.outcome, failed.kind) == ("connection-error", "refused")


def test_unresolvable_host() -> None:
    failed = request(make_ctx(), "GET", "https://nonexistent.invalid/v2/")
    assert isinstance(failed, TransportFailure)
    assert failed.outcome == "dns-error"


def test_classify_exception_chain() -> None:
    import httpx

    try:
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as inner:
            raise httpx.ConnectError("boom") from inner
    except httpx.ConnectError as exc:
        assert classify_exception(exc).outcome == "dns-error"
    assert classify_exception(httpx.ReadTimeout("slow")).outcome == "timeout"
    assert classify_exception(httpx.ProxyError("407 Proxy Authentication Required")).kind == (
        "proxy-auth-required"
    )


# -- proxies ---------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_proxy_407_is_a_proxy_error(scheme: str) -> None:
    proxy = Proxy407()
    proxy_password = secrets.token_hex(8)
    try:
        env = {
            f"{scheme.upper()}_PROXY": f"http://corp:{proxy_password}@127.0.0.1:{proxy.port}",
        }
        ctx = make_ctx(env)
        answer = request(ctx, "GET", f"{scheme}://registry.example.test/v2/")
        result = to_result(answer, credential=None, detail="GET /v2/")
    finally:
        proxy.close()
    assert result.outcome == "proxy-error"
    assert proxy.seen, "the request must have gone to the proxy"
    assert proxy.seen[0][0] == ("CONNECT" if scheme == "https" else "GET")
    finding = transport_finding(ctx, result, host="registry.example.test")
    assert finding is not None and finding.rule == "NET008" and finding.cause == "proxy-error"
    assert_no_secret([proxy_password], answer, result, finding)


def test_no_proxy_bypasses_the_proxy() -> None:
    proxy = Proxy407()
    try:
        env = {
            "HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}",
            "NO_PROXY": "nonexistent.invalid",
        }
        failed = request(make_ctx(env), "GET", "https://nonexistent.invalid/v2/")
    finally:
        proxy.close()
    assert isinstance(failed, TransportFailure) and failed.outcome == "dns-error"
    assert proxy.seen == []


# -- credential safety ----------------------------------------------------------------------


def test_redirect_to_another_port_drops_the_credential(
    servers: Callable[..., HttpServer],
) -> None:
    receiver = servers()
    sender = servers()
    sender.routes["/v2/blob"] = lambda h: (
        307,
        {"Location": receiver.url("/storage/blob")},
        b"",
    )
    password = secrets.token_urlsafe(16)
    ctx = make_ctx()
    answer = request(
        ctx,
        "GET",
        sender.url("/v2/blob"),
        auth=BasicAuth("dev", Secret(password)),
        credential_origin=sender.url("/"),
    )
    assert isinstance(answer, ProbeResponse) and answer.status == 200
    assert answer.redirects == (receiver.url("/storage/blob"),)
    assert answer.auth_withheld == (f"http://{LOOPBACK}:{receiver.port}",)
    assert answer.auth_sent is False
    # The sender got the credential; the receiving side did not.
    assert "authorization" in sender.seen[0].headers
    assert [s.path for s in receiver.seen] == ["/storage/blob"]
    assert "authorization" not in receiver.seen[0].headers
    result = to_result(answer, credential="c1")
    assert result.facts["auth_withheld"] == [f"http://{LOOPBACK}:{receiver.port}"]
    assert_no_secret([password], answer, result)


def test_same_origin_redirect_keeps_the_credential(servers: Callable[..., HttpServer]) -> None:
    srv = servers()
    srv.routes["/a"] = lambda h: (302, {"Location": "/b"}, b"")
    token = secrets.token_urlsafe(16)
    answer = request(make_ctx(), "GET", srv.url("/a"), auth=BearerAuth(Secret(token)))
    assert isinstance(answer, ProbeResponse) and answer.auth_sent
    assert [s.path for s in srv.seen] == ["/a", "/b"]
    assert all(s.headers.get("authorization") == f"Bearer {token}" for s in srv.seen)


def test_credential_never_goes_to_a_foreign_origin_even_first(
    servers: Callable[..., HttpServer],
) -> None:
    srv = servers()
    answer = request(
        make_ctx(),
        "GET",
        srv.url("/v2/"),
        auth=BasicAuth("u", Secret(secrets.token_hex(8))),
        credential_origin="https://registry.example.com/",
    )
    assert isinstance(answer, ProbeResponse) and not answer.auth_sent
    assert "authorization" not in srv.seen[0].headers


def test_secret_form_is_not_posted_across_origins(servers: Callable[..., HttpServer]) -> None:
    receiver = servers()
    sender = servers()
    sender.routes["/token"] = lambda h: (307, {"Location": receiver.url("/token")}, b"")
    refresh = secrets.token_urlsafe(16)
    answer = request(
        make_ctx(),
        "POST",
        sender.url("/token"),
        form={"grant_type": "refresh_token", "refresh_token": Secret(refresh)},
    )
    assert isinstance(answer, TransportFailure) and answer.kind == "credential-origin"
    assert receiver.seen == []
    assert refresh.encode() in sender.seen[0].body


# -- insecure fallback, reuse, limits -------------------------------------------------------


def test_insecure_registry_falls_back_to_http_with_its_credential(
    servers: Callable[..., HttpServer],
) -> None:
    srv = servers()  # plain http on loopback
    https_url = f"https://{LOOPBACK}:{srv.port}/v2/"
    password = secrets.token_hex(8)

    async def twice(session: ProbeSession) -> tuple[Any, Any, Any]:
        plain = await session.request("GET", https_url)
        first = await session.request(
            "GET", https_url, fallback_http=True, auth=BasicAuth("u", Secret(password))
        )
        second = await session.request("GET", https_url, fallback_http=True)
        return plain, first, second

    plain, first, second = with_session(make_ctx(), twice)
    assert isinstance(plain, TransportFailure) and plain.outcome == "tls-error"
    assert isinstance(first, ProbeResponse) and first.status == 200 and first.fallback_http
    assert first.url.startswith("http://") and first.auth_sent
    assert isinstance(second, ProbeResponse) and second.fallback_http
    assert len(srv.seen) == 2  # the second went straight to http


def test_connections_are_reused(servers: Callable[..., HttpServer]) -> None:
    srv = servers()

    async def five(session: ProbeSession) -> None:
        for _ in range(5):
            await session.request("GET", srv.url("/v2/"))

    with_session(make_ctx(), five)
    assert len(srv.seen) == 5
    assert len({s.client_port for s in srv.seen}) == 1


def test_per_host_connection_limit(servers: Callable[..., HttpServer]) -> None:
    srv = servers(delay=0.15)

    async def many() -> None:
        async with ProbeSession(make_ctx(), deadline=5, per_host_limit=2) as session:
            await asyncio.gather(*(session.request("GET", srv.url("/v2/")) for _ in range(6)))

    asyncio.run(many())
    assert len(srv.seen) == 6
    assert srv.max_active <= 2


def test_date_skew_recorded(servers: Callable[..., HttpServer]) -> None:
    srv = servers()
    ahead = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    srv.routes["/v2/"] = lambda h: (
        200,
        {"Date": ahead.strftime("%a, %d %b %Y %H:%M:%S GMT")},
        b"{}",
    )
    answer = request(make_ctx(), "GET", srv.url("/v2/"))
    result = to_result(answer, credential=None)
    assert 7100 < result.facts["date_skew_s"] < 7300
