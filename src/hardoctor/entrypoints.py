"""Entry points of one group, read from the installed distributions.

This is what ``importlib.metadata.entry_points(group=...)`` answers, for the
shape every installer writes (a ``NAME-VERSION.dist-info`` or ``.egg-info``
directory with an ``entry_points.txt`` in a directory on ``sys.path``), read
without the package.

Why not the standard library: importing :mod:`importlib.metadata` (it pulls in
``email``, ``zipfile``, ``csv`` and ``inspect``) and building a Distribution for
every installed package took about 25 ms of every run here, a fifth of
``check --offline``'s whole budget (issue 14).  The semantics kept are the
ones that matter for plugins: ``sys.path`` order, the first distribution of a
normalised name wins (later copies are shadowed, as ``importlib.metadata``
de-duplicates them), and the ``entry_points.txt`` syntax (``[group]``
sections, ``name = value`` lines, ``#``/``;`` comments).  Not read: zipped
eggs and archives on ``sys.path``, which no current installer produces.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable
from typing import Any

from hardoctor.records import dataclass

__all__ = ["PluginEntry", "entry_points"]

_SUFFIXES = (".dist-info", ".egg-info")
#: A metadata file is a few KiB; a larger one is not read past this.
_MAX_METADATA = 256 * 1024


@dataclass(frozen=True)
class PluginEntry:
    """One ``name = module[:attr]`` line of a group, and its distribution."""

    name: str
    value: str
    group: str
    distribution: str | None = None
    version: str | None = None

    def load(self) -> Any:
        """Import the module and follow the attribute path, as
        ``EntryPoint.load`` does (extras in ``[...]`` are ignored)."""
        target = self.value.split("[", 1)[0].strip()
        module_name, _, attrs = target.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _read(path: str, marker: str = "") -> str | None:
    """The file's text (if it mentions ``marker`` at all: most distributions'
    entry points are console scripts).  One raw read is cheaper than a text
    file object, and this runs for every installed distribution on every
    start."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, _MAX_METADATA)
    except OSError:
        return None
    finally:
        os.close(fd)
    if marker.encode() not in data:
        return None
    return data.decode("utf-8", "replace")


def _headers(meta_dir: str) -> tuple[str | None, str | None]:
    """``Name`` and ``Version`` from METADATA (or PKG-INFO), headers only."""
    text = _read(os.path.join(meta_dir, "METADATA")) or _read(os.path.join(meta_dir, "PKG-INFO"))
    name = version = None
    for line in (text or "").splitlines():
        if not line.strip():
            break  # the headers end at the first blank line
        key, _, val = line.partition(":")
        key = key.strip().lower()
        if key == "name" and name is None:
            name = val.strip()
        elif key == "version" and version is None:
            version = val.strip()
    return name, version


def _group_lines(text: str, group: str) -> Iterable[tuple[str, str]]:
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        if current != group or "=" not in line:
            continue
        name, _, value = line.partition("=")
        if name.strip() and value.strip():
            yield name.strip(), value.strip()


def _meta_dirs(entry: str) -> Iterable[tuple[str, str]]:
    """(normalised distribution name, metadata directory) in one path entry."""
    try:
        names = sorted(os.listdir(entry or "."))
    except OSError:  # missing, not a directory, a zip archive
        return
    for name in names:
        if not name.lower().endswith(_SUFFIXES):
            continue
        stem = name.rsplit(".", 1)[0]
        yield _normalise(stem.split("-", 1)[0]), os.path.join(entry or ".", name)


def entry_points(group: str, path: Iterable[str] | None = None) -> list[PluginEntry]:
    """Every entry point of *group* visible on *path* (default ``sys.path``)."""
    seen: set[str] = set()
    found: list[PluginEntry] = []
    for entry in list(sys.path if path is None else path):
        if not isinstance(entry, str):
            continue
        for dist, meta_dir in _meta_dirs(entry):
            if dist in seen:
                continue
            seen.add(dist)
            text = _read(os.path.join(meta_dir, "entry_points.txt"), f"[{group}]")
            lines = list(_group_lines(text, group)) if text else []
            if not lines:
                continue
            name, version = _headers(meta_dir)
            found.extend(PluginEntry(n, v, group, name, version) for n, v in lines)
    return found
