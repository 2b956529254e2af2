"""Token decoding: peel encodings, recognise formats, spot malformed values.

Vendor decoders (Harness PAT/SAT, ...) are plugins implementing
``hardoctor_decode_secret``; this module is the vendor-neutral toolkit they and
the ecosystem plugins share:

* **peeling** -- the encoding layers a credential arrives in: Docker ``auth``
  and npm ``_auth`` (base64 ``user:pass``), npm ``_password`` (base64), URL
  userinfo (percent-encoding), Kubernetes ``data`` (base64, JSON inside, and
  the double-encoded mistake) and Maven ``{...}`` encrypted passwords;
* **recognition** -- JWTs (claims, expiry), npm tokens, Docker identity
  tokens, and ``opaque`` for the rest;
* **malformed values** -- whitespace, quotes, placeholders, e-mails in the
  password slot, tokens in the username slot: :func:`problems_for`.

Nothing here verifies signatures: we read what a token says about itself to
explain failures, never to trust it.  Every value that is (or may be) a
secret comes back wrapped in :class:`~hardoctor.model.Secret`, which also
registers it for redaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from hardoctor.model import Secret, TokenInfo, fingerprint

# --------------------------------------------------------------------- JWT


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def jwt_claims(value: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(header, claims) of a JWT, or None when ``value`` is not one."""
    parts = value.strip().split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return None
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict) or "alg" not in header:
        return None
    return header, claims


def _ts(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(float(value), timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def status_for(expires_at: datetime | None, now: datetime, warn_days: float) -> str:
    if expires_at is None:
        return "unknown"
    if expires_at <= now:
        return "expired"
    if expires_at - now <= timedelta(days=warn_days):
        return "expiring-soon"
    return "valid"


def decode_jwt(secret: Secret, now: datetime, warn_days: float) -> TokenInfo | None:
    parsed = jwt_claims(secret.reveal())
    if parsed is None:
        return None
    header, claims = parsed
    exp = _ts(claims.get("exp"))
    details: dict[str, Any] = {"alg": header.get("alg")}
    for key in ("iss", "sub", "aud"):
        if isinstance(claims.get(key), (str, list)):
            details[key] = claims[key]
    if isinstance(claims.get("access"), list):
        # Registry tokens (distribution spec) list what they grant.
        details["access"] = claims["access"]
    if isinstance(claims.get("scope"), str):
        details["scope"] = claims["scope"]
    return TokenInfo(
        kind="jwt",
        fingerprint=fingerprint(clean_token(secret.reveal())),
        issued_at=_ts(claims.get("iat")),
        not_before=_ts(claims.get("nbf")),
        expires_at=exp,
        expiry_source="token" if exp else "unknown",
        status=status_for(exp, now, warn_days),  # type: ignore[arg-type]
        details=details,
    )


#: How far a JWT's ``nbf``/``iat`` may lie in the future before we call it
#: clock skew: distribution's own leeway.
CLOCK_LEEWAY = timedelta(seconds=60)


def clock_skew(info: TokenInfo, now: datetime) -> timedelta | None:
    """How far ahead of the local clock the token says it was issued (or
    becomes valid), when that exceeds :data:`CLOCK_LEEWAY`; else None."""
    ahead = [t - now for t in (info.not_before, info.issued_at) if t is not None]
    worst = max(ahead, default=None)
    return worst if worst is not None and worst > CLOCK_LEEWAY else None


def decode_generic(
    secret: Secret,
    scheme: str,
    now: datetime,
    warn_days: float,
    username: str | None = None,
) -> TokenInfo:
    """The fallback decoder: JWT, else ``basic``/``opaque``, with the
    malformed-value problems and the recognised format in ``details``."""
    from dataclasses import replace

    value = secret.reveal()
    problems = problems_for(value, username)
    info = decode_jwt(Secret(clean_token(value)), now, warn_days)
    if info is None:
        kind = "basic" if scheme == "basic" else "opaque"
        info = TokenInfo(kind=kind, fingerprint=fingerprint(clean_token(value)))  # type: ignore[arg-type]
    details = dict(info.details)
    fmt = token_format(value, scheme)
    if fmt:
        details["format"] = fmt
    if problems:
        details["problem_codes"] = tuple(p.code for p in problems)
    return replace(info, problems=tuple(p.text for p in problems), details=details)


# ------------------------------------------------------------ recognition

_NPM_TOKEN = re.compile(r"^npm_[A-Za-z0-9]{36}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# Well-known public prefixes: recognising them lets us say "this is a GitHub
# token" when it sits in a registry's slot by mistake.
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("dckr_pat_", "docker-hub-pat"),
    ("ghp_", "github-token"),
    ("gho_", "github-token"),
    ("ghs_", "github-token"),
    ("github_pat_", "github-token"),
    ("glpat-", "gitlab-token"),
)


def token_format(value: str, scheme: str = "") -> str | None:
    """A name for the token's format (``npm-token``, ``jwt``,
    ``docker-identity-token``...) or None.  Not secret."""
    v = clean_token(value)
    if scheme == "identitytoken":
        return "docker-identity-token"
    if jwt_claims(v) is not None:
        return "jwt"
    if _NPM_TOKEN.match(v):
        return "npm-token"
    if _UUID.match(v):
        # npm's legacy tokens (and many others) are bare UUIDs.
        return "uuid"
    for prefix, name in _PREFIXES:
        if v.startswith(prefix):
            return name
    return None


def looks_like_token(value: str) -> bool:
    """Would a person recognise ``value`` as a token rather than a name?
    (JWTs, known prefixes, Harness-style ``pat.``/``sat.``, long random
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


# -------------------------------------------------------- malformed values


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
        "token",
        "your_token",
        "your-token",
        "yourtoken",
        "your_api_key",
        "your-api-key",
        "your_pat",
        "your-pat",
        "api_key",
        "apikey",
        "api-key",
        "my_token",
        "mytoken",
        "changeme",
        "change_me",
        "change-me",
        "changeit",
        "replace_me",
        "replaceme",
        "replace-me",
        "todo",
        "tbd",
        "fixme",
        "password",
        "passwd",
        "secret",
        "pat",
        "your_password",
        "your-password",
        "yourpassword",
        "insert_token_here",
        "token_here",
        "<token>",
        "placeholder",
        "redacted",
        "none",
        "null",
        "undefined",
    }
)
_ENV_LITERAL = re.compile(r"\$\{[^}]*\}|^\$[A-Za-z_][A-Za-z0-9_]*$|^%[A-Za-z_][A-Za-z0-9_]*%$")
_TEMPLATE_LITERAL = re.compile(r"\{\{.*\}\}|<%.*%>|\{%.*%\}")
_EMAIL = re.compile(r"^[^@\s:/]+@[^@\s:/]+\.[A-Za-z]{2,}$")
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00a0"}


def value_problems(value: str) -> list[Problem]:
    """Problems of a secret value on its own (the password / token slot)."""
    if value == "":
        return [Problem("empty", "is empty")]
    out: list[Problem] = []
    if value.rstrip(" \t") != value.rstrip():
        out.append(Problem("newline", "ends with a line break (copied along with the token)"))
    elif value.rstrip() != value:
        out.append(Problem("trailing-whitespace", "ends with whitespace"))
    if value.lstrip() != value:
        out.append(Problem("leading-whitespace", "starts with whitespace"))
    stripped = value.strip()
    if any(c.isspace() for c in stripped):
        out.append(Problem("inner-whitespace", "contains whitespace or a line break inside"))
    if any(c in _INVISIBLE for c in value):
        out.append(
            Problem(
                "invisible",
                "contains an invisible character (zero-width space, BOM or no-break space)",
            )
        )
    if any(unicodedata.category(c) == "Cc" and not c.isspace() for c in value):
        out.append(Problem("control-char", "contains control characters"))
    cleaned = clean_token(value)
    if cleaned != stripped:
        out.append(Problem("quoted", "is wrapped in quotes, which become part of the token"))
    elif any(ord(c) > 127 and c not in _INVISIBLE for c in stripped):
        out.append(
            Problem(
                "non-ascii",
                "contains non-ASCII characters (typographic quotes or dashes from a "
                "chat or word processor?)",
            )
        )
    low = cleaned.lower()
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
    elif (
        low in _PLACEHOLDERS
        or low.strip("<>[]") in _PLACEHOLDERS
        or re.fullmatch(r"<[^<>]{1,40}>", cleaned)
        or re.fullmatch(r"x{3,}|\*{3,}|\.{3,}|0{6,}", low)
        or re.fullmatch(
            r"(your|my|insert)[_-]?\w*[_-]?(token|key|password|pat|secret)(_here)?", low
        )
    ):
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


def username_problems(username: str | None) -> list[Problem]:
    """Problems of the username slot: a token pasted there."""
    if username and looks_like_token(username):
        return [Problem("token-as-username", "the username field holds a token")]
    return []


def problems_for(value: str, username: str | None = None) -> list[Problem]:
    return value_problems(value) + username_problems(username)


# ------------------------------------------------------------------ peeling


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


_B64_STRICT = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_B64_ANY = re.compile(r"^[A-Za-z0-9+/_=-]*$")


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
        raise PeelError("bad-url", f"is not a valid URL ({exc})") from None
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


def peel_k8s_data(value: str) -> str:
    """One Kubernetes ``data:`` value: strict base64 (the API server refuses
    anything else)."""
    return b64decode_text(value, strict=True)


def peel_k8s_json(value: str) -> tuple[Any, tuple[Problem, ...]]:
    """A ``data:`` value that should hold JSON (``.dockerconfigjson``,
    ``.dockercfg``): decoded and parsed.

    The double-encoded mistake (``base64 | base64``) still yields the JSON,
    with a ``double-encoded`` problem, so the credentials inside can be
    checked too.  Raw JSON where base64 belongs raises ``not-base64`` (it
    belongs under ``stringData:``).
    """
    if value.lstrip().startswith("{"):
        raise PeelError(
            "not-base64",
            "holds raw JSON: under data: it must be base64 (or move it to stringData:)",
        )
    text = peel_k8s_data(value)
    try:
        return json.loads(text), ()
    except ValueError:
        pass
    try:
        inner = b64decode_text(text, strict=False)
        parsed = json.loads(inner)
    except (PeelError, ValueError):
        raise PeelError("bad-json", "decodes to text that is not JSON") from None
    return parsed, (
        Problem(
            "double-encoded",
            "is base64-encoded twice: Kubernetes decodes once and the kubelet finds no JSON",
        ),
    )


# ------------------------------------------------------------------- Maven

#: The fixed passphrase plexus-cipher uses for the master password in
#: ``settings-security.xml``.
MAVEN_MASTER_PASSPHRASE = "settings.security"


@dataclass(frozen=True)
class MavenEncrypted:
    """A Maven ``{...}`` encrypted value, recognised (not yet decrypted)."""

    format: Literal["plexus", "maven4"]
    payload: str = field(repr=False)
    #: Maven 4's ``[name=...,cipher=...,version=...]`` attributes.
    attributes: Mapping[str, str] = field(default_factory=dict)
    #: Text outside the braces (Maven allows a comment around the value).
    comment: str = ""

    @property
    def readable(self) -> bool:
        """Can hardoctor decrypt it (given the master password)?"""
        return self.format == "plexus"

    @property
    def why_unreadable(self) -> str:
        if self.readable:
            return ""
        cipher = self.attributes.get("cipher", "?")
        return (
            f"encrypted with Maven 4's password dispatcher ({cipher}); its master password "
            "comes from the master source configured for Maven 4, which hardoctor does not read"
        )


_MAVEN4 = re.compile(r"^\[([^\]]*)\](.*)$", re.S)


def maven_encrypted(value: str) -> MavenEncrypted | None:
    """Recognise ``{BASE64}`` (plexus-cipher, Maven 3) and
    ``{[name=master,cipher=AES/GCM/NoPadding,version=4.0]BASE64}`` (Maven 4).

    Like plexus-cipher (its pattern is ``.*?[^\\]?\\{(.*?[^\\])\\}.*``), the
    payload is between the first unescaped ``{`` and the first unescaped
    ``}`` after it; text around it is a comment.
    """
    start = -1
    for i, c in enumerate(value):
        if c == "{" and (i == 0 or value[i - 1] != "\\"):
            start = i
            break
    end = -1
    for i in range(start + 2, len(value)):
        if value[i] == "}" and value[i - 1] != "\\":
            end = i
            break
    if start < 0 or end < 0:
        return None
    inner = value[start + 1 : end]
    comment = (value[:start] + value[end + 1 :]).strip()
    m = _MAVEN4.match(inner)
    if m:
        attrs = {}
        for item in m.group(1).split(","):
            k, _, v = item.partition("=")
            if k.strip():
                attrs[k.strip()] = v.strip()
        return MavenEncrypted("maven4", m.group(2).strip(), attrs, comment)
    payload = inner.strip()
    if not payload or not _B64_STRICT.match(payload.replace("\n", "")):
        return None
    return MavenEncrypted("plexus", payload, {}, comment)


def _plexus_key_iv(password: bytes, salt: bytes) -> tuple[bytes, bytes]:
    # plexus-cipher's PBECipher: SHA-256 over password + 8-byte salt gives
    # 32 bytes in one round; the first 16 are the AES-128 key, the rest the IV.
    digest = hashlib.sha256(password + salt[:8]).digest()
    return digest[:16], digest[16:32]


def maven_decrypt(value: str, master: str | Secret) -> Secret:
    """Decrypt a plexus-cipher ``{...}`` value with ``master``.

    Format (plexus-cipher 2.0 ``PBECipher``): base64 of salt (8 bytes) |
    padLen (1 byte) | ciphertext | padLen filler bytes; AES-128-CBC with
    PKCS#5 padding.  Raises :class:`PeelError`: ``not-encrypted``,
    ``unreadable`` (Maven 4), ``bad-base64``, ``wrong-master`` (the usual
    cause of a bad padding) -- never with the value in the message.
    """
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    enc = maven_encrypted(value)
    if enc is None:
        raise PeelError("not-encrypted", "is not a Maven {...} encrypted value")
    if not enc.readable:
        raise PeelError("unreadable", enc.why_unreadable)
    try:
        blob = base64.b64decode(enc.payload.replace("\n", ""), validate=True)
    except binascii.Error:
        raise PeelError("bad-base64", "has a payload that is not valid base64") from None
    if len(blob) < 8 + 1 + 16:
        raise PeelError("bad-length", "is too short to be a plexus-cipher value (truncated?)")
    salt, pad_len = blob[:8], blob[8]
    body = blob[9 : len(blob) - pad_len]
    if not body or len(body) % 16:
        raise PeelError("bad-length", "has a ciphertext that is not whole AES blocks (truncated?)")
    secret = master.reveal() if isinstance(master, Secret) else master
    key, iv = _plexus_key_iv(secret.encode("utf-8"), salt)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        clear = unpadder.update(padded) + unpadder.finalize()
        text = clear.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise PeelError(
            "wrong-master",
            "does not decrypt with this master password (wrong master, or the "
            "value was encrypted with another one)",
        ) from None
    return Secret(text)


def maven_encrypt(plaintext: str | Secret, master: str | Secret) -> str:
    """Encrypt ``plaintext`` with ``master`` as Maven 3's ``mvn
    --encrypt-password`` does: the ``{BASE64}`` value :func:`maven_decrypt`
    (and plexus-cipher) reads back.

    plexus-cipher 2.0 ``PBECipher.encrypt64``: a random 8-byte salt; key and
    IV from SHA-256(master + salt); AES-128-CBC with PKCS#5 padding over the
    UTF-8 text; then base64 of salt | padLen (1 byte) | ciphertext | padLen
    random filler bytes, where ``padLen = 16 - (8 + len(ciphertext) + 1) %
    16`` (always 7).  A fresh salt every call, so the same password never
    encrypts to the same value twice.  The result, its payload and the
    plaintext are registered with :mod:`hardoctor.redact`: the encrypted
    form is as good as the password to anyone holding the master.
    """
    import secrets as _random

    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from hardoctor import redact

    clear = plaintext.reveal() if isinstance(plaintext, Secret) else plaintext
    secret = master.reveal() if isinstance(master, Secret) else master
    salt = _random.token_bytes(8)
    key, iv = _plexus_key_iv(secret.encode("utf-8"), salt)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(clear.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    body = encryptor.update(padded) + encryptor.finalize()
    pad_len = 16 - (8 + len(body) + 1) % 16
    payload = base64.b64encode(salt + bytes([pad_len]) + body + _random.token_bytes(pad_len))
    value = "{" + payload.decode("ascii") + "}"
    for form in (clear, value, payload.decode("ascii")):
        redact.register(form)
    return value


def maven_decrypt_master(value: str) -> Secret:
    """The master password of ``settings-security.xml``: itself encrypted,
    with the fixed passphrase ``settings.security``."""
    return maven_decrypt(value, MAVEN_MASTER_PASSPHRASE)


@dataclass(frozen=True)
class MavenSecurity:
    """What ``settings-security.xml`` says: the encrypted master, or where
    the real file is (``<relocation>``)."""

    master: str | None = field(default=None, repr=False)
    relocation: str | None = None


def parse_settings_security(xml_text: str) -> MavenSecurity:
    """Read ``<settingsSecurity><master>`` / ``<relocation>``.  Raises
    :class:`PeelError` ``bad-xml`` on a file Maven cannot parse either."""
    import xml.etree.ElementTree as ET

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(xml_text)
    except ET.ParseError as exc:
        raise PeelError("bad-xml", f"is not well-formed XML ({exc})") from None
    except DefusedXmlException:
        # Entities and DTDs are refused: a settings-security.xml never needs them.
        raise PeelError("bad-xml", "uses a DTD or entities, which are refused") from None

    def text_of(tag: str) -> str | None:
        for el in root.iter():
            if el.tag.rsplit("}", 1)[-1] == tag and el.text and el.text.strip():
                return el.text.strip()
        return None

    master = text_of("master")
    if master:
        Secret(master)
    return MavenSecurity(master=master, relocation=text_of("relocation"))


# ------------------------------------------------------------- token inspect


class TokenInputError(Exception):
    """Bad input to ``hardoctor token inspect`` (exit 2, one line)."""


def read_one_token(stream: Any) -> Secret:
    """Read exactly one token from ``stream`` (stdin), never from argv.

    The one line break a shell pipe adds (``echo "$T" |``) is dropped; any
    other whitespace stays, so it is reported.  A terminal gets no echo.
    """
    if stream is None:
        raise TokenInputError("no token on stdin (pipe it in: hardoctor token inspect < token.txt)")
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        import getpass

        text = getpass.getpass("Token (input hidden): ")
    else:
        text = stream.read()
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text.strip():
        raise TokenInputError("no token on stdin (pipe it in: hardoctor token inspect < token.txt)")
    secret = Secret(text)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) > 1:
        raise TokenInputError(f"expected one token on stdin, got {len(lines)} lines")
    return secret


def inspect_token(ctx: Any, secret: Secret) -> TokenInfo:
    """Decode ``secret`` with every plugin's ``hardoctor_decode_secret`` (so
    the Harness decoder and its API lookup take part), as a credential with
    no registry and no storage time."""
    from hardoctor.model import Credential, Location

    cred = Credential(
        id="stdin",
        ecosystem="token",
        registry="",
        host="",
        source="stdin",
        location=Location(key="stdin"),
        secret=secret,
        scheme="bearer",
    )
    found = (
        ctx.plugins.call_first("hardoctor_decode_secret", credential=cred, ctx=ctx)
        if ctx.plugins
        else None
    )
    if found is not None:
        info: TokenInfo = found[1]
        return info
    return decode_generic(secret, "bearer", ctx.now(), ctx.options.expiry_warning_days)


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def inspect_dict(info: TokenInfo) -> dict[str, Any]:
    """The ``hardoctor/token/v1`` document of ``token inspect --format json``."""
    details = {k: v for k, v in info.details.items() if k != "problem_codes"}
    return {
        "schema": "hardoctor/token/v1",
        "kind": info.kind,
        "format": info.details.get("format"),
        "fingerprint": info.fingerprint,
        "account_id": info.account_id,
        "token_id": info.token_id,
        "issued_at": _iso(info.issued_at),
        "not_before": _iso(info.not_before),
        "expires_at": _iso(info.expires_at),
        "expiry_source": info.expiry_source,
        "status": info.status,
        "problems": list(info.problems),
        "problem_codes": list(info.details.get("problem_codes", ())),
        "details": json.loads(json.dumps(details, default=str)),
    }


def inspect_text(info: TokenInfo, now: datetime) -> str:
    def when(dt: datetime | None, source: str) -> str:
        if dt is None:
            return "-"
        delta = dt - now
        days = abs(delta.total_seconds()) / 86400
        rel = f"in {days:.1f} days" if delta.total_seconds() > 0 else f"{days:.1f} days ago"
        return f"{_iso(dt)}  ({rel}; from {source})"

    source = {
        "token": "the token itself",
        "harness-api": "the Harness API",
        "estimated": "an estimate",
        "unknown": "?",
    }[info.expiry_source]
    expires = when(info.expires_at, source)
    if info.expires_at is None:
        if info.details.get("no_expiry"):
            expires = "never (the Harness API says the token has no expiry)"
        elif info.status == "expired":
            expires = f"already expired (from {source}; date unknown)"
        else:
            expires = "unknown"
    fmt = info.details.get("format")
    issued_src = "the Harness API" if info.expiry_source == "harness-api" else "the token itself"
    rows = [
        ("kind", info.kind + (f" ({fmt})" if fmt and fmt != info.kind else "")),
        ("account", info.account_id or "-"),
        ("token id", info.token_id or "-"),
        ("fingerprint", f"#{info.fingerprint}" if info.fingerprint else "-"),
        ("issued", when(info.issued_at, issued_src)),
        ("expires", expires),
        ("status", info.status),
    ]
    for key in ("name", "email", "api_key_type", "iss", "sub", "aud"):
        if info.details.get(key):
            rows.append((key.replace("_", " "), str(info.details[key])))
    api = info.details.get("api")
    if isinstance(api, Mapping) and api.get("detail"):
        rows.append(("api", str(api["detail"])))
    estimate = info.details.get("estimate")
    if isinstance(estimate, str):
        rows.append(("estimate", estimate))
    for problem in info.problems:
        rows.append(("problem", f"the token {problem}"))
    width = max(len(k) for k, _ in rows)
    return "".join(f"{k:<{width}}  {v}\n" for k, v in rows)


def inspect_command(ctx: Any) -> tuple[str, int]:
    """``hardoctor token inspect``: exit 0 when nothing is wrong, 1 when the
    token is expired, invalid or malformed (so scripts can gate on it)."""
    secret = read_one_token(ctx.env.stdin)
    info = inspect_token(ctx, secret)
    if ctx.options.format == "json":
        text = json.dumps(inspect_dict(info), indent=2, ensure_ascii=False) + "\n"
    else:
        text = inspect_text(info, ctx.now())
    bad = info.status in ("expired", "invalid") or bool(info.problems)
    return text, 1 if bad else 0
