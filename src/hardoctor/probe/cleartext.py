"""Credentials in clear: one finding per origin a credential travelled to
over plain http, whichever plugin's probe sent it (registry URL, token
realm, redirect).  The session records it (``auth_in_clear``) as it sends;
the engine turns it into ``NET009`` here, so no probing plugin can forget."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from hardoctor.context import Context
from hardoctor.model import Finding, ProbeResult, Remediation, Resolution, Severity
from hardoctor.probe.tls import is_loopback


def cleartext_findings(
    ctx: Context,
    resolutions: Sequence[Resolution],
    probes: Mapping[int, Sequence[ProbeResult]],
) -> list[Finding]:
    out: list[Finding] = []
    seen: set[tuple[str, str | None]] = set()
    for i, res in enumerate(resolutions):
        cred = res.credential.id if res.credential else None
        for result in probes.get(i, ()):
            for where in result.facts.get("auth_in_clear") or ():
                if (str(where), cred) in seen:
                    continue
                seen.add((str(where), cred))
                out.append(_finding(ctx, res, str(where), cred))
    return out


def _finding(ctx: Context, res: Resolution, where: str, cred: str | None) -> Finding:
    loopback = is_loopback(urlsplit(where).netloc)
    return ctx.finding(
        "NET009",
        f"The credential {res.client} sends for {res.target.host} goes to {where} over plain "
        "http" + (" (a loopback host, reached after an https -> http downgrade)." if loopback
                  else ": anyone on the network path can read it."),
        severity=Severity.INFO if loopback else Severity.WARNING,
        ecosystem=res.ecosystem, registry=res.target.host, credential=cred,
        why="Plain http carries the Authorization header unencrypted.",
        evidence=[f"credential sent to {where} over http"],
        remediation=Remediation(
            "Use https for this endpoint, and rotate a token that travelled in clear.",
            steps=("Change the URL in the client's configuration (or the registry's token "
                   "realm / redirect) to https.",)),
    )
