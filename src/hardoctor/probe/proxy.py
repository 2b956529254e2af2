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

from hardoctor.probe.tls import is_loopback, split_host


def _get(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name.upper()) or environ.get(name.lower()) or ""


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
    proxy = _get(environ, "https_proxy" if scheme == "https" else "http_proxy")
    if not proxy:
        return None
    if _bypass(host, port, _get(environ, "no_proxy")):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy  # Go and curl accept a bare host:port
    return proxy


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
