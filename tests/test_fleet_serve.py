"""``hardoctor serve`` as a real process: scraped by a real Prometheus,
failed runs keep the last good metrics, runs never overlap, SIGTERM is a
clean exit, and memory stays flat over many runs on a large cluster dump."""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.fleet_helpers import assert_no_secret, fleet_home, make_jwt, samples
from tests.helpers import assert_valid_report, code_pythonpath, isolated_environ, make_distribution
from tests.servers.prometheus import Prometheus, http_text
from tests.servers.util import ManagedProcess, free_port, wait_until

EXPIRY = "hardoctor_credential_expiry_timestamp_seconds"

SLOW_PLUGIN = '''
import os, time
from hardoctor import hookimpl

@hookimpl
def hardoctor_configure(ctx):
    log = os.path.join(ctx.home, ".runs")
    with open(log, "a") as fh:
        fh.write("start %f\\n" % time.time())
    if os.path.exists(os.path.join(ctx.home, ".slow")):
        time.sleep(2.5)
    with open(log, "a") as fh:
        fh.write("end %f\\n" % time.time())
'''


class Serve:
    def __init__(self, process: ManagedProcess, port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.port = port

    def get(self, path: str) -> tuple[int, str]:
        return http_text(self.url + path)

    def metrics(self) -> str:
        return self.get("/metrics")[1]

    def log_lines(self) -> list[dict[str, object]]:
        # Plugin load warnings (plain text) may come first; every run line is JSON.
        text = self.process.log_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def runs(self) -> list[dict[str, object]]:
        return [line for line in self.log_lines() if line.get("event") == "check"]

    def wait_ready(self, timeout: float = 30) -> None:
        wait_until(lambda: self.get("/readyz")[0] == 200, timeout, "serve to be ready",
                   interval=0.1, abort=self.process.exit_message)

    def terminate(self, timeout: float = 10) -> int:
        proc = self.process.proc
        assert proc is not None
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout)


@pytest.fixture
def start_serve(home: Path, tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    started: list[ManagedProcess] = []

    def start(*args: str, site: Path | None = None) -> Serve:
        port = free_port()
        env = isolated_environ(home, autoload=site is not None)
        env["PYTHONPATH"] = os.pathsep.join([*([str(site)] if site else []), *code_pythonpath()])
        argv = [sys.executable, "-m", "hardoctor", "serve", "--listen", f"127.0.0.1:{port}", *args]
        # stdout stays empty: the log file is stderr's JSON lines only.
        proc = ManagedProcess(argv, tmp_path / f"serve-{port}.log", env=env, cwd=home).start()
        started.append(proc)
        return Serve(proc, port)

    yield start
    for proc in started:
        proc.stop()


def test_prometheus_scrapes_serve_and_sigterm_is_clean(
    home: Path, tmp_path: Path, start_serve: Callable[..., Serve]
) -> None:
    fh = fleet_home(home)
    serve = start_serve("--offline", "--interval", "30s")
    serve.wait_ready()
    assert serve.get("/healthz") == (200, "ok\n")
    page = serve.metrics()
    assert {labels["registry"]: v for labels, v in samples(page, EXPIRY)} == fh.expiry
    assert samples(page, "hardoctor_last_run_success") == [({}, 1.0)]
    status, body = serve.get("/report.json")
    assert status == 200 and len(assert_valid_report(body)["credentials"]) == 2
    assert serve.get("/nope")[0] == 404

    with Prometheus([f"127.0.0.1:{serve.port}"], tmp_path / "prom") as prom:
        wait_until(lambda: len(prom.query(EXPIRY)) == 2, 30, "Prometheus to scrape both series",
                   interval=0.25)
        series = prom.query(EXPIRY)
        got = {s["metric"]["registry"]: float(s["value"][1]) for s in series}
        assert got == fh.expiry
        assert all(s["metric"]["job"] == "hardoctor" and s["metric"]["fingerprint"] for s in series)
        # The expiry-soon expression of deploy/prometheus/alerts.yml: only the 3-day token.
        soon = prom.query(f"({EXPIRY} - time()) / 86400 < 7 > 0")
        assert [s["metric"]["registry"] for s in soon] == ["reg-a.example:5000"]
        assert float(soon[0]["value"][1]) == pytest.approx(3, abs=0.01)
        assert prom.query("hardoctor_last_run_success")[0]["value"][1] == "1"
        assert prom.query('up{job="hardoctor"}')[0]["value"][1] == "1"

    assert serve.terminate() == 0
    lines = serve.log_lines()  # every line is JSON (json.loads raised otherwise)
    assert lines[0]["event"] == "listening" and lines[-1]["event"] == "stopped"
    assert [r["success"] for r in serve.runs()] == [True]
    assert_no_secret(serve.process.log_text() + page + body, fh, "serve's pages and log")


def test_failed_run_keeps_last_metrics_and_runs_never_overlap(
    home: Path, tmp_path: Path, start_serve: Callable[..., Serve]
) -> None:
    fh = fleet_home(home)
    site = tmp_path / "site"
    make_distribution(site, "hardoctor-slowtest", "1.0", {"hd_slowtest": SLOW_PLUGIN},
                      {"slowtest": "hd_slowtest"})
    serve = start_serve("--offline", "--interval", "500ms", "--run-timeout", "1s", site=site)
    serve.wait_ready()
    (home / ".slow").touch()
    wait_until(lambda: any(not r["success"] for r in serve.runs()), 20, "a failed run",
               abort=serve.process.exit_message)
    page = serve.metrics()
    assert samples(page, "hardoctor_last_run_success") == [({}, 0.0)]
    assert {labels["registry"]: v for labels, v in samples(page, EXPIRY)} == fh.expiry
    failed = next(r for r in serve.runs() if not r["success"])
    assert "did not finish within 1 s" in str(failed["error"])
    assert serve.get("/healthz")[0] == 200 and serve.get("/readyz")[0] == 200

    (home / ".slow").unlink()
    count = len(serve.runs())
    wait_until(lambda: len(serve.runs()) > count + 1 and serve.runs()[-1]["success"] is True,
               20, "a good run again", abort=serve.process.exit_message)
    assert samples(serve.metrics(), "hardoctor_last_run_success") == [({}, 1.0)]
    assert serve.terminate() == 0
    events = (home / ".runs").read_text().split()[::2]
    assert events and all(a != b for a, b in zip(events, events[1:], strict=False)), \
        f"two runs overlapped: {events}"


def _large_dump(path: Path, secrets: int) -> None:
    """A ``kubectl get -o json`` style List: ``secrets`` pull secrets over 20
    namespaces, a ServiceAccount and a Deployment per namespace using them."""
    exp = int(time.time()) + 20 * 86400
    items: list[dict[str, object]] = []
    for i in range(secrets):
        token = make_jwt(f"user{i}", exp + i)
        cfg = {"auths": {f"reg{i % 40}.example": {
            "auth": base64.b64encode(f"user{i}:{token}".encode()).decode()}}}
        items.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                      "metadata": {"name": f"pull-{i}", "namespace": f"ns{i % 20}"},
                      "data": {".dockerconfigjson": base64.b64encode(json.dumps(cfg).encode()).decode()}})
    for n in range(20):
        names = [{"name": f"pull-{i}"} for i in range(n, secrets, 20)]
        items.append({"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": "default", "namespace": f"ns{n}"}, "imagePullSecrets": names})
        items.append({"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": "app", "namespace": f"ns{n}"},
                      "spec": {"template": {"spec": {"containers": [
                          {"name": "app", "image": f"reg{n}.example/team/app:1"}]}}}})
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}), encoding="utf-8")


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_memory_stays_flat_over_many_runs_on_a_large_dump(
    home: Path, tmp_path: Path, start_serve: Callable[..., Serve]
) -> None:
    fleet_home(home)
    dump = tmp_path / "dump.json"
    _large_dump(dump, 250)
    serve = start_serve("--offline", "--interval", "100ms", "--manifests", str(dump))
    serve.wait_ready(60)
    pid = serve.process.pid
    assert pid is not None

    def after(runs: int) -> int:
        wait_until(lambda: len(serve.runs()) >= runs, 60, f"{runs} runs", interval=0.05,
                   abort=serve.process.exit_message)
        return _rss_kib(pid)

    after(3)
    warm = after(6)
    end = after(24)
    credentials = samples(serve.metrics(), "hardoctor_credentials")[0][1]
    assert serve.terminate() == 0
    assert all(r["success"] for r in serve.runs()), serve.runs()
    print(f"RSS after 6 runs {warm} KiB, after 24 runs {end} KiB; {credentials:.0f} credentials")
    assert end - warm < max(8 * 1024, warm // 10), f"RSS grew from {warm} to {end} KiB"
