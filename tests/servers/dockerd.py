"""A real Docker engine (dockerd) isolated from the host, plus a docker CLI runner."""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from .util import ManagedProcess, clean_env, require_binary, wait_until

# Variables that would make the docker CLI talk to another engine or read
# someone else's credentials.
_CLI_LEAKY = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_AUTH_CONFIG",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, sock_path: str, timeout: float = 2.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self._sock_path = sock_path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._sock_path)
        self.sock = s


def api_get(sock_path: str | Path, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """GET ``path`` from the Engine API on a unix socket."""
    conn = _UnixHTTPConnection(str(sock_path), timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Dockerd:
    """Start ``dockerd`` without touching the host network; use as a context manager.

    No iptables, no bridge, vfs storage, its own data-root/exec-root/pidfile/
    socket and an empty ``--config-file`` so /etc/docker/daemon.json never
    applies. Loopback registries are insecure by default (127.0.0.0/8), so
    ``docker pull 127.0.0.1:PORT/repo:tag`` works over plain http.

    Args:
        start_timeout: seconds to wait for ``/_ping``.
        docker_binary: docker CLI to run in :meth:`docker` (default: PATH).
    Attributes:
        host: ``unix:///.../docker.sock`` for ``DOCKER_HOST``.
        socket_path, data_root, exec_root, log_path.
    """

    def __init__(self, *, start_timeout: float = 30.0, docker_binary: str | None = None) -> None:
        self.start_timeout = start_timeout
        self.docker_binary = docker_binary
        self.root: Path | None = None
        self.socket_path: Path | None = None
        self.data_root: Path | None = None
        self.exec_root: Path | None = None
        self.log_path: Path | None = None
        self._proc: ManagedProcess | None = None
        self._home: Path | None = None

    @property
    def host(self) -> str:
        if self.socket_path is None:
            raise RuntimeError("Dockerd not started")
        return f"unix://{self.socket_path}"

    def start(self) -> Dockerd:
        if self._proc is not None:
            return self
        exe = require_binary("dockerd")
        require_binary("containerd")
        if self.docker_binary is None:
            self.docker_binary = require_binary("docker")
        # Everything lives under one short /tmp dir: containerd's socket is
        # <exec-root>/containerd/containerd.sock and unix socket paths are
        # limited to 107 bytes, so pytest's long tmp_path is not an option.
        self.root = Path(tempfile.mkdtemp(prefix="hd-", dir="/tmp"))
        self.data_root = self.root / "d"
        self.exec_root = self.root / "x"
        self.socket_path = self.root / "docker.sock"
        self.log_path = self.root / "dockerd.log"
        self._home = self.root / "home"
        self._home.mkdir()
        config_file = self.root / "daemon.json"
        config_file.write_text("{}\n")
        argv = [
            exe,
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
            "--bridge=none",
            "--storage-driver=vfs",
            "--config-file",
            str(config_file),
            "--data-root",
            str(self.data_root),
            "--exec-root",
            str(self.exec_root),
            "--pidfile",
            str(self.root / "docker.pid"),
            "-H",
            self.host,
        ]
        self._proc = ManagedProcess(
            argv, self.log_path, env=clean_env({"HOME": str(self._home)}), name="dockerd"
        )
        try:
            self._proc.start()
            wait_until(
                self._pings,
                self.start_timeout,
                f"dockerd API on {self.socket_path}",
                interval=0.1,
                abort=self._proc.exit_message,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def _pings(self) -> bool:
        assert self.socket_path is not None
        if not self.socket_path.exists():
            return False
        try:
            status, body = api_get(self.socket_path, "/_ping", timeout=1)
        except OSError:
            return False
        return status == 200 and body.strip() == b"OK"

    def docker(
        self,
        *args: str,
        docker_config_dir: str | Path | None,
        env: Mapping[str, str] | None = None,
        input: str | None = None,  # noqa: A002 - mirrors subprocess.run
        timeout: float = 120.0,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run the real docker CLI against this engine.

        ``DOCKER_HOST`` points here; ``DOCKER_CONFIG`` is ``docker_config_dir``
        (a directory holding config.json). With ``None`` no DOCKER_CONFIG is
        set and HOME is an empty temp dir, so ``~/.docker`` is empty too
        (pass ``env={"HOME": ...}`` to test ~/.docker/config.json).
        ``input`` feeds stdin, e.g. for ``login --password-stdin`` (the CLI
        refuses an interactive login without a TTY).
        """
        if self._proc is None or self.docker_binary is None:
            raise RuntimeError("Dockerd not started")
        assert self._home is not None
        extra = {"HOME": str(self._home), "DOCKER_HOST": self.host}
        if docker_config_dir is not None:
            extra["DOCKER_CONFIG"] = str(docker_config_dir)
        run_env = clean_env(extra)
        for name in _CLI_LEAKY:
            if name not in extra:
                run_env.pop(name, None)
        # `docker login` stores a new login in a credential store of its own
        # choosing when `docker-credential-pass` (+ `pass`) or
        # `-secretservice` is on PATH; then config.json holds only
        # `credsStore` and the test depends on the machine.  The CLI runs by
        # its absolute path, so PATH is only where it looks for helpers: an
        # empty directory, unless the caller gives a PATH (its own helpers).
        no_helpers = self._home / ".no-credential-helpers"
        no_helpers.mkdir(exist_ok=True)
        run_env["PATH"] = str(no_helpers)
        if env:
            run_env.update(env)
        return subprocess.run(
            [self.docker_binary, *args],
            env=run_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
            input=input if input is not None else "",
        )

    def log_text(self) -> str:
        return self._proc.log_text() if self._proc else ""

    def stop(self) -> None:
        if self._proc is not None:
            # dockerd stops its containerd on SIGTERM; ManagedProcess kills any
            # straggler by pid afterwards.
            self._proc.stop(timeout=15)
            self._proc = None
        if self.root is not None:
            _unmount_below(self.root)
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> Dockerd:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _unmount_below(root: Path) -> None:
    """Lazily unmount anything dockerd left mounted under ``root`` (best effort).

    dockerd may bind-mount parts of its data/exec roots; rmtree over a live
    mount would fail or, worse, descend into the mounted tree.
    """
    prefix = str(root) + "/"
    try:
        with open("/proc/self/mounts") as f:
            points = [line.split()[1] for line in f]
    except OSError:
        return
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
