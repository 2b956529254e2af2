"""Peeling: the encoding layers a credential arrives in -- base64
``user:pass`` (an ``auth`` field), a base64 password, URL userinfo
(percent-encoding).  Every value that is (or may be) a secret comes back
wrapped in :class:`~hardoctor.model.Secret`, which also registers it for
redaction; errors never carry the value.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from urllib.parse import unquote, urlsplit, urlunsplit

from hardoctor import lazyre
from hardoctor.model import Secret
from hardoctor.parsing import url_problem
from hardoctor.records import dataclass
from hardoctor.tokens.values import Problem


class PeelError(ValueError):
    """An encoding layer cannot be removed.  ``code`` is stable; the message
    never contains the value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class UserPass:
    """A username and a secret peeled out of an encoding.  Safe to print:
    the password is a :class:`Secret`."""

    username: str
    password: Secret
    problems: tuple[Problem, ...] = ()


_B64_STRICT = lazyre.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_B64_ANY = lazyre.compile(r"^[A-Za-z0-9+/_=-]*$")


def b64decode_text(value: str, *, strict: bool = True) -> str:
    """Decode base64 to UTF-8 text.

    ``strict`` follows Go's ``base64.StdEncoding`` (Docker, Kubernetes):
    standard alphabet, correct ``=`` padding; line breaks are ignored like
    Go does.  Lenient follows Node's ``Buffer.from(s, 'base64')`` (npm):
    URL-safe alphabet and missing padding accepted.  Characters outside
    either alphabet are refused in both modes, because Node would silently
    skip them and decode garbage -- which is exactly the mistake to report.
    """
    v = re.sub(r"[\r\n]", "", value) if strict else re.sub(r"\s", "", value)
    if not v:
        raise PeelError("empty", "is empty")
    if strict:
        if not _B64_STRICT.match(v) or len(v) % 4:
            lenient_ok = True
            try:
                b64decode_text(value, strict=False)
            except PeelError:
                lenient_ok = False
            if lenient_ok:
                raise PeelError(
                    "bad-base64",
                    "is not standard padded base64 (only a lenient decoder accepts it: URL-safe "
                    "alphabet or missing '=' padding)",
                )
            raise PeelError("bad-base64", "is not valid base64")
        raw = base64.b64decode(v, validate=True)
    else:
        if not _B64_ANY.match(v):
            raise PeelError("not-base64", "contains characters that are not base64")
        v = v.rstrip("=").replace("-", "+").replace("_", "/")
        if len(v) % 4 == 1:
            raise PeelError("bad-base64", "is not valid base64 (wrong length)")
        try:
            raw = base64.b64decode(v + "=" * (-len(v) % 4))
        except binascii.Error:
            raise PeelError("bad-base64", "is not valid base64") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PeelError("not-text", "decodes to binary data, not text") from None
    if any(unicodedata.category(c) == "Cc" and c not in "\t\r\n\x00" for c in text):
        raise PeelError("not-text", "decodes to binary data, not text")
    return text


def _split_user_pass(text: str) -> tuple[str, str] | None:
    user, sep, password = text.partition(":")
    return (user, password) if sep else None


def peel_basic_auth(value: str, *, strict: bool = True) -> UserPass:
    """Docker ``auth`` / npm ``_auth``: base64 of ``username:password``.

    Split at the first ``:`` like Docker (``strings.Cut``) and npm; trailing
    NULs are trimmed from the password like Docker does.  Raises
    :class:`PeelError` with code ``bad-base64``, ``not-base64``, ``not-text``,
    ``no-colon`` or ``double-encoded``.
    """
    text = b64decode_text(value, strict=strict)
    pair = _split_user_pass(text)
    if pair is None:
        try:
            inner = b64decode_text(text, strict=False)
        except PeelError:
            inner = ""
        Secret(text)  # register for redaction: it may be the bare token
        if _split_user_pass(inner):
            raise PeelError(
                "double-encoded",
                "is base64 of base64: it was encoded twice; decoded once it is not user:password",
            )
        raise PeelError("no-colon", "decodes to text without ':' (expected username:password)")
    user, password = pair
    problems: list[Problem] = []
    if not user:
        problems.append(Problem("empty-username", "has an empty username before ':'"))
    return UserPass(user, Secret(password.strip("\x00")), tuple(problems))


def peel_base64_password(value: str) -> Secret:
    """npm ``_password``: the password base64-encoded (leniently, like Node).

    A plain token stored here by mistake is the common error: Node would
    decode it into garbage, so a value with characters outside base64 (a
    Harness token's dots, for one) is refused with code ``not-base64``.
    """
    Secret(value)
    return Secret(b64decode_text(value, strict=False))


@dataclass(frozen=True)
class UrlCredentials:
    """A URL with its userinfo removed, and what the userinfo held."""

    url: str
    userpass: UserPass | None


def peel_url_userinfo(url: str) -> UrlCredentials:
    """Split ``scheme://user:pass@host/...`` into the bare URL and the
    percent-decoded username and password (``pip``'s ``index-url``, Maven
    mirrors, npm registries).  A raw ``@`` inside the userinfo (an e-mail
    username not written as ``%40``) is reported: clients that split at the
    first ``@`` see a different host."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise PeelError("bad-url", f"is not a valid URL ({url_problem(exc)})") from None
    if "@" not in parts.netloc:
        return UrlCredentials(url, None)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    raw_user, sep, raw_pass = userinfo.partition(":")
    problems: list[Problem] = []
    if "@" in userinfo:
        problems.append(
            Problem(
                "raw-at",
                "has a raw '@' in the username; write it as %40 (some clients split "
                "the URL at the first '@')",
            )
        )
    if re.search(r"%(?![0-9A-Fa-f]{2})", userinfo):
        problems.append(Problem("bad-percent", "has a '%' that is not a %XX escape"))
    Secret(raw_pass)
    password = Secret(unquote(raw_pass)) if sep else Secret("")
    bare = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return UrlCredentials(bare, UserPass(unquote(raw_user), password, tuple(problems)))


