"""The probe engine: every plan from every plugin, concurrently, under one
deadline.

A :class:`ProbePlan` is a named coroutine factory.  Plugins build plans in
``hardoctor_probe`` without doing any I/O; :func:`run_plans` runs them all on
one event loop with one shared :class:`ProbeSession` (connection reuse, a
per-host connection limit) and cancels whatever is still running when the
deadline passes, recording ``timeout`` for it.  httpx is imported only here,
so an offline run never pays for it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from hardoctor.model import ProbeResult
from hardoctor.records import dataclass

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.probe.session import ProbeSession


#: Extra time after the deadline for plans to hand in their own results.
_GRACE_S = 0.25

#: At most this many requests of one run are in flight to one registry host
#: (``host:port``) at a time: enough for the walks of a dozen images to run
#: side by side -- challenge, token and manifest each one round trip for all
#: of them -- and still polite to the registry.  Further requests wait for a
#: free slot, within the run's deadline.
PER_HOST_LIMIT = 16


def http2_available() -> bool:
    """Whether httpx can speak HTTP/2 (the ``h2`` package, ``httpx[http2]``):
    then one connection carries every stream to a registry that offers it
    (ALPN on https); HTTP/1.1 otherwise."""
    try:
        import h2  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class ProbePlan:
    """One chain of requests that tests a resolution the way its client would.

    ``run`` receives the shared session and returns the results of every
    request it made, in order.  ``url`` and ``credential`` describe the plan
    for the ``timeout`` result recorded when the deadline cuts it short.

    ``key`` shares one walk between plans (several clients sending the same
    credential to the same URL).  The contract:

    - plans with the same non-``None`` key in one run are run **once**: the
      first such plan's ``run`` is awaited, the others' never are;
    - every plan that asked gets the results, each with ``credential`` set to
      *that* plan's ``credential`` (a timeout or failure is reported the
      same way, per plan);
    - the key must capture everything the walk depends on (the secret's
      fingerprint -- never the secret --, user, scheme, URL, TLS, ...): two
      plans whose walks could differ must not share a key;
    - keys are compared per plugin: the engine prefixes each key with the
      name of the plugin that returned the plan, so plugins never collide.
      Within a plugin, start the key with a word naming the walk when the
      plugin has several kinds.

    ``None`` (the default) never shares.
    """

    url: str
    credential: str | None
    run: Callable[[ProbeSession], Awaitable[Sequence[ProbeResult]]]
    description: str = ""
    key: Hashable | None = None


def run_plans(ctx: Context, plans: Sequence[ProbePlan]) -> list[list[ProbeResult]]:
    """Run ``plans`` concurrently; always returns within ``--timeout``
    (plus a small grace for cancellation)."""
    if not plans:
        return []
    from hardoctor.probe.loop import run

    return run(_run_all(ctx, plans))


async def _run_all(ctx: Context, plans: Sequence[ProbePlan]) -> list[list[ProbeResult]]:
    import asyncio  # here, not at the top: plugins import ProbePlan at start-up

    from hardoctor.probe.session import ProbeSession

    deadline = max(0.1, float(ctx.options.timeout))
    started = time.monotonic()
    # Plans with the same key share one task (see ProbePlan.key).
    task_of: list[int] = []
    first: dict[Hashable, int] = {}
    runners: list[ProbePlan] = []
    for plan in plans:
        slot = first.get(plan.key) if plan.key is not None else None
        if slot is None:
            slot = len(runners)
            runners.append(plan)
            if plan.key is not None:
                first[plan.key] = slot
        task_of.append(slot)
    async with ProbeSession(ctx, deadline=deadline) as session:
        tasks = [asyncio.ensure_future(plan.run(session)) for plan in runners]
        from hardoctor.output import watch_probes

        ticker = asyncio.ensure_future(watch_probes(tasks, [p.url for p in runners], deadline))
        # Every request is itself bounded by the session's deadline and then
        # records a precise `timeout` result; the grace lets plans return
        # those before the blanket cancellation below takes over.
        done, pending = await asyncio.wait(tasks, timeout=deadline + _GRACE_S)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=_GRACE_S)
        ticker.cancel()
    out: list[list[ProbeResult]] = []
    elapsed = (time.monotonic() - started) * 1000.0
    for plan, slot in zip(plans, task_of, strict=True):
        task = tasks[slot]
        if task in done and not task.cancelled() and task.exception() is None:
            results = list(task.result())
            if plan.key is not None:
                results = [replace(r, credential=plan.credential) for r in results]
            out.append(results)
        elif task in done and not task.cancelled():
            exc = task.exception()
            out.append(
                [
                    ProbeResult(
                        url=plan.url,
                        credential=plan.credential,
                        outcome="error",
                        # The type only: an exception message could quote a request.
                        detail=f"probe failed: {type(exc).__name__}",
                        elapsed_ms=elapsed,
                    )
                ]
            )
        else:
            out.append(
                [
                    ProbeResult(
                        url=plan.url,
                        credential=plan.credential,
                        outcome="timeout",
                        detail=f"no answer within the {deadline:g} s deadline",
                        elapsed_ms=elapsed,
                    )
                ]
            )
    return out
