"""What the Docker daemon trusts for a registry: ``certs.d`` and the
daemon's ``insecure-registries``.

The Docker plugin describes this on every resolution it makes
(``Resolution.tls``) so the OCI protocol plugin walks with exactly the trust
the daemon has.  Paths come from the *injected* environment (tests point
them elsewhere with ``HARDOCTOR_DOCKER_CERTS_D`` / ``HARDOCTOR_DOCKER_DAEMON_JSON``).
"""

from __future__ import annotations

import glob
import ipaddress
import json
import os
from collections.abc import Mapping

from hardoctor.files import read_bounded
from hardoctor.probe.tls import TLSOptions, is_loopback, split_host

#: Where Docker looks for per-registry CA and client certificates.
DOCKER_CERTS_D = "/etc/docker/certs.d"
DOCKER_DAEMON_JSON = "/etc/docker/daemon.json"
#: Test/override hooks for the two Docker paths above.
ENV_CERTS_D = "HARDOCTOR_DOCKER_CERTS_D"
ENV_DAEMON_JSON = "HARDOCTOR_DOCKER_DAEMON_JSON"


def certs_d_root(environ: Mapping[str, str]) -> str:
    return environ.get(ENV_CERTS_D) or DOCKER_CERTS_D


def docker_certs(
    host: str, environ: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(CA files, client (cert, key) pairs) Docker uses for ``host``
    (``host[:port]`` exactly as in the image reference), from
    ``certs.d/HOST[:PORT]/``: ``*.crt`` are CAs, ``X.cert`` + ``X.key`` a
    client certificate."""
    folder = os.path.join(certs_d_root(environ), host)
    if not os.path.isdir(folder):
        return (), ()
    cas = tuple(sorted(glob.glob(os.path.join(glob.escape(folder), "*.crt"))))
    pairs: list[tuple[str, str]] = []
    for cert in sorted(glob.glob(os.path.join(glob.escape(folder), "*.cert"))):
        key = cert[: -len(".cert")] + ".key"
        if os.path.isfile(key):
            pairs.append((cert, key))
    return cas, tuple(pairs)


def docker_insecure_registries(environ: Mapping[str, str]) -> tuple[str, ...]:
    """``insecure-registries`` of the Docker daemon config (empty when unreadable)."""
    path = environ.get(ENV_DAEMON_JSON) or DOCKER_DAEMON_JSON
    raw = read_bounded(path)
    try:
        data = json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):
        return ()
    entries = data.get("insecure-registries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return ()
    return tuple(e for e in entries if isinstance(e, str))


def _entry_matches(entry: str, host: str, name: str) -> bool:
    entry = entry.strip().lower()
    for prefix in ("http://", "https://"):
        if entry.startswith(prefix):
            entry = entry[len(prefix) :]
    entry = entry.rstrip("/")
    if entry == host.lower():
        return True
    if "/" not in entry:
        return False
    try:
        return ipaddress.ip_address(name) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False


def docker_is_insecure(host: str, environ: Mapping[str, str]) -> bool:
    """Would the Docker daemon talk to ``host`` without TLS verification and
    fall back to plain http?  Loopback always (Docker adds 127.0.0.0/8
    itself), plus each ``insecure-registries`` entry: ``host[:port]`` or a
    CIDR (matched against IP-literal hosts only; Docker also resolves names,
    which a probe that must not do surprise DNS work does not imitate)."""
    if is_loopback(host):
        return True
    name = split_host(host)[0]
    return any(_entry_matches(e, host, name) for e in docker_insecure_registries(environ))


def docker_tls(host: str, environ: Mapping[str, str]) -> TLSOptions:
    """What the Docker daemon trusts for ``host``: the environment's store
    plus ``certs.d/HOST``; no verification and a plain-http fallback for
    insecure registries."""
    if docker_is_insecure(host, environ):
        return TLSOptions(verify=False, plain_http=True)
    cas, pairs = docker_certs(host, environ)
    return TLSOptions(extra_cafiles=cas, client_certs=pairs)
