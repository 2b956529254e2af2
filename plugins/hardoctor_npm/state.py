"""Everything the plugin learns in ``hardoctor_discover``, kept for the
later hooks in ``ctx.stash`` (files are read and parsed once per pass)."""

from __future__ import annotations

import json
import os
import re
import shutil

from hardoctor.context import Context
from hardoctor.files import read_bounded
from hardoctor.model import Resolution
from hardoctor.records import dataclass, field
from hardoctor.stash import StashKey

from . import config, version, yarnrc


@dataclass
class Project:
    """What the project's ``package.json`` and lock files say."""

    dir: str
    package_json: str | None = None
    dependencies: list[str] = field(default_factory=list)
    package_manager: str | None = None
    pnpm_lock: bool = False
    yarn_berry_lock: bool = False
    yarn_classic_lock: bool = False


@dataclass
class State:
    tool: version.NpmTool
    files: config.NpmFiles
    npm: config.Config
    pnpm: config.Config | None
    yarn_files: list[yarnrc.YarnFile]
    yarn: yarnrc.YarnConfig | None
    project: Project
    clients: tuple[str, ...]
    #: source id -> Layer / YarnFile
    sources: dict[str, config.Layer | yarnrc.YarnFile] = field(default_factory=dict)
    #: Registry URLs whose problem a lint finding already explains.
    explained: set[str] = field(default_factory=set)
    #: target -> client -> its resolution (NPM015/NPM036 compare the clients).
    resolutions: dict[str, dict[str, Resolution]] = field(default_factory=dict)
    #: target -> the clients resolved for it, in order (the last one
    #: reports the disagreement).
    order: dict[str, list[str]] = field(default_factory=dict)


#: The pass's state; ``hardoctor_discover`` replaces it on every pass.
KEY: StashKey[State] = StashKey("npm.state")


def _read_project(start: str) -> Project:
    """The nearest package.json upwards (stopping at a git work tree's root)
    and the lock files on the way."""
    proj = Project(start)
    cur = os.path.abspath(start)
    while True:
        pkg = os.path.join(cur, "package.json")
        if proj.package_json is None and os.path.isfile(pkg):
            proj.package_json = pkg
            proj.dir = cur
            _read_package_json(proj, pkg)
        _lock_files(proj, cur)
        if proj.package_json is not None or os.path.isdir(os.path.join(cur, ".git")):
            break
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
    if not proj.pnpm_lock and config.pnpm_workspace_root(proj.dir) is not None:
        proj.pnpm_lock = True  # a member of a pnpm workspace
    return proj


def _read_package_json(proj: Project, pkg: str) -> None:
    raw = read_bounded(pkg)
    try:
        data = json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):
        return
    if not isinstance(data, dict):
        return
    for section in ("dependencies", "devDependencies", "optionalDependencies"):
        deps = data.get(section)
        if not isinstance(deps, dict):
            continue
        for name, spec in deps.items():
            # Only registry dependencies: a file:, git or URL spec never asks a registry.
            if isinstance(name, str) and isinstance(spec, str) and \
                    not re.match(r"^(file|link|workspace|git\+|https?:|github:)", spec):
                proj.dependencies.append(name)
    pm = data.get("packageManager")
    if isinstance(pm, str):
        proj.package_manager = pm


def _lock_files(proj: Project, cur: str) -> None:
    if os.path.isfile(os.path.join(cur, "pnpm-lock.yaml")) or \
            os.path.isfile(os.path.join(cur, "pnpm-workspace.yaml")):
        proj.pnpm_lock = True
    lock = os.path.join(cur, "yarn.lock")
    if not os.path.isfile(lock):
        return
    head = (read_bounded(lock, 4096, head=True) or b"").decode("utf-8", "replace")
    if "__metadata:" in head:
        proj.yarn_berry_lock = True
    else:
        proj.yarn_classic_lock = True


def _uses_yarn_berry(project: Project, files: list[yarnrc.YarnFile]) -> bool:
    pm = project.package_manager or ""
    if pm.startswith("yarn@"):
        major = pm[5:].split(".", 1)[0]
        return major.isdigit() and int(major) >= 2
    return bool(files) or project.yarn_berry_lock


def _uses_pnpm(ctx: Context, project: Project) -> bool:
    if (project.package_manager or "").startswith("pnpm@") or project.pnpm_lock:
        return True
    return shutil.which("pnpm", path=ctx.getenv("PATH")) is not None


def build(ctx: Context) -> State:
    tool = version.detect(ctx)
    files = config.load_files(ctx, tool)
    env = ctx.env.environ
    npm_cfg = config.Config(files, "npm", env, ctx.home)
    project = _read_project(ctx.project)
    yarn_files = yarnrc.find_files(ctx)
    berry = _uses_yarn_berry(project, yarn_files)
    yarn_cfg = yarnrc.load(ctx, yarn_files) if berry else None
    pnpm = _uses_pnpm(ctx, project)
    pnpm_cfg = config.Config(files, "pnpm", env, ctx.home) if pnpm else None
    clients = ["npm"]
    if pnpm:
        clients.append("pnpm")
    if berry:
        clients.append("yarn")
    state = State(tool, files, npm_cfg, pnpm_cfg, yarn_files, yarn_cfg, project, tuple(clients))
    for layer in files.layers:
        state.sources[layer.source_id] = layer
    for yf in yarn_files:
        state.sources[yf.source_id] = yf
    return state


def get(ctx: Context) -> State | None:
    return ctx.stash.get(KEY, None)


def ensure(ctx: Context) -> State:
    return ctx.stash.compute(KEY, lambda: build(ctx))
