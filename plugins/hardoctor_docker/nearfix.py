"""The safe fix for a near-miss key: the credential is stored under another
name of the same registry (``localhost:5000`` while pulling
``127.0.0.1:5000/...``, ``host:443`` for ``host``), so the client never finds
it.  Renaming the key could break what still uses the old name; adding a
copy of the entry under the key the client looks up cannot: the client
then finds it, and the old entry keeps working for the old name.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from hardoctor import lazyre
from hardoctor.fixes import digest
from hardoctor.model import Applicability, Edit, Finding, Fix

from .config import FilePayload, canonical_key, key_host
from .state import SOURCES

if TYPE_CHECKING:
    from hardoctor.context import Context

_KEY = lazyre.compile(r'auths\["(?P<key>[^"]+)"\]')


def add_key_fix(finding: Finding, ctx: Context) -> Fix | None:
    """For a ``credential-not-matched`` finding that points at an
    ``auths`` entry: a copy of that entry under the registry's own key."""
    loc = finding.location
    host = finding.registry
    if loc is None or not loc.path or not loc.key or not host:
        return None
    m = _KEY.search(loc.key)
    src = ctx.stash.get(SOURCES, {}).get(loc.path)
    payload = src.payload if src is not None else None
    doc = payload.config if isinstance(payload, FilePayload) else None
    if m is None or doc is None or doc.error is not None or src is None or src.kind != "file":
        return None
    want = canonical_key(host)
    if any(e.key == want or key_host(e.key) == want for e in doc.entries):
        return None  # something already answers for that name
    entry = next((e for e in doc.entries if e.key == m.group("key")), None)
    if entry is None:
        return None
    text = doc.text
    value = entry.member.value
    body = text[value.start:value.end]
    indent = _indent_before(text, entry.member.key_start)
    new = f"{json.dumps(want)}: {body},{indent}"
    return Fix(f"add the entry under {want!r}, the key the client looks up (the "
               f"{entry.key!r} entry stays for what still uses that name)",
               Applicability.SAFE,
               (Edit(loc.path, entry.member.key_start, entry.member.key_start, new,
                     digest(text)),))


def _indent_before(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos)
    if start < 0:
        return " "
    between = text[start:pos]
    return between if between.strip() == "" else " "
