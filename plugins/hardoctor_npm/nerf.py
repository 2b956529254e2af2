"""URLs the way Node's WHATWG ``URL`` sees them, npm's "nerf darts", and the
path walk ``npm-registry-fetch`` does to find the auth for a request.

* ``nerfDart(url)``: ``new URL('.', url)`` -- the last path segment is dropped
  unless the URL ends in ``/`` -- then ``//host[:port]/path/`` with the host
  lower-cased and a default port (80/443) removed.
* ``regFromURI(uri)``: start at ``//host/path`` of the *request* URL and walk
  up, removing either the last segment or the last slash each step, until an
  auth key (``:_authToken``, ``:_auth``, ``:username`` + ``:_password``,
  ``:certfile`` + ``:keyfile``) exists under exactly that string.  Keys are
  compared as plain strings: an upper-case host or ``:443`` in a key never
  matches.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from hardoctor import lazyre
from hardoctor.records import dataclass

_SCHEME_RE = lazyre.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(.*)$", re.DOTALL)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_C0_SPACE = "".join(chr(c) for c in range(0x21)) + "\x7f"
# WHATWG "path percent-encode set": C0 controls, space, " # < > ? ` { }
_PATH_SAFE = "!$&'()*+,-./:;=@[\\]^_|~%"


@dataclass(frozen=True)
class Url:
    scheme: str
    #: Lower-cased host, ``[v6]`` for IPv6, without the port.
    hostname: str
    #: None when absent or the scheme's default.
    port: int | None
    path: str
    query: str = ""

    @property
    def host(self) -> str:
        """``host[:port]`` exactly as ``URL.host`` (default port dropped)."""
        return self.hostname if self.port is None else f"{self.hostname}:{self.port}"

    @property
    def href(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}" + (f"?{self.query}" if self.query else "")


def _normalize_path(path: str) -> str:
    segs = path.split("/")
    out: list[str] = []
    for i, seg in enumerate(segs[1:], 1):
        low = seg.lower()
        last = i == len(segs) - 1
        if low in (".", "%2e"):
            if last:
                out.append("")
            continue
        if low in ("..", ".%2e", "%2e.", "%2e%2e"):
            if out:
                out.pop()
            if last:
                out.append("")
            continue
        out.append(seg)
    encoded = [quote(s, safe=_PATH_SAFE) for s in out]
    return "/" + "/".join(encoded)


def parse_url(value: str) -> Url | None:
    """Parse an http(s) URL like Node's ``new URL(value)``; None when Node
    would throw (or for other schemes, which npm cannot use)."""
    v = value.strip(_C0_SPACE)
    v = v.replace("\t", "").replace("\n", "").replace("\r", "")
    m = _SCHEME_RE.match(v)
    if not m:
        return None
    scheme = m.group(1).lower()
    if scheme not in ("http", "https"):
        return None
    rest = m.group(2).replace("\\", "/")
    rest = rest.lstrip("/")
    # authority ends at the first / ? #
    end = len(rest)
    for ch in "/?#":
        i = rest.find(ch)
        if i != -1:
            end = min(end, i)
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        authority = authority.rsplit("@", 1)[1]
    host_port = _host_port(authority, scheme)
    if host_port is None:
        return None
    hostname, port = host_port
    frag = tail.find("#")
    if frag != -1:
        tail = tail[:frag]
    query = ""
    q = tail.find("?")
    if q != -1:
        tail, query = tail[:q], tail[q + 1 :]
    path = _normalize_path(tail or "/")
    return Url(scheme, hostname, port, path, query)


def _host_port(authority: str, scheme: str) -> tuple[str, int | None] | None:
    """(host, port) of an authority the way Node's URL parser reads it
    (the scheme's default port dropped); None when Node would throw."""
    if authority.startswith("["):
        close = authority.find("]")
        if close == -1:
            return None
        hostname = authority[: close + 1].lower()
        after = authority[close + 1 :]
        if after and not after.startswith(":"):
            return None
        port_text = after[1:]
    else:
        hostname, _, port_text = authority.partition(":")
        hostname = hostname.lower()
        try:
            hostname = hostname.encode("idna").decode("ascii") if not hostname.isascii() else hostname
        except UnicodeError:
            return None
        if not hostname or any(c in hostname for c in " #%/:<>?@[\\]^|"):
            return None
    if not port_text:
        return hostname, None
    if not port_text.isdigit() or not port_text.isascii() or int(port_text) > 65535:
        return None
    port = int(port_text)
    return hostname, None if port == _DEFAULT_PORTS.get(scheme) else port


def nerf_dart(url: str) -> str | None:
    """npm's ``nerfDart``: ``//host[:port]/dir/`` of ``url``, or None for a
    value Node cannot parse (npm itself then throws ``Invalid URL``)."""
    parsed = parse_url(url)
    if parsed is None:
        return None
    path = parsed.path
    directory = path[: path.rfind("/") + 1] if "/" in path else "/"
    return f"//{parsed.host}{directory}"


def walk(uri: str) -> list[str]:
    """The registry keys ``regFromURI`` tries for a request URL, in order."""
    parsed = parse_url(uri)
    if parsed is None:
        return []
    key = f"//{parsed.host}{parsed.path}"
    out: list[str] = []
    while len(key) > 2:
        out.append(key)
        key = re.sub(r"([^/]+|/)$", "", key)
    return out


def same_host(a: str, b: str) -> bool:
    pa, pb = parse_url(a), parse_url(b)
    return pa is not None and pb is not None and pa.host == pb.host


def escaped_name(name: str) -> str:
    """npm-package-arg's ``escapedName``: ``@scope%2fname`` for scoped names."""
    if name.startswith("@") and "/" in name:
        return name.replace("/", "%2f", 1)
    return name


def packument_url(registry: str, name: str) -> str:
    """pacote's packument URL: the registry without trailing slashes, ``/``,
    the escaped name."""
    return registry.rstrip("/") + "/" + escaped_name(name)


def split_key(key: str) -> tuple[str, str] | None:
    """``//host/path/:_authToken`` -> (``//host/path/``, ``_authToken``).
    npm splits nerf-dart keys at the last ``:``."""
    if not key.startswith("//") or ":" not in key[2:]:
        return None
    prefix, _, field = key.rpartition(":")
    if prefix == "/" or not prefix.startswith("//"):
        return None
    # //host:8080 with no field is a key "//host" + field "8080": not a nerf dart key.
    if field.isdigit():
        return None
    return prefix, field


def key_host(prefix: str) -> str:
    """The host[:port] part of a nerf dart (``//Host:443/path/`` -> ``Host:443``)."""
    rest = prefix[2:]
    return rest.split("/", 1)[0]


def key_path(prefix: str) -> str:
    rest = prefix[2:]
    return "/" + rest.split("/", 1)[1] if "/" in rest else ""
