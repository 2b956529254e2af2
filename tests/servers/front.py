"""One host, several emulators: a tiny reverse proxy on 127.0.0.1 that
sends each request to a backend by path prefix (``/v2/`` to the HAR OCI
emulator, ``/pkg/`` to the HAR npm emulator), as HAR serves every package
type from one host.  Request and answer pass through unchanged (method,
path, headers except ``Host``, body); a deadline on every backend call.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .util import LOOPBACK, ThreadedServer

_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class Front(ThreadedServer):
    thread_name = "front"

    def __init__(self, routes: Sequence[tuple[str, str]]) -> None:
        """``routes``: (path prefix, backend base URL ``http://H:P``), first match wins."""
        self.routes = list(routes)
        self.port = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def backend(self, path: str) -> str | None:
        return next((base for prefix, base in self.routes if path.startswith(prefix)), None)

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)


def _handler(front: Front) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _forward(self) -> None:
            base = front.backend(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if base is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            parts = urlsplit(base)
            conn = http.client.HTTPConnection(parts.hostname or LOOPBACK, parts.port, timeout=10)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                headers["Host"] = front.host
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            finally:
                conn.close()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in _HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward  # noqa: N815

    return Handler
