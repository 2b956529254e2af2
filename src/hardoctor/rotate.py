"""``hardoctor fix --token-stdin``: put one new token everywhere the old one is.

The chore after regenerating a token -- Docker config, credential helper,
``.npmrc``, ``pip.conf``, ``settings.xml``, the Kubernetes pull secret -- done
in one step, and only for a token that is known to work:

1. read exactly one token from stdin (never argv);
2. check it before touching anything: well-formed, not expired or revoked,
   the right account for the registry, and (unless ``--offline``) accepted by
   the registry, probed exactly as the client will use it;
3. find every place the clients take the old credential from for that
   registry, and every other place holding the same old token (by
   fingerprint);
4. ask the owning plugin how each place takes the new token
   (``hardoctor_rotate``): file edits, helper ``store``, ``kubectl apply``,
   or a manual step where the value comes from an environment variable;
5. show the diff; with ``--apply`` write it (atomically, with a backup: ``fix
   --undo`` restores it), run the other actions, and check again.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hardoctor import redact
from hardoctor.model import Credential, Finding, Location, Resolution, Rotation, Secret, Severity
from hardoctor.records import dataclass

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.model import Report, TokenInfo
    from hardoctor.plugins import PluginManager


class RotationRefused(Exception):
    """The new token failed a check; nothing was written (exit 1)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Place:
    credential: Credential
    why: str  # "used by docker for HOST" / "same token as ..."
    rotation: Rotation | None


def rotate_command(ctx: Context, manager: PluginManager) -> int:
    from hardoctor import engine, fixes
    from hardoctor.cli import _write
    from hardoctor.errors import UsageError
    from hardoctor.report import scrub_values
    from hardoctor.tokens import TokenInputError, inspect_token, read_one_token

    try:
        new = read_one_token(ctx.env.stdin)
    except TokenInputError as exc:
        raise UsageError(str(exc).replace("token inspect", "fix --token-stdin")) from None
    info = inspect_token(ctx, new)
    report = engine.run(ctx, manager)
    hosts = _target_hosts(ctx, report, info)
    if not hosts:
        raise UsageError(
            "name the registry the new token is for: hardoctor fix --token-stdin REGISTRY "
            "(or any TARGET that `hardoctor check --help` lists)"
        )
    try:
        _check_new_token(ctx, manager, report, hosts, new, info)
    except RotationRefused as exc:
        lines = ["The new token was refused; nothing was written:"]
        lines += [f"  - {r}" for r in exc.reasons]
        _write(ctx, "\n".join(lines) + "\n")
        return 1

    places = _places(ctx, manager, report, hosts, new)
    plan = fixes.plan([p.rotation.fix for p in places if p.rotation and p.rotation.fix])
    diff = redact.scrub(plan.diff())
    actions = [a for p in places if p.rotation for a in p.rotation.actions]
    manual = [m for p in places if p.rotation for m in p.rotation.manual]
    unsupported = [p for p in places if p.rotation is None]

    written: list[str] = []
    backup = None
    # A place whose edit could not join the plan (two places' edits of one
    # value overlap, or the file changed meanwhile) is said, and then nothing
    # is written: a rotation that updates some copies silently is worse.
    failures: list[str] = [redact.scrub(f"{s.fix.description}: {s.why}") for s in plan.skipped]
    if ctx.options.apply and not failures:
        if plan.changed:
            result = fixes.apply(plan, fixes.default_backup_root(ctx.env.environ, ctx.home),
                                 ctx.env.clock)
            if result.refused:
                failures += [f"{ctx.display_path(p)}: {why}" for p, why in result.refused]
            written = list(result.written)
            backup = result.backup_dir
        if not failures:
            for action in actions:
                error = action.run()
                if error:
                    failures.append(f"{action.description}: {redact.scrub(error)}")
    recheck = _recheck(ctx, manager, hosts) if ctx.options.apply and not failures else None

    if ctx.options.format == "json":
        data: dict[str, Any] = {
            "schema": "hardoctor/rotate/v1",
            "token": {"fingerprint": new.fingerprint, "kind": info.kind,
                      "format": info.details.get("format"),
                      "account_id": info.account_id, "status": info.status},
            "registries": sorted(hosts),
            "places": [_place_dict(ctx, p) for p in places],
            "diff": diff,
            "actions": [a.description for a in actions],
            "manual": manual,
            "applied": bool(ctx.options.apply),
            "written": written,
            "backup": backup,
            "failures": failures,
            "recheck": None if recheck is None else {
                "errors": sum(1 for f in recheck if f.severity is Severity.ERROR),
                "findings": [f"{f.rule} {f.message}" for f in recheck],
            },
        }
        _write(ctx, json.dumps(scrub_values(data), indent=2) + "\n", scrubbed=True)
    else:
        _write(ctx, _text(ctx, new, info, hosts, places, diff, actions, manual, unsupported,
                          written, backup, failures, recheck))
    if failures:
        return 2
    if ctx.options.apply:
        return 1 if recheck and any(f.severity is Severity.ERROR for f in recheck) else 0
    return 1 if (plan.changed or actions) else 0


def _target_hosts(ctx: Context, report: Report, info: TokenInfo) -> set[str]:
    """The registries to rotate: the named targets, else the registries of
    the stored tokens of the same (Harness) account."""
    if ctx.options.targets or ctx.options.registries:
        return {r.target.host for r in report.resolutions}
    if not info.account_id:
        return set()
    account = info.account_id.lower()
    return {
        c.host
        for c in report.credentials
        if c.token is not None and (c.token.account_id or "").lower() == account
    }


def _check_new_token(
    ctx: Context,
    manager: PluginManager,
    report: Report,
    hosts: set[str],
    new: Secret,
    info: TokenInfo,
) -> None:
    """Raise :class:`RotationRefused` with every reason the new token would
    fail (:func:`hardoctor.tokengate.refusals`)."""
    from hardoctor.tokengate import refusals

    resolutions = _one_per_host(report.resolutions, hosts)
    reasons = refusals(ctx, manager, resolutions, info, lambda res: _candidate(res, new, info))
    if reasons:
        raise RotationRefused(reasons)


def _one_per_host(resolutions: tuple[Resolution, ...], hosts: set[str]) -> list[Resolution]:
    """One resolution per (registry, ecosystem) to test the new token with:
    the first client that has a credential there (its username is reused)."""
    chosen: dict[tuple[str, str], Resolution] = {}
    for res in resolutions:
        if res.target.host not in hosts:
            continue
        key = (res.target.host, res.ecosystem)
        if key not in chosen or (chosen[key].credential is None and res.credential is not None):
            chosen[key] = res
    return list(chosen.values())


def _candidate(res: Resolution, new: Secret, info: TokenInfo) -> Credential:
    old = res.credential
    scheme = old.scheme if old is not None and old.scheme in ("basic", "bearer") else "basic"
    return Credential(
        id="new-token",
        ecosystem=res.ecosystem,
        registry=old.registry if old is not None else (res.target.url or res.target.host),
        host=res.target.host,
        source="stdin",
        location=Location(key="the new token (stdin)"),
        username=old.username if old is not None else None,
        secret=new,
        scheme=scheme,
        via=old.via if old is not None else "",
        clients=(res.client,),
        token=info,
    )


def _places(
    ctx: Context, manager: PluginManager, report: Report, hosts: set[str], new: Secret
) -> list[Place]:
    chosen: dict[str, tuple[Credential, str]] = {}
    old_prints: set[str] = set()
    for res in report.resolutions:
        cred = res.credential
        if res.target.host in hosts and cred is not None:
            if cred.secret is not None and cred.secret.fingerprint == new.fingerprint:
                continue  # already holds the new token
            # A credential without a value (an unset ${NPM_TOKEN}) still has a
            # place: its plugin prints the manual step.
            chosen.setdefault(cred.id, (cred, f"used by {res.client} for {res.target.host}"))
            if cred.secret:
                old_prints.add(_print(cred))
    for cred in report.credentials:
        if cred.id in chosen or not cred.secret or cred.secret.fingerprint == new.fingerprint:
            continue  # (an empty password is nobody's "same old token")
        if _print(cred) in old_prints:
            chosen[cred.id] = (cred, f"holds the same old token #{_print(cred)}")
    places = []
    for cred, why in chosen.values():
        found = manager.call_first("hardoctor_rotate", credential=cred, new_secret=new, ctx=ctx)
        places.append(Place(cred, why, found[1] if found else None))
    return places


def _print(cred: Credential) -> str:
    """The token's fingerprint as the decoders computed it (whitespace and
    quotes stripped), so a copy with a stray newline still counts as the
    same token."""
    if cred.token is not None and cred.token.fingerprint:
        return cred.token.fingerprint
    assert cred.secret is not None
    return cred.secret.fingerprint


def _recheck(ctx: Context, manager: PluginManager, hosts: set[str]) -> list[Finding]:
    from hardoctor import engine
    from hardoctor.context import Context as Ctx

    fresh = Ctx(replace(ctx.options, command="check", apply=False), ctx.env, ctx.rules, manager)
    report = engine.run(fresh, manager)
    return [
        f for f in report.findings
        if f.registry and _host_of(f.registry) in hosts and f.severity is not Severity.INFO
    ]


def _host_of(registry: str) -> str:
    """Findings name their registry as a host or a URL (npm, pip, Maven)."""
    from hardoctor.targets import normalize_host

    return normalize_host(registry)


def _place_dict(ctx: Context, p: Place) -> dict[str, Any]:
    return {
        "credential": p.credential.id,
        "ecosystem": p.credential.ecosystem,
        "location": p.credential.location.display(ctx.home),
        "why": p.why,
        "change": p.rotation.description if p.rotation else None,
        "automatic": bool(p.rotation and (p.rotation.fix or p.rotation.actions)),
    }


def _text(
    ctx: Context,
    new: Secret,
    info: TokenInfo,
    hosts: set[str],
    places: list[Place],
    diff: str,
    actions: list[Any],
    manual: list[str],
    unsupported: list[Place],
    written: list[str],
    backup: str | None,
    failures: list[str],
    recheck: list[Finding] | None,
) -> str:
    lines = [
        f"New token #{new.fingerprint} ({info.details.get('format') or info.kind}"
        + (f", account {info.account_id}" if info.account_id else "")
        + (f", expires {info.expires_at:%Y-%m-%d}" if info.expires_at else "")
        + f") passed its checks for {', '.join(sorted(hosts))}.",
        "",
        f"{len(places)} place{'s hold' if len(places) != 1 else ' holds'} the old credential:",
    ]
    for p in places:
        change = p.rotation.description if p.rotation else "no automatic update: change it by hand"
        lines.append(f"  {p.credential.location.display(ctx.home)}  ({p.why})")
        lines.append(f"      {change}")
    if diff:
        lines += ["", diff.rstrip("\n")]
    if actions:
        lines += ["", "Other changes:"] + [f"  - {a.description}" for a in actions]
    if manual:
        lines += ["", "Do these yourself (the value comes from the environment):"]
        lines += [f"  $ {m}" for m in manual]
    if unsupported:
        lines += ["", "Not updated automatically:"]
        lines += [f"  - {p.credential.location.display(ctx.home)}" for p in unsupported]
    lines.append("")
    if failures:
        lines += ["Failed:"] + [f"  - {f}" for f in failures]
    elif ctx.options.apply:
        if written:
            lines.append(
                f"Updated {len(written)} file{'s' * (len(written) != 1)}; originals saved in "
                f"{ctx.display_path(backup)} (undo with `hardoctor fix --undo`)."
            )
        if recheck is not None:
            errors = [f for f in recheck if f.severity is Severity.ERROR]
            if errors:
                lines.append(f"Checked again: {len(errors)} error(s) remain:")
                lines += [f"  {f.rule} {f.message}" for f in errors]
            else:
                lines.append(f"Checked again: {', '.join(sorted(hosts))} ✓")
    else:
        lines.append("Run again with --apply to write these changes.")
    return "\n".join(lines) + "\n"
