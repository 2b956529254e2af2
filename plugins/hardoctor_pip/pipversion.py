"""Which pip will run, and its version -- from files only, without running it.

It matters for one behaviour: pip before 25.2 vendors requests < 2.32.4,
whose ``get_netrc_auth`` looks up ``netloc.split(":")[0]`` -- for a URL
with a username but no password that is ``user@host``, which matches no
``machine`` entry.  From requests 2.32.4 (CVE-2024-47081) it looks up the
URL's host name.

The ``pip`` that runs is ``$VIRTUAL_ENV/bin/pip`` or the first ``pip`` on
PATH; its shebang names the interpreter, whose ``site-packages`` holds
``pip-<version>.dist-info``.  A pyenv shim is followed through
``PYENV_VERSION``, ``.python-version`` or ``$PYENV_ROOT/version``.
"""

from __future__ import annotations

import glob
import os
import re
import shutil

from hardoctor.context import Context
from hardoctor.files import read_bounded
from hardoctor.stash import StashKey

#: pip's version, found once per run (None: unknown).
VERSION: StashKey[tuple[int, ...] | None] = StashKey("pip.version")
#: From this pip on, .netrc is looked up by host name (requests 2.32.4).
NETRC_BY_HOSTNAME = (25, 2)


def _version_in(prefix: str) -> tuple[int, ...] | None:
    pattern = os.path.join(glob.escape(prefix), "lib", "python3*", "site-packages", "pip-*.dist-info")
    for path in sorted(glob.glob(pattern)):
        m = re.search(r"pip-(\d+)\.(\d+)", os.path.basename(path))
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


def _shebang(path: str) -> str | None:
    first = (read_bounded(path, 512, head=True) or b"").split(b"\n", 1)[0]
    if not first.startswith(b"#!"):
        return None
    parts = first[2:].decode("utf-8", "replace").strip().split()
    if not parts:
        return None
    if os.path.basename(parts[0]) == "env" and len(parts) > 1:
        return parts[1]
    return parts[0]


def _pyenv_prefix(ctx: Context, shim: str) -> str | None:
    root = os.path.dirname(os.path.dirname(shim))
    if not os.path.isdir(os.path.join(root, "versions")):
        return None
    name = (ctx.getenv("PYENV_VERSION") or "").split(":")[0].strip()
    if not name:
        cur = ctx.project
        for _ in range(30):
            candidate = os.path.join(cur, ".python-version")
            if os.path.isfile(candidate):
                name = _first_line(candidate)
                break
            parent = os.path.dirname(cur)
            if parent == cur:
                break
            cur = parent
    if not name:
        name = _first_line(os.path.join(root, "version"))
    if not name or name == "system":
        return None
    return os.path.join(root, "versions", name)


def _first_line(path: str) -> str:
    raw = read_bounded(path, 200, head=True) or b""
    return raw.split(b"\n", 1)[0].decode("utf-8", "replace").strip()


def pip_version(ctx: Context) -> tuple[int, ...] | None:
    return ctx.stash.compute(VERSION, lambda: _detect(ctx))


def _detect(ctx: Context) -> tuple[int, ...] | None:
    venv = ctx.getenv("VIRTUAL_ENV")
    candidates = []
    if venv:
        candidates.append(os.path.join(ctx.env.expand_home(venv), "bin", "pip"))
    for name in ("pip", "pip3"):
        found = shutil.which(name, path=ctx.getenv("PATH"))
        if found:
            candidates.append(found)
    for pip in candidates:
        if not os.path.isfile(pip):
            continue
        interp = _shebang(pip)
        if interp and "python" in os.path.basename(interp):
            prefix = os.path.dirname(os.path.dirname(interp))
            version = _version_in(prefix)
            if version:
                return version
        if os.path.basename(os.path.dirname(pip)) == "shims":
            prefix_ = _pyenv_prefix(ctx, pip)
            if prefix_:
                version = _version_in(prefix_)
                if version:
                    return version
        return None
    return None


def netrc_by_hostname(ctx: Context) -> bool | None:
    """True: this pip looks .netrc up by host name; False: by
    ``netloc.split(":")[0]``; None: unknown."""
    version = pip_version(ctx)
    if version is None:
        return None
    return version >= NETRC_BY_HOSTNAME
