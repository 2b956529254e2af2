"""Maven and Gradle: settings.xml servers, mirrors, encrypted passwords, gradle.properties.

Maven answers every authentication problem with the same ``401
Unauthorized``: a bad password, no ``<server>``, a server id that matches the
repository behind a mirror instead of the mirror, an encrypted password it
could not decrypt.  This plugin works out what Maven (and Gradle) will send
to each repository exactly as they do -- settings merge, interpolation,
decryption, profiles, mirror selection -- so ``hardoctor check`` can tell
those apart, and probes the repository the way Maven does.

Sources are read and parsed once, in ``hardoctor_discover``, into a
:class:`~hardoctor_maven.world.World` kept in ``ctx.cache``; every other hook
reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TC

if _TC:
    from hardoctor.model import Ecosystem

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

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
    Source,
    Target,
)

from .names import CACHE, ECO
from .rules import RULES

if TYPE_CHECKING:
    from .world import World

__all__ = ["RULES"]


def _world(ctx: Context) -> World | None:
    # The world module (XML parser and all) is imported by discover only.  (Not
    # called `world`: importing the submodule would rebind that package name.)
    return ctx.cache.get(CACHE)


@hookimpl
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    for rule in RULES:
        register(rule)


@hookimpl
def hardoctor_discover(ctx: Context) -> Sequence[Source] | None:
    ctx.cache.pop(CACHE, None)
    from .probe import LINKS

    ctx.cache.pop(LINKS, None)
    if not ctx.wants_ecosystem(ECO):
        return None
    from .world import build

    w = build(ctx)
    ctx.cache[CACHE] = w
    return w.sources


@hookimpl
def hardoctor_credentials(source: Source, ctx: Context) -> Sequence[Credential] | None:
    w = _world(ctx)
    if w is None or source.ecosystem != ECO:
        return None
    return [c for c in w.credentials if c.source == source.id]


@hookimpl
def hardoctor_lint(source: Source, ctx: Context) -> Sequence[Finding] | None:
    w = _world(ctx)
    if w is None or source.ecosystem != ECO:
        return None
    from .lint import lint
    from .world import FileEntry

    if not isinstance(source.payload, FileEntry):
        return None

    return lint(w, source.payload, ctx)


@hookimpl
def hardoctor_parse_target(value: str, ctx: Context) -> Target | None:
    from .resolve import parse_target

    return parse_target(value, _world(ctx))


@hookimpl
def hardoctor_targets(ctx: Context, credentials: Sequence[Credential]) -> Sequence[Target] | None:
    w = _world(ctx)
    if w is None:
        return None
    from .resolve import targets

    return targets(w)


@hookimpl
def hardoctor_resolve(
    target: Target, credentials: Sequence[Credential], ctx: Context
) -> Sequence[Resolution] | None:
    w = _world(ctx)
    if w is None or target.kind == "image":
        return None
    if target.ecosystem not in (None, ECO) and target.kind != "registry":
        return None
    from .probe import remember
    from .resolve import resolve

    found = resolve(target, credentials, w, ctx)
    if not found:
        return None
    for res, ep in found:
        remember(ctx, res, ep)
    return [res for res, _ in found]


@hookimpl
def hardoctor_probe(resolution: Resolution, ctx: Context) -> Any:
    if resolution.ecosystem != ECO or _world(ctx) is None:
        return None
    from .probe import plan

    return plan(resolution, ctx)


@hookimpl
def hardoctor_diagnose(
    resolution: Resolution, results: Sequence[ProbeResult], ctx: Context
) -> Sequence[Finding] | None:
    w = _world(ctx)
    if resolution.ecosystem != ECO or w is None:
        return None
    from .probe import diagnose

    return diagnose(w, resolution, results, ctx)


@hookimpl
def hardoctor_rotate(credential: Credential, new_secret: Secret, ctx: Context) -> Rotation | None:
    if credential.ecosystem != ECO or _world(ctx) is None:
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
    from hardoctor.model import Ecosystem

    return (Ecosystem("maven", ("maven:G:A[:V]",)),)
