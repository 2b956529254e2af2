"""Which of npm, pnpm and Yarn Berry the person uses: only those are judged.

The project says it (verified with npm 10/11, pnpm 12.23 and Yarn 4.18):
``packageManager`` in package.json (Corepack's field: ``yarn@4.x`` means
Yarn Berry, ``pnpm@...``, ``npm@...``), then the lock files
(``pnpm-lock.yaml``/``pnpm-workspace.yaml``; a Berry ``yarn.lock`` -- it
has ``__metadata:``; ``package-lock.json``/``npm-shrinkwrap.json``) and a
project ``.yarnrc.yml``.  Without a project that says so, npm and
(with a ``.yarnrc.yml``) Yarn Berry are judged; pnpm, found only on PATH, is
shown but not judged.  A target spelled ``pnpm:NAME`` or
``yarn:NAME`` names its client; ``--client`` (the core) overrides all.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace

from hardoctor import lazyre
from hardoctor.model import Resolution, Target

from .state import State

_TARGET = lazyre.compile(r"^(npm|pnpm|yarn):", re.I)


def project_clients(st: State) -> dict[str, str]:
    """client -> what in the project says it is used."""
    proj = st.project
    out: dict[str, str] = {}
    pm = (proj.package_manager or "").strip()
    if pm:
        name, _, ver = pm.partition("@")
        major = ver.split(".", 1)[0]
        if name == "yarn" and major.isdigit() and int(major) >= 2:
            out["yarn"] = f'"packageManager": "{pm}"'
        elif name in ("npm", "pnpm"):
            out[name] = f'"packageManager": "{pm}"'
        if out:
            return out  # Corepack runs exactly this one
    if proj.pnpm_lock:
        out["pnpm"] = "pnpm-lock.yaml"
    if proj.yarn_berry_lock:
        out["yarn"] = "yarn.lock"
    if any(os.path.isfile(os.path.join(proj.dir, n))
           for n in ("package-lock.json", "npm-shrinkwrap.json")):
        out["npm"] = "package-lock.json"
    if "yarn" not in out and proj.package_json is not None:
        for f in st.yarn_files:
            if os.path.dirname(os.path.abspath(f.path)) == os.path.abspath(proj.dir):
                out["yarn"] = ".yarnrc.yml"
    return out


def judge(st: State, target: Target, out: list[Resolution]) -> list[Resolution]:
    m = _TARGET.match(target.raw.strip())
    if m is not None and m.group(1).lower() != "npm":
        named = m.group(1).lower()
        return [replace(r, judged=r.client == named, judged_because=f"the target names {named}")
                for r in out]
    used = project_clients(st)
    if not used:
        # Nothing in the project names a client: npm (and Yarn Berry when a
        # .yarnrc.yml configures it) are judged; pnpm, found on PATH only,
        # is shown -- it would turn a pure npm project's errors into errors.
        because = ("pnpm is on PATH, but the project has no pnpm-lock.yaml, "
                   "pnpm-workspace.yaml or packageManager: pnpm")
        return [replace(r, judged=False, judged_because=because) if r.client == "pnpm" else r
                for r in out]
    names = ", ".join(f"{c} ({why})" for c, why in used.items())
    return [replace(r, judged=r.client in used,
                    judged_because=used.get(r.client) or f"the project uses {names}")
            for r in out]
