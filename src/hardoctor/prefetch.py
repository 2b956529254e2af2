"""``hardoctor_prefetch`` beside the probes, under the same deadline.

A vendor's token-API lookup (prefetch) and the registry probes are both
network round trips, and neither needs the other: the probes send the
stored secret, the lookup asks about it.  Online, the engine therefore starts
prefetch on a worker thread and goes on at once:

1. every credential is decoded with what is known locally
   (``hardoctor_decode_secret`` is pure: a vendor plugin decodes a token
   nobody has looked up yet as "the API was not asked");
2. lint, targets, resolution and the probes run -- the probes concurrently
   with the lookups;
3. the engine waits for prefetch (bounded by the run's deadline plus a
   small grace, like the probes), decodes every credential again -- now
   with the answers -- and hands the new credentials to the resolutions
   (``credential``, ``fallbacks``) before ``hardoctor_check_credential`` and
   ``hardoctor_diagnose`` see them.

Offline, prefetch runs first and synchronously (it asks nothing then), so
there is one decode, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.model import Credential, Resolution
    from hardoctor.plugins import PluginManager

#: Extra wait for prefetch past the deadline (its own requests are bounded
#: by the deadline already; this only covers their bookkeeping).
GRACE_S = 0.5


class Pending:
    """Prefetch as it runs; :meth:`wait` says whether it ran in the
    background (then credentials must be decoded again)."""

    def __init__(self, thread: threading.Thread | None, deadline: float) -> None:
        self._thread = thread
        self._deadline = deadline

    def wait(self) -> bool:
        if self._thread is None:
            return False
        self._thread.join(self._deadline + GRACE_S)
        return True


def start(ctx: Context, manager: PluginManager, credentials: Sequence[Credential]) -> Pending:
    """Call ``hardoctor_prefetch``: on a worker thread when online and
    there is something to ask about, else right here."""

    def call() -> None:
        manager.call("hardoctor_prefetch", credentials=credentials, ctx=ctx)

    if ctx.options.offline or not credentials:
        call()
        return Pending(None, 0.0)
    thread = threading.Thread(target=call, name="hardoctor-prefetch", daemon=True)
    thread.start()
    return Pending(thread, float(ctx.options.timeout))


def rebind(resolutions: Sequence[Resolution], credentials: Sequence[Credential]) -> list[Resolution]:
    """The resolutions with their credentials replaced by the newly decoded
    ones of the same id."""
    by_id = {c.id: c for c in credentials}

    def new(cred: Credential | None) -> Credential | None:
        return by_id.get(cred.id, cred) if cred is not None else None

    out: list[Resolution] = []
    for res in resolutions:
        fallbacks = tuple(by_id.get(c.id, c) for c in res.fallbacks)
        out.append(replace(res, credential=new(res.credential), fallbacks=fallbacks))
    return out
