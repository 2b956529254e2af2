"""The one place secrets become safe text.

Every :class:`hardoctor.model.Secret` registers its value here when it is
created.  Reporters pass their final text through :func:`scrub`, and so do the
error paths (plugin exceptions, helper stderr), so a secret that slipped into a
message by mistake is still replaced by its fingerprint before anyone sees it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading

#: Values shorter than this are not scrubbed: replacing every "ab" in a report
#: would garble it, and such a value is not a usable secret anyway.
MIN_LENGTH = 4

_lock = threading.RLock()  # re-entrant: snapshot/restore may run under it
_known: dict[str, str] = {}
#: One compiled alternation of every known form, longest first; rebuilt only
#: after a registration (scrub is called once per string of a report).
_pattern: re.Pattern[str] | None = None


def _fp(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def register(value: str, alias_of: str | None = None) -> None:
    """Remember a secret (and its common encodings) for :func:`scrub`.

    ``alias_of``: ``value`` is another form of that secret (percent-encoded,
    escaped, encrypted) and is shown with *its* fingerprint, so a diff names
    the token a person knows."""
    if not isinstance(value, str) or len(value.strip()) < MIN_LENGTH:
        return
    mark = f"<secret #{_fp(alias_of if alias_of is not None else value)}>"
    forms = {value, value.strip()}
    raw = value.encode("utf-8", "surrogatepass")
    forms.add(base64.b64encode(raw).decode())
    forms.add(base64.b64encode(raw).decode().rstrip("="))
    forms.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    global _pattern
    with _lock:
        for form in forms:
            if len(form) >= MIN_LENGTH and form not in _known:
                _known[form] = mark
                _pattern = None


def scrub(text: str) -> str:
    """Replace every registered secret in ``text`` by its fingerprint."""
    global _pattern
    if not _known or not text:
        return text
    with _lock:
        if _pattern is None:
            forms = sorted(_known, key=len, reverse=True)
            _pattern = re.compile("|".join(map(re.escape, forms)))
        pattern, known = _pattern, _known
    return pattern.sub(lambda m: known.get(m.group(0), m.group(0)), text)


def mask(value: str | None) -> str:
    """Show a secret's shape, never its content: ``<secret #1a2b3c4d>``."""
    if not value:
        return "<empty>"
    return f"<secret #{_fp(value)}>"


def clear() -> None:
    """Forget every registered secret (tests use this between runs)."""
    global _pattern
    with _lock:
        _known.clear()
        _pattern = None


def snapshot() -> dict[str, str]:
    """Every registered form and its mark (for tests that isolate a run)."""
    with _lock:
        return dict(_known)


def restore(saved: dict[str, str]) -> None:
    """Put back what :func:`snapshot` returned."""
    global _pattern
    with _lock:
        _known.clear()
        _known.update(saved)
        _pattern = None
