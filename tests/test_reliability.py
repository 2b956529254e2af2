"""Hostile files, floods and broken networks, against the installed CLI.

Every run is a subprocess of the ``hardoctor`` command in a throwaway HOME,
with a deadline, and -- where a regression would eat the machine -- an
address-space limit set in the child (``RLIMIT_AS``), so that it fails
instead.  Fresh canaries per run; none may reach any output.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.servers.proxy407 import Proxy407
from tests.servers.util import server_missing

HARDOCTOR = shutil.which("hardoctor") or ""
pytestmark = pytest.mark.skipif(sys.platform == "win32",
                                reason="POSIX only (FIFOs, RLIMIT_AS, kill -9)")


@pytest.fixture(autouse=True)
def _installed_cli() -> None:
    if not HARDOCTOR:
        server_missing("the hardoctor CLI is not installed (pip install -e .)")
MiB = 1024 * 1024


@dataclass
class Run:
    rc: int
    out: str
    err: str
    seconds: float
    max_rss_mb: float

    @property
    def text(self) -> str:
        return self.out + self.err


def _env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_STATE_HOME=str(home / ".local" / "state"), COLUMNS="200", NO_COLOR="1",
               HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD="1")
    env.update(extra or {})
    return env


def hd(args: Sequence[str], home: Path, *, env: Mapping[str, str] | None = None,
       stdin: bytes | Iterator[bytes] | None = None, timeout: float = 60.0,
       address_space: int | None = None, cwd: Path | None = None) -> Run:
    """Run the installed CLI; measure its own wall time and peak RSS."""
    def limits() -> None:
        if address_space is not None:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    out_f = (home / f".out-{secrets.token_hex(4)}").open("w+b")
    err_f = (home / f".err-{secrets.token_hex(4)}").open("w+b")
    t0 = time.monotonic()
    proc = subprocess.Popen([HARDOCTOR, *args], stdin=subprocess.PIPE, stdout=out_f, stderr=err_f,
                            env=_env(home, env), cwd=str(cwd or home), preexec_fn=limits)
    feeder = threading.Thread(target=_feed, args=(proc, stdin), daemon=True)
    feeder.start()
    deadline = t0 + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            pytest.fail(f"hardoctor {' '.join(args)} still running after {timeout} s")
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - t0
    out_f.seek(0)
    err_f.seek(0)
    out, err = out_f.read().decode("utf-8", "replace"), err_f.read().decode("utf-8", "replace")
    out_f.close()
    err_f.close()
    return Run(proc.returncode, out, err, seconds, usage.ru_maxrss / 1024.0)


def _feed(proc: subprocess.Popen[bytes], stdin: bytes | Iterator[bytes] | None) -> None:
    assert proc.stdin is not None
    try:
        if isinstance(stdin, bytes):
            proc.stdin.write(stdin)
        elif stdin is not None:
            for chunk in stdin:
                proc.stdin.write(chunk)
    except (BrokenPipeError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()


def flood(total: int, byte: bytes = b"A") -> Iterator[bytes]:
    chunk = byte * MiB
    for _ in range(total // MiB):
        yield chunk


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def canary() -> str:
    return f"Cnry{secrets.token_hex(6)}.X{secrets.token_hex(3)}"


FORMATS = ("text", "json", "sarif", "github")


def assert_nowhere(home: Path, token: str, args: Sequence[str]) -> None:
    for fmt in FORMATS:
        run = hd(["check", "--offline", "--format", fmt, *args], home)
        assert token not in run.text, (fmt, run.text[:2000])
        assert "Traceback" not in run.err
    run = hd(["check", "--offline", "--debug", *args], home)
    assert token not in run.text


# -- secrets never enter a parser's error message ------------------------------------------


def test_netrc_password_without_keyword_is_never_quoted(home: Path) -> None:
    token = canary()  # dotted, like Summer.2024secret: it looks like a host name
    (home / ".netrc").write_text(f"machine pypi.example.test login dev {token}\n")
    (home / ".netrc").chmod(0o600)
    assert_nowhere(home, token, [])
    run = hd(["check", "--offline", "--format", "json"], home)
    messages = [f["message"] for f in json.loads(run.out)["findings"]]
    assert any("unexpected word" in m and "fingerprint" in m for m in messages), messages


@pytest.mark.parametrize("where", ["yarnrc-alias", "manifest-alias", "manifest-anchor"])
def test_yaml_errors_name_a_category_not_the_text(home: Path, where: str) -> None:
    token = canary().replace(".", "")
    args: list[str] = []
    if where == "yarnrc-alias":
        (home / ".yarnrc.yml").write_text(f"npmAuthToken: *{token}\n")
    else:
        body = (f"  password: *{token}\n" if where == "manifest-alias"
                else f"  a: &{token} 1\n  b: &{token} 2\n  c: *{token}\n")
        (home / "m.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
                                     "stringData:\n" + body)
        args = ["--manifests", str(home / "m.yaml")]
    assert_nowhere(home, token, args)


# -- FIFOs, devices and floods -------------------------------------------------------------


def test_fifos_and_devices_in_place_of_configs_end_at_once(home: Path) -> None:
    (home / ".docker").mkdir()
    os.mkfifo(home / ".docker" / "config.json")
    os.mkfifo(home / ".npmrc")
    os.symlink("/dev/zero", home / ".netrc")
    (home / "proj").mkdir()
    os.mkfifo(home / "proj" / "package.json")
    os.mkfifo(home / "m.yaml")
    run = hd(["check", "--offline", "--manifests", str(home / "m.yaml")], home,
             cwd=home / "proj", timeout=10)
    assert run.rc == 1, run.text
    assert run.seconds < 10
    assert "FIFO (named pipe), not a regular file" in run.out
    assert "character device" in run.out


@pytest.mark.parametrize("args", [
    ["token", "inspect"],
    ["fix", "--offline", "--token-stdin", "registry.example.com"],
    ["check", "--offline", "--harness-api-key-stdin"],
])
def test_a_stdin_flood_is_refused_at_once(home: Path, args: list[str]) -> None:
    # 300 MB on stdin under a 1 GiB address space: a regression that reads it
    # all fails with MemoryError instead of eating the machine.
    run = hd(args, home, stdin=flood(300 * MiB), timeout=10, address_space=1024 * MiB)
    assert run.rc in (1, 2), run.text
    assert run.seconds < 10
    assert run.max_rss_mb < 200, run.max_rss_mb
    assert "64 KiB" in run.err and "MemoryError" not in run.text


def test_manifest_cap_bites_with_size_and_option_named(home: Path) -> None:
    doc = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n"
    big = home / "big.yaml"
    big.write_text(doc * (2 * MiB // len(doc) + 1))
    size = big.stat().st_size
    run = hd(["check", "--offline", "--manifests", str(big), "--max-manifest-bytes", "1MiB"], home)
    assert run.rc == 1 and f"holds {size} bytes" in run.out and "--max-manifest-bytes" in run.out
    run = hd(["check", "--offline", "--manifests", "-"], home, stdin=flood(50 * MiB, b"#"),
             env={"HARDOCTOR_MAX_MANIFEST_BYTES": "1MiB"}, address_space=1024 * MiB, timeout=10)
    assert run.rc == 1 and "HARDOCTOR_MAX_MANIFEST_BYTES" in run.out, run.text
    assert run.max_rss_mb < 200
    # Under the cap, a few megabytes of manifests stream in bounded time and memory.
    run = hd(["check", "--offline", "--manifests", str(big)], home, timeout=60)
    assert run.rc == 0, run.text
    assert run.max_rss_mb < 500


def test_a_huge_token_costs_linear_time(home: Path) -> None:
    token = "npm_" + "Q" * (3500 * 1024)
    (home / ".npmrc").write_text(f"//registry.example.com/:_authToken={token}\n")
    (home / ".npmrc").chmod(0o600)
    (home / ".docker").mkdir()
    import base64
    auth = base64.b64encode(b"u:" + b"p" * (1800 * 1024)).decode()
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": {"r.example.com": {
        "auth": auth}}}))
    run = hd(["check", "--offline", "--format", "json"], home, timeout=60,
             address_space=2048 * MiB)
    assert run.rc in (0, 1), run.text[-2000:]
    assert token[:64] not in run.text
    # Generous bounds (a shared CI machine); the figure here is ~1 s and ~100 MB.
    assert run.seconds < 20 and run.max_rss_mb < 300, (run.seconds, run.max_rss_mb)


# -- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["--timeout", "inf"], ["--timeout", "1e9"], ["--timeout", "nan"], ["--ecosystem", "bogus"],
    ["--project", "/nonexistent/dir"], ["--harness-api", "ftp://x"],
    ["--harness-host", "http://[::1"], ["--max-manifest-bytes", "0"],
    ["--max-manifest-bytes", "lots"],
])
def test_a_bad_option_exits_2_naming_it(home: Path, args: list[str]) -> None:
    run = hd(["check", "--offline", *args], home, timeout=20)
    assert run.rc == 2, run.text
    assert args[0] in run.err or args[0].lstrip("-") in run.err, run.err


# -- proxies -----------------------------------------------------------------------------------


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _proxy_run(home: Path, value: str) -> tuple[Run, list[dict[str, object]]]:
    run = hd(["check", "registry.example.com/team/app:1", "--timeout", "5", "--format", "json"],
             home, env={"HTTPS_PROXY": value}, timeout=30)
    return run, json.loads(run.out)["findings"]


@pytest.mark.parametrize("kind", ["refused", "unresolvable", "malformed-bracket", "malformed-colons"])
def test_a_broken_proxy_is_the_proxys_fault(home: Path, kind: str) -> None:
    password = canary()
    value = {
        "refused": f"http://corp:{password}@127.0.0.1:{_closed_port()}",
        "unresolvable": f"http://corp:{password}@proxy.nonexistent.invalid:3128",
        "malformed-bracket": f"http://corp:{password}@[::1",
        "malformed-colons": "::::",
    }[kind]
    run, findings = _proxy_run(home, value)
    assert run.rc == 1, run.text
    proxy = [f for f in findings if f.get("cause") == "proxy-error"]
    assert proxy, findings
    assert "HTTPS_PROXY" in str(proxy[0]["message"])
    assert not [f for f in findings if f.get("cause") in ("connection-error", "dns-error")]
    assert password not in run.text


def test_a_407_from_a_real_proxy_is_a_proxy_error(home: Path) -> None:
    with Proxy407() as proxy:
        run, findings = _proxy_run(home, proxy.url)
    assert run.rc == 1
    assert [f for f in findings if f.get("cause") == "proxy-error" and "407" in str(f["message"])]
    assert any(r.startswith(b"CONNECT registry.example.com:443") for r in proxy.requests)


# -- credentials in clear ----------------------------------------------------------------------


def _outside_ip() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent
            ip = str(s.getsockname()[0])
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


def test_a_credential_sent_over_plain_http_is_a_warning(home: Path) -> None:
    import http.server

    ip = _outside_ip()
    if ip is None:
        pytest.skip("no non-loopback address on this machine")

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"username": "u"}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((ip, 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reg = f"{ip}:{server.server_address[1]}"
        token = "npm_" + secrets.token_hex(18)
        (home / ".npmrc").write_text(f"registry=http://{reg}/\n//{reg}/:_authToken={token}\n")
        (home / ".npmrc").chmod(0o600)
        run = hd(["check", "--timeout", "5", "--format", "json"], home, timeout=30)
    finally:
        server.shutdown()
    found = [f for f in json.loads(run.out)["findings"] if f["rule"] == "NET009"]
    assert found and found[0]["severity"] == "warning" and found[0]["cause"] == "insecure-storage"
    assert token not in run.text


# -- fix --apply under kill -9 and concurrency ---------------------------------------------------


def _pip_home(home: Path) -> tuple[Path, bytes]:
    conf = home / ".config" / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    pad = "".join(f"# line {i} of padding to make the write take a moment\n" for i in range(40000))
    conf.write_text(f"[global]\nindex-url = https://user:Pa@ss{secrets.token_hex(4)}"
                    f"@pypi.example.test/simple\n{pad}")
    conf.chmod(0o600)
    return conf, conf.read_bytes()


def _backup_sets(home: Path) -> list[Path]:
    root = home / ".local" / "state" / "hardoctor" / "backups"
    return [p for p in root.iterdir() if not p.name.startswith(".")] if root.is_dir() else []


def test_kill_9_at_random_points_of_apply_never_leaves_a_partial_file(home: Path) -> None:
    conf, old = _pip_home(home)
    probe = home / "probe"
    shutil.copytree(home / ".config", probe / ".config")
    hd(["fix", "--offline", "--apply"], probe)
    new = (probe / ".config" / "pip" / "pip.conf").read_bytes()
    assert new != old
    rng = random.Random(13)
    for _ in range(12):
        conf.write_bytes(old)
        proc = subprocess.Popen([HARDOCTOR, "fix", "--offline", "--apply"], env=_env(home),
                                cwd=str(home), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 1.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = conf.read_bytes()
        assert now in (old, new), "a partial pip.conf after kill -9"
        assert stat.S_IMODE(conf.stat().st_mode) == 0o600
        for s in _backup_sets(home):
            assert (s / "manifest.json").is_file(), f"half a backup set: {s}"
    # A kill -9 between creating the temporary file and renaming it leaves
    # that file (nothing can run after SIGKILL): the next apply removes it
    # before it writes, so no interrupted write's copy of the secret stays.
    hd(["fix", "--offline", "--apply"], home)
    assert sorted(os.listdir(conf.parent)) == ["pip.conf"]
    assert conf.read_bytes() == new


def test_two_concurrent_applies_take_turns(home: Path) -> None:
    conf, old = _pip_home(home)
    procs = [subprocess.Popen([HARDOCTOR, "fix", "--offline", "--apply"], env=_env(home),
                              cwd=str(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    texts = [(o + e).decode() for o, e in outs]
    fixed = [t for t in texts if "Fixed 1 file" in t]
    assert len(fixed) == 1, texts
    assert all(p.returncode in (0, 1, 2) for p in procs)
    assert conf.read_bytes() != old
    sets = _backup_sets(home)
    assert len(sets) == 1 and (sets[0] / "manifest.json").is_file()


def test_npms_own_proxy_setting_is_named(home: Path) -> None:
    password = canary()
    token = "npm_" + secrets.token_hex(18)
    (home / ".npmrc").write_text(
        f"https-proxy=http://corp:{password}@127.0.0.1:{_closed_port()}\n"
        f"registry=https://registry.example.com/\n//registry.example.com/:_authToken={token}\n")
    (home / ".npmrc").chmod(0o600)
    run = hd(["check", "--timeout", "5", "--format", "json"], home, timeout=30)
    assert run.rc == 1, run.text
    proxy = [f for f in json.loads(run.out)["findings"] if f.get("cause") == "proxy-error"]
    assert proxy and "npm config https-proxy=http://***@127.0.0.1" in proxy[0]["message"]
    assert "npm config https-proxy" in json.dumps(proxy[0]["remediation"])
    assert password not in run.text and token not in run.text


def test_a_16_mb_manifest_is_refused_at_once_by_the_default_cap(home: Path) -> None:
    doc = ("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
           "type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: eyJhdXRocyI6e319\n")
    big = home / "dump.yaml"
    with big.open("w") as fh:
        for _ in range(16 * MiB // len(doc) + 1):
            fh.write(doc)
    run = hd(["check", "--offline", "--manifests", str(big)], home, timeout=20,
             address_space=1024 * MiB)
    assert run.rc == 1 and "--max-manifest-bytes" in run.out and "8388608 bytes" in run.out
    assert run.seconds < 10 and run.max_rss_mb < 200


def test_mavens_own_proxy_is_named(home: Path) -> None:
    password = canary()
    (home / ".m2").mkdir()
    (home / ".m2" / "settings.xml").write_text(
        "<settings><proxies><proxy><id>corp</id><protocol>http</protocol><host>127.0.0.1</host>"
        f"<port>{_closed_port()}</port><username>me</username><password>{password}</password>"
        "<nonProxyHosts>*.internal.example|localhost</nonProxyHosts></proxy></proxies>"
        "<mirrors><mirror><id>m</id><mirrorOf>*</mirrorOf>"
        "<url>https://repo.example.com/maven2</url></mirror></mirrors></settings>")
    run = hd(["check", "--timeout", "5", "--format", "json"], home, timeout=30)
    proxy = [f for f in json.loads(run.out)["findings"] if f.get("cause") == "proxy-error"]
    assert run.rc == 1 and proxy, run.text
    assert "<proxy> corp=http://***@127.0.0.1" in proxy[0]["message"]
    assert password not in run.text


def test_write_removes_only_an_interrupted_writes_temporary_file(tmp_path: Path) -> None:
    """What mkstemp left for this file (``.NAME.XXXXXXXX.tmp``) goes; other
    files, and other files' temporaries, stay."""
    from hardoctor import backups

    target = tmp_path / "pip.conf"
    target.write_bytes(b"old")
    stale = tmp_path / ".pip.conf.ab12cd34.tmp"
    stale.write_bytes(b"half of a new secret")
    keep = [tmp_path / ".pip.conf.backup.tmp", tmp_path / ".npmrc.ab12cd34.tmp",
            tmp_path / "pip.conf.ab12cd34.tmp", tmp_path / ".pip.conf.ab12cd34.txt"]
    for path in keep:
        path.write_bytes(b"x")
    backups.write_atomic(str(target), b"new", 0o600, os.getuid(), os.getgid())
    assert target.read_bytes() == b"new"
    assert not stale.exists()
    assert all(path.exists() for path in keep)
