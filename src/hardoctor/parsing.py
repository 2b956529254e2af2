"""Parser errors without the parser's words.

Configuration files hold secrets, and parsers like to quote what they could
not read: PyYAML says ``found undefined alias 's3cr3t'``, ``tomllib`` says
``Cannot declare ('tok',) twice``, ``urllib`` says ``'x' does not appear to
be an IPv4 or IPv6 address``.  Every plugin turns a parser exception into a
:class:`ParseProblem` here: a position and a *category* picked from a fixed
list of phrases, never a substring of the input.  Where a word of the input
would help, :func:`shape` describes it (its length and fingerprint) without
its characters.
"""

from __future__ import annotations

import re
from typing import Any

from hardoctor import lazyre
from hardoctor.model import fingerprint
from hardoctor.records import dataclass

__all__ = ["ParseProblem", "shape", "yaml_problem", "toml_problem", "json_problem",
           "xml_problem", "url_problem", "generic_problem"]


@dataclass(frozen=True)
class ParseProblem:
    """Where (1-based line/column when known) and what kind of error."""

    line: int | None
    column: int | None
    category: str

    def __str__(self) -> str:
        where = ""
        if self.line is not None:
            where = f" at line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{self.category}{where}"


def shape(word: str) -> str:
    """A word of the input described without its characters."""
    return f"a {len(word)}-character word (fingerprint {fingerprint(word)})"


def _categorize(message: str, table: tuple[tuple[str, str], ...], default: str) -> str:
    for pattern, category in table:
        if re.search(pattern, message, re.IGNORECASE):
            return category
    return default


def _p(text: str) -> str:
    # Kept as text: the tables are read only when a file fails to parse, and
    # compiling ~50 patterns at import cost every run ~3 ms of start-up.
    return text


# PyYAML's problem/context phrases (scanner, parser, composer, constructor),
# mapped to our own words; anything else is "invalid YAML".
_YAML = (
    (_p(r"nesting"), "nesting too deep"),
    (_p(r"undefined alias"), "an alias (*name) refers to no anchor"),
    (_p(r"duplicate anchor"), "an anchor (&name) is defined twice"),
    (_p(r"unknown escape"), "an unknown escape sequence in a double-quoted string"),
    (_p(r"escape sequence"), "an invalid escape sequence in a double-quoted string"),
    (_p(r"cannot start any token"), "a character that cannot start a YAML token"),
    (_p(r"unacceptable character|special characters are not allowed"),
     "a character YAML does not accept"),
    (_p(r"did not find expected key|expected '-' indicator|expected <block end>"),
     "bad indentation of a mapping or list"),
    (_p(r"did not find expected node content|did not find expected ','"),
     "an unclosed or invalid [list] or {mapping}"),
    (_p(r"mapping values are not allowed"), "a colon where a mapping value is not allowed"),
    (_p(r"could not find expected ':'"), "a simple key without its colon"),
    (_p(r"found unexpected end of stream|unexpected end"), "the text ends inside a value"),
    (_p(r"found unexpected ':'"), "an unexpected colon"),
    (_p(r"scanning a quoted scalar|quoted scalar"), "a quoted string that is not closed"),
    (_p(r"scanning an? (alias|anchor)"), "an invalid anchor or alias name"),
    (_p(r"scanning a tag|tag handle|tag uri|URI escape"), "an invalid tag"),
    (_p(r"scanning a directive|directive"), "an invalid directive"),
    (_p(r"block scalar|indentation indicator|chomping"), "an invalid block scalar header"),
    (_p(r"tab"), "a tab character where YAML needs spaces"),
    (_p(r"unhashable key"), "a mapping key that is a mapping or a list"),
    (_p(r"constructor for the tag|could not determine a constructor"), "a tag no safe loader knows"),
    (_p(r"expected <document start>"), "more than one value where a document starts"),
    (_p(r"expected <block end>|block mapping|block collection|block sequence"),
     "bad indentation of a mapping or list"),
    (_p(r"flow mapping|flow sequence|expected ',' or"), "an unclosed or invalid [list] or {mapping}"),
    (_p(r"expected a single document"), "more than one document where one is expected"),
    (_p(r"expected a (mapping|sequence|scalar) node"), "a value of the wrong kind"),
    (_p(r"expected '<document end>'|document"), "an invalid document boundary"),
)


def yaml_problem(exc: BaseException) -> ParseProblem:
    """A PyYAML error as a position and a category (never PyYAML's text,
    which quotes anchors, aliases, tags and characters of the input)."""
    mark: Any = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if isinstance(exc, UnicodeError):
        return generic_problem(exc)
    if isinstance(exc, RecursionError):
        return ParseProblem(None, None, "nesting too deep")
    if type(exc).__name__ == "ReaderError":  # a control character or bad encoding
        return ParseProblem(None, None, "a character YAML does not accept (a control character)")
    words = " ".join(str(x) for x in (getattr(exc, "problem", None), getattr(exc, "context", None)) if x)
    category = _categorize(words, _YAML, "invalid YAML")
    if mark is None:
        return ParseProblem(None, None, category)
    return ParseProblem(int(mark.line) + 1, int(mark.column) + 1, category)


_TOML = (
    (_p(r"twice|Cannot redefine|Cannot mutate|Duplicate"), "a key or table is defined twice"),
    (_p(r"Invalid initial character for a key|Invalid key|key part"), "an invalid key"),
    (_p(r"Expected '=' after a key"), "a key without '='"),
    (_p(r"Invalid value"), "an invalid value"),
    (_p(r"Unterminated string|Unclosed"), "a string or array that is not closed"),
    (_p(r"escape"), "an invalid escape sequence in a string"),
    (_p(r"Illegal character|invalid character|Found invalid"), "a character TOML does not accept here"),
    (_p(r"Expected newline or end of document"), "more than one value on a line"),
    (_p(r"date|time"), "an invalid date or time"),
    (_p(r"inline table|array"), "an invalid inline table or array"),
    (_p(r"Expected '\]'|table header|array of tables"), "an invalid table header"),
)
_TOML_POS = lazyre.compile(r"\(at line (\d+), column (\d+)\)")


def toml_problem(exc: BaseException) -> ParseProblem:
    """A tomllib/tomli error (whose text may quote a key) as a category."""
    text = str(exc)
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "colno", None)
    m = _TOML_POS.search(text)
    if line is None and m is not None:
        line, col = int(m.group(1)), int(m.group(2))
    return ParseProblem(line, col, _categorize(text, _TOML, "invalid TOML"))


def json_problem(msg: str, line: int | None, column: int | None) -> ParseProblem:
    """``json``'s messages name no input, but pass them through a category
    anyway so a third-party decoder's wording never reaches a report."""
    known = ("Expecting value", "Expecting property name enclosed in double quotes",
             "Expecting ':' delimiter", "Expecting ',' delimiter", "Extra data",
             "Unterminated string starting at", "Invalid control character at",
             "Invalid \\escape", "Invalid \\uXXXX escape", "nesting too deep", "Number too long")
    for k in known:
        if msg.startswith(k):
            return ParseProblem(line, column, k)
    if msg.startswith("Illegal trailing comma"):
        return ParseProblem(line, column, "Illegal trailing comma")
    return ParseProblem(line, column, "invalid JSON")


_XML = (
    (_p(r"undefined entity"), "an undefined entity"),
    (_p(r"mismatched tag"), "a closing tag that does not match"),
    (_p(r"unclosed token|no element found"), "the text ends inside an element"),
    (_p(r"junk after document element"), "text after the root element"),
    (_p(r"not well-formed|invalid token"), "an invalid character or token"),
    (_p(r"duplicate attribute"), "an attribute given twice"),
    (_p(r"unbound prefix"), "a namespace prefix that is not declared"),
    (_p(r"entit|DTD|external"), "an entity or DTD declaration (not allowed)"),
    (_p(r"encoding"), "an unknown or wrong encoding"),
)


def xml_problem(exc: BaseException) -> ParseProblem:
    """An expat/ElementTree/defusedxml error as a category and position."""
    pos = getattr(exc, "position", None)
    line = col = None
    if isinstance(pos, tuple) and len(pos) == 2:
        line, col = int(pos[0]), int(pos[1]) + 1
    name = type(exc).__name__
    text = f"{name} {exc}" if "Forbidden" in name else str(exc).split(":", 1)[0]
    return ParseProblem(line, col, _categorize(text, _XML, "not well-formed XML"))


def url_problem(exc: BaseException) -> str:
    """``urllib.parse`` quotes the host it could not read; say what is wrong."""
    text = str(exc)
    if "IPv6" in text or "IPv4" in text or "[" in text:
        return "an invalid bracketed (IPv6) host"
    if "port" in text.lower():
        return "an invalid port"
    return "an invalid URL"


def generic_problem(exc: BaseException) -> ParseProblem:
    """Any other exception from a parser: its class, never its text."""
    if isinstance(exc, UnicodeDecodeError):
        return ParseProblem(None, None, f"not UTF-8 text (byte {exc.start})")
    if isinstance(exc, RecursionError):
        return ParseProblem(None, None, "nesting too deep")
    return ParseProblem(None, None, f"cannot be read ({type(exc).__name__})")
