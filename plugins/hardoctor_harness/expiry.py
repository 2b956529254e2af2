"""Decode a Harness PAT/SAT into a :class:`TokenInfo`, with its expiry from
the best source available:

1. the Harness API (``validTo``; 0 = no expiry) -- see :mod:`.tokenapi`;
2. an *estimate*: when the credential was stored + 30 days (the Setup
   Client default), only for tokens that look like Setup Client tokens (a
   PAT used for a HAR host; service account tokens come from account
   settings, where people pick longer lives);
3. otherwise unknown.

An API 401 alone cannot tell "expired" from "revoked"; with an estimate
that has passed we call it expired (estimated), otherwise invalid.

Decoding is pure: it only reads the API answers that :func:`prefetch`
(``hardoctor_prefetch``) fetched for every token of the run at once; a
token nobody prefetched is decoded as "the API was not asked".
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from hardoctor.model import Credential, Secret, TokenInfo, fingerprint
from hardoctor.records import dataclass
from hardoctor.tokens import clean_token, problems_for, status_for
from hardoctor.tokens.claims import Status

from . import tokenapi
from .options import harness_options
from .pat import HarnessToken, parse_harness_token
from .urls import account_of, is_har_host, parse_har_url

if TYPE_CHECKING:
    from hardoctor.context import Context

SETUP_CLIENT_DAYS = 30
#: ``TokenInfo.expiry_source`` when the Harness API said it, and how a
#: sentence names that source (``details["expiry_source_label"]``).
API_SOURCE = "harness-api"
API_LABEL = "the Harness API"


@dataclass(frozen=True)
class Estimate:
    expires_at: datetime
    basis: str


@dataclass(frozen=True)
class Expiry:
    """What the decoder concluded about expiry."""

    status: Status = "unknown"
    source: str = "unknown"
    issued: datetime | None = None
    expires: datetime | None = None


def estimate(cred: Credential, token: HarnessToken, ctx: Context) -> Estimate | None:
    if token.kind != "harness-pat" or cred.stored_at is None:
        return None
    if not is_har_host(cred.host, harness_options(ctx).hosts):
        return None
    stored = cred.stored_at
    if stored.tzinfo is None:
        stored = stored.replace(tzinfo=timezone.utc)
    return Estimate(
        stored + timedelta(days=SETUP_CLIENT_DAYS),
        f"stored on {stored.date().isoformat()} + {SETUP_CLIENT_DAYS} days, "
        "the Setup Client default",
    )


def lookup_account(cred: Credential, token: HarnessToken) -> str | None:
    """The account to ask the API in: the token's own, or (legacy tokens)
    the one in the registry URL."""
    if token.account:
        return token.account
    har = parse_har_url(cred.registry) if cred.registry else None
    return account_of(har) if har else None


def _ask_api(
    cred: Credential, token: HarnessToken, clean: Secret, ctx: Context, details: dict[str, Any]
) -> tokenapi.TokenAnswer | None:
    """The API's answer (None when it was not asked; ``details["api"]``
    says why)."""
    account = lookup_account(cred, token)
    if not tokenapi.enabled(ctx):
        details["api"] = {
            "outcome": "off",
            "detail": "the Harness API was not asked (--offline or --no-token-api)",
        }
        return None
    if not token.complete:
        details["api"] = {"outcome": "skipped", "detail": "the token is malformed; not sent anywhere"}
        return None
    if account is None:
        details["api"] = {"outcome": "skipped", "detail": "no account ID to ask the Harness API in"}
        return None
    answer = tokenapi.cached(ctx, clean, account)
    if answer is None:
        # Decoding never sends anything: hardoctor_prefetch asks.
        details["api"] = {"outcome": "skipped", "detail": "the Harness API was not asked"}
        return None
    details["api"] = answer.facts()
    for key in ("name", "email", "username", "api_key_type", "api_key_identifier"):
        if getattr(answer, key):
            details[key] = getattr(answer, key)
    if answer.caller_rejected:
        details["caller_rejected"] = True
    return answer


def _from_api(answer: tokenapi.TokenAnswer, now: datetime, warn: float) -> Expiry | None:
    if answer.outcome == "expired":
        return Expiry("expired", API_SOURCE)
    if answer.outcome != "ok":
        return None
    if answer.no_expiry:
        return Expiry("invalid" if answer.valid is False else "valid", API_SOURCE, answer.valid_from)
    status = status_for(answer.valid_to, now, warn)
    if status != "expired" and answer.valid is False:
        status = "invalid"
    return Expiry(status, API_SOURCE, answer.valid_from, answer.valid_to)


def _expiry(
    answer: tokenapi.TokenAnswer | None, est: Estimate | None, now: datetime, warn: float
) -> Expiry:
    found = _from_api(answer, now, warn) if answer is not None else None
    if found is not None:
        return found
    if answer is not None and answer.outcome == "rejected":
        if est is not None and est.expires_at <= now:
            return Expiry("expired", "estimated", expires=est.expires_at)
        return Expiry("invalid")
    if est is not None:
        return Expiry(status_for(est.expires_at, now, warn), "estimated", expires=est.expires_at)
    return Expiry()


def decode_harness(cred: Credential, token: HarnessToken, ctx: Context) -> TokenInfo:
    assert cred.secret is not None
    raw = cred.secret.reveal()
    clean = Secret(clean_token(raw))
    problems = problems_for(raw, cred.username) + list(token.problems)
    details: dict[str, Any] = {"format": token.kind, "display": token.display()}
    if token.legacy:
        details["legacy_format"] = True
    answer = _ask_api(cred, token, clean, ctx, details)
    est = estimate(cred, token, ctx)
    found = _expiry(answer, est, ctx.now(), ctx.options.expiry_warning_days)
    if found.source == API_SOURCE:
        details["expiry_source_label"] = API_LABEL
        if answer is not None and answer.no_expiry:
            details["no_expiry"] = True
    if found.source == "estimated" and est is not None:
        details["estimate"] = est.basis
    if cred.stored_at is not None:
        details["stored_at"] = cred.stored_at.isoformat()
    if problems:
        details["problem_codes"] = tuple(p.code for p in problems)
    return TokenInfo(
        kind=token.kind,
        fingerprint=fingerprint(clean.reveal()),
        account_id=token.account,
        token_id=token.token_id,
        issued_at=found.issued,
        expires_at=found.expires,
        expiry_source=found.source,
        status=found.status,
        problems=tuple(p.text for p in problems),
        details=details,
    )


def harness_token(cred: Credential) -> HarnessToken | None:
    """The Harness token ``cred`` holds, if it holds one."""
    if cred.secret is None:
        return None
    return parse_harness_token(clean_token(cred.secret.reveal()))


def prefetch(credentials: list[Credential], ctx: Context) -> None:
    """Ask the API about every distinct Harness token at once, so the
    per-credential decode finds its answer in the run's memo."""
    if not tokenapi.enabled(ctx):
        return
    items: list[tuple[Secret, str]] = []
    for cred in credentials:
        token = harness_token(cred)
        account = lookup_account(cred, token) if token else None
        if token is not None and token.complete and account and cred.secret is not None:
            items.append((Secret(clean_token(cred.secret.reveal())), account))
    if items:
        tokenapi.lookup_many(ctx, items)
