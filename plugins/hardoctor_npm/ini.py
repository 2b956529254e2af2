"""``.npmrc`` parsing exactly as npm's ``ini`` package (v4-v6) decodes it,
keeping the position of every key and value.

npm reads the file with ``ini.parse``: lines split on runs of ``\\r``/``\\n``
(so blank lines vanish), ``;``/``#`` comment lines skipped, ``[section]``
headers open a nested object (whose keys npm then never looks at), and each
other line matches ``^([^=]+)(=(.*))?$``.  Keys and values go through
``unsafe``: trimmed (JavaScript's idea of whitespace, which includes a BOM),
quoted text JSON-decoded, and in unquoted text an unescaped ``;`` or ``#``
starts a comment.  ``key[]`` makes an array; a key without ``=`` gets the
value ``true``; the values ``true``/``false``/``null`` become JSON values.
A later line with the same key replaces the earlier one.

Environment expansion (``${VAR}``) is *not* done here: npm does it when it
loads the parsed object (:mod:`hardoctor_npm.envsubst`).
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from hardoctor import lazyre
from hardoctor.records import dataclass, field

#: What JavaScript's ``trim()`` and ``\\s`` treat as white space.
JS_WHITESPACE = (
    "\t\n\x0b\x0c\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_WS_CLASS = "[" + re.escape(JS_WHITESPACE) + "]"
#: JavaScript's ``.`` does not match these line terminators.
_JS_NOT_DOT = "\n\r\u2028\u2029"

_SECTION_RE = lazyre.compile(r"^\[([^\]]*)\]" + _WS_CLASS + "*$")
_COMMENT_RE = lazyre.compile("^" + _WS_CLASS + "*[;#]")
_BLANK_RE = lazyre.compile("^" + _WS_CLASS + "*$")
_KEY_VALUE_RE = lazyre.compile(r"^([^=]+)(=([^" + _JS_NOT_DOT + r"]*))?$")


def js_trim(text: str) -> str:
    return text.strip(JS_WHITESPACE)


def _lstrip_len(text: str) -> int:
    return len(text) - len(text.lstrip(JS_WHITESPACE))


def _rstrip_len(text: str) -> int:
    return len(text) - len(text.rstrip(JS_WHITESPACE))


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # JSON.parse knows no NaN / Infinity


def json_parse(text: str) -> tuple[bool, Any]:
    """``JSON.parse``: (ok, value)."""
    try:
        return True, json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False, None


def is_quoted(val: str) -> bool:
    return (val.startswith('"') and val.endswith('"')) or (
        val.startswith("'") and val.endswith("'")
    )


@dataclass(frozen=True)
class Unsafe:
    """The result of ini's ``unsafe()`` on a key or value, and where the
    meaningful text sits inside the raw text (offsets relative to it)."""

    value: Any
    #: Offsets of the trimmed raw text (quotes included), relative.
    start: int
    end: int
    quoted: bool = False
    #: An inline ``;``/``#`` comment followed the value.
    comment: bool = False


_UNSAFE_PIECE = lazyre.compile(r"[^\\;#]+|\\(.)|\\\Z|[;#]", re.S)
_LINE_BREAK = lazyre.compile(r"\r\n|\r|\n")


def unsafe(raw: str) -> Unsafe:
    """ini's ``unsafe``: trim, JSON-decode quoted text, strip inline comments."""
    lead = _lstrip_len(raw)
    val = js_trim(raw)
    if not val:
        return Unsafe("", lead, lead)
    if is_quoted(val):
        inner = val[1:-1] if val[0] == "'" else val
        ok, parsed = json_parse(inner)
        value: Any = parsed if ok else inner
        return Unsafe(value, lead, lead + len(val), quoted=True)
    out: list[str] = []
    cut = len(val)
    comment = False
    # Runs of plain text at C speed (a multi-megabyte token is one match).
    for m in _UNSAFE_PIECE.finditer(val):
        piece = m.group(0)
        if piece in (";", "#"):
            cut, comment = m.start(), True
            break
        if piece[0] != "\\":
            out.append(piece)
        elif m.group(1) is None:  # a backslash that ends the text
            out.append("\\")
        else:
            c = m.group(1)
            out.append(c if c in "\\;#" else "\\" + c)
    text = "".join(out)
    kept = val[:cut]
    end = lead + len(kept) - _rstrip_len(kept)
    return Unsafe(js_trim(text), lead, end, comment=comment)


def js_string(value: Any) -> str:
    """``String(value)`` as JavaScript would write it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


@dataclass(frozen=True)
class Entry:
    """One ``key = value`` line as npm reads it."""

    line: int
    #: Offsets of the whole line (without its line break) in the file text.
    start: int
    end: int
    #: The key as ini returns it (``[]`` removed), before ``${}`` expansion.
    key: str
    key_start: int
    key_end: int
    #: The value as ini returns it: a string, ``True`` (no ``=``), ``False``,
    #: ``None`` or another JSON value from a quoted string.
    value: Any
    value_start: int
    value_end: int
    has_equals: bool
    is_array: bool = False
    section: str | None = None
    quoted_value: bool = False

    @property
    def text_value(self) -> str | None:
        return self.value if isinstance(self.value, str) else None


@dataclass
class IniFile:
    text: str
    entries: list[Entry] = field(default_factory=list)
    #: (line, start, end) of lines ini skips although they are not comments.
    unparsed: list[tuple[int, int, int]] = field(default_factory=list)
    #: Top-level key -> its value as ini's object would hold it.
    values: dict[str, Any] = field(default_factory=dict)
    #: Top-level key -> the entries that set it, in file order (last wins).
    by_key: dict[str, list[Entry]] = field(default_factory=dict)

    def last(self, key: str) -> Entry | None:
        found = self.by_key.get(key)
        return found[-1] if found else None


class LineIndex:
    """Offset -> 1-based line number (``\\n``, ``\\r\\n`` and lone ``\\r``)."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def column(self, offset: int) -> int:
        return offset - self.starts[self.line(offset) - 1] + 1


def parse(text: str) -> IniFile:
    """Decode ``text`` as ``ini.parse`` does (``bracketedArray`` on)."""
    doc = IniFile(text)
    index = LineIndex(text)
    section: str | None = None
    in_ignored_section = False
    for m in re.finditer(r"[^\r\n]+", text):
        seg = m.group(0)
        start = m.start()
        if _COMMENT_RE.match(seg) or _BLANK_RE.match(seg):
            continue
        line = index.line(start)
        sm = _SECTION_RE.match(seg)
        if sm:
            name = unsafe(sm.group(1)).value
            section = js_string(name)
            in_ignored_section = section == "__proto__"
            continue
        km = _KEY_VALUE_RE.match(seg)
        if not km:
            doc.unparsed.append((line, start, start + len(seg)))
            continue
        key_u = unsafe(km.group(1))
        key_raw = js_string(key_u.value)
        is_array = len(key_raw) > 2 and key_raw.endswith("[]")
        key = key_raw[:-2] if is_array else key_raw
        if key == "__proto__" or in_ignored_section:
            continue
        has_eq = km.group(2) is not None
        if has_eq:
            vstart = start + km.start(3)
            val_u = unsafe(km.group(3))
            raw_value: Any = val_u.value
            if raw_value in ("true", "false", "null"):
                raw_value = {"true": True, "false": False, "null": None}[raw_value]
            value_start, value_end = vstart + val_u.start, vstart + val_u.end
            quoted = val_u.quoted
        else:
            raw_value = True
            value_start = value_end = start + len(seg)
            quoted = False
        entry = Entry(
            line=line,
            start=start,
            end=start + len(seg),
            key=key,
            key_start=start + key_u.start,
            key_end=start + key_u.end,
            value=raw_value,
            value_start=value_start,
            value_end=value_end,
            has_equals=has_eq,
            is_array=is_array,
            section=section,
            quoted_value=quoted,
        )
        doc.entries.append(entry)
        if section is not None:
            continue
        doc.by_key.setdefault(key, []).append(entry)
        old = doc.values.get(key)
        if is_array:
            if key not in doc.values:
                doc.values[key] = []
            elif not isinstance(old, list):
                doc.values[key] = [old]
        if isinstance(doc.values.get(key), list):
            doc.values[key].append(raw_value)
        else:
            doc.values[key] = raw_value
    return doc


def line_span(text: str, entry: Entry) -> tuple[int, int]:
    """Offsets covering ``entry``'s whole line including its line break (to
    delete the line)."""
    end = entry.end
    if text.startswith("\r\n", end):
        end += 2
    elif end < len(text) and text[end] in "\r\n":
        end += 1
    return entry.start, end
