"""Asking the keyring -- only when the person passed ``--keyring``.

pip's ``subprocess`` provider runs ``keyring get SERVICE USERNAME`` and
takes stdout as the password; it asks for the index URL first, then for
the host.  hardoctor does the same with the ``keyring`` found on the
client's PATH: stdin closed, a short timeout, output capped, stderr never
shown (it may quote what it was given).
"""

from __future__ import annotations

import os
import shutil
import subprocess

from hardoctor import redact
from hardoctor.context import Context
from hardoctor.model import Secret
from hardoctor.records import dataclass
from hardoctor.stash import StashKey

from .rules import KEYRING_OPTION as OPTION

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Answer:
    status: str  # ok | not-found | missing | failed | timeout | off
    password: Secret | None = None
    service: str = ""
    detail: str = ""


def enabled(ctx: Context) -> bool:
    return bool(ctx.options.extra.get(OPTION))


def binary(ctx: Context) -> str | None:
    return shutil.which("keyring", path=ctx.getenv("PATH"))


#: (service, username) -> the keyring's answer: each is asked once per run.
ANSWERS: StashKey[dict[tuple[str, str], Answer]] = StashKey("pip.keyring")


def _env(ctx: Context) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS",
            "XDG_CONFIG_HOME", "XDG_DATA_HOME", "PYTHON_KEYRING_BACKEND", "KEYRING_PROPERTY_BACKEND")
    env = {k: v for k, v in ctx.env.environ.items() if k in keep}
    env["HOME"] = ctx.home
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def get(ctx: Context, service: str, username: str) -> Answer:
    """``keyring get SERVICE USERNAME`` (cached per run)."""
    cache = ctx.stash.setdefault(ANSWERS, {})
    key = (service, username)
    if key in cache:
        return cache[key]
    if not enabled(ctx):
        answer = Answer("off", service=service)
    else:
        exe = binary(ctx)
        if exe is None:
            answer = Answer("missing", service=service, detail="no `keyring` command on PATH")
        else:
            answer = _run(ctx, exe, service, username)
    cache[key] = answer
    return answer


def _run(ctx: Context, exe: str, service: str, username: str) -> Answer:
    try:
        proc = subprocess.run(
            [exe, "get", service, username],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=_env(ctx),
            timeout=TIMEOUT_S,
            check=False,
            cwd=ctx.home if os.path.isdir(ctx.home) else None,
        )
    except subprocess.TimeoutExpired:
        return Answer("timeout", service=service,
                      detail=f"`keyring get` did not answer within {TIMEOUT_S:g} s (a locked keychain?)")
    except OSError as exc:
        return Answer("failed", service=service, detail=f"cannot run keyring ({exc.strerror})")
    out = proc.stdout[:4096].decode("utf-8", "replace").rstrip("\r\n")
    if proc.returncode != 0 or not out:
        return Answer("not-found", service=service,
                      detail=f"the keyring has no password for {service!r} and that username")
    redact.register(out)
    return Answer("ok", Secret(out), service=service)
