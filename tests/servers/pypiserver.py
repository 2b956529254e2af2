"""A real pypiserver on 127.0.0.1, a tiny wheel to serve, and real pip as
the client -- both isolated from this machine's own pip configuration.

pypiserver lives in its own virtualenv outside the repository
(``scripts/install-pip-deps.sh``: ``/opt/hardoctor-test/pypiserver-venv``)
or wherever ``HARDOCTOR_PYPISERVER`` (the ``pypi-server`` executable)
points.  It always runs with ``--disable-fallback`` (otherwise unknown
names redirect to the public index) and an htpasswd file written by the
venv's passlib (passwords go over stdin, never on a command line).

Answers (pypiserver 2.x): no credentials -> 401 ``Basic realm="pypi"``;
a wrong password -> **403** without a challenge; an unknown project ->
404.

:func:`pip_download` runs ``python -m pip download --no-input --no-deps``
with ``HOME``, ``XDG_CONFIG_DIRS`` and ``XDG_CONFIG_HOME`` pointing into the
test's home, every ``PIP_*``/``NETRC``/proxy/CA variable of this machine
removed, and the pip of the pypiserver venv (whose site ``pip.conf`` does
not exist).  ``/etc/pip.conf`` is still read by pip (it cannot be turned
off without ``PIP_CONFIG_FILE``, which would change what is tested).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from .util import LOOPBACK, ManagedProcess, MissingBinaryError, clean_env, free_port, wait_for_port

DEFAULT_VENV = "/opt/hardoctor-test/pypiserver-venv"
DEFAULT_OLD_PIP_VENV = "/opt/hardoctor-test/pip24-venv"
ENV_EXE = "HARDOCTOR_PYPISERVER"


def find_pypiserver() -> tuple[str, str]:
    """(pypi-server executable, the python of its venv)."""
    exe = os.environ.get(ENV_EXE) or os.path.join(
        os.environ.get("HARDOCTOR_PYPISERVER_VENV", DEFAULT_VENV), "bin", "pypi-server"
    )
    python = os.path.join(os.path.dirname(exe), "python")
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK) and os.path.isfile(python)):
        raise MissingBinaryError(
            f"pypiserver not found at {exe}; run scripts/install-pip-deps.sh "
            f"(or set {ENV_EXE} to a pypi-server executable)"
        )
    return exe, python


def find_old_pip() -> str:
    """The python of the venv holding pip 24.0 (requests < 2.32.4)."""
    venv = os.environ.get("HARDOCTOR_OLD_PIP_VENV", DEFAULT_OLD_PIP_VENV)
    python = os.path.join(venv, "bin", "python")
    if not os.path.isfile(python):
        raise MissingBinaryError(f"no pip 24.0 venv at {venv}; run scripts/install-pip-deps.sh")
    return python


def venv_of(python: str) -> str:
    return os.path.dirname(os.path.dirname(python))


def build_wheel(folder: str | os.PathLike[str], name: str = "hdtestpkg", version: str = "1.0") -> Path:
    """Write a minimal, valid pure-Python wheel into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mod = name.replace("-", "_")
    dist = f"{mod}-{version}.dist-info"
    files = {
        f"{mod}/__init__.py": f"VALUE = {version!r}\n".encode(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: hardoctor-tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = []
    path = folder / f"{mod}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for arc, data in files.items():
            zf.writestr(arc, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arc},sha256={digest},{len(data)}")
        record.append(f"{dist}/RECORD,,")
        zf.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
    return path


class PypiServer:
    """``with PypiServer(users={"dev": "pw"}) as srv: srv.index`` -- a real
    pypiserver serving one wheel per entry of ``packages``."""

    def __init__(
        self,
        users: Mapping[str, str],
        packages: Mapping[str, str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.users = dict(users)
        self.packages = dict(packages or {"hdtestpkg": "1.0"})
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.workdir = Path(workdir) if workdir else None
        self.port = 0
        self.proc: ManagedProcess | None = None

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def index(self) -> str:
        return f"{self.url}/simple"

    def _htpasswd(self, python: str, path: Path) -> None:
        script = (
            "import json, sys\n"
            "from passlib.apache import HtpasswdFile\n"
            "users = json.load(sys.stdin)\n"
            "h = HtpasswdFile(sys.argv[1], new=True)\n"
            "for u, p in users.items():\n"
            "    h.set_password(u, p)\n"
            "h.save()\n"
        )
        subprocess.run([python, "-c", script, str(path)], input=json.dumps(self.users), text=True,
                       check=True, env=clean_env(), timeout=60, capture_output=True)
        path.chmod(0o600)

    def start(self) -> PypiServer:
        exe, python = find_pypiserver()
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="hd-pypi-")
            self.workdir = Path(self._tmp.name)
        pkgdir = self.workdir / "packages"
        for name, version in self.packages.items():
            build_wheel(pkgdir, name, version)
        htpasswd = self.workdir / "htpasswd"
        self._htpasswd(python, htpasswd)
        self.port = free_port()
        argv = [exe, "run", "-i", LOOPBACK, "-p", str(self.port), "-P", str(htpasswd),
                "-a", "download,list,update", "--disable-fallback", str(pkgdir)]
        self.proc = ManagedProcess(argv, self.workdir / "pypiserver.log", env=clean_env(),
                                   name="pypi-server").start()
        try:
            wait_for_port(LOOPBACK, self.port, timeout=20)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def log_text(self) -> str:
        return self.proc.log_text() if self.proc else ""

    def __enter__(self) -> PypiServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def pip_environ(home: str | os.PathLike[str], extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The environment real pip runs with in tests: this machine's PIP_*,
    NETRC, proxy and CA variables gone; HOME and the XDG directories inside
    the test's home."""
    home = os.fspath(home)
    env = clean_env({
        "HOME": home,
        "XDG_CONFIG_DIRS": os.path.join(home, "xdg"),
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    })
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def pip_download(
    home: str | os.PathLike[str],
    *args: str,
    extra_env: Mapping[str, str | None] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 120,
    python: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``pip download --no-input --no-deps -d TMP ARGS`` as a real client
    (the pip of the pypiserver venv, or of ``python``)."""
    if python is None:
        _, python = find_pypiserver()
    with tempfile.TemporaryDirectory(prefix="hd-pipdl-") as dest:
        cmd = [python, "-m", "pip", "download", "--no-input", "--no-deps", "--no-cache-dir",
               "-d", dest, *args]
        return subprocess.run(cmd, env=pip_environ(home, extra_env), cwd=os.fspath(cwd or home),
                              capture_output=True, text=True, timeout=timeout, check=False)
