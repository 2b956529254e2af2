"""Debian's real ``nginx`` serving a Maven repository behind basic auth on 127.0.0.1.

There is no repository manager in Debian; nginx with ``auth_basic`` in front
of a directory in Maven layout is what ``mvn`` talks to here
(``docs/testing.md``).  ``mvn`` itself needs plugins from
somewhere: the repository serves this machine's ``/usr/share/maven-repo``
(Debian's packaged plugins, ``scripts/install-maven-deps.sh``) with a test
artifact of our own on top, so a ``settings.xml`` that mirrors ``*`` to it
runs ``dependency:get`` completely offline.

Locations (each a path prefix; append a Maven path):

* ``/maven/`` -- ``auth_basic`` (realm ``hardoctor maven``): no or wrong
  credentials get 401 with a ``WWW-Authenticate: Basic`` challenge, exactly
  what a Nexus/Artifactory/HAR Maven endpoint answers;
* ``/open/`` -- the same files without auth;
* ``/preemptive/`` -- answers 404 (no challenge) to a request without
  ``Authorization``, like servers that need Maven's ``preemptiveAuth``;
* ``/pkg/ACCT/REG/maven/`` -- the HAR URL layout, realm ``Harness Registry``.

The access log records the user name each request carried and whether an
``Authorization`` header was present -- never the header itself.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .registry import http_get
from .util import LOOPBACK, ManagedProcess, clean_env, free_port, require_binary, wait_until

DEBIAN_REPO = Path("/usr/share/maven-repo")
#: The plugin ``mvn`` runs in the tests (Debian's libmaven-dependency-plugin-java).
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.5.0"
HAR_ACCOUNT = "AcctMvn01"
HAR_REGISTRY = "maven-local"


@dataclass(frozen=True)
class Artifact:
    group: str
    artifact: str
    version: str

    @property
    def coords(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"

    @property
    def dir(self) -> str:
        return f"{self.group.replace('.', '/')}/{self.artifact}"


TEST_ARTIFACT = Artifact("com.example.hd", "hd-lib", "1.0")


def ssha_line(user: str, password: str) -> str:
    """An nginx ``auth_basic_user_file`` line, salted SHA-1 (``{SSHA}``),
    computed here so no ``htpasswd`` binary is needed."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return f"{user}:{{SSHA}}{base64.b64encode(digest + salt).decode()}"


def write_artifact(root: Path, art: Artifact) -> None:
    """A minimal jar + pom + maven-metadata.xml (with .sha1 files, so mvn's
    checksum policy stays quiet)."""
    base = root / art.dir
    ver = base / art.version
    ver.mkdir(parents=True, exist_ok=True)
    pom = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        f"  <groupId>{art.group}</groupId>\n  <artifactId>{art.artifact}</artifactId>\n"
        f"  <version>{art.version}</version>\n  <packaging>jar</packaging>\n"
        "</project>\n"
    ).encode()
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        zf.writestr("hd/README.txt", "hardoctor test artifact\n")
    jar = buf.getvalue()
    metadata = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<metadata>\n'
        f"  <groupId>{art.group}</groupId>\n  <artifactId>{art.artifact}</artifactId>\n"
        f"  <versioning>\n    <latest>{art.version}</latest>\n"
        f"    <release>{art.version}</release>\n"
        f"    <versions><version>{art.version}</version></versions>\n"
        "    <lastUpdated>20240101000000</lastUpdated>\n  </versioning>\n</metadata>\n"
    ).encode()
    files = {
        ver / f"{art.artifact}-{art.version}.pom": pom,
        ver / f"{art.artifact}-{art.version}.jar": jar,
        base / "maven-metadata.xml": metadata,
    }
    for path, data in files.items():
        path.write_bytes(data)
        Path(str(path) + ".sha1").write_text(hashlib.sha1(data).hexdigest())


_CONF = """\
worker_processes 1;
daemon off;
master_process off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 64; }}
http {{
    default_type application/octet-stream;
    types {{ application/xml xml pom; application/java-archive jar; text/plain sha1 md5; }}
    map $http_authorization $hd_auth {{ "" "-"; default "auth"; }}
    log_format hd '$request_method $request_uri $status user=$remote_user $hd_auth';
    access_log {work}/access.log hd;
    client_body_temp_path {work}/tmp/body;
    proxy_temp_path {work}/tmp/proxy;
    fastcgi_temp_path {work}/tmp/fastcgi;
    uwsgi_temp_path {work}/tmp/uwsgi;
    scgi_temp_path {work}/tmp/scgi;
    server {{
        listen {host}:{port};
        server_name localhost;
        root {work}/www;
        location ~ ^/maven/(.*)$ {{
            auth_basic "hardoctor maven";
            auth_basic_user_file {work}/htpasswd;
            try_files /extra/$1 /debian/$1 =404;
        }}
        location ~ ^/open/(.*)$ {{
            try_files /extra/$1 /debian/$1 =404;
        }}
        location ~ ^/preemptive/(.*)$ {{
            if ($http_authorization = "") {{ return 404; }}
            auth_basic "hardoctor preemptive";
            auth_basic_user_file {work}/htpasswd;
            try_files /extra/$1 /debian/$1 =404;
        }}
        location ~ ^/pkg/{account}/{registry}/maven/(.*)$ {{
            auth_basic "Harness Registry";
            auth_basic_user_file {work}/htpasswd;
            try_files /extra/$1 /debian/$1 =404;
        }}
        location / {{ return 404; }}
    }}
}}
"""


class NginxMaven:
    """Run nginx on a free loopback port; use as a context manager.

    Args:
        users: ``{user: password}`` accepted by the basic-auth locations.
        artifacts: extra artifacts to serve (``TEST_ARTIFACT`` always is).
        workdir: config, logs and the served tree; a temp dir by default.
    """

    def __init__(
        self,
        users: Mapping[str, str],
        *,
        artifacts: Sequence[Artifact] = (),
        workdir: str | Path | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.users = dict(users)
        self.artifacts = (TEST_ARTIFACT, *artifacts)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="hd-nginx-"))
        self.start_timeout = start_timeout
        self.port = 0
        self.process: ManagedProcess | None = None

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def url(self, location: str = "maven") -> str:
        """``http://127.0.0.1:PORT/maven`` (no trailing slash, as people write it)."""
        if location == "har":
            return f"{self.base}/pkg/{HAR_ACCOUNT}/{HAR_REGISTRY}/maven"
        return f"{self.base}/{location}"

    def start(self) -> NginxMaven:
        exe = require_binary("nginx")
        work = self.workdir
        (work / "tmp").mkdir(parents=True, exist_ok=True)
        www = work / "www"
        www.mkdir(exist_ok=True)
        debian = www / "debian"
        if not debian.exists():
            debian.symlink_to(DEBIAN_REPO)
        extra = www / "extra"
        for art in self.artifacts:
            write_artifact(extra, art)
        (work / "htpasswd").write_text(
            "".join(ssha_line(u, p) + "\n" for u, p in self.users.items())
        )
        self.port = free_port()
        conf = work / "nginx.conf"
        conf.write_text(
            _CONF.format(
                work=work, host=LOOPBACK, port=self.port, account=HAR_ACCOUNT,
                registry=HAR_REGISTRY,
            )
        )
        # nginx checks its default prefix's log path before reading -e/-c.
        self.process = ManagedProcess(
            [exe, "-p", str(work), "-c", str(conf), "-e", str(work / "error.log")],
            work / "stdout.log",
            env=clean_env(),
            name="nginx",
        ).start()
        proc = self.process
        try:
            wait_until(
                self._ready, self.start_timeout, f"nginx on {self.host}",
                abort=lambda: proc.exit_message() or self._error_tail(),
            )
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        try:
            status, _, _ = http_get(f"{self.base}/open/", timeout=1.0)
        except OSError:
            return False
        return status in (200, 403, 404)

    def _error_tail(self) -> str | None:
        path = self.workdir / "error.log"
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return None
        return text if "[emerg]" in text else None

    def access_log(self) -> list[str]:
        try:
            return (self.workdir / "access.log").read_text(errors="replace").splitlines()
        except OSError:
            return []

    def clear_log(self) -> None:
        # nginx keeps the file open: truncate in place rather than replace.
        with open(self.workdir / "access.log", "r+b") as fh:
            fh.truncate(0)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=5)
            self.process = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> NginxMaven:
        return self.start() if self.process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def seed_local_repo(dest: str | os.PathLike[str]) -> Path:
    """A local repository holding Debian's Maven plugins (symlinks resolved),
    built once per test module.  Files without ``_remote.repositories`` count
    as locally installed, so mvn never asks the server for them: the only
    download -- and the only authenticated request -- is the test artifact,
    which is never in the seed.  That keeps each mvn run to about 3 s."""
    dest = Path(dest)
    if not dest.exists():
        shutil.copytree(DEBIAN_REPO, dest, symlinks=False)
    return dest


def clone_local_repo(seed: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """A fresh local repository from the seed (hard links: milliseconds)."""
    dest = Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(seed, dest, copy_function=os.link)
    return dest


@dataclass
class MvnResult:
    rc: int
    output: str

    @property
    def unauthorized(self) -> bool:
        return "401" in self.output and "Unauthorized" in self.output


def run_mvn_get(
    settings: str | os.PathLike[str],
    artifact: str,
    *,
    home: str | os.PathLike[str],
    local_repo: str | os.PathLike[str],
    extra_args: Sequence[str] = (),
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> MvnResult:
    """``mvn -B -s SETTINGS dependency:get -Dartifact=G:A:V`` with its own
    HOME and ``user.home`` (so ``~/.m2/settings-security.xml`` is the test's),
    a fresh local repository (cached artifacts would skip auth) and no
    global Maven options from the environment."""
    exe = require_binary("mvn")
    argv = [
        exe, "-B", "-ntp", "-s", os.fspath(settings),
        f"-Duser.home={os.fspath(home)}",
        f"-Dmaven.repo.local={os.fspath(local_repo)}",
        *extra_args,
        f"{DEPENDENCY_PLUGIN}:get", f"-Dartifact={artifact}", "-Dtransitive=false",
    ]
    run_env = clean_env({"HOME": os.fspath(home), **(env or {})}, keep=("JAVA_HOME",))
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=run_env, timeout=timeout, check=False,
        cwd=os.fspath(cwd) if cwd is not None else os.fspath(home),
    )
    return MvnResult(proc.returncode, proc.stdout + proc.stderr)
