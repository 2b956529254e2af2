"""What the terminal sees: colour choice, width, and the progress line.

The progress line lives on stderr, only on a terminal and only for text
output.  It names what is being waited on (N of M probes, the registries
still pending, time left to the deadline) and is gone before anything is
written: every write goes through :func:`stop_progress` first.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from hardoctor.context import Context
    from hardoctor.env import Environment

#: Narrower than this and wrapping stops making sense.
MIN_WIDTH = 40
DEFAULT_WIDTH = 80


def color_wanted(ns: argparse.Namespace, env: Environment) -> bool:
    """``--color``/``--no-color`` > NO_COLOR > FORCE_COLOR > a terminal
    (and not ``--output``)."""
    mode = getattr(ns, "color", None) or "auto"
    if getattr(ns, "no_color", False) or mode == "never":
        return False
    if mode == "always":
        return True
    e = env.environ
    if e.get("NO_COLOR"):
        return False
    force = (e.get("FORCE_COLOR") or "").strip().lower()
    if force and force not in ("0", "false", "no"):
        return True
    return env.stdout_isatty and not getattr(ns, "output", None)


def terminal_width(env: Environment) -> int:
    """COLUMNS when set, else the terminal's width, else 80."""
    raw = (env.environ.get("COLUMNS") or "").strip()
    if raw.isdigit() and int(raw) > 0:
        return max(MIN_WIDTH, int(raw))
    if env.stdout_isatty:
        return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    return DEFAULT_WIDTH


class Progress:
    """A spinner with a message on stderr."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.status: Any = None

    def start(self, message: str) -> None:
        from rich.console import Console

        console = Console(file=self.ctx.env.stderr, no_color=not self.ctx.options.color,
                          highlight=False)
        self.status = console.status(message)
        self.status.start()

    def update(self, message: str) -> None:
        if self.status is not None:
            self.status.update(message)

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


_active: Progress | None = None


def start_progress(ctx: Context, message: str = "reading configuration…") -> Progress | None:
    global _active
    stop_progress()
    if not (ctx.env.stderr_isatty and ctx.options.format == "text" and ctx.options.verbose >= 0):
        return None
    _active = Progress(ctx)
    _active.start(message)
    return _active


def update_progress(message: str) -> None:
    if _active is not None:
        _active.update(message)


def stop_progress() -> None:
    global _active
    if _active is not None:
        _active.stop()
        _active = None


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0] or url


def probe_message(done: int, total: int, pending_urls: Sequence[str], left_s: float) -> str:
    hosts = list(dict.fromkeys(_host(u) for u in pending_urls))
    waiting = ", ".join(hosts[:2]) + (f" (+{len(hosts) - 2})" if len(hosts) > 2 else "")
    text = f"probing: {done} of {total} done"
    if waiting:
        text += f" · waiting on {waiting}"
    return text + f" · {max(0.0, left_s):.1f} s left"


async def watch_probes(tasks: Sequence[asyncio.Future[Any]], urls: Sequence[str],
                       deadline_s: float) -> None:
    """Keep the progress line current while the probes run (cancelled by
    the caller when they are done)."""
    import asyncio  # not at the top: start-up imports this module

    if _active is None:
        return
    started = time.monotonic()
    while True:
        pending = [u for t, u in zip(tasks, urls, strict=True) if not t.done()]
        left = deadline_s - (time.monotonic() - started)
        update_progress(probe_message(len(tasks) - len(pending), len(tasks), pending, left))
        if not pending:
            return
        await asyncio.sleep(0.1)
