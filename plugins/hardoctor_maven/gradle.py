"""Gradle, read without running Gradle.

* ``gradle.properties`` (Java properties syntax) in ``$GRADLE_USER_HOME`` and
  the project root, and ``ORG_GRADLE_PROJECT_*`` variables.  Gradle resolves
  a project property from ``-P`` (not visible here), then
  ``ORG_GRADLE_PROJECT_x``, then the user's ``gradle.properties``, then the
  project's.
* ``maven { ... }`` repository declarations in ``build.gradle(.kts)`` /
  ``settings.gradle(.kts)``, found with a small scanner (strings and comments
  skipped, braces matched) and regular expressions.  What cannot be read this
  way (computed URLs, credentials from code) is reported as unknown, never
  guessed.
* ``credentials(PasswordCredentials)`` on a repository named ``X`` reads the
  properties ``XUsername`` and ``XPassword``; an unnamed repository is
  ``maven``, then ``maven2``, ``maven3`` ... in declaration order.
"""

from __future__ import annotations

import re

from hardoctor import lazyre
from hardoctor.records import dataclass, field

# -- gradle.properties ----------------------------------------------------------


@dataclass(frozen=True)
class Prop:
    key: str
    value: str = field(repr=False)
    line: int


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_properties(text: str) -> list[Prop]:
    """Java ``Properties.load`` semantics: comments (``#``/``!``), ``=``,
    ``:`` or whitespace as separator, backslash continuation lines, escapes.
    Later keys win (callers take the last)."""
    props: list[Prop] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        number = i + 1
        line = lines[i].lstrip(" \t\f")
        i += 1
        if not line or line[0] in "#!":
            continue
        # Join continuation lines (an odd number of trailing backslashes).
        while (len(line) - len(line.rstrip("\\"))) % 2 == 1 and i < len(lines):
            line = line[:-1] + lines[i].lstrip(" \t\f")
            i += 1
        m = re.match(r"((?:\\.|[^=:\s\\])*)\s*[=:]?\s*(.*)$", line, re.S)
        if not m:
            continue
        key = _unescape(m.group(1))
        value = _unescape(m.group(2))
        props.append(Prop(key, value, number))
    return props


# -- build scripts -----------------------------------------------------------------


@dataclass(frozen=True)
class Expr:
    """A value in a build script: a string ``literal``, a Gradle/project
    ``property``, an ``env`` variable, or ``unknown`` code."""

    kind: str
    value: str = field(repr=False)
    line: int
    #: Further alternatives (``a ?: b``), tried in order.
    fallbacks: tuple[Expr, ...] = ()


@dataclass
class GradleRepo:
    name: str
    named: bool
    url: str | None
    path: str
    line: int
    #: ``properties`` (credentials(PasswordCredentials)), ``block`` or None.
    creds: str | None = None
    username: Expr | None = None
    password: Expr | None = None
    publishing: bool = False
    #: Header / AWS credentials etc. that hardoctor does not read.
    other_creds: str | None = None


def _skip_string(text: str, i: int) -> int:
    """Index after the string literal starting at ``text[i]``."""
    q = text[i]
    if text.startswith(q * 3, i):
        end = text.find(q * 3, i + 3)
        return len(text) if end < 0 else end + 3
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == q or c == "\n":
            return j + 1
        j += 1
    return j


def _block_end(text: str, open_brace: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``open_brace`` (strings and
    comments skipped); ``len(text)`` when unbalanced."""
    depth = 0
    i = open_brace
    n = len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            i = _skip_string(text, i)
            continue
        if text.startswith("//", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return n


def _mask_comments(text: str) -> str:
    """The text with comments replaced by spaces (same length, newlines kept),
    so regexes never match inside them."""
    out = list(text)
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            i = _skip_string(text, i)
            continue
        if text.startswith("//", i):
            nl = text.find("\n", i)
            end = n if nl < 0 else nl
        elif text.startswith("/*", i):
            e = text.find("*/", i + 2)
            end = n if e < 0 else e + 2
        else:
            i += 1
            continue
        for k in range(i, end):
            if out[k] != "\n":
                out[k] = " "
        i = end
    return "".join(out)


_MAVEN_OPEN = lazyre.compile(r"(?<![\w.])maven\s*(\((?P<args>[^(){}]*(?:\([^(){}]*\)[^(){}]*)*)\))?\s*(?P<brace>\{)?")
_STR = r"""(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')"""
_NAME = lazyre.compile(r"(?<![\w.])(?:name\s*=?\s*|setName\s*\(\s*)" + _STR)
_URL = lazyre.compile(
    r"(?<![\w.])(?:url\s*=?\s*|setUrl\s*\(\s*)(?:uri\s*\(\s*|URI\s*\(\s*|new\s+URI\s*\(\s*)?" + _STR
)
_ARG_URL = lazyre.compile(r"^\s*(?:url\s*=\s*)?(?:uri\s*\(\s*)?" + _STR)
_PW_CREDS = lazyre.compile(r"(?<![\w.])credentials\s*\(\s*PasswordCredentials(?:::class(?:\.java)?)?\s*\)")
_OTHER_CREDS = lazyre.compile(r"(?<![\w.])credentials\s*\(\s*(HttpHeaderCredentials|AwsCredentials)")
_CREDS_BLOCK = lazyre.compile(r"(?<![\w.])credentials\s*(?:\(\s*PasswordCredentials(?:::class)?\s*\)\s*)?\{")
_ASSIGN = r"(?<![\w.])(?:{name}\s*=\s*|{name}\s+(?=[\"'\w])|set{Name}\s*\(\s*)(?P<expr>[^\n;]+)"
_PUBLISHING = lazyre.compile(r"(?<![\w.])publishing\s*\{")


def _str_value(m: re.Match[str]) -> str:
    return m.group(1) if m.group(1) is not None else (m.group(2) or "")


_ENV_RE = lazyre.compile(
    r"""^(?:System\.getenv\s*\(\s*["']([\w.]+)["']\s*\)|System\.getenv\(\)\s*(?:\.get\s*\(\s*|\[\s*)["']([\w.]+)["']|"""
    r"""providers\.environmentVariable\s*\(\s*["']([\w.]+)["']\s*\))"""
)
_PROP_RE = lazyre.compile(
    r"""^(?:(?:project\.|rootProject\.)?(?:findProperty|property)\s*\(\s*["']([\w.\-]+)["']\s*\)|"""
    r"""providers\.gradleProperty\s*\(\s*["']([\w.\-]+)["']\s*\)|"""
    r"""(?:project\.)?(?:properties|extra|ext)\s*\[\s*["']([\w.\-]+)["']\s*\])"""
)


def parse_expr(raw: str, line: int) -> Expr:
    """Classify the right-hand side of ``username = ...``."""
    text = raw.strip()
    alternatives = [a.strip() for a in re.split(r"\?:", text)]
    exprs = [_one(a, line) for a in alternatives if a]
    if not exprs:
        return Expr("unknown", "", line)
    return Expr(exprs[0].kind, exprs[0].value, line, tuple(exprs[1:]))


def _one(text: str, line: int) -> Expr:
    # Strip conversions that do not change where the value comes from.
    t = re.sub(r"(?:\s+as\s+String\??|\.get\(\)|\.orNull|\.orElse\([^)]*\)|\?\.toString\(\)|"
               r"\.toString\(\)|!!)+\s*\)?$", "", text.strip()).strip()
    m = re.fullmatch(_STR, t)
    if m:
        value = _str_value(m)
        ref = re.fullmatch(r"\$\{?(?:project\.)?([A-Za-z_][\w.]*)\}?", value)
        if ref:
            return Expr("property", ref.group(1), line)
        if "$" in value:
            return Expr("unknown", value, line)
        return Expr("literal", value, line)
    m = _ENV_RE.match(t)
    if m:
        return Expr("env", next(g for g in m.groups() if g), line)
    m = _PROP_RE.match(t)
    if m:
        return Expr("property", next(g for g in m.groups() if g), line)
    if re.fullmatch(r"(?:project\.)?[A-Za-z_]\w*", t) and t not in ("null", "true", "false"):
        return Expr("property", t.removeprefix("project."), line)
    return Expr("unknown", t, line)


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def scan_script(text: str, path: str) -> list[GradleRepo]:
    """Every ``maven { }`` / ``maven(url)`` repository of a build script."""
    masked = _mask_comments(text)
    publishing: list[tuple[int, int]] = []
    for m in _PUBLISHING.finditer(masked):
        brace = m.end() - 1
        publishing.append((brace, _block_end(masked, brace)))
    repos: list[GradleRepo] = []
    unnamed = 0
    for m in _MAVEN_OPEN.finditer(masked):
        if _inside_string(masked, m.start()):
            continue
        args = m.group("args")
        body = ""
        if m.group("brace"):
            start = m.end() - 1
            body = masked[start : _block_end(masked, start) + 1]
        elif args is None:
            continue  # `maven` as a word, not a repository
        url = None
        if args:
            am = _ARG_URL.match(args)
            if am:
                url = _str_value(am)
        um = _URL.search(body)
        if um:
            url = _str_value(um)
        nm = _NAME.search(body)
        if nm:
            name, named = _str_value(nm), True
        else:
            unnamed += 1
            name, named = ("maven" if unnamed == 1 else f"maven{unnamed}"), False
        repo = GradleRepo(name, named, url, path, _line(masked, m.start()))
        repo.publishing = any(a < m.start() < b for a, b in publishing)
        if _PW_CREDS.search(body) and not _CREDS_BLOCK.search(body):
            repo.creds = "properties"
        om = _OTHER_CREDS.search(body)
        if om:
            repo.other_creds = om.group(1)
        cb = _CREDS_BLOCK.search(body)
        if cb:
            base = m.end() - 1 if m.group("brace") else m.end()
            _credentials_block(repo, text, masked, body, base, cb.end() - 1)
        repos.append(repo)
    return repos


def _credentials_block(repo: GradleRepo, text: str, masked: str, body: str, base: int,
                       inner_start: int) -> None:
    """The ``username``/``password`` of a ``credentials { }`` block at
    ``body[inner_start:]`` (``body`` starts at ``base`` of the script)."""
    repo.creds = "block"
    inner = body[inner_start : _block_end(body, inner_start) + 1]
    offset = base + inner_start
    for attr in ("username", "password"):
        pat = re.compile(_ASSIGN.format(name=attr, Name=attr.capitalize()))
        am = pat.search(inner)
        if am:
            raw = text[offset + am.start("expr") : offset + am.end("expr")].rstrip()
            raw = re.sub(r"[\s}]+$", "", raw)
            if am.group(0).startswith("set") and raw.endswith(")"):
                raw = raw[:-1]  # setPassword(...)'s own parenthesis
            setattr(repo, attr, parse_expr(raw, _line(masked, offset + am.start())))


def _inside_string(text: str, pos: int) -> bool:
    """Is ``pos`` inside a string literal on its line?  (Cheap: counts
    unescaped quotes before it on the same line.)"""
    line_start = text.rfind("\n", 0, pos) + 1
    before = text[line_start:pos]
    return (len(re.findall(r'(?<!\\)"', before)) % 2 == 1) or (
        len(re.findall(r"(?<!\\)'", before)) % 2 == 1
    )


#: Names of properties that hold secrets.
SECRET_KEY = lazyre.compile(r"(password|passwd|token|secret|apikey|api[_.-]key|credential)s?$", re.I)
