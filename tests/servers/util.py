"""Small process/port helpers shared by the real test servers.

Everything here is plain library code: only :func:`server_missing` touches
pytest, and it imports pytest lazily so the servers stay usable from scripts.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn, TypeVar

LOOPBACK = "127.0.0.1"

# Debian package that provides each binary the servers need, for error hints.
_APT_HINTS: dict[str, str] = {
    "docker-registry": "docker-registry",
    "skopeo": "skopeo",
    "htpasswd": "apache2-utils",
    "dockerd": "docker.io",
    "docker": "docker.io",
    "containerd": "containerd",
}


class MissingBinaryError(RuntimeError):
    """A binary needed by a test server is not installed."""


class ServerStartError(RuntimeError):
    """A test server process did not come up (its log tail is in the message)."""


def require_binary(name: str) -> str:
    """Return the absolute path of ``name`` on PATH or raise MissingBinaryError."""
    path = shutil.which(name)
    if path is None:
        pkg = _APT_HINTS.get(name, name)
        raise MissingBinaryError(
            f"required binary {name!r} not found on PATH; install it with "
            f"`apt-get install -y --no-install-recommends {pkg}` "
            f"(or run scripts/install-system-deps.sh)"
        )
    return path


def server_missing(reason: str) -> NoReturn:
    """Skip the current test locally, but fail it on CI (``CI=true``).

    On CI a missing server means the install step is broken, which must not
    hide behind a green run of skipped tests.
    """
    import pytest  # lazy: keep tests.servers importable without pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port that is free on ``host`` right now.

    There is an unavoidable race between closing this socket and the server
    binding it; with one machine running our own tests it is good enough.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    interval: float = 0.05,
    abort: Callable[[], str | None] | None = None,
) -> None:
    """Poll ``predicate`` until it is true or raise TimeoutError after ``timeout``.

    ``abort`` may return an error message to stop waiting early (for example
    when the server process already died).
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if abort is not None:
            msg = abort()
            if msg:
                raise ServerStartError(f"while waiting for {what}: {msg}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Wait until a TCP connect to ``host:port`` succeeds."""
    wait_until(lambda: port_open(host, port), timeout, f"{host}:{port} to accept connections")


def _children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` read from /proc (Linux only, best effort)."""
    kids: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return kids
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        # Format: "pid (comm) state ppid ..."; comm may contain spaces/parens.
        rest = stat[stat.rfind(")") + 2 :].split()
        if len(rest) > 1 and rest[1] == str(pid):
            kids.append(int(entry))
    return kids


def descendants(pid: int) -> list[int]:
    """All descendants of ``pid`` (children first, then grandchildren...)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        kids = _children_of(todo.pop())
        out.extend(kids)
        todo.extend(kids)
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().decode(errors="replace")
    except OSError:
        return False
    # A zombie ("Z") is dead for our purposes.
    return state[state.rfind(")") + 2 :].split()[0] != "Z"


def clean_env(extra: Mapping[str, str] | None = None, keep: Sequence[str] = ()) -> dict[str, str]:
    """A minimal environment: PATH, LANG and any names in ``keep``, plus ``extra``.

    Servers and clients are run with this instead of ``os.environ`` so the
    developer's own registry credentials, proxies and ``REGISTRY_*`` variables
    never leak into a test.
    """
    env = {
        "PATH": os.environ.get(
            "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        ),
        "LANG": "C.UTF-8",
    }
    for name in keep:
        if name in os.environ:
            env[name] = os.environ[name]
    if extra:
        env.update(extra)
    return env


_LIVE: weakref.WeakSet[ManagedProcess] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _stop_all_at_exit() -> None:
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for proc in procs:
        proc.stop(timeout=3)


class ManagedProcess:
    """A subprocess with its output in a log file, stopped term→kill, always.

    The process runs in its own session so a stop can also reach helpers it
    spawned (dockerd starts containerd); descendants are collected from /proc
    before the main process is signalled, because once it exits they are
    re-parented and can no longer be found by ancestry.
    """

    def __init__(
        self,
        argv: Sequence[str],
        log_path: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        name: str | None = None,
    ) -> None:
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.name = name or Path(self.argv[0]).name
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> ManagedProcess:
        if self.proc is not None:
            raise RuntimeError(f"{self.name} already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # Kept open for the life of the process (closed in stop()).
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        except BaseException:
            self._log.close()
            self._log = None
            raise
        with _LIVE_LOCK:
            _LIVE.add(self)
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exit_message(self) -> str | None:
        """If the process has died, a message with its exit code and log tail."""
        if self.proc is None or self.proc.poll() is None:
            return None
        return f"{self.name} exited with code {self.proc.returncode}; log tail:\n{self.log_tail()}"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL the process and its helpers."""
        proc = self.proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                kids = descendants(proc.pid)
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
                # Helpers that outlived a graceful stop (or all of them after a
                # SIGKILL of the parent) are killed by pid, never by name.
                deadline = time.monotonic() + min(timeout, 5.0)
                while any(_alive(k) for k in kids) and time.monotonic() < deadline:
                    time.sleep(0.05)
                for k in kids:
                    if _alive(k):
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(k, signal.SIGKILL)
            # Anything still in the process group (same session) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None
            with _LIVE_LOCK:
                _LIVE.discard(self)

    def __enter__(self) -> ManagedProcess:
        return self.start() if self.proc is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


_S = TypeVar("_S", bound="ThreadedServer")


class ThreadedServer:
    """An ``http.server`` of the test suite's own (an emulator, a front
    proxy) in a daemon thread on 127.0.0.1, on an ephemeral port.

    Subclasses set :attr:`thread_name` and return their request handler
    class from :meth:`handler_class`; ``start`` is idempotent and the object
    is a context manager."""

    thread_name = "test-server"
    port: int = 0

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self: _S) -> _S:
        if getattr(self, "_httpd", None) is not None:
            return self
        httpd = ThreadingHTTPServer((LOOPBACK, 0), self.handler_class())
        httpd.daemon_threads = True
        self._httpd: ThreadingHTTPServer | None = httpd
        self.port = int(httpd.server_address[1])
        self._thread: threading.Thread | None = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"{self.thread_name}-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = getattr(self, "_httpd", None), getattr(self, "_thread", None)
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            self._httpd = None
        if thread is not None:
            thread.join(timeout=5)
            self._thread = None

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
