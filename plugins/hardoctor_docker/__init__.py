"""Docker / OCI: the Docker CLI, podman/skopeo/buildah and Helm.

Sources: the Docker CLI config (``DOCKER_CONFIG`` or ``~/.docker``),
``DOCKER_AUTH_CONFIG``, the containers ``auth.json`` chain, Helm's registry
config and the legacy ``~/.dockercfg``.  Each file is read and parsed once, in
``hardoctor_discover``; the parsed form rides along as the Source payload.

Every resolution speaks the OCI distribution protocol: the ``oci`` plugin
probes it and names the registry's verdict (DKR1xx).  This plugin only says
which credential each client sends and what the daemon trusts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TC

if _TC:
    from hardoctor.model import Ecosystem

import os
import re
import shlex
import shutil
from collections.abc import Callable, Mapping, Sequence

from hardoctor import hookimpl, lazyre
from hardoctor.context import Context
from hardoctor.lazy import submodules
from hardoctor.model import (
    Credential,
    Finding,
    Fix,
    Location,
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
    payload_of,
)
from hardoctor.targets import parse_image_reference, split_host_url
from hardoctor.tokencheck import reported_by_owner

from .hub import HUB
from .rules import RULES
from .state import ACTIVE, RESOLUTIONS, SOURCES

if _TC:
    from . import committed, config, creds, inuse, lint, resolve
else:  # imported when a hook first needs them (docs/ARCHITECTURE.md, start-up)
    committed, config, creds, inuse, lint, resolve = submodules(
        __name__, "committed", "config", "creds", "inuse", "lint", "resolve")

ECO = "docker"
# DKR004 reports (and fixes) a password ending in whitespace in `auths`: the
# core's generic TOK001 need not say it again.
reported_by_owner("docker", "auths", ("newline", "trailing-whitespace"))
_OTHER_PREFIX = lazyre.compile(r"^(npm|pip|pypi|maven|gradle|yarn|pnpm|uv|poetry|k8s|kube):", re.I)


@hookimpl
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    for rule in RULES:
        register(rule)


@hookimpl
def hardoctor_client_names() -> Mapping[str, str]:
    return {"docker": "Docker CLI", "podman": "podman/skopeo/buildah", "helm": "Helm",
            "docker-py": "docker-py"}


def _active_clients(ctx: Context) -> set[str]:
    path = ctx.getenv("PATH")
    active = {"docker"}
    if any(shutil.which(b, path=path) for b in ("skopeo", "podman", "buildah")) or \
            ctx.getenv("REGISTRY_AUTH_FILE"):
        active.add("podman")
    if shutil.which("helm", path=path) or ctx.getenv("HELM_REGISTRY_CONFIG"):
        active.add("helm")
    return active


@hookimpl
def hardoctor_discover(ctx: Context) -> Sequence[Source] | None:
    if not ctx.wants_ecosystem(ECO):
        return None
    roles: dict[str, list[str]] = {}
    descriptions: dict[str, str] = {}

    def role(path: str, client: str, description: str) -> None:
        roles.setdefault(path, [])
        if client not in roles[path]:
            roles[path].append(client)
        descriptions.setdefault(path, description)

    ddir, _ = config.docker_config_dir(ctx)
    dpath = os.path.join(ddir, "config.json")
    role(dpath, "docker", "Docker CLI config")
    for path in config.containers_chain(ctx):
        if os.path.basename(path) == ".dockercfg":
            continue
        role(path, "podman", "containers auth file (podman, skopeo, buildah)")
    role(config.helm_registry_config(ctx), "helm", "Helm registry config")
    role(dpath, "helm", "Docker CLI config")
    legacy = os.path.join(ctx.home, ".dockercfg")
    _committed_roles(ctx, roles, descriptions)
    sdk_path = _docker_py_config(ctx)
    if sdk_path is not None and sdk_path not in roles and sdk_path != legacy:
        role(sdk_path, "docker-py", "Docker SDK for Python config (its fallback)")

    sources: list[Source] = []
    active = _active_clients(ctx)
    for path, clients in roles.items():
        src = config.read_source(ctx, path, tuple(clients), descriptions[path])
        if src is not None:
            # A containers or Helm file that exists means that client is in use.
            active.update(c for c in clients if path != dpath)
            sources.append(src)
    legacy_src = config.read_source(ctx, legacy, ("podman",), "legacy ~/.dockercfg", legacy=True)
    if legacy_src is not None:
        sources.append(legacy_src)

    env_value = ctx.getenv("DOCKER_AUTH_CONFIG")
    if env_value:
        sources.append(Source(
            id="env:DOCKER_AUTH_CONFIG",
            ecosystem=ECO,
            kind="env",
            description="DOCKER_AUTH_CONFIG environment variable",
            path="DOCKER_AUTH_CONFIG",
            text=env_value,
            payload=config.FilePayload(config.parse_config(env_value), ("docker",)),
        ))
    explicit = ctx.getenv("DOCKER_CONFIG")
    if explicit:
        sources.append(Source(
            id="env:DOCKER_CONFIG",
            ecosystem=ECO,
            kind="env",
            description="DOCKER_CONFIG environment variable",
            path="DOCKER_CONFIG",
            payload=config.ConfigDirPayload(ctx.env.expand_home(explicit)),
        ))
    if ctx.options.scope == "project":  # the repository only: not the environment
        sources = [s for s in sources if s.kind == "file"]
    by_path = {s.path: s for s in sources if s.kind == "file" and s.path}
    for s in sources:
        if s.id == "env:DOCKER_AUTH_CONFIG":
            by_path[s.id] = s
    ctx.stash[SOURCES] = by_path
    ctx.stash[ACTIVE] = frozenset(active)
    ctx.stash[RESOLUTIONS] = {}
    return sources


def _docker_py_config(ctx: Context) -> str | None:
    from .dockerpy import config_path  # no SDK import: only the SDK's file lookup

    return config_path(ctx)


def _committed_roles(ctx: Context, roles: dict[str, list[str]], descriptions: dict[str, str]) -> None:
    """Docker-format files in the project that no client reads unless pointed
    at (CI jobs that set DOCKER_CONFIG=./.docker), and every nested one git
    tracks (``tools/ci/.docker/config.json``, ``auth.json``): a committed one
    leaks its tokens (DKR025)."""
    in_project = os.path.join(ctx.project, ".docker", "config.json")
    found = [(in_project, "Docker config in the project")]
    found += [(p, "Docker-format credentials committed to the repository")
              for p in committed.paths(ctx)]
    for path, description in found:
        if path not in roles:
            roles[path] = []
            descriptions[path] = description


@hookimpl
def hardoctor_credentials(source: Source, ctx: Context) -> Sequence[Credential] | None:
    if source.ecosystem != ECO or not isinstance(source.payload, config.FilePayload):
        return None
    return creds.file_credentials(source, ctx)


@hookimpl
def hardoctor_lint(source: Source, ctx: Context) -> Sequence[Finding] | None:
    if source.ecosystem != ECO:
        return None
    if source.id == "env:DOCKER_CONFIG":
        return _lint_docker_config_env(source, ctx)
    if source.id == "env:DOCKER_AUTH_CONFIG":
        payload = source.payload
        if isinstance(payload, config.FilePayload) and payload.config is not None and payload.config.error:
            err = payload.config.error
            return [ctx.finding(
                "DKR016", f"DOCKER_AUTH_CONFIG is not valid JSON ({err.msg} at character {err.pos}).",
                ecosystem=ECO, location=Location(None, key="$DOCKER_AUTH_CONFIG"),
                why="Docker silently ignores it and reads the config file instead.",
            )]
    return lint.lint_source(source, ctx)


def _lint_docker_config_env(source: Source, ctx: Context) -> list[Finding]:
    payload = payload_of(source.payload, config.ConfigDirPayload)
    if payload is None:
        return []
    path = payload.path
    if not os.path.exists(path) or os.path.isdir(path):
        return []
    parent = os.path.dirname(path) or "."
    return [ctx.finding(
        "DKR012",
        f"DOCKER_CONFIG={ctx.display_path(path)} is a file; Docker expects the directory that "
        "holds config.json.",
        ecosystem=ECO,
        location=Location(None, key="$DOCKER_CONFIG"),
        why=f"Docker looks for {ctx.display_path(path)}/config.json, finds nothing, and sends no "
        "credentials.",
        remediation=Remediation("Point DOCKER_CONFIG at the directory.",
                                commands=(f"export DOCKER_CONFIG={parent}",)),
    )]


@hookimpl
def hardoctor_parse_target(value: str, ctx: Context) -> Target | None:
    raw = value.strip()
    if _OTHER_PREFIX.match(raw):
        return None
    for prefix in ("docker://", "oci://", "docker:", "oci:"):
        if raw.startswith(prefix):
            raw = raw[len(prefix):]
            break
    if "://" in raw:
        # Only registry-API URLs are Docker's; a URL with another path
        # (an npm or pip index, a Maven repository) is left to their plugins.
        path = "/" + raw.split("://", 1)[1].partition("/")[2]
        if path.rstrip("/") not in ("", "/v1", "/v2"):
            return None
        split = split_host_url(raw)
        if split is None:
            return None
        return Target(raw=value, kind="registry", host=split[0], ecosystem=ECO, url=split[1])
    if "/" not in raw and "@" not in raw:
        split = split_host_url(raw)
        if split is not None and ("." in raw or ":" in raw or raw == "localhost"):
            return Target(raw=value, kind="registry", host=split[0], ecosystem=ECO)
    ref = parse_image_reference(raw, HUB)
    if ref is None:
        return None
    if ref.explicit_host and not ref.tag and not ref.digest and _registry_root(ref.host, ref.path, ctx):
        # HOST/ACCOUNT/REGISTRY as a vendor's set-up page shows it: the
        # registry (checked as `docker login` would), not an image.
        return Target(raw=value, kind="registry", host=ref.host, ecosystem=ECO, name=ref.path)
    return Target(raw=value, kind="image", host=ref.host, ecosystem=ECO, name=ref.path,
                  reference=ref.digest or ref.tag or "latest")


def _registry_root(host: str, path: str, ctx: Context) -> bool:
    """Does the vendor that owns ``host`` say ``path`` is a registry (its
    account and name), not an image?"""
    info = ctx.registry_info(f"{host}/{path}", ECO)
    if info is None or info.problems or not info.account or not info.registry:
        return False
    return path.lower() == f"{info.account}/{info.registry}".lower()


@hookimpl
def hardoctor_targets(ctx: Context, credentials: Sequence[Credential]) -> Sequence[Target] | None:
    if not ctx.wants_ecosystem(ECO):
        return None
    hosts: list[str] = []
    for src in ctx.stash.get(SOURCES, {}).values():
        payload = src.payload
        if not isinstance(payload, config.FilePayload) or payload.config is None or \
                not payload.clients:  # a file no client reads names no registry in use
            continue
        for entry in payload.config.entries:
            hosts.append(config.host_of_key(entry.key))
        for key in payload.config.cred_helpers:
            hosts.append(config.host_of_key(key))
    hosts += [c.host for c in credentials if c.ecosystem == ECO and c.clients]
    out = []
    for host in dict.fromkeys(h for h in hosts if h):
        out.append(Target(raw=host, kind="registry", host=HUB.canonical(host),
                          ecosystem=ECO))
    return out


@hookimpl
def hardoctor_resolve(target: Target, credentials: Sequence[Credential], ctx: Context) -> Sequence[Resolution] | None:
    if target.ecosystem not in (None, ECO) or not ctx.wants_ecosystem(ECO):
        return None
    by_id = {c.id: c for c in credentials}
    active = ctx.stash.get(ACTIVE, frozenset({"docker"}))
    out = [resolve.resolve_docker(ctx, target, by_id)]
    if "podman" in active:
        out.append(resolve.resolve_podman(ctx, target, by_id))
    if "helm" in active:
        out.append(resolve.resolve_helm(ctx, target, by_id))
    out += _docker_py(ctx, target, by_id, out[0])
    out = inuse.judge(ctx, [resolve.with_tls(ctx, r) for r in out], active)
    ctx.stash.setdefault(RESOLUTIONS, {})[target.raw] = out
    return out


def _docker_py(ctx: Context, target: Target, by_id: dict[str, Credential],
               cli: Resolution) -> list[Resolution]:
    """The Docker SDK for Python, beside the Docker CLI wherever it sends
    something else (:mod:`.dockerpy`); judged when the project depends on it."""
    from dataclasses import replace

    from . import dockerpy

    sdk = dockerpy.resolve(ctx, target, by_id)
    if not dockerpy.differs(cli, sdk):
        return []
    why = dockerpy.in_use(ctx)
    return [replace(sdk, judged=why is not None, judged_because=why or (
        "the project does not depend on the docker SDK (docker, docker-compose, "
        "community.docker); --client docker-py judges it"))]


@hookimpl
def hardoctor_setup_plan(request: SetupRequest, ctx: Context) -> SetupPlan | None:
    from . import setup

    return setup.plan(request, ctx)


@hookimpl
def hardoctor_rotate(credential: Credential, new_secret: Secret, ctx: Context) -> Rotation | None:
    if credential.ecosystem != ECO:
        return None
    from .rotate import rotate

    return rotate(credential, new_secret, ctx)


@hookimpl
def hardoctor_fix(finding: Finding, ctx: Context) -> Fix | None:
    """A credential stored under another name of the same registry: a copy
    under the key the client looks up (:mod:`.nearfix`)."""
    if finding.ecosystem != ECO or finding.cause != "credential-not-matched":
        return None
    from .nearfix import add_key_fix

    return add_key_fix(finding, ctx)


@hookimpl
def hardoctor_diagnose(resolution: Resolution, results: Sequence[ProbeResult], ctx: Context) -> Sequence[Finding] | None:
    if resolution.ecosystem != ECO:
        return None
    out: list[Finding] = []
    if not results and resolution.credential is None:
        out += _offline_no_credentials(resolution, ctx)
    out += _disagreement(resolution, ctx)
    out += _missing_authfile(resolution, results, ctx)
    for step in resolution.chain:
        if step.description == "DOCKER_AUTH_CONFIG" and step.outcome == "used" and any(
            s.outcome == "lost" and s.reason == "DOCKER_AUTH_CONFIG wins" for s in resolution.chain
        ):
            out.append(ctx.finding(
                "DKR023", f"DOCKER_AUTH_CONFIG overrides the config file for {resolution.target.host}.",
                ecosystem=ECO, registry=resolution.target.host, location=step.location,
                why="Changes to the config file have no effect while the variable is set.",
            ))
    return out


def _offline_no_credentials(resolution: Resolution, ctx: Context) -> list[Finding]:
    target = resolution.target
    host = target.host
    if any(s.outcome == "failed" for s in resolution.chain):
        return []  # the lint finding about the broken file or helper says it better
    for src in ctx.stash.get(SOURCES, {}).values():
        payload = src.payload
        if isinstance(payload, config.FilePayload) and payload.config is not None and any(
            HUB.owns(config.key_host(e.key)) and e.key != config.canonical_key("docker.io")
            for e in payload.config.entries
        ) and HUB.owns(host):
            return []  # DKR009 (hub-key-not-matched) names the real cause
    near = [s for s in resolution.chain if s.outcome == "skipped" and s.credential and s.location]
    if near:
        step = near[0]
        stored = step.description.removeprefix("auths[").removesuffix("]")
        return [ctx.finding(
            "DKR021",
            f"Clients look up {config.canonical_key(host)!r}, but the credential is stored under "
            f"{stored}.",
            ecosystem=ECO, registry=host, location=step.location,
            why="Keys must match the registry host and port exactly (after scheme and path are "
            "stripped); this one never matches, so the client sends nothing and gets 401.",
            remediation=Remediation("Store the credential under the host the client uses.",
                                    commands=(f"printf '%s' \"$TOKEN\" | docker login {host} -u USER --password-stdin",)),
        )]
    if resolution.client != "docker":
        return []  # one no-credentials finding per registry is enough
    return [ctx.finding(
        "DKR020",
        f"No credential is configured for {host}; docker pulls anonymously.",
        ecosystem=ECO, registry=host,
        why="A private registry answers 401 (`no basic auth credentials`).",
        evidence=tuple(f"{s.description}: {s.reason}" for s in resolution.chain if s.reason),
        remediation=Remediation("Log in to the registry.",
                                commands=(f"printf '%s' \"$TOKEN\" | docker login {host} -u USER --password-stdin",)),
    )]


def _missing_authfile(resolution: Resolution, results: Sequence[ProbeResult],
                      ctx: Context) -> list[Finding]:
    """podman told to read a file that is not there (DKR031)."""
    explicit = ctx.getenv("REGISTRY_AUTH_FILE")
    if resolution.client != "podman" or resolution.credential is not None or not explicit:
        return []
    path = ctx.env.expand_home(explicit)
    if os.path.exists(path):
        return []
    host = resolution.target.host
    refused = [r for r in results if r.status in (401, 403)]
    return [ctx.finding(
        "DKR031",
        f"REGISTRY_AUTH_FILE={ctx.display_path(path)} does not exist: podman, skopeo and buildah "
        f"read no other auth file and have no credential for {host}"
        + (f" ({refused[0].status} without one)." if refused else "."),
        ecosystem=ECO, registry=host, location=Location(None, key="$REGISTRY_AUTH_FILE"),
        why="With REGISTRY_AUTH_FILE set, containers/image reads only that file (no fallback "
            "to ${XDG_RUNTIME_DIR}/containers/auth.json or ~/.docker/config.json); podman 4 "
            "stops with `stat FILE: no such file or directory`.",
        evidence=tuple(r.detail for r in refused[:1] if r.detail),
        remediation=Remediation(
            "Point REGISTRY_AUTH_FILE at the file that holds the login, or log in into it.",
            commands=(f"podman login --authfile {shlex.quote(path)} {host}",)),
    )]


def _disagreement(resolution: Resolution, ctx: Context) -> list[Finding]:
    if resolution.client != "docker":
        return []
    all_res = [r for r in ctx.stash.get(RESOLUTIONS, {}).get(resolution.target.raw, [])
               if r.judged]
    all_res = [r for r in all_res if r.judged]  # a client not in use disagrees with no one
    seen: dict[str, str] = {}
    for r in all_res:
        cred = r.credential
        fp = "none" if cred is None or cred.secret is None else cred.secret.fingerprint
        seen[r.client] = fp
    if len(set(seen.values())) < 2:
        return []
    parts = []
    for r in all_res:
        cred = r.credential
        what = "nothing" if cred is None else f"{cred.location.display(ctx.home)} #{seen[r.client]}"
        parts.append(f"{r.client}: {what}")
    return [ctx.finding(
        "DKR022",
        f"Clients disagree about {resolution.target.host}: " + "; ".join(parts) + ".",
        ecosystem=ECO, registry=resolution.target.host,
        why="One tool works while another gets 401 against the same registry.",
    )]


@hookimpl
def hardoctor_transport_advice(
    outcome: str, kind: str, host: str, ecosystems: Sequence[str]
) -> Remediation | None:
    from .advice import transport_advice

    return transport_advice(outcome, kind, host, ecosystems)


@hookimpl
def hardoctor_ecosystems() -> Sequence[Ecosystem]:
    from hardoctor.model import Ecosystem

    return (Ecosystem("docker", ("image (HOST/PATH:TAG)",)),)
