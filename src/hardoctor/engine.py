"""The pipeline: discover -> credentials -> decode -> lint -> targets ->
resolve -> probe -> diagnose -> fixes.  Registry-agnostic: everything it knows
about a client comes from a plugin through a hook."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from hardoctor import prefetch, redact
from hardoctor.context import Context
from hardoctor.errors import UsageError  # noqa: E402,F401  (re-exported)
from hardoctor.model import (
    Credential,
    Finding,
    ProbeResult,
    Remediation,
    Report,
    Resolution,
    Severity,
    Source,
    Target,
    TokenInfo,
)
from hardoctor.plugins import PluginManager
from hardoctor.stories import one_per_token
from hardoctor.targets import host_matches, parse_registry_target


def run(ctx: Context, manager: PluginManager) -> Report:
    t0 = time.perf_counter()
    if not ctx.options.offline:
        prewarm_http()
    manager.call("hardoctor_configure", ctx=ctx)

    sources = _discover(ctx, manager)
    stored = _credentials(ctx, manager, sources)
    pending = prefetch.start(ctx, manager, stored)  # online: beside the probes
    credentials = [_decode(ctx, manager, c) for c in stored]
    findings: list[Finding] = []
    for source in sources:
        findings += _items(manager.call_flat("hardoctor_lint", source=source, ctx=ctx))

    targets = _targets(ctx, manager, credentials)
    resolutions: list[Resolution] = []
    for target in targets:
        for _, res in manager.call_flat(
            "hardoctor_resolve", target=target, credentials=credentials, ctx=ctx
        ):
            resolutions.append(res)
    resolutions = [_judge(ctx, res) for res in resolutions]

    probes: dict[int, list[ProbeResult]] = {i: [] for i in range(len(resolutions))}
    answered: set[int] = set()
    if not ctx.options.offline:
        probes, answered = _probe(ctx, manager, resolutions)
    if pending.wait():  # decoded again with what prefetch learned
        credentials = [_decode(ctx, manager, c) for c in stored]
        resolutions = prefetch.rebind(resolutions, credentials)
    for cred in credentials:
        findings += _items(manager.call_flat("hardoctor_check_credential", credential=cred, ctx=ctx))
    if not ctx.options.offline:
        findings += _not_probed(ctx, resolutions, answered)
    for i, res in enumerate(resolutions):
        if not res.judged:  # a client the person does not use: shown, never an error
            continue
        findings += _items(
            manager.call_flat("hardoctor_diagnose", resolution=res, results=probes[i], ctx=ctx)
        )

    if not ctx.options.offline:
        from hardoctor.unchecked import could_not_check

        findings += could_not_check(ctx, resolutions, probes, findings)
        from hardoctor.probe.cleartext import cleartext_findings

        findings += cleartext_findings(ctx, resolutions, probes)
    findings = _narrow(ctx, findings)
    findings = _silence(ctx, findings)
    if ctx.options.command == "fix":
        findings = [_with_fix(ctx, manager, f) for f in findings]
    findings = _vendor_remediation(ctx, findings, credentials)
    findings += manager.problem_findings()
    findings = _merge_same_story(ctx, _dedupe(findings))
    findings = one_per_token(ctx, findings, credentials)  # one story per token (fingerprint)
    findings.sort(key=_finding_order)

    # Clients sharing a credential share one walk: list each request once.
    unique: dict[tuple[Any, ...], ProbeResult] = {}
    for i in sorted(probes):
        for p in probes[i]:
            unique.setdefault((p.url, p.credential, p.outcome, p.status, p.error_code, p.detail), p)
    all_probes = list(unique.values())
    return Report(
        started_at=ctx.started_at,
        duration_ms=(time.perf_counter() - t0) * 1000.0,
        sources=tuple(sources),
        credentials=tuple(credentials),
        resolutions=tuple(resolutions),
        probes=tuple(all_probes),
        findings=tuple(findings),
        offline=ctx.options.offline,
    )


def collect(ctx: Context, manager: PluginManager) -> tuple[list[Source], list[Credential]]:
    """discover -> credentials -> prefetch -> decode, and nothing after:
    every stored credential with what decoding it told (``hardoctor tokens``)."""
    manager.call("hardoctor_configure", ctx=ctx)
    sources = _discover(ctx, manager)
    credentials = _credentials(ctx, manager, sources)
    manager.call("hardoctor_prefetch", credentials=credentials, ctx=ctx)
    return sources, [_decode(ctx, manager, c) for c in credentials]


_prewarmed = False


#: Optional modules the HTTP stack imports when installed, unused by hardoctor.
_NOT_NEEDED = ("trio", "httpx._main")


def prewarm_http() -> None:
    """Import the HTTP stack in the background while plugins load, files are
    read and helpers run: it costs ~0.2 s that would otherwise sit in front
    of the first probe.  Once per process."""
    global _prewarmed
    if _prewarmed:
        return
    _prewarmed = True
    import threading

    def work() -> None:
        # Imported only because they are installed, never used here: httpcore
        # imports trio to offer it as a backend (~70 ms; the probes run on
        # asyncio), httpx imports its command-line client (click, pygments,
        # rich: ~65 ms).  Hidden for the duration of this import (an import
        # of a name mapped to None raises ImportError, which both expect),
        # then visible again.
        hidden = [name for name in _NOT_NEEDED if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # import -> ImportError
        try:
            import httpcore  # noqa: F401  (httpx imports it lazily, on first client)
            import httpx  # noqa: F401
        except ImportError:  # reported properly when the probe engine needs it
            pass
        finally:
            for name in hidden:
                if sys.modules.get(name, 0) is None:
                    del sys.modules[name]

    threading.Thread(target=work, name="hardoctor-prewarm", daemon=True).start()


def _items(pairs: Sequence[tuple[str, Any]]) -> list[Any]:
    return [item for _, item in pairs]


def _discover(ctx: Context, manager: PluginManager) -> list[Source]:
    sources: list[Source] = []
    seen: set[str] = set()
    for plugin, source in manager.call_flat("hardoctor_discover", ctx=ctx):
        if not ctx.wants_ecosystem(source.ecosystem) or source.id in seen:
            continue
        if ctx.options.scope == "project" and not _in_project(ctx, source):
            continue
        seen.add(source.id)
        sources.append(source if source.plugin else replace(source, plugin=plugin))
    return sources


def _in_project(ctx: Context, source: Source) -> bool:
    """``--scope project``: files under the project directory, and
    sources named on the command line; not HOME, not the environment."""
    if source.explicit:
        return True
    if source.kind != "file" or not source.path:
        return False
    return ctx.in_scope(source.path)


def _credentials(ctx: Context, manager: PluginManager, sources: list[Source]) -> list[Credential]:
    out: list[Credential] = []
    seen: set[str] = set()
    for source in sources:
        if not source.exists or source.error:
            continue
        for plugin, cred in manager.call_flat("hardoctor_credentials", source=source, ctx=ctx):
            if cred.id in seen:
                continue
            seen.add(cred.id)
            out.append(cred if cred.plugin else replace(cred, plugin=plugin))
    if ctx.options.registries:
        out = [c for c in out if any(host_matches(r, c.host) for r in ctx.options.registries)]
    return out


def _decode(ctx: Context, manager: PluginManager, cred: Credential) -> Credential:
    if cred.token is not None:
        return cred
    found = manager.call_first("hardoctor_decode_secret", credential=cred, ctx=ctx)
    info: TokenInfo | None = found[1] if found else None
    return replace(cred, token=info) if info is not None else cred


def _targets(ctx: Context, manager: PluginManager, credentials: list[Credential]) -> list[Target]:
    targets: list[Target] = []
    if ctx.options.targets:
        for raw in map(_without_userinfo, ctx.options.targets):
            found = manager.call_first("hardoctor_parse_target", value=raw, ctx=ctx)
            target = found[1] if found else parse_registry_target(raw)
            if target is None:
                raise UsageError(f"cannot understand target {raw!r}")
            targets.append(target)
        return targets
    for reg in map(_without_userinfo, ctx.options.registries):
        target = parse_registry_target(reg)
        if target is None:
            raise UsageError(f"cannot understand --registry {reg!r}")
        targets.append(target)
    if targets:
        return targets
    seen: set[tuple[str | None, str, str | None]] = set()
    for _, target in manager.call_flat("hardoctor_targets", ctx=ctx, credentials=credentials):
        if target.ecosystem and not ctx.wants_ecosystem(target.ecosystem):
            continue
        key = (target.ecosystem, target.host, target.url or target.name)
        if key not in seen:
            seen.add(key)
            targets.append(target)
    return targets


def _without_userinfo(raw: str) -> str:
    """A target typed as ``https://user:token@host/...``: the credential is
    registered as a secret and dropped from the target (it is not a config
    any client reads, and it must never be echoed)."""
    import re

    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/@]*)@(.*)$", raw.strip())
    if m is None:
        return raw
    userinfo = m.group(2)
    from urllib.parse import unquote

    redact.register(userinfo)
    redact.register(unquote(userinfo.partition(":")[2]))
    return m.group(1) + m.group(3)


def _judge(ctx: Context, res: Resolution) -> Resolution:
    """``--client NAME`` says outright which clients the person uses;
    without it the plugin that made the resolution decided (from the
    project's lock files, the configuration, the clients on PATH).  A
    client id such as ``x -r FILE`` answers to its first word."""
    wanted = ctx.options.clients
    if not wanted:
        return res
    client = res.client.lower()
    named = client in wanted or client.split(" ", 1)[0] in wanted
    because = "--client" if named else "not named by --client"
    return replace(res, judged=named, judged_because=because)


def _probe(
    ctx: Context, manager: PluginManager, resolutions: list[Resolution]
) -> tuple[dict[int, list[ProbeResult]], set[int]]:
    """Results per resolution, and which resolutions some plugin answered
    for (a list, even an empty one: "mine, nothing to ask")."""
    plans: list[tuple[int, Any]] = []
    answered: set[int] = set()
    for i, res in enumerate(resolutions):
        if not res.judged:
            answered.add(i)
            continue
        for plugin, found in manager.call("hardoctor_probe", resolution=res, ctx=ctx):
            answered.add(i)
            for plan in found:
                if plan.key is not None:  # shared walks are shared per plugin (ProbePlan.key)
                    plan = replace(plan, key=(plugin, plan.key))
                plans.append((i, plan))
    out: dict[int, list[ProbeResult]] = {i: [] for i in range(len(resolutions))}
    if not plans:
        return out, answered
    from hardoctor.probe import run_plans  # httpx only when something is probed

    results = run_plans(ctx, [p for _, p in plans])
    for (i, _), result in zip(plans, results, strict=True):
        out[i].extend(result)
    return out, answered


def _not_probed(ctx: Context, resolutions: list[Resolution], answered: set[int]) -> list[Finding]:
    """Online, a resolution names a protocol and no loaded plugin answered
    ``hardoctor_probe`` for it (its protocol plugin is disabled): not
    checked must never read as passing."""
    out: list[Finding] = []
    seen: set[tuple[str, str, str | None]] = set()
    for i, res in enumerate(resolutions):
        cred = res.credential.id if res.credential else None
        key = (res.protocol, res.target.host, cred)
        if not res.protocol or i in answered or key in seen:
            continue
        seen.add(key)
        out.append(ctx.finding(
            "CHK001",
            f"Nothing tested whether {res.target.host} accepts what {res.client} sends: no "
            f"loaded plugin probes the {res.protocol!r} protocol.",
            ecosystem=res.ecosystem, registry=res.target.host, credential=cred,
            why="Without asking the registry, a revoked or expired token looks exactly like "
            "a working one.",
        ))
    return out


def _narrow(ctx: Context, findings: list[Finding]) -> list[Finding]:
    regs = ctx.options.registries
    if regs:
        findings = [
            f for f in findings if f.registry is None or any(host_matches(r, f.registry) for r in regs)
        ]
    if ctx.options.ecosystems:
        findings = [f for f in findings if f.ecosystem is None or ctx.wants_ecosystem(f.ecosystem)]
    if ctx.options.scope == "project":
        findings = [_committed_reference(f) for f in findings]
    return findings


#: ``--scope project``: causes that depend on what lives outside the
#: repository, which that scope does not read.
_OUTSIDE_PROJECT = {
    "env-unset": "A committed ${VAR} reference is the right practice; set the variable wherever "
    "the client runs (--scope project does not judge this shell's environment).",
    "no-credentials": "Credentials belong outside the repository (the user's or the CI job's "
    "configuration), which --scope project does not read.",
}


def _committed_reference(finding: Finding) -> Finding:
    """``--scope project`` judges what is committed: a ``${VAR}`` reference
    there is the right practice, and whether the variable is set in the
    shell that commits (or whether HOME holds a login) says nothing about
    the machines that use it.  The finding stays, as a note."""
    why = _OUTSIDE_PROJECT.get(finding.cause or "")
    if why is None or finding.severity is Severity.INFO:
        return finding
    return replace(finding, severity=Severity.INFO, why=why)


def _silence(ctx: Context, findings: list[Finding]) -> list[Finding]:
    """``--select``/``--ignore`` and inline ``hardoctor: ignore[CODE]``
    comments (:mod:`hardoctor.suppress`)."""
    from hardoctor import suppress

    kept, ctx.silenced = suppress.apply(findings, ctx.options.select, ctx.options.ignore)
    return kept


def _with_fix(ctx: Context, manager: PluginManager, finding: Finding) -> Finding:
    if finding.fix is not None:
        return finding
    found = manager.call_first("hardoctor_fix", finding=finding, ctx=ctx)
    return replace(finding, fix=found[1]) if found else finding


def _vendor_remediation(
    ctx: Context, findings: list[Finding], credentials: list[Credential]
) -> list[Finding]:
    """Let the vendor that owns a finding's registry give its own steps
    (``hardoctor_remediation``); a registry no vendor owns keeps the client
    plugin's generic advice."""
    by_id = {c.id: c for c in credentials}
    out: list[Finding] = []
    for f in findings:
        if f.registry and f.cause:
            cred = by_id.get(f.credential) if f.credential else None
            better = ctx.remediation(f, cred)
            if better is not None:
                f = replace(f, remediation=_merge_remediation(better, f.remediation))
        out.append(f)
    return out


def _merge_remediation(vendor: Remediation, own: Remediation | None) -> Remediation:
    """The vendor's words lead; what the client plugin knew that the vendor
    could not (a corrected manifest, the exact file to edit) stays."""
    if own is None:
        return vendor
    return Remediation(
        summary=vendor.summary or own.summary,
        steps=tuple(dict.fromkeys((*vendor.steps, *own.steps))),
        commands=tuple(dict.fromkeys((*own.commands, *vendor.commands))),
        docs=tuple(dict.fromkeys((*vendor.docs, *own.docs))),
    )


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[Any, ...]] = set()
    out: list[Finding] = []
    for f in findings:
        key = (f.rule, f.message, f.location, f.registry)
        if key not in seen:
            seen.add(key)
            out.append(replace(f, message=redact.scrub(f.message)))
    return out


def _rank(ctx: Context, finding: Finding) -> int:
    rule = ctx.rules.get(finding.rule)
    return rule.rank if rule is not None else 0


def _merge_same_story(ctx: Context, findings: list[Finding]) -> list[Finding]:
    """One finding per (cause, credential).

    Several plugins often see the same fact: a vendor plugin knows a token
    expired (from the vendor's API) and a probe saw the registry refuse it.
    A person should read one story, so the richest finding -- the one with a
    fix, else the one whose rule ranks highest (``Rule.rank``), else the
    first -- keeps its place and takes the others' evidence.
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for i, f in enumerate(findings):
        if f.credential and f.cause and f.severity.value != "info":
            groups.setdefault((f.cause, f.credential), []).append(i)
    drop: set[int] = set()
    out = list(findings)
    for members in groups.values():
        if len(members) < 2:
            continue
        best = max(
            members,
            key=lambda i: (
                findings[i].severity.rank,
                findings[i].fix is not None,
                _rank(ctx, findings[i]),
                -i,
            ),
        )
        primary = findings[best]
        evidence = list(primary.evidence)
        for i in members:
            if i == best:
                continue
            other = findings[i]
            for line in (*other.evidence, f"also reported as {other.rule}: {other.message}"):
                if line not in evidence:
                    evidence.append(line)
            drop.add(i)
        out[best] = replace(
            primary,
            evidence=tuple(evidence),
            location=primary.location or next(
                (findings[i].location for i in members if findings[i].location), None
            ),
        )
    return [f for i, f in enumerate(out) if i not in drop]


def _finding_order(f: Finding) -> tuple[Any, ...]:
    loc = f.location
    return (
        -f.severity.rank,
        f.registry or "",
        (loc.path or "") if loc else "",
        (loc.line or 0) if loc else 0,
        f.rule,
    )
