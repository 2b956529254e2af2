"""Reading files (the *files* role): every file Maven or Gradle reads is read
and parsed once, into a :class:`~hardoctor_maven.state.FileEntry` of the
World and the :class:`~hardoctor.model.Source` the core shows."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from hardoctor.context import Context
from hardoctor.files import FileData, read_file
from hardoctor.lazy import submodule
from hardoctor.model import Source

from . import locate
from .mvnfiles import parse_pom, parse_security, parse_settings
from .state import ECO, FileEntry, Parsed, World
from .xmlpos import XmlError

if TYPE_CHECKING:
    from . import gradle
else:  # the Gradle scanner's patterns compile only when a Gradle file is read
    gradle = submodule(__package__, "gradle")


def _source(path: str, description: str, data: FileData) -> Source:
    if data.text is None:
        return Source(id=f"maven:{path}", ecosystem=ECO, kind="file", description=description,
                      path=path, error=data.error or "unreadable")
    return Source(id=f"maven:{path}", ecosystem=ECO, kind="file", description=description,
                  path=path, text=data.text, mtime=data.mtime, mode=data.mode)


def _parser(kind: str, path: str, role: str, ctx: Context) -> Callable[[str], Parsed]:
    parsers: dict[str, Callable[[str], Parsed]] = {
        "settings": lambda text: parse_settings(text, path, role),
        "security": lambda text: parse_security(text, path),
        "pom": lambda text: parse_pom(text, path),
        "gradle-properties": lambda text: gradle.parse_properties(text),
        "gradle-script": lambda text: gradle.scan_script(text, path),
        "maven-config": lambda text: locate.parse_maven_args(text, ctx.project),
    }
    return parsers.get(kind, lambda text: None)


def read_entry(ctx: Context, w: World, path: str, kind: str, role: str,
               description: str) -> FileEntry | None:
    """The file at ``path`` read and parsed as ``kind`` (once per run: a
    file named twice is the same entry); None when it does not exist."""
    path = os.path.abspath(path)
    known = next((e for e in w.entries if e.path == path), None)
    if known is not None:
        return known
    data = read_file(ctx, path)
    if data is None:
        return None
    entry = FileEntry(path, kind, role, _source(path, description, data), text=data.text)
    w.entries.append(entry)
    if data.text is None:
        return entry
    try:
        entry.parsed = _parser(kind, path, role, ctx)(data.text)
    except XmlError as exc:
        entry.error = exc
    return entry


def mark_tracked(ctx: Context, w: World) -> None:
    """Which project files git tracks (a secret there is committed)."""
    from hardoctor.vcs import tracked

    for e in w.entries:
        # Not the global settings: an /etc kept in git (etckeeper) is no leak.
        if e.role != "global" and e.text is not None and e.kind != "security":
            e.tracked = tracked(ctx, e.path)
