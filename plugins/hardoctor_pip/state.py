"""The plugin's typed run state (``ctx.stash``): the parsed model and the
credentials of this pass, and where each resolution's index is configured."""

from __future__ import annotations

from hardoctor.context import Context
from hardoctor.model import Location
from hardoctor.stash import StashKey

from .creds import Creds
from .model import Model

#: The parsed configuration of this pass (``hardoctor_discover`` replaces it).
MODEL: StashKey[Model] = StashKey("pip.model")
#: The credentials built from :data:`MODEL`.
CREDS: StashKey[Creds] = StashKey("pip.creds")
#: (client, index URL) -> where that client's index URL is configured: the
#: location of findings about an index no credential is sent to.
LOCS: StashKey[dict[tuple[str, str], Location]] = StashKey("pip.reslocs")


def model(ctx: Context) -> Model | None:
    return ctx.stash.get(MODEL, None)


def creds(ctx: Context) -> Creds | None:
    return ctx.stash.get(CREDS, None)


def locations(ctx: Context) -> dict[tuple[str, str], Location]:
    return ctx.stash.setdefault(LOCS, {})


def forget(ctx: Context) -> None:
    """Drop the pass's state (the ecosystem is not wanted this run)."""
    if MODEL in ctx.stash:
        del ctx.stash[MODEL]
    if CREDS in ctx.stash:
        del ctx.stash[CREDS]
