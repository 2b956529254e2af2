"""An emulator of Harness Artifact Registry's Maven endpoints
(``docs/vendors/harness.md``), for probe tests nginx cannot express.

A threaded ``http.server`` on 127.0.0.1 answering
``/pkg/<account>/<registry>/maven/<path>`` as the open-source HAR build does:

* no credentials, an unknown token, or a token of another account: 401 with
  ``WWW-Authenticate: Basic realm="Harness Registry"`` and body
  ``{"message":"Unauthorized"}`` (HAR reads only the password of Basic auth;
  ``Authorization: Bearer TOKEN`` and ``x-api-key`` work too);
* a valid token without read permission on the registry: 403
  ``{"message":"Forbidden"}``;
* a path listed in :attr:`HarMaven.quarantined`: 403
  ``{"message":"Artifact is quarantined"}``;
* a file in :attr:`HarMaven.files`: 200; anything else 404
  ``{"message":"Not Found"}``;
* :attr:`HarMaven.status_override` answers every authenticated request
  with that status (429, 500 ...).

Every request is recorded (method, path, whether a credential came) --
never the credential itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from .util import LOOPBACK


@dataclass
class Recorded:
    method: str
    path: str
    had_credential: bool
    status: int


@dataclass
class HarMaven:
    account: str = "AcctMvn01"
    registry: str = "maven-local"
    #: token -> registries it may read ("*" for all).
    tokens: dict[str, set[str]] = field(default_factory=dict)
    #: repository-relative path -> body.
    files: dict[str, bytes] = field(default_factory=dict)
    quarantined: set[str] = field(default_factory=set)
    status_override: int | None = None
    requests: list[Recorded] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        assert self._server is not None
        return f"{LOOPBACK}:{self._server.server_address[1]}"

    def url(self, registry: str | None = None, ptype: str = "maven") -> str:
        return f"http://{self.host}/pkg/{self.account}/{registry or self.registry}/{ptype}"

    def start(self) -> HarMaven:
        emu = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                emu._handle(self, head=False)

            def do_HEAD(self) -> None:  # noqa: N802
                emu._handle(self, head=True)

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HarMaven:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- answers --------------------------------------------------------------------------

    def _token(self, h: BaseHTTPRequestHandler) -> str | None:
        auth = h.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                raw = base64.b64decode(auth[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            return raw.split(":", 1)[1] if ":" in raw else None
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return h.headers.get("x-api-key")

    def _handle(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        path = h.path.split("?", 1)[0]
        token = self._token(h)
        status, body, extra = self._answer(path, token)
        self.requests.append(Recorded(h.command, path, token is not None, status))
        data = body if isinstance(body, bytes) else json.dumps({"message": body}).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/octet-stream" if isinstance(body, bytes)
                      else "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            h.send_header(k, v)
        h.end_headers()
        if not head:
            h.wfile.write(data)

    def _answer(self, path: str, token: str | None) -> tuple[int, bytes | str, dict[str, str]]:
        challenge = {"WWW-Authenticate": 'Basic realm="Harness Registry"'}
        parts = path.split("/")
        # ["", "pkg", account, registry, type, *rest]
        if len(parts) < 5 or parts[1] != "pkg":
            return 404, "Not Found", {}
        account, registry, ptype, rest = parts[2], parts[3], parts[4], "/".join(parts[5:])
        token_account = token.split(".")[1] if token and token.count(".") == 3 else None
        if token is None or token not in self.tokens or token_account != account:
            return 401, "Unauthorized", challenge
        if self.status_override is not None:
            return self.status_override, f"status {self.status_override}", {}
        if account != self.account or registry != self.registry or ptype != "maven":
            return 404, "Not Found", {}
        allowed = self.tokens[token]
        if "*" not in allowed and registry not in allowed:
            return 403, "Forbidden", {}
        if rest in self.quarantined:
            return 403, "Artifact is quarantined", {}
        if rest in self.files:
            return 200, self.files[rest], {}
        return 404, "Not Found", {}
