"""A strict JSON parser that remembers where every value is.

Plugins report findings at ``file:line:column`` and repair files by replacing
character ranges, so they need the position of each key and value, not just
the data.  :func:`parse` accepts exactly what RFC 8259 allows (the same as
``json.loads`` minus ``NaN``/``Infinity``, which Go's ``encoding/json`` -- and
so Docker -- rejects) and returns a tree of :class:`Node`.

Offsets are character indices into the text given to :func:`parse`, so an
edit built from them applies to that same text.  A UTF-8 byte order mark at
the very start is tolerated (Python's ``utf-8`` codec keeps it as ``U+FEFF``);
:func:`has_bom` tells a plugin to report it, because Go's ``encoding/json``
fails on it.

Duplicate keys: ``Node.value`` keeps the *last* value, as both ``json.loads``
and Go's ``encoding/json`` do for a plain field.  (Go decoding two objects
into the same map field *merges* them; plugins that care walk
``Node.members``, which keeps every member in order, duplicates included.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from hardoctor import lazyre
from hardoctor.parsing import json_problem
from hardoctor.records import dataclass, field

__all__ = [
    "BOM",
    "MAX_DEPTH",
    "JSONSpanError",
    "Member",
    "Node",
    "find_members",
    "has_bom",
    "line_col",
    "member",
    "parse",
    "remove_member",
    "rename_key",
    "replace_value",
]

Kind = Literal["object", "array", "string", "number", "true", "false", "null"]

BOM = "\ufeff"
#: Deeper documents are refused: no real config nests this far, and a bound
#: keeps memory predictable for hostile input.
MAX_DEPTH = 500

_WS = " \t\n\r"
# ASCII digits only: json.loads' C scanner does not accept other Unicode
# digits (``\d`` would).
_NUMBER = lazyre.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# The stdlib's (C) string scanner: exact json.loads escapes, errors and
# speed.  typeshed does not declare it, hence the annotation.
_scanstring: Callable[[str, int, bool], tuple[str, int]]
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]
_LITERALS: dict[str, tuple[Kind, Any]] = {
    "true": ("true", True),
    "false": ("false", False),
    "null": ("null", None),
}


class JSONSpanError(ValueError):
    """Invalid JSON, with the position of the problem (1-based line/column)."""

    def __init__(self, msg: str, pos: int, line: int, column: int) -> None:
        super().__init__(f"{msg}: line {line} column {column} (char {pos})")
        self.msg = msg
        self.pos = pos
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Node:
    """One JSON value and the ``[start, end)`` range of its text.

    ``value`` is what ``json.loads`` would return for that range (shared with
    the parent's value: do not mutate it).  ``repr`` leaves the value out:
    config files hold tokens, and a node in an error message must not leak
    one.
    """

    value: Any = field(repr=False)
    start: int
    end: int
    kind: Kind
    #: Object members in document order, duplicates included.
    members: tuple[Member, ...] = field(default=(), repr=False)
    #: Array items in order.
    items: tuple[Node, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Member:
    """``"key": value`` inside an object; ``key_start``/``key_end`` span the
    key token including its quotes."""

    key: str
    key_start: int
    key_end: int
    value: Node


def line_col(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of ``pos``, counted as ``json`` does (lines end
    at ``\\n``; columns count characters)."""
    line = text.count("\n", 0, pos) + 1
    column = pos - text.rfind("\n", 0, pos)
    return line, column


def has_bom(text: str) -> bool:
    return text.startswith(BOM)


def _error(text: str, msg: str, pos: int) -> JSONSpanError:
    line, column = line_col(text, pos)
    # A fixed category, never decoder text (which could quote the input).
    return JSONSpanError(json_problem(msg, line, column).category, pos, line, column)


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in _WS:
        pos += 1
    return pos


@dataclass
class _Open:
    """A container whose closing bracket has not been read yet."""

    kind: Literal["object", "array"]
    start: int
    members: list[Member]
    items: list[Node]
    # The key read before the value being parsed (objects only).
    key: tuple[str, int, int] | None = None

    @property
    def closer(self) -> str:
        return "}" if self.kind == "object" else "]"

    def add(self, node: Node) -> None:
        if self.key is None:
            self.items.append(node)
        else:
            key, start, end = self.key
            self.members.append(Member(key, start, end, node))
            self.key = None

    def close(self, end: int) -> Node:
        if self.kind == "object":
            # A dict comprehension keeps the last duplicate, like json.loads.
            value: Any = {m.key: m.value.value for m in self.members}
            return Node(value, self.start, end, "object", members=tuple(self.members))
        return Node(
            [n.value for n in self.items], self.start, end, "array", items=tuple(self.items)
        )


def _read_key(text: str, pos: int, frame: _Open) -> int:
    """Read ``"key" :`` at ``pos``; return where the value starts."""
    if not text.startswith('"', pos):
        raise _error(text, "Expecting property name enclosed in double quotes", pos)
    key, end = _string(text, pos)
    frame.key = (key, pos, end)
    pos = _skip_ws(text, end)
    if not text.startswith(":", pos):
        raise _error(text, "Expecting ':' delimiter", pos)
    return _skip_ws(text, pos + 1)


def _string(text: str, pos: int) -> tuple[str, int]:
    try:
        return _scanstring(text, pos + 1, True)
    except json.JSONDecodeError as exc:
        raise _error(text, exc.msg, exc.pos) from None


def _scalar(text: str, pos: int) -> Node:
    ch = text[pos : pos + 1]
    if ch == '"':
        value, end = _string(text, pos)
        return Node(value, pos, end, "string")
    for word, (kind, literal) in _LITERALS.items():
        if text.startswith(word, pos):
            return Node(literal, pos, pos + len(word), kind)
    match = _NUMBER.match(text, pos)
    if match is None:
        raise _error(text, "Expecting value", pos)
    number = match.group()
    if match.group(1) or match.group(2):
        return Node(float(number), pos, match.end(), "number")
    try:
        return Node(int(number), pos, match.end(), "number")
    except ValueError:  # more digits than sys.get_int_max_str_digits() allows
        raise _error(text, "Number too long", pos) from None


def parse(text: str) -> Node:
    """Parse ``text`` (one JSON document) into a :class:`Node` tree.

    Raises :class:`JSONSpanError` -- and nothing else -- for any invalid
    input.  Iterative rather than recursive, so depth is limited by
    :data:`MAX_DEPTH`, not by Python's stack.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() needs str, not {type(text).__name__}")
    stack: list[_Open] = []
    pos = _skip_ws(text, 1 if has_bom(text) else 0)
    while True:
        # Here a value starts at ``pos``.
        node: Node
        ch = text[pos : pos + 1]
        if ch in ("{", "["):
            if len(stack) >= MAX_DEPTH:
                raise _error(text, "nesting too deep", pos)
            frame = _Open("object" if ch == "{" else "array", pos, [], [])
            stack.append(frame)
            pos = _skip_ws(text, pos + 1)
            if text.startswith(frame.closer, pos):
                stack.pop()
                node = frame.close(pos + 1)
                pos += 1
            elif frame.kind == "object":
                pos = _read_key(text, pos, frame)
                continue
            else:
                continue
        else:
            node = _scalar(text, pos)
            pos = node.end
        # A value is complete: hand it to its container, closing every
        # container that ends right after it, until one wants another value.
        while True:
            if not stack:
                pos = _skip_ws(text, pos)
                if pos != len(text):
                    raise _error(text, "Extra data", pos)
                return node
            frame = stack[-1]
            frame.add(node)
            pos = _skip_ws(text, pos)
            ch = text[pos : pos + 1]
            if ch == ",":
                comma = pos
                pos = _skip_ws(text, pos + 1)
                if text.startswith(frame.closer, pos):
                    # Python 3.13's wording; a trailing comma is the most
                    # common hand-editing mistake, so name it.
                    raise _error(text, f"Illegal trailing comma before end of {frame.kind}", comma)
                if frame.kind == "object":
                    pos = _read_key(text, pos, frame)
                break
            if ch == frame.closer:
                stack.pop()
                node = frame.close(pos + 1)
                pos += 1
                continue
            raise _error(text, "Expecting ',' delimiter", pos)


def find_members(node: Node, key: str, casefold: bool = False) -> list[Member]:
    """Every member of object ``node`` named ``key``, in document order."""
    if casefold:
        folded = key.casefold()
        return [m for m in node.members if m.key.casefold() == folded]
    return [m for m in node.members if m.key == key]


def member(node: Node, key: str, casefold: bool = False) -> Member | None:
    """The member of object ``node`` named ``key`` whose value counts: the
    last one.  ``casefold=True`` matches names case-insensitively, as Go's
    ``encoding/json`` (and so Docker) matches struct field names."""
    found = find_members(node, key, casefold)
    return found[-1] if found else None


def rename_key(m: Member, new_key: str) -> tuple[int, int, str]:
    """Edit renaming the key of ``m`` (the quotes are part of the range)."""
    return m.key_start, m.key_end, json.dumps(new_key)


def replace_value(node: Node, new_value: Any) -> tuple[int, int, str]:
    """Edit replacing ``node`` by ``new_value`` serialised on one line."""
    return node.start, node.end, json.dumps(new_value)


def remove_member(text: str, obj: Node, m: Member) -> tuple[int, int, str]:
    """Edit deleting member ``m`` from object ``obj`` of ``text``.

    Exactly one comma goes with it, and the layout stays as it was: a
    non-last member is removed up to where the next member starts (so the
    next takes its place and indentation), the last member together with the
    comma after the previous value (plus its trailing blanks when a newline
    follows), and an only member leaves ``{}``.
    """
    if obj.kind != "object" or text[obj.start : obj.start + 1] != "{":
        raise ValueError("remove_member() needs an object node of this text")
    index = next((i for i, x in enumerate(obj.members) if x is m or x == m), None)
    if index is None:
        raise ValueError(f"{m.key!r} is not a member of this object")
    members = obj.members
    if len(members) == 1:
        return obj.start + 1, obj.end - 1, ""
    if index + 1 < len(members):
        return m.key_start, members[index + 1].key_start, ""
    end = m.value.end
    blank = end
    while blank < len(text) and text[blank] in " \t":
        blank += 1
    if text.startswith(("\n", "\r"), blank):
        end = blank  # trailing blanks of the removed line must not linger
    return members[index - 1].value.end, end, ""
