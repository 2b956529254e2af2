"""Probes at the round-trip limit: 12 images on one registry, 200 ms a request.

Starts the HAR registry emulator (token service included) and the Harness
token API emulator from ``tests/servers/``, each answering every request
only after ``--delay`` seconds, writes a Docker config holding one valid
Harness PAT for the registry, and runs ``hardoctor check --format json``
for ``--images`` images on it with the token API configured
(``HARNESS_API_KEY``, ``--harness-api``).

The floor is what no tool can beat: the three dependent round trips of an
image's walk (challenge, token, manifest) plus the start-up of the same
command offline, measured side by side in the same run.  The token-API
lookup is one more round trip, but independent: it must run beside the
walks, not before them.

    python benchmarks/bench_probe_chain.py            # 12 images, 200 ms, 5 runs
    python benchmarks/bench_probe_chain.py --images 30 --delay 0.1 -n 3

Prints the medians, the ratio to the floor (the bar: at most 1.5) and
whether every image was probed (a ``manifest`` request that got 200).
A measurement: it exits 0 unless a probe is missing (1).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers.har_registry import HarRegistry  # noqa: E402
from tests.servers.harness_api import HarnessApi  # noqa: E402

ACCOUNT = "AcmeBench1"
REGISTRY = "docker-prod"


def slow(server: Any, delay: float) -> None:
    """Every request of ``server`` is answered ``delay`` seconds late."""
    record = server._record

    def late(rec: Any) -> None:
        time.sleep(delay)
        record(rec)

    server._record = late


def run(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    try:
        return elapsed, json.loads(p.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(p.stderr[-2000:])
        raise


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=12)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("-n", type=int, default=5, help="runs of each command (medians)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="hd-bench-chain-") as tmp, \
            HarRegistry() as har, HarnessApi() as api:
        har.add_registry(ACCOUNT, REGISTRY)
        images = [f"app-{i:02d}" for i in range(args.images)]
        for image in images:
            har.push(ACCOUNT, REGISTRY, image, "1.0")
        pat = har.new_token(ACCOUNT, {REGISTRY: {"read"}})
        api.add_token(pat, valid_days=90)
        slow(har, args.delay)
        slow(api, args.delay)

        home = Path(tmp)
        auth = base64.b64encode(f"bench@acme.io:{pat}".encode()).decode()
        (home / ".docker").mkdir()
        (home / ".docker" / "config.json").write_text(
            json.dumps({"auths": {har.host: {"auth": auth}}}))
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "LANG": "C.UTF-8",
               "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "plugins")]),
               "HARNESS_API_KEY": pat}
        targets = [f"{har.host}/{ACCOUNT.lower()}/{REGISTRY}/{image}:1.0" for image in images]
        base = [sys.executable, "-m", "hardoctor", "check", "--format", "json",
                "--harness-host", har.host, "--harness-api", api.url, "--timeout", "20"]
        offline, online, reports = [], [], []
        for _ in range(args.n):
            offline.append(run([*base, "--offline", *targets], env, str(home))[0])
            seconds, report = run([*base, *targets], env, str(home))
            online.append(seconds)
            reports.append(report)

    start = statistics.median(offline)
    took = statistics.median(online)
    floor = 3 * args.delay + start
    report = reports[-1]
    manifests = {p["url"] for p in report.get("probes", [])
                 if "/manifests/" in p.get("url", "") and p.get("status") == 200}
    api_used = any((c.get("secret") or {}).get("expiry_source") == "harness-api"
                   for c in report.get("credentials", []))
    print(f"{args.images} images, every request {args.delay * 1000:.0f} ms late, {args.n} runs")
    print(f"check --offline (start-up)     {start:6.2f} s")
    print(f"check (probes + token API)     {took:6.2f} s")
    print(f"floor: 3 round trips + start-up {floor:5.2f} s")
    print(f"ratio                           {took / floor:5.2f}   (bar: 1.5)")
    print(f"manifests probed: {len(manifests)}/{args.images}; token API answer used: {api_used}")
    return 0 if len(manifests) == args.images else 1


if __name__ == "__main__":
    sys.exit(main())
