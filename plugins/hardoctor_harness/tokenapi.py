"""The Harness token API: when does a PAT/SAT expire?

``POST {api}/ng/api/token/validate?accountIdentifier=ACCT`` with headers
``x-api-key`` (the *caller's* key) and ``Content-Type: text/plain``, body =
the token to check; the answer's ``data.validTo`` is epoch milliseconds
(0 = no expiry).  The HTTP side is :mod:`.apihttp`.

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

import ipaddress
import json
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hardoctor.files import read_bounded
from hardoctor.model import Secret, fingerprint
from hardoctor.stash import StashKey
from hardoctor.tokens.stdin import MAX_TOKEN_CHARS

from .apihttp import parse_answer
from .apimodel import CallerKey, LookupRequest, Outcome, TokenAnswer
from .options import DEFAULT_API, STDIN_KEY, harness_options

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.env import Environment

__all__ = [
    "DEFAULT_API",
    "STDIN_KEY",
    "CallerKey",
    "Outcome",
    "TokenAnswer",
    "cached",
    "caller_key",
    "enabled",
    "lookup",
    "lookup_many",
    "origin_problem",
    "parse_answer",
    "read_api_key_stdin",
]

VALIDATE_PATH = "/ng/api/token/validate"
#: All token lookups of one run finish within this many seconds (or
#: ``--timeout``, when that is shorter): expiry is a nice-to-have next to the
#: probe, and must never make ``check`` feel slow.
DEADLINE = 4.0


# ------------------------------------------------------------- configuration


def api_base(ctx: Context) -> str:
    return (harness_options(ctx).api or DEFAULT_API).rstrip("/")


def enabled(ctx: Context) -> bool:
    return not (ctx.options.offline or harness_options(ctx).no_token_api)



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
    try:  # never more than a key can be: refused at once, not read to the end
        text = stream.read(MAX_TOKEN_CHARS + 1) if stream is not None else ""
    except UnicodeDecodeError:
        raise ValueError("--harness-api-key-stdin: stdin is not UTF-8 text") from None
    if len(text) > MAX_TOKEN_CHARS:
        raise ValueError(f"--harness-api-key-stdin: stdin holds more than "
                         f"{MAX_TOKEN_CHARS // 1024} KiB; a key is far shorter")
    text = text.strip()
    if not text:
        raise ValueError("--harness-api-key-stdin: no key on stdin")
    key = Secret(text)
    if len(text.splitlines()) > 1:
        raise ValueError("--harness-api-key-stdin: expected one key on stdin, got several lines")
    return key


def caller_key(ctx: Context) -> CallerKey | None:
    """The caller key, by precedence: ``--harness-api-key-stdin`` (stored in
    ``ctx.stash`` by ``hardoctor_configure``), ``HARNESS_API_KEY``, ``~/.harness/auth.json``."""
    stdin_key = ctx.stash.get(STDIN_KEY, None)
    if isinstance(stdin_key, Secret) and stdin_key:
        return CallerKey(stdin_key, "--harness-api-key-stdin")
    env_key = (ctx.getenv("HARNESS_API_KEY") or "").strip()
    if env_key:
        return CallerKey(Secret(env_key), "HARNESS_API_KEY")
    path = os.path.join(ctx.home, ".harness", "auth.json")
    raw = read_bounded(path)
    try:
        data = json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):
        return None
    token = data.get("token") if isinstance(data, dict) else None
    if isinstance(token, str) and token.strip():
        return CallerKey(Secret(token.strip()), "~/.harness/auth.json")
    return None


# ------------------------------------------------------------------ lookups




class _State:
    """Per-run answers and the shared deadline."""

    def __init__(self) -> None:
        self.answers: dict[str, TokenAnswer] = {}
        self.deadline: float | None = None

    def remaining(self, budget: float) -> float:
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + budget
        return self.deadline - now


STATE: StashKey[_State] = StashKey("harness.token_api")


def _state(ctx: Context) -> _State:
    return ctx.stash.compute(STATE, _State)


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
    todo: dict[str, LookupRequest] = {}
    for token, account in items:
        k = _key(token, account)
        if k not in st.answers and k not in todo:
            todo[k] = LookupRequest(token, account)
    if todo:
        st.answers.update(_ask(ctx, st, base, url, todo))
    return [st.answers[_key(t, a)] for t, a in items]


def _ask(
    ctx: Context, st: _State, base: str, url: str, todo: dict[str, LookupRequest]
) -> dict[str, TokenAnswer]:
    """Answers for the tokens not asked about yet, or why none was asked."""
    refusal = origin_problem(base, harness_options(ctx).hosts)
    if not enabled(ctx):
        refusal = "the token API is turned off (--no-token-api or --offline)"
    budget = min(DEADLINE, float(ctx.options.timeout))
    remaining = st.remaining(budget)
    if refusal is not None:
        return {k: TokenAnswer("refused", url, detail=refusal) for k in todo}
    if remaining <= 0.05:
        late = f"the token API deadline ({budget:g} s) had passed"
        return {k: TokenAnswer("timeout", url, detail=late) for k in todo}
    from .apihttp import run, validate_all

    answers = run(validate_all(ctx, url, list(todo.values()), caller_key(ctx), remaining))
    return dict(zip(todo, answers, strict=True))
