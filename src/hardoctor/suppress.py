"""Silencing findings, ruff's way.

- ``--select`` / ``--ignore`` / ``--extend-ignore`` (and the same keys in a
  config file) take rule codes or prefixes (``NPM``, ``DKR02``, ``TOK001``).
- An inline comment on the finding's line, or on a comment line just
  above it, silences it there: ``# hardoctor: ignore[NPM010]``,
  ``; hardoctor: ignore[PIP003, PIP0]`` in INI files,
  ``<!-- hardoctor: ignore[MVN003] -->`` in XML, ``// ...`` where ``//``
  starts comments.  ``# hardoctor: ignore`` without codes silences every
  rule on that line.
- ``# hardoctor: ignore-file[PIP012]`` anywhere in a file silences those
  rules for every finding in that file, also the findings about the whole
  file (no line).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from hardoctor import lazyre
from hardoctor.model import Finding

#: Only the first part of a huge file is searched for comments.
MAX_SCAN_BYTES = 1024 * 1024
_COMMENT = lazyre.compile(
    r"(?:#|;|//|<!--)\s*hardoctor:\s*ignore(?:\[(?P<codes>[A-Za-z0-9_,\s]*)\])?",
)
_COMMENT_ONLY = lazyre.compile(r"^\s*(?:#|;|//|<!--)")
_FILE_COMMENT = lazyre.compile(
    r"(?:#|;|//|<!--)\s*hardoctor:\s*ignore-file\[(?P<codes>[A-Za-z0-9_,\s]*)\]",
)


def _matches(code: str, prefixes: Iterable[str]) -> bool:
    return any(code.startswith(p) for p in prefixes)


def rule_enabled(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Ruff's rule: selected (everything when ``select`` is empty) and not
    ignored; a more specific ``select`` beats a shorter ``ignore`` prefix."""
    code = code.upper()
    sel = [s.strip().upper() for s in select if s.strip()]
    ign = [s.strip().upper() for s in ignore if s.strip()]
    chosen = max((len(p) for p in sel if code.startswith(p)), default=-1 if sel else 0)
    dropped = max((len(p) for p in ign if code.startswith(p)), default=-1)
    if chosen < 0:
        return False
    return dropped < 0 or chosen > dropped


class InlineSuppressions:
    """Reads the lines findings point at (each file once, size-capped)."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}

    def _file(self, path: str) -> list[str] | None:
        if path not in self._lines:
            lines: list[str] | None = None
            try:
                if os.path.isfile(path):
                    with open(path, encoding="utf-8", errors="replace") as fh:
                        lines = fh.read(MAX_SCAN_BYTES).splitlines()
            except OSError:
                lines = None
            self._lines[path] = lines
        return self._lines[path]

    def _file_codes(self, path: str) -> list[str]:
        lines = self._file(path) or []
        return [c.strip().upper() for line in lines if "ignore-file" in line
                for m in _FILE_COMMENT.finditer(line) for c in m.group("codes").split(",")
                if c.strip()]

    def silenced(self, finding: Finding) -> bool:
        loc = finding.location
        if loc is None or not loc.path:
            return False
        if _matches(finding.rule.upper(), self._file_codes(loc.path)):
            return True
        if not loc.line:
            return False
        lines = self._file(loc.path)
        if not lines or loc.line > len(lines):
            return False
        candidates = [lines[loc.line - 1]]
        # The line above counts when it is a comment of its own (a comment
        # line placed over the entry), never another entry's trailing one.
        if loc.line >= 2 and _COMMENT_ONLY.match(lines[loc.line - 2]):
            candidates.append(lines[loc.line - 2])
        for line in candidates:
            for m in _COMMENT.finditer(line):
                codes = m.group("codes")
                if codes is None:
                    return True
                wanted = [c.strip().upper() for c in codes.split(",") if c.strip()]
                if _matches(finding.rule.upper(), wanted):
                    return True
        return False


def apply(findings: Sequence[Finding], select: Sequence[str], ignore: Sequence[str],
          inline: bool = True) -> tuple[list[Finding], int]:
    """The findings that stay, and how many were silenced."""
    comments = InlineSuppressions() if inline else None
    kept: list[Finding] = []
    for f in findings:
        if not rule_enabled(f.rule, select, ignore):
            continue
        if comments is not None and comments.silenced(f):
            continue
        kept.append(f)
    return kept, len(findings) - len(kept)
