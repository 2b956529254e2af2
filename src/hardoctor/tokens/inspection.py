"""``hardoctor token inspect``: one token from stdin, decoded by every
plugin that knows a token format, shown as text or ``hardoctor/token/v1``.

The token goes through the same hooks as a stored credential's
(``hardoctor_prefetch`` then ``hardoctor_decode_secret``), as a throwaway
credential with no registry: a vendor plugin may look its token up with
its own API there.  The core names no vendor; what it shows about the
expiry's source comes from the data:

* ``TokenInfo.expiry_source`` -- ``token``, ``estimated``, ``unknown``, or
  the plugin's own word for the API it asked;
* ``TokenInfo.details["expiry_source_label"]`` -- how to name that API in
  a sentence ("the ACME API"); shown as "from <label>".  A presentation
  hint: it is left out of the JSON ``details``.
* ``details["no_expiry"]`` -- the API says the token never expires.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from hardoctor.model import Credential, Location, Secret, TokenInfo
from hardoctor.tokens.claims import decode_generic
from hardoctor.tokens.stdin import read_one_token

if TYPE_CHECKING:
    from hardoctor.context import Context

#: ``details`` keys that are for this module, not for the JSON document.
LABEL_KEY = "expiry_source_label"
_HIDDEN = frozenset({"problem_codes", LABEL_KEY})
_SOURCES = {"token": "the token itself", "estimated": "an estimate", "unknown": "?"}


def inspect_token(ctx: Context, secret: Secret) -> TokenInfo:
    """Decode ``secret`` with every plugin's hooks, as a credential with no
    registry and no storage time."""
    cred = Credential(
        id="stdin",
        ecosystem="token",
        registry="",
        host="",
        source="stdin",
        location=Location(key="stdin"),
        secret=secret,
        scheme="bearer",
    )
    if ctx.plugins is not None:
        ctx.plugins.call("hardoctor_prefetch", credentials=[cred], ctx=ctx)
        found = ctx.plugins.call_first("hardoctor_decode_secret", credential=cred, ctx=ctx)
        if found is not None and isinstance(found[1], TokenInfo):
            return found[1]
    return decode_generic(secret, "bearer", ctx.now(), ctx.options.expiry_warning_days)


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def inspect_dict(info: TokenInfo) -> dict[str, Any]:
    """The ``hardoctor/token/v1`` document of ``token inspect --format json``."""
    details = {k: v for k, v in info.details.items() if k not in _HIDDEN}
    return {
        "schema": "hardoctor/token/v1",
        "kind": info.kind,
        "format": info.details.get("format"),
        "fingerprint": info.fingerprint,
        "account_id": info.account_id,
        "token_id": info.token_id,
        "issued_at": _iso(info.issued_at),
        "not_before": _iso(info.not_before),
        "expires_at": _iso(info.expires_at),
        "expiry_source": info.expiry_source,
        "status": info.status,
        "problems": list(info.problems),
        "problem_codes": list(info.details.get("problem_codes", ())),
        "details": json.loads(json.dumps(details, default=str)),
    }


def source_label(info: TokenInfo) -> str:
    """Where the expiry came from, for a sentence ("from ...")."""
    if info.expiry_source in _SOURCES:
        return _SOURCES[info.expiry_source]
    label = info.details.get(LABEL_KEY)
    return label if isinstance(label, str) and label else info.expiry_source


def _when(dt: datetime | None, source: str, now: datetime) -> str:
    if dt is None:
        return "-"
    delta = dt - now
    days = abs(delta.total_seconds()) / 86400
    rel = f"in {days:.1f} days" if delta.total_seconds() > 0 else f"{days:.1f} days ago"
    return f"{_iso(dt)}  ({rel}; from {source})"


def _expires(info: TokenInfo, source: str, now: datetime) -> str:
    if info.expires_at is not None:
        return _when(info.expires_at, source, now)
    if info.details.get("no_expiry"):
        return f"never ({source} says the token has no expiry)"
    if info.status == "expired":
        return f"already expired (from {source}; date unknown)"
    return "unknown"


def _extra_rows(info: TokenInfo) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key in ("name", "email", "api_key_type", "iss", "sub", "aud"):
        if info.details.get(key):
            rows.append((key.replace("_", " "), str(info.details[key])))
    api = info.details.get("api")
    if isinstance(api, Mapping) and api.get("detail"):
        rows.append(("api", str(api["detail"])))
    estimate = info.details.get("estimate")
    if isinstance(estimate, str):
        rows.append(("estimate", estimate))
    rows += [("problem", f"the token {problem}") for problem in info.problems]
    return rows


def inspect_text(info: TokenInfo, now: datetime) -> str:
    source = source_label(info)
    fmt = info.details.get("format")
    # An API that knows the expiry also said when the token was made.
    issued_src = "the token itself" if info.expiry_source in _SOURCES else source
    rows = [
        ("kind", info.kind + (f" ({fmt})" if fmt and fmt != info.kind else "")),
        ("account", info.account_id or "-"),
        ("token id", info.token_id or "-"),
        ("fingerprint", f"#{info.fingerprint}" if info.fingerprint else "-"),
        ("issued", _when(info.issued_at, issued_src, now)),
        ("expires", _expires(info, source, now)),
        ("status", info.status),
        *_extra_rows(info),
    ]
    width = max(len(k) for k, _ in rows)
    return "".join(f"{k:<{width}}  {v}\n" for k, v in rows)


def inspect_command(ctx: Context) -> tuple[str, int]:
    """``hardoctor token inspect``: exit 0 when nothing is wrong, 1 when the
    token is expired, invalid or malformed (so scripts can gate on it)."""
    secret = read_one_token(ctx.env.stdin)
    info = inspect_token(ctx, secret)
    if ctx.options.format == "json":
        text = json.dumps(inspect_dict(info), indent=2, ensure_ascii=False) + "\n"
    else:
        text = inspect_text(info, ctx.now())
    bad = info.status in ("expired", "invalid") or bool(info.problems)
    return text, 1 if bad else 0
