"""The edits behind the plugin's fixes, shared by the lint and the diagnosis
(part of the *lint* role): renaming a server id, replacing an element's
text, and the unsafe ``<server>`` skeleton."""

from __future__ import annotations

from collections.abc import Callable

from hardoctor.fixes import digest
from hardoctor.model import Applicability, Edit, Fix

from .state import FileEntry, ServerView, World
from .xmlpos import XElem, escape_text, text_span

ENCRYPT_DOCS = "https://maven.apache.org/guides/mini/guide-encryption.html"
SETTINGS_DOCS = "https://maven.apache.org/settings.html#servers"
#: The variables the ``<server>`` skeleton reads.  Their names are what
#: users of earlier releases export (docs, CI jobs), so they stay as they are.
USER_VAR = "HARNESS_USERNAME"
TOKEN_VAR = "HARNESS_TOKEN"
_READS = f"${{env.{USER_VAR}}} and ${{env.{TOKEN_VAR}}} (set them before running Maven)"


def text_edit(entry: FileEntry, elem: XElem, new_value: str) -> Edit:
    """Replace the trimmed text of ``elem`` (whitespace around it kept)."""
    assert entry.text is not None
    start, end = text_span(entry.text, elem)
    return Edit(entry.path, start, end, escape_text(new_value), digest(entry.text))


def rename_server_fix(view: ServerView, new_id: str) -> Fix | None:
    """Rename a server's id -- in the user's own settings only (a global
    file is shared and usually not the user's to edit)."""
    elem = view.server.id_elem
    if elem is None or view.entry.text is None or view.entry.role != "user":
        return None
    return Fix(f"rename <server> id {view.id!r} to {new_id!r} in "
               f"{view.entry.path}:{elem.line}", Applicability.SAFE,
               (text_edit(view.entry, elem, new_id),))


def server_snippet(server_id: str) -> str:
    return (f"<server><id>{server_id}</id><username>${{env.{USER_VAR}}}</username>"
            f"<password>${{env.{TOKEN_VAR}}}</password></server>")


def _skeleton(server_id: str, indent: str, nl: str, esc: Callable[[str], str]) -> str:
    inner = indent + "  "
    return (f"{indent}<server>{nl}"
            f"{inner}<id>{esc(server_id)}</id>{nl}"
            f"{inner}<username>${{env.{USER_VAR}}}</username>{nl}"
            f"{inner}<password>${{env.{TOKEN_VAR}}}</password>{nl}"
            f"{indent}</server>{nl}")


def _new_settings(w: World, server_id: str) -> Fix:
    """No user settings yet: create the file (undo deletes it again)."""
    from hardoctor.fixes import ABSENT

    text = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<settings xmlns=\"http://maven.apache.org/SETTINGS/1.0.0\">\n  <servers>\n"
            + _skeleton(server_id, "    ", "\n", escape_text) + "  </servers>\n</settings>\n")
    return Fix(f"create {w.user_settings_path} with <server> {server_id!r} reading {_READS}",
               Applicability.UNSAFE, (Edit(w.user_settings_path, 0, 0, text, ABSENT, 0o600),))


def add_server_fix(w: World, server_id: str) -> Fix | None:
    """The unsafe fix of a missing ``<server>``: one reading its values from
    the environment, in the user settings (created when missing)."""
    from .mvnfiles import SettingsFile
    from .xmlpos import indent_of, newline_of

    entry = w.user
    if entry is None:
        return _new_settings(w, server_id)
    if entry.text is None or not isinstance(entry.parsed, SettingsFile):
        return None
    text = entry.text
    nl = newline_of(text)
    root = entry.parsed.doc.root
    servers = entry.parsed.servers_elem
    if servers is not None and not servers.self_closing:
        first = servers.children[0] if servers.children else None
        close_indent = indent_of(text, servers.inner_end)
        child = indent_of(text, first.start) if first is not None else close_indent + "  "
        pos = servers.inner_end - len(close_indent)
        lead = "" if text[:pos].endswith(("\n",)) else nl
        block = _skeleton(server_id, child, nl, escape_text)
        edit = Edit(entry.path, pos, pos, lead + block, digest(text))
    else:
        first = root.children[0] if root.children else None
        indent = indent_of(text, first.start) if first is not None else "  "
        block = (f"{indent}<servers>{nl}" + _skeleton(server_id, indent + "  ", nl, escape_text)
                 + f"{indent}</servers>")
        if servers is not None:  # <servers/>
            edit = Edit(entry.path, servers.start, servers.end, block.lstrip(), digest(text))
        else:
            edit = Edit(entry.path, root.inner_start, root.inner_start, nl + block, digest(text))
    return Fix(f"add <server> {server_id!r} to {entry.path} reading {_READS}",
               Applicability.UNSAFE, (edit,))
