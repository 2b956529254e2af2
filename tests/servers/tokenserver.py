"""A real Docker distribution token server (the distribution project's token
authentication spec: https://distribution.github.io/distribution/spec/auth/token/).

It runs in a background thread and signs JWTs the Debian ``docker-registry``
(distribution 2.8) accepts: the registry trusts the self-signed certificate
written to :attr:`TokenServer.rootcertbundle` and finds the signing key by the
libtrust key id in the JWT header ``kid``.

Grants are ``{username: {repo: [actions]}}``; a repo key ``"*"`` matches every
repository, an action ``"*"`` grants every requested action. Non-repository
scopes (e.g. ``registry:catalog:*``) are granted through a key
``"registry:catalog"`` (``type:name``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .util import LOOPBACK

Grants = Mapping[str, Iterable[str]]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

#: Token scope spec: (type, name, actions), e.g. ("repository", "team/app", ["pull"]).
Scope = tuple[str, str, list[str]]


def libtrust_key_id(public_key: PublicKey) -> str:
    """The libtrust fingerprint distribution uses to match a JWT ``kid``.

    base32(first 240 bits of SHA-256(DER SubjectPublicKeyInfo)), no padding,
    in 4-character groups joined by ':' (12 groups).
    """
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def parse_scope(spec: str) -> Scope | None:
    """Parse ``type:name:actions``; the name may itself contain ':' (ports)."""
    first = spec.find(":")
    last = spec.rfind(":")
    if first < 0 or first == last:
        return None
    rtype, name, actions = spec[:first], spec[first + 1 : last], spec[last + 1 :]
    # "repository(plugin)" is a typed class; the class is irrelevant here.
    if "(" in rtype:
        rtype = rtype[: rtype.index("(")]
    return rtype, name, [a for a in actions.split(",") if a]


@dataclass
class RecordedRequest:
    """One request the token server received (headers keyed in lower case)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, list[str]] = field(default_factory=dict)
    status: int = 0
    subject: str | None = None  # authenticated user, None when anonymous/refused

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def basic_credentials(self) -> tuple[str, str] | None:
        """(user, password) from a Basic Authorization header, if any."""
        return _decode_basic(self.authorization)

    @property
    def scopes(self) -> list[str]:
        """Requested scope strings (GET ``scope=`` params or POST ``scope`` list)."""
        out = list(self.query.get("scope", []))
        for value in self.form.get("scope", []):
            out.extend(value.split())
        return out


def _decode_basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = raw.partition(":")
    return (user, password) if sep else None


@dataclass
class _RefreshToken:
    subject: str
    service: str


class TokenServer:
    """Threaded token endpoint on 127.0.0.1; use as a context manager.

    Args:
        users: ``{username: password}`` accepted via Basic auth / password grant.
        grants: ``{username: {repo: ["pull", "push"]}}``; ``"*"`` wildcards.
        anonymous_grants: ``{repo: [actions]}`` given to requests without
            credentials (default: nothing, so anonymous tokens are empty).
        service: expected ``service`` (also the JWT ``aud``).
        issuer: JWT ``iss`` (the registry must be configured with the same).
        token_ttl: seconds until ``exp``; negative issues already-expired
            tokens. distribution allows 60 s of clock-skew leeway, so use
            ``<= -120`` to get a token the registry really rejects. It is a
            plain attribute and may be changed while the server runs.
        algorithm: ``"RS256"`` or ``"ES256"``.
        path: URL path of the realm.
        workdir: where the cert bundle goes (a temp dir by default).
    """

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        grants: Mapping[str, Grants] | None = None,
        anonymous_grants: Grants | None = None,
        service: str = "hardoctor-test-registry",
        issuer: str = "hardoctor-test-token-issuer",
        token_ttl: int = 300,
        algorithm: Literal["RS256", "ES256"] = "RS256",
        path: str = "/token",
        workdir: str | Path | None = None,
    ) -> None:
        self.users: dict[str, str] = dict(users or {})
        self.grants: dict[str, dict[str, list[str]]] = {
            u: {r: list(a) for r, a in g.items()} for u, g in (grants or {}).items()
        }
        self.anonymous_grants: dict[str, list[str]] = {
            r: list(a) for r, a in (anonymous_grants or {}).items()
        }
        self.service = service
        self.issuer = issuer
        self.token_ttl = token_ttl
        self.algorithm = algorithm
        self.path = path
        self.requests: list[RecordedRequest] = []
        self.refresh_tokens: dict[str, _RefreshToken] = {}
        self._lock = threading.Lock()
        self._own_workdir = workdir is None
        self._workdir_arg = workdir
        self.workdir: Path | None = None
        self.rootcertbundle: Path | None = None
        self.kid = ""
        self._key: PrivateKey | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ------------------------------------------------------------------ life
    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT``."""
        if not self.port:
            raise RuntimeError("TokenServer not started")
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def realm(self) -> str:
        """The realm URL registries put in their ``Bearer realm=`` challenge."""
        return self.url + self.path

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> TokenServer:
        if self._httpd is not None:
            return self
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="hd-token-"))
            if self._own_workdir
            else Path(self._workdir_arg)  # type: ignore[arg-type]
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._key = self._generate_key()
        self.kid = libtrust_key_id(self._key.public_key())
        self.rootcertbundle = self.workdir / "token-signing-cert.pem"
        self.rootcertbundle.write_bytes(self.certificate_pem())

        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=f"token-server-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ keys
    def _generate_key(self) -> PrivateKey:
        if self.algorithm == "RS256":
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if self.algorithm == "ES256":
            return ec.generate_private_key(ec.SECP256R1())
        raise ValueError(f"unsupported algorithm {self.algorithm!r}")

    def certificate_pem(self) -> bytes:
        """Self-signed X.509 certificate for the signing key (the rootcertbundle).

        distribution only reads the public key out of it, but it must be a
        CERTIFICATE PEM block: a bare public key is rejected at start-up.
        """
        if self._key is None:
            raise RuntimeError("TokenServer not started")
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.issuer)])
        now = _dt.datetime.now(_dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1))
            .not_valid_after(now + _dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM)

    def public_key_pem(self) -> bytes:
        if self._key is None:
            raise RuntimeError("TokenServer not started")
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    # ---------------------------------------------------------------- tokens
    def issue_token(
        self,
        subject: str,
        access: list[dict[str, Any]],
        *,
        ttl: int | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        kid: str | None = None,
    ) -> str:
        """Sign a JWT directly (tests can forge wrong aud/iss/kid with the args)."""
        if self._key is None:
            raise RuntimeError("TokenServer not started")
        ttl = self.token_ttl if ttl is None else ttl
        now = int(time.time())
        exp = now + ttl
        # Keep nbf <= exp even for already-expired tokens.
        nbf = min(now, exp - 1)
        claims = {
            "iss": self.issuer if issuer is None else issuer,
            "sub": subject,
            "aud": self.service if audience is None else audience,
            "exp": exp,
            "nbf": nbf,
            "iat": nbf,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        return jwt.encode(
            claims,
            self._key,
            algorithm=self.algorithm,
            headers={"kid": self.kid if kid is None else kid},
        )

    def decode_token(self, token: str) -> dict[str, Any]:
        """Verify and decode a token this server issued (ignores expiry)."""
        if self._key is None:
            raise RuntimeError("TokenServer not started")
        return jwt.decode(
            token,
            self._key.public_key(),
            algorithms=[self.algorithm],
            audience=self.service,
            options={"verify_exp": False, "verify_nbf": False},
        )

    def authorize(self, subject: str | None, scopes: Iterable[str]) -> list[dict[str, Any]]:
        """Intersect the requested scopes with the subject's grants."""
        grants = self.anonymous_grants if subject is None else self.grants.get(subject, {})
        granted: list[dict[str, Any]] = []
        for spec in scopes:
            parsed = parse_scope(spec)
            if parsed is None:
                continue
            rtype, name, actions = parsed
            if rtype == "repository":
                allowed = set(grants.get(name, [])) | set(grants.get("*", []))
            else:
                allowed = set(grants.get(f"{rtype}:{name}", []))
            ok = [a for a in actions if a in allowed or "*" in allowed]
            # An entry with no actions is what real servers emit for a denied
            # scope; the registry treats it as no access.
            entry = next((g for g in granted if g["type"] == rtype and g["name"] == name), None)
            if entry is None:
                granted.append({"type": rtype, "name": name, "actions": ok})
            else:
                entry["actions"].extend(a for a in ok if a not in entry["actions"])
        return granted

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, rec: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(rec)

    def _check_password(self, user: str, password: str) -> bool:
        expected = self.users.get(user)
        return expected is not None and secrets.compare_digest(expected, password)

    def _new_refresh_token(self, subject: str, service: str) -> str:
        token = "hd-refresh-" + secrets.token_urlsafe(24)
        with self._lock:
            self.refresh_tokens[token] = _RefreshToken(subject, service)
        return token

    def _lookup_refresh_token(self, token: str) -> _RefreshToken | None:
        with self._lock:
            return self.refresh_tokens.get(token)


def _utc_now_rfc3339() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _make_handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "hardoctor-test-token-server/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # tests read .requests instead of stderr noise

        # -------------------------------------------------------- helpers
        def _begin(self, form: dict[str, list[str]] | None = None) -> RecordedRequest:
            parts = urlsplit(self.path)
            rec = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                form=form or {},
            )
            server._record(rec)
            return rec

        def _send_json(
            self,
            rec: RecordedRequest,
            status: int,
            body: Mapping[str, Any],
            headers: Mapping[str, str] | None = None,
        ) -> None:
            rec.status = status
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _error(
            self,
            rec: RecordedRequest,
            status: int,
            code: str,
            message: str,
            challenge: bool = False,
        ) -> None:
            headers = {"WWW-Authenticate": f'Basic realm="{server.realm}"'} if challenge else None
            body = {"errors": [{"code": code, "message": message, "detail": None}]}
            self._send_json(rec, status, body, headers)

        def _path_ok(self) -> bool:
            return urlsplit(self.path).path.rstrip("/") == server.path.rstrip("/")

        # ------------------------------------------------------------ GET
        def do_GET(self) -> None:  # noqa: N802
            rec = self._begin()
            if not self._path_ok():
                self._error(rec, 404, "NOT_FOUND", "not found")
                return
            service = (rec.query.get("service") or [""])[0]
            offline = (rec.query.get("offline_token") or ["false"])[0].lower() in ("1", "true")
            auth = rec.authorization
            subject: str | None = None
            if auth is not None:
                creds = _decode_basic(auth)
                if creds is None or not server._check_password(*creds):
                    self._error(
                        rec, 401, "UNAUTHORIZED", "invalid username or password", challenge=True
                    )
                    return
                subject = creds[0]
            if service and service != server.service:
                # Real servers refuse tokens for a service they do not serve.
                self._error(rec, 400, "UNSUPPORTED", f"unknown service {service!r}")
                return
            rec.subject = subject
            access = server.authorize(subject, rec.scopes)
            token = server.issue_token(subject or "", access)
            body: dict[str, Any] = {
                "token": token,
                "access_token": token,
                "expires_in": server.token_ttl,
                "issued_at": _utc_now_rfc3339(),
            }
            if offline and subject is not None:
                body["refresh_token"] = server._new_refresh_token(subject, server.service)
            self._send_json(rec, 200, body)

        do_HEAD = do_GET  # noqa: N815

        # ----------------------------------------------------------- POST
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            form = parse_qs(raw.decode(errors="replace"), keep_blank_values=True)
            rec = self._begin(form)
            if not self._path_ok():
                self._error(rec, 404, "NOT_FOUND", "not found")
                return

            def val(name: str) -> str:
                return (form.get(name) or [""])[0]

            grant_type, service, client_id = val("grant_type"), val("service"), val("client_id")
            for name, value in (
                ("grant_type", grant_type),
                ("service", service),
                ("client_id", client_id),
            ):
                if not value:
                    self._error(rec, 400, "MISSING_REQUIRED_FIELD", f"missing {name} value")
                    return
            if service != server.service:
                self._error(rec, 400, "UNSUPPORTED", f"unknown service {service!r}")
                return
            access_type = val("access_type") or "online"
            if access_type not in ("online", "offline"):
                self._error(rec, 400, "UNSUPPORTED", "unknown access_type value")
                return

            refresh = ""
            if grant_type == "refresh_token":
                refresh = val("refresh_token")
                known = server._lookup_refresh_token(refresh) if refresh else None
                if known is None or known.service != service:
                    self._error(rec, 401, "UNAUTHORIZED", "invalid refresh token")
                    return
                subject = known.subject
            elif grant_type == "password":
                subject, password = val("username"), val("password")
                if not subject or not password:
                    self._error(rec, 400, "UNSUPPORTED", "missing username or password value")
                    return
                if not server._check_password(subject, password):
                    self._error(rec, 401, "UNAUTHORIZED", "invalid username or password")
                    return
                # Docker's client always treats a password grant as a login that
                # should yield an identity token, so hand one out (as Docker Hub
                # does) even without access_type=offline.
                refresh = server._new_refresh_token(subject, service)
            else:
                self._error(rec, 400, "UNSUPPORTED", "unknown grant_type value")
                return
            if access_type == "offline" and grant_type == "refresh_token":
                refresh = server._new_refresh_token(subject, service)

            rec.subject = subject
            access = server.authorize(subject, rec.scopes)
            token = server.issue_token(subject, access)
            scope_str = " ".join(
                f"{a['type']}:{a['name']}:{','.join(a['actions'])}" for a in access if a["actions"]
            )
            body: dict[str, Any] = {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": server.token_ttl,
                "issued_at": _utc_now_rfc3339(),
                "refresh_token": refresh,
            }
            if scope_str:
                body["scope"] = scope_str
            self._send_json(rec, 200, body)

    return Handler
