"""Which credential each client sends for a registry host -- the chain.

Each function follows one client's source code: the Docker CLI's
``configfile`` and credential-store lookup, containers/image's auth-file
chain, and Helm's registry config with its Docker fallback.  Every
resolution speaks the OCI protocol (the ``oci`` plugin probes it) and
carries what the Docker daemon trusts for the host (:mod:`.tls`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from hardoctor.context import Context
from hardoctor.model import ChainStep, Credential, Location, Resolution, Source, Target

from . import helpers
from .config import (
    AuthEntry,
    DockerConfig,
    FilePayload,
    canonical_key,
    containers_chain,
    containers_key,
    decode_auth,
    docker_config_dir,
    entry_location,
    helm_registry_config,
    key_host,
)
from .creds import ask, entry_credential, entry_id, helper_id
from .state import SOURCES
from .tls import docker_tls


def load_error(doc: DockerConfig | None, source: Source) -> str | None:
    """Why the Docker CLI cannot load this file at all (it then warns and
    carries on with *no* credentials), or None."""
    if source.error:
        return source.error
    if doc is None:
        return "unreadable"
    if doc.error is not None:
        return f"invalid JSON ({doc.error.msg} at line {doc.error.line} column {doc.error.column})"
    if doc.type_errors:
        return doc.type_errors[0][0]
    for entry in doc.entries:
        auth = entry.text("auth")
        if auth:
            problem = decode_auth(auth).problem
            if problem:
                return f'auths["{entry.key}"].auth {problem}'
    return None


def cli_lookup(doc: DockerConfig, host: str) -> tuple[AuthEntry | None, list[AuthEntry]]:
    """The Docker CLI's file-store lookup: the exact key, else the first key
    whose hostname (scheme and path stripped) equals the server address.
    Returns (chosen entry, the other entries that also match)."""
    key = canonical_key(host)
    exact = [e for e in doc.entries if e.key == key]
    loose = [e for e in doc.entries if e.key != key and key_host(e.key) == key]
    if exact:
        return exact[-1], loose
    if loose:
        return loose[0], loose[1:]
    return None, []


def near_misses(doc: DockerConfig, host: str) -> list[AuthEntry]:
    """Entries for the same registry that the lookup will not match: another
    port, other letter case, a loopback alias (``localhost`` for
    ``127.0.0.1``), a default port written out (``host:443``), or a Docker
    Hub alias the CLI does not know.  Literal forms only
    (:func:`hardoctor.targets.same_registry_aliases`): no DNS."""
    from hardoctor.targets import same_registry_aliases

    bare = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    out = []
    for entry in doc.entries:
        other = key_host(entry.key)
        if other == canonical_key(host) or other == host:
            continue
        alias = same_registry_aliases(other, host)
        if alias is not None and alias.kinds - {"scheme", "trailing-slash"} or \
                other.lower() == host.lower() or other.rsplit(":", 1)[0].lower() == bare.lower():
            out.append(entry)
    return out


def _loc(source: Source, doc: DockerConfig, pos: int, key: str) -> Location:
    return entry_location(source, doc, pos, key)


def _cred(creds: dict[str, Credential], cid: str) -> Credential | None:
    return creds.get(cid)


def cli_file(
    ctx: Context,
    source: Source | None,
    path: str,
    host: str,
    creds: dict[str, Credential],
    label: str,
) -> tuple[list[ChainStep], Credential | None, bool]:
    """One Docker-CLI-semantics file.  Returns (steps, credential, decided):
    ``decided`` is True when the client stops here (a helper answered, even
    "not found", or an entry matched)."""
    display = ctx.display_path(path)
    if source is None:
        return [ChainStep(f"{label} {display}", "missing", "file does not exist")], None, False
    payload = source.payload
    doc = payload.config if isinstance(payload, FilePayload) else None
    err = load_error(doc, source)
    if err is not None or doc is None:
        return (
            [ChainStep(f"{label} {display}", "failed",
                       f"the Docker CLI cannot load this file ({err}) and uses no credentials from it",
                       location=Location(path))],
            None,
            True,
        )
    key = canonical_key(host)
    steps: list[ChainStep] = []
    entry, others = cli_lookup(doc, host)
    helper_name = None
    via = ""
    pos = 0
    if key in doc.cred_helpers:
        member = doc.cred_helpers[key]
        helper_name, via, pos = str(member.value.value), "credHelpers", member.key_start
    elif doc.store_name:
        assert doc.creds_store is not None
        helper_name, via, pos = doc.store_name, "credsStore", doc.creds_store.key_start
    if helper_name:
        answer = ask(ctx, helper_name, key)
        where = _loc(source, doc, pos, f'{via}["{key}"]' if via == "credHelpers" else via)
        binary = helpers.binary_name(helper_name)
        cred: Credential | None = None
        if answer.status == "ok":
            cred = _cred(creds, helper_id(source, via, key))
            steps.append(ChainStep(f"{via} -> {binary}", "used", f"{via} applies to {key}",
                                   cred.id if cred else None, where))
        elif answer.status == "not-found":
            steps.append(ChainStep(f"{via} -> {binary}", "missing",
                                   f"{binary} has no credentials for {key}; Docker sends none "
                                   "(it never falls back to auths)", location=where))
        else:
            steps.append(ChainStep(f"{via} -> {binary}", "failed", answer.detail, location=where))
        if entry is not None and entry_credential(entry) is not None:
            steps.append(ChainStep(f'auths["{entry.key}"]', "lost",
                                   f"ignored: {via} applies to this registry, so Docker never "
                                   "reads the plaintext entry",
                                   entry_id(source, entry.key),
                                   _loc(source, doc, entry.member.key_start, f'auths["{entry.key}"]')))
        return steps, cred, True
    if entry is None:
        steps.append(ChainStep(f"{label} {display}", "missing", f"no auths entry for {key}",
                               location=Location(path)))
        for near in near_misses(doc, host):
            steps.append(ChainStep(
                f'auths["{near.key}"]', "skipped",
                f"same host under another key: {near.key!r} never matches {key!r}",
                entry_id(source, near.key),
                _loc(source, doc, near.member.key_start, f'auths["{near.key}"]')))
        return steps, None, False
    where = _loc(source, doc, entry.member.key_start, f'auths["{entry.key}"]')
    ec = entry_credential(entry)
    cred = _cred(creds, entry_id(source, entry.key)) if ec is not None else None
    reason = "exact key" if entry.key == key else f"key {entry.key!r} normalises to {key}"
    if cred is None:
        steps.append(ChainStep(f'auths["{entry.key}"]', "missing",
                               "entry holds no credentials", location=where))
    else:
        steps.append(ChainStep(f'auths["{entry.key}"]', "used", reason, cred.id, where))
    for other in others:
        steps.append(ChainStep(
            f'auths["{other.key}"]', "lost",
            f"also normalises to {key}; the Docker CLI picks one of them in map order",
            entry_id(source, other.key),
            _loc(source, doc, other.member.key_start, f'auths["{other.key}"]')))
    return steps, cred, True


def sources_by_path(ctx: Context) -> dict[str, Source]:
    return ctx.stash.get(SOURCES, {})


def resolve_docker(ctx: Context, target: Target, creds: dict[str, Credential]) -> Resolution:
    host = target.host
    sources = sources_by_path(ctx)
    steps: list[ChainStep] = []
    env_source = sources.get("env:DOCKER_AUTH_CONFIG")
    if env_source is not None:
        payload = env_source.payload
        doc = payload.config if isinstance(payload, FilePayload) else None
        if doc is None or load_error(doc, env_source):
            steps.append(ChainStep("DOCKER_AUTH_CONFIG", "skipped", "not valid JSON: Docker ignores it"))
        else:
            entry, _ = cli_lookup(doc, host)
            cred = creds.get(entry_id(env_source, entry.key)) if entry else None
            if cred is not None and entry is not None:
                steps.append(ChainStep("DOCKER_AUTH_CONFIG", "used",
                                       f'auths["{entry.key}"] in the environment wins over files '
                                       "and helpers", cred.id, cred.location))
                path = os.path.join(docker_config_dir(ctx)[0], "config.json")
                shadowed, _, _ = cli_file(ctx, sources.get(path), path, host, creds, "config")
                for s in shadowed:
                    if s.outcome == "used":
                        steps.append(ChainStep(s.description, "lost",
                                               "DOCKER_AUTH_CONFIG wins", s.credential, s.location))
                return _resolution(target, "docker", cred, steps)
            steps.append(ChainStep("DOCKER_AUTH_CONFIG", "missing", f"no entry for {host}"))
    path = os.path.join(docker_config_dir(ctx)[0], "config.json")
    file_steps, cred, _ = cli_file(ctx, sources.get(path), path, host, creds, "config")
    steps += file_steps
    return _resolution(target, "docker", cred, steps)


def resolve_helm(ctx: Context, target: Target, creds: dict[str, Credential]) -> Resolution:
    host = target.host
    sources = sources_by_path(ctx)
    path = helm_registry_config(ctx)
    steps, cred, decided = cli_file(ctx, sources.get(path), path, host, creds, "Helm registry config")
    if not decided or (cred is None and steps and steps[-1].outcome == "failed"):
        dpath = os.path.join(docker_config_dir(ctx)[0], "config.json")
        more, cred2, _ = cli_file(ctx, sources.get(dpath), dpath, host, creds, "Docker config (fallback)")
        steps += more
        cred = cred or cred2
    return _resolution(target, "helm", cred, steps)


def resolve_podman(ctx: Context, target: Target, creds: dict[str, Credential]) -> Resolution:
    """containers/image: credHelpers then auths (most specific key first) in
    each file of the chain; credsStore is ignored; a file that does not parse
    ends the search with an error."""
    host = "docker.io" if target.host == "docker.io" else target.host
    repo = target.name or ""
    wanted = [host]
    if repo:
        parts = repo.split("/")
        wanted = [f"{host}/{'/'.join(parts[:i])}" for i in range(len(parts), 0, -1)] + [host]
    sources = sources_by_path(ctx)
    steps: list[ChainStep] = []
    for path in containers_chain(ctx):
        display = ctx.display_path(path)
        source = sources.get(path)
        if source is None:
            explicit = ctx.getenv("REGISTRY_AUTH_FILE")
            why = ("$REGISTRY_AUTH_FILE names it and it does not exist: podman, skopeo and "
                   "buildah read no other file" if explicit and
                   ctx.env.expand_home(explicit) == path else "file does not exist")
            steps.append(ChainStep(f"auth file {display}", "missing", why))
            continue
        payload = source.payload
        doc = payload.config if isinstance(payload, FilePayload) else None
        if doc is None or source.error or doc.error is not None or doc.type_errors:
            steps.append(ChainStep(f"auth file {display}", "failed",
                                   "does not parse: podman/skopeo stop here with an error",
                                   location=Location(path)))
            return _resolution(target, "podman", None, steps)
        helper = doc.cred_helpers.get(host)
        if helper is not None:
            name = str(helper.value.value)
            answer = ask(ctx, name, host)
            binary = helpers.binary_name(name)
            where = entry_location(source, doc, helper.key_start, f'credHelpers["{host}"]')
            if answer.status == "ok":
                cred = creds.get(helper_id(source, "credHelpers", host))
                steps.append(ChainStep(f"credHelpers -> {binary}", "used", f"in {display}",
                                       cred.id if cred else None, where))
                return _resolution(target, "podman", cred, steps)
            steps.append(ChainStep(f"credHelpers -> {binary}",
                                   "missing" if answer.status == "not-found" else "failed",
                                   answer.detail, location=where))
        if doc.store_name:
            assert doc.creds_store is not None
            steps.append(ChainStep(f"credsStore in {display}", "skipped",
                                   "containers/image ignores credsStore",
                                   location=entry_location(source, doc, doc.creds_store.key_start,
                                                           "credsStore")))
        by_key: dict[str, AuthEntry] = {}
        for entry in doc.entries:
            by_key.setdefault(containers_key(entry.key), entry)
        for want in wanted:
            found = by_key.get(want)
            if found is None:
                continue
            entry = found
            where = entry_location(source, doc, entry.member.key_start, f'auths["{entry.key}"]')
            ec = entry_credential(entry)
            if ec is None or ec.plaintext_fields:
                why = ("only username/password fields: containers/image reads `auth` only"
                       if ec is not None else "entry holds no credentials")
                steps.append(ChainStep(f'auths["{entry.key}"]', "skipped", why, location=where))
                continue
            cred = creds.get(entry_id(source, entry.key))
            steps.append(ChainStep(f'auths["{entry.key}"]', "used", f"matches {want} in {display}",
                                   cred.id if cred else None, where))
            return _resolution(target, "podman", cred, steps)
        steps.append(ChainStep(f"auth file {display}", "missing", f"no entry for {host}",
                               location=Location(path)))
        for near in near_misses(doc, host):
            steps.append(ChainStep(
                f'auths["{near.key}"]', "skipped",
                f"same registry under another key: {near.key!r} never matches {host!r}",
                entry_id(source, near.key),
                entry_location(source, doc, near.member.key_start, f'auths["{near.key}"]')))
    return _resolution(target, "podman", None, steps)


def _resolution(target: Target, client: str, cred: Credential | None, steps: Sequence[ChainStep]) -> Resolution:
    return Resolution(
        target=target,
        ecosystem="docker",
        client=client,
        credential=cred,
        chain=tuple(steps),
        registry=target.host,
        protocol="oci",
    )


def with_tls(ctx: Context, res: Resolution) -> Resolution:
    """``res`` with what the Docker daemon trusts for its host.  podman and
    Helm get the same: the walk has always used the daemon's view for them,
    and their own settings (registries.conf) are not read yet."""
    from dataclasses import replace

    return replace(res, tls=docker_tls(res.target.host, ctx.env.environ))
