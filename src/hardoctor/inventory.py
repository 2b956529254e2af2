"""``hardoctor tokens``: every stored credential across every client.

The same pipeline as ``check --offline`` up to decoding (discover ->
credentials -> prefetch -> decode), never the network.  Copies of one token
(the same fingerprint) are one row with every place it is stored; rows are
sorted by expiry, the soonest first.  Never a secret: a token is shown by its
fingerprint.  Exit 1 when a token is expired (``--fail-on warning``: also
when one expires within ``--expiry-warning`` days).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from hardoctor import __version__
from hardoctor.model import Credential, Report

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.plugins import PluginManager

SCHEMA_ID = "hardoctor/tokens/v1"
STATUS_STYLE = {"expired": "red", "invalid": "red", "expiring-soon": "yellow",
                "valid": "green", "unknown": "dim", "none": "dim"}
#: Status -> the severity it stands for, for --fail-on.
STATUS_SEVERITY = {"expired": "error", "invalid": "error", "expiring-soon": "warning"}


def schema_path() -> str:
    return os.path.join(os.path.dirname(__file__), "report", "tokens-v1.schema.json")


def _iso(dt: datetime | None) -> str | None:
    from hardoctor.report import iso

    return iso(dt)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def _copy(ctx: Context, cred: Credential, names: dict[str, str]) -> dict[str, Any]:
    loc = cred.location
    return {
        "credential": cred.id,
        "ecosystem": cred.ecosystem,
        "registry": cred.registry,
        "host": cred.host,
        "clients": [names.get(c, c) for c in cred.clients],
        "username": cred.username,
        "source": cred.source,
        "scheme": cred.scheme,
        "location": {"path": loc.path, "line": loc.line, "key": loc.key,
                     "display": loc.display(ctx.home) + (f"  {loc.key}" if loc.key and loc.path else "")},
    }


def _vendor(ctx: Context, cred: Credential) -> str | None:
    """The vendor that owns the registry, as its plugin names it; none for
    a registry no vendor plugin claims."""
    info = ctx.registry_info(cred.registry, None)
    return (info.display or info.vendor) if info is not None else None


def inventory(ctx: Context, credentials: list[Credential]) -> list[dict[str, Any]]:
    from hardoctor.report.text import client_names

    names = client_names(ctx)
    now = _aware(ctx.now())
    groups: dict[str, dict[str, Any]] = {}
    for cred in credentials:
        tok = cred.token
        fp = (tok.fingerprint if tok else None) or (cred.secret.fingerprint if cred.secret else None)
        key = fp or f"id:{cred.id}"
        row = groups.get(key)
        if row is None:
            expires = _aware(tok.expires_at) if tok and tok.expires_at else None
            row = groups[key] = {
                "fingerprint": fp,
                "kind": tok.kind if tok else ("opaque" if cred.secret else "none"),
                "vendor": _vendor(ctx, cred),
                "account": (tok.account_id if tok else None) or cred.username,
                "token_id": tok.token_id if tok else None,
                "expires_at": _iso(expires),
                "days_left": None if expires is None else
                round((expires - now).total_seconds() / 86400.0, 1),
                "expiry_source": tok.expiry_source if tok else "unknown",
                "status": (tok.status if tok else "unknown") if cred.secret or tok else "none",
                "copies": [],
            }
        elif row["vendor"] is None:
            row["vendor"] = _vendor(ctx, cred)
        row["copies"].append(_copy(ctx, cred, names))
    rows = list(groups.values())
    rows.sort(key=lambda r: (r["expires_at"] is None, r["expires_at"] or "",
                             r["fingerprint"] or "~", r["copies"][0]["registry"]))
    return rows


def exit_status(ctx: Context, rows: list[dict[str, Any]]) -> int:
    fail_on = ctx.options.fail_on
    if fail_on == "never":
        return 0
    levels = {"error"} if fail_on == "error" else {"error", "warning"}
    return 1 if any(STATUS_SEVERITY.get(r["status"]) in levels for r in rows) else 0


def tokens_command(ctx: Context, manager: PluginManager) -> tuple[str, int]:
    from hardoctor import engine

    # The inventory never touches the network: what the files say.
    ctx.options = replace(ctx.options, offline=True)
    started = ctx.now()
    _, credentials = engine.collect(ctx, manager)
    rows = inventory(ctx, credentials)
    status = exit_status(ctx, rows)
    fmt = ctx.options.format
    if fmt == "json":
        from hardoctor.report import scrub_values

        doc = {"schema": SCHEMA_ID, "tool": {"name": "hardoctor", "version": __version__},
               "generated_at": _iso(started),
               "expiry_warning_days": ctx.options.expiry_warning_days, "tokens": rows}
        return json.dumps(scrub_values(doc), indent=2, ensure_ascii=False) + "\n", status
    if fmt == "openmetrics":
        from hardoctor.report.openmetrics import expiry_family, render, status_families

        report = Report(started, 0.0, (), tuple(credentials), (), (), (), offline=True)
        return render([expiry_family(report, ctx.home), *status_families(True)]), status
    from hardoctor.inventory_text import render_table

    return render_table(ctx, rows), status
