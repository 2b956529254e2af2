"""``~/.netrc`` as Python's :mod:`netrc` (which pip's requests uses) reads it,
with the position of every token.

A port of CPython 3.11's ``netrc._netrclex`` and ``netrc._parse`` over a
string: same tokens, same quoting and backslash rules, same comment quirks
(``#`` alone skips the rest of the line, ``#word`` skips only itself), same
errors.  requests swallows a ``NetrcParseError`` and then uses *no* netrc
credentials at all, which is why the exact error and its line matter.
"""

from __future__ import annotations

import re

from hardoctor import lazyre
from hardoctor.parsing import shape
from hardoctor.records import dataclass, field

from .ini import line_of

WHITESPACE = "\n\t\r "
#: Characters of a word that need no per-character handling.
_PLAIN_RUN = lazyre.compile(r"[^\n\t\r \\]+")
_QUOTED_RUN = lazyre.compile(r'[^"\\\r]+')


@dataclass(frozen=True)
class Token:
    value: str
    start: int
    end: int


@dataclass
class Entry:
    """One ``machine NAME`` (or ``default``) entry."""

    kind: str  # "machine" or "default"
    name: str
    keyword: Token
    name_token: Token | None
    line: int
    login: Token | None = None
    account: Token | None = None
    password: Token | None = None

    @property
    def values(self) -> tuple[str, str, str]:
        """(login, account, password) as ``netrc.authenticators`` returns."""
        return (
            self.login.value if self.login else "",
            self.account.value if self.account else "",
            self.password.value if self.password else "",
        )

    @property
    def end(self) -> int:
        tokens = [t for t in (self.keyword, self.name_token, self.login, self.account, self.password) if t]
        return max(t.end for t in tokens)


@dataclass(frozen=True)
class NetrcError:
    message: str
    line: int


@dataclass
class NetrcFile:
    text: str
    entries: list[Entry] = field(default_factory=list)
    macros: list[str] = field(default_factory=list)
    error: NetrcError | None = None

    @property
    def hosts(self) -> dict[str, Entry]:
        """Name -> the entry Python keeps (the last one of each name)."""
        out: dict[str, Entry] = {}
        for e in self.entries:
            out[e.name] = e
        return out

    def authenticators(self, host: str) -> Entry | None:
        """``netrc.authenticators(host)``: the exact (case-sensitive) name,
        else the ``default`` entry."""
        hosts = self.hosts
        if host in hosts:
            return hosts[host]
        return hosts.get("default")


class _Lexer:
    def __init__(self, text: str) -> None:
        # Python reads the file in text mode: universal newlines.
        self.text = text
        self.pos = 0
        #: Where the character last read started.
        self.prev = 0
        self.pushback: list[Token] = []

    def _read(self) -> str:
        self.prev = self.pos
        if self.pos >= len(self.text):
            return ""
        ch = self.text[self.pos]
        self.pos += 1
        if ch == "\r":
            if self.text[self.pos : self.pos + 1] == "\n":
                self.pos += 1
            return "\n"
        return ch

    def line(self) -> int:
        return line_of(self.text, self.pos)

    def readline(self) -> str:
        out = []
        while True:
            ch = self._read()
            if not ch:
                break
            out.append(ch)
            if ch == "\n":
                break
        return "".join(out)

    def get_token(self) -> Token:
        if self.pushback:
            return self.pushback.pop(0)
        token = ""
        start = self.pos
        while True:
            ch = self._read()
            if not ch:
                return Token(token, start, self.pos)
            if ch in WHITESPACE:
                start = self.pos
                continue
            if ch == '"':
                while True:
                    ch = self._read()
                    if not ch:
                        return Token(token, start, self.pos)
                    if ch == '"':
                        return Token(token, start, self.pos)
                    if ch == "\\":
                        ch = self._read()
                    token += ch
                    token += self._run(_QUOTED_RUN)
            if ch == "\\":
                ch = self._read()
            token += ch
            while True:
                ch = self._read()
                if not ch:
                    return Token(token, start, self.pos)
                if ch in WHITESPACE:
                    return Token(token, start, self.prev)
                if ch == "\\":
                    ch = self._read()
                token += ch
                token += self._run(_PLAIN_RUN)

    def _run(self, pattern: re.Pattern[str]) -> str:
        """Consume a run of ordinary characters at once (a long password is
        one regex match, not a Python loop per character)."""
        m = pattern.match(self.text, self.pos)
        if m is None:
            return ""
        self.prev, self.pos = m.end() - 1, m.end()
        return m.group(0)

    def push(self, token: Token) -> None:
        self.pushback.append(token)


def parse(text: str) -> NetrcFile:
    """Read ``text`` the way Python's ``netrc`` module does (the first error
    ends the file, as it makes ``netrc`` raise)."""
    doc = NetrcFile(text=text)
    lexer = _Lexer(text)
    while True:
        saved_line = lexer.line()
        tt = lexer.get_token()
        if not tt.value:
            break
        if tt.value[0] == "#":
            if lexer.line() == saved_line and len(tt.value) == 1:
                lexer.readline()
            continue
        if tt.value == "macdef":
            doc.error = _macdef(lexer, doc)
        elif tt.value in ("machine", "default"):
            doc.error = _entry(lexer, doc, tt)
        else:
            doc.error = NetrcError(
                f"unexpected word ({_show(tt.value)}) where machine, default or macdef belongs",
                line_of(text, tt.start),
            )
        if doc.error is not None:
            return doc
    return doc


def _macdef(lexer: _Lexer, doc: NetrcFile) -> NetrcError | None:
    """Skip a macro definition: everything up to an empty line."""
    doc.macros.append(lexer.get_token().value)
    while True:
        line = lexer.readline()
        if not line:
            return NetrcError("a macdef is not ended by an empty line", lexer.line())
        if line == "\n":
            return None


def _entry(lexer: _Lexer, doc: NetrcFile, tt: Token) -> NetrcError | None:
    """A ``machine NAME`` or ``default`` entry and its keywords."""
    text = doc.text
    name_token = lexer.get_token() if tt.value == "machine" else None
    name = name_token.value if name_token is not None else "default"
    if not name:
        return NetrcError(f"{tt.value!r} has no host name", line_of(text, tt.start))
    entry = Entry(tt.value, name, tt, name_token, line_of(text, tt.start))
    while True:
        prev_line = lexer.line()
        ft = lexer.get_token()
        if ft.value.startswith("#"):
            if lexer.line() == prev_line:
                lexer.readline()
            continue
        if ft.value in ("", "machine", "default", "macdef"):
            lexer.push(ft)
            break
        if ft.value in ("login", "user"):
            entry.login = lexer.get_token()
        elif ft.value == "account":
            entry.account = lexer.get_token()
        elif ft.value == "password":
            entry.password = lexer.get_token()
        else:
            return NetrcError(
                f"unexpected word ({_show(ft.value)}) in this entry "
                "(expected login, account or password)",
                line_of(text, ft.start),
            )
    doc.entries.append(entry)
    return None


_KEYWORDS = frozenset({"machine", "default", "macdef", "login", "user", "account", "password",
                       "port", "protocol", "force"})


def _show(word: str) -> str:
    """A token for a message.  Only the file format's own keywords are
    quoted: any other word (a host name, or a password that lost its
    keyword, which can look like one: ``Summer.2024secret``) is described by
    its shape, never its characters."""
    if word.lower() in _KEYWORDS:
        return repr(word)
    return shape(word)
