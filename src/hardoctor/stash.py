"""Typed per-run state: :class:`Stash` and :class:`StashKey`.

The same pattern as pytest's ``Stash``: a plugin creates a module-level
``KEY = StashKey[T]()`` and reads and writes ``ctx.stash[KEY]``.  The key
object *is* the namespace (two plugins can never collide on a string), and
the value type travels with the key, so ``mypy --strict`` checks every read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")
D = TypeVar("D")


class StashKey(Generic[T]):
    """A key into a :class:`Stash`; compare by identity.  ``name`` is only
    for ``repr`` and debugging."""

    __slots__ = ("name",)

    def __init__(self, name: str = "") -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<StashKey {self.name or hex(id(self))}>"


class Stash:
    """A mapping from :class:`StashKey` ``[T]`` to ``T``, one per run."""

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: dict[StashKey[object], object] = {}

    def __setitem__(self, key: StashKey[T], value: T) -> None:
        self._data[cast("StashKey[object]", key)] = value

    def __getitem__(self, key: StashKey[T]) -> T:
        return cast(T, self._data[cast("StashKey[object]", key)])

    def get(self, key: StashKey[T], default: D) -> T | D:
        try:
            return self[key]
        except KeyError:
            return default

    def setdefault(self, key: StashKey[T], default: T) -> T:
        try:
            return self[key]
        except KeyError:
            self[key] = default
            return default

    def compute(self, key: StashKey[T], factory: Callable[[], T]) -> T:
        """The value for ``key``, computed by ``factory`` the first time."""
        try:
            return self[key]
        except KeyError:
            value = factory()
            self[key] = value
            return value

    def __delitem__(self, key: StashKey[T]) -> None:
        del self._data[cast("StashKey[object]", key)]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def items(self) -> list[tuple[StashKey[object], object]]:
        """Every (key, value), for tests that inspect a run's whole state
        (e.g. that no stored object shows a secret in its repr)."""
        return list(self._data.items())

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        # Keys only: values may hold parsed configs (which hold Secrets).
        return f"<Stash {len(self._data)} keys>"
