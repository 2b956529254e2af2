"""Could not check: a verdict of its own, never a pass.

A probe that ended with outcome ``error`` (it raised, or refused to send a
credential) proves nothing about the registry.  When no finding of error
severity already explains that registry, the engine adds ``CHK002`` so the
run does not end with a ✓ and exit status 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hardoctor.context import Context
from hardoctor.model import Finding, ProbeResult, Resolution, Severity
from hardoctor.targets import normalize_host


def could_not_check(
    ctx: Context,
    resolutions: Sequence[Resolution],
    probes: Mapping[int, Sequence[ProbeResult]],
    findings: Sequence[Finding],
) -> list[Finding]:
    # A finding that already tells what went wrong there (a 502 the client
    # plugin named, a refused credential) explains it; registries are keyed
    # as URLs by some plugins and as hosts by others.
    explained = {normalize_host(f.registry) for f in findings
                 if f.severity in (Severity.ERROR, Severity.WARNING) and f.registry}
    out: list[Finding] = []
    seen: set[tuple[str, str | None]] = set()
    for i, res in enumerate(resolutions):
        if not res.judged:
            continue
        failed = [r for r in probes.get(i, ()) if r.outcome == "error"]
        host = normalize_host(res.target.host)
        cred = res.credential.id if res.credential else None
        if not failed or host in explained or (host, cred) in seen:
            continue
        seen.add((host, cred))
        out.append(ctx.finding(
            "CHK002",
            f"Could not check whether {host} accepts what {res.client} sends: "
            f"{failed[0].detail or 'the probe could not run'}.",
            ecosystem=res.ecosystem, registry=host, credential=cred,
            why="A probe that could not run says nothing about the registry; it is "
                "not a pass.",
            evidence=[f"{r.url} -> {r.outcome}" for r in failed[:3]],
        ))
    return out
