"""What a registry's vendor says about an index URL
(``hardoctor_registry_info`` through ``ctx.registry_info``), and the edit
that gives a configured URL the path the vendor documents.

This plugin knows where an index URL sits in pip/uv/Poetry files; the vendor
plugin knows its URL layout.  Neither imports the other.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from hardoctor import fixes
from hardoctor.context import Context
from hardoctor.model import Applicability, Edit, Fix, RegistryInfo

from . import urls
from .model import IndexRef, Model

#: The package type pip, uv and Poetry need from a registry.
PACKAGE_TYPE = "python"


def info(ctx: Context, url: str) -> RegistryInfo | None:
    """The vendor's word on ``url`` (None: no loaded plugin owns the host)."""
    return ctx.registry_info(url, PACKAGE_TYPE)


def name(found: RegistryInfo) -> str:
    return found.display or found.vendor


def suggested_path(ctx: Context, ref: IndexRef) -> str | None:
    """The path the vendor documents for ``ref``'s URL, when it differs."""
    if ref.url is None:
        return None
    found = info(ctx, ref.bare)
    if found is None or not found.problems or not found.suggested_url:
        return None
    path = urlsplit(found.suggested_url).path
    return path if path and path != ref.url.path else None


def path_fix(ctx: Context, model: Model, ref: IndexRef) -> Fix | None:
    """The edit that replaces the path of ``ref``'s URL (userinfo, host and
    query stay as written) with the one the vendor suggests."""
    new_path = suggested_path(ctx, ref)
    if new_path is None or ref.start is None or ref.end is None or ref.path is None:
        return None
    text = model.texts.get(ref.source)
    written = ref.written if ref.written is not None else ref.raw
    if text is None or text[ref.start:ref.end] != written or "://" not in written:
        return None
    start = urls.netloc_end(written, written.index("://") + 3)
    end = urls.path_end(written)
    return Fix(f"use the documented path {new_path}", Applicability.SAFE,
               (Edit(ref.path, ref.start + start, ref.start + end, new_path,
                     fixes.digest(text)),))


def fix_at(ctx: Context, model: Model, path: str | None, line: int | None) -> Fix | None:
    """The path fix for the index URL configured at ``path``:``line``."""
    if path is None:
        return None
    for ref in model.refs:
        if ref.path == path and ref.line == line:
            fix = path_fix(ctx, model, ref)
            if fix is not None:
                return fix
    return None


def fix_for_index(ctx: Context, model: Model, index: str) -> Fix | None:
    """The path fix for the first place ``index`` (a bare URL) is configured."""
    for ref in model.refs:
        if ref.url is not None and ref.bare == index:
            fix = path_fix(ctx, model, ref)
            if fix is not None:
                return fix
    return None
