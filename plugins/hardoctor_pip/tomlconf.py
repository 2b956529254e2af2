"""TOML files (uv.toml, pyproject.toml, Poetry's auth.toml/config.toml/
poetry.toml): values from :mod:`tomllib`, positions found by scanning the text.

``tomllib`` gives no positions, so a string value is located by scanning
the text for single-line string literals that decode (through tomllib
itself) to that value, after the table header it belongs to.  Good enough
for file:line and for fixes that replace one URL; a value that cannot be
located simply has no span (and gets no automatic fix).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from hardoctor import lazyre
from hardoctor.parsing import toml_problem
from hardoctor.records import dataclass

from .ini import line_of


@lru_cache(maxsize=1)
def _import_toml() -> Any:
    """The TOML parser, imported the first time a TOML file is read (its
    regexes cost every run a few ms of start-up otherwise)."""
    import importlib

    for name in ("tomllib", "tomli"):  # tomllib: Python 3.11+; tomli: its backport
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            continue
    return None  # pragma: no cover - Python 3.10 without tomli

_STRING = lazyre.compile(r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'')


@dataclass(frozen=True)
class TomlError:
    message: str
    line: int | None


@dataclass
class TomlDoc:
    text: str
    data: dict[str, Any] | None
    error: TomlError | None = None


def available() -> bool:
    return _import_toml() is not None


def load(text: str) -> TomlDoc:
    _toml = _import_toml()
    if _toml is None:
        return TomlDoc(text, None, TomlError("reading TOML needs Python 3.11+ or tomli", None))
    try:
        data = _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        # A category and a line, never tomllib's text (it quotes keys).
        problem = toml_problem(exc)
        line = problem.line
        if line is None and "end of document" in str(exc):
            line = line_of(text, len(text))
        return TomlDoc(text, None, TomlError(problem.category, line))
    except (ValueError, RecursionError) as exc:  # pragma: no cover - defensive
        return TomlDoc(text, None, TomlError(type(exc).__name__, None))
    return TomlDoc(text, data)


def _decode(literal: str) -> str | None:
    _toml = _import_toml()
    if _toml is None:
        return None
    if literal.startswith("'"):
        return literal[1:-1]
    if "\\" not in literal:
        return literal[1:-1]
    try:
        value = _toml.loads("x = " + literal).get("x")
    except (_toml.TOMLDecodeError, ValueError):
        return None
    return value if isinstance(value, str) else None


def find_string(text: str, value: str, after: int = 0, before: int | None = None) -> tuple[int, int] | None:
    """Span of the *content* of the first single-line string literal at or
    after ``after`` (and before ``before``) whose value is ``value``."""
    end = len(text) if before is None else before
    hint = value[:12]
    for m in _STRING.finditer(text, after, end):
        lit = m.group(0)
        if hint and hint not in lit and "\\" not in lit:
            continue
        if _decode(lit) == value:
            return m.start() + 1, m.end() - 1
    return None


def header_positions(text: str, dotted: str, array: bool) -> list[int]:
    """Offsets of ``[dotted]`` (or ``[[dotted]]``) table headers, in order.
    Whitespace around dots and quoted keys are tolerated."""
    parts = [re.escape(p) for p in dotted.split(".")]
    key = r"\s*\.\s*".join(rf"(?:{p}|\"{p}\"|'{p}')" for p in parts)
    pattern = (rf"^[ \t]*\[\[\s*{key}\s*\]\]" if array
               else rf"^[ \t]*\[(?!\[)\s*{key}\s*\]")
    return [m.start() for m in re.finditer(pattern, text, re.M)]


def next_header(text: str, pos: int) -> int:
    m = re.compile(r"^[ \t]*\[", re.M).search(text, pos + 1)
    return m.start() if m else len(text)


def get(data: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(k)
    return data
