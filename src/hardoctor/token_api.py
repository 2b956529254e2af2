"""Client for the Harness token API: when does a PAT/SAT expire?

``POST {api}/ng/api/token/validate?accountIdentifier=ACCT`` with headers
``x-api-key`` (the *caller's* key) and ``Content-Type: text/plain``, body =
the token to check; the answer's ``data.validTo`` is epoch milliseconds
(0 = no expiry).  See ``docs/vendors/harness.md``.

Safety rules, all enforced here and nowhere else:

* a token is sent only to the configured API origin
  (``--harness-api`` / ``HARDOCTOR_HARNESS_API``, default
  ``https://app.harness.io/gateway``), only over https -- plain http only to
  a loopback host or one declared with ``--harness-host`` -- and redirects
  are never followed (a redirect would carry the token elsewhere);
* ``--no-token-api`` and ``--offline`` turn the API off entirely;
* every lookup of a run shares one short deadline, and answers are cached
  per token fingerprint, so the same token stored in four places is asked
  about once;
* httpx is imported only when a request is actually made.

An expired or revoked token cannot authenticate its own lookup.  With a
working caller key (``HARNESS_API_KEY``, the ``hc`` CLI's
``~/.harness/auth.json``, or ``--harness-api-key-stdin``) that key goes in
``x-api-key`` and the stored token in the body, so an expired token's
``validTo`` can still be learned.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from hardoctor.model import Secret, fingerprint

if TYPE_CHECKING:
    import httpx

    from hardoctor.context import Context
    from hardoctor.env import Environment

DEFAULT_API = "https://app.harness.io/gateway"
VALIDATE_PATH = "/ng/api/token/validate"
#: All token lookups of one run finish within this many seconds (or
#: ``--timeout``, when that is shorter): expiry is a nice-to-have next to the
#: probe, and must never make ``check`` feel slow.
DEADLINE = 4.0
CACHE_KEY = "hardoctor.token_api"
STDIN_KEY = "hardoctor.token_api.stdin_key"

Outcome = Literal[
    "ok",  # the API answered with the token's data
    "expired",  # the API says the token expired (date unknown)
    "rejected",  # 401 / INVALID_TOKEN: revoked, deleted, mistyped -- or expired
    "denied",  # 403: the caller may not look tokens up
    "error",  # an unexpected answer (5xx, redirect, not JSON)
    "unreachable",  # DNS, connection, TLS
    "timeout",  # the shared deadline passed
    "refused",  # hardoctor refused to send the token there (http, bad URL)
]


@dataclass(frozen=True)
class CallerKey:
    """A working Harness API key used as the caller (``x-api-key``)."""

    secret: Secret
    #: Where it came from, for messages: ``HARNESS_API_KEY``, ...
    origin: str


@dataclass(frozen=True)
class TokenAnswer:
    """What the token API said about one token.  Secret-free."""

    outcome: Outcome
    url: str
    status: int | None = None
    #: ``the token itself`` or the caller key's origin.
    caller: str = "the token itself"
    detail: str = ""
    valid: bool | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    no_expiry: bool = False
    name: str | None = None
    identifier: str | None = None
    account: str | None = None
    email: str | None = None
    username: str | None = None
    api_key_type: str | None = None
    api_key_identifier: str | None = None
    #: The caller key was rejected and the token authenticated itself.
    caller_rejected: bool = False

    def facts(self) -> dict[str, Any]:
        """Plain, secret-free facts for ``TokenInfo.details['api']``."""
        return {
            "outcome": self.outcome,
            "url": self.url,
            "status": self.status,
            "caller": self.caller,
            "detail": self.detail,
        }


# ------------------------------------------------------------- configuration


def api_base(ctx: Context) -> str:
    return (ctx.options.harness_api or DEFAULT_API).rstrip("/")


def enabled(ctx: Context) -> bool:
    return not (ctx.options.offline or ctx.options.no_token_api)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_problem(base: str, declared_hosts: Sequence[str] = ()) -> str | None:
    """Why hardoctor will not send a token to ``base`` -- or None when it
    may: https, or http to a loopback or declared (``--harness-host``) host."""
    try:
        parts = urlsplit(base)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return f"the Harness API URL {base!r} is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return f"the Harness API URL {base!r} is not an http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "the Harness API URL must not contain a username or password"
    if parts.scheme == "https" or _is_loopback(host):
        return None
    hostport = host if port is None else f"{host}:{port}"
    declared = {h.strip().lower() for h in declared_hosts}
    if host.lower() in declared or hostport.lower() in declared:
        return None
    return (
        f"not sending tokens to {parts.scheme}://{hostport}: only https, a loopback host or a "
        "host declared with --harness-host may receive them"
    )


def read_api_key_stdin(env: Environment) -> Secret:
    """``--harness-api-key-stdin``: one key on stdin.  Raises ValueError with
    a one-line, secret-free reason."""
    stream = env.stdin
    text = stream.read() if stream is not None else ""
    text = text.strip()
    if not text:
        raise ValueError("--harness-api-key-stdin: no key on stdin")
    key = Secret(text)
    if len(text.splitlines()) > 1:
        raise ValueError("--harness-api-key-stdin: expected one key on stdin, got several lines")
    return key


def caller_key(ctx: Context) -> CallerKey | None:
    """The caller key, by precedence: ``--harness-api-key-stdin`` (stored in
    ``ctx.cache`` by the CLI), ``HARNESS_API_KEY``, ``~/.harness/auth.json``."""
    stdin_key = ctx.cache.get(STDIN_KEY)
    if isinstance(stdin_key, Secret) and stdin_key:
        return CallerKey(stdin_key, "--harness-api-key-stdin")
    env_key = (ctx.getenv("HARNESS_API_KEY") or "").strip()
    if env_key:
        return CallerKey(Secret(env_key), "HARNESS_API_KEY")
    path = os.path.join(ctx.home, ".harness", "auth.json")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    token = data.get("token") if isinstance(data, dict) else None
    if isinstance(token, str) and token.strip():
        return CallerKey(Secret(token.strip()), "~/.harness/auth.json")
    return None


# ------------------------------------------------------------------ lookups


@dataclass(frozen=True)
class _Request:
    token: Secret
    account: str


class _State:
    """Per-run cache and the shared deadline."""

    def __init__(self) -> None:
        self.answers: dict[str, TokenAnswer] = {}
        self.deadline: float | None = None

    def remaining(self, budget: float) -> float:
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + budget
        return self.deadline - now


def _state(ctx: Context) -> _State:
    st = ctx.cache.get(CACHE_KEY)
    if not isinstance(st, _State):
        st = ctx.cache[CACHE_KEY] = _State()
    return st


def _key(token: Secret, account: str) -> str:
    return f"{fingerprint(token.reveal())}:{account}"


def cached(ctx: Context, token: Secret, account: str) -> TokenAnswer | None:
    return _state(ctx).answers.get(_key(token, account))


def lookup(ctx: Context, token: Secret, account: str) -> TokenAnswer:
    """The API's answer about ``token`` (cached for the run)."""
    return lookup_many(ctx, [(token, account)])[0]


def lookup_many(ctx: Context, items: Sequence[tuple[Secret, str]]) -> list[TokenAnswer]:
    """Look up several tokens concurrently under the run's one deadline;
    answers come back in order and are cached per fingerprint."""
    st = _state(ctx)
    base = api_base(ctx)
    url = base + VALIDATE_PATH
    todo: dict[str, _Request] = {}
    for token, account in items:
        k = _key(token, account)
        if k not in st.answers and k not in todo:
            todo[k] = _Request(token, account)
    if todo:
        refusal = origin_problem(base, ctx.options.harness_hosts)
        if not enabled(ctx):
            refusal = "the token API is turned off (--no-token-api or --offline)"
        budget = min(DEADLINE, float(ctx.options.timeout))
        remaining = st.remaining(budget)
        if refusal is not None:
            for k in todo:
                st.answers[k] = TokenAnswer("refused", url, detail=refusal)
        elif remaining <= 0.05:
            for k in todo:
                st.answers[k] = TokenAnswer(
                    "timeout", url, detail=f"the token API deadline ({budget:g} s) had passed"
                )
        else:
            caller = caller_key(ctx)
            answers = _run(_validate_all(ctx, url, list(todo.values()), caller, remaining))
            st.answers.update(zip(todo, answers, strict=True))
    return [st.answers[_key(t, a)] for t, a in items]


def _run(coro: Any) -> list[TokenAnswer]:
    """Run ``coro`` to completion from synchronous code, even when this
    thread already runs an event loop (then on a helper thread)."""
    from hardoctor.probe.loop import run

    result: list[TokenAnswer] = run(coro)
    return result


async def _validate_all(
    ctx: Context, url: str, requests: list[_Request], caller: CallerKey | None, timeout: float
) -> list[TokenAnswer]:
    import httpx

    from hardoctor.probe.proxy import proxy_for
    from hardoctor.probe.tls import build_ssl_context, resolve_tls

    # The probes' own trust store and proxy rules, read from the injected
    # environment: the API is reached the way the registries are.
    environ = ctx.env.environ
    try:
        verify = build_ssl_context(resolve_tls(None, environ))
    except (OSError, ssl.SSLError):
        return [
            TokenAnswer("unreachable", url, detail="a configured CA file cannot be used")
            for _ in requests
        ]
    try:
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # a redirect would carry the token to another origin
            trust_env=False,  # proxies come from ctx.env, not this process
            verify=verify,
            proxy=proxy_for(url, environ),
            headers={"User-Agent": "hardoctor"},
        )
    except (ImportError, ValueError) as exc:  # e.g. a socks:// proxy without socksio
        detail = f"the configured proxy cannot be used ({type(exc).__name__})"
        return [TokenAnswer("unreachable", url, detail=detail) for _ in requests]
    async with client:
        tasks = [asyncio.ensure_future(_validate_one(client, url, r, caller)) for r in requests]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=0.5)
    out: list[TokenAnswer] = []
    for task in tasks:
        if task in done and not task.cancelled() and task.exception() is None:
            out.append(task.result())
        elif task in done and not task.cancelled():
            failure = task.exception()
            out.append(TokenAnswer("error", url, detail=f"lookup failed: {type(failure).__name__}"))
        else:
            out.append(TokenAnswer("timeout", url, detail=f"no answer within {timeout:.1f} s"))
    return out


async def _validate_one(
    client: httpx.AsyncClient, url: str, req: _Request, caller: CallerKey | None
) -> TokenAnswer:
    if caller is not None and caller.secret != req.token:
        answer = await _post(client, url, req, caller.secret, caller.origin)
        if answer.outcome in ("ok", "timeout", "unreachable", "refused"):
            return answer
        if answer.outcome == "rejected" and answer.status == 400:
            return answer  # the caller authenticated; the body token is what was refused
        # A 401 does not say whether the caller key or the token failed: let
        # the token try to authenticate itself, which tells the two apart.
        own = await _post(client, url, req, req.token, "the token itself")
        if own.outcome == "ok":
            return _replace(own, caller_rejected=True)
        return own
    return await _post(client, url, req, req.token, "the token itself")


def _replace(answer: TokenAnswer, **changes: Any) -> TokenAnswer:
    from dataclasses import replace

    return replace(answer, **changes)


async def _post(
    client: httpx.AsyncClient, url: str, req: _Request, key: Secret, caller: str
) -> TokenAnswer:
    import httpx

    full = f"{url}?accountIdentifier={quote(req.account, safe='')}"
    try:
        resp = await client.post(
            full,
            headers={"x-api-key": key.reveal(), "Content-Type": "text/plain"},
            content=req.token.reveal().encode("utf-8"),
        )
    except httpx.TimeoutException:
        return TokenAnswer(
            "timeout", url, caller=caller, detail="the Harness API did not answer in time"
        )
    except httpx.ProxyError as exc:
        return TokenAnswer(
            "unreachable", url, caller=caller, detail=f"proxy error: {type(exc).__name__}"
        )
    except httpx.ConnectError as exc:
        reason = "TLS error" if "SSL" in str(exc) or "certificate" in str(exc) else "cannot connect"
        return TokenAnswer("unreachable", url, caller=caller, detail=f"{reason} ({_host(url)})")
    except httpx.HTTPError as exc:
        return TokenAnswer(
            "error", url, caller=caller, detail=f"request failed: {type(exc).__name__}"
        )
    return parse_answer(resp.status_code, resp.text, url, caller, resp.headers.get("location"))


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _ms(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value / 1000.0, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def parse_answer(
    status: int, body: str, url: str, caller: str, location: str | None = None
) -> TokenAnswer:
    """Classify one HTTP answer of the validate endpoint."""
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = None
    code = doc.get("code") if isinstance(doc, dict) else None
    message = doc.get("message") if isinstance(doc, dict) else None
    where = f"{url} answered {status}"
    if 300 <= status < 400:
        return TokenAnswer(
            "error",
            url,
            status,
            caller,
            f"{where} (a redirect{' to ' + _host(location) if location else ''}; not followed, "
            "so the token goes nowhere else)",
        )
    if status == 200 and isinstance(doc, dict) and isinstance(doc.get("data"), dict):
        data = doc["data"]
        valid_to = data.get("validTo")
        until = _ms(valid_to)
        life = f"valid until {until.date().isoformat()}" if until else "no expiry"
        asked = "" if caller == "the token itself" else f", asked with {caller}"
        return TokenAnswer(
            "ok",
            url,
            status,
            caller,
            f"{where}{asked}: token {data.get('name') or data.get('identifier') or '?'}, {life}",
            valid=data.get("valid") if isinstance(data.get("valid"), bool) else None,
            valid_from=_ms(data.get("validFrom")),
            valid_to=_ms(valid_to),
            no_expiry=valid_to in (0, None) and "validTo" in data,
            name=_str(data.get("name")),
            identifier=_str(data.get("identifier")),
            account=_str(data.get("accountIdentifier")),
            email=_str(data.get("email")),
            username=_str(data.get("username")),
            api_key_type=_str(data.get("apiKeyType")),
            api_key_identifier=_str(data.get("apiKeyIdentifier")),
        )
    said = f": {code}" if isinstance(code, str) else ""
    if code == "EXPIRED_TOKEN":
        return TokenAnswer("expired", url, status, caller, f"{where}{said} (the token has expired)")
    if status == 401 or code in ("INVALID_TOKEN", "REVOKED_TOKEN", "INVALID_CREDENTIAL"):
        return TokenAnswer("rejected", url, status, caller, f"{where}{said} (token rejected)")
    if status == 403:
        return TokenAnswer("denied", url, status, caller, f"{where} (access denied to the caller)")
    extra = f" ({message[:80]})" if isinstance(message, str) and message else ""
    return TokenAnswer("error", url, status, caller, f"{where}{said}{extra}")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
