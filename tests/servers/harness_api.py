"""An emulator of the Harness platform API's token endpoints (docs/vendors/harness.md).

A threaded ``http.server`` on 127.0.0.1 that answers like Harness NG:

* ``POST {prefix}/ng/api/token/validate?accountIdentifier=ACCT`` with
  headers ``x-api-key`` (the *caller's* key) and ``Content-Type: text/plain``
  and the token to check as the body:

  - the caller key unknown, revoked or from another account: 401
    ``{"status":"ERROR","code":"INVALID_TOKEN",...}``; an expired caller: 401
    with ``EXPIRED_TOKEN`` -- or, with ``explain_401=False``, a bare 401
    ``{"message":"Unauthorized"}`` for every refusal (the *inferred* SaaS
    behaviour: a 401 alone cannot tell expired from revoked);
  - the caller fine but the body token unknown or revoked: 400
    ``INVALID_TOKEN`` (an assumption: Harness's error for a bad body);
  - otherwise 200 ``{"status":"SUCCESS","data":{...}}`` with ``validFrom`` and
    ``validTo`` in epoch **milliseconds** (``validTo`` 0 = no expiry),
    ``valid``, ``identifier``, ``name``, ``accountIdentifier``,
    ``apiKeyIdentifier``, ``apiKeyType``, ``email``, ``username`` -- also for
    an expired body token (that is how an expired token's date is learned);

* ``GET {prefix}/ng/api/accounts/ACCT`` with ``x-api-key``: 200 or 401;
* anything else: 404.  :attr:`HarnessApi.redirect_to` makes every request a
  307 to another URL (to prove redirects are not followed).

Every request is recorded (method, path, query, lower-cased headers, body).
Tokens are generated per run in the real ``pat.ACCOUNT.TOKENID.SECRET`` shape.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .util import LOOPBACK

DAY_MS = 86_400_000


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class ApiToken:
    value: str
    account: str
    identifier: str
    name: str
    valid_from: int
    #: epoch ms; 0 = no expiry
    valid_to: int
    revoked: bool = False
    email: str = "dev@acme.io"
    username: str = "dev"
    api_key_type: str = "USER"
    api_key_identifier: str = "setup_client"

    @property
    def expired(self) -> bool:
        return self.valid_to != 0 and self.valid_to <= now_ms()


@dataclass
class ApiRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str
    status: int = 0

    @property
    def api_key(self) -> str | None:
        return self.headers.get("x-api-key")


@dataclass
class HarnessApi:
    """The emulator; use as a context manager.  ``prefix`` is the path the
    API is served under (``/gateway`` like app.harness.io)."""

    prefix: str = "/gateway"
    explain_401: bool = True
    #: Seconds to wait before answering (to test the deadline).
    delay: float = 0.0
    redirect_to: str | None = None
    tokens: dict[str, ApiToken] = field(default_factory=dict)
    requests: list[ApiRequest] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- tokens -----------------------------------------------------------------
    def new_token(
        self,
        account: str,
        *,
        kind: str = "pat",
        valid_days: float | None = 30,
        age_days: float = 0,
        revoked: bool = False,
        name: str | None = None,
        email: str = "dev@acme.io",
        api_key_type: str | None = None,
    ) -> ApiToken:
        """A new token issued ``age_days`` ago, valid ``valid_days`` from
        issue (None = no expiry), in the real four-segment shape."""
        ident = secrets.token_hex(12)
        value = f"{kind}.{account}.{ident}.{secrets.token_urlsafe(15).replace('-', 'x')}"
        return self.add_token(
            value,
            valid_days=valid_days,
            age_days=age_days,
            revoked=revoked,
            name=name,
            email=email,
            api_key_type=api_key_type,
        )

    def add_token(
        self,
        value: str,
        *,
        valid_days: float | None = 30,
        age_days: float = 0,
        revoked: bool = False,
        name: str | None = None,
        email: str = "dev@acme.io",
        api_key_type: str | None = None,
    ) -> ApiToken:
        """Make an existing ``kind.account.id.secret`` value known (e.g. one a
        registry emulator issued)."""
        kind, account, ident = value.split(".")[:3]
        issued = now_ms() - int(age_days * DAY_MS)
        token = ApiToken(
            value=value,
            account=account,
            identifier=ident,
            name=name or f"token-{ident[:6]}",
            valid_from=issued,
            valid_to=0 if valid_days is None else issued + int(valid_days * DAY_MS),
            revoked=revoked,
            email=email,
            api_key_type=api_key_type or ("SERVICE_ACCOUNT" if kind == "sat" else "USER"),
        )
        self.tokens[value] = token
        return token

    def received(self, text: str) -> list[ApiRequest]:
        """Requests whose headers or body contain ``text``."""
        with self._lock:
            return [
                r
                for r in self.requests
                if text in r.body or any(text in v for v in r.headers.values())
            ]

    # -- life -------------------------------------------------------------------
    @property
    def origin(self) -> str:
        if not self.port:
            raise RuntimeError("HarnessApi not started")
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """The base URL to give ``--harness-api``."""
        return self.origin + self.prefix

    def start(self) -> HarnessApi:
        if self._httpd is not None:
            return self
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"harness-api-{self.port}",
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

    def __enter__(self) -> HarnessApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- logic ------------------------------------------------------------------
    def _record(self, rec: ApiRequest) -> None:
        with self._lock:
            self.requests.append(rec)

    def _refuse(self, caller: ApiToken | None) -> tuple[int, dict[str, Any]]:
        if not self.explain_401:
            return 401, {"message": "Unauthorized"}
        if caller is not None and caller.expired and not caller.revoked:
            return 401, {
                "status": "ERROR",
                "code": "EXPIRED_TOKEN",
                "message": f"Incoming API token {caller.name} has expired. "
                f"Token id: {caller.identifier}",
            }
        return 401, {"status": "ERROR", "code": "INVALID_TOKEN", "message": "Invalid API token"}

    def _caller(self, key: str | None, account: str | None) -> tuple[ApiToken | None, bool]:
        caller = self.tokens.get(key or "")
        ok = (
            caller is not None
            and not caller.revoked
            and not caller.expired
            and (account is None or caller.account == account)
        )
        return caller, ok

    def answer(self, rec: ApiRequest) -> tuple[int, dict[str, Any]]:
        path = rec.path
        if not path.startswith(self.prefix + "/"):
            return 404, {"message": "Not Found"}
        path = path[len(self.prefix) :]
        accounts = rec.query.get("accountIdentifier") or []
        account = accounts[0] if accounts else None
        if rec.method == "POST" and path == "/ng/api/token/validate":
            if not account:
                return 400, {
                    "status": "ERROR",
                    "code": "INVALID_REQUEST",
                    "message": "Account detail is not present in the request",
                }
            caller, ok = self._caller(rec.api_key, account)
            if not ok:
                return self._refuse(caller)
            token = self.tokens.get(rec.body)
            if token is None or token.revoked or token.account != account:
                return 400, {
                    "status": "ERROR",
                    "code": "INVALID_TOKEN",
                    "message": "Invalid API token: Token not found",
                }
            return 200, {
                "status": "SUCCESS",
                "data": {
                    "identifier": token.identifier,
                    "name": token.name,
                    "validFrom": token.valid_from,
                    "validTo": token.valid_to,
                    "scheduledExpireTime": 0,
                    "valid": not token.expired,
                    "accountIdentifier": token.account,
                    "apiKeyIdentifier": token.api_key_identifier,
                    "parentIdentifier": token.username,
                    "apiKeyType": token.api_key_type,
                    "email": token.email,
                    "username": token.username,
                },
                "metaData": None,
                "correlationId": secrets.token_hex(8),
            }
        if rec.method == "GET" and path.startswith("/ng/api/accounts/"):
            caller, ok = self._caller(rec.api_key, path.rsplit("/", 1)[-1])
            if not ok:
                return self._refuse(caller)
            return 200, {
                "status": "SUCCESS",
                "data": {"identifier": caller.account if caller else ""},
            }
        return 404, {"status": "ERROR", "code": "RESOURCE_NOT_FOUND", "message": "Not Found"}


def _make_handler(api: HarnessApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # quiet: tests read api.requests

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            rec = ApiRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            if api.delay:
                time.sleep(api.delay)
            if api.redirect_to:
                rec.status = 307
                api._record(rec)
                self.send_response(307)
                self.send_header("Location", api.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, doc = api.answer(rec)
            rec.status = status
            api._record(rec)
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _handle
        do_POST = _handle
        do_PUT = _handle

    return Handler


class Recorder:
    """Any other server: answers 404 to everything and records what it got
    (the "must receive nothing" side of leak tests)."""

    def __init__(self) -> None:
        self.api = HarnessApi(prefix="/nothing-here")

    def __enter__(self) -> HarnessApi:
        return self.api.start()

    def __exit__(self, *exc: object) -> None:
        self.api.stop()
