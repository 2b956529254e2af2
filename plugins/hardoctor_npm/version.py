"""Which npm is installed, without running it when possible.

The npm package directory (``<prefix>/lib/node_modules/npm``) is found from
the ``npm`` executable on PATH (a symlink to ``.../npm/bin/npm-cli.js`` on
Unix installs); its ``package.json`` has the version and its ``npmrc`` is
npm's *builtin* config layer.  Only when that fails is ``npm --version`` run,
with a timeout.  The answer is cached per run.
"""

from __future__ import annotations

import json
import os
import shutil

from packaging.version import InvalidVersion, Version

from hardoctor.context import Context
from hardoctor.files import read_bounded
from hardoctor.records import dataclass
from hardoctor.stash import StashKey

TIMEOUT_S = 4.0


@dataclass(frozen=True)
class NpmTool:
    #: The ``npm`` executable on PATH, or None.
    binary: str | None = None
    #: npm's own package directory (holds ``npmrc``, the builtin layer).
    package_dir: str | None = None
    version: Version | None = None
    #: How the version was learned (``package.json``, ``npm --version``).
    how: str = ""

    def at_least(self, spec: str) -> bool | None:
        """True/False, or None when the version is unknown."""
        if self.version is None:
            return None
        return self.version >= Version(spec)

    @property
    def display(self) -> str:
        return f"npm {self.version}" if self.version else "npm (version unknown)"


#: Asked once per run: running ``npm --version`` costs a Node start.
TOOL: StashKey[NpmTool] = StashKey("npm.tool")


def _parse(text: str) -> Version | None:
    try:
        return Version(text.strip().splitlines()[0].strip()) if text.strip() else None
    except (InvalidVersion, IndexError):
        return None


def _package_dir(binary: str) -> str | None:
    real = os.path.realpath(binary)
    # .../lib/node_modules/npm/bin/npm-cli.js  (or .../npm/bin/npm)
    candidate = os.path.dirname(os.path.dirname(real))
    if os.path.isfile(os.path.join(candidate, "package.json")):
        return candidate
    prefix = os.path.dirname(os.path.dirname(binary))
    for guess in (os.path.join(prefix, "lib", "node_modules", "npm"),
                  os.path.join(prefix, "node_modules", "npm")):
        if os.path.isfile(os.path.join(guess, "package.json")):
            return guess
    return None


def detect(ctx: Context) -> NpmTool:
    return ctx.stash.compute(TOOL, lambda: _detect(ctx))


def _detect(ctx: Context) -> NpmTool:
    override = ctx.getenv("HARDOCTOR_NPM_VERSION")  # tests: pretend another npm
    binary = shutil.which("npm", path=ctx.getenv("PATH"))
    pkg_dir = _package_dir(binary) if binary else None
    if override:
        return NpmTool(binary, pkg_dir, _parse(override), "HARDOCTOR_NPM_VERSION")
    if binary is None:
        return NpmTool()
    if pkg_dir is not None:
        try:
            raw = read_bounded(os.path.join(pkg_dir, "package.json"))
            data = json.loads(raw) if raw is not None else None
            if isinstance(data, dict) and data.get("name") == "npm":
                version = _parse(str(data.get("version", "")))
                if version is not None:
                    return NpmTool(binary, pkg_dir, version, "package.json")
        except (OSError, ValueError):
            pass
    import subprocess  # here: only when npm's own package.json does not say (start-up)

    try:
        proc = subprocess.run(
            [binary, "--version"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            env={k: v for k, v in ctx.env.environ.items() if k in ("PATH", "HOME", "LANG")},
            check=False,
        )
        version = _parse(proc.stdout) if proc.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        version = None
    return NpmTool(binary, pkg_dir, version, "npm --version" if version else "")
