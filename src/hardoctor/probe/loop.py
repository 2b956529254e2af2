"""Running a coroutine from synchronous code without waiting for stuck DNS.

``asyncio.run`` shuts down the default executor and joins its threads; a
``getaddrinfo`` stuck on a dead resolver would hold the whole run (and, as
``concurrent.futures`` threads are joined at exit, the process) past the
``--timeout`` deadline.  Here blocking calls run on daemon threads that
nobody waits for: a lookup that outlives the deadline is simply abandoned.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class DaemonExecutor(ThreadPoolExecutor):
    """One daemon thread per call (DNS lookups are few and short-lived).

    A ThreadPoolExecutor only by type -- asyncio insists on one -- none of
    its pool machinery is used."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the awaiting coroutine
                future.set_exception(exc)

        threading.Thread(target=work, name="hardoctor-blocking", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass  # never wait: that is the point


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Like ``asyncio.run`` but never waits for abandoned blocking calls.
    Works from a thread that already runs a loop (uses a helper thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_here(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = _run_here(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="hardoctor-loop", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: T = box["result"]
    return result


def _run_here(coro: Coroutine[Any, Any, T]) -> T:
    loop = asyncio.new_event_loop()
    loop.set_default_executor(DaemonExecutor())
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
