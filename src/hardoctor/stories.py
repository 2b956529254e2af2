"""One token, one story.

The same token is often stored in several places (the Docker config and an
``.npmrc`` for one registry host): when it expires, every client that sends
it fails, and each client plugin (or a vendor plugin, once per stored copy)
reports it.  A person should read that once: where the token is stored,
which clients fail because of it, and what to do -- first the fix hardoctor
does itself (``hardoctor fix --token-stdin`` puts a new token in every
place at once, checked first), then the manual steps as a fallback.

:func:`one_per_token` runs after the engine's per-credential merge: findings
whose cause is about the token's *value* (expired, expiring, refused) and
whose credentials hold the same token (by fingerprint) become one finding;
the others' credentials go to :attr:`Finding.credentials`, so the report
still counts the story against every client that sends one of them.
Findings that carry an edit (a :class:`~hardoctor.model.Fix`) are never
merged across credentials: each edit is its own file's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from hardoctor.model import Credential, Finding, Remediation

if TYPE_CHECKING:
    from hardoctor.context import Context

#: Causes about the stored token's value: a new token is the fix.
TOKEN_CAUSES = frozenset({"token-expired", "token-expiring-soon", "token-invalid"})

_ALSO_STORED = "the same token (#"
ROTATE = "printf '%s' \"$TOKEN\" | hardoctor fix --token-stdin --apply"


def one_per_token(ctx: Context, findings: Sequence[Finding],
                  credentials: Sequence[Credential]) -> list[Finding]:
    if not findings:
        return []
    from hardoctor.tokens.index import token_fingerprint  # the token parsers load with a finding

    by_id = {c.id: c for c in credentials}
    groups: dict[tuple[str, str], list[int]] = {}
    for i, f in enumerate(findings):
        cred = by_id.get(f.credential or "")
        fp = token_fingerprint(cred) if cred is not None else None
        if f.cause in TOKEN_CAUSES and fp and f.fix is None and f.severity.value != "info":
            groups.setdefault((f.cause or "", fp), []).append(i)
    out = list(findings)
    drop: set[int] = set()
    for members in groups.values():
        best = max(members, key=lambda i: (findings[i].severity.rank, -i))
        out[best] = _told_once(ctx, findings[best], [findings[i] for i in members if i != best],
                               by_id)
        drop.update(i for i in members if i != best)
    return [f for i, f in enumerate(out) if i not in drop]


def _told_once(ctx: Context, primary: Finding, others: list[Finding],
               by_id: dict[str, Credential]) -> Finding:
    # "the same token is also stored in ..." (each copy's own note) gives way
    # to one "stored at ..., sent by ..." line per place.
    evidence = [e for e in primary.evidence if not e.startswith(_ALSO_STORED)]
    ids = [primary.credential or "", *primary.credentials]
    for other in others:
        for line in (*other.evidence, f"also reported as {other.rule}: {other.message}"):
            if line not in evidence and not line.startswith(_ALSO_STORED):
                evidence.append(line)
        for cid in (other.credential, *other.credentials):
            if cid and cid not in ids:
                ids.append(cid)
    creds = [by_id[c] for c in ids if c in by_id]
    names = _client_names(ctx)
    from hardoctor.tokens.index import where

    for cred in creds:
        clients = ", ".join(dict.fromkeys(names.get(c, c) for c in cred.clients)) or \
            cred.ecosystem
        line = f"stored at {where(cred, ctx.home)}, sent by {clients}"
        if line not in evidence:
            evidence.append(line)
    return replace(primary, evidence=tuple(evidence),
                   credentials=tuple(c for c in ids[1:] if c),
                   remediation=rotate_first(primary.remediation, len(creds)))


def rotate_first(rem: Remediation | None, places: int) -> Remediation:
    """``hardoctor fix --token-stdin`` leads; the manual steps follow."""
    where_ = "every place it is stored" if places != 1 else "the place it is stored"
    summary = (f"Get a new token, then let hardoctor check it and put it in {where_}: "
               "`hardoctor fix --token-stdin` (shows the diff; --apply writes, with a backup).")
    if rem is None:
        return Remediation(summary, commands=("read -rs TOKEN", ROTATE))
    if ROTATE in rem.commands:
        return rem
    steps = tuple(rem.steps)
    if rem.summary:
        steps = (f"By hand instead: {rem.summary}", *steps)
    reads = [c for c in rem.commands if c.startswith("read -rs TOKEN")] or ["read -rs TOKEN"]
    commands = tuple(dict.fromkeys((*reads, ROTATE, *rem.commands)))
    return Remediation(summary, steps=steps, commands=commands, docs=rem.docs)


def _client_names(ctx: Context) -> dict[str, str]:
    names: dict[str, str] = {}
    if ctx.plugins is not None:
        for _, mapping in ctx.plugins.call("hardoctor_client_names"):
            names.update({str(k): str(v) for k, v in dict(mapping).items()})
    return names
