"""The real Debian ``docker-registry`` (distribution 2.8) on a free loopback port."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal

from .tokenserver import TokenServer
from .util import LOOPBACK, ManagedProcess, clean_env, free_port, require_binary, wait_until

AuthMode = Literal["token", "htpasswd"] | None

# A urllib opener that never uses a proxy: loopback only.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` without proxies; returns (status, lower-cased headers, body), never raises on 4xx/5xx."""
    req = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd line from the real ``htpasswd -Bbn`` (apr1/MD5 is refused by distribution)."""
    exe = require_binary("htpasswd")
    out = subprocess.run(
        [exe, "-Bbn", user, password], check=True, capture_output=True, text=True, timeout=30
    ).stdout
    return out.strip()


def _q(value: str) -> str:
    """A YAML scalar: JSON strings are valid YAML double-quoted strings."""
    return json.dumps(value)


class Registry:
    """Run ``docker-registry serve config.yml``; use as a context manager.

    Args:
        auth: ``"token"`` (needs ``token_server``), ``"htpasswd"`` (needs
            ``users``) or ``None`` (open registry).
        token_server: a :class:`TokenServer`; started (and then also stopped)
            by this registry if it is not running yet.
        users: ``{user: password}`` for htpasswd mode (bcrypt-hashed).
        extra_htpasswd_lines: raw lines appended to the htpasswd file (e.g. an
            apr1 entry to show it is refused).
        storage: ``"inmemory"`` (fast, default) or ``"filesystem"`` (in workdir).
        workdir: config, logs and storage; a temp dir by default.
        start_timeout: seconds to wait for ``/v2/`` to answer.
    """

    def __init__(
        self,
        *,
        auth: AuthMode = None,
        token_server: TokenServer | None = None,
        users: Mapping[str, str] | None = None,
        extra_htpasswd_lines: Sequence[str] = (),
        storage: Literal["inmemory", "filesystem"] = "inmemory",
        htpasswd_realm: str = "hardoctor-test-registry",
        workdir: str | Path | None = None,
        start_timeout: float = 15.0,
    ) -> None:
        if auth == "token" and token_server is None:
            raise ValueError("auth='token' needs a token_server")
        if auth == "htpasswd" and not users and not extra_htpasswd_lines:
            raise ValueError("auth='htpasswd' needs users")
        if auth not in ("token", "htpasswd", None):
            raise ValueError(f"unknown auth mode {auth!r}")
        self.auth = auth
        self.token_server = token_server
        self.users = dict(users or {})
        self.extra_htpasswd_lines = list(extra_htpasswd_lines)
        self.storage = storage
        self.htpasswd_realm = htpasswd_realm
        self.start_timeout = start_timeout
        self._own_workdir = workdir is None
        self._workdir_arg = workdir
        self.workdir: Path | None = None
        self.port = 0
        self.config_path: Path | None = None
        self.log_path: Path | None = None
        self._proc: ManagedProcess | None = None
        self._owns_token_server = False

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` — the registry key clients use in auth files."""
        if not self.port:
            raise RuntimeError("Registry not started")
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _config_yaml(self) -> str:
        assert self.workdir is not None
        lines = [
            "version: 0.1",
            "log:",
            "  level: info",
            "  formatter: text",
            "storage:",
        ]
        if self.storage == "inmemory":
            lines.append("  inmemory: {}")
        else:
            lines += ["  filesystem:", f"    rootdirectory: {_q(str(self.workdir / 'data'))}"]
        lines += [
            "  delete:",
            "    enabled: true",
            "  maintenance:",
            "    uploadpurging:",
            "      enabled: false",
            "http:",
            f"  addr: {_q(self.host)}",
            # Fixed per instance so a warning about a random secret is not logged.
            f"  secret: {_q(secrets.token_hex(16))}",
            "  headers:",
            "    X-Content-Type-Options: [nosniff]",
        ]
        if self.auth == "token":
            ts = self.token_server
            assert ts is not None and ts.rootcertbundle is not None
            lines += [
                "auth:",
                "  token:",
                f"    realm: {_q(ts.realm)}",
                f"    service: {_q(ts.service)}",
                f"    issuer: {_q(ts.issuer)}",
                f"    rootcertbundle: {_q(str(ts.rootcertbundle))}",
            ]
        elif self.auth == "htpasswd":
            lines += [
                "auth:",
                "  htpasswd:",
                f"    realm: {_q(self.htpasswd_realm)}",
                f"    path: {_q(str(self.workdir / 'htpasswd'))}",
            ]
        return "\n".join(lines) + "\n"

    def start(self) -> Registry:
        if self._proc is not None:
            return self
        exe = require_binary("docker-registry")
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="hd-registry-"))
            if self._own_workdir
            else Path(self._workdir_arg)  # type: ignore[arg-type]
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            if self.auth == "token":
                assert self.token_server is not None
                if not self.token_server.running:
                    self.token_server.start()
                    self._owns_token_server = True
            if self.auth == "htpasswd":
                entries = [htpasswd_line(u, p) for u, p in self.users.items()]
                entries += self.extra_htpasswd_lines
                (self.workdir / "htpasswd").write_text("\n".join(entries) + "\n")
            self.port = free_port()
            self.config_path = self.workdir / "config.yml"
            self.config_path.write_text(self._config_yaml())
            self.log_path = self.workdir / "registry.log"
            # A clean env matters: distribution maps every REGISTRY_* variable
            # onto its config (REGISTRY_AUTH_FILE from a podman user breaks it).
            self._proc = ManagedProcess(
                [exe, "serve", str(self.config_path)],
                self.log_path,
                env=clean_env(),
                cwd=self.workdir,
                name="docker-registry",
            ).start()
            wait_until(
                self._v2_answers,
                self.start_timeout,
                f"docker-registry /v2/ on {self.host}",
                abort=self._proc.exit_message,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def _v2_answers(self) -> bool:
        try:
            status, _, _ = http_get(self.url + "/v2/", timeout=1)
        except OSError:
            return False
        return status in (200, 401)

    def log_text(self) -> str:
        return self._proc.log_text() if self._proc else ""

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop(timeout=5)
            self._proc = None
        if self._owns_token_server and self.token_server is not None:
            self.token_server.stop()
            self._owns_token_server = False
        if self._own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Registry:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
