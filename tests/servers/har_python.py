"""An emulator of Harness Artifact Registry's Python (PEP 503) routes.

A threaded ``http.server`` on 127.0.0.1 answering like HAR's package routes
(``docs/vendors/harness.md``):

* :attr:`HarPython.force_status` makes every answer that status (429, 502);
* ``GET /pkg/<ACCOUNT>/<REGISTRY>/python/simple/`` -- the project list,
  ``.../python/simple/<project>/`` -- the project's files,
  ``.../python/files/<filename>`` -- a wheel;
* authentication: Basic with a PAT/SAT as the *password* (the username is
  ignored), ``Authorization: Bearer TOKEN`` or ``x-api-key: TOKEN``;
  anonymous, an unknown, expired or revoked token, or a token of another
  account -> 401 ``{"message":"Unauthorized"}`` with
  ``WWW-Authenticate: Basic realm="Harness Registry"``;
* authenticated without read permission -> 403 ``{"message":"Forbidden"}``;
  a quarantined project -> 403 "Artifact is quarantined";
* unknown registry, a registry of another type, an unknown project, the
  ``/pypi/`` spelling (this emulated version serves only ``/python/``) and a
  URL without ``/simple`` -> 404.

Tokens come from :meth:`HarPython.new_token` in the real
``pat.<account>.<tokenId>.<secret>`` shape, secrets generated per run.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from .pypiserver import build_wheel
from .util import LOOPBACK


@dataclass
class PyToken:
    value: str
    account: str
    permissions: dict[str, set[str]]
    expired: bool = False
    revoked: bool = False


@dataclass
class PyRegistry:
    name: str
    package_type: str = "python"
    #: normalised project -> {filename: bytes}
    projects: dict[str, dict[str, bytes]] = field(default_factory=dict)
    quarantined: set[str] = field(default_factory=set)


@dataclass
class PyRequest:
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0

    @property
    def basic_username(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            return base64.b64decode(auth[6:].strip()).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None


def _normalize(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


class HarPython:
    """HAR Python-route emulator; use as a context manager."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, PyRegistry]] = {}
        self.tokens: dict[str, PyToken] = {}
        self.requests: list[PyRequest] = []
        #: Answer every request with this status (429, 502 ...) when set.
        self.force_status: int | None = None
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- set-up -----------------------------------------------------------------
    def add_registry(self, account: str, name: str, package_type: str = "python") -> PyRegistry:
        reg = PyRegistry(name=name, package_type=package_type)
        self.accounts.setdefault(account, {})[name] = reg
        return reg

    def add_project(self, account: str, registry: str, name: str, version: str = "1.0") -> str:
        """Add a wheel built on the fly; returns its filename."""
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            path = build_wheel(tmp, name, version)
            data = Path(path).read_bytes()
        reg = self.accounts[account][registry]
        reg.projects.setdefault(_normalize(name), {})[path.name] = data
        return path.name

    def new_token(self, account: str, permissions: Mapping[str, Iterable[str]], *,
                  kind: str = "pat", expired: bool = False) -> str:
        value = f"{kind}.{account}.{secrets.token_hex(6)}.{secrets.token_urlsafe(18)}"
        value = value.replace("-", "x")
        self.tokens[value] = PyToken(value, account, {r: set(p) for r, p in permissions.items()},
                                     expired=expired)
        return value

    def index_url(self, account: str, registry: str, spelling: str = "python") -> str:
        return f"{self.url}/pkg/{account}/{registry}/{spelling}/simple"

    # -- life -------------------------------------------------------------------
    @property
    def host(self) -> str:
        if not self.port:
            raise RuntimeError("HarPython not started")
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def start(self) -> HarPython:
        if self._httpd is not None:
            return self
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"har-python-{self.port}", daemon=True)
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

    def __enter__(self) -> HarPython:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- auth -------------------------------------------------------------------
    def principal(self, headers: Mapping[str, str]) -> PyToken | None:
        value: str | None = None
        auth = headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                raw = base64.b64decode(auth[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            _user, sep, password = raw.partition(":")  # HAR reads only the password
            value = password if sep else None
        elif auth.lower().startswith("bearer "):
            value = auth[7:].strip()
        elif headers.get("x-api-key"):
            value = headers["x-api-key"].strip()
        token = self.tokens.get(value or "")
        if token is None or token.expired or token.revoked:
            return None
        return token

    def _record(self, rec: PyRequest) -> None:
        with self._lock:
            self.requests.append(rec)


def _make_handler(har: HarPython) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "har-python-emulator/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _send(self, rec: PyRequest, status: int, body: bytes, ctype: str = "application/json",
                  headers: Mapping[str, str] | None = None) -> None:
            rec.status = status
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, rec: PyRequest, status: int, message: str,
                  headers: Mapping[str, str] | None = None) -> None:
            self._send(rec, status, json.dumps({"message": message}).encode(), headers=headers)

        def _unauthorized(self, rec: PyRequest) -> None:
            self._json(rec, 401, "Unauthorized",
                       {"WWW-Authenticate": 'Basic realm="Harness Registry"'})

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            rec = PyRequest(self.command, parts.path, {k.lower(): v for k, v in self.headers.items()})
            har._record(rec)
            if har.force_status is not None:
                self._json(rec, har.force_status, "forced by the test")
                return
            segs = [unquote(s) for s in parts.path.split("/") if s]
            if len(segs) < 4 or segs[0] != "pkg":
                self._json(rec, 404, "not found")
                return
            account, registry, ptype, rest = segs[1], segs[2], segs[3], segs[4:]
            token = har.principal(rec.headers)
            # Authentication first: a wrong account or registry is 401, not 404.
            if token is None or token.account != account:
                self._unauthorized(rec)
                return
            reg = har.accounts.get(account, {}).get(registry)
            if reg is None:
                self._json(rec, 404, f"registry not found: {registry}")
                return
            perms = token.permissions.get(registry, set()) | token.permissions.get("*", set())
            if "read" not in perms:
                self._json(rec, 403, "Forbidden")
                return
            if ptype != "python" or reg.package_type != "python":
                self._json(rec, 404, "not found")
                return
            if rest[:1] == ["simple"]:
                self._simple(rec, reg, rest[1:], account, registry)
                return
            if rest[:1] == ["files"] and len(rest) == 2:
                for files in reg.projects.values():
                    if rest[1] in files:
                        self._send(rec, 200, files[rest[1]], "application/octet-stream")
                        return
            self._json(rec, 404, "not found")

        do_HEAD = do_GET  # noqa: N815

        def _simple(self, rec: PyRequest, reg: PyRegistry, rest: list[str], account: str,
                    registry: str) -> None:
            if not rest:
                links = "".join(f'<a href="{p}/">{p}</a>\n' for p in sorted(reg.projects))
                body = f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()
                self._send(rec, 200, body, "text/html")
                return
            project = _normalize(rest[0])
            if project in reg.quarantined:
                self._json(rec, 403, "Artifact is quarantined")
                return
            files = reg.projects.get(project)
            if files is None or len(rest) > 1:
                self._json(rec, 404, f"package not found: {project}")
                return
            base = f"/pkg/{account}/{registry}/python/files"
            links = "".join(
                f'<a href="{base}/{name}#sha256={hashlib.sha256(data).hexdigest()}">{name}</a>\n'
                for name, data in sorted(files.items())
            )
            body = f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()
            self._send(rec, 200, body, "text/html")

    return Handler
