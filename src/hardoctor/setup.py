"""``hardoctor setup URL... --token-stdin``: configure every client from a
token and the registry URLs, checked first and proven after.

A registry's own "set up client" page gives a person four manual steps per
client (log in, make a token, pull, push), each a chance for the mistakes
``check`` diagnoses.  This command does them:

1. read exactly one token from stdin (never argv) and decode it with every
   plugin (``hardoctor_decode_secret``; the vendor's API for expiry and
   revocation where configured);
2. for each URL, ask the vendor that owns it what it serves
   (``ctx.registry_info(url).package_type``), or take ``--client``, and ask
   the client plugins for their configuration (``hardoctor_setup_plan``);
3. check the token before anything is written, exactly as rotation does
   (:mod:`hardoctor.tokengate`), plus the token's account against the
   URL's: any failure writes nothing (exit 1);
4. show the diff; with ``--apply`` write it with the core's fixes (atomic,
   0600 for new files, one backup set: ``fix --undo`` puts it back), run
   the other actions (a credential helper's ``store``), and check each
   client again exactly as ``check`` would;
5. tell the person what the set-up page would: pull/push commands, the
   token's expiry, and the vendor's own notes (``hardoctor_setup_notes``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hardoctor import redact
from hardoctor.errors import UsageError
from hardoctor.model import Credential, Location, Resolution, SetupPlan, SetupRequest, Severity
from hardoctor.records import dataclass

if TYPE_CHECKING:
    from hardoctor import fixes
    from hardoctor.context import Context
    from hardoctor.model import Finding, Report, Secret, TokenInfo
    from hardoctor.plugins import PluginManager

#: Values of ``--scope`` for setup.
SCOPES = ("user", "project")


def add_setup_arguments(p: argparse.ArgumentParser, timeout: Callable[[str], float]) -> None:
    """The ``setup`` subcommand's own arguments (output options come from
    the CLI's common helper)."""
    p.add_argument("targets", nargs="*", metavar="URL",
                   help="the registry URL for each client, as the registry's set-up page shows it")
    g = p.add_argument_group("setup")
    g.add_argument("--token-stdin", action="store_true",
                   help="read the token from stdin (required: never on the command line)")
    g.add_argument("--user", dest="setup_user", metavar="NAME",
                   help="the login name the registry expects with the token")
    g.add_argument("--client", dest="setup_client", metavar="NAME",
                   help="the client for URLs whose vendor is not known (see `hardoctor plugins`)")
    g.add_argument("--scope", dest="setup_scope", choices=list(SCOPES), default="user",
                   help="user: your own config files (default); project: the project's files, "
                   "with ${VAR} references only")
    g.add_argument("--token-env", dest="setup_token_env", metavar="VAR",
                   help="with --scope project: the variable the CI secret is in")
    g.add_argument("--apply", action="store_true",
                   help="write the changes (atomically, with a backup), then check each client")
    g.add_argument("--offline", action="store_true", help="no network: skip the probes")
    g.add_argument("--push", action="store_true", help="check push access too")
    g.add_argument("--timeout", type=timeout, default=None, metavar="SECONDS",
                   help="deadline for the probes (default 5)")
    g.add_argument("--project", metavar="DIR", help="project directory (default: the working directory)")


@dataclass(frozen=True)
class Client:
    """One plan and what it was made for."""

    request: SetupRequest
    plan: SetupPlan
    #: The resolution of ``plan.check_target`` for this client (None: no
    #: plugin resolved it).
    resolution: Resolution | None = None


class SetupRefused(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def setup_command(ctx: Context, manager: PluginManager, token_stdin: bool) -> int:
    from hardoctor import fixes
    from hardoctor.setupreport import Outcome, render
    from hardoctor.tokens import TokenInputError, inspect_token, read_one_token

    if not ctx.options.targets:
        raise UsageError("setup: name at least one registry URL "
                         "(printf '%s' \"$TOKEN\" | hardoctor setup URL... --token-stdin)")
    if not token_stdin:
        raise UsageError("setup reads the token from stdin: add --token-stdin "
                         "(printf '%s' \"$TOKEN\" | hardoctor setup URL... --token-stdin)")
    ctx.claim_stdin("--token-stdin")
    try:
        new = read_one_token(ctx.env.stdin)
    except TokenInputError as exc:
        raise UsageError(str(exc).replace("token inspect", "setup URL --token-stdin")) from None
    manager.call("hardoctor_configure", ctx=ctx)
    clients = _plans(ctx, manager, new)  # usage errors before any network
    info = inspect_token(ctx, new)
    clients, rctx = _resolve(ctx, manager, clients)
    outcome = Outcome(new, info, clients)
    plan = fixes.plan([c.plan.fix for c in clients if c.plan.fix])
    try:
        _check(ctx, rctx, manager, clients, new, info)
        _check_staged(ctx, manager, clients, plan)
    except SetupRefused as exc:
        outcome.refused = exc.reasons
        return _finish(ctx, outcome, render)

    outcome.diff = redact.scrub(plan.diff())
    outcome.failures = [redact.scrub(f"{s.fix.description}: {s.why}") for s in plan.skipped]
    actions = [a for c in clients for a in c.plan.actions]
    outcome.pending = bool(plan.changed or actions)
    if ctx.options.apply and not outcome.failures:
        if plan.changed:
            result = fixes.apply(plan, fixes.default_backup_root(ctx.env.environ, ctx.home),
                                 ctx.env.clock)
            outcome.failures += [f"{ctx.display_path(p)}: {why}" for p, why in result.refused]
            outcome.written = list(result.written)
            outcome.backup = result.backup_dir
        if not outcome.failures:
            for action in actions:
                error = action.run()
                if error:
                    outcome.failures.append(f"{action.description}: {redact.scrub(error)}")
                else:
                    outcome.done.append(action.description)
        if not outcome.failures:
            outcome.recheck = _recheck(ctx, manager, clients)
    outcome.notes = _vendor_notes(ctx, manager, clients)
    return _finish(ctx, outcome, render)


def _finish(ctx: Context, outcome: Any, render: Callable[[Context, Any], str]) -> int:
    from hardoctor.cli import _write

    _write(ctx, render(ctx, outcome), scrubbed=ctx.options.format == "json")
    if outcome.refused:
        return 1
    if outcome.failures:
        return 2
    if outcome.recheck is not None:
        return 1 if any(not r.ok for r in outcome.recheck) else 0
    return 1 if outcome.pending else 0


def read_existing(ctx: Context, path: str) -> str | None:
    """For a client plugin's plan: the text of a config file it will edit
    (exactly as edits index it), ``None`` when the file does not exist yet.
    A file that cannot be read (not UTF-8, too big, a FIFO, a directory) is
    the person's to fix: a one-line :class:`UsageError` naming it, never
    its content."""
    from hardoctor.files import read_file

    data = read_file(None, path)
    if data is None:
        return None
    if data.error is not None or data.text is None:
        raise UsageError(f"{ctx.display_path(path)}: cannot read it ({data.error}); setup "
                         "leaves it alone")
    return data.text


# -- the plans --------------------------------------------------------------------


def _known_clients(manager: PluginManager) -> list[str]:
    names: dict[str, None] = {}
    for _, mapping in manager.call("hardoctor_client_names"):
        names.update(dict.fromkeys(str(k) for k in dict(mapping)))
    return sorted(names)


def _plans(ctx: Context, manager: PluginManager, new: Secret) -> list[Client]:
    opts = ctx.options
    client = (opts.string("setup_client") or "").strip().lower() or None
    if client is not None and client not in _known_clients(manager):
        raise UsageError(f"argument --client: unknown client {client!r} "
                         f"(choose from {', '.join(_known_clients(manager))})")
    user = (opts.string("setup_user") or "").strip() or None
    scope = "project" if opts.string("setup_scope") == "project" else "user"
    env_var = (opts.string("setup_token_env") or "").strip() or None
    if env_var is not None and not env_var.replace("_", "a").isalnum():
        raise UsageError(f"argument --token-env: {env_var!r} is not a variable name")
    out: list[Client] = []
    for url in dict.fromkeys(u.strip() for u in opts.targets):
        _refuse_secrets_in_argv(ctx, manager, url)
        info = ctx.registry_info(url, None)
        ptype = info.package_type if info is not None else None
        request = SetupRequest(url, client, ptype, user, new,
                               "project" if scope == "project" else "user", env_var)
        before = len(manager.failures)
        plans = [p for _, p in manager.call("hardoctor_setup_plan", request=request, ctx=ctx)
                 if isinstance(p, SetupPlan)]
        if len(manager.failures) > before:
            failure = manager.failures[-1]
            raise RuntimeError(redact.scrub(f"plugin {failure.plugin} failed to plan {url}"))
        if not plans and client is None and ptype is None:
            raise UsageError(f"{_safe(url)}: no loaded plugin knows what this registry serves; "
                             f"say which client reads it with --client "
                             f"({', '.join(_known_clients(manager))})")
        if not plans:
            what = f"client {client!r}" if client else f"a {ptype} registry"
            raise UsageError(f"{_safe(url)}: no loaded plugin sets up {what}")
        out += [Client(request, p) for p in plans]
    return out


def _refuse_secrets_in_argv(ctx: Context, manager: PluginManager, url: str) -> None:
    """A URL with userinfo, or a token where a URL belongs: refused without
    echoing it (argv is seen by ``ps`` and shell history already; the
    output need not add a third copy)."""
    if "@" in url.split("://", 1)[-1].split("/", 1)[0]:
        redact.register(url)
        raise UsageError("a URL argument holds a user name or password before '@' (not shown): "
                         "give the URL without it; the token comes on stdin, the name with --user")
    if "/" in url or "://" in url:
        return
    from hardoctor.model import Secret as Value
    from hardoctor.model import TokenInfo

    probe = Credential(id="argv", ecosystem="token", registry="", host="", source="argv",
                       location=Location(key="argv"), secret=Value(url, register=False),
                       scheme="bearer")
    found = manager.call_first("hardoctor_decode_secret", credential=probe, ctx=ctx)
    info = found[1] if found else None
    if isinstance(info, TokenInfo) and info.kind not in ("opaque", "none", "basic") \
            and not info.problems:
        redact.register(url)
        raise UsageError("an argument looks like a token (not shown): setup reads the token from "
                         "stdin only; the arguments are the registry URLs")


def _safe(url: str) -> str:
    return redact.scrub(url if len(url) <= 200 else url[:197] + "...")


# -- checking the token before anything is written ---------------------------------


def _scoped(ctx: Context, targets: Sequence[str], *, offline: bool,
            environ: Mapping[str, str] | None = None) -> Context:
    from hardoctor.context import Context as Ctx

    options = replace(ctx.options, command="check", targets=tuple(targets), registries=(),
                      ecosystems=(), apply=False, offline=offline, scope="all")
    env = ctx.env if not environ else replace(ctx.env, environ={**ctx.env.environ, **environ})
    return Ctx(options, env, ctx.rules, ctx.plugins)


def _resolve(ctx: Context, manager: PluginManager,
             clients: list[Client]) -> tuple[list[Client], Context]:
    """Each plan's resolution: which of its client's resolutions of the
    check target the token is probed with; and the run's context, whose
    plugin state the probes need (offline only for this first pass: no
    probe is sent before the token is in the credential)."""
    from hardoctor import engine

    targets = [c.plan.check_target for c in clients if c.plan.check_target]
    rctx = _scoped(ctx, targets, offline=True)
    report = engine.run(rctx, manager)
    rctx.options = replace(rctx.options, offline=ctx.options.offline)
    out = []
    for c in clients:
        mine = [r for r in report.resolutions if r.target.raw == c.plan.check_target]
        best = next((r for r in mine if r.client == c.plan.client), mine[0] if mine else None)
        out.append(replace(c, resolution=best))
    return out, rctx


def _candidate(c: Client, res: Resolution, new: Secret, info: TokenInfo) -> Credential:
    return Credential(
        id="new-token",
        ecosystem=res.ecosystem,
        registry=c.plan.registry,
        host=res.target.host,
        source="stdin",
        location=Location(key="the new token (stdin)"),
        username=c.plan.username,
        secret=new,
        scheme=c.plan.scheme,
        clients=(res.client,),
        token=info,
    )


def _check(ctx: Context, rctx: Context, manager: PluginManager, clients: list[Client],
           new: Secret, info: TokenInfo) -> None:
    from hardoctor.tokengate import refusals, token_reasons

    reasons = token_reasons(info) + _account_reasons(ctx, clients, info)
    if reasons:
        raise SetupRefused(reasons)
    direct = [c for c in clients if c.resolution is not None and not c.plan.check_staged]
    by_res = {id(c.resolution): c for c in direct}
    resolutions = [c.resolution for c in direct if c.resolution is not None]
    reasons = refusals(rctx, manager, resolutions, info,
                       lambda res: _candidate(by_res[id(res)], res, new, info), must_reach=True)
    if reasons:
        raise SetupRefused(list(dict.fromkeys(reasons)))


def _check_staged(ctx: Context, manager: PluginManager, clients: list[Client],
                  plan: fixes.Plan) -> None:
    """A client whose plugin cannot say what it would send before its
    configuration exists is checked against the configuration as it will
    be: the planned files staged in ``ctx.overlay`` (nothing written), the
    clients probed exactly as ``check`` probes them.  No resolution even
    then: the token could not be checked, and nothing is written."""
    from hardoctor import engine

    blind = [c for c in clients if c.plan.check_target
             and (c.resolution is None or c.plan.check_staged)]
    if not blind or ctx.options.offline:
        return
    staged = _scoped(ctx, [c.plan.check_target for c in blind], offline=False,
                     environ=_ci_environ(blind))
    staged.overlay.update({f.target: (f.new_text, f.new_mode) for f in plan.files})
    report = engine.run(staged, manager)
    reasons = [f"{c.plan.client}: {v.summary}" for c in blind
               if not (v := _verdict(staged, report, c)).ok]
    if reasons:
        raise SetupRefused(reasons)


def _account_reasons(ctx: Context, clients: list[Client], info: TokenInfo) -> list[str]:
    """The token's account against each URL's, as its vendor reads them."""
    reasons: list[str] = []
    if not info.account_id:
        return reasons
    for url in dict.fromkeys(c.request.url for c in clients):
        reg = ctx.registry_info(url, None)
        if reg is not None and reg.account and reg.account.lower() != info.account_id.lower():
            reasons.append(f"the token belongs to account {info.account_id}, but {_safe(url)} "
                           f"is a registry of account {reg.account}")
    return reasons


# -- after writing ----------------------------------------------------------------


@dataclass(frozen=True)
class Recheck:
    client: Client
    ok: bool
    #: "✓", or what still fails and why; "not checked" when offline.
    summary: str
    errors: tuple[Finding, ...] = ()


def _recheck(ctx: Context, manager: PluginManager, clients: list[Client]) -> list[Recheck]:
    """``check`` of every plan's target, as a fresh run reads the files."""
    from hardoctor import engine

    targets = [c.plan.check_target for c in clients if c.plan.check_target]
    report = engine.run(_scoped(ctx, targets, offline=ctx.options.offline,
                                environ=_ci_environ(clients)), manager)
    return [_verdict(ctx, report, c) for c in clients]


def _ci_environ(clients: list[Client]) -> dict[str, str]:
    """A project's ``${VAR}`` reference is checked with the variable set, as
    CI will set it."""
    return {c.plan.env_var: c.request.secret.reveal() for c in clients if c.plan.env_var}


def _verdict(ctx: Context, report: Report, c: Client) -> Recheck:
    if not c.plan.check_target:
        return Recheck(c, True, "not checked on its own: it carries the credential checked "
                       f"above for {c.plan.registry}")
    mine = [r for r in report.resolutions if r.target.raw == c.plan.check_target]
    # One URL, several ecosystems (Docker's clients and kubelet): the plan's
    # own client's ecosystem, every client of it (podman reads Docker's file).
    own = {r.ecosystem for r in mine if r.client == c.plan.client}
    mine = [r for r in mine if r.ecosystem in own] or mine
    if not mine:
        return Recheck(c, False, "could not check: no plugin resolved " + c.plan.check_target)
    ecos = {r.ecosystem for r in mine}
    hosts = {r.target.host for r in mine}
    errors = tuple(
        f for f in report.findings
        if f.severity is Severity.ERROR and (f.ecosystem is None or f.ecosystem in ecos)
        and f.registry and _host_of(f.registry) in hosts
    )
    if errors:
        return Recheck(c, False, f"{errors[0].rule} {errors[0].message}", errors)
    if ctx.options.offline:
        return Recheck(c, True, "not checked (--offline)")
    if c.plan.env_var:
        return Recheck(c, True, f"✓ (with {c.plan.env_var} set, as CI will set it)")
    return Recheck(c, True, "✓")


def _host_of(registry: str) -> str:
    from hardoctor.targets import normalize_host

    return normalize_host(registry)


def _vendor_notes(ctx: Context, manager: PluginManager, clients: list[Client]) -> list[str]:
    notes: dict[str, None] = {}
    for url in dict.fromkeys(c.request.url for c in clients):
        ptype = next(c.request.package_type for c in clients if c.request.url == url)
        for _, lines in manager.call("hardoctor_setup_notes", url=url, package_type=ptype, ctx=ctx):
            notes.update(dict.fromkeys(str(x) for x in lines))
    return list(notes)

