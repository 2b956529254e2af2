"""Maven's ``<proxies>``: which proxy Maven uses for a repository URL.

maven-resolver's ``DefaultProxySelector``: among the active proxies (user
settings first, then global), the first of each ``<protocol>`` whose
``<nonProxyHosts>`` (``|``-separated, ``*`` wildcards, case-insensitive)
does not match the repository host; an https repository takes the
``https`` proxy, else the ``http`` one.  Maven reads no ``HTTPS_PROXY``.
The proxy itself is always spoken to over plain http (``CONNECT``).
"""

from __future__ import annotations

import fnmatch
import os
from urllib.parse import quote, urlsplit

from hardoctor.model import Secret

from .mvnfiles import SettingsFile
from .state import World


def _candidates(sf: SettingsFile, host: str, label: str) -> list[tuple[str, str, str]]:
    """(protocol, label, proxy URL) of every active proxy that applies to ``host``."""
    out = []
    for elem in sf.doc.root.path("proxies", "proxy"):
        if (elem.value("active") or "true").strip().lower() == "false":
            continue
        proxy_host = (elem.value("host") or "").strip()
        if not proxy_host:
            continue
        patterns = (elem.value("nonProxyHosts") or "").replace(",", "|").split("|")
        if any(p.strip() and fnmatch.fnmatch(host.lower(), p.strip().lower()) for p in patterns):
            continue
        user = (elem.value("username") or "").strip()
        password = elem.value("password") or ""
        userinfo = ""
        if user:
            Secret(password)  # registered: the proxy password is a secret too
            userinfo = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
            userinfo += "@"
        port = (elem.value("port") or "8080").strip()
        name = (elem.value("id") or proxy_host).strip()
        out.append(((elem.value("protocol") or "http").strip().lower(),
                    f"{label} <proxy> {name}", f"http://{userinfo}{proxy_host}:{port}"))
    return out


def maven_proxy(w: World, url: str, display: dict[str, str]) -> tuple[str, str] | None:
    """(where it is set, the proxy URL) Maven uses for ``url``, or None."""
    parts = urlsplit(url)
    host, scheme = parts.hostname or "", parts.scheme.lower()
    chosen: dict[str, tuple[str, str]] = {}
    for entry in (w.user, w.glob):
        if entry is None or not isinstance(entry.parsed, SettingsFile):
            continue
        label = display.get(entry.path) or os.path.basename(entry.path)
        for protocol, name, proxy in _candidates(entry.parsed, host, label):
            chosen.setdefault(protocol, (name, proxy))
    found = chosen.get(scheme)
    if found is None and scheme == "https":
        found = chosen.get("http")
    return found
