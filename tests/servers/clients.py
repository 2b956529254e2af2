"""The real package clients of the client tests (``tests/test_clients_*.py``),
installed by ``scripts/install-clients-deps.sh`` at the versions
docs/clients.md names: uv, Poetry and twine in one venv, pnpm and Yarn Berry
in one npm folder, podman and buildah from Debian.

Each finder returns an argv prefix or raises :class:`MissingBinaryError`
(tests turn that into ``server_missing``: a skip locally, a failure on CI).
"""

from __future__ import annotations

import os
import shutil

from .util import MissingBinaryError

CLIENTS_VENV = os.environ.get("HARDOCTOR_CLIENTS_VENV", "/opt/hardoctor-test/clients-venv")
CLIENTS_NPM = os.environ.get("HARDOCTOR_CLIENTS_NPM", "/opt/hardoctor-test/clients-npm")
HINT = "run scripts/install-clients-deps.sh"


def _venv_bin(name: str) -> list[str]:
    path = os.path.join(CLIENTS_VENV, "bin", name)
    if not os.access(path, os.X_OK):
        raise MissingBinaryError(f"{name} not found at {path}; {HINT}")
    return [path]


def uv() -> list[str]:
    return _venv_bin("uv")


def poetry() -> list[str]:
    return _venv_bin("poetry")


def twine() -> list[str]:
    return _venv_bin("twine")


def pnpm() -> list[str]:
    path = os.path.join(CLIENTS_NPM, "node_modules", "pnpm", "bin", "pnpm.mjs")
    node = shutil.which("node")
    if node is None or not os.path.isfile(path):
        raise MissingBinaryError(f"pnpm not found at {path}; {HINT}")
    return [node, path]


def yarn() -> list[str]:
    path = os.path.join(CLIENTS_NPM, "node_modules", "@yarnpkg", "cli-dist", "bin", "yarn.js")
    node = shutil.which("node")
    if node is None or not os.path.isfile(path):
        raise MissingBinaryError(f"Yarn Berry not found at {path}; {HINT}")
    return [node, path]


def system(name: str) -> list[str]:
    """``podman`` or ``buildah`` (Debian)."""
    path = shutil.which(name)
    if path is None:
        raise MissingBinaryError(f"{name} not found on PATH; {HINT}")
    return [path]
