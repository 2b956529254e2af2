"""Probe concurrency: 20 registries, every answer delayed by 200 ms.

Starts 20 small Basic-auth registries on 127.0.0.1 (one thread pool, one
port each) that sleep ``--delay`` before every response, writes a Docker
config with a credential for each, and runs ``hardoctor check --format json``
in a subprocess.  Prints:

- wall time of the whole ``check`` (and of ``check --offline`` for the
  start-up floor),
- the sequential sum (every request's time added up, as a tool probing one
  request at a time would take),
- the ideal (the longest single chain of dependent requests: one registry's
  walk),
- the ratio of the probing part of ``check`` to the ideal (target: <= 1.5).

Usage: ``python benchmarks/bench_probe.py [--registries 20] [--delay 0.2]``.
A measurement, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "bench", "bench-password"


def make_handler(delay: float) -> type[BaseHTTPRequestHandler]:
    good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def handle(self) -> None:
            # Like Go's net/http (docker-registry): a TLS ClientHello on the
            # plain-http port is refused at once.  Python's http.server would
            # instead wait for a request line, stalling Docker's
            # https-then-http fallback for loopback registries.
            if self.request.recv(1, socket.MSG_PEEK) == b"\x16":
                return
            super().handle()

        def _answer(self, body: bytes = b"{}") -> None:
            time.sleep(delay)
            if self.headers.get("Authorization") != good:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="bench"')
                body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
            else:
                self.send_response(200)
                self.send_header("Docker-Content-Digest", "sha256:" + "0" * 64)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = _answer
        do_HEAD = _answer

    return Handler


def start_registries(n: int, delay: float) -> list[ThreadingHTTPServer]:
    servers = []
    handler = make_handler(delay)
    for _ in range(n):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
    return servers


def run(argv: list[str], home: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'plugins'}",
        "HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "hardoctor", *argv], env=env, capture_output=True, text=True
    )
    return time.perf_counter() - t0, proc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--registries", type=int, default=20)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    servers = start_registries(args.registries, args.delay)
    with tempfile.TemporaryDirectory() as home:
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        cfg = Path(home, ".docker", "config.json")
        cfg.parent.mkdir()
        auths = {f"127.0.0.1:{s.server_address[1]}": {"auth": auth} for s in servers}
        cfg.write_text(json.dumps({"auths": auths}))
        cfg.chmod(0o600)

        offline = min(run(["check", "--offline"], home)[0] for _ in range(args.repeat))
        walls, engine, report = [], [], None
        for _ in range(args.repeat):
            wall, proc = run(["check", "--format", "json", "--timeout", "30"], home)
            walls.append(wall)
            report = json.loads(proc.stdout)
            engine.append(report["duration_ms"] / 1000)
    for srv in servers:
        srv.shutdown()

    assert report is not None
    probes = report["probes"]
    chains: dict[str, float] = defaultdict(float)
    for p in probes:
        host = p["url"].split("/")[2]
        chains[host] += (p["elapsed_ms"] or 0) / 1000
    sequential = sum((p["elapsed_ms"] or 0) for p in probes) / 1000
    ideal = max(chains.values()) if chains else 0.0
    wall = min(walls)
    probing = max(wall - offline, 0.0)
    print(f"registries            {args.registries} (each answer delayed {args.delay * 1000:.0f} ms)")
    print(f"requests made         {len(probes)} ({len(probes) / max(len(chains), 1):.1f} per registry)")
    print(f"check --offline       {offline:.2f} s   (start-up, plugins, report)")
    print(f"check (online)        {wall:.2f} s   (best of {args.repeat})")
    print(f"  probing part        {probing:.2f} s   (online - offline)")
    print(f"  engine              {min(engine):.2f} s   (discover .. diagnose, from the report)")
    print(f"sequential sum        {sequential:.2f} s   (every request one after another)")
    print(f"ideal                 {ideal:.2f} s   (the longest single chain)")
    if ideal:
        print(f"probing / ideal       {probing / ideal:.2f}x  (target <= 1.5x)")
        print(f"engine / ideal        {min(engine) / ideal:.2f}x  (includes importing httpx)")
        print(f"sequential / probing  {sequential / max(probing, 1e-9):.1f}x faster than one at a time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
