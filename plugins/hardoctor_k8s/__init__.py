"""Kubernetes image pull secrets: manifests and live clusters.

Sources: ``--manifests PATH`` (files, directories, ``-`` for stdin; YAML
streams and ``kubectl get -o json`` lists) and ``--kube`` (a live cluster
through ``kubectl``).  Every pull-secret entry becomes a credential (the
Harness plugin checks its token's expiry and account); every container image
of every workload becomes a target that the kubelet resolves through the
pod's (or its ServiceAccount's) pull secrets by the kubelet's own matching
rules; online, the ``oci`` protocol plugin walks the pull with every
credential the kubelet would try (each resolution says ``protocol="oci"``).

Modules: :mod:`.yamlstream` (streaming reader), :mod:`.objects` (records),
:mod:`.sources` (files, stdin, kubectl), :mod:`.dockercfg` (secret values),
:mod:`.keyring` (kubelet matching), :mod:`.resolve` (the chain),
:mod:`.lint` (offline findings), :mod:`.probe` (stale tokens, advice for
the registry's verdicts),
:mod:`.fixes` (edits and ``kubectl apply``), :mod:`.rules`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TC

if _TC:
    from hardoctor.model import Ecosystem

import argparse
from collections.abc import Callable, Mapping, Sequence

from hardoctor import hookimpl
from hardoctor.context import Context
from hardoctor.lazy import submodule
from hardoctor.model import (
    Credential,
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
from hardoctor.targets import normalize_host

from .hub import HUB
from .options import SCOPE_COMMANDS, add_options, kube_options
from .state_keys import STATE

if _TC:
    from . import state as kstate
else:  # objects, Secrets and their decoding load when a source is Kubernetes
    kstate = submodule(__name__, "state")

ECO = "k8s"


def _active(ctx: Context) -> bool:
    from .committed import files

    return ctx.wants_ecosystem(ECO) and bool(
        kube_options(ctx).manifests or kube_options(ctx).kube or files(ctx))


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


@hookimpl
def hardoctor_addoption(parser: argparse.ArgumentParser, command: str) -> None:
    if command not in SCOPE_COMMANDS:
        return
    add_options(parser)
    if command == "setup":
        from .setup import add_options as add_setup_options

        add_setup_options(parser)
    g = parser.add_argument_group("kubernetes (kubectl)")
    g.add_argument("--kube-timeout", type=_positive, default=None, metavar="SECONDS",
                   help="deadline for reading the cluster with kubectl "
                        "(HARDOCTOR_KUBE_TIMEOUT; default 30)")
    g.add_argument("--kubectl", default=None, metavar="PATH",
                   help="the kubectl binary to use (HARDOCTOR_KUBECTL; default: kubectl on PATH)")


@hookimpl
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    from .rules import RULES

    for rule in RULES:
        register(rule)


@hookimpl
def hardoctor_setup_plan(request: SetupRequest, ctx: Context) -> SetupPlan | None:
    from .setup import plan

    return plan(request, ctx)


@hookimpl
def hardoctor_client_names() -> Mapping[str, str]:
    return {"kubelet": "kubelet"}


@hookimpl
def hardoctor_configure(ctx: Context) -> None:
    if STATE in ctx.stash:
        del ctx.stash[STATE]  # fresh per pass (fix runs the engine in passes)
    if kube_options(ctx).reads_stdin:
        ctx.claim_stdin("--manifests -")


@hookimpl
def hardoctor_discover(ctx: Context) -> Sequence[Source] | None:
    if not _active(ctx):
        return None
    from .committed import files
    from .sources import discover, file_source

    sources = discover(ctx)
    named = {s.path for s in sources if s.path}
    sources += [file_source(ctx, p) for p in files(ctx) if p not in named]
    st = kstate.state(ctx)
    for src in sources:
        if isinstance(src.payload, kstate.SourceData):
            st.add_source(src.payload)
    return sources


def _data(source: Source, ctx: Context) -> kstate.SourceData | None:
    if source.ecosystem != ECO or not isinstance(source.payload, kstate.SourceData):
        return None
    data = source.payload
    if data.kind == "cluster" and not data.loaded:
        from .sources import load_cluster

        load_cluster(ctx, data)
        kstate.state(ctx).add_source(data)  # re-index with what kubectl returned
    return data


@hookimpl
def hardoctor_credentials(source: Source, ctx: Context) -> Sequence[Credential] | None:
    data = _data(source, ctx)
    if data is None:
        return None
    from .creds import credentials

    return credentials(data, kstate.state(ctx), ctx)


@hookimpl
def hardoctor_lint(source: Source, ctx: Context) -> Sequence[Finding] | None:
    data = _data(source, ctx)
    if data is None:
        return None
    from .lint import lint

    return lint(source, data, kstate.state(ctx), ctx)


@hookimpl
def hardoctor_targets(ctx: Context, credentials: Sequence[Credential]) -> Sequence[Target] | None:
    if not _active(ctx):
        return None
    from . import keyring
    from .resolve import applies

    st = kstate.state(ctx)
    st.credentials_of(credentials)
    st.index()
    out: list[Target] = []
    seen: set[str] = set()
    used: set[tuple[str, str]] = set()
    for w in st.workloads:
        for ref in applies(st, w).refs:
            used.add((w.namespace, ref.name))
        for use in w.images:
            ref_ = st.image(use.image)
            if ref_ is None:
                continue
            repo = keyring.image_repository(ref_)
            if repo in seen:
                continue
            seen.add(repo)
            out.append(Target(raw=use.image, kind="image", host=ref_.host, ecosystem=ECO,
                              name=ref_.path, reference=ref_.digest or ref_.tag or "latest"))
    # Pull secrets no workload uses still hold tokens worth checking.
    hosts: list[str] = []
    for cred in credentials:
        origin = st.cred_origin.get(cred.id)
        if origin is None or "kubelet" not in cred.clients:
            continue
        secret = origin[0]
        if (secret.namespace, secret.name) in used:
            continue
        hosts.append(normalize_host(cred.registry, HUB))
    for host in dict.fromkeys(hosts):
        raw = f"{host}"
        st.auto_targets.add(raw)
        out.append(Target(raw=raw, kind="registry", host=host, ecosystem=ECO))
    return out


def _mine(target: Target, ctx: Context) -> bool:
    if target.ecosystem == ECO:
        return True
    # Targets named on the command line (or --registry) are for every client.
    return bool(ctx.options.targets or ctx.options.registries) and \
        target.ecosystem in (None, "docker") and target.kind in ("image", "registry")


@hookimpl
def hardoctor_resolve(
    target: Target, credentials: Sequence[Credential], ctx: Context
) -> Sequence[Resolution] | None:
    if not _active(ctx) or not _mine(target, ctx):
        return None
    from .resolve import resolve, resolve_registry

    st = kstate.state(ctx)
    if target.kind == "registry":
        out = resolve_registry(ctx, st, target, credentials)
    else:
        out = resolve(ctx, st, target, credentials)
    st.resolutions += out
    return out


@hookimpl
def hardoctor_diagnose(
    resolution: Resolution, results: Sequence[ProbeResult], ctx: Context
) -> Sequence[Finding] | None:
    if resolution.ecosystem != ECO:
        return None
    from .probe import diagnose

    st = kstate.state(ctx)
    # The engine decodes again after prefetch (docs/ARCHITECTURE.md): the
    # resolution carries the final credentials; the state keeps them too.
    for cred in (resolution.credential, *resolution.fallbacks):
        if cred is not None:
            st.credentials[cred.id] = cred
    return diagnose(resolution, results, st, ctx)


@hookimpl(trylast=True)
def hardoctor_remediation(
    finding: Finding, credential: Credential | None, ctx: Context
) -> Remediation | None:
    # trylast: the vendor that owns the registry speaks first; for any other
    # registry, a pull secret is fixed in the Secret, not with a login.
    if finding.ecosystem != ECO or not _active(ctx):
        return None
    from .probe import remediation

    return remediation(finding, credential, kstate.state(ctx))


@hookimpl
def hardoctor_rotate(credential: Credential, new_secret: Secret, ctx: Context) -> Rotation | None:
    if credential.ecosystem != ECO:
        return None
    from .rotate import rotate

    return rotate(credential, new_secret, ctx)


@hookimpl
def hardoctor_ecosystems() -> Sequence[Ecosystem]:
    from hardoctor.model import Ecosystem

    return (Ecosystem("k8s", ()),)
