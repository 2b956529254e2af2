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

The methods :mod:`dataclasses` generates are source text it hands to
``exec``; compiling that text is most of the cost.  Like the interpreter's
own ``.pyc`` files, the compiled code is kept in this package's
``__pycache__`` (``records-code.<tag>.marshal``, keyed by the exact source
text and the interpreter's bytecode magic number), so a later run executes
the cached code instead of compiling again.  Only code that ``dataclasses``
generated from our own class definitions goes in; a missing, unreadable,
foreign or oversized file is ignored, and nothing is written when the
directory is read-only, or when bytecode writing is off
(``PYTHONDONTWRITEBYTECODE``) and the package was not compiled at install.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import dataclasses
import marshal
import os
import sys
import threading
from types import CodeType
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


class _CodeCache:
    """Compiled ``dataclasses`` method source, persisted beside the .pyc files."""

    #: A cache larger than this is not read (and is started afresh).
    MAX_BYTES = 8 * 1024 * 1024
    #: Every dataclass of hardoctor and its plugins is ~1,000 entries; past
    #: this (old versions of edited classes pile up in a checkout) the file
    #: is rewritten with what this process used.
    MAX_ENTRIES = 2000

    def __init__(self, path: str) -> None:
        from importlib.util import MAGIC_NUMBER

        self.path = path
        self.header = b"hardoctor-records/2\0" + MAGIC_NUMBER
        self.code: dict[str, bytes] | None = None
        self.used: set[str] = set()
        self.dirty = False

    def _load(self) -> dict[str, bytes]:
        """source text -> marshalled code, each entry unmarshalled only when
        its class is processed (a run uses a fraction of the entries)."""
        entries: dict[str, bytes] = {}
        try:
            with open(self.path, "rb") as fh:
                data = fh.read(self.MAX_BYTES + 1)
            if len(data) <= self.MAX_BYTES and data.startswith(self.header):
                loaded = marshal.loads(data[len(self.header):])
                if isinstance(loaded, dict):
                    entries = {k: v for k, v in loaded.items()
                               if isinstance(k, str) and isinstance(v, bytes)}
        except (OSError, ValueError, EOFError, TypeError):
            pass
        return entries

    def _cached(self, source: str) -> CodeType | None:
        if self.code is None:
            self.code = self._load()
        raw = self.code.get(source)
        if raw is None:
            return None
        self.used.add(source)
        try:
            code = marshal.loads(raw)
        except (ValueError, EOFError, TypeError):
            return None
        return code if isinstance(code, CodeType) else None

    def exec(self, source: object, globals: Any = None, locals: Any = None) -> None:
        """``exec`` for the dataclasses module: compile once, reuse after."""
        if not isinstance(source, str):
            builtins.exec(source, globals, locals)  # type: ignore[arg-type]
            return
        code = self._cached(source)
        if code is None:
            # As exec(str) in dataclasses.py compiles it: no __future__ flags.
            code = compile(source, "<string>", "exec", dont_inherit=True)
            assert self.code is not None
            self.code[source] = marshal.dumps(code)
            self.used.add(source)
            if not self.dirty and self.writable():
                self.dirty = True
                atexit.register(self.save)
        builtins.exec(code, globals, locals)

    def writable(self) -> bool:
        """Bytecode writing is on, or this package was compiled when it was
        installed (its ``__pycache__`` already holds what pip wrote, while
        ``PYTHONDONTWRITEBYTECODE`` only stops the interpreter's own writes)."""
        if not sys.dont_write_bytecode:
            return True
        from importlib.util import cache_from_source

        try:
            return os.path.exists(cache_from_source(os.path.abspath(__file__)))
        except (NotImplementedError, ValueError):
            return False

    def save(self) -> None:
        if not self.dirty or self.code is None:
            return
        self.dirty = False
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            merged = {**self._load(), **self.code}
            if len(merged) > self.MAX_ENTRIES:
                merged = {k: v for k, v in self.code.items() if k in self.used}
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(self.header + marshal.dumps(merged))
            os.replace(tmp, self.path)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(tmp)


_CACHE = _CodeCache(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "__pycache__",
    f"records-code.{sys.implementation.cache_tag or 'python'}.marshal"))


def _process(cls: type, options: dict[str, Any]) -> type:
    """``dataclasses.dataclass(cls, **options)`` with its generated methods
    compiled through the cache (the module's ``exec`` name is ours for the
    duration: dataclasses looks ``exec`` up in its own globals first)."""
    with _LOCK:
        # Re-entrant: processing a class may process its bases first.
        previous = vars(dataclasses).get("exec")
        dataclasses.exec = _CACHE.exec  # type: ignore[attr-defined]
        try:
            return dataclasses.dataclass(cls, **options)
        finally:
            if previous is None:
                vars(dataclasses).pop("exec", None)
            else:
                dataclasses.exec = previous  # type: ignore[attr-defined]


def materialize(cls: type) -> type:
    """Process *cls* now if it is still waiting (idempotent, thread-safe)."""
    if cls not in _OPTIONS:  # processed (it leaves _OPTIONS only when complete)
        return cls
    with _LOCK:
        options = _OPTIONS.get(cls)
        if options is None:
            return cls  # another thread finished it while this one waited
        for name in ("__init__", *_INTROSPECTED):
            if isinstance(cls.__dict__.get(name), (_Pending, _StubInit)):
                delattr(cls, name)
        _process(cls, options)
        del _OPTIONS[cls]
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
        return _process(cls, options)
    for name in _INTROSPECTED:
        if name in cls.__dict__:
            return _process(cls, options)
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
