"""Which certificates a client trusts: TLS contexts that client plugins describe.

A probe must trust exactly what the client would: a probe that passes because
hardoctor trusts more than the client does (or fails because it trusts less)
diagnoses the wrong thing.  Everything is read from the *injected*
environment (``ctx.env.environ``), never from ``os.environ``, so tests and
``--project`` runs see what they set up.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Mapping

from hardoctor.records import dataclass


@dataclass(frozen=True)
class TLSOptions:
    """What one client trusts for one request.

    ``cafile``/``capath`` *replace* the default trust store (as
    ``SSL_CERT_FILE`` does for OpenSSL and Go, ``REQUESTS_CA_BUNDLE`` for
    requests, ``cafile`` for npm); ``extra_cafiles`` are added on top of it
    (a container engine's per-registry CA folder, ``NODE_EXTRA_CA_CERTS``).
    ``verify=False`` is for registries the client itself does not verify
    (insecure registries).
    ``None`` for ``cafile`` means: take it from the environment.
    """

    verify: bool = True
    cafile: str | None = None
    capath: str | None = None
    extra_cafiles: tuple[str, ...] = ()
    client_certs: tuple[tuple[str, str], ...] = ()
    #: Ignore SSL_CERT_FILE & co. (a client that does not read them).
    ignore_env: bool = False
    #: The client retries an https URL over plain http when https fails (a
    #: registry it treats as insecure); see ``ProbeSession.request``.
    plain_http: bool = False
    #: The client's own proxy setting, used instead of HTTPS_PROXY /
    #: HTTP_PROXY: (its name for messages, e.g. ``npm config https-proxy``,
    #: the proxy URL).  Loopback hosts still go direct.
    proxy: tuple[str, str] | None = None
    #: The client honours HTTPS_PROXY / HTTP_PROXY (False: a client that
    #: reads only its own settings, like Maven, goes direct without one).
    env_proxy: bool = True


@dataclass(frozen=True)
class ResolvedTLS:
    """TLSOptions with the environment applied: a hashable cache key."""

    verify: bool
    cafile: str | None
    capath: str | None
    extra_cafiles: tuple[str, ...]
    client_certs: tuple[tuple[str, str], ...]


def resolve_tls(options: TLSOptions | None, environ: Mapping[str, str]) -> ResolvedTLS:
    opts = options or TLSOptions()
    cafile, capath = opts.cafile, opts.capath
    if cafile is None and capath is None and not opts.ignore_env:
        cafile = environ.get("SSL_CERT_FILE") or environ.get("REQUESTS_CA_BUNDLE") or None
        capath = environ.get("SSL_CERT_DIR") or None
    return ResolvedTLS(
        verify=opts.verify,
        cafile=cafile,
        capath=capath,
        extra_cafiles=tuple(opts.extra_cafiles),
        client_certs=tuple(opts.client_certs),
    )


def build_ssl_context(tls: ResolvedTLS) -> ssl.SSLContext:
    """An SSLContext for ``tls``.

    The system store is loaded from OpenSSL's *compiled-in* paths, not through
    ``set_default_verify_paths()``: that one reads ``SSL_CERT_FILE`` from the
    process environment, which is not the environment being diagnosed.
    Raises ``OSError``/``ssl.SSLError`` when a configured file is unusable.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif tls.cafile or tls.capath:
        context.load_verify_locations(cafile=tls.cafile, capath=tls.capath)
    else:
        paths = ssl.get_default_verify_paths()
        loaded = False
        if paths.openssl_cafile and os.path.isfile(paths.openssl_cafile):
            context.load_verify_locations(cafile=paths.openssl_cafile)
            loaded = True
        if paths.openssl_capath and os.path.isdir(paths.openssl_capath):
            context.load_verify_locations(capath=paths.openssl_capath)
            loaded = True
        if not loaded:
            try:  # a Python without a system store (some macOS builds)
                import certifi

                context.load_verify_locations(cafile=certifi.where())
            except ImportError:
                pass
    if tls.verify:
        for extra in tls.extra_cafiles:
            context.load_verify_locations(cafile=extra)
    for cert, key in tls.client_certs:
        context.load_cert_chain(cert, key)
    return context


def plain_http(url: str, proxy: object | None) -> bool:
    """A request to ``url`` speaks no TLS at all (``http://``, no proxy)."""
    return proxy is None and url[:7].lower() == "http://"


def no_tls_context() -> ssl.SSLContext:
    """The context for a client that only speaks plain HTTP: verifying, with
    an empty trust store, so a TLS handshake that happened anyway would fail
    closed.  Loading the system store costs 30-60 ms of a run's start-up for
    nothing when every registry of the run is ``http://`` (a local mirror)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


# -- hosts ---------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Is ``host`` (``host[:port]`` or a bare host) 127.0.0.0/8, ::1 or localhost?"""
    name = split_host(host)[0]
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def split_host(host: str) -> tuple[str, int | None]:
    """``("name", port)`` of ``host[:port]`` / ``[v6]:port``."""
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        port = rest.lstrip(":")
        return name, int(port) if port.isdigit() else None
    if host.count(":") == 1:
        name, port = host.split(":")
        return name, int(port) if port.isdigit() else None
    return host, None
