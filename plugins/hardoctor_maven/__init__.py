"""Maven and Gradle: settings.xml servers, mirrors, encrypted passwords, gradle.properties.

Maven answers every authentication problem with the same ``401
Unauthorized``: a bad password, no ``<server>``, a server id that matches the
repository behind a mirror instead of the mirror, an encrypted password it
could not decrypt.  This plugin works out what Maven (and Gradle) will send
to each repository exactly as they do -- settings merge, interpolation,
decryption, profiles, mirror selection -- so ``hardoctor check`` can tell
those apart, and probes the repository the way Maven does.

Sources are read and parsed once, in ``hardoctor_discover``, into a
:class:`~hardoctor_maven.state.World` kept in ``ctx.stash``; every other
hook reads it.  The modules, by role (the same roles as every client plugin):

* files/config -- :mod:`.locate` (where Maven and Gradle read from),
  :mod:`.sources` (each file read and parsed once), :mod:`.mvnfiles` and
  :mod:`.xmlpos` (settings/POM/security parsers with line numbers),
  :mod:`.gradle` (gradle.properties and build-script scanner),
  :mod:`.mirrors` (Maven's mirror selection);
* state -- :mod:`.state` (the World, its views, the stash key and the
  resolution payload); built by :mod:`.world` from :mod:`.settings`,
  :mod:`.project` and :mod:`.gradle_creds`;
* creds -- :mod:`.creds` (password decryption, the Credentials), with the
  plexus cipher in :mod:`.cipher`;
* resolve -- :mod:`.resolve` (which credential goes to each repository, and
  the chain), :mod:`.analysis` (which server was *meant*);
* lint -- :mod:`.lint` (per file kind: :mod:`.lint_settings`,
  :mod:`.lint_project`; shared: :mod:`.linter`, :mod:`.fixes`);
* probe/diagnose -- :mod:`.probe` (Maven's two requests),
  :mod:`.diagnose` (what the answers mean), :mod:`.advice` (JVM trust store);
* rules -- :mod:`.rules`;
* rotate -- :mod:`.rotate` (``fix --token-stdin``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from hardoctor import hookimpl
from hardoctor.context import Context
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
from hardoctor.tokencheck import reported_by_owner

from .rules import RULES
from .state import ECO, WORLD

if TYPE_CHECKING:
    from hardoctor.model import Ecosystem
    from hardoctor.probe import ProbePlan

__all__ = ["RULES"]

# MVN012 (env-unset) reports an unset ${env.X} in a <server> with Maven's own
# words: the core's generic TOK002 need not say it again.
reported_by_owner("maven", "server", ("env-literal",))


@hookimpl
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    for rule in RULES:
        register(rule)


@hookimpl
def hardoctor_client_names() -> Mapping[str, str]:
    return {"maven": "Maven", "gradle": "Gradle"}


@hookimpl
def hardoctor_ecosystems() -> Sequence[Ecosystem]:
    from hardoctor.model import Ecosystem

    return (Ecosystem("maven", ("maven:G:A[:V]",)),)


@hookimpl
def hardoctor_discover(ctx: Context) -> Sequence[Source] | None:
    if WORLD in ctx.stash:  # a second pass of the same run (fix) reads the files again
        del ctx.stash[WORLD]
    if not ctx.wants_ecosystem(ECO):
        return None
    # The XML parser and the rest load here, on first use.
    from .world import build

    w = ctx.stash[WORLD] = build(ctx)
    return w.sources


@hookimpl
def hardoctor_credentials(source: Source, ctx: Context) -> Sequence[Credential] | None:
    w = ctx.stash.get(WORLD, None)
    if w is None or source.ecosystem != ECO:
        return None
    return [c for c in w.credentials if c.source == source.id]


@hookimpl
def hardoctor_lint(source: Source, ctx: Context) -> Sequence[Finding] | None:
    w = ctx.stash.get(WORLD, None)
    entry = w.entry_for(source.id) if w is not None and source.ecosystem == ECO else None
    if w is None or entry is None:
        return None
    from .lint import lint

    return lint(w, entry, ctx)


@hookimpl
def hardoctor_parse_target(value: str, ctx: Context) -> Target | None:
    from .resolve import parse_target

    target = parse_target(value, ctx.stash.get(WORLD, None))
    return target if target is not None else _vendor_repository(value, ctx)


def _vendor_repository(value: str, ctx: Context) -> Target | None:
    """A bare URL its vendor says is a Maven repository: Maven's."""
    from hardoctor.targets import split_host_url

    raw = value.strip()
    if not raw.startswith(("https://", "http://")):
        return None
    info = ctx.registry_info(raw, ECO)
    split = split_host_url(raw)
    if info is None or info.package_type != ECO or info.problems or split is None:
        return None
    return Target(raw=value, kind="registry", host=split[0], ecosystem=ECO, url=raw)


@hookimpl
def hardoctor_targets(ctx: Context, credentials: Sequence[Credential]) -> Sequence[Target] | None:
    w = ctx.stash.get(WORLD, None)
    if w is None:
        return None
    from .resolve import targets

    return targets(w)


@hookimpl
def hardoctor_resolve(
    target: Target, credentials: Sequence[Credential], ctx: Context
) -> Sequence[Resolution] | None:
    w = ctx.stash.get(WORLD, None)
    if w is None or target.kind == "image":
        return None
    if target.ecosystem not in (None, ECO) and target.kind != "registry":
        return None
    from .resolve import resolve

    return resolve(target, credentials, w, ctx) or None


@hookimpl
def hardoctor_probe(resolution: Resolution, ctx: Context) -> Sequence[ProbePlan] | None:
    if resolution.ecosystem != ECO or WORLD not in ctx.stash:
        return None
    from .probe import plan

    return plan(resolution, ctx)


@hookimpl
def hardoctor_diagnose(
    resolution: Resolution, results: Sequence[ProbeResult], ctx: Context
) -> Sequence[Finding] | None:
    if resolution.ecosystem != ECO:
        return None
    from .diagnose import diagnose

    return diagnose(resolution, results, ctx)


@hookimpl
def hardoctor_setup_plan(request: SetupRequest, ctx: Context) -> SetupPlan | None:
    from .setup import plan

    return plan(request, ctx)


@hookimpl
def hardoctor_rotate(credential: Credential, new_secret: Secret, ctx: Context) -> Rotation | None:
    if credential.ecosystem != ECO or WORLD not in ctx.stash:
        return None
    from .rotate import rotate

    return rotate(credential, new_secret, ctx)


@hookimpl
def hardoctor_transport_advice(
    outcome: str, kind: str, host: str, ecosystems: Sequence[str]
) -> Remediation | None:
    from .advice import transport_advice

    return transport_advice(outcome, kind, ecosystems)
