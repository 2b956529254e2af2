"""pip.conf as pip reads it -- ``configparser.RawConfigParser`` -- with positions.

pip loads each file with ``RawConfigParser().read(path)``: strict (a
duplicate section or option aborts every pip command), ``#``/``;`` comments
only at the start of a line (an inline ``# note`` becomes part of the value),
values continued on deeper-indented lines, blank lines kept inside values,
option names lower-cased, section names as written.  This is a port of
``RawConfigParser._read`` that also remembers where every option and value
sits, so findings can say file:line and fixes can edit one value without
touching any other byte.  ``configparser`` itself is used by the tests to
check that both agree.
"""

from __future__ import annotations

from hardoctor import lazyre
from hardoctor.records import dataclass, field

_SECTCRE = lazyre.compile(r"\[(?P<header>.+)\]")
# RawConfigParser._OPT_TMPL with the default delimiters "=" and ":".
_OPTCRE = lazyre.compile(r"(?P<option>.*?)\s*(?P<vi>[=:])\s*(?P<value>.*)$")
_NONSPACE = lazyre.compile(r"\S")
_LINE_RE = lazyre.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
COMMENT_PREFIXES = ("#", ";")
#: RawConfigParser's default section: its options apply to every section.
DEFAULT = "DEFAULT"


@dataclass(frozen=True)
class Line:
    number: int
    start: int
    #: End of the line's text, before its line break.
    end: int
    text: str


@dataclass
class Option:
    section: str
    #: Lower-cased, as RawConfigParser.optionxform makes it.
    name: str
    #: The name as written.
    raw_name: str
    line: int
    column: int
    #: Span of the first line's value (stripped) in the file's text.
    value_start: int
    value_end: int
    #: Every line of the value (first line, then continuations; "" for a
    #: blank line inside the value), as RawConfigParser keeps them.
    parts: list[str] = field(default_factory=list)
    #: Line numbers and spans of the continuation lines.
    more: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def value(self) -> str:
        """The value as pip sees it (continuations joined with newlines,
        trailing blank lines dropped like ``_join_multiline_values``)."""
        return "\n".join(self.parts).rstrip()

    def pieces(self) -> list[tuple[str, int, int, int]]:
        """(text, line, start, end) of every non-empty value line."""
        out = []
        if self.parts and self.parts[0]:
            out.append((self.parts[0], self.line, self.value_start, self.value_end))
        out += [(text, ln, s, e) for (ln, s, e), text in zip(self.more, self.parts[1:], strict=False) if text]
        return out


@dataclass
class Section:
    name: str
    line: int
    options: dict[str, Option] = field(default_factory=dict)


@dataclass(frozen=True)
class IniError:
    """Why RawConfigParser refuses the file (pip then aborts every command
    with "Configuration file could not be loaded")."""

    kind: str
    message: str
    line: int


@dataclass
class IniFile:
    text: str
    sections: dict[str, Section] = field(default_factory=dict)
    error: IniError | None = None
    #: Non-fatal "bad line" errors (RawConfigParser collects them and raises
    #: at the end: still fatal for pip).
    lines: list[Line] = field(default_factory=list)

    def get(self, section: str, name: str) -> Option | None:
        sec = self.sections.get(section)
        return sec.options.get(name) if sec else None

    def options(self) -> list[Option]:
        return [o for s in self.sections.values() for o in s.options.values()]

    def effective(self) -> dict[str, dict[str, Option]]:
        """Section -> options as ``parser.items(section)`` gives them:
        ``[DEFAULT]`` options apply to every other section."""
        defaults = self.sections[DEFAULT].options if DEFAULT in self.sections else {}
        out: dict[str, dict[str, Option]] = {}
        for name, sec in self.sections.items():
            if name == DEFAULT:
                continue
            merged = dict(defaults)
            merged.update(sec.options)
            out[name] = merged
        return out


def split_lines(text: str) -> list[Line]:
    """Lines as Python's universal-newline reading splits them (pip opens
    the file in text mode: ``\\r\\n``, ``\\r`` and ``\\n`` all end a line)."""
    out: list[Line] = []
    pos = 0
    for number, m in enumerate(_LINE_RE.finditer(text), start=1):
        chunk = m.group(0)
        if not chunk:
            break
        body = chunk.rstrip("\r\n")
        out.append(Line(number, pos, pos + len(body), body))
        pos += len(chunk)
    return out


def parse(text: str) -> IniFile:
    """Parse like ``RawConfigParser(strict=True)`` with default settings."""
    doc = IniFile(text=text)
    # A BOM is not stripped: pip opens the file as utf-8, not utf-8-sig, so
    # "\ufeff[global]" is no section header and pip refuses the file.
    lines = split_lines(text)
    doc.lines = lines
    cursect: Section | None = None
    option: Option | None = None
    indent_level = 0
    seen_sections: set[str] = set()
    seen_options: set[tuple[str, str]] = set()
    first_bad: IniError | None = None
    for ln in lines:
        line = ln.text
        comment_start: int | None = None
        if line.strip().startswith(COMMENT_PREFIXES):
            comment_start = 0
        value = (line if comment_start is None else line[:comment_start]).strip()
        if not value:
            # empty_lines_in_values=True: a blank line (not a comment line)
            # is kept inside the value being read.
            if comment_start is None and cursect is not None and option is not None:
                option.parts.append("")
                option.more.append((ln.number, ln.start, ln.start))
            continue
        first = _NONSPACE.search(line)
        cur_indent = first.start() if first else 0
        if cursect is not None and option is not None and cur_indent > indent_level:
            lead = len(line) - len(line.lstrip())
            start = ln.start + lead
            option.parts.append(value)
            option.more.append((ln.number, start, start + len(value)))
            continue
        indent_level = cur_indent
        mo = _SECTCRE.match(value)
        if mo:
            name = mo.group("header")
            if name in seen_sections and name != DEFAULT:
                doc.error = IniError(
                    "duplicate-section",
                    f"line {ln.number} repeats a [section] header that already exists",
                    ln.number,
                )
                return doc
            seen_sections.add(name)
            cursect = doc.sections.setdefault(name, Section(name, ln.number))
            option = None
            continue
        if cursect is None:
            doc.error = IniError(
                "no-section",
                f"line {ln.number} comes before any [section] header",
                ln.number,
            )
            return doc
        mo = _OPTCRE.match(value)
        if not mo or not mo.group("option"):
            if first_bad is None:
                first_bad = IniError(
                    "bad-line",
                    f"line {ln.number} is neither a [section], an option (name = value) nor a comment",
                    ln.number,
                )
            # RawConfigParser keeps going after a bad line (and raises at the
            # end); an empty option name still becomes the current option.
            if mo:
                option = None
            continue
        raw_name = mo.group("option").rstrip()
        name = raw_name.lower()
        if (cursect.name, name) in seen_options:
            doc.error = IniError(
                "duplicate-option",
                f"line {ln.number} repeats an option name already set in its section",
                ln.number,
            )
            return doc
        seen_options.add((cursect.name, name))
        lead = len(line) - len(line.lstrip())
        vstart_in_value = mo.start("value")
        optval = mo.group("value").strip()
        vstart = ln.start + lead + vstart_in_value
        option = Option(
            section=cursect.name,
            name=name,
            raw_name=raw_name,
            line=ln.number,
            column=lead + 1,
            value_start=vstart,
            value_end=vstart + len(optval),
            parts=[optval],
        )
        cursect.options[name] = option
    if first_bad is not None:
        doc.error = first_bad
    return doc


_BREAK = lazyre.compile(r"\r\n|\r|\n")


def line_of(text: str, pos: int) -> int:
    """1-based line number of character ``pos`` (universal newlines)."""
    return 1 + len(_BREAK.findall(text, 0, max(0, pos)))
