"""XML with positions, parsed safely.

Maven's files are XML and a fix must replace exactly one element's text,
keeping every other byte (comments, indentation, order, CRLF).  The parse is
defusedxml's ``DefusedXMLParser`` (entity declarations and external
references refused: a billion-laughs file is an error, never an expansion),
driven with our own target that records, for every element, where it starts
and ends in the text, read from expat's ``CurrentByteIndex`` and converted to
character offsets.

Everything here is pure: no I/O, no secrets kept beyond the parsed text.
"""

from __future__ import annotations

import re
from typing import Any

from hardoctor import lazyre
from hardoctor.parsing import xml_problem
from hardoctor.records import dataclass, field

#: The rest of a start tag from its ``<``: name, attributes (quoted values
#: may hold ``>``), optional ``/``, ``>``.
_START_TAG = lazyre.compile(
    r"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""", re.S
)


@dataclass(eq=False)
class XElem:
    """One element.  Offsets are characters of the parsed text:
    ``text[start:end]`` is the whole element, ``text[inner_start:inner_end]``
    its content (empty for ``<a/>``)."""

    tag: str
    line: int
    column: int
    start: int
    inner_start: int = -1
    inner_end: int = -1
    end: int = -1
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[XElem] = field(default_factory=list)
    parent: XElem | None = field(default=None, repr=False)
    _text: list[str] = field(default_factory=list, repr=False)

    @property
    def raw_text(self) -> str:
        """The element's own character data (entities decoded), untrimmed."""
        return "".join(self._text)

    @property
    def text(self) -> str:
        """Trimmed, as Maven's XPP3 readers read a value."""
        return self.raw_text.strip()

    @property
    def self_closing(self) -> bool:
        return self.inner_start == self.inner_end == self.end

    def child(self, name: str) -> XElem | None:
        for c in self.children:
            if c.tag == name:
                return c
        return None

    def all(self, name: str) -> list[XElem]:
        return [c for c in self.children if c.tag == name]

    def path(self, *names: str) -> list[XElem]:
        """Elements at ``names`` below this one (every match at each level)."""
        level = [self]
        for name in names:
            level = [c for e in level for c in e.children if c.tag == name]
        return level

    def value(self, name: str) -> str | None:
        """Trimmed text of the first child ``name`` (None when absent)."""
        c = self.child(name)
        return None if c is None else c.text


class XmlError(Exception):
    """Why a file is not XML Maven can read.  ``hostile`` marks DTD entity
    tricks (billion laughs, external entities) that were refused."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 hostile: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hostile = hostile


@dataclass
class XmlDoc:
    text: str
    root: XElem


class _Offsets:
    """UTF-8 byte offsets (what expat reports) -> character offsets, for
    increasing positions in O(total length)."""

    def __init__(self, text: str, data: bytes) -> None:
        self.ascii = text.isascii()
        self.data = data
        self.byte = 0
        self.char = 0

    def char_of(self, byte: int) -> int:
        if self.ascii:
            return byte
        if byte < self.byte:  # not expected (events come in order); restart
            self.byte = self.char = 0
        self.char += len(self.data[self.byte : byte].decode("utf-8", "replace"))
        self.byte = byte
        return self.char


class _Target:
    def __init__(self, text: str, data: bytes) -> None:
        self.text = text
        self.offsets = _Offsets(text, data)
        self.parser: Any = None
        self.stack: list[XElem] = []
        self.root: XElem | None = None

    def _here(self) -> tuple[int, int, int]:
        p = self.parser
        return (
            self.offsets.char_of(p.CurrentByteIndex),
            p.CurrentLineNumber,
            p.CurrentColumnNumber + 1,
        )

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        pos, line, col = self._here()
        name = tag.rsplit("}", 1)[-1]
        elem = XElem(name, line, col, pos, attrs={k.rsplit("}", 1)[-1]: v for k, v in attrib.items()})
        m = _START_TAG.match(self.text, pos)
        if m is None:  # should not happen for text expat accepted
            raise XmlError(f"cannot locate the <{name}> tag", line, col)
        elem.inner_start = m.end()
        if m.group(1):  # <a/>
            elem.inner_end = elem.end = m.end()
        if self.stack:
            elem.parent = self.stack[-1]
            self.stack[-1].children.append(elem)
        elif self.root is None:
            self.root = elem
        self.stack.append(elem)

    def end(self, tag: str) -> None:
        elem = self.stack.pop()
        if elem.end >= 0:
            return  # self-closing: already complete
        pos, _, _ = self._here()
        elem.inner_end = pos
        close = self.text.find(">", pos)
        elem.end = close + 1 if close >= 0 else len(self.text)

    def data(self, data: str) -> None:
        if self.stack:
            self.stack[-1]._text.append(data)

    def close(self) -> XElem | None:
        return self.root


def parse(text: str) -> XmlDoc:
    """Parse ``text``; raise :class:`XmlError` for anything Maven could not
    read either (syntax errors, an empty file) and for refused DTD tricks."""
    if not text.strip():
        raise XmlError("the file is empty", 1, 1)
    # The XML machinery only when there is a file to parse (start-up).
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    data = text.encode("utf-8", "surrogatepass")
    target = _Target(text, data)
    parser = DefusedXMLParser(target=target, forbid_dtd=False, forbid_entities=True,
                              forbid_external=True)
    target.parser = parser.parser
    try:
        parser.feed(data)
        parser.close()
    except DefusedXmlException as exc:
        p = parser.parser
        raise XmlError(
            f"declares XML entities or external references ({type(exc).__name__}); "
            "refused unexpanded (a 'billion laughs' file would otherwise eat all memory)",
            p.CurrentLineNumber, p.CurrentColumnNumber + 1, hostile=True,
        ) from None
    except ParseError as exc:
        # A category, never expat's text (it quotes undefined entity names).
        problem = xml_problem(exc)
        raise XmlError(f"is not well-formed XML ({problem.category})", problem.line,
                       problem.column) from None
    except XmlError:
        raise
    except (ValueError, RecursionError, MemoryError) as exc:
        raise XmlError(f"cannot be parsed ({type(exc).__name__})") from None
    if target.root is None:
        raise XmlError("has no root element", 1, 1)
    return XmlDoc(text, target.root)


def escape_text(value: str) -> str:
    """``value`` as XML character data."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_span(doc_text: str, elem: XElem) -> tuple[int, int]:
    """The span of ``elem``'s trimmed content in the raw text (for an edit
    that keeps the surrounding whitespace); empty at the content start when
    there is none."""
    if elem.self_closing:
        return elem.inner_start, elem.inner_start
    inner = doc_text[elem.inner_start : elem.inner_end]
    lead = len(inner) - len(inner.lstrip())
    trail = len(inner) - len(inner.rstrip())
    start = elem.inner_start + lead
    return start, max(start, elem.inner_end - trail)


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def indent_of(text: str, pos: int) -> str:
    """The whitespace before ``pos`` on its line."""
    line_start = text.rfind("\n", 0, pos) + 1
    prefix = text[line_start:pos]
    return prefix if not prefix.strip() else ""


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"
