"""How hardoctor copes with a big cluster dump (issue 8, "Scale").

Generates a ``kubectl get secrets,pods -A -o yaml``-style dump -- 5,000
pull secrets and 20,000 pods by default, spread over 50 namespaces, with a
handful of broken secrets and missing references mixed in -- then checks it
offline and reports:

* the dump's size;
* ``stream``: reading every object with the streaming reader alone, and the
  peak Python heap while doing it (``tracemalloc``) -- it must stay small and
  flat, whatever the dump's size (memory proportional to one object);
* ``engine``: the whole offline pipeline in-process (discover, credentials,
  decoding, lint, targets, resolution, diagnosis), its time and peak heap;
* ``cli``: ``hardoctor check --offline --manifests DUMP`` (text report;
  ``--cli-format json`` for JSON) as a separate process, its wall time and
  peak RSS (``ru_maxrss``), next to the same command on an empty dump (the
  fixed cost of Python and imports).  The JSON report currently scrubs every
  string of the report separately against every registered secret, which
  is quadratic-ish with 5,000 secrets: a core issue, not the plugin's.

Usage::

    python benchmarks/bench_k8s.py                   # 5,000 secrets, 20,000 pods, YAML
    python benchmarks/bench_k8s.py --format json     # a `kubectl get -o json` dump
    python benchmarks/bench_k8s.py --secrets 500 --pods 2000 --skip-cli

Needs only the runtime dependencies; runs this checkout's code
(``PYTHONPATH=src:plugins``).
"""

from __future__ import annotations

import argparse
import base64
import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "plugins")]

NAMESPACES = 50
IMAGES_PER_NAMESPACE = 20


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _secret(ns: int, i: int) -> dict:
    user = f"svc-{ns}@acme.example"
    token = f"sat.AcmeX1.bench{ns:03d}x{i:04d}.BENCHsecretBENCHsecret{i:04d}"
    host = "pkg.harness.io" if i % 3 else f"registry{ns % 7}.example.com:5000"
    body = {"auths": {host: {"username": user, "password": token,
                             "auth": _b64(f"{user}:{token}")}}}
    value = _b64(json.dumps(body))
    if i == 7:  # a few classic mistakes
        value = _b64(value)
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": f"pull-{i}", "namespace": f"ns-{ns:02d}", "uid": f"s-{ns}-{i}",
                     "resourceVersion": str(1000 + i),
                     "creationTimestamp": "2026-01-10T08:00:00Z",
                     "managedFields": [{"manager": "kubectl", "operation": "Update",
                                        "time": "2026-02-01T08:00:00Z"}]},
        "data": {".dockerconfigjson": value},
    }


def _pod(ns: int, i: int, secrets_per_ns: int) -> dict:
    image_no = i % IMAGES_PER_NAMESPACE
    host = "pkg.harness.io/acmex1/prod" if image_no % 3 else f"registry{ns % 7}.example.com:5000/team"
    # Pods come from Deployments: every replica lists the same pull secrets.
    # pull-3k is keyed by the namespace's own registry, pull-3k+1 by HAR.
    refs = [{"name": f"pull-{(image_no * 3) % secrets_per_ns}"},
            {"name": f"pull-{(image_no * 3 + 1) % secrets_per_ns}"}]
    if image_no == 13 and ns % 10 == 0:
        refs.append({"name": "gone"})
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"app-{i}", "namespace": f"ns-{ns:02d}", "uid": f"p-{ns}-{i}",
                     "creationTimestamp": "2026-02-02T00:00:00Z",
                     "labels": {"app": f"app-{image_no}", "tier": "web"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "name": f"app-{image_no}-5c9", "uid": "r",
                                          "controller": True}]},
        "spec": {
            "serviceAccountName": "default",
            "imagePullSecrets": refs,
            "containers": [
                {"name": "app", "image": f"{host}/app-{image_no}:1.{i % 4}",
                 "ports": [{"containerPort": 8080}],
                 "env": [{"name": "MODE", "value": "prod"}, {"name": "LOG", "value": "info"}],
                 "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}},
                {"name": "proxy", "image": "docker.io/library/nginx:1.27"},
            ],
        },
        "status": {"phase": "Running", "podIP": "10.0.0.1"},
    }


def generate(path: Path, secrets: int, pods: int, fmt: str) -> None:
    """Write the dump object by object (the generator does not hold it)."""
    per_ns_secrets = max(1, secrets // NAMESPACES)
    per_ns_pods = max(1, pods // NAMESPACES)
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    items = []
    for ns in range(NAMESPACES):
        items += [_secret(ns, i) for i in range(per_ns_secrets)]
    with open(path, "w", encoding="utf-8") as fh:
        if fmt == "json":
            fh.write('{\n    "apiVersion": "v1",\n    "items": [\n')
            first = True
            for obj in _objects(items, per_ns_pods, per_ns_secrets):
                fh.write(("" if first else ",\n") + _indent(json.dumps(obj, indent=4), 8))
                first = False
            fh.write('\n    ],\n    "kind": "List",\n    "metadata": {"resourceVersion": ""}\n}\n')
            return
        fh.write("apiVersion: v1\nitems:\n")
        for obj in _objects(items, per_ns_pods, per_ns_secrets):
            text = yaml.dump(obj, Dumper=dumper, sort_keys=True, default_flow_style=False)
            lines = text.splitlines()
            fh.write("- " + lines[0] + "\n" + "".join(f"  {line}\n" for line in lines[1:]))
        fh.write("kind: List\nmetadata:\n  resourceVersion: \"\"\n")


def _objects(secrets: list[dict], per_ns_pods: int, per_ns_secrets: int) -> Iterator[dict]:
    yield from secrets
    for ns in range(NAMESPACES):
        for i in range(per_ns_pods):
            yield _pod(ns, i, per_ns_secrets)


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line for line in text.splitlines())


# -- measuring ------------------------------------------------------------------------


def stream_only(path: Path) -> tuple[float, int, float, int]:
    """(seconds to read every object into its record, objects, seconds to
    parse only, peak traced bytes while parsing).  The records themselves are
    not kept here; what the plugin keeps per object is the record."""
    from hardoctor_k8s.objects import read_object
    from hardoctor_k8s.yamlstream import Obj, iter_objects

    gc.collect()
    t0 = time.perf_counter()
    n = 0
    with open(path, "rb") as fh:
        for item in iter_objects(fh):
            if isinstance(item, Obj):
                read_object(item, "bench", str(path), "default")
                n += 1
    elapsed = time.perf_counter() - t0
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        for _ in iter_objects(fh):
            pass
    parse = time.perf_counter() - t0
    gc.collect()
    tracemalloc.start()
    with open(path, "rb") as fh:
        for _ in iter_objects(fh):
            pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, n, parse, peak


def engine_run(path: Path, home: Path, trace: bool) -> tuple[float, int, dict[str, int]]:
    """(seconds, peak traced bytes or 0, counts) of the offline pipeline."""
    from hardoctor import engine
    from hardoctor.cli import build_parser, options_from_args
    from hardoctor.context import Context
    from hardoctor.env import Environment
    from hardoctor.plugins import PluginManager

    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(),
                      environ={"PATH": os.environ.get("PATH", ""), "HOME": str(home),
                               "HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1"},
                      cwd=str(home), home=str(home))
    manager = PluginManager(autoload=False)
    manager.load()
    ns = build_parser(["text", "json"], manager).parse_args(
        ["check", "--offline", "--max-manifest-bytes", "4GiB", "--manifests", str(path)])
    ctx = Context(options_from_args(ns, env), env, manager.rules, manager)
    gc.collect()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    report = engine.run(ctx, manager)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    counts = {"credentials": len(report.credentials), "resolutions": len(report.resolutions),
              "findings": len(report.findings)}
    return elapsed, peak, counts


def cli_run(path: Path, home: Path, fmt: str) -> tuple[float, int, int]:
    """(wall seconds, peak RSS bytes, exit code) of the real command."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "LANG": "C.UTF-8",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "plugins")]),
           "HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1"}
    code = (
        "import resource, subprocess, sys, time\n"
        "t0 = time.perf_counter()\n"
        "rc = subprocess.call(sys.argv[1:])\n"
        "dt = time.perf_counter() - t0\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(dt, rss, rc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, sys.executable, "-m", "hardoctor", "check", "--offline",
         "--format", fmt, "--output", os.devnull, "--max-manifest-bytes", "4GiB",
         "--manifests", str(path)],
        env=env, capture_output=True, text=True, check=True, cwd=str(home),
    ).stdout.split()
    return float(out[0]), int(out[1]) * 1024, int(out[2])


def mib(n: float) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--secrets", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=20000)
    ap.add_argument("--format", choices=["yaml", "json"], default="yaml")
    ap.add_argument("--skip-cli", action="store_true", help="no subprocess run")
    ap.add_argument("--cli-format", choices=["text", "json"], default="text",
                    help="report format of the subprocess run (json: see the README note on "
                         "redaction cost)")
    ap.add_argument("--trace-engine", action="store_true",
                    help="peak heap of the engine run too (tracemalloc slows it 2-3x)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="hd-bench-k8s-") as tmp:
        tmpdir = Path(tmp)
        home = tmpdir / "home"
        home.mkdir()
        dump = tmpdir / f"dump.{args.format}"
        t0 = time.perf_counter()
        generate(dump, args.secrets, args.pods, args.format)
        gen = time.perf_counter() - t0
        size = dump.stat().st_size
        print(f"dump: {args.secrets} secrets, {args.pods} pods, {args.format}, {mib(size)} "
              f"(generated in {gen:.1f} s)")

        s_time, objects, p_time, s_peak = stream_only(dump)
        print(f"stream: {objects} objects parsed in {p_time:.2f} s (into records: {s_time:.2f} s); "
              f"peak Python heap while parsing {mib(s_peak)} for a {mib(size)} dump")

        e_time, e_peak, counts = engine_run(dump, home, args.trace_engine)
        extra = f"; peak Python heap {mib(e_peak)}" if args.trace_engine else ""
        print(f"engine: check --offline in-process in {e_time:.2f} s{extra} "
              f"({counts['credentials']} credentials, {counts['resolutions']} resolutions, "
              f"{counts['findings']} findings)")

        if not args.skip_cli:
            empty = tmpdir / f"empty.{args.format}"
            empty.write_text("{}\n" if args.format == "json" else "---\n")
            b_time, b_rss, _ = cli_run(empty, home, args.cli_format)
            c_time, c_rss, rc = cli_run(dump, home, args.cli_format)
            print(f"cli: hardoctor check --offline --format {args.cli_format}: {c_time:.2f} s, peak RSS "
                  f"{mib(c_rss)}, exit {rc} (empty dump: {b_time:.2f} s, {mib(b_rss)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
