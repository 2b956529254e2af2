"""JWTs: claims, expiry, clock skew -- and the generic decoder that falls
back to ``basic``/``opaque``.

Nothing here verifies signatures: we read what a token says about itself to
explain failures, never to trust it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, cast

from hardoctor.model import Secret, TokenInfo, fingerprint

Status = Literal["valid", "expired", "expiring-soon", "invalid", "unknown"]


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def jwt_claims(value: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(header, claims) of a JWT, or None when ``value`` is not one."""
    parts = value.strip().split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return None
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict) or "alg" not in header:
        return None
    return header, claims


def _ts(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(float(value), timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def status_for(expires_at: datetime | None, now: datetime, warn_days: float) -> Status:
    if expires_at is None:
        return "unknown"
    if expires_at <= now:
        return "expired"
    if expires_at - now <= timedelta(days=warn_days):
        return "expiring-soon"
    return "valid"


def _jwt_details(header: dict[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {"alg": header.get("alg")}
    for key in ("iss", "sub", "aud"):
        if isinstance(claims.get(key), (str, list)):
            details[key] = claims[key]
    if isinstance(claims.get("access"), list):
        # Registry tokens (distribution spec) list what they grant.
        details["access"] = claims["access"]
    if isinstance(claims.get("scope"), str):
        details["scope"] = claims["scope"]
    return details


def decode_jwt(secret: Secret, now: datetime, warn_days: float) -> TokenInfo | None:
    from hardoctor.tokens.values import clean_token

    parsed = jwt_claims(secret.reveal())
    if parsed is None:
        return None
    header, claims = parsed
    exp = _ts(claims.get("exp"))
    return TokenInfo(
        kind="jwt",
        fingerprint=fingerprint(clean_token(secret.reveal())),
        issued_at=_ts(claims.get("iat")),
        not_before=_ts(claims.get("nbf")),
        expires_at=exp,
        expiry_source="token" if exp else "unknown",
        status=status_for(exp, now, warn_days),
        details=_jwt_details(header, claims),
    )


#: How far a JWT's ``nbf``/``iat`` may lie in the future before we call it
#: clock skew: distribution's own leeway.
CLOCK_LEEWAY = timedelta(seconds=60)


def clock_skew(info: TokenInfo, now: datetime) -> timedelta | None:
    """How far ahead of the local clock the token says it was issued (or
    becomes valid), when that exceeds :data:`CLOCK_LEEWAY`; else None."""
    ahead = [t - now for t in (info.not_before, info.issued_at) if t is not None]
    worst = max(ahead, default=None)
    return worst if worst is not None and worst > CLOCK_LEEWAY else None


def decode_generic(
    secret: Secret,
    scheme: str,
    now: datetime,
    warn_days: float,
    username: str | None = None,
) -> TokenInfo:
    """The fallback decoder: JWT, else ``basic``/``opaque``, with the
    malformed-value problems and the recognised format in ``details``."""
    from hardoctor.tokens.values import clean_token, problems_for, token_format

    value = secret.reveal()
    problems = problems_for(value, username)
    info = decode_jwt(Secret(clean_token(value)), now, warn_days)
    if info is None:
        kind = "basic" if scheme == "basic" else "opaque"
        info = TokenInfo(kind=kind, fingerprint=fingerprint(clean_token(value)))
    details = dict(info.details)
    fmt = token_format(value, scheme)
    if fmt:
        details["format"] = fmt
    if problems:
        details["problem_codes"] = tuple(p.code for p in problems)
    return replace(info, problems=tuple(p.text for p in problems), details=details)


def as_status(value: str) -> Status:
    """``value`` as a TokenInfo status (``unknown`` for anything else)."""
    known = ("valid", "expired", "expiring-soon", "invalid", "unknown")
    return cast(Status, value) if value in known else "unknown"
