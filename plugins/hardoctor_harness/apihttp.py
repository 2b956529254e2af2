"""The HTTP side of the Harness token API: ``POST .../token/validate``
for several tokens at once under one deadline, and the classification of
each answer (:func:`parse_answer`).

A redirect is never followed (it would carry the token to another
origin); proxies and the trust store come from the run's environment,
exactly as the registry probes reach their registries.  httpx is imported
only here, when a request is actually made.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Coroutine
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from hardoctor.model import Secret

from .apimodel import CallerKey, LookupRequest, TokenAnswer

if TYPE_CHECKING:
    import httpx

    from hardoctor.context import Context

SELF = "the token itself"


def run(coro: Coroutine[Any, Any, list[TokenAnswer]]) -> list[TokenAnswer]:
    """Run ``coro`` to completion from synchronous code, even when this
    thread already runs an event loop (then on a helper thread)."""
    from hardoctor.probe.loop import run as run_loop

    result: list[TokenAnswer] = run_loop(coro)
    return result


async def validate_all(
    ctx: Context, url: str, requests: list[LookupRequest], caller: CallerKey | None, timeout: float
) -> list[TokenAnswer]:
    import httpx

    from hardoctor.probe.proxy import proxy_for
    from hardoctor.probe.tls import build_ssl_context, no_tls_context, plain_http, resolve_tls

    # The probes' own trust store and proxy rules, read from the injected
    # environment: the API is reached the way the registries are.
    environ = ctx.env.environ
    proxy = proxy_for(url, environ)
    try:
        verify = (no_tls_context() if plain_http(url, proxy)
                  else build_ssl_context(resolve_tls(None, environ)))
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
            proxy=proxy,
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
    client: httpx.AsyncClient, url: str, req: LookupRequest, caller: CallerKey | None
) -> TokenAnswer:
    if caller is not None and caller.secret != req.token:
        answer = await _post(client, url, req, caller.secret, caller.origin)
        if answer.outcome in ("ok", "timeout", "unreachable", "refused"):
            return answer
        if answer.outcome == "rejected" and answer.status == 400:
            return answer  # the caller authenticated; the body token is what was refused
        # A 401 does not say whether the caller key or the token failed: let
        # the token try to authenticate itself, which tells the two apart.
        own = await _post(client, url, req, req.token, SELF)
        if own.outcome == "ok":
            return replace(own, caller_rejected=True)
        return own
    return await _post(client, url, req, req.token, SELF)


async def _post(
    client: httpx.AsyncClient, url: str, req: LookupRequest, key: Secret, caller: str
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
        asked = "" if caller == SELF else f", asked with {caller}"
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
