"""Harness Artifact Registry knowledge: hosts, URL layout, PAT/SAT, token API.

Also the home of the generic ``TOK`` rules (malformed values, JWT expiry,
clock skew): they look at every plugin's credentials, which is what
``hardoctor_check_credential`` is for.

Public helpers other plugins may import:

* :func:`permission_remediation` -- the 403 story (who the principal is,
  read vs write) for their own 403 findings on HAR hosts;
* :func:`parse_har_url`, :func:`url_issues`, :func:`is_har_host` -- HAR URL
  layout;
* :func:`parse_harness_token` -- PAT/SAT structure.

The encoding helpers (base64 ``user:pass``, URL userinfo, Kubernetes
``data``, Maven decryption) are vendor-neutral and live in
:mod:`hardoctor.tokens`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hardoctor import hookimpl

from .pat import HarnessToken, parse_harness_token
from .remediation import permission_remediation, token_remediation
from .urls import HarUrl, UrlIssue, is_har_host, parse_har_url, url_issues

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.model import Credential, Finding, ProbeResult, Resolution, Rule, TokenInfo

__all__ = [
    "HarUrl",
    "HarnessToken",
    "UrlIssue",
    "is_har_host",
    "parse_har_url",
    "parse_harness_token",
    "permission_remediation",
    "prefetch_tokens",
    "token_remediation",
    "url_issues",
]


@hookimpl
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    from .rules import RULES

    for rule in RULES:
        register(rule)


@hookimpl
def hardoctor_configure(ctx: Context) -> None:
    from .index import CACHE_KEY, TokenIndex

    ctx.cache[CACHE_KEY] = TokenIndex()  # a fresh "where is this token" index per run


@hookimpl(tryfirst=True)
def hardoctor_decode_secret(credential: Credential, ctx: Context) -> TokenInfo | None:
    """Harness tokens only; everything else falls through to the generic
    decoder.  Every credential passes here first, which is how the
    fingerprint index learns all of them (see :mod:`.index`)."""
    from hardoctor.tokens import clean_token

    from .expiry import decode_harness
    from .index import index

    index(ctx).add(credential)
    if credential.secret is None:
        return None
    token = parse_harness_token(clean_token(credential.secret.reveal()))
    if token is None:
        return None
    return decode_harness(credential, token, ctx)


def prefetch_tokens(credentials: Sequence[Credential], ctx: Context) -> None:
    """Look up every distinct Harness token with the API at once (one
    deadline, concurrently), so the per-credential decode that follows finds
    its answer cached.  The engine decodes credentials one at a time; calling
    this first with the whole list is what makes the lookups concurrent.
    Without it, each decode looks its token up (cached per fingerprint,
    under the same shared deadline)."""
    from .expiry import prefetch
    from .index import index

    for cred in credentials:
        index(ctx).add(cred)
    prefetch(list(credentials), ctx)


@hookimpl
def hardoctor_prefetch(credentials: Sequence[Credential], ctx: Context) -> None:
    """Every token API lookup of the run at once, before decoding."""
    prefetch_tokens(credentials, ctx)


@hookimpl
def hardoctor_check_credential(credential: Credential, ctx: Context) -> Sequence[Finding] | None:
    from .checks import check_credential

    return check_credential(credential, ctx)


@hookimpl
def hardoctor_diagnose(
    resolution: Resolution, results: Sequence[ProbeResult], ctx: Context
) -> Sequence[Finding] | None:
    from .diagnose import diagnose

    return diagnose(resolution, results, ctx)
