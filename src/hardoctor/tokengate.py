"""Is a new token good enough to write?  The checks ``fix --token-stdin``
(rotation) and ``setup`` run before anything is written.

In order, stopping at the first step that has reasons: the token's own
shape, expiry and revocation (its decoders and the vendor's API, through
``hardoctor_decode_secret``), the plugins' offline credential checks with
the token in place of the stored one (``hardoctor_check_credential``: the
account against the registry, ...), then the registry's own answer: each
client's probe with the new token (``hardoctor_probe`` and
``hardoctor_diagnose``), or offline what needs no answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from hardoctor.model import Credential, Resolution, Severity, TokenInfo

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.model import ProbeResult
    from hardoctor.plugins import PluginManager

#: Makes the credential a client would send with the new token.
Candidate = Callable[[Resolution], Credential]


#: Probe outcomes that say nothing about the token: the registry was not
#: reached.
UNREACHED = frozenset({"tls-error", "dns-error", "connection-error", "timeout", "proxy-error"})


def refusals(ctx: Context, manager: PluginManager, resolutions: Sequence[Resolution],
             info: TokenInfo, candidate: Candidate, *, must_reach: bool = False) -> list[str]:
    """Every reason the new token would fail (empty: it passed).
    ``must_reach``: a registry that could not be reached is a reason too
    (the token was not proven), not a pass."""
    steps: tuple[Callable[[], list[str]], ...] = (
        lambda: token_reasons(info),
        lambda: credential_reasons(ctx, manager, resolutions, candidate),
        lambda: (diagnose_reasons(ctx, manager, resolutions, candidate, None)
                 if ctx.options.offline
                 else probe_reasons(ctx, manager, resolutions, candidate, must_reach)),
    )
    for step in steps:
        reasons = step()
        if reasons:
            return reasons
    return []


def token_reasons(info: TokenInfo) -> list[str]:
    reasons = [f"malformed: {p}" for p in info.problems]
    if info.status == "expired":
        when = f" on {info.expires_at:%Y-%m-%d}" if info.expires_at else ""
        reasons.append(f"it expired{when}")
    elif info.status == "invalid":
        said = str(info.details.get("expiry_source_label") or "its issuer")
        reasons.append(f"{said} says it is invalid (revoked or deleted)")
    return reasons


def credential_reasons(ctx: Context, manager: PluginManager, resolutions: Sequence[Resolution],
                       candidate: Candidate) -> list[str]:
    reasons: list[str] = []
    for res in resolutions:
        cand = candidate(res)
        for _, finding in manager.call_flat("hardoctor_check_credential", credential=cand, ctx=ctx):
            if finding.severity is Severity.ERROR:
                reasons.append(f"{finding.rule}: {finding.message}")
    return reasons


def diagnose_reasons(ctx: Context, manager: PluginManager, resolutions: Sequence[Resolution],
                     candidate: Candidate, results: list[list[ProbeResult]] | None) -> list[str]:
    """Offline (``results`` None), what needs no answer from the registry
    still counts: the image path's account against the token's (Docker keys
    carry no account, so check_credential cannot see it), as
    ``check --offline`` does."""
    reasons: list[str] = []
    for i, res in enumerate(resolutions):
        cand_res = replace(res, credential=candidate(res))
        answers = results[i] if results is not None else []
        for _, finding in manager.call_flat(
            "hardoctor_diagnose", resolution=cand_res, results=answers, ctx=ctx
        ):
            if finding.severity is Severity.ERROR:
                reasons.append(f"{res.target.host}: {finding.rule} {finding.message}")
    return reasons


def probe_reasons(ctx: Context, manager: PluginManager, resolutions: Sequence[Resolution],
                  candidate: Candidate, must_reach: bool = False) -> list[str]:
    from hardoctor.probe import run_plans

    probes = [
        (i, plan)
        for i, res in enumerate(resolutions)
        for _, plan in manager.call_flat(
            "hardoctor_probe", resolution=replace(res, credential=candidate(res)), ctx=ctx
        )
    ]
    if not probes:
        return []
    per_res: list[list[ProbeResult]] = [[] for _ in resolutions]
    for (i, _), result in zip(probes, run_plans(ctx, [p for _, p in probes]), strict=True):
        per_res[i].extend(result)
    asked = sorted({i for i, _ in probes})
    reasons = diagnose_reasons(ctx, manager, [resolutions[i] for i in asked], candidate,
                               [per_res[i] for i in asked])
    if must_reach and not reasons:
        unreached = {f"{r.url}: {r.outcome}" + (f" ({r.detail})" if r.detail else "")
                     for i in asked for r in per_res[i] if r.outcome in UNREACHED}
        reasons += [f"could not reach the registry to check the token: {u}"
                    for u in sorted(unreached)]
    return reasons
