"""Targets and resolutions: for each URL Maven or Gradle sends requests to,
which credential goes with them and why -- the chain a person needs to see
to understand a 401 that looks the same for every cause."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hardoctor import lazyre
from hardoctor.context import Context
from hardoctor.model import ChainStep, Credential, Location, Resolution, Target
from hardoctor.targets import host_matches

from . import analysis
from .state import ECO, PUBLIC_HOSTS, Endpoint, GradleEndpoint, World

_COORDS = lazyre.compile(r"^(?:maven|mvn|gradle):([A-Za-z0-9_.\-]+):([A-Za-z0-9_.\-]+)(?::([A-Za-z0-9_.\-+]+))?$")


def parse_target(value: str, w: World | None) -> Target | None:
    m = _COORDS.match(value.strip())
    if not m:
        return None
    group, artifact, version = m.groups()
    first = None
    if w is not None:
        first = next((ep for ep in w.endpoints if not ep.deploy and not ep.blocked), None)
    return Target(
        raw=value,
        kind="package",
        host=first.host if first else "repo.maven.apache.org",
        ecosystem=ECO,
        name=f"{group}:{artifact}",
        reference=version,
        url=first.url if first else None,
    )


def targets(w: World) -> list[Target]:
    out: list[Target] = []
    for ep in w.endpoints:
        if ep.blocked or (ep.public and ep.server is None):
            continue
        out.append(Target(raw=ep.url, kind="registry", host=ep.host, ecosystem=ECO, url=ep.url))
    for ge in w.gradle_endpoints:
        if ge.host.split(":")[0] in PUBLIC_HOSTS and ge.credential is None:
            continue
        out.append(Target(raw=ge.url, kind="registry", host=ge.host, ecosystem=ECO, url=ge.url))
    return out


def _norm(url: str | None) -> str:
    return (url or "").rstrip("/").lower()


def resolve(target: Target, credentials: Sequence[Credential], w: World,
            ctx: Context) -> list[Resolution]:
    """The resolutions for ``target``, each with the endpoint it is about as
    its payload."""
    by_id = {c.id: c for c in credentials}
    out: list[Resolution] = []
    if target.kind == "package" and target.ecosystem == ECO:
        for ep in w.endpoints:
            if not ep.deploy and not ep.blocked:
                t = replace(target, host=ep.host, url=ep.url)
                out.append(maven_resolution(w, ep, t, by_id, ctx))
        for ge in w.gradle_endpoints:
            if not ge.repo.publishing:
                t = replace(target, host=ge.host, url=ge.url)
                out.append(gradle_resolution(ge, t, by_id, ctx))
        return out
    if target.kind != "registry":
        return out
    want = _norm(target.url)

    def wanted(url: str, host: str) -> bool:
        # A URL names one repository; a bare host (``--registry HOST``, or a
        # host TARGET another plugin parsed first) every repository on it.
        if want:
            return _norm(url) == want
        return bool(host) and host_matches(target.host, host)

    for ep in w.endpoints:
        if not ep.blocked and wanted(ep.url, ep.host):
            t = target if want else replace(target, url=ep.url)
            out.append(maven_resolution(w, ep, t, by_id, ctx))
    for ge in w.gradle_endpoints:
        if wanted(ge.url, ge.host):
            t = target if want else replace(target, url=ge.url)
            out.append(gradle_resolution(ge, t, by_id, ctx))
    return out


def _settings_names(w: World, ctx: Context) -> str:
    names = [ctx.display_path(w.user_settings_path)]
    if w.global_settings_path:
        names.append(ctx.display_path(w.global_settings_path))
    return " or ".join(names)


def maven_resolution(w: World, ep: Endpoint, target: Target, by_id: dict[str, Credential],
                     ctx: Context) -> Resolution:
    chain: list[ChainStep] = []
    for c in ep.contacts:
        where = c.loc()
        title = f"{c.describe()} {c.url}"
        if c.mirror is not None:
            how = "exact id" if c.match == "exact" else f"pattern {c.mirror.mirror_of!r}"
            chain.append(ChainStep(title, "skipped",
                                   f"replaced by mirror {c.mirror.id!r} ({how})", location=where))
        elif c.deploy:
            chain.append(ChainStep(title, "used", "deploy repository: mirrors never apply",
                                   location=where))
        else:
            chain.append(ChainStep(title, "used", "no mirror matches it", location=where))
    if ep.mirror is not None:
        chain.append(ChainStep(
            f"mirror {ep.mirror.id!r} {ep.mirror.url}", "used",
            f"Maven sends the requests here and looks up <server> {ep.server_id!r}",
            location=ep.mirror.loc()))
    cred: Credential | None = None
    views = [v for v in w.servers if v.id == ep.server_id]
    for v in views:
        if v.effective:
            cred = by_id.get(v.cred_id)
            reason = f"id {v.id!r} matches"
            if v.password.state == "decrypted":
                reason += "; password decrypted with the master password"
            elif v.password.state not in ("plain",):
                reason += f"; password sent as written ({v.password.state})"
            chain.append(ChainStep(f"<server> {v.id!r}", "used", reason,
                                   cred.id if cred else None, v.loc()))
        else:
            winner = v.lost_to
            why = "a later <server> with the same id in the same file wins"
            if winner is not None and winner.entry is not v.entry:
                why = f"the one in {ctx.display_path(winner.entry.path)} wins"
            chain.append(ChainStep(f"<server> {v.id!r}", "lost", why, v.cred_id, v.loc()))
    if not views:
        chain.append(ChainStep(
            f"<server> {ep.server_id!r}", "missing",
            f"no <server> with id {ep.server_id!r} in {_settings_names(w, ctx)}: Maven sends "
            "no credentials", location=Location(w.user_settings_path)))
        for cand in analysis.candidates(w, ep):
            if cand.kind == "behind-mirror":
                why = (f"has the id of repository {cand.repo_id!r} behind the mirror; Maven "
                       f"looks up {ep.server_id!r}")
            else:
                why = f"id {cand.view.id!r} is not {ep.server_id!r}"
            chain.append(ChainStep(f"<server> {cand.view.id!r}", "lost", why,
                                   cand.view.cred_id, cand.view.loc()))
    return Resolution(target=target, ecosystem=ECO, client="maven", credential=cred,
                      chain=tuple(chain), registry=ep.url, protocol=ECO, payload=ep.ref)


def gradle_resolution(ge: GradleEndpoint, target: Target, by_id: dict[str, Credential],
                      ctx: Context) -> Resolution:
    repo = ge.repo
    chain: list[ChainStep] = [ChainStep(
        f'Gradle repository "{repo.name}" {ge.url}', "used",
        "publishing repository" if repo.publishing else "declared in the build",
        location=ge.loc())]
    cred = by_id.get(ge.credential.id) if ge.credential is not None else None
    if repo.creds is None:
        chain.append(ChainStep("credentials", "missing", "the repository declares none",
                               location=ge.loc()))
    else:
        first = True
        for cand in ge.candidates:
            chain.append(ChainStep(
                cand.description, "used" if first else "lost",
                "first in Gradle's order (ORG_GRADLE_PROJECT_*, user gradle.properties, "
                "project gradle.properties)" if first else "a higher-precedence value wins",
                cred.id if first and cred else None, cand.where))
            first = False
        for name in ge.missing:
            chain.append(ChainStep(name.lstrip("$"), "missing",
                                   "environment variable not set" if name.startswith("$")
                                   else "Gradle property not defined", location=ge.loc()))
    return Resolution(target=target, ecosystem=ECO, client="gradle", credential=cred,
                      chain=tuple(chain), registry=ge.url, protocol=ECO, payload=ge.ref)
