"""The cluster dump of issue 14, timed against PyYAML's C loader.

Shape (``kubectl get secrets,deployments -A -o yaml``): ``--secrets``
``kubernetes.io/dockerconfigjson`` Secrets spread over 50 namespaces, all for
one HAR host; one in ten holds an expired JWT as its password; plus
``--deployments`` Deployments, each naming one pull secret of its namespace
and its own image.  Defaults: 5,000 + 20,000 (about 7 MB of YAML).

For each size it runs, side by side in one run:

* the floor: ``yaml.load(DUMP, Loader=yaml.CSafeLoader)`` in a fresh process;
* ``hardoctor check --offline --manifests DUMP --format json`` in a fresh
  process: wall time, peak RSS (``ru_maxrss``), and how many of the expired
  credentials the JSON report shows as expired;

and prints the ratio of wall times (the bar: at most 2) and of CPU times
(steadier on a shared machine).  ``--growth`` runs 1k / 5k / 25k objects (the default
mix, 1:4 Secrets to Deployments) to show the growth is linear.

    python benchmarks/bench_cluster.py               # 5,000 + 20,000
    python benchmarks/bench_cluster.py --growth      # 200+800, 1000+4000, 5000+20000
    python benchmarks/bench_cluster.py --secrets 500 --deployments 2000
    python benchmarks/bench_cluster.py --keep DIR    # keep the dump(s) in DIR

Needs only the runtime dependencies; runs this checkout's code
(``PYTHONPATH=src:plugins``).  It is a measurement: it exits 0 unless the
report misses an expired credential (exit 1).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMESPACES = 50
HOST = "pkg.harness.io"
EXPIRED_EVERY = 10


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _jwt(ns: int, i: int) -> str:
    head = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64url(json.dumps({"sub": f"svc-{ns}-{i}", "iat": 1700000000,
                               "exp": 1700003600}).encode())
    return f"{head}.{body}.{_b64url(f'sig{ns:03d}{i:05d}'.encode() * 2)}"


def _secret(ns: int, i: int) -> tuple[str, bool]:
    user = f"svc-{ns}@acme.example"
    expired = i % EXPIRED_EVERY == 0
    token = _jwt(ns, i) if expired else f"pat.AcmeX1.bench{ns:03d}x{i:05d}.S{i:05d}"
    body = {"auths": {HOST: {"username": user, "password": token,
                             "auth": _b64(f"{user}:{token}".encode())}}}
    value = _b64(json.dumps(body).encode())
    return (
        "- apiVersion: v1\n"
        "  kind: Secret\n"
        "  type: kubernetes.io/dockerconfigjson\n"
        "  metadata:\n"
        f"    name: pull-{i}\n"
        f"    namespace: ns-{ns:02d}\n"
        "    creationTimestamp: \"2026-01-10T08:00:00Z\"\n"
        "  data:\n"
        f"    .dockerconfigjson: {value}\n"
    ), expired


def _deployment(ns: int, i: int, secrets_per_ns: int) -> str:
    return (
        "- apiVersion: apps/v1\n"
        "  kind: Deployment\n"
        "  metadata:\n"
        f"    name: app-{i}\n"
        f"    namespace: ns-{ns:02d}\n"
        "  spec:\n"
        "    template:\n"
        "      spec:\n"
        "        imagePullSecrets:\n"
        f"        - name: pull-{i % secrets_per_ns}\n"
        "        containers:\n"
        "        - name: app\n"
        f"          image: {HOST}/acmex1/prod/ns{ns:02d}-app-{i}:1.{i % 4}\n"
    )


def generate(path: Path, secrets: int, deployments: int) -> int:
    """Write the dump; returns how many Secrets hold an expired JWT."""
    per_ns_s = max(1, secrets // NAMESPACES)
    per_ns_d = max(1, deployments // NAMESPACES)
    expired = 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("apiVersion: v1\nitems:\n")
        for ns in range(NAMESPACES):
            for i in range(per_ns_s):
                text, old = _secret(ns, i)
                expired += old
                fh.write(text)
        for ns in range(NAMESPACES):
            for i in range(per_ns_d):
                fh.write(_deployment(ns, i, per_ns_s))
        fh.write("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
    return expired


_TIMED = (
    "import resource, subprocess, sys, time\n"
    "t0 = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)\n"
    "dt = time.perf_counter() - t0\n"
    "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "sys.stderr.write(f'{dt} {ru.ru_utime + ru.ru_stime} {ru.ru_maxrss} {p.returncode}\\n')\n"
    "sys.stdout.buffer.write(p.stdout)\n"
)


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, int, int, bytes]:
    """(wall seconds, CPU seconds, peak RSS bytes, exit code, stdout) of one
    process."""
    p = subprocess.run([sys.executable, "-c", _TIMED, *argv], env=env, cwd=cwd,
                       capture_output=True, check=True)
    dt, cpu, rss, rc = p.stderr.decode().split()[-4:]
    return float(dt), float(cpu), int(rss) * 1024, int(rc), p.stdout


def expired_in(report: bytes) -> set[str]:
    """Ids of the JWT credentials the JSON report shows as expired (the PATs
    beside them may be shown as probably expired too: their Secrets' age)."""
    data = json.loads(report)
    seen: set[str] = set()
    expired_ids = {cred["id"] for cred in data.get("credentials", [])
                   if (cred.get("secret") or {}).get("kind") == "jwt"
                   and cred["secret"].get("status") == "expired"}
    for finding in data.get("findings", []):
        if finding.get("cause") == "token-expired" and finding.get("credential") in expired_ids:
            seen.add(finding["credential"])
    return seen


def run_one(tmp: Path, secrets: int, deployments: int) -> dict[str, float]:
    dump = tmp / f"dump-{secrets}-{deployments}.yaml"
    expired = generate(dump, secrets, deployments)
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "LANG": "C.UTF-8",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "plugins")])}
    floor_code = ("import sys, yaml\n"
                  "with open(sys.argv[1], 'rb') as fh: yaml.load(fh, Loader=yaml.CSafeLoader)\n")
    f_time, f_cpu, f_rss, _, _ = timed([sys.executable, "-c", floor_code, str(dump)], env, str(home))
    h_time, h_cpu, h_rss, rc, out = timed(
        [sys.executable, "-m", "hardoctor", "check", "--offline", "--manifests", str(dump),
         "--format", "json"], env, str(home))
    shown = expired_in(out)
    return {"secrets": secrets, "deployments": deployments, "mb": dump.stat().st_size / 1e6,
            "floor": f_time, "floor_cpu": f_cpu, "floor_rss": f_rss / 2**20, "time": h_time,
            "cpu": h_cpu, "rss": h_rss / 2**20,
            "rc": rc, "expired": expired, "shown": len(shown)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--secrets", type=int, default=5000)
    ap.add_argument("--deployments", type=int, default=20000)
    ap.add_argument("--growth", action="store_true", help="1k / 5k / 25k objects")
    ap.add_argument("--keep", type=Path, help="write the dumps here and keep them")
    args = ap.parse_args()
    sizes = ([(200, 800), (1000, 4000), (5000, 20000)] if args.growth
             else [(args.secrets, args.deployments)])
    with tempfile.TemporaryDirectory(prefix="hd-bench-cluster-") as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        print("objects    MB  C-loader s  hardoctor s  ratio  CPU ratio  peak RSS MiB  "
              "µs/object  expired shown")
        bad = False
        for secrets, deployments in sizes:
            r = run_one(where, secrets, deployments)
            n = secrets + deployments
            print(f"{n:>7}  {r['mb']:5.1f}  {r['floor']:10.2f}  {r['time']:11.2f}  "
                  f"{r['time'] / r['floor']:5.2f}  {r['cpu'] / r['floor_cpu']:9.2f}  "
                  f"{r['rss']:12.0f}  "
                  f"{1e6 * r['time'] / n:9.0f}  {r['shown']}/{r['expired']} (exit {r['rc']})")
            bad |= r["shown"] != r["expired"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
