"""The index options of a requirements file, read the way pip reads them.

pip (``pip/_internal/req/req_file.py``) splits the file with
``str.splitlines()``, joins lines ending in ``\\``, drops comments
(``(^|\\s+)#.*$``), expands ``${NAME}`` (upper-case letters, digits and
``_`` only; an unset or empty variable stays as literal text), then hands
option lines to optparse.  Only the options that pick an index are kept
here: ``-i``/``--index-url``, ``--extra-index-url``, ``--no-index``,
``--trusted-host`` and nested ``-r``/``-c`` files.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping

from hardoctor import lazyre
from hardoctor.records import dataclass, field

COMMENT_RE = lazyre.compile(r"(^|\s+)#.*$")
ENV_VAR_RE = lazyre.compile(r"\$\{(?P<name>[A-Z0-9_]+)\}")
#: ``$VAR``, ``${lower}``: text pip never expands (a common mistake).
UNEXPANDED_RE = lazyre.compile(r"\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)")

#: optparse long options (abbreviations of them are accepted too).
LONG = {
    "--index-url": "index-url",
    "--extra-index-url": "extra-index-url",
    "--no-index": "no-index",
    "--trusted-host": "trusted-host",
    "--requirement": "requirement",
    "--constraint": "constraint",
    "--find-links": "find-links",
}
#: Every long option pip accepts in a requirements file: an abbreviation
#: must be unambiguous among all of them.
ALL_LONG = (
    "--index-url", "--extra-index-url", "--no-index", "--constraint", "--requirement",
    "--editable", "--find-links", "--no-binary", "--only-binary", "--prefer-binary",
    "--require-hashes", "--pre", "--trusted-host", "--use-feature", "--global-option",
    "--config-settings", "--hash",
)
SHORT = {"-i": "index-url", "-r": "requirement", "-c": "constraint", "-f": "find-links"}
TAKES_VALUE = {"index-url", "extra-index-url", "trusted-host", "requirement", "constraint",
               "find-links"}


@dataclass(frozen=True)
class ReqOption:
    """One index-related option of a requirements file."""

    name: str
    #: The value as written in the file (before ``${VAR}`` expansion).
    raw: str = field(repr=False)
    #: The value pip uses (after expansion with the environment).
    value: str = field(repr=False)
    line: int
    #: Span of ``raw`` in the file's text, when it sits on one line.
    start: int | None = None
    end: int | None = None
    #: ``${NAME}`` references pip leaves unexpanded (unset or empty).
    unset_vars: tuple[str, ...] = ()
    #: ``$NAME`` / ``${lower}`` text pip never expands.
    unexpanded: tuple[str, ...] = ()


@dataclass
class Requirements:
    text: str
    options: list[ReqOption] = field(default_factory=list)
    #: Lines pip cannot parse as options (shlex errors).
    errors: list[tuple[int, str]] = field(default_factory=list)


def _pieces(text: str) -> list[tuple[int, int, str]]:
    """(line number, start offset, line text) as ``str.splitlines``."""
    out = []
    pos = 0
    for number, chunk in enumerate(text.splitlines(keepends=True), start=1):
        body = chunk.splitlines()[0] if chunk.splitlines() else ""
        out.append((number, pos, body))
        pos += len(chunk)
    return out


def _logical(text: str) -> list[tuple[int, str, list[tuple[int, int]]]]:
    """pip's ``join_lines``: (first line number, joined text, offset map).
    The map has (position in joined text, file offset) for each piece."""
    out: list[tuple[int, str, list[tuple[int, int]]]] = []
    new: list[str] = []
    spans: list[tuple[int, int]] = []
    primary = 0
    for number, start, line in _pieces(text):
        is_comment = bool(COMMENT_RE.match(line))
        if not line.endswith("\\") or is_comment:
            piece, at = (" " + line, start - 1) if is_comment else (line, start)
            if new:
                spans.append((sum(len(p) for p in new), at))
                new.append(piece)
                out.append((primary, "".join(new), spans))
                new, spans = [], []
            else:
                out.append((number, piece, [(0, at)]))
        else:
            if not new:
                primary = number
            stripped = line.strip("\\")
            lead = len(line) - len(line.lstrip("\\"))
            spans.append((sum(len(p) for p in new), start + lead))
            new.append(stripped)
    if new:
        out.append((primary, "".join(new), spans))
    return out


def _file_offset(spans: list[tuple[int, int]], pos: int) -> int:
    best = spans[0]
    for s in spans:
        if s[0] <= pos:
            best = s
    return best[1] + (pos - best[0])


def _long_name(token: str) -> str | None:
    opt = token.split("=", 1)[0]
    if opt in LONG:
        return LONG[opt]
    matches = [o for o in ALL_LONG if o.startswith(opt)] if len(opt) > 2 else []
    if len(matches) == 1 and matches[0] in LONG:
        return LONG[matches[0]]
    return None


def parse(text: str, environ: Mapping[str, str]) -> Requirements:
    doc = Requirements(text=text)
    for line_no, joined, spans in _logical(text):
        body = COMMENT_RE.sub("", joined)
        lead = len(body) - len(body.lstrip())
        body = body.strip()
        if not body or not body.startswith("-"):
            continue
        # Tokens of the *unexpanded* line, with positions (URLs hold no
        # quotes or spaces; a quoted value simply loses its span).
        tokens = [(m.group(0), m.start() + lead) for m in re.finditer(r"\S+", body)]
        expanded_line = _expand(body, environ)
        try:
            shlex.split(expanded_line)
        except ValueError as exc:
            doc.errors.append((line_no, f"cannot be split into options ({exc})"))
            continue
        i = 0
        while i < len(tokens):
            tok, pos = tokens[i]
            name: str | None = None
            raw: str | None = None
            vpos = pos
            if tok.startswith("--"):
                name = _long_name(tok)
                if name is not None and "=" in tok:
                    raw = tok.split("=", 1)[1]
                    vpos = pos + tok.index("=") + 1
            elif tok[:2] in SHORT:
                name = SHORT[tok[:2]]
                if len(tok) > 2:
                    raw = tok[2:]  # optparse: "-iURL" (an "=" would be part of it)
                    vpos = pos + 2
            if name is None:
                i += 1
                continue
            if name in TAKES_VALUE and raw is None:
                if i + 1 >= len(tokens):
                    doc.errors.append((line_no, f"{tok} needs a value"))
                    break
                raw, vpos = tokens[i + 1]
                i += 1
            i += 1
            raw_value = raw or ""
            start = _file_offset(spans, vpos)
            end = start + len(raw_value)
            ok_span = text[start:end] == raw_value
            names = [m.group("name") for m in ENV_VAR_RE.finditer(raw_value)]
            unset = tuple(n for n in dict.fromkeys(names) if not environ.get(n))
            odd = tuple(
                dict.fromkeys(
                    m.group(0) for m in UNEXPANDED_RE.finditer(raw_value)
                    if not ENV_VAR_RE.fullmatch(m.group(0))
                )
            )
            doc.options.append(
                ReqOption(
                    name=name,
                    raw=raw_value,
                    value=_unquote(_expand(raw_value, environ)),
                    line=line_no,
                    start=start if ok_span else None,
                    end=end if ok_span else None,
                    unset_vars=unset,
                    unexpanded=odd,
                )
            )
    return doc


def _expand(line: str, environ: Mapping[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        value = environ.get(m.group("name"))
        return value if value else m.group(0)

    return ENV_VAR_RE.sub(sub, line)


def _unquote(value: str) -> str:
    try:
        parts = shlex.split(value)
    except ValueError:
        return value
    return parts[0] if len(parts) == 1 else value


def find_files(project: str, limit: int = 20) -> list[str]:
    """``requirements*.txt`` in the project directory and ``requirements/``."""
    out: list[str] = []
    for folder in (project, os.path.join(project, "requirements")):
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            in_sub = folder != project
            if not name.endswith(".txt"):
                continue
            if in_sub or name.startswith("requirements"):
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    out.append(path)
    return out[:limit]
