"""The HTTP side of ``hardoctor serve`` (``http.server``), imported only
when serving: ``http.server`` pulls in ``http.client``, ``email`` and
``ssl``, which every other command's start-up would pay for."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hardoctor.serve import State


class Server(ThreadingHTTPServer):
    daemon_threads = True
    state: State


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "hardoctor"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        from hardoctor.serve import ROUTES, not_found

        route = ROUTES.get(self.path.split("?", 1)[0], not_found)
        code, kind, body = route(self.server.state, self.headers.get("Accept", ""))
        self._send(code, kind, body, head)

    def _send(self, code: int, kind: str, body: bytes, head: bool) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """No access log: stderr carries one JSON line per run."""


def server_class(host: str) -> type[Server]:
    if ":" not in host:
        return Server
    import socket

    return type("_Server6", (Server,), {"address_family": socket.AF_INET6})
