"""Parsing of command-line targets and registry hosts.

The image-reference grammar lives here because the distribution protocol's
grammar is shared by several plugins.  Which registry a reference without a
host means (and which host names are the same registry) is each client's own
rule, so the plugins pass it in as a :class:`DefaultRegistry`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from hardoctor import lazyre
from hardoctor.model import Target
from hardoctor.records import dataclass


@dataclass(frozen=True)
class DefaultRegistry:
    """The registry a client pulls from when an image reference names no
    host, the other host names that mean the same registry, and the
    namespace a one-component name lives in."""

    host: str
    aliases: frozenset[str] = frozenset()
    namespace: str | None = None

    def owns(self, host: str) -> bool:
        h = host.lower()
        return h == self.host or h in self.aliases

    def canonical(self, host: str) -> str:
        return self.host if self.owns(host) else host

_HOST_RE = lazyre.compile(
    r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$"
)
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG_RE = lazyre.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = lazyre.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")


@dataclass(frozen=True)
class ImageRef:
    host: str  # the default registry's host when the reference names none
    path: str  # repository path, e.g. "library/nginx"
    tag: str | None
    digest: str | None
    explicit_host: bool

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        ref = f"@{self.digest}" if self.digest else f":{self.tag or 'latest'}"
        return f"{self.host}/{self.path}{ref}"


def valid_host(host: str) -> bool:
    return bool(_HOST_RE.match(host))


def parse_image_reference(value: str, default: DefaultRegistry | None = None) -> ImageRef | None:
    """Parse ``[HOST[:PORT]/]PATH[:TAG][@DIGEST]`` by the distribution
    reference grammar.

    The first component is a host when it contains ``.`` or ``:`` or is
    ``localhost``; otherwise the image is on the client's ``default``
    registry (its namespace added for single-component names), and without
    one the reference is not understood.  Upper-case letters are not allowed in the path
    (Docker refuses them; HAR's upper-case account IDs are a classic mistake
    that the HAR plugin reports), so the path is validated case-insensitively
    here and left as written.
    """
    value = value.strip()
    if not value or "://" in value or any(c.isspace() for c in value):
        return None
    digest = None
    if "@" in value:
        value, digest = value.split("@", 1)
        if not _DIGEST_RE.match(digest):
            return None
    tag = None
    last = value.rsplit("/", 1)[-1]
    if ":" in last:
        value, tag = value.rsplit(":", 1)
        if not _TAG_RE.match(tag):
            return None
    parts = value.split("/")
    explicit = len(parts) > 1 and (
        "." in parts[0] or ":" in parts[0] or parts[0] == "localhost" or parts[0].startswith("[")
    )
    if explicit:
        host, path_parts = parts[0], parts[1:]
        if not valid_host(host):
            return None
    elif default is not None:
        host, path_parts = default.host, parts
    else:
        return None
    if not path_parts or not all(re.fullmatch(_PATH_COMPONENT, p.lower()) for p in path_parts):
        return None
    if default is not None and default.owns(host):
        host = default.host
        if len(path_parts) == 1 and default.namespace:
            path_parts = [default.namespace, *path_parts]
    return ImageRef(host, "/".join(path_parts), tag, digest, explicit)


def split_host_url(value: str) -> tuple[str, str | None] | None:
    """``host[:port]`` and the URL (when one was given) of a registry value:
    a bare host, ``host/path`` or ``scheme://host/path``."""
    value = value.strip()
    if not value:
        return None
    if "://" in value:
        try:
            parts = urlsplit(value)
            host = parts.hostname
            port = parts.port
        except ValueError:
            return None
        if not host:
            return None
        netloc = host if port is None else f"{host}:{port}"
        if ":" in host and not host.startswith("["):
            netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
        return netloc.lower(), value
    host = value.split("/", 1)[0]
    if not valid_host(host):
        return None
    return host.lower(), None


def parse_registry_target(value: str) -> Target | None:
    split = split_host_url(value)
    if split is None:
        return None
    host, url = split
    name = None
    if url is None and "/" in value.strip():
        name = value.strip().split("/", 1)[1].strip("/") or None
    return Target(raw=value, kind="registry", host=host, name=name, url=url)


def normalize_host(value: str, default: DefaultRegistry | None = None) -> str:
    """host[:port] of a registry key or URL, lower-cased; the aliases of a
    client's ``default`` registry become its host."""
    split = split_host_url(value)
    if split is None:
        return value.strip().lower()
    host = split[0]
    return default.canonical(host) if default is not None else host


def host_matches(pattern: str, value: str) -> bool:
    """Does a ``--registry`` value select this host (or URL)?  A pattern
    without a port matches any port of that host."""
    want = normalize_host(pattern)
    have = normalize_host(value)
    if want == have:
        return True
    if ":" not in want.rsplit("]", 1)[-1]:
        return have.rsplit(":", 1)[0] == want if not have.startswith("[") else False
    return False


# -- near-miss credentials: the same registry under another name ------------------

#: Names that always mean this machine.  Only literal forms: DNS is never
#: asked to call two hosts the same.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_DEFAULT_PORTS = {"https": "443", "http": "80"}


@dataclass(frozen=True)
class RegistryName:
    """A registry key or URL taken apart literally: ``scheme`` is "" when
    none is written, ``port`` "" when none is."""

    scheme: str
    host: str
    port: str
    path: str


def registry_name(value: str) -> RegistryName | None:
    """``https://Host:443/path/``, ``//host/path/`` (a nerf dart),
    ``host:5000`` -> its literal parts (host lower-cased, no brackets)."""
    v = value.strip()
    m = re.match(r"^(?:([A-Za-z][A-Za-z0-9+.-]*):)?//", v)
    scheme = (m.group(1) or "").lower() if m else ""
    rest = v[m.end():] if m else v
    rest = rest.rsplit("@", 1)[-1] if "@" in rest.split("/", 1)[0] else rest
    hostport, _, path = rest.partition("/")
    if hostport.startswith("["):
        host, _, tail = hostport[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    elif hostport.count(":") == 1:
        host, port = hostport.split(":")
    else:
        host, port = hostport, ""
    if not host or (port and not port.isdigit()):
        return None
    return RegistryName(scheme, host.lower(), port, "/" + path.strip("/") if path.strip("/") else "")


@dataclass(frozen=True)
class AliasMatch:
    """How two names of the same registry differ: ``kinds`` holds
    ``loopback`` (localhost / 127.0.0.1 / [::1]), ``default-port`` (``:443``
    or ``:80`` written on one side only), ``scheme`` (a scheme prefix on
    one side only), ``trailing-slash`` and ``case``.  Empty: the same text."""

    kinds: frozenset[str]

    def describe(self) -> str:
        words = {"loopback": "localhost, 127.0.0.1 and [::1] are all this machine",
                 "default-port": "the port written is the scheme's default",
                 "scheme": "one is written with a scheme prefix",
                 "trailing-slash": "they differ in a trailing slash",
                 "case": "they differ in letter case"}
        return "; ".join(words[k] for k in sorted(self.kinds))


def same_registry_aliases(a: str, b: str) -> AliasMatch | None:
    """Do ``a`` and ``b`` name the same registry, by literal forms and
    well-known aliases only (loopback names, default ports, scheme prefixes,
    a trailing slash, letter case)?  None when they do not; the match says
    how they differ, so each client plugin can drop what its client already
    normalises and call the rest a near miss."""
    na, nb = registry_name(a), registry_name(b)
    if na is None or nb is None:
        return None
    kinds: set[str] = set()
    if na.host != nb.host:
        if not (na.host in LOOPBACK_NAMES and nb.host in LOOPBACK_NAMES):
            return None
        kinds.add("loopback")
    if na.scheme and nb.scheme and na.scheme != nb.scheme:
        return None
    if bool(na.scheme) != bool(nb.scheme):
        kinds.add("scheme")
    if na.port != nb.port:
        if na.port and nb.port:
            return None
        scheme = na.scheme or nb.scheme
        allowed = ({_DEFAULT_PORTS[scheme]} if scheme in _DEFAULT_PORTS
                   else set(_DEFAULT_PORTS.values()))
        if (na.port or nb.port) not in allowed:
            return None
        kinds.add("default-port")
    if na.path.lower() != nb.path.lower():
        return None
    if na.path != nb.path:
        kinds.add("case")
    sa = a.strip().split("?", 1)[0]
    sb = b.strip().split("?", 1)[0]
    if sa.endswith("/") != sb.endswith("/") and (na.path or nb.path or "://" in sa + sb):
        kinds.add("trailing-slash")
    if not kinds and sa != sb and sa.lower() == sb.lower():
        kinds.add("case")
    return AliasMatch(frozenset(kinds))
