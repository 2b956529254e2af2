"""Transport outcomes: the cause each one means, and what to do about it.

Split from :mod:`hardoctor.probe.classify` (which classifies what went
wrong); the names stay importable from there.  The clients' own steps (how
*their* client trusts a CA, takes a proxy) come from their plugins through
``hardoctor_transport_advice`` and are merged in here.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping

from hardoctor.model import Remediation

# -- transport outcome -> cause and remedy ------------------------------------

#: Probe outcomes that are failures of the network, each with its cause.
TRANSPORT_CAUSES: Mapping[str, str] = {
    "tls-error": "tls-error",
    "dns-error": "dns-error",
    "connection-error": "connection-error",
    "timeout": "timeout",
    "proxy-error": "proxy-error",
}


def is_transport_outcome(outcome: str) -> bool:
    return outcome in TRANSPORT_CAUSES


def transport_cause(outcome: str) -> str | None:
    return TRANSPORT_CAUSES.get(outcome)


def _host_port(host: str) -> tuple[str, str]:
    """``host`` and a port for openssl s_client (443 when none)."""
    if host.startswith("["):
        h, _, rest = host.partition("]")
        return h + "]", rest.lstrip(":") or "443"
    if host.count(":") == 1:
        h, port = host.split(":")
        return h, port
    return host, "443"


def ca_commands(host: str, client_commands: Iterable[str] = ()) -> tuple[str, ...]:
    """How to see who signed ``host``'s certificate, then how to make each
    client trust a CA bundle ``corp-ca.pem``: the clients' own commands come
    from their plugins (``hardoctor_transport_advice``); with none, the
    variable that Go, Python and OpenSSL tools honour."""
    name, port = _host_port(host)
    out: list[str] = [
        f"openssl s_client -showcerts -servername {name} -connect {name}:{port} </dev/null"
    ]
    out.extend(client_commands)
    if len(out) == 1:
        out.append("export SSL_CERT_FILE=/path/to/corp-ca.pem  # Go, Python, OpenSSL tools")
    return tuple(out)


def transport_remediation(
    outcome: str, kind: str, host: str, advice: Iterable[Remediation] = (),
    url: str | None = None,
) -> Remediation:
    """A remediation for a transport failure talking to ``host``, with the
    clients' own steps and commands (``advice``, from their plugins).  With
    ``url`` (the exact URL probed, scheme included) the ``curl`` command
    repeats that request instead of guessing ``https://HOST/``."""
    advice = tuple(advice)
    base = _transport_remediation(outcome, kind, host, advice)
    own = base.commands
    if url and url.startswith(("http://", "https://")):
        own = tuple(c.replace(f"https://{host}/", shlex.quote(url)) if c.startswith("curl ")
                    else c for c in own)
    steps = [*base.steps, *(s for a in advice for s in a.steps if s not in base.steps)]
    commands = [*own, *(c for a in advice for c in a.commands if c not in own)]
    return Remediation(base.summary, tuple(dict.fromkeys(steps)),
                       tuple(dict.fromkeys(commands)), base.docs)


def _transport_remediation(
    outcome: str, kind: str, host: str, advice: tuple[Remediation, ...]
) -> Remediation:
    name, port = _host_port(host)
    if outcome == "tls-error" and kind == "untrusted-issuer":
        return Remediation(
            summary=(
                f"Make the client trust the certificate authority that signed {host}'s "
                "certificate; on a company network this is usually a TLS-inspecting proxy."
            ),
            steps=(
                "See who issued the certificate (first command): a company name instead of "
                "a public CA means a corporate proxy re-signs traffic.",
                "Get that CA certificate from your IT department (PEM format) and give it "
                "to each client that talks to the registry.",
                "Never switch verification off (--insecure, strict-ssl=false) to work around it.",
            ),
            commands=ca_commands(host, (c for a in advice for c in a.commands)),
        )
    if outcome == "tls-error" and kind == "hostname-mismatch":
        return Remediation(
            summary=f"The certificate served for {host} names another host.",
            steps=(
                "Check that the registry URL uses the host name the certificate was "
                "issued for (not an IP address or an internal alias).",
                "If a proxy or load balancer answers for the registry, it serves the "
                "wrong certificate: tell its operator.",
            ),
            commands=(
                f"openssl s_client -servername {name} -connect {name}:{port} </dev/null "
                "2>/dev/null | openssl x509 -noout -subject -ext subjectAltName",
            ),
        )
    if outcome == "tls-error" and kind in ("expired-certificate", "not-yet-valid"):
        return Remediation(
            summary=(
                f"The certificate of {host} is outside its validity period: the server must "
                "renew it (or this machine's clock is wrong)."
            ),
            steps=("Check this machine's date and time.", "Ask the registry's operator."),
            commands=(
                "date -u",
                f"openssl s_client -servername {name} -connect {name}:{port} </dev/null "
                "2>/dev/null | openssl x509 -noout -dates",
            ),
        )
    if outcome == "tls-error":
        return Remediation(
            summary=f"The TLS handshake with {host} failed.",
            steps=(
                "If the registry serves plain http, use an http:// URL (and tell the "
                "client the registry is insecure, as its steps below say).",
                "Otherwise a proxy may be interfering; try from another network.",
            ),
            commands=(f"curl -v https://{host}/ -o /dev/null",),
        )
    if outcome == "dns-error":
        return Remediation(
            summary=f"The host name {name} does not resolve from this machine.",
            steps=(
                "Check the host name for typos in the configuration.",
                "On a VPN-only network, connect the VPN; inside a container, check its DNS.",
            ),
            commands=(f"getent hosts {name}",),
        )
    if outcome == "timeout":
        return Remediation(
            summary=f"{host} did not answer in time.",
            steps=(
                "Check whether a firewall or proxy is required to reach the registry "
                "(HTTPS_PROXY / NO_PROXY).",
                "Retry with a longer --timeout to tell a slow registry from a dead one.",
            ),
            commands=(f"curl -sv --max-time 20 https://{host}/ -o /dev/null",),
        )
    if outcome == "proxy-error":
        return Remediation(
            summary="The HTTP proxy refused the request.",
            steps=(
                "A 407 means the proxy wants credentials: put them in the proxy URL "
                "(HTTPS_PROXY=http://USER:PASSWORD@proxy:PORT) or use the proxy your "
                "company documents.",
                f"If {name} should not go through the proxy, add it to NO_PROXY.",
            ),
            commands=(f"export NO_PROXY=$NO_PROXY,{name}",),
        )
    return Remediation(
        summary=f"Nothing accepted a connection to {host}.",
        steps=(
            "Check the host and port in the configuration.",
            "Check that the registry is up and reachable from this network.",
        ),
        commands=(f"curl -sv https://{host}/ -o /dev/null",),
    )
