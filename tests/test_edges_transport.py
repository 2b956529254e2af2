""""Cannot reach the registry" after the registry answered (issue 15).

``/v2/`` answers 401 with a Bearer challenge, then the token service named
as the realm accepts the connection and stays silent past the deadline.
The finding must say which step answered and which one timed out, name the
token service's host (not the registry's), and its ``curl`` must repeat the
exact URL probed -- ``http://`` here, never a guessed ``https://``.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers.util import LOOPBACK


@pytest.fixture
def silent_token_service() -> Iterator[str]:
    """A listener that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind((LOOPBACK, 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"{LOOPBACK}:{sock.getsockname()[1]}"
    stop.set()
    t.join(timeout=2)
    for c in held:
        c.close()
    sock.close()


@pytest.fixture
def registry(silent_token_service: str) -> Iterator[str]:
    realm = f"http://{silent_token_service}/token"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED"}]}).encode()
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Bearer realm="{realm}",service="reg"')
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield f"{LOOPBACK}:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_token_service_silent_after_registry_answered(
        registry: str, silent_token_service: str, home: Path) -> None:
    cfg = home / ".docker" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(json.dumps({"auths": {registry: {
        "auth": base64.b64encode(b"dev:hd-edge-secret-123").decode()}}}))
    cfg.chmod(0o600)
    res = run_cli(["check", "--format", "json", "--timeout", "2", f"{registry}/team/app:1"],
                  home=home)
    assert res.rc == 1, res
    report = assert_valid_report(res.out)
    (f,) = [f for f in report["findings"] if f["cause"] == "timeout"]
    assert f"{registry}/v2/" in f["message"] and "answered 401" in f["message"]
    assert silent_token_service in f["message"] and "Cannot reach" not in f["message"]
    curl = [c for c in f["remediation"]["commands"] if c.startswith("curl ")]
    assert curl and all(f"http://{silent_token_service}/token" in c for c in curl), curl
    assert not any("https://" in c for c in curl)
    assert "hd-edge-secret-123" not in res.out + res.err
