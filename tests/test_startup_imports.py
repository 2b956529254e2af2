"""The start-up budget as an import set, not a timing (issue 14).

``check --offline`` on an empty HOME must not pay for machinery it does not
use: the probe stack (httpx, asyncio, ssl), the YAML and XML parsers, crypto,
rich when the output is not a terminal, the HTTP server of ``serve``.  The
test runs the real command in a fresh interpreter and lists the modules that
were actually executed (a lazy submodule that was never used does not
count: see ``hardoctor.lazy``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Never imported by ``check --offline`` with nothing to read.
HEAVY = (
    "httpx", "httpcore", "h2", "asyncio", "ssl", "rich", "rich.console", "yaml",
    "defusedxml", "xml.etree.ElementTree", "xml.parsers.expat", "cryptography",
    "http.server", "http.client", "urllib.request", "email.parser", "docker",
    "ahocorasick_rs", "importlib.metadata", "traceback", "tomllib", "difflib",
    "hardoctor.serve", "hardoctor.setup",
)
#: Never imported even when the machine's own client configuration (a
#: distribution's Maven settings.xml, /etc/pip.conf, a global npmrc) is read.
NEVER_OFFLINE = ("httpx", "httpcore", "h2", "asyncio", "rich.console", "yaml",
                 "cryptography", "http.server", "urllib.request")

_PROBE = """
import atexit, json, sys
def dump():
    real = sorted(m for m, mod in list(sys.modules.items())
                  if mod is not None and type(mod).__name__ != "_LazyModule")
    with open(sys.argv[1], "w") as fh:
        json.dump(real, fh)
atexit.register(dump)
from hardoctor.cli import main
sys.exit(main(sys.argv[2:]))
"""


def imported(tmp_path: Path, path: str, *args: str) -> set[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    out = tmp_path / "modules.json"
    env = {
        "PATH": path,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "plugins")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), "check", "--offline", *args],
        env=env, cwd=str(home), capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return set(json.loads(out.read_text()))


def test_empty_machine_imports_nothing_heavy(tmp_path: Path) -> None:
    """Nothing on PATH but Python, an empty HOME: no client configuration
    at all, so no parser, no probe machinery, no rich for a pipe."""
    mods = imported(tmp_path, os.path.dirname(sys.executable))
    assert not sorted(m for m in HEAVY if m in mods)


def test_machine_configs_import_no_probe_stack(tmp_path: Path) -> None:
    """With this machine's PATH the clients' system-wide files may be read
    (and their parsers imported), but offline never loads the network
    stack, YAML, crypto or rich."""
    mods = imported(tmp_path, os.environ.get("PATH", ""))
    assert not sorted(m for m in NEVER_OFFLINE if m in mods)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_each_offline_format_stays_light(tmp_path: Path, fmt: str) -> None:
    mods = imported(tmp_path, os.path.dirname(sys.executable), "--format", fmt)
    assert not sorted(m for m in ("httpx", "asyncio", "rich.console", "yaml") if m in mods)
