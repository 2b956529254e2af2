"""HAR101-HAR103: a Harness token expired, expiring soon, or rejected by
the Harness API -- with the date, its source and every place the same
token is stored."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from hardoctor.model import Credential, Finding, Severity, TokenInfo
from hardoctor.records import dataclass
from hardoctor.tokencheck import in_days
from hardoctor.tokens.index import also_stored, where

from .expiry import API_SOURCE
from .options import on_har_host
from .pat import HarnessToken
from .remediation import token_remediation
from .urls import parse_har_url

if TYPE_CHECKING:
    from hardoctor.context import Context

PLUGIN = "harness"


def _date(dt: datetime | None) -> str:
    return dt.date().isoformat() if dt else "an unknown date"


def _api_detail(info: TokenInfo) -> str | None:
    """What the API answered, as evidence (None when it was not asked)."""
    api = info.details.get("api")
    if isinstance(api, dict) and api.get("detail") and api.get("outcome") not in ("off", "skipped"):
        return str(api["detail"])
    return None


_API_PHRASES = {
    "rejected": "the Harness API rejected the token",
    "off": "the Harness API was not asked",
    "refused": "the Harness API URL was refused",
    "timeout": "the Harness API did not answer in time",
    "unreachable": "the Harness API could not be reached",
    "denied": "the Harness API refused the lookup",
    "error": "the Harness API gave no usable answer",
    "skipped": "the Harness API was not asked",
}


def _api_phrase(info: TokenInfo) -> str:
    api = info.details.get("api")
    outcome = api.get("outcome") if isinstance(api, dict) else None
    return _API_PHRASES.get(str(outcome), "the Harness API was not asked")


def _source(info: TokenInfo) -> str:
    if info.expiry_source == API_SOURCE:
        return "from the Harness API"
    if info.expiry_source == "token":
        return "from the token itself"
    if info.expiry_source == "estimated":
        return f"estimated: {info.details.get('estimate', 'stored time + 30 days')}"
    return "source unknown"


def _registry_name(cred: Credential) -> str | None:
    har = parse_har_url(cred.registry) if cred.registry else None
    return har.registry if har and har.layout in ("pkg", "oci") else None


@dataclass(frozen=True)
class _Story:
    code: str
    summary: str
    message: str
    why: str
    severity: Severity | None = None


def _expired(shown: str, reg: str, info: TokenInfo) -> _Story:
    summary = "Create a new token and store it in every place this one is."
    why = "HAR answers 401 Unauthorized for an expired token, without saying why."
    if info.expiry_source == "estimated":
        rejected = "rejected" in _api_phrase(info)
        message = (
            f"The Harness token {shown} stored for {reg} has probably expired on "
            f"{_date(info.expires_at)} (estimated: {info.details.get('estimate')}; "
            f"{_api_phrase(info)})."
        )
        return _Story("HAR101", summary, message, why, None if rejected else Severity.WARNING)
    if info.expires_at is None:
        message = (
            f"The Harness token {shown} stored for {reg} has expired (the Harness API says "
            "so; to learn the date, set HARNESS_API_KEY to another working key)."
        )
    else:
        message = (
            f"The Harness token {shown} stored for {reg} expired on "
            f"{_date(info.expires_at)} ({_source(info)})."
        )
    return _Story("HAR101", summary, message, why)


def _story(token: HarnessToken, cred: Credential, info: TokenInfo, now: datetime) -> _Story:
    shown = token.display()
    reg = cred.registry or cred.host
    if info.status == "expired":
        return _expired(shown, reg, info)
    if info.status == "expiring-soon":
        assert info.expires_at is not None
        return _Story(
            "HAR102",
            "Create a new token before then and store it in every place this one is.",
            f"The Harness token {shown} stored for {reg} expires on {_date(info.expires_at)} "
            f"({in_days(info.expires_at, now)}, {_source(info)}).",
            "On that date every client using it starts getting 401.",
        )
    return _Story(
        "HAR103",
        "Create a new token and store it where this one is.",
        f"The Harness API rejects the token {shown} stored for {reg}: it was revoked, deleted "
        "or mistyped, or belongs to another Harness cluster (it is not known to have expired).",
        "HAR refuses it the same way: 401 on every pull and push.",
    )


def harness_expiry(
    cred: Credential, token: HarnessToken, info: TokenInfo, ctx: Context
) -> list[Finding]:
    if info.status not in ("expired", "expiring-soon", "invalid"):
        return []
    story = _story(token, cred, info, ctx.now())
    others, evidence = also_stored(cred, ctx)
    api = _api_detail(info)
    if api:
        evidence.append(f"Harness API: {api}")
    why = story.why
    if others and story.code != "HAR103":
        why += f" {len(others)} other cop{'ies' if len(others) != 1 else 'y'} expire with it."
    email = info.details.get("email") if isinstance(info.details.get("email"), str) else None
    rem = token_remediation(
        story.summary,
        cred,
        where(cred, ctx.home),
        [(o, where(o, ctx.home)) for o in others],
        registry=_registry_name(cred),
        email=email,
        home=ctx.home,
        on_har=on_har_host(ctx),
    )
    return [
        ctx.finding(
            story.code,
            story.message,
            severity=story.severity,
            why=why,
            evidence=evidence,
            remediation=rem,
            location=cred.location,
            ecosystem=cred.ecosystem,
            credential=cred.id,
            registry=cred.host,
            plugin=PLUGIN,
        )
    ]
