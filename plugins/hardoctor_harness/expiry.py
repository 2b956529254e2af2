"""Decode a Harness PAT/SAT into a :class:`TokenInfo`, with its expiry from
the best source available:

1. the Harness API (``validTo``; 0 = no expiry) -- see :mod:`hardoctor.token_api`;
2. an *estimate*: when the credential was stored + 30 days (the Setup
   Client default), only for tokens that look like Setup Client tokens (a
   PAT used for a HAR host; service account tokens come from account
   settings, where people pick longer lives);
3. otherwise unknown.

An API 401 alone cannot tell "expired" from "revoked"; with an estimate
that has passed we call it expired (estimated), otherwise invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from hardoctor import token_api
from hardoctor.model import Credential, Secret, TokenInfo, fingerprint
from hardoctor.tokens import clean_token, problems_for, status_for

from .pat import HarnessToken
from .urls import account_of, is_har_host, parse_har_url

if TYPE_CHECKING:
    from hardoctor.context import Context

SETUP_CLIENT_DAYS = 30


@dataclass(frozen=True)
class Estimate:
    expires_at: datetime
    basis: str


def estimate(cred: Credential, token: HarnessToken, ctx: Context) -> Estimate | None:
    if token.kind != "harness-pat" or cred.stored_at is None:
        return None
    if not is_har_host(cred.host, ctx.options.harness_hosts):
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


def decode_harness(cred: Credential, token: HarnessToken, ctx: Context) -> TokenInfo:
    assert cred.secret is not None
    raw = cred.secret.reveal()
    clean = Secret(clean_token(raw))
    problems = problems_for(raw, cred.username) + list(token.problems)
    details: dict[str, Any] = {"format": token.kind, "display": token.display()}
    if token.legacy:
        details["legacy_format"] = True
    now = ctx.now()
    warn = ctx.options.expiry_warning_days

    answer: token_api.TokenAnswer | None = None
    account = lookup_account(cred, token)
    if not token_api.enabled(ctx):
        details["api"] = {
            "outcome": "off",
            "detail": "the Harness API was not asked (--offline or --no-token-api)",
        }
    elif not token.complete:
        details["api"] = {
            "outcome": "skipped",
            "detail": "the token is malformed; not sent anywhere",
        }
    elif account is None:
        details["api"] = {"outcome": "skipped", "detail": "no account ID to ask the Harness API in"}
    else:
        answer = token_api.lookup(ctx, clean, account)
        details["api"] = answer.facts()
        for key in ("name", "email", "username", "api_key_type", "api_key_identifier"):
            if getattr(answer, key):
                details[key] = getattr(answer, key)
        if answer.caller_rejected:
            details["caller_rejected"] = True

    est = estimate(cred, token, ctx)
    issued: datetime | None = None
    expires: datetime | None = None
    source = "unknown"
    status = "unknown"
    if answer is not None and answer.outcome == "ok":
        issued, source = answer.valid_from, "harness-api"
        if answer.no_expiry:
            details["no_expiry"] = True
            status = "invalid" if answer.valid is False else "valid"
        else:
            expires = answer.valid_to
            status = status_for(expires, now, warn)
            if status != "expired" and answer.valid is False:
                status = "invalid"
    elif answer is not None and answer.outcome == "expired":
        source, status = "harness-api", "expired"
    elif answer is not None and answer.outcome == "rejected":
        if est is not None and est.expires_at <= now:
            expires, source, status = est.expires_at, "estimated", "expired"
            details["estimate"] = est.basis
        else:
            status = "invalid"
    elif est is not None:
        expires, source = est.expires_at, "estimated"
        status = status_for(expires, now, warn)
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
        issued_at=issued,
        expires_at=expires,
        expiry_source=source,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        problems=tuple(p.text for p in problems),
        details=details,
    )


def prefetch(credentials: list[Credential], ctx: Context) -> None:
    """Ask the API about every distinct Harness token at once, so the
    per-credential decode finds its answer in the cache."""
    from .pat import parse_harness_token

    if not token_api.enabled(ctx):
        return
    items: list[tuple[Secret, str]] = []
    for cred in credentials:
        if cred.secret is None:
            continue
        token = parse_harness_token(clean_token(cred.secret.reveal()))
        account = lookup_account(cred, token) if token else None
        if token is not None and token.complete and account:
            items.append((Secret(clean_token(cred.secret.reveal())), account))
    if items:
        token_api.lookup_many(ctx, items)
