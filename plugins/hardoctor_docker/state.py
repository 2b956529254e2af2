"""The Docker plugin's per-run state, in ``ctx.stash`` under typed keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hardoctor.stash import StashKey

if TYPE_CHECKING:
    from hardoctor.model import Resolution, Source

    from .helpers import HelperAnswer

#: Every source read this run, by path (``env:DOCKER_AUTH_CONFIG`` by id).
SOURCES: StashKey[dict[str, Source]] = StashKey("docker.sources")
#: The clients in use on this machine (``docker`` always; podman, helm when found).
ACTIVE: StashKey[frozenset[str]] = StashKey("docker.active")
#: The resolutions of every client for one target (``Target.raw``): DKR022
#: compares them.
RESOLUTIONS: StashKey[dict[str, list[Resolution]]] = StashKey("docker.resolutions")
#: Credential-helper answers, by (helper, server): each helper runs once a run.
HELPERS: StashKey[dict[tuple[str, str], HelperAnswer]] = StashKey("docker.helpers")
