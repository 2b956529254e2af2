"""hardoctor: find out why a registry client gets 401/403, and fix it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    import pluggy

    hookimpl: pluggy.HookimplMarker


def __getattr__(name: str) -> Any:
    # Imported lazily so that `hardoctor --version` does not pay for pluggy.
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker("hardoctor")
        globals()["hookimpl"] = marker
        return marker
    raise AttributeError(name)
