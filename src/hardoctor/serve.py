"""``hardoctor serve``: run ``check`` now and then every ``--interval``, and
serve the result to Prometheus.

* ``/metrics``: the OpenMetrics exposition of the last completed check, plus
  ``hardoctor_last_run_success`` (0 after a failed run: the metrics of the
  last good run stay).
* ``/report.json``: the JSON report of the last completed check.
* ``/healthz``: 200 while the scheduler is alive; 503 when a run has been
  stuck far past its deadline (so a liveness probe restarts the pod).
* ``/readyz``: 503 until the first run has finished (good or failed).

Runs never overlap: a run that overshoots its deadline is reported failed
at once, and the next one starts only after it has really ended.  Only the
rendered texts of the last good run are kept, never a report.  One JSON line
per run goes to stderr; SIGTERM and SIGINT stop it cleanly (exit 0).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import re
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from hardoctor import lazyre, redact
from hardoctor.records import dataclass, field
from hardoctor.report.openmetrics import (
    CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
    check_families,
    render_family,
    status_families,
)

if TYPE_CHECKING:
    from types import FrameType

    from hardoctor.context import Context
    from hardoctor.plugins import PluginManager

DEFAULT_LISTEN = "127.0.0.1:9464"
DEFAULT_INTERVAL = "15m"
MAX_DURATION = 31 * 86400.0
#: How long past its deadline a run may hang before /healthz says 503.
STUCK_GRACE = 60.0
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = lazyre.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(text: str) -> float:
    """``30s``, ``15m``, ``1h``, ``1h30m``, ``500ms`` or plain seconds;
    finite, greater than 0, at most 31 days."""
    raw = text.strip().lower()
    try:
        seconds = float(raw) if re.fullmatch(r"\d+(\.\d+)?", raw) else _sum_parts(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a duration: {text!r} (use e.g. 30s, 15m, 1h)") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    if seconds > MAX_DURATION:
        raise argparse.ArgumentTypeError(f"must be at most 31d: {text!r}")
    return seconds


def _sum_parts(raw: str) -> float:
    parts = list(_PART.finditer(raw))
    if not parts or "".join(m.group(0) for m in parts) != raw:
        raise ValueError(raw)
    return sum(float(m.group(1)) * _UNITS[m.group(2)] for m in parts)


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6); port 0 picks a free one."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"not ADDRESS:PORT: {text!r} (e.g. 0.0.0.0:9464)")
    return host, int(port)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("serve")
    g.add_argument("--listen", type=parse_listen, default=parse_listen(DEFAULT_LISTEN),
                   metavar="ADDR:PORT", help=f"where to serve the metrics (default {DEFAULT_LISTEN})")
    g.add_argument("--interval", type=parse_duration, default=parse_duration(DEFAULT_INTERVAL),
                   metavar="DURATION", help=f"time between checks: 30s, 15m, 1h (default {DEFAULT_INTERVAL})")
    g.add_argument("--run-timeout", type=parse_duration, default=None, metavar="DURATION",
                   help="a run that takes longer counts as failed (default: the interval, "
                   "at least 60s and at most 10m)")


def run_deadline(interval: float, explicit: float | None) -> float:
    return explicit if explicit is not None else min(max(interval, 60.0), 600.0)


@dataclass
class State:
    """What the HTTP threads read; written only by the scheduler."""

    deadline: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    metrics: str = ""
    report_json: bytes = b""
    success: bool | None = None
    runs: int = 0
    running_since: float | None = None

    def page(self) -> bytes:
        with self.lock:
            status = "".join(render_family(f) for f in status_families(self.success))
            return (self.metrics + status + "# EOF\n").encode("utf-8")

    def health(self) -> tuple[int, str]:
        with self.lock:
            since = self.running_since
        if since is not None and time.monotonic() - since > self.deadline + STUCK_GRACE:
            return 503, f"a check has been running for {time.monotonic() - since:.0f} s\n"
        return 200, "ok\n"


Page = tuple[int, str, bytes]
_TEXT = "text/plain; charset=utf-8"
_NOT_YET = b"no check has finished yet\n"


def _metrics(state: State, accept: str) -> Page:
    kind = CONTENT_TYPE if "application/openmetrics-text" in accept else TEXT_CONTENT_TYPE
    return 200, kind, state.page()


def _healthz(state: State, accept: str) -> Page:
    code, text = state.health()
    return code, _TEXT, text.encode()


def _readyz(state: State, accept: str) -> Page:
    return (200, _TEXT, b"ready\n") if state.runs > 0 else (503, _TEXT, _NOT_YET)


def _report(state: State, accept: str) -> Page:
    body = state.report_json
    return (200, "application/json", body) if body else (503, _TEXT, _NOT_YET)


def _index(state: State, accept: str) -> Page:
    return 200, _TEXT, b"hardoctor: /metrics /report.json /healthz /readyz\n"


def not_found(state: State, accept: str) -> Page:
    return 404, _TEXT, b"not found\n"


ROUTES: dict[str, Callable[[State, str], Page]] = {
    "/metrics": _metrics, "/healthz": _healthz, "/readyz": _readyz,
    "/report.json": _report, "/": _index,
}


def serve_command(ctx: Context, manager: PluginManager) -> int:
    extra = ctx.options.extra
    listen = extra.get("listen")
    host, port = listen if isinstance(listen, tuple) else parse_listen(DEFAULT_LISTEN)
    interval = _seconds(extra.get("interval")) or parse_duration(DEFAULT_INTERVAL)
    state = State(deadline=run_deadline(interval, _seconds(extra.get("run_timeout"))))
    try:
        from hardoctor.servehttp import Handler, server_class  # http.server only here

        server = server_class(host)((host, port), Handler)
    except OSError as exc:
        ctx.env.stderr.write(f"hardoctor: error: cannot listen on {host}:{port}: "
                             f"{exc.strerror or exc}\n")
        return 2
    server.state = state
    stop = threading.Event()
    previous = _install_signals(stop)
    web = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                           name="hardoctor-http", daemon=True)
    web.start()
    _log(ctx, event="listening", address=f"{host}:{server.server_address[1]}",
         interval_seconds=interval, run_timeout_seconds=state.deadline)
    try:
        Scheduler(ctx, manager, state, stop).loop(interval)
    finally:
        server.shutdown()
        server.server_close()
        _restore_signals(previous)
    _log(ctx, event="stopped", runs=state.runs)
    return 0


def _seconds(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _install_signals(stop: threading.Event) -> dict[int, Any]:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread (an embedding program): no handlers
            break
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)


def _log(ctx: Context, **fields: Any) -> None:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    line = json.dumps({"time": now, **fields}, ensure_ascii=False, sort_keys=False)
    ctx.env.stderr.write(redact.scrub(line) + "\n")
    flush = getattr(ctx.env.stderr, "flush", None)
    if flush is not None:
        flush()


class Scheduler:
    """Runs one check at a time on a worker thread, each under the deadline."""

    def __init__(self, ctx: Context, manager: PluginManager, state: State,
                 stop: threading.Event) -> None:
        self.ctx = ctx
        self.manager = manager
        self.state = state
        self.stop = stop

    def loop(self, interval: float) -> None:
        next_at = time.monotonic()
        while not self.stop.is_set():
            self.run_once()
            next_at += interval
            now = time.monotonic()
            if next_at < now:  # a slow run: skip the missed ticks, never run twice
                next_at = now + interval - (now - next_at) % interval
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def run_once(self) -> None:
        outcome: dict[str, Any] = {}
        started = time.monotonic()
        with self.state.lock:
            self.state.running_since = started
        worker = threading.Thread(target=self._work, args=(outcome,), name="hardoctor-check",
                                  daemon=True)
        worker.start()
        limit = started + self.state.deadline
        while worker.is_alive() and not self.stop.is_set() and time.monotonic() < limit:
            worker.join(0.2)
        if worker.is_alive() and not self.stop.is_set():
            self._finish({"error": f"the check did not finish within {self.state.deadline:g} s"},
                         started)
            while worker.is_alive() and not self.stop.is_set():  # never two at once
                worker.join(0.2)
            with self.state.lock:
                self.state.running_since = None
            return
        if not worker.is_alive():
            self._finish(outcome, started)

    def _work(self, outcome: dict[str, Any]) -> None:
        try:
            outcome.update(check_once(self.ctx, self.manager))
        except BaseException as exc:  # the run failed: say why, keep serving
            outcome["error"] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    def _finish(self, outcome: dict[str, Any], started: float) -> None:
        success = "error" not in outcome
        with self.state.lock:
            if success:
                self.state.metrics = outcome["metrics"]
                self.state.report_json = outcome["json"]
            self.state.success = success
            self.state.runs += 1
            self.state.running_since = None
            run = self.state.runs
        fields: dict[str, Any] = {"event": "check", "run": run, "success": success,
                                  "duration_seconds": round(time.monotonic() - started, 3)}
        fields.update(outcome.get("summary") or {"error": outcome.get("error")})
        _log(self.ctx, **fields)
        outcome.clear()
        gc.collect()  # a large cluster dump is garbage now: give it back before sleeping


def check_once(base: Context, manager: PluginManager) -> dict[str, Any]:
    """One check with a fresh context (no state carried between runs);
    returns the rendered metrics and JSON report and a summary."""
    from hardoctor import engine
    from hardoctor.context import Context
    from hardoctor.report import JsonReporter

    ctx = Context(base.options, base.env, base.rules, base.plugins)
    failures = getattr(manager, "failures", None)
    if isinstance(failures, list):
        failures.clear()  # hook failures are per run, like everything else
    report = engine.run(ctx, manager)
    metrics = "".join(render_family(f) for f in check_families(report, ctx.home))
    counts = report.counts()
    return {
        "metrics": metrics,
        "json": JsonReporter().render(report, ctx).encode("utf-8"),
        "summary": {"status": report.status, "credentials": len(report.credentials),
                    "errors": counts["error"], "warnings": counts["warning"],
                    "infos": counts["info"]},
    }
