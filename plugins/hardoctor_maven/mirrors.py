"""maven-resolver's ``DefaultMirrorSelector``, line for line.

Which ``<mirror>`` (if any) Maven sends a repository's requests to, and so
which ``<server>`` id it looks credentials up by.  The details that bite:

* an exact ``mirrorOf`` equal to the repository id wins over every pattern,
  whatever the order of the mirrors;
* otherwise the *first* mirror whose pattern matches wins;
* the pattern is split on ``,`` and the pieces are **not trimmed**:
  ``central, !snapshots`` has a piece `` !snapshots`` that never matches
  anything (and ``!x`` only excludes when it comes before the piece that
  would match);
* ``*`` matches everything, ``external:*`` everything not on
  ``localhost``/``127.0.0.1``/``file:``, ``external:http:*`` the same but
  only plain-http URLs (Maven 3.8.1's ``maven-default-http-blocker``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit

WILDCARD = "*"
EXTERNAL_WILDCARD = "external:*"
EXTERNAL_HTTP_WILDCARD = "external:http:*"


class MirrorLike(Protocol):
    @property
    def mirror_of(self) -> str: ...

    @property
    def layouts(self) -> str: ...


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _protocol(url: str) -> str:
    i = url.find(":")
    return url[:i].lower() if i > 0 else ""


def _is_local(host: str) -> bool:
    # Exactly these two: ``::1`` or ``127.0.0.2`` count as external.
    return host in ("localhost", "127.0.0.1")


def is_external(url: str) -> bool:
    return not (_is_local(_host(url)) or _protocol(url) == "file")


def is_external_http(url: str) -> bool:
    return _protocol(url) in ("http", "dav", "dav:http", "dav+http") and not _is_local(_host(url))


def match_pattern(repo_id: str, repo_url: str, pattern: str) -> bool:
    """``DefaultMirrorSelector.matchPattern``."""
    if pattern in (WILDCARD, repo_id):
        return True
    result = False
    for piece in pattern.split(","):
        if len(piece) > 1 and piece.startswith("!"):
            if piece[1:] == repo_id:
                return False
        elif piece == repo_id:
            return True
        elif piece == EXTERNAL_WILDCARD and is_external(repo_url):
            result = True  # keep going: a later !id may still exclude
        elif (piece == EXTERNAL_HTTP_WILDCARD and is_external_http(repo_url)) or piece == WILDCARD:
            result = True
    return result


def matches_layout(layout: str, mirror_layouts: str) -> bool:
    """``matchesLayout``: an empty list means ``default,legacy``."""
    if not mirror_layouts or mirror_layouts == WILDCARD:
        return True
    if mirror_layouts == layout:
        return True
    result = False
    for piece in mirror_layouts.split(","):
        if len(piece) > 1 and piece.startswith("!"):
            if piece[1:] == layout:
                return False
        elif piece in (layout, WILDCARD):
            result = True
    return result


def _layouts(m: MirrorLike) -> str:
    return m.layouts or "default,legacy"


def select_mirror(
    repo_id: str, repo_url: str, mirrors: Sequence[MirrorLike], layout: str = "default"
) -> tuple[int, str] | None:
    """(index into ``mirrors``, ``"exact"`` or ``"pattern"``) of the mirror
    Maven uses for the repository, or None."""
    if not repo_id or not mirrors:
        return None
    for i, m in enumerate(mirrors):
        if repo_id == m.mirror_of and matches_layout(layout, _layouts(m)):
            return i, "exact"
    for i, m in enumerate(mirrors):
        if match_pattern(repo_id, repo_url, m.mirror_of) and matches_layout(layout, _layouts(m)):
            return i, "pattern"
    return None


def untrimmed_pieces(pattern: str) -> list[str]:
    """Pieces of a ``mirrorOf`` list with whitespace that stops them from
    ever matching."""
    if "," not in pattern:
        return []
    return [p for p in pattern.split(",") if p != p.strip()]


def would_match_trimmed(repo_id: str, repo_url: str, pattern: str) -> bool:
    """Would the repository match once the pieces are trimmed?"""
    fixed = ",".join(p.strip() for p in pattern.split(","))
    return match_pattern(repo_id, repo_url, fixed)
