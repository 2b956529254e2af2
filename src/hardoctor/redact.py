"""The one place secrets become safe text.

Every :class:`hardoctor.model.Secret` registers its value here when it is
created.  Reporters pass their final text through :func:`scrub`, and so do the
error paths (plugin exceptions, helper stderr), so a secret that slipped into a
message by mistake is still replaced by its fingerprint before anyone sees it.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

#: Values shorter than this are not scrubbed: replacing every "ab" in a report
#: would garble it, and such a value is not a usable secret anyway.
MIN_LENGTH = 4

#: Forms are found through an Aho-Corasick automaton over their first
#: ``_ANCHOR`` characters and then verified whole: the automaton stays small
#: (a 3.5 MB token adds 32 states, not 3.5 million) and one scan of the text
#: finds every candidate, so scrubbing costs O(text + matches) whatever the
#: number and length of secrets.
_ANCHOR = 32

_lock = threading.RLock()  # re-entrant: snapshot/restore may run under it
_known: dict[str, str] = {}
#: (value, alias_of) pairs already registered: a repeat (the same token in
#: thousands of manifest objects) costs a set lookup, not five encodings.
_done: set[tuple[str, str | None]] = set()


class _Index:
    """Anchors of a set of forms and their automaton (built lazily)."""

    def __init__(self) -> None:
        #: anchor -> length -> forms of that length.  Many secrets share an
        #: anchor (every HS256 JWT starts with the same header, a cluster's
        #: ``auth`` values with the same user name), so a candidate is
        #: verified with one set lookup per distinct length, never by
        #: trying every form behind the anchor.
        self.by_anchor: dict[str, dict[int, set[str]]] = {}
        #: anchor -> its forms' distinct lengths, longest first.
        self.lengths: dict[str, list[int]] = {}
        self.count = 0
        self._automaton: Any = None

    def add(self, form: str) -> None:
        anchor = form[:_ANCHOR]
        by_len = self.by_anchor.get(anchor)
        if by_len is None:
            by_len = self.by_anchor[anchor] = {}
            self.lengths[anchor] = []
        same = by_len.get(len(form))
        if same is None:
            by_len[len(form)] = {form}
            lengths = self.lengths[anchor]
            lengths.append(len(form))
            lengths.sort(reverse=True)
        else:
            same.add(form)
        self.count += 1
        self._automaton = None

    def candidates(self, text: str) -> list[tuple[int, str]]:
        """(start, anchor) of every anchor occurrence, overlapping ones too."""
        if not self.by_anchor:
            return []
        if self._automaton is None:
            import ahocorasick_rs

            self._anchors = list(self.by_anchor)
            self._automaton = ahocorasick_rs.AhoCorasick(
                self._anchors,
                matchkind=ahocorasick_rs.MATCHKIND_STANDARD,
                implementation=ahocorasick_rs.Implementation.NoncontiguousNFA,
            )
        anchors = self._anchors
        return [(start, anchors[i]) for i, start, _ in
                self._automaton.find_matches_as_indexes(text, overlapping=True)]


#: ``_main`` holds most forms; new ones go to ``_recent`` and move into
#: ``_main`` when ``_recent`` grows past half of it, so registrations that
#: alternate with scrubs rebuild a small automaton, not the whole one
#: (amortised linear, like a growing array).
_main = _Index()
_recent = _Index()


def _clean(text: str) -> str:
    """A lone surrogate (JSON ``"\ud800"`` in a config) can neither go
    through the automaton nor be written as UTF-8: it becomes U+FFFD."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def fingerprint(value: str) -> str:
    """Stable short hash of a secret (see :func:`hardoctor.model.fingerprint`)."""
    import hashlib  # here: OpenSSL's start-up is paid only by a run that hashes

    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def register(value: str, alias_of: str | None = None) -> None:
    """Remember a secret (and its common encodings) for :func:`scrub`.

    ``alias_of``: ``value`` is another form of that secret (percent-encoded,
    escaped, encrypted) and is shown with *its* fingerprint, so a diff names
    the token a person knows."""
    if not isinstance(value, str) or len(value.strip()) < MIN_LENGTH:
        return
    if (value, alias_of) in _done:
        return
    mark = f"<secret #{fingerprint(alias_of if alias_of is not None else value)}>"
    # As scrub() sees text: a lone surrogate is U+FFFD there (and here).
    forms = {_clean(value), _clean(value.strip())}
    raw = value.encode("utf-8", "surrogatepass")
    forms.add(base64.b64encode(raw).decode())
    forms.add(base64.b64encode(raw).decode().rstrip("="))
    forms.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    global _main, _recent
    with _lock:
        for form in forms:
            if len(form) >= MIN_LENGTH and form not in _known:
                _known[form] = mark
                _recent.add(form)
        if _recent.count > max(16, _main.count // 2):
            _main, _recent = _rebuild(_known), _Index()
        _done.add((value, alias_of))


def _rebuild(known: dict[str, str]) -> _Index:
    index = _Index()
    for form in known:
        index.add(form)
    return index


def scrub(text: str) -> str:
    """Replace every registered secret in ``text`` by its fingerprint
    (leftmost, then longest, as a regex alternation of longest-first forms
    would)."""
    if not _known or not text:
        return text
    text = _clean(text)
    with _lock:
        indexes, known = (_main, _recent), _known
        found = [c for index in indexes for c in index.candidates(text)]
    if not found:
        return text
    starts: dict[int, list[str]] = {}
    for start, anchor in found:
        starts.setdefault(start, []).append(anchor)
    out: list[str] = []
    pos = 0
    for start in sorted(starts):
        if start < pos:
            continue
        form = _longest_at(text, start, starts[start], indexes)
        if form is None:
            continue
        out.append(text[pos:start])
        out.append(known[form])
        pos = start + len(form)
    out.append(text[pos:])
    return "".join(out)


def _longest_at(
    text: str, start: int, anchors: list[str], indexes: tuple[_Index, ...]
) -> str | None:
    """The longest form whose anchor was found at ``start`` and which
    ``text`` holds whole from there."""
    best: str | None = None
    for anchor in anchors:
        for index in indexes:
            by_len = index.by_anchor.get(anchor)
            if by_len is None:
                continue
            for length in index.lengths[anchor]:
                if best is not None and length <= len(best):
                    break  # longest first
                piece = text[start:start + length]
                if piece in by_len[length]:
                    best = piece
                    break
    return best


def mask(value: str | None) -> str:
    """Show a secret's shape, never its content: ``<secret #1a2b3c4d>``."""
    if not value:
        return "<empty>"
    return f"<secret #{fingerprint(value)}>"


def clear() -> None:
    """Forget every registered secret (tests use this between runs)."""
    global _main, _recent
    with _lock:
        _known.clear()
        _done.clear()
        _main, _recent = _Index(), _Index()


def snapshot() -> dict[str, str]:
    """Every registered form and its mark (for tests that isolate a run)."""
    with _lock:
        return dict(_known)


def restore(saved: dict[str, str]) -> None:
    """Put back what :func:`snapshot` returned."""
    global _main, _recent
    with _lock:
        _known.clear()
        _done.clear()
        _known.update(saved)
        _main, _recent = _rebuild(_known), _Index()
