"""Which Python package clients the person uses: only those are judged.

A project says it outright (verified with uv 0.13, Poetry 2.5, pip 25):

* ``uv.lock``, ``uv.toml`` or ``[tool.uv]`` in ``pyproject.toml`` -> uv;
* ``poetry.lock`` or ``[tool.poetry]`` -> Poetry;
* ``pdm.lock`` -> PDM (not modelled: the others are then not judged);
* a requirements file with ``--index-url`` lines -> ``pip -r FILE``.

Without a project that says so, the clients that are configured (pip.conf
or ``PIP_*``, uv's or Poetry's own files and variables) are judged; with
nothing configured at all, the clients on ``PATH`` (pip when none is).
A target spelled ``uv:NAME`` or ``poetry:NAME`` names its client
(``pip:NAME`` is the ecosystem's generic spelling); ``--client`` (the core)
overrides everything.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace

from hardoctor import lazyre
from hardoctor.context import Context
from hardoctor.files import read_file
from hardoctor.model import Resolution, Target

from .model import Model
from .sources import walk_up

#: ``pip:`` (like ``pypi:``/``python:``) is the ecosystem's spelling: the
#: project decides; ``uv:`` and ``poetry:`` name the client.
_TARGET = lazyre.compile(r"^(uv|poetry):", re.I)
LOCKS = (("uv.lock", "uv"), ("poetry.lock", "poetry"), ("pdm.lock", "pdm"))


def _project_root(ctx: Context) -> str | None:
    """The nearest folder (from the project up) with a pyproject.toml or a
    lock file: the project the client runs in."""
    for folder in walk_up(ctx.project, ctx.home)[:8]:
        if any(os.path.isfile(os.path.join(folder, n))
               for n in ("pyproject.toml", "uv.lock", "poetry.lock", "pdm.lock", "uv.toml")):
            return folder
        if folder == ctx.home:
            break
    return None


def project_clients(ctx: Context, model: Model) -> dict[str, str]:
    """client -> the file that says the project uses it."""
    out: dict[str, str] = {}
    root = _project_root(ctx)
    if root is not None:
        for name, client in LOCKS:
            if os.path.isfile(os.path.join(root, name)):
                out.setdefault(client, name)
        if os.path.isfile(os.path.join(root, "uv.toml")):
            out.setdefault("uv", "uv.toml")
        data = read_file(ctx, os.path.join(root, "pyproject.toml"))
        text = data.text if data is not None and data.text is not None else ""
        if re.search(r"^\s*\[\[?\s*tool\s*\.\s*uv\b", text, re.M):
            out.setdefault("uv", "[tool.uv] in pyproject.toml")
        if re.search(r"^\s*\[\[?\s*tool\s*\.\s*poetry\b", text, re.M):
            out.setdefault("poetry", "[tool.poetry] in pyproject.toml")
    for rf in model.requirements:
        if rf.refs:
            rel = os.path.relpath(rf.path, ctx.project)
            out.setdefault(rf.refs[0].client, rel)
    return out


def configured_clients(model: Model) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in ("index-url", "extra-index-url"):
        win = model.pip.winner(name)
        if win is not None:
            out.setdefault("pip", win.key if win.path is None else os.path.basename(win.path))
    if model.uv.active:
        out["uv"] = "uv configuration"
    if model.poetry.active:
        out["poetry"] = "Poetry configuration"
    return out


def on_path(ctx: Context) -> dict[str, str]:
    path = ctx.getenv("PATH") or ""
    return {c: "on PATH" for c in ("pip", "uv", "poetry")
            if shutil.which(c, path=path) is not None}


def in_use(ctx: Context, model: Model) -> tuple[dict[str, str], str]:
    """The judged clients (client -> why), and why the others are not."""
    project = project_clients(ctx, model)
    if project:
        names = ", ".join(f"{c} ({why})" for c, why in project.items())
        return project, f"the project uses {names}"
    configured = configured_clients(model)
    if configured:
        return configured, "not configured here"
    found = on_path(ctx) or {"pip": "pip's defaults"}
    return found, "not on PATH"


def judge(ctx: Context, model: Model, target: Target, out: list[Resolution]) -> list[Resolution]:
    m = _TARGET.match(target.raw.strip())
    if m is not None:
        named = m.group(1).lower()
        return [replace(r, judged=_base(r.client) == named,
                        judged_because=f"the target names {named}") for r in out]
    used, other = in_use(ctx, model)
    result = []
    for r in out:
        why = used.get(r.client)
        if why is None and r.client.startswith("pip -r "):
            why = used.get("pip")
        result.append(replace(r, judged=why is not None, judged_because=why or other))
    return result


def _base(client: str) -> str:
    return client.split(" ", 1)[0]
