"""What a secret value looks like: its cleaned form, a name for its format,
and why it cannot be a valid token (:func:`problems_for`).

Names of well-known public token formats (prefixes a secret scanner knows)
come from ``formats.json`` next to this module: data, so the code stays
free of any vendor's name.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from hardoctor import lazyre
from hardoctor.records import dataclass
from hardoctor.tokens.claims import jwt_claims

_UUID = lazyre.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@dataclass(frozen=True)
class _Formats:
    schemes: dict[str, str]
    patterns: tuple[tuple[re.Pattern[str], str], ...]
    prefixes: tuple[tuple[str, str], ...]


@lru_cache(maxsize=1)
def _formats() -> _Formats:
    data = json.loads((Path(__file__).with_name("formats.json")).read_text(encoding="utf-8"))
    return _Formats(
        schemes=dict(data["schemes"]),
        patterns=tuple((re.compile(p), name) for p, name in data["patterns"]),
        prefixes=tuple((p, name) for p, name in data["prefixes"]),
    )


def clean_token(value: str) -> str:
    """The token as intended: surrounding whitespace and one layer of
    matching quotes removed.  Used to fingerprint (the same token with a
    stray newline is still the same token) and to look it up."""
    v = value.strip()
    ascii_quoted = v[:1] == v[-1:] and v[:1] in ('"', "'", "`")
    typographic = v[:1] in ("\u201c", "\u2018") and v[-1:] in ("\u201d", "\u2019")
    if len(v) >= 2 and (ascii_quoted or typographic):
        v = v[1:-1].strip()
    return v


def token_format(value: str, scheme: str = "") -> str | None:
    """A name for the token's format (``jwt``, ``uuid``, a well-known
    public format) or None.  Not secret."""
    formats = _formats()
    if scheme in formats.schemes:
        return formats.schemes[scheme]
    v = clean_token(value)
    if jwt_claims(v) is not None:
        return "jwt"
    for pattern, name in formats.patterns:
        if pattern.match(v):
            return name
    if _UUID.match(v):
        # Legacy tokens of many registries are bare UUIDs.
        return "uuid"
    for prefix, name in formats.prefixes:
        if v.startswith(prefix):
            return name
    return None


def looks_like_token(value: str) -> bool:
    """Would a person recognise ``value`` as a token rather than a name?
    (JWTs, known formats, dotted ``pat.``/``sat.`` tokens, long random
    strings without ``@``.)"""
    v = value.strip()
    if not v or "@" in v or " " in v:
        return False
    if token_format(v) not in (None, "uuid"):
        return True
    if re.match(r"^(pat|sat)\.[\w-]+\.[\w-]+", v):
        return True
    # 32+ characters mixing letters and digits: no human picks that as a login.
    return (
        len(v) >= 32
        and bool(re.search(r"[0-9]", v))
        and bool(re.search(r"[A-Za-z]", v))
        and bool(re.fullmatch(r"[\w.+/=:-]+", v))
    )


@dataclass(frozen=True)
class Problem:
    """Why a value cannot be a valid token.  ``code`` is stable (rules key on
    it); ``text`` is secret-free and reads after "the token ..."."""

    code: str
    text: str


#: Placeholder text from docs and templates (compared lower-cased, after
#: stripping quotes and angle brackets).
_PLACEHOLDERS = frozenset(
    {
        "token", "your_token", "your-token", "yourtoken", "your_api_key", "your-api-key",
        "your_pat", "your-pat", "api_key", "apikey", "api-key", "my_token", "mytoken",
        "changeme", "change_me", "change-me", "changeit", "replace_me", "replaceme",
        "replace-me", "todo", "tbd", "fixme", "password", "passwd", "secret", "pat",
        "your_password", "your-password", "yourpassword", "insert_token_here", "token_here",
        "<token>", "placeholder", "redacted", "none", "null", "undefined",
    }
)
_ENV_LITERAL = lazyre.compile(r"\$\{[^}]*\}|^\$[A-Za-z_][A-Za-z0-9_]*$|^%[A-Za-z_][A-Za-z0-9_]*%$")
_TEMPLATE_LITERAL = lazyre.compile(r"\{\{.*\}\}|<%.*%>|\{%.*%\}")
_EMAIL = lazyre.compile(r"^[^@\s:/]+@[^@\s:/]+\.[A-Za-z]{2,}$")
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00a0"}
# Character scans as regular expressions: C speed, linear in the value (a
# multi-megabyte token costs milliseconds, not seconds).
_INVISIBLE_RE = lazyre.compile("[\u200b\u200c\u200d\u2060\ufeff\u00a0]")
_SPACE_RE = lazyre.compile(r"\s")
#: Unicode category Cc minus what str.isspace() accepts (\t-\r, \x1c-\x1f, \x85).
_CONTROL_RE = lazyre.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
_NON_ASCII_RE = lazyre.compile("[^\x00-\x7f\u200b\u200c\u200d\u2060\ufeff\u00a0]")
#: Content heuristics (placeholders, templates) look at this much of a value.
_CONTENT_SCAN = 64 * 1024


def _whitespace_problems(value: str) -> list[Problem]:
    out: list[Problem] = []
    if value.rstrip(" \t") != value.rstrip():
        out.append(Problem("newline", "ends with a line break (copied along with the token)"))
    elif value.rstrip() != value:
        out.append(Problem("trailing-whitespace", "ends with whitespace"))
    if value.lstrip() != value:
        out.append(Problem("leading-whitespace", "starts with whitespace"))
    if _SPACE_RE.search(value.strip()):
        out.append(Problem("inner-whitespace", "contains whitespace or a line break inside"))
    return out


def _character_problems(value: str) -> list[Problem]:
    out: list[Problem] = []
    if _INVISIBLE_RE.search(value):
        out.append(
            Problem(
                "invisible",
                "contains an invisible character (zero-width space, BOM or no-break space)",
            )
        )
    if _CONTROL_RE.search(value):
        out.append(Problem("control-char", "contains control characters"))
    stripped = value.strip()
    if clean_token(value) != stripped:
        out.append(Problem("quoted", "is wrapped in quotes, which become part of the token"))
    elif _NON_ASCII_RE.search(stripped):
        out.append(
            Problem(
                "non-ascii",
                "contains non-ASCII characters (typographic quotes or dashes from a "
                "chat or word processor?)",
            )
        )
    return out


def _is_placeholder(cleaned: str) -> bool:
    low = cleaned.lower()
    return bool(
        low in _PLACEHOLDERS
        or low.strip("<>[]") in _PLACEHOLDERS
        or re.fullmatch(r"<[^<>]{1,40}>", cleaned)
        or re.fullmatch(r"x{3,}|\*{3,}|\.{3,}|0{6,}", low)
        or re.fullmatch(
            r"(your|my|insert)[_-]?\w*[_-]?(token|key|password|pat|secret)(_here)?", low
        )
    )


def _content_problems(cleaned: str) -> list[Problem]:
    out: list[Problem] = []
    if _ENV_LITERAL.search(cleaned):
        out.append(
            Problem(
                "env-literal",
                "contains an environment-variable reference (like ${NAME}) "
                "literally: nothing expanded it",
            )
        )
    elif _TEMPLATE_LITERAL.search(cleaned):
        out.append(
            Problem("template-literal", "contains an unrendered template expression ({{ ... }})")
        )
    elif _is_placeholder(cleaned):
        out.append(Problem("placeholder", "is placeholder text, not a real token"))
    elif "\u2026" in cleaned or "***" in cleaned or "<secret #" in cleaned:
        out.append(Problem("masked", "is a masked copy (with … or ***), not the token itself"))
    if _EMAIL.match(cleaned):
        out.append(
            Problem(
                "email", "is an e-mail address, not a token (are username and password swapped?)"
            )
        )
    return out


def value_problems(value: str) -> list[Problem]:
    """Problems of a secret value on its own (the password / token slot)."""
    if value == "":
        return [Problem("empty", "is empty")]
    return (
        _whitespace_problems(value)
        + _character_problems(value)
        + _content_problems(clean_token(value)[:_CONTENT_SCAN])
    )


def username_problems(username: str | None) -> list[Problem]:
    """Problems of the username slot: a token pasted there."""
    if username and looks_like_token(username):
        return [Problem("token-as-username", "the username field holds a token")]
    return []


def problems_for(value: str, username: str | None = None) -> list[Problem]:
    return value_problems(value) + username_problems(username)
