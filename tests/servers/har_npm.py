"""An emulator of Harness Artifact Registry's npm routes (docs/vendors/harness.md).

A threaded ``http.server`` on 127.0.0.1 serving
``/pkg/<account>/<registry>/npm/<package>`` (the packument) and
``/pkg/<account>/<registry>/npm/<package>/-/<file>.tgz`` like HAR's package
routes:

* credentials: ``Authorization: Bearer TOKEN``, Basic with the token as the
  password (the username is ignored), or ``x-api-key: TOKEN``;
* no credential, or an unknown, revoked or expired token, or a token of
  another account than the URL's: 401 ``{"message":"Unauthorized"}`` -- HAR
  does not say which;
* authenticated without read permission on the registry: 403
  ``{"message":"Forbidden"}``; a quarantined package: 403 with "Artifact is
  quarantined";
* unknown registry or package (after authentication): 404.

Tokens are made with :meth:`HarNpm.new_token` in the real
``pat.<account>.<tokenId>.<secret>`` shape (secrets generated per run), or
added with :meth:`HarNpm.add_token` to share one with the Harness API
emulator.  Every request is recorded without its credential values.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from .util import LOOPBACK, ThreadedServer
from .verdaccio import dist_for, make_tarball


@dataclass
class NpmToken:
    value: str
    account: str
    #: registry name (or "*") -> {"read", "write"}
    permissions: dict[str, set[str]]
    expired: bool = False
    revoked: bool = False


@dataclass
class NpmRepo:
    name: str
    package_type: str = "npm"
    #: package -> version -> tarball bytes
    packages: dict[str, dict[str, bytes]] = field(default_factory=dict)
    quarantined: set[str] = field(default_factory=set)


@dataclass
class Seen:
    method: str
    path: str
    #: "bearer", "basic", "x-api-key" or "none" -- never the value.
    auth: str
    status: int = 0


@dataclass
class HarNpm(ThreadedServer):
    thread_name = "har-npm"

    accounts: dict[str, dict[str, NpmRepo]] = field(default_factory=dict)
    tokens: dict[str, NpmToken] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up ------------------------------------------------------------------
    def add_registry(self, account: str, name: str, package_type: str = "npm") -> NpmRepo:
        repo = NpmRepo(name, package_type)
        self.accounts.setdefault(account, {})[name] = repo
        return repo

    def add_package(self, account: str, registry: str, name: str, version: str = "1.0.0") -> None:
        self.accounts[account][registry].packages.setdefault(name, {})[version] = \
            make_tarball(name, version)

    def new_token(self, account: str, permissions: dict[str, set[str]] | None = None,
                  *, expired: bool = False, revoked: bool = False) -> NpmToken:
        value = f"pat.{account}.{secrets.token_hex(12)}.{secrets.token_urlsafe(15).replace('-', 'x')}"
        return self.add_token(value, account, permissions, expired=expired, revoked=revoked)

    def add_token(self, value: str, account: str, permissions: dict[str, set[str]] | None = None,
                  *, expired: bool = False, revoked: bool = False) -> NpmToken:
        token = NpmToken(value, account, permissions or {"*": {"read", "write"}}, expired, revoked)
        self.tokens[value] = token
        return token

    # -- life -----------------------------------------------------------------------
    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def registry_url(self, account: str, registry: str) -> str:
        return f"http://{self.host}/pkg/{account}/{registry}/npm/"

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)

    # -- logic ----------------------------------------------------------------------
    def _token(self, headers: dict[str, str]) -> tuple[str, str | None]:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return "bearer", auth[7:].strip()
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return "basic", None
            return "basic", decoded.split(":", 1)[1] if ":" in decoded else None
        if headers.get("x-api-key"):
            return "x-api-key", headers["x-api-key"]
        return "none", None

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        parts = [unquote(p) for p in path.split("/") if p]
        kind, value = self._token(headers)
        if len(parts) < 4 or parts[0] != "pkg":
            return _json(404, {"message": "Not Found"})
        account, registry, ptype, rest = parts[1], parts[2], parts[3], parts[4:]
        token = self.tokens.get(value or "")
        if token is None or token.expired or token.revoked or token.account != account:
            return _json(401, {"message": "Unauthorized"})
        repo = self.accounts.get(account, {}).get(registry)
        if repo is None:
            return _json(404, {"message": f"registry {registry} not found"})
        perms = token.permissions.get(registry) or token.permissions.get("*") or set()
        if "read" not in perms:
            return _json(403, {"message": "Forbidden"})
        if ptype != "npm" or repo.package_type != "npm":
            return _json(404, {"message": "Not Found"})
        if not rest:
            return _json(404, {"message": "Not Found"})
        name = rest[0]
        if name.startswith("@") and len(rest) > 1 and "/" not in name and rest[1] != "-":
            name, rest = f"{name}/{rest[1]}", [name] + rest[2:]
        versions = repo.packages.get(name)
        if versions is None:
            return _json(404, {"message": f"package {name} not found"})
        if name in repo.quarantined:
            return _json(403, {"message": "Artifact is quarantined"})
        base = f"http://{self.host}/pkg/{account}/{registry}/npm/{name}/-/"
        short = name.rsplit("/", 1)[-1]
        if len(rest) >= 3 and rest[1] == "-":
            for ver, data in versions.items():
                if rest[2] == f"{short}-{ver}.tgz":
                    return 200, "application/octet-stream", data
            return _json(404, {"message": "Not Found"})
        latest = sorted(versions)[-1]
        doc = {
            "name": name,
            "dist-tags": {"latest": latest},
            "versions": {v: {"name": name, "version": v,
                             "dist": dist_for(d, f"{base}{short}-{v}.tgz")}
                         for v, d in versions.items()},
        }
        return _json(200, doc)


def _json(status: int, doc: Any) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(doc).encode()


def _handler(server: HarNpm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = urlsplit(self.path).path
            status, ctype, body = server.answer(path, headers)
            seen = Seen("GET", path, server._token(headers)[0], status)
            with server._lock:
                server.requests.append(seen)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

    return Handler
