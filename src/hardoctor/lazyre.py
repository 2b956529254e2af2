"""``re.compile`` for module-level patterns, compiled on first use.

Modules of hardoctor and its plugins keep their patterns at module level,
where they read best.  Compiled at import, the ~400 of them cost every run
tens of milliseconds of start-up (``re``'s parser and compiler are pure
Python), although a run uses a few dozen: the vendor body matchers, Gradle's
scanner or a parser's error table matter only when their input turns up.

:func:`compile` returns a stand-in that compiles the pattern the first time
any attribute is read (``search``, ``match``, ``pattern``...) and from then
on hands out the compiled pattern's own bound methods, so a call costs the
same as on the real :class:`re.Pattern`.  The type checker sees
:func:`re.compile` itself.  A stand-in is not an ``re.Pattern``: pass
``X.pattern`` (or the stand-in's methods) to functions that need a real one.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

__all__ = ["compile"]

_LOCK = threading.Lock()


class _LazyPattern:
    __slots__ = ("_source", "_flags", "_compiled", "__dict__")

    def __init__(self, source: str | bytes, flags: int) -> None:
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[Any] | None = None

    def _real(self) -> re.Pattern[Any]:
        compiled = self._compiled
        if compiled is None:
            with _LOCK:
                compiled = self._compiled
                if compiled is None:
                    compiled = re.compile(self._source, self._flags)
                    self._compiled = compiled
        return compiled

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not yet cached in the instance dict.
        value = getattr(self._real(), name)
        if callable(value):
            self.__dict__[name] = value  # the next lookup is a dict hit
        return value

    def __repr__(self) -> str:
        return f"lazyre.compile({self._source!r}, {self._flags})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _LazyPattern):
            return (self._source, self._flags) == (other._source, other._flags)
        return self._real() == other

    def __hash__(self) -> int:
        return hash((self._source, self._flags))

    def __copy__(self) -> _LazyPattern:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _LazyPattern:
        return self


if TYPE_CHECKING:
    from re import compile as compile
else:

    def compile(pattern, flags=0):
        """:func:`re.compile`, deferred to the pattern's first use."""
        if isinstance(pattern, re.Pattern):
            return pattern
        return _LazyPattern(pattern, int(flags))
