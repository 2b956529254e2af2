"""``NET`` rules: the network, not the credential.

A transport failure is the same whichever client met it, so its rules belong
to the probe engine rather than to one plugin; every probing plugin builds
its transport findings with :func:`transport_finding`.  The core registers
:data:`NET_RULES` next to its own ``HD`` rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from hardoctor.model import Finding, Location, ProbeResult, Remediation, Rule, Severity

if TYPE_CHECKING:
    from hardoctor.context import Context


def _rule(code: str, name: str, cause: str, summary: str, explain: str) -> Rule:
    return Rule(
        code=code,
        name=name,
        severity=Severity.ERROR,
        cause=cause,
        summary=summary,
        explain=explain,
        plugin="builtin",
    )


NET_RULES: tuple[Rule, ...] = (
    _rule(
        "NET001",
        "tls-untrusted-issuer",
        "tls-error",
        "The registry's certificate is signed by a CA this machine does not trust.",
        """\
What it does
  Reports a registry whose TLS certificate chain ends in a certificate
  authority that the client's trust store does not contain.

Why it matters
  The client refuses the connection before any credential is checked, so the
  error looks like an authentication or network problem.  On a company
  network the usual reason is a TLS-inspecting proxy that re-signs every
  certificate with the company's own CA.

Example
  x509: certificate signed by unknown authority
  (a pull from a registry behind a TLS-inspecting company proxy)

Fix
  Get the company CA certificate (PEM) and configure it for each client
  that talks to the registry; the finding lists the command for each client
  that failed (each client plugin knows its own trust store), and
  SSL_CERT_FILE=/path/corp-ca.pem for Go and Python tools.
  Never disable verification instead.  No automatic fix.
""",
    ),
    _rule(
        "NET002",
        "tls-hostname-mismatch",
        "tls-error",
        "The registry's certificate was issued for another host name.",
        """\
What it does
  Reports a TLS certificate whose names (subjectAltName) do not include the
  host the client connected to.

Why it matters
  The client refuses the connection: it cannot tell the registry from an
  impostor.

Example
  The registry is configured as 10.0.0.5:443 while its certificate names
  registry.example.com.

Fix
  Use the host name the certificate was issued for, or have the operator
  serve a certificate that covers the name you use.  No automatic fix.
""",
    ),
    _rule(
        "NET003",
        "tls-certificate-expired",
        "tls-error",
        "The registry's certificate has expired (or is not valid yet).",
        """\
What it does
  Reports a TLS certificate outside its validity period.

Why it matters
  Every client refuses the connection.  When only this machine sees it, its
  clock is wrong.

Example
  x509: certificate has expired or is not yet valid

Fix
  Check `date -u`; otherwise the registry's operator must renew the
  certificate.  No automatic fix.
""",
    ),
    _rule(
        "NET004",
        "tls-handshake-failed",
        "tls-error",
        "The TLS handshake with the registry failed.",
        """\
What it does
  Reports a TLS failure that is not about trust: the server does not speak
  TLS on that port, offers no common protocol version, or a middlebox cut the
  handshake.  Also a CA file configured for the client that cannot be read.

Why it matters
  The client cannot reach the registry at all.

Example
  SSL: WRONG_VERSION_NUMBER (an http-only registry addressed as https)

Fix
  Use the right scheme and port (and tell the client that a plain-http
  registry is insecure, as the finding's steps say for that client), or fix
  the configured CA file.  No automatic fix.
""",
    ),
    _rule(
        "NET005",
        "dns-failure",
        "dns-error",
        "The registry's host name does not resolve.",
        """\
What it does
  Reports a registry host that this machine cannot resolve.

Why it matters
  Nothing was asked of the registry: the problem is the name or the DNS
  setup (VPN, container DNS), not the credential.

Example
  pkg.harnes.io (typo) or an internal registry name outside the VPN.

Fix
  Check the spelling in the configuration; connect the VPN.  `getent hosts
  HOST` shows what this machine resolves.  No automatic fix.
""",
    ),
    _rule(
        "NET006",
        "connection-failed",
        "connection-error",
        "Nothing accepted a connection to the registry.",
        """\
What it does
  Reports a refused, reset or unroutable connection.

Why it matters
  The registry is down, the port is wrong, or a firewall blocks it; no
  credential can help.

Example
  connect: connection refused (registry on :5000 configured as :5001)

Fix
  Check host and port; check that the registry runs and is reachable from
  this network.  No automatic fix.
""",
    ),
    _rule(
        "NET007",
        "probe-timeout",
        "timeout",
        "The registry did not answer within the deadline.",
        """\
What it does
  Reports a registry that accepted no connection, or accepted one and never
  answered, within `--timeout`.

Why it matters
  Clients hang or time out; often a firewall silently dropping packets, or a
  proxy that is required but not configured.

Example
  A registry reachable only through HTTPS_PROXY, probed without it.

Fix
  Configure the proxy (HTTPS_PROXY / NO_PROXY), or retry with a longer
  `--timeout` to tell slow from dead.  No automatic fix.
""",
    ),
    _rule(
        "NET008",
        "proxy-refused",
        "proxy-error",
        "The HTTP proxy refused the request (often 407: proxy credentials needed).",
        """\
What it does
  Reports an HTTP proxy (from HTTPS_PROXY / HTTP_PROXY) that answered the
  request or the CONNECT tunnel with an error, typically 407 Proxy
  Authentication Required.

Why it matters
  The request never reaches the registry; clients report it as a generic
  network or even an authentication error.

Example
  HTTPS_PROXY=http://proxy.corp:3128 without user and password.

Fix
  Put the proxy credentials in the proxy URL or use the proxy your company
  documents; a client that pulls through a daemon takes the daemon's proxy
  settings, not your shell's (the finding says so for that client).  Add the
  registry to NO_PROXY when it is internal.
  No automatic fix.
""",
    ),
    Rule(
        code="NET009",
        name="credential-sent-in-clear",
        severity=Severity.WARNING,
        cause="insecure-storage",
        summary="A credential goes to a plain-http endpoint (token realm, redirect, URL).",
        explain="""\
What it does
  Reports every origin the client's credential was sent to over plain
  http while probing exactly as the client would: the registry URL, a
  token service (realm) or a redirect target.  A non-loopback host is a
  warning; a loopback host reached after an https -> http downgrade is
  noted as info.

Why it matters
  Anyone on the network path (Wi-Fi, proxy, CI runner neighbours) can read
  and replay the credential.

Example
  A registry challenging with realm="http://auth.example.com/token".

Fix
  Use https for the registry, its token service and every URL in the
  client's configuration; rotate a token that travelled in clear.
""",
        plugin="builtin",
    ),
)


def transport_rule(outcome: str, kind: str) -> str:
    """The NET rule code for a transport outcome and sub-kind."""
    if outcome == "tls-error":
        return {
            "untrusted-issuer": "NET001",
            "hostname-mismatch": "NET002",
            "expired-certificate": "NET003",
            "not-yet-valid": "NET003",
        }.get(kind, "NET004")
    return {
        "dns-error": "NET005",
        "connection-error": "NET006",
        "timeout": "NET007",
        "proxy-error": "NET008",
    }.get(outcome, "NET006")


def _advice(
    ctx: Context, outcome: str, kind: str, host: str, ecosystems: Iterable[str],
    ecosystem: str | None,
) -> list[Remediation]:
    wanted = tuple(dict.fromkeys([*ecosystems, *([ecosystem] if ecosystem else [])]))
    if ctx.plugins is None:
        return []
    found = ctx.plugins.call("hardoctor_transport_advice", outcome=outcome, kind=kind,
                             host=host, ecosystems=wanted, ctx=ctx)
    return [r for _, r in found if isinstance(r, Remediation)]


def transport_finding(
    ctx: Context,
    result: ProbeResult,
    *,
    host: str,
    what: str = "the registry",
    ecosystems: Iterable[str] = (),
    ecosystem: str | None = None,
    credential: str | None = None,
    location: Location | None = None,
    before: Sequence[ProbeResult] = (),
) -> Finding | None:
    """A NET finding for a probe result with a transport outcome, or None.

    The message names the host and the failure, never the client, so the
    same failure seen by several clients deduplicates into one finding.
    ``before``: the results of the same walk before this one -- when one of
    them was answered, the message says which step answered and which one
    failed (never "cannot reach" a registry that answered); the evidence
    and the ``curl`` command repeat the exact URL probed.
    """
    # Here, not at the top: the rules are registered at start-up, the
    # transport machinery (ssl, httpx's errors) is needed only after a probe.
    from hardoctor.probe.classify import transport_cause, transport_remediation

    cause = transport_cause(result.outcome)
    if cause is None and result.status != 407:
        return None
    kind = str(result.facts.get("transport", "")) or (
        "proxy-auth-required" if result.status == 407 else ""
    )
    outcome = result.outcome if cause else "proxy-error"
    code = transport_rule(outcome, kind)
    detail = str(result.facts.get("transport_detail") or result.detail or outcome)
    if result.status == 407:
        detail = "the proxy answered 407 Proxy Authentication Required"
    proxy = result.facts.get("proxy")
    via = f" through the proxy {proxy}" if proxy and str(proxy) not in detail else ""
    probed = _url_host(result.url) or host
    answered = next((b for b in reversed(before) if b.status is not None), None)
    message = f"Cannot reach {what} at {probed}{via}: {detail}."
    if answered is not None:
        message = (f"{answered.facts.get('method', 'GET')} {answered.url} answered "
                   f"{answered.status}, then {what} at {probed}{via} failed: {detail}.")
    remediation = transport_remediation(outcome, kind, probed, _advice(
        ctx, outcome, kind, probed, ecosystems, ecosystem), url=result.url)
    if outcome == "proxy-error" and proxy:
        remediation = _proxy_remediation(str(proxy), kind, remediation)
    evidence = [f"{result.facts.get('method', 'GET')} {result.url} -> {outcome}"]
    if answered is not None:
        evidence.insert(0, f"{answered.facts.get('method', 'GET')} {answered.url} -> "
                           f"{answered.status}")
    if result.facts.get("fallback_http"):
        evidence.append("https failed and plain http was tried too (insecure registry)")
    return ctx.finding(
        code,
        message,
        cause=transport_cause(outcome),
        ecosystem=ecosystem,
        credential=credential,
        location=location,
        registry=host,
        why="The client cannot talk to the registry, so no credential is even checked."
        if answered is None else "The registry answered, but the client cannot finish the "
        "exchange at the step that failed, so the pull fails there.",
        evidence=evidence,
        remediation=remediation,
    )


def _proxy_remediation(proxy: str, kind: str, base: Remediation) -> Remediation:
    """The proxy's own fix first: the variable that names it."""
    name = proxy.split("=", 1)[0] if "=" in proxy else proxy.split(" (", 1)[0]
    first = {
        "proxy-malformed": f"{name} is not a proxy URL: set it to http://HOST:PORT (or "
                           "http://USER:PASSWORD@HOST:PORT), or unset it.",
        "proxy-unreachable": f"Nothing answers at the proxy in {name}: start the proxy, fix the "
                             "host or port, or unset it if this network needs no proxy.",
        "proxy-unresolvable": f"The proxy host in {name} does not resolve: fix its name, or unset "
                              "it if this network needs no proxy.",
        "proxy-timeout": f"The proxy in {name} does not accept connections: check it is up and "
                         "reachable from here.",
    }.get(kind, f"Check the proxy in {name}.")
    return Remediation(f"The proxy failed ({proxy}); the registry itself was never reached.",
                       (first, *base.steps), base.commands,
                       base.docs)


def _url_host(url: str) -> str:
    """``host[:port]`` of a probed URL ("" when it is not one)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        name, port = parts.hostname, parts.port
    except ValueError:
        return ""
    if not name:
        return ""
    name = f"[{name}]" if ":" in name else name
    return name if port is None else f"{name}:{port}"
