"""Generic token decoding: JWT claims and a status from the expiry.

Vendor decoders (Harness PAT/SAT, ...) are plugins implementing
``hardoctor_decode_secret``; this module is the fallback every plugin can
reuse.  Nothing here verifies signatures: we only read what the token says
about itself, to explain failures, never to trust it.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hardoctor.model import Secret, TokenInfo


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


def status_for(expires_at: datetime | None, now: datetime, warn_days: float) -> str:
    if expires_at is None:
        return "unknown"
    if expires_at <= now:
        return "expired"
    if expires_at - now <= timedelta(days=warn_days):
        return "expiring-soon"
    return "valid"


def decode_jwt(secret: Secret, now: datetime, warn_days: float) -> TokenInfo | None:
    parsed = jwt_claims(secret.reveal())
    if parsed is None:
        return None
    header, claims = parsed
    exp = _ts(claims.get("exp"))
    details: dict[str, Any] = {"alg": header.get("alg")}
    for key in ("iss", "sub", "aud"):
        if isinstance(claims.get(key), (str, list)):
            details[key] = claims[key]
    if isinstance(claims.get("access"), list):
        details["access"] = claims["access"]
    return TokenInfo(
        kind="jwt",
        fingerprint=secret.fingerprint,
        issued_at=_ts(claims.get("iat")),
        not_before=_ts(claims.get("nbf")),
        expires_at=exp,
        expiry_source="token" if exp else "unknown",
        status=status_for(exp, now, warn_days),  # type: ignore[arg-type]
        details=details,
    )


def decode_generic(secret: Secret, scheme: str, now: datetime, warn_days: float) -> TokenInfo:
    info = decode_jwt(secret, now, warn_days)
    if info is not None:
        return info
    kind = "basic" if scheme == "basic" else "opaque"
    return TokenInfo(kind=kind, fingerprint=secret.fingerprint)  # type: ignore[arg-type]
