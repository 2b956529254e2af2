"""An emulator of Harness Artifact Registry's OCI endpoints (docs/vendors/harness.md).

A threaded ``http.server`` on 127.0.0.1 answering as the open-source HAR
build does:

* ``GET /v2/`` without a valid bearer token: 401,
  ``WWW-Authenticate: Bearer realm="http://HOST/v2/token",service="..."`` and
  body ``{"message":"Unauthorized"}``;
* ``GET /v2/token?service=...&scope=...`` with Basic auth whose *password* is
  a PAT/SAT (the username is ignored): ``{"token": "<jwt>"}``; an unknown,
  revoked or expired token: 401 ``{"message":"Unauthorized"}`` -- HAR does
  not say which;
* manifests ``/v2/<account>/<registry>/<image>/manifests/<ref>``: without a
  valid bearer token 401 ``UNAUTHORIZED`` with a challenge (also for a wrong
  account or registry: no 404 before authentication); then
  ``ROOT_NOT_FOUND`` (account), ``REGISTRY_NOT_FOUND``, ``DENIED`` (no read
  permission), ``NAME_UNKNOWN`` (image missing, or the registry is not a
  Docker registry), ``MANIFEST_UNKNOWN`` (tag), 403 "Artifact is
  quarantined" / "Artifact is blocked due to policy violations", and 429
  ``TOOMANYREQUESTS`` when :attr:`HarRegistry.rate_limited` is set;
* ``/v2/<account>/<registry>/<image>/tags/list`` with the same checks;
* every ``Date`` header shifted by :attr:`HarRegistry.date_offset` seconds.

Tokens are made with :meth:`HarRegistry.new_token` in the real
``pat.<account>.<tokenId>.<secret>`` shape, secrets generated per run.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from .util import LOOPBACK

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class HarToken:
    value: str
    account: str
    #: registry name (or "*") -> {"read", "write"}
    permissions: dict[str, set[str]]
    expired: bool = False
    revoked: bool = False


@dataclass
class HarRepo:
    name: str
    package_type: str = "docker"
    #: image -> tag -> manifest bytes
    images: dict[str, dict[str, bytes]] = field(default_factory=dict)
    quarantined: set[tuple[str, str]] = field(default_factory=set)
    blocked: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class HarRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int = 0

    @property
    def has_authorization(self) -> bool:
        return "authorization" in self.headers


def _manifest(image: str, tag: str) -> bytes:
    config = hashlib.sha256(f"{image}:{tag}".encode()).hexdigest()
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": f"sha256:{config}",
            "size": 2,
        },
        "layers": [],
    }
    return json.dumps(body, sort_keys=True).encode()


class HarRegistry:
    """HAR OCI emulator; use as a context manager.

    Args:
        service: the ``service`` of the challenge and of the tokens.
        date_offset: seconds added to every ``Date`` header (clock skew).
        token_ttl: lifetime of the issued bearer JWTs (HAR: about 24 h).
    """

    def __init__(
        self,
        *,
        service: str = "Harness Registry",
        date_offset: float = 0.0,
        token_ttl: int = 86400,
    ) -> None:
        self.service = service
        self.date_offset = date_offset
        self.token_ttl = token_ttl
        self.rate_limited = False
        self.accounts: dict[str, dict[str, HarRepo]] = {}
        self.tokens: dict[str, HarToken] = {}
        self.requests: list[HarRequest] = []
        self._signing_key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- set-up -----------------------------------------------------------------
    def add_registry(self, account: str, name: str, package_type: str = "docker") -> HarRepo:
        repo = HarRepo(name=name, package_type=package_type)
        self.accounts.setdefault(account, {})[name] = repo
        return repo

    def push(self, account: str, registry: str, image: str, tag: str) -> str:
        """Store a manifest; returns its digest."""
        data = _manifest(image, tag)
        self.accounts[account][registry].images.setdefault(image, {})[tag] = data
        return "sha256:" + hashlib.sha256(data).hexdigest()

    def quarantine(self, account: str, registry: str, image: str, tag: str) -> None:
        self.accounts[account][registry].quarantined.add((image, tag))

    def block(self, account: str, registry: str, image: str, tag: str) -> None:
        self.accounts[account][registry].blocked.add((image, tag))

    def new_token(
        self,
        account: str,
        permissions: Mapping[str, Iterable[str]],
        *,
        kind: str = "pat",
        expired: bool = False,
    ) -> str:
        """A PAT/SAT string ``kind.account.tokenId.secret`` the emulator knows."""
        value = f"{kind}.{account}.{secrets.token_hex(6)}.{secrets.token_urlsafe(18)}"
        value = value.replace("-", "x")  # keep the four-segment shape unambiguous
        self.tokens[value] = HarToken(
            value=value,
            account=account,
            permissions={r: set(p) for r, p in permissions.items()},
            expired=expired,
        )
        return value

    # -- life -------------------------------------------------------------------
    @property
    def host(self) -> str:
        if not self.port:
            raise RuntimeError("HarRegistry not started")
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def realm(self) -> str:
        return f"{self.url}/v2/token"

    def start(self) -> HarRegistry:
        if self._httpd is not None:
            return self
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll
            name=f"har-registry-{self.port}",
            daemon=True,
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

    def __enter__(self) -> HarRegistry:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- tokens -----------------------------------------------------------------
    def _lookup_pat(self, authorization: str | None) -> HarToken | None:
        if not authorization or not authorization.lower().startswith("basic "):
            return None
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        _user, sep, password = raw.partition(":")  # HAR reads only the password
        if not sep:
            return None
        token = self.tokens.get(password)
        if token is None or token.expired or token.revoked:
            return None
        return token

    def _issue(self, token: HarToken) -> str:
        now = int(time.time())
        claims = {
            "iss": "har-emulator",
            "sub": token.value.split(".")[2],
            "aud": self.service,
            "account": token.account,
            "iat": now,
            "nbf": now,
            "exp": now + self.token_ttl,
        }
        return jwt.encode(claims, self._signing_key, algorithm="HS256")

    def _bearer(self, authorization: str | None) -> HarToken | None:
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        try:
            claims = jwt.decode(
                authorization[7:].strip(),
                self._signing_key,
                algorithms=["HS256"],
                audience=self.service,
            )
        except jwt.PyJWTError:
            return None
        sub = claims.get("sub")
        token = next((t for t in self.tokens.values() if t.value.split(".")[2] == sub), None)
        if token is None or token.revoked:
            return None
        return token

    def _record(self, rec: HarRequest) -> None:
        with self._lock:
            self.requests.append(rec)


def _make_handler(har: HarRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "har-emulator/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def date_time_string(self, timestamp: float | None = None) -> str:
            return formatdate((timestamp or time.time()) + har.date_offset, usegmt=True)

        def _begin(self) -> HarRequest:
            parts = urlsplit(self.path)
            rec = HarRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
            )
            har._record(rec)
            return rec

        def _send(
            self,
            rec: HarRequest,
            status: int,
            body: bytes,
            ctype: str = "application/json",
            headers: Mapping[str, str] | None = None,
        ) -> None:
            rec.status = status
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(
            self,
            rec: HarRequest,
            status: int,
            body: Any,
            headers: Mapping[str, str] | None = None,
        ) -> None:
            self._send(rec, status, json.dumps(body).encode(), headers=headers)

        def _oci_error(
            self,
            rec: HarRequest,
            status: int,
            code: str,
            message: str,
            headers: Mapping[str, str] | None = None,
        ) -> None:
            body = {"errors": [{"code": code, "message": message, "detail": None}]}
            self._json(rec, status, body, headers)

        def _challenge(self, scope: str | None = None) -> dict[str, str]:
            value = f'Bearer realm="{har.realm}",service="{har.service}"'
            if scope:
                value += f',scope="{scope}"'
            return {"WWW-Authenticate": value}

        def do_GET(self) -> None:  # noqa: N802
            rec = self._begin()
            path = rec.path
            if path in ("/v2", "/v2/"):
                if har._bearer(rec.headers.get("authorization")) is None:
                    self._json(rec, 401, {"message": "Unauthorized"}, self._challenge())
                else:
                    self._json(rec, 200, {})
                return
            if path == "/v2/token":
                self._token(rec)
                return
            if path.startswith("/v2/") and "/manifests/" in path:
                self._manifest(rec)
                return
            if path.startswith("/v2/") and path.endswith("/tags/list"):
                self._tags(rec)
                return
            self._oci_error(rec, 404, "NOT_FOUND", "not found")

        do_HEAD = do_GET  # noqa: N815

        def _token(self, rec: HarRequest) -> None:
            token = har._lookup_pat(rec.headers.get("authorization"))
            if token is None:
                self._json(rec, 401, {"message": "Unauthorized"})
                return
            self._json(rec, 200, {"token": har._issue(token)})

        def _lookup(self, rec: HarRequest, repo_path: str) -> tuple[HarRepo, str] | None:
            """Authenticate and find (registry, image) as HAR does, in HAR's
            order; on failure the error answer is already sent."""
            scope = f"repository:{repo_path}:pull"
            principal = har._bearer(rec.headers.get("authorization"))
            if principal is None:
                self._oci_error(
                    rec, 401, "UNAUTHORIZED", "authentication required", self._challenge(scope)
                )
                return None
            if har.rate_limited:
                self._oci_error(rec, 429, "TOOMANYREQUESTS", "rate limit exceeded")
                return None
            parts = repo_path.split("/")
            account = next((a for a in har.accounts if a.lower() == parts[0]), None)
            if account is None:
                self._oci_error(rec, 404, "ROOT_NOT_FOUND", f"root not found: {parts[0]}")
                return None
            if principal.account.lower() != account.lower():
                self._oci_error(
                    rec, 401, "UNAUTHORIZED", "authentication required", self._challenge(scope)
                )
                return None
            if len(parts) < 3:
                self._oci_error(rec, 404, "NAME_UNKNOWN", "repository name not known")
                return None
            registry = har.accounts[account].get(parts[1])
            if registry is None:
                self._oci_error(rec, 404, "REGISTRY_NOT_FOUND", f"registry not found: {parts[1]}")
                return None
            perms = principal.permissions.get(registry.name, set())
            perms = perms | principal.permissions.get("*", set())
            if "read" not in perms:
                self._oci_error(rec, 403, "DENIED", "requested access to the resource is denied")
                return None
            image = "/".join(parts[2:])
            if registry.package_type != "docker" or image not in registry.images:
                self._oci_error(rec, 404, "NAME_UNKNOWN", "repository name not known to registry")
                return None
            return registry, image

        def _manifest(self, rec: HarRequest) -> None:
            repo_path, _, ref = rec.path[len("/v2/") :].partition("/manifests/")
            found = self._lookup(rec, repo_path)
            if found is None:
                return
            registry, image = found
            if (image, ref) in registry.quarantined:
                self._oci_error(rec, 403, "DENIED", "Artifact is quarantined")
                return
            if (image, ref) in registry.blocked:
                self._oci_error(rec, 403, "DENIED", "Artifact is blocked due to policy violations")
                return
            data = registry.images[image].get(ref)
            if data is None:
                self._oci_error(rec, 404, "MANIFEST_UNKNOWN", "manifest unknown")
                return
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            self._send(rec, 200, data, OCI_MANIFEST, {"Docker-Content-Digest": digest})

        def _tags(self, rec: HarRequest) -> None:
            repo_path = rec.path[len("/v2/") : -len("/tags/list")]
            found = self._lookup(rec, repo_path)
            if found is None:
                return
            registry, image = found
            self._json(rec, 200, {"name": repo_path, "tags": sorted(registry.images[image])})

    return Handler
