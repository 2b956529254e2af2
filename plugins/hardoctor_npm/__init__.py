"""npm, Yarn Berry and pnpm: .npmrc layering, nerf darts, .yarnrc.yml.

Sources: npm's config layers (``npm_config_*`` variables, project, user,
global and builtin ``.npmrc``; a workspace's own ``.npmrc``, which npm
ignores) and Yarn Berry's ``.yarnrc.yml`` files.  Everything is read and
parsed once per pass in ``hardoctor_discover`` and kept in ``ctx.stash``
(:mod:`hardoctor_npm.state`); the modules:

* :mod:`.ini`, :mod:`.envsubst`, :mod:`.nerf` -- npm's parsing rules;
* :mod:`.config`, :mod:`.yarnrc` -- the layers and their precedence;
* :mod:`.creds`, :mod:`.resolve` -- what each client sends, and why;
* :mod:`.lint`, :mod:`.diagnose`, :mod:`.probe` -- findings and probes;
* :mod:`.rules` -- the rule pages.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from hardoctor import hookimpl, lazyre
from hardoctor.context import Context
from hardoctor.lazy import submodules
from hardoctor.model import (
    Credential,
    Ecosystem,
    Finding,
    ProbeResult,
    Remediation,
    Resolution,
    Rotation,
    Rule,
    Secret,
    SetupPlan,
    SetupRequest,
    Source,
    Target,
)

from .nerf import parse_url
from .rules import CLIENT, RULES

if TYPE_CHECKING:
    from hardoctor.probe import ProbePlan

    from . import committed, config, creds, diagnose, inuse, lint, resolve, state
else:  # imported when a hook first needs them (docs/ARCHITECTURE.md, start-up)
    committed, config, creds, diagnose, inuse, lint, resolve, state = submodules(
        __name__, "committed", "config", "creds", "diagnose", "inuse", "lint", "resolve", "state")

ECO = "npm"
_PREFIX = lazyre.compile(r"^(npm|yarn|pnpm):(.+)$", re.IGNORECASE)
_NAME = lazyre.compile(r"^(@[a-z0-9][\w.~-]*/)?[a-z0-9_.~-][\w.~-]*$", re.IGNORECASE)
_DESCRIPTIONS = {
    "env": "npm_config_* environment variables",
    "project": "project .npmrc",
    "user": "user .npmrc (npm, pnpm)",
    "global": "global npmrc ($PREFIX/etc/npmrc)",
    "builtin": "npm's builtin npmrc",
    "workspace": "workspace .npmrc (ignored by npm)",
}


@hookimpl
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    for rule in RULES:
        register(rule)


@hookimpl
def hardoctor_discover(ctx: Context) -> Sequence[Source] | None:
    if not ctx.wants_ecosystem(ECO):
        return None
    st = state.build(ctx)  # every pass: a fix pass re-reads the edited text
    ctx.stash[state.KEY] = st
    out: list[Source] = []
    for layer in st.files.layers:
        if layer.where == "env":
            if layer.env_items:
                out.append(config.source_for(layer, _DESCRIPTIONS["env"]))
            continue
        if not layer.exists:
            continue
        out.append(config.source_for(layer, _DESCRIPTIONS.get(layer.where, layer.where)))
    for yf in st.yarn_files:
        out.append(Source(id=yf.source_id, ecosystem=ECO, kind="file",
                          description=f"Yarn Berry {yf.where} .yarnrc.yml", path=yf.path,
                          exists=True, text=yf.text, mtime=yf.mtime, mode=yf.mode,
                          error=yf.error, payload=yf))
    return out + committed.discover(ctx, out)


def _state(ctx: Context) -> state.State | None:
    return state.get(ctx)


@hookimpl
def hardoctor_credentials(source: Source, ctx: Context) -> Sequence[Credential] | None:
    if source.ecosystem != ECO:
        return None
    st = _state(ctx)
    if st is None:
        return None
    obj = st.sources.get(source.id)
    if isinstance(obj, config.Layer):
        if obj.ignored:
            return []
        return creds.layer_credentials(obj, st.npm, tuple(c for c in st.clients if c != "yarn"))
    if st.yarn is not None and source.id.startswith("yarn:"):
        path = source.path
        return [c for c in creds.yarn_credentials(st.yarn) if c.location.path == path]
    return None


@hookimpl
def hardoctor_lint(source: Source, ctx: Context) -> Sequence[Finding] | None:
    if source.ecosystem != ECO:
        return None
    if isinstance(source.payload, committed.Committed):
        return committed.lint(ctx, source, source.payload)
    st = _state(ctx)
    if st is None:
        return None
    return lint.lint_source(source, st, ctx)


def _split_spec(spec: str) -> tuple[str, str | None]:
    """``@scope/name@1.2`` -> (``@scope/name``, ``1.2``)."""
    at = spec.find("@", 1)
    if at > 0:
        return spec[:at], spec[at + 1:] or None
    return spec, None


@hookimpl
def hardoctor_parse_target(value: str, ctx: Context) -> Target | None:
    m = _PREFIX.match(value.strip())
    if not m:
        return _vendor_registry(value, ctx)
    rest = m.group(2).strip()
    if "://" in rest:  # npm:https://host/path/ -- a registry, for npm's clients
        u = parse_url(rest)
        if u is None:
            return None
        return Target(raw=value, kind="registry", host=u.host, ecosystem=ECO, url=rest)
    name, ref = _split_spec(rest)
    if not _NAME.match(name):
        return None
    st = _state(ctx) or state.ensure(ctx)
    registry, _, _ = resolve.registry_for(st.npm, resolve.scope_of(name))
    u = parse_url(registry)
    return Target(raw=value, kind="package", host=u.host if u else registry, ecosystem=ECO,
                  name=name, reference=ref, url=registry)


def _vendor_registry(value: str, ctx: Context) -> Target | None:
    """A bare URL its vendor says is an npm registry: npm's."""
    raw = value.strip()
    if not raw.startswith(("https://", "http://")):
        return None
    info = ctx.registry_info(raw, ECO)
    u = parse_url(raw)
    if info is None or info.package_type != ECO or info.problems or u is None:
        return None
    return Target(raw=value, kind="registry", host=u.host, ecosystem=ECO, url=raw)


def _registry_target(url: str, scope: str | None, packages: list[str]) -> Target:
    u = parse_url(url)
    host = u.host if u else url
    for dep in packages:
        if resolve.scope_of(dep) == scope or (scope is None and resolve.scope_of(dep) is None):
            return Target(raw=f"npm:{dep}", kind="package", host=host, ecosystem=ECO, name=dep,
                          url=url)
    return Target(raw=url if scope is None else f"{scope} {url}", kind="registry", host=host,
                  ecosystem=ECO, name=scope, url=url)


@hookimpl
def hardoctor_targets(ctx: Context, credentials: Sequence[Credential]) -> Sequence[Target] | None:
    if not ctx.wants_ecosystem(ECO):
        return None
    st = _state(ctx)
    if st is None:
        return None
    cfg = st.npm
    deps = st.project.dependencies
    out: list[Target] = []
    default = cfg.registry
    interesting = cfg.registry_item() is not None or any(
        c.ecosystem == ECO and c.source.startswith("npm:") for c in credentials) or (
        st.yarn is not None and st.yarn.top.get("npmRegistryServer") is not None)
    if interesting:
        out.append(_registry_target(default, None, deps))
    for scope, item in cfg.scope_registries().items():
        if item.text and parse_url(item.text):
            out.append(_registry_target(item.text, scope, deps))
    if st.yarn is not None:
        for name in st.yarn.scopes:
            reg, setting = st.yarn.registry_server(name)
            if setting is not None and not any(t.name == "@" + name for t in out):
                out.append(_registry_target(reg, "@" + name, deps))
    return out


def _wants(target: Target, st: state.State) -> bool:
    if target.ecosystem == ECO:
        return True
    if target.ecosystem is not None:
        return False
    default = parse_url(st.npm.registry)
    hosts = {default.host if default else ""}
    for item in st.npm.scope_registries().values():
        u = parse_url(item.text or "")
        if u:
            hosts.add(u.host)
    return target.host in hosts


@hookimpl
def hardoctor_resolve(target: Target, credentials: Sequence[Credential],
                      ctx: Context) -> Sequence[Resolution] | None:
    st = _state(ctx)
    if st is None or not ctx.wants_ecosystem(ECO) or not _wants(target, st):
        return None
    if target.ecosystem is None:
        url = target.url or _url_for_host(st, target.host)
        if url is None:
            return None
        target = Target(raw=target.raw, kind="registry", host=target.host, ecosystem=ECO,
                        name=None, url=url)
    by_id = {c.id: c for c in credentials}
    out: list[Resolution] = []
    for client in st.clients:
        if client == "yarn":
            res, _ = resolve.resolve_yarn(ctx, st, target, by_id)
        else:
            cfg = st.pnpm if client == "pnpm" and st.pnpm is not None else st.npm
            res, _ = resolve.resolve_npm(ctx, st, target, cfg, client, by_id)
        out.append(res)
    out = inuse.judge(st, target, out)
    # Every client's resolution (judged or not: NPM036 tells Yarn what npm
    # would send); the disagreement (NPM015) is about judged clients only.
    st.resolutions.setdefault(target.raw, {}).update({r.client: r for r in out})
    st.order[target.raw] = [r.client for r in out if r.judged]
    return out


def _url_for_host(st: state.State, host: str) -> str | None:
    for url in [st.npm.registry, *[i.text or "" for i in st.npm.scope_registries().values()]]:
        u = parse_url(url)
        if u is not None and u.host == host:
            return url
    return None


@hookimpl
def hardoctor_probe(resolution: Resolution, ctx: Context) -> Sequence[ProbePlan] | None:
    if resolution.ecosystem != ECO:
        return None
    st = _state(ctx)
    if st is None:
        return None
    from . import probe

    return probe.plan(resolution, st)


@hookimpl
def hardoctor_diagnose(resolution: Resolution, results: Sequence[ProbeResult],
                       ctx: Context) -> Sequence[Finding] | None:
    if resolution.ecosystem != ECO:
        return None
    st = _state(ctx)
    if st is None:
        return None
    return diagnose.diagnose(resolution, results, st, ctx)


@hookimpl
def hardoctor_addoption(parser: argparse.ArgumentParser, command: str) -> None:
    if command == "setup":
        from .setup import add_options

        add_options(parser)


@hookimpl
def hardoctor_setup_plan(request: SetupRequest, ctx: Context) -> SetupPlan | None:
    from .setup import plan

    return plan(request, ctx)


@hookimpl
def hardoctor_rotate(credential: Credential, new_secret: Secret, ctx: Context) -> Rotation | None:
    if credential.ecosystem != ECO:
        return None
    from .rotate import rotate

    return rotate(credential, new_secret, ctx)


@hookimpl
def hardoctor_transport_advice(
    outcome: str, kind: str, host: str, ecosystems: Sequence[str]
) -> Remediation | None:
    from .advice import transport_advice

    return transport_advice(outcome, kind, ecosystems)


@hookimpl
def hardoctor_ecosystems() -> Sequence[Ecosystem]:
    return (Ecosystem("npm", ("npm:PKG",)),)


@hookimpl
def hardoctor_client_names() -> Mapping[str, str]:
    return CLIENT
