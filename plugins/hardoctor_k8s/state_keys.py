"""The stash key of the plugin's per-pass state, apart from the state's
classes: registering the plugin (and resetting the state each pass) must not
import the Kubernetes object model (start-up)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hardoctor.stash import StashKey

if TYPE_CHECKING:
    from .state import State

#: Fresh each engine pass (``hardoctor_configure`` drops it; ``state()`` makes it).
STATE: StashKey[State] = StashKey("k8s.state")
