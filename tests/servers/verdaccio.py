"""A real npm registry for the npm plugin's tests: verdaccio on 127.0.0.1.

Installed by ``scripts/install-npm-deps.sh`` into ``/opt/hardoctor-test/verdaccio``
(or ``$HARDOCTOR_VERDACCIO``).  Configured with no uplinks (it never proxies
out), htpasswd auth, every package ``$authenticated`` for access and publish,
and the web UI off.  Users are registered over the npm protocol
(``PUT /-/user/org.couchdb.user:NAME``), which hands back a bearer token;
packages are published with a plain ``PUT /<name>`` carrying the tarball.

What it answers (docs/testing.md): package GET without a valid token -> 401;
``/-/whoami`` without a valid token -> **200 {}**; publish without rights -> 403.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import ssl
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from .util import LOOPBACK, ManagedProcess, MissingBinaryError, clean_env, free_port, wait_until

DEFAULT_DIR = "/opt/hardoctor-test/verdaccio"


def verdaccio_entry() -> tuple[str, str]:
    """(node, verdaccio's bin script) or MissingBinaryError."""
    root = os.environ.get("HARDOCTOR_VERDACCIO") or DEFAULT_DIR
    script = Path(root) / "node_modules" / "verdaccio" / "bin" / "verdaccio"
    node = shutil.which("node")
    if node is None:
        raise MissingBinaryError("node is not installed (run scripts/install-npm-deps.sh)")
    if not script.is_file():
        raise MissingBinaryError(
            f"verdaccio is not installed in {root} (run scripts/install-npm-deps.sh)"
        )
    return node, str(script)


def make_tarball(name: str, version: str) -> bytes:
    """A minimal npm package tarball (``package/package.json``)."""
    manifest = json.dumps({"name": name, "version": version, "main": "index.js"}).encode()
    index = b"module.exports = 42;\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for fname, data in (("package/package.json", manifest), ("package/index.js", index)):
            info = tarfile.TarInfo(fname)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def dist_for(data: bytes, tarball_url: str) -> dict[str, str]:
    return {
        "tarball": tarball_url,
        "shasum": hashlib.sha1(data).hexdigest(),
        "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
    }


def escaped(name: str) -> str:
    return name.replace("/", "%2f", 1) if name.startswith("@") else name


class Verdaccio:
    """``with Verdaccio() as reg:`` -- ``reg.url`` is ``http://127.0.0.1:PORT/``."""

    def __init__(self, start_timeout: float = 30.0,
                 tls: tuple[Path, Path, Path] | None = None) -> None:
        """``tls``: (CA, certificate, key) PEM files (:func:`tlsca.private_ca`):
        serve https with a certificate from a private CA."""
        self.start_timeout = start_timeout
        self.tls = tls
        self.port = 0
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.proc: ManagedProcess | None = None

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}/"

    def _context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=str(self.tls[0])) if self.tls else None

    def _config(self, root: Path) -> Path:
        (root / "storage").mkdir()
        (root / "htpasswd").write_text("")
        cfg = root / "config.yaml"
        cfg.write_text(
            "storage: " + json.dumps(str(root / "storage")) + "\n"
            "auth:\n  htpasswd:\n    file: " + json.dumps(str(root / "htpasswd")) + "\n"
            "    max_users: 1000\n"
            "uplinks: {}\n"
            "packages:\n"
            "  '@*/*':\n    access: $authenticated\n    publish: $authenticated\n"
            "  '**':\n    access: $authenticated\n    publish: $authenticated\n"
            "web:\n  enable: false\n"
            + (f"https:\n  key: {json.dumps(str(self.tls[2]))}\n"
               f"  cert: {json.dumps(str(self.tls[1]))}\n" if self.tls else "")
            + "log: { type: stdout, format: pretty, level: warn }\n"
        )
        return cfg

    def start(self) -> Verdaccio:
        node, script = verdaccio_entry()
        self._tmp = tempfile.TemporaryDirectory(prefix="hd-verdaccio-")
        root = Path(self._tmp.name)
        cfg = self._config(root)
        self.port = free_port()
        env = clean_env({"HOME": str(root), "NODE_ENV": "production"})
        self.proc = ManagedProcess(
            [node, script, "--config", str(cfg), "--listen",
             f"https://{LOOPBACK}:{self.port}" if self.tls else f"{LOOPBACK}:{self.port}"],
            root / "verdaccio.log", env=env, cwd=root, name="verdaccio",
        ).start()
        proc = self.proc

        def up() -> bool:
            try:
                with urllib.request.urlopen(self.url + "-/ping", timeout=0.5,
                                            context=self._context()) as r:
                    return r.status == 200
            except (OSError, urllib.error.URLError):
                return False

        wait_until(up, self.start_timeout, "verdaccio to answer /-/ping",
                   abort=proc.exit_message)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Verdaccio:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- protocol -----------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path.lstrip("/"), data=data, method=method)
        req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10, context=self._context()) as r:
                raw = r.read()
                status = r.status
        except urllib.error.HTTPError as err:
            raw, status = err.read(), err.code
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def add_user(self, name: str, password: str) -> str:
        """Register ``name`` (or log in) and return its bearer token."""
        basic = base64.b64encode(f"{name}:{password}".encode()).decode()
        status, data = self.request(
            "PUT", f"-/user/org.couchdb.user:{name}",
            {"_id": f"org.couchdb.user:{name}", "name": name, "password": password,
             "type": "user", "roles": [], "date": "2026-01-01T00:00:00.000Z"},
            headers={"Authorization": f"Basic {basic}"},
        )
        if status not in (200, 201) or not isinstance(data, dict) or not data.get("token"):
            raise RuntimeError(f"verdaccio refused user {name}: {status} {data!r}")
        return str(data["token"])

    def publish(self, name: str, version: str, token: str) -> None:
        tarball = make_tarball(name, version)
        base = name.rsplit("/", 1)[-1]
        fname = f"{base}-{version}.tgz"
        url = f"{self.url}{name}/-/{fname}"
        body = {
            "_id": name, "name": name, "dist-tags": {"latest": version},
            "versions": {version: {"name": name, "version": version, "main": "index.js",
                                   "_id": f"{name}@{version}", "dist": dist_for(tarball, url)}},
            "_attachments": {fname: {"content_type": "application/octet-stream",
                                     "data": base64.b64encode(tarball).decode(),
                                     "length": len(tarball)}},
        }
        status, data = self.request("PUT", escaped(name), body,
                                    headers={"Authorization": f"Bearer {token}"})
        if status not in (200, 201):
            raise RuntimeError(f"verdaccio refused to publish {name}: {status} {data!r}")
