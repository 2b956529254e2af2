"""``dataclass`` and ``field``, with the class built on first use.

Every module of hardoctor and its built-in plugins imports ``dataclass`` and
``field`` from here instead of :mod:`dataclasses`.  For the type checker they
*are* the standard ones (see the ``TYPE_CHECKING`` branch), so mypy's
dataclass support, ``dataclasses.replace`` and ``dataclasses.fields`` work
unchanged.

Why: on CPython 3.11 ``@dataclass`` compiles five or six generated methods
per class with ``exec``, about 0.7 ms a class.  ``check --offline`` imports
some 170 dataclasses and instantiates fewer than 60 of them, so building them
eagerly cost about 40 % of the command's start-up (issue 14 measured it).
Here the decorator only records the options; the class is processed by the
real :func:`dataclasses.dataclass` the first time it is instantiated or
introspected (``__dataclass_fields__``, ``__match_args__``, which is what
``dataclasses.fields``/``is_dataclass``/``replace`` and class patterns read).
A class that defines its own ``__init__`` or asks for ``slots=True`` (which
makes a new class object) is processed at once, as before.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any

__all__ = ["dataclass", "field", "materialize"]

# Re-entrant: processing a class reads its bases' fields, which may process
# them; probes may instantiate a class for the first time from two threads.
_LOCK = threading.RLock()
# Attributes whose class-level access must see the processed class.
_INTROSPECTED = ("__dataclass_fields__", "__dataclass_params__", "__match_args__")


class _Pending:
    """A class attribute that processes its class when read from the class."""

    __slots__ = ("owner", "name")

    def __init__(self, owner: type, name: str) -> None:
        self.owner = owner
        self.name = name

    def __get__(self, instance: object, cls: type | None = None) -> Any:
        materialize(self.owner)
        return getattr(self.owner, self.name)


_OPTIONS: dict[type, dict[str, Any]] = {}


def materialize(cls: type) -> type:
    """Process *cls* now if it is still waiting (idempotent, thread-safe)."""
    if cls not in _OPTIONS:
        return cls
    with _LOCK:
        options = _OPTIONS.pop(cls, None)
        if options is None:
            return cls
        for name in ("__init__", *_INTROSPECTED):
            if isinstance(cls.__dict__.get(name), (_Pending, _StubInit)):
                delattr(cls, name)
        dataclasses.dataclass(cls, **options)
    return cls


class _StubInit:
    """``__init__`` until the class is processed: process it, then construct."""

    __slots__ = ("owner",)

    def __init__(self, owner: type) -> None:
        self.owner = owner

    def __get__(self, instance: object, cls: type | None = None) -> Any:
        owner = self.owner
        materialize(owner)
        init = owner.__init__  # type: ignore[misc]
        return init if instance is None else init.__get__(instance, cls)


def _defer(cls: type, options: dict[str, Any]) -> type:
    if options.get("slots") or "__init__" in cls.__dict__ or "__new__" in cls.__dict__:
        return dataclasses.dataclass(cls, **options)
    for name in _INTROSPECTED:
        if name in cls.__dict__:
            return dataclasses.dataclass(cls, **options)
    _OPTIONS[cls] = options
    setattr(cls, "__init__", _StubInit(cls))  # noqa: B010 (mypy refuses assigning a method)
    for name in _INTROSPECTED:
        setattr(cls, name, _Pending(cls, name))
    return cls


if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
    from dataclasses import field as field
else:
    field = dataclasses.field

    def dataclass(cls=None, /, **options):
        """:func:`dataclasses.dataclass`, processed on first use."""
        if cls is None:
            return lambda c: _defer(c, options)
        return _defer(cls, options)
