"""A credential keyed for another name of the same registry (issue 15):
``//localhost:4873/:_authToken`` while the registry is
``http://127.0.0.1:4873/``.  npm matches auth keys by comparing the
request's ``//host:port/path/`` with each key as text, so the key is never
used.  Which names are "the same registry" is the core's literal-form rule
(:func:`hardoctor.targets.same_registry_aliases`: loopback names, default
ports, letter case -- never DNS).

The safe fix adds a line with the same value under the key npm looks up,
right after the old one: the old key keeps working for whatever still uses
that name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hardoctor.fixes import digest
from hardoctor.model import Applicability, Edit, Fix
from hardoctor.targets import AliasMatch, same_registry_aliases

from . import state
from .config import Item, Layer

if TYPE_CHECKING:
    from hardoctor.context import Context

    from .resolve import Details


def alias_key(det: Details) -> tuple[str, str, Item, AliasMatch] | None:
    """The first orphan key that names the registry by another name."""
    exact = det.exact_prefix
    if not exact:
        return None
    for prefix, fld, item in det.orphans:
        m = same_registry_aliases(prefix, exact)
        if m is not None and m.kinds - {"scheme", "trailing-slash"}:
            return prefix, fld, item, m
    return None


def copy_fix(item: Item, new_key: str, ctx: Context) -> Fix | None:
    entry, path = item.entry, item.path
    st = state.get(ctx)
    if entry is None or path is None or st is None:
        return None
    layer = next((s for s in st.sources.values()
                  if isinstance(s, Layer) and s.path == path and s.text is not None), None)
    if layer is None or layer.text is None:
        return None
    text = layer.text
    if text[entry.key_start:entry.key_end] != entry.key or any(
            isinstance(s, Layer) and s.parsed is not None and any(
                e.key == new_key for e in s.parsed.entries) for s in st.sources.values()):
        return None  # quoted or escaped key, or the key exists already
    rest = text[entry.key_end:entry.end]
    return Fix(f"add `{new_key}` with the same value after line {entry.line} (the old key "
               "stays)", Applicability.SAFE,
               (Edit(path, entry.end, entry.end, "\n" + new_key + rest, digest(text)),))
