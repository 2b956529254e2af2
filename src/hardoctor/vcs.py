"""Is a file committed?  ``git ls-files --error-unmatch`` with a timeout.

Shared by every plugin that warns about a committed secret; git is run with
the prompt off, stdin closed and a short timeout, and ``safe.directory``
set on the command line so a repository owned by another user is still
answered (reading the index is all it does).
"""

from __future__ import annotations

import os
import shutil

from hardoctor.context import Context
from hardoctor.stash import StashKey

TRACKED: StashKey[dict[str, bool | None]] = StashKey("vcs.tracked")
FILES: StashKey[tuple[str, ...]] = StashKey("vcs.files")
TIMEOUT_S = 3.0
#: ``git ls-files`` output read at most (a huge monorepo is cut, not waited for).
MAX_LISTING = 32 * 1024 * 1024


def work_tree(path: str) -> str | None:
    """The nearest ancestor holding ``.git`` (a directory or a gitfile)."""
    cur = os.path.dirname(os.path.abspath(path))
    for _ in range(64):
        if os.path.exists(os.path.join(cur, ".git")):
            return cur
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent
    return None


def tracked(ctx: Context, path: str) -> bool | None:
    """True: tracked by git; False: not tracked (or no work tree); None:
    inside a work tree but git could not say (not installed, timed out)."""
    cache = ctx.stash.setdefault(TRACKED, {})
    if path in cache:
        return cache[path]
    cache[path] = answer = _ask(ctx, path)
    return answer


def repository_files(ctx: Context) -> tuple[str, ...]:
    """Every file git tracks (or has staged) under the project directory,
    as absolute paths; empty outside a work tree or when git cannot say.
    What a plugin looks through for credential files committed anywhere in
    the repository (a nested ``pip.conf``, ``tools/ci/.docker/config.json``)."""
    found = ctx.stash.get(FILES, None)
    if found is None:
        found = ctx.stash[FILES] = _list(ctx, ctx.project)
    return found


def _git_env(ctx: Context) -> dict[str, str]:
    return {
        "PATH": ctx.getenv("PATH") or os.defpath,
        "HOME": ctx.home,
        "LANG": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
    }


def _list(ctx: Context, project: str) -> tuple[str, ...]:
    if not os.path.isdir(project) or work_tree(os.path.join(project, "-")) is None:
        return ()
    git = shutil.which("git", path=ctx.getenv("PATH"))
    if git is None:
        return ()
    import subprocess  # here: outside a work tree no process is spawned (start-up)

    try:
        proc = subprocess.run(
            [git, "-c", "safe.directory=*", "-C", project, "ls-files", "-z", "--cached"],
            stdin=subprocess.DEVNULL, capture_output=True, env=_git_env(ctx),
            timeout=TIMEOUT_S * 3, check=False,
        )
    except (subprocess.TimeoutExpired, OSError):
        return ()
    if proc.returncode != 0:
        return ()
    names = proc.stdout[:MAX_LISTING].decode("utf-8", "surrogateescape").split("\0")
    return tuple(dict.fromkeys(os.path.join(project, n) for n in names if n))


def _ask(ctx: Context, path: str) -> bool | None:
    top = work_tree(path)
    if top is None:
        return False
    git = shutil.which("git", path=ctx.getenv("PATH"))
    if git is None:
        return None
    import subprocess  # here: outside a work tree no process is spawned (start-up)

    env = _git_env(ctx)
    try:
        proc = subprocess.run(
            [git, "-c", "safe.directory=*", "-C", os.path.dirname(os.path.abspath(path)),
             "ls-files", "--error-unmatch", "--", os.path.basename(path)],
            stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=TIMEOUT_S, check=False,
        )
    except (subprocess.TimeoutExpired, OSError):
        return None
    if proc.returncode == 0:
        return True
    if proc.returncode == 1:
        return False
    return None
