"""A real Prometheus and a real Pushgateway (Debian ``prometheus`` and
``prometheus-pushgateway``) on 127.0.0.1, for the fleet tests.

``Prometheus(targets, workdir)`` scrapes each ``host:port`` every second;
``query(promql)`` asks its HTTP API.  ``Pushgateway(workdir)`` keeps pushes
in memory; ``metrics()`` is its own ``/metrics`` page.
"""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from .util import LOOPBACK, ManagedProcess, clean_env, free_port, require_binary, wait_until

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_text(url: str, timeout: float = 5.0) -> tuple[int, str]:
    """GET ``url`` without any proxy; (status, body), never raises on 4xx/5xx."""
    try:
        with _NO_PROXY.open(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""


class _Managed:
    binary = ""
    name = ""

    def __init__(self, workdir: str | Path | None = None, start_timeout: float = 20.0) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix=f"hd-{self.name}-") if workdir is None else None
        self.workdir = Path(workdir if workdir is not None else self._tmp.name)  # type: ignore[union-attr]
        self.port = free_port()
        self.start_timeout = start_timeout
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def argv(self, binary: str) -> list[str]:
        raise NotImplementedError

    def start(self) -> Any:
        binary = require_binary(self.binary)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(self.argv(binary), self.workdir / f"{self.name}.log",
                                      env=clean_env(), cwd=self.workdir, name=self.name).start()
        wait_until(lambda: http_text(f"{self.url}/-/ready", 1.0)[0] == 200, self.start_timeout,
                   f"{self.name} to be ready", interval=0.1, abort=self.process.exit_message)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
        if self._tmp is not None:
            self._tmp.cleanup()

    def log_text(self) -> str:
        return self.process.log_text() if self.process else ""

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class Prometheus(_Managed):
    binary = "prometheus"
    name = "prometheus"

    def __init__(self, targets: list[str], workdir: str | Path | None = None,
                 rule_files: list[str] | None = None) -> None:
        super().__init__(workdir)
        self.targets = targets
        self.rule_files = rule_files or []

    def argv(self, binary: str) -> list[str]:
        config = self.workdir / "prometheus.yml"
        config.write_text(json.dumps({  # JSON is YAML
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": self.rule_files,
            "scrape_configs": [{"job_name": "hardoctor",
                                "static_configs": [{"targets": self.targets}]}],
        }), encoding="utf-8")
        return [binary, f"--config.file={config}", f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address={LOOPBACK}:{self.port}", "--log.level=warn"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The ``result`` of an instant query (``[]`` on any failure)."""
        status, body = http_text(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        if status != 200:
            return []
        data = json.loads(body)
        return list(data.get("data", {}).get("result", []))


class Pushgateway(_Managed):
    binary = "prometheus-pushgateway"
    name = "pushgateway"

    def argv(self, binary: str) -> list[str]:
        return [binary, f"--web.listen-address={LOOPBACK}:{self.port}", "--log.level=warn"]

    def metrics(self) -> str:
        return http_text(f"{self.url}/metrics")[1]
