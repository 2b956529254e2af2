#!/usr/bin/env python3
"""Start-up cost of hardoctor, measured against ``python -c pass`` in the same run.

Measures (N runs each, median wall time of the whole process):

* ``python -c pass``                       the floor: the interpreter alone
* ``pip config list``                      issue 14's yardstick: ``check --offline``
                                           on an empty HOME must take at most half
* ``hardoctor --version``                  the fast path (no pluggy, no rich)
* ``hardoctor check --offline`` on an empty HOME
* ``hardoctor check --offline`` on a HOME with a Docker config

and prints each with its ratio to ``python -c pass`` and to ``pip config list``.  It also reports whether
``httpx`` or the ``docker`` SDK get imported during ``check --offline`` (they
must not be, unless a credential helper or a probe needs them).

This is a measurement, not a test: it asserts nothing and always exits 0
unless hardoctor itself fails to run.  See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WATCHED = ("httpx", "docker", "rich", "pluggy", "yaml")


def docker_home(home: Path) -> None:
    """A realistic ~/.docker/config.json: a few auths entries, no helper
    (a helper would measure the helper, not hardoctor)."""

    def auth(user: str, password: str) -> str:
        return base64.b64encode(f"{user}:{password}".encode()).decode()

    config = {
        "auths": {
            "pkg.harness.io": {"auth": auth("dev@acme.io", "pat.AcmeX1.bench01.0123456789abcdefABCD")},
            "https://index.docker.io/v1/": {"auth": auth("acme", "dckr_pat_benchmark0123456789")},
            "ghcr.io": {"auth": auth("acme-bot", "fake-bench-token-0123456789abcdef")},
            "registry.example.com:5000": {"auth": auth("ci", "s3cret-benchmark")},
        },
        "HttpHeaders": {"User-Agent": "Docker-Client/24.0.7 (linux)"},
    }
    path = home / ".docker" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(config, indent="\t") + "\n", encoding="utf-8")
    os.chmod(path, 0o600)


def hardoctor_command(use_module: bool) -> list[str]:
    """The ``hardoctor`` console script of this interpreter, else
    ``python -m hardoctor`` (same interpreter as ``python -c pass`` either way)."""
    script = Path(sys.executable).with_name("hardoctor")
    if not use_module and script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "hardoctor"]


def base_env(home: Path, pythonpath: str | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "HOME": str(home),
    }
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def measure(cmd: list[str], env: dict[str, str], cwd: Path, runs: int) -> tuple[float, int]:
    """Median wall time in ms over ``runs`` (after one warm-up), and the exit code."""
    times: list[float] = []
    rc = 0
    for i in range(runs + 1):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, check=False)
        elapsed = (time.perf_counter() - t0) * 1000.0
        rc = proc.returncode
        if rc not in (0, 1):  # 1 = findings; anything else means it did not run
            sys.stderr.write(f"{' '.join(cmd)} exited {rc}:\n{proc.stderr.decode(errors='replace')}\n")
            raise SystemExit(2)
        if i:  # the first run warms the page cache and writes .pyc files
            times.append(elapsed)
    return statistics.median(times), rc


def imported_modules(argv: list[str], env: dict[str, str], cwd: Path) -> set[str]:
    """Top-level packages imported by ``python -X importtime -m hardoctor ARGV``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "hardoctor", *argv],
                          env=env, cwd=cwd, capture_output=True, text=True, check=False)
    names: set[str] = set()
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "[us]" in line:
            continue
        name = line.rsplit("|", 1)[1].strip()
        if name:
            names.add(name.split(".")[0])
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--runs", type=int, default=15, help="runs per command (default 15)")
    parser.add_argument("--installed", action="store_true",
                        help="measure the installed hardoctor instead of this checkout's src/ and plugins/")
    parser.add_argument("--module", action="store_true",
                        help="run `python -m hardoctor` instead of the console script")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)

    pythonpath = None if args.installed else os.pathsep.join([str(ROOT / "src"), str(ROOT / "plugins")])
    # PYTHONPATH (checkout mode) comes before site-packages, so the console
    # script runs this checkout's code too.
    hd = hardoctor_command(args.module)

    with tempfile.TemporaryDirectory(prefix="hardoctor-bench-") as tmp:
        empty = Path(tmp) / "empty-home"
        empty.mkdir()
        docker = Path(tmp) / "docker-home"
        docker.mkdir()
        docker_home(docker)

        cases = [
            ("python -c pass", [sys.executable, "-c", "pass"], empty),
            ("pip config list", [sys.executable, "-m", "pip", "config", "list"], empty),
            ("hardoctor --version", [*hd, "--version"], empty),
            ("check --offline (empty HOME)", [*hd, "check", "--offline"], empty),
            ("check --offline (Docker config)", [*hd, "check", "--offline"], docker),
        ]
        rows = []
        for label, cmd, home in cases:
            median, rc = measure(cmd, base_env(home, pythonpath), home, runs)
            rows.append((label, median, rc))

        imports = {
            "empty HOME": imported_modules(["check", "--offline"], base_env(empty, pythonpath), empty),
            "Docker config": imported_modules(["check", "--offline"], base_env(docker, pythonpath), docker),
        }

    floor = rows[0][1]
    print(f"hardoctor start-up · Python {platform.python_version()} · {platform.machine()} · "
          f"{os.cpu_count()} CPUs · median of {runs} runs")
    print(f"code: {'installed package' if args.installed else 'this checkout (PYTHONPATH=src:plugins)'}"
          f" · command: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(hd))}")
    print()
    width = max(len(r[0]) for r in rows)
    pip = rows[1][1]
    print(f"{'command':<{width}}  {'median ms':>9}  {'× python':>8}  {'× pip':>6}  exit")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 8}  {'-' * 6}  ----")
    for label, median, rc in rows:
        print(f"{label:<{width}}  {median:9.1f}  {median / floor:8.2f}  {median / pip:6.2f}  {rc}")
    print()
    print(f"check --offline on an empty HOME / pip config list: {rows[3][1] / pip:.2f} (bar: 0.5)")
    print()
    print("imported during `check --offline`:")
    for label, names in imports.items():
        marks = "  ".join(f"{m}={'yes' if m in names else 'no'}" for m in WATCHED)
        print(f"  {label:<14} {marks}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
