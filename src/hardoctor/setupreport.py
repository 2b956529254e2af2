"""What ``hardoctor setup`` tells the person: the token's checks, the
diff, what was written, each client checked again, the pull/push commands,
the token's expiry and the vendor's notes.  Text and JSON
(``hardoctor/setup/v1``); nothing here ever holds the token (the output is
scrubbed of every secret the run has seen on top of that)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hardoctor.records import dataclass, field

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.model import Secret, TokenInfo
    from hardoctor.setup import Client, Recheck


@dataclass
class Outcome:
    new: Secret
    info: TokenInfo
    clients: list[Client]
    refused: list[str] = field(default_factory=list)
    diff: str = ""
    pending: bool = False
    failures: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    backup: str | None = None
    done: list[str] = field(default_factory=list)
    recheck: list[Recheck] | None = None
    notes: list[str] = field(default_factory=list)


def render(ctx: Context, o: Outcome) -> str:
    if ctx.options.format == "json":
        from hardoctor.report import scrub_values

        return json.dumps(scrub_values(_json(ctx, o)), indent=2) + "\n"
    return _text(ctx, o)


def _token_line(o: Outcome) -> str:
    info = o.info
    facts = [info.kind]
    if info.account_id:
        facts.append(f"account {info.account_id}")
    if info.expires_at:
        facts.append(f"expires {info.expires_at:%Y-%m-%d}")
    return f"Token #{o.new.fingerprint} ({', '.join(facts)})"


def _text(ctx: Context, o: Outcome) -> str:
    lines: list[str] = []
    if o.refused:
        lines.append(f"{_token_line(o)} was refused; nothing was written:")
        lines += [f"  - {r}" for r in o.refused]
        return "\n".join(lines) + "\n"
    checked = "passed its checks" if not ctx.options.offline else \
        "passed its offline checks (not probed: --offline)"
    lines += [f"{_token_line(o)} {checked}.", ""]
    for c in o.clients:
        lines.append(f"  {c.plan.client:<8} {c.plan.registry}")
        lines.append(f"           {c.plan.description}")
    if o.diff:
        lines += ["", o.diff.rstrip("\n")]
    actions = [a.description for c in o.clients for a in c.plan.actions]
    if actions:
        lines += ["", "Other changes:"] + [f"  - {a}" for a in actions]
    lines.append("")
    if o.failures:
        lines += ["Failed (nothing more was done):"] + [f"  - {f}" for f in o.failures]
    elif not o.pending:
        lines.append("Nothing to change: everything setup writes is already in place.")
    elif ctx.options.apply:
        if o.written:
            lines.append(f"Wrote {len(o.written)} file{'s' * (len(o.written) != 1)}; originals "
                         f"saved in {ctx.display_path(o.backup)} (undo with `hardoctor fix --undo`).")
    else:
        lines.append("Run again with --apply to write these changes.")
    if o.recheck is not None:
        lines += ["", "Checked again, as `hardoctor check` does:"]
        lines += [_recheck_line(r) for r in o.recheck]
    lines += _howto(ctx, o)
    return "\n".join(lines) + "\n"


def _recheck_line(r: Recheck) -> str:
    checked = r.ok and r.summary.startswith("✓")
    mark = "✓" if checked else ("·" if r.ok else "✗")
    text = f"  {mark} {r.client.plan.client:<8} {r.client.plan.check_target or r.client.plan.registry}"
    if r.summary != "✓":
        text += f": {r.summary.removeprefix('✓ ')}"
    if r.errors:
        text += "".join(f"\n      {f.rule} {f.message}" for f in r.errors[1:3])
    return text


def _howto(ctx: Context, o: Outcome) -> list[str]:
    lines: list[str] = []
    pulls = [(c.plan.client, cmd) for c in o.clients for cmd in c.plan.pull]
    pushes = [(c.plan.client, cmd) for c in o.clients for cmd in c.plan.push]
    if pulls:
        lines += ["", "Pull:"] + [f"  $ {cmd}" for _, cmd in pulls]
    if pushes:
        lines += ["", "Push (needs write access on the registry):"]
        lines += [f"  $ {cmd}" for _, cmd in pushes]
    notes = [n for c in o.clients for n in c.plan.notes]
    if notes:
        lines += ["", "Next steps:"] + [f"  - {n}" for n in dict.fromkeys(notes)]
    lines += ["", *_expiry(ctx, o.info)]
    if o.notes:
        lines += [""] + [f"Note: {n}" for n in o.notes]
    return lines


def _expiry(ctx: Context, info: TokenInfo) -> list[str]:
    warn = ctx.options.expiry_warning_days
    reminder = (f"`hardoctor check` warns {warn:g} days before it lapses, `hardoctor tokens` "
                "lists it with its expiry, and the fleet's expiry alert (`hardoctor serve`, "
                "docs/fleet.md) fires before then")
    if info.expires_at is None:
        return [f"The token's expiry is not known (the token carries none and no vendor API "
                f"told it); {reminder} once the date can be learned (`hardoctor token inspect` "
                "shows what is known). Note in your calendar when you made it."]
    now = ctx.now()
    days = (info.expires_at - now).total_seconds() / 86400
    when = _date(info.expires_at)
    return [f"The token expires {when} (in {max(days, 0):.0f} days): make a new one before then "
            f"and run `hardoctor fix --token-stdin` to put it everywhere; {reminder}."]


def _date(dt: datetime) -> str:
    return f"on {dt:%Y-%m-%d}"


def _json(ctx: Context, o: Outcome) -> dict[str, Any]:
    info = o.info
    return {
        "schema": "hardoctor/setup/v1",
        "token": {"fingerprint": o.new.fingerprint, "kind": info.kind,
                  "account_id": info.account_id, "status": info.status,
                  "expires_at": info.expires_at.isoformat() if info.expires_at else None},
        "refused": o.refused,
        "clients": [{
            "client": c.plan.client, "url": c.request.url, "registry": c.plan.registry,
            "change": c.plan.description, "check_target": c.plan.check_target,
            "pull": list(c.plan.pull), "push": list(c.plan.push), "notes": list(c.plan.notes),
        } for c in o.clients],
        "diff": o.diff,
        "changes": o.pending,
        "applied": bool(ctx.options.apply) and not o.refused and not o.failures,
        "written": o.written,
        "backup": o.backup,
        "actions": o.done,
        "failures": o.failures,
        "recheck": None if o.recheck is None else [
            {"client": r.client.plan.client, "target": r.client.plan.check_target, "ok": r.ok,
             "summary": r.summary, "findings": [f"{f.rule} {f.message}" for f in r.errors]}
            for r in o.recheck],
        "notes": o.notes,
    }
