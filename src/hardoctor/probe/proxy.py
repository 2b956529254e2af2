"""Which proxy a client would use for a URL (``HTTPS_PROXY``/``NO_PROXY``).

Go's rules (``golang.org/x/net/http/httpproxy``), since Docker, podman, Helm
and kubectl are Go programs and the other clients agree on everything that
matters here: upper-case names win over lower-case, ``NO_PROXY`` entries match
the host and its subdomains, ``*`` disables proxying, CIDRs match IP hosts,
and loopback hosts are never proxied.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from hardoctor import lazyre
from hardoctor.parsing import url_problem
from hardoctor.probe.classify import TransportFailure
from hardoctor.probe.tls import is_loopback, split_host


def _get(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name.upper()) or environ.get(name.lower()) or ""


def _which(environ: Mapping[str, str], name: str) -> str:
    """The spelling of ``name`` whose value :func:`_get` returns."""
    return name.upper() if environ.get(name.upper()) else name.lower()


def _bypass(host: str, port: int | None, no_proxy: str) -> bool:
    host = host.lower().rstrip(".")
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:  # CIDR
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name, eport = split_host(entry)
        if eport is not None and port is not None and eport != port:
            continue
        name = name.lstrip("*").rstrip(".")
        if name.startswith("."):
            if host.endswith(name) or host == name[1:]:
                return True
        elif host == name or host.endswith("." + name):
            return True
    return False


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy URL a client uses for ``url``, or None for a direct connection."""
    found = proxy_setting(url, environ)
    return found[1] if found is not None else None


def proxy_setting(url: str, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(the variable's name, the proxy URL) a client uses for ``url``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    if not host or is_loopback(host) or (host.startswith("[") and is_loopback(host)):
        return None
    scheme = parts.scheme.lower()
    if port is None:
        port = 443 if scheme == "https" else 80
    name = "https_proxy" if scheme == "https" else "http_proxy"
    proxy = _get(environ, name)
    if not proxy:
        return None
    if _bypass(host, port, _get(environ, "no_proxy")):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy  # Go and curl accept a bare host:port
    return _which(environ, name), proxy


_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h", "socks4", "socks4a")
_USERINFO = lazyre.compile(r"(?<=//)[^/?#]*@")


def proxy_problem(proxy: str) -> str | None:
    """What makes ``proxy`` unusable as a proxy URL, in words (never its
    text), or None."""
    try:
        parts = urlsplit(proxy)
        port = parts.port
    except ValueError as exc:
        return url_problem(exc)
    if parts.scheme.lower() not in _PROXY_SCHEMES:
        return "its scheme is not http, https or socks"
    if not parts.hostname:
        return "it names no host"
    if port == 0:
        return "an invalid port"
    return None


def describe_proxy(name: str, proxy: str) -> str:
    """``NAME=scheme://host:port`` for a message: any userinfo is replaced by
    ``***``, and a value that cannot be parsed is shown only by its length."""
    if proxy_problem(proxy) is not None:
        return f"{name} (a malformed value of {len(proxy)} characters)"
    shown = display_proxy(proxy)
    if _USERINFO.search(proxy):
        scheme, _, rest = shown.partition("://")
        shown = f"{scheme}://***@{rest}"
    return f"{name}={shown}"


def display_proxy(proxy: str) -> str:
    """``scheme://host:port`` of a proxy URL, without any userinfo."""
    parts = urlsplit(proxy)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def sent_in_clear(url: str, began_https: bool) -> bool:
    """A credential sent to ``url`` travels in clear: plain http to a host
    that is not loopback, or a loopback host after an https start."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return False
    return began_https or not is_loopback(parts.netloc.rpartition("@")[2])


def blame_proxy(failure: TransportFailure, proxy: str | None) -> TransportFailure:
    """Through a proxy the client only ever connects to the proxy (the proxy
    resolves and dials the registry, and answers an HTTP error when it
    cannot): a refused, unresolvable or silent connection is the proxy's."""
    from dataclasses import replace

    if proxy is None:
        return failure
    what = {
        ("connection-error", "refused"): ("proxy-unreachable", "refused the connection"),
        ("connection-error", "unreachable"): ("proxy-unreachable", "is unreachable"),
        ("connection-error", "reset"): ("proxy-unreachable", "reset the connection"),
        ("dns-error", "no-such-host"): ("proxy-unresolvable", "has a host name that does not resolve"),
        ("dns-error", "temporary"): ("proxy-unresolvable", "could not be resolved (temporary DNS failure)"),
        ("timeout", "connect"): ("proxy-timeout", "did not accept a connection in time"),
    }.get((failure.outcome, failure.kind))
    if failure.outcome == "proxy-error":
        return replace(failure, proxy=proxy, detail=f"{failure.detail} ({proxy})")
    if what is None:
        return replace(failure, proxy=proxy)
    kind, words = what
    return replace(failure, outcome="proxy-error", kind=kind, detail=f"the proxy {proxy} {words}",
                   proxy=proxy)
