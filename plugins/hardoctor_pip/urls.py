"""Index URLs the way pip takes them apart, with the raw userinfo's position.

pip splits credentials out of an index URL with ``split_auth_from_netloc``:
the netloc is what ``urllib.parse.urlsplit`` says (it ends at the first
``/``, ``?`` or ``#``), the userinfo is everything before its *last* ``@``,
the username ends at the first ``:``, and both parts are percent-decoded.
A raw ``@`` in an e-mail username therefore works in pip (and uv), but a
``/``, ``?`` or ``#`` in a password cuts the URL short -- pip then talks to
a host named after a piece of the password.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from hardoctor import lazyre
from hardoctor.records import dataclass

PYPI_HOSTS = frozenset({"pypi.org", "pypi.python.org", "files.pythonhosted.org", "test.pypi.org"})
DEFAULT_INDEX = "https://pypi.org/simple"

# Characters allowed raw in RFC 3986 userinfo (unreserved, sub-delims, ":",
# and "%" starting a %XX escape).
_USERINFO_OK = lazyre.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:]")
_PCT = lazyre.compile(r"%[0-9A-Fa-f]{2}")
#: A ``%`` that starts no escape, or a character userinfo may not hold raw.
_USERINFO_BAD = lazyre.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:%]")
_MISPARSED = lazyre.compile(r"[/?#\s]")
_SCHEME = lazyre.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class IndexUrl:
    """One index URL as written (``raw``), and what pip makes of it."""

    raw: str
    #: The URL without userinfo (never holds a secret).
    bare: str
    scheme: str
    #: host[:port] as pip sees it (lower-cased host).
    host: str
    hostname: str
    port: int | None
    path: str
    username: str | None = None
    password: str | None = None
    #: The netloc as ``urlsplit`` gives it (userinfo included).
    netloc: str = ""

    @property
    def has_credentials(self) -> bool:
        return self.username is not None or self.password is not None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.hostname)

    @property
    def is_pypi(self) -> bool:
        return self.hostname in PYPI_HOSTS

    def netrc_lookup(self, by_hostname: bool = True) -> str:
        """The name requests looks up in .netrc for this URL.  requests
        2.32.4+ (pip 25.2+) uses the host name; older requests use
        ``netloc.split(":")[0]`` -- the port stripped, but a username
        without a password stays in front (``user@host``) and never matches."""
        if by_hostname or (self.username is not None and self.password is not None):
            return self.hostname  # (pip never gets to netrc with a full user:password)
        return self.netloc.split(":")[0]


@dataclass(frozen=True)
class UserinfoProblem:
    """Userinfo written with characters that must be percent-encoded."""

    #: Offsets of the userinfo as the person wrote it, in the raw value.
    start: int
    end: int
    #: The offending characters (deduplicated, in order).
    chars: tuple[str, ...]
    #: True when they change what pip parses (``/``, ``?``, ``#`` end the
    #: host part early); False for a raw ``@`` or ``%``, which pip survives.
    misparsed: bool
    #: The userinfo, percent-encoded the way it was meant.
    encoded: str


def is_loopback(hostname: str) -> bool:
    name = hostname.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_index_url(raw: str) -> IndexUrl | None:
    """Take an index URL apart like pip; ``None`` when it is not an
    http(s) URL pip could use (a path, a file: URL, garbage)."""
    value = raw.strip()
    m = _SCHEME.match(value)
    if not m or m.group(1).lower() not in ("http", "https"):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    netloc = parts.netloc
    hostport = netloc.rsplit("@", 1)[-1]
    hostname = (parts.hostname or "").lower()
    if not hostname or any(c.isspace() for c in hostport):
        return None
    username = password = None
    if "@" in netloc:
        auth = netloc.rsplit("@", 1)[0]
        if ":" in auth:
            u, p = auth.split(":", 1)
            username, password = unquote(u), unquote(p)
        else:
            username = unquote(auth)
    shown = f"[{hostname}]" if ":" in hostname else hostname
    host = shown if port is None else f"{shown}:{port}"
    bare = urlunsplit((parts.scheme.lower(), hostport, parts.path, parts.query, parts.fragment))
    return IndexUrl(
        raw=raw,
        bare=bare,
        scheme=parts.scheme.lower(),
        host=host,
        hostname=hostname,
        port=port,
        path=parts.path,
        username=username,
        password=password,
        netloc=netloc,
    )


_MEANT = lazyre.compile(
    r"^(?P<ui>.*)@(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_]+)(?::\d*)?(?:[/?#]|$)", re.S
)


def userinfo_problem(raw: str) -> UserinfoProblem | None:
    """Find userinfo written with reserved characters left raw.

    The userinfo a person *meant* runs from after ``://`` to the last ``@``
    that is followed by a host and then ``/``, ``?``, ``#`` or the end.
    """
    m = _SCHEME.match(raw.lstrip())
    if not m:
        return None
    offset = len(raw) - len(raw.lstrip()) + m.end()
    mm = _MEANT.match(raw[offset:])
    if not mm:
        return None
    ui = mm.group("ui")
    # One regex pass (a multi-megabyte password costs milliseconds).
    bad = _USERINFO_BAD.findall(ui)
    if not bad:
        return None
    return UserinfoProblem(
        start=offset,
        end=offset + len(ui),
        chars=tuple(dict.fromkeys(bad)),
        misparsed=_MISPARSED.search(ui) is not None,
        encoded=encode_userinfo(ui),
    )


def encode_userinfo(ui: str) -> str:
    """Percent-encode what must be encoded in a userinfo, keeping the first
    ``:`` as the separator and every existing valid ``%XX`` escape as it is
    (so pip decodes the result to exactly the username and password meant)."""
    user, sep, pw = ui.partition(":")
    return _encode_part(user) + sep + _encode_part(pw, keep_colon=True)


def _encode_part(text: str, keep_colon: bool = False) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%" and _PCT.match(text, i):
            out.append(text[i : i + 3])
            i += 3
            continue
        if _USERINFO_OK.match(ch) and (ch != ":" or keep_colon):
            out.append(ch)
        else:
            out.append(quote(ch, safe=""))
        i += 1
    return "".join(out)


def with_userinfo(bare: str, userinfo: str | None) -> str:
    """``bare`` with ``userinfo@`` put in front of the host."""
    m = _SCHEME.match(bare)
    if not m or not userinfo:
        return bare
    return bare[: m.end()] + userinfo + "@" + bare[m.end() :]


def normalize_project(name: str) -> str:
    """PEP 503 normalised project name (what pip puts in the URL)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_url(index: str, project: str) -> str:
    """``<index>/<project>/`` as pip's ``PackageFinder`` builds it."""
    return index.rstrip("/") + "/" + quote(normalize_project(project)) + "/"


def display(raw: str) -> str:
    """An index URL for messages: userinfo replaced by ``****`` like pip's
    own ``redact_auth_from_url`` (also when the userinfo is malformed)."""
    value = raw.strip()
    m = _SCHEME.match(value)
    if not m:
        return "****@" + value.rsplit("@", 1)[-1] if "@" in value else value
    rest = value[m.end() :]
    mm = _MEANT.match(rest)
    if mm:
        return value[: m.end()] + "****@" + rest[mm.start("host") :]
    return value


def same_index(a: str, b: str) -> bool:
    """Do two index URLs name the same index (ignoring userinfo, case of
    scheme and host, and a trailing slash)?"""
    pa, pb = parse_index_url(a), parse_index_url(b)
    if pa is None or pb is None:
        return a.strip().rstrip("/") == b.strip().rstrip("/")
    return (pa.scheme, pa.host, pa.path.rstrip("/")) == (pb.scheme, pb.host, pb.path.rstrip("/"))


def netloc_end(raw: str, start: int) -> int:
    """End of what the person meant as netloc: the '/' after the last '@'."""
    at = raw.rfind("@", start)
    base = at if at >= 0 else start
    ends = [i for i in (raw.find(c, base) for c in "/?#") if i >= 0]
    return min(ends) if ends else len(raw)


def path_end(raw: str) -> int:
    s = raw.index("://") + 3 if "://" in raw else 0
    start = netloc_end(raw, s)
    ends = [i for i in (raw.find(c, start) for c in "?#") if i >= 0]
    end = min(ends) if ends else len(raw.rstrip())
    return end
