"""Options from the parsed command line: each flag with its environment
twin applied (flags > environment; config files were applied to the
namespace before, see :mod:`hardoctor.config`)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hardoctor.cliargs import nonneg_float as _nonneg_float
from hardoctor.cliargs import positive_float as _positive_float
from hardoctor.errors import UsageError

if TYPE_CHECKING:
    from hardoctor.context import Options
    from hardoctor.env import Environment


def env_bool(environ: Any, name: str) -> bool:
    return str(environ.get(name, "")).strip().lower() in {"1", "true", "yes", "on"}


def _strings(ns: argparse.Namespace, name: str) -> tuple[str, ...]:
    """A repeatable option's values.  argparse turns `--opt=--` into an empty
    list instead of a string; every value must be a non-empty string."""
    out = []
    for value in getattr(ns, name, None) or []:
        if not isinstance(value, str) or not value.strip():
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"argument {flag}: expected a non-empty value")
        out.append(value)
    return tuple(out)


def _project(value: str | None, env: Environment) -> str | None:
    """``--project DIR`` must be an existing directory: a typo would
    otherwise check nothing and pass a CI gate."""
    if value is None:
        return None
    path = os.path.join(env.cwd, os.path.expanduser(value))
    if not os.path.isdir(path):
        what = "does not exist" if not os.path.exists(path) else "is not a directory"
        raise UsageError(f"argument --project: {value!r} {what} (expected a directory)")
    return value


def _scope(ns: argparse.Namespace, environ: Any) -> str:
    scope = getattr(ns, "scope", None) or environ.get("HARDOCTOR_SCOPE") or "all"
    if scope not in ("all", "project"):
        raise UsageError(f"HARDOCTOR_SCOPE={scope!r}: choose all or project")
    return str(scope)


def options_from_args(ns: argparse.Namespace, env: Environment) -> Options:
    from hardoctor.context import Options

    e = env.environ
    known = {
        "command", "targets", "registry", "ecosystem", "project", "offline", "timeout", "push",
        "expiry_warning", "fail_on", "format",
        "output", "no_color", "debug", "disable_plugin", "apply", "unsafe", "only", "undo",
        "code", "version", "token_stdin", "scope", "client",
        "color", "verbose", "quiet", "select", "ignore", "extend_ignore", "shell", "config_command",
    }
    extra = {k: v for k, v in vars(ns).items() if k not in known}

    def env_float(name: str, default: float, check: Callable[[str], float]) -> float:
        raw = e.get(name)
        if raw in (None, ""):
            return default
        try:
            return check(str(raw))
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"{name}: {exc}") from None

    fmt = getattr(ns, "format", None) or e.get("HARDOCTOR_FORMAT") or "text"
    fail_on = getattr(ns, "fail_on", None) or e.get("HARDOCTOR_FAIL_ON") or "error"
    if fail_on not in ("error", "warning", "never"):
        raise UsageError(f"HARDOCTOR_FAIL_ON={fail_on!r}: choose error, warning or never")
    timeout = getattr(ns, "timeout", None) or env_float("HARDOCTOR_TIMEOUT", 5.0, _positive_float)
    expiry = getattr(ns, "expiry_warning", None)
    if expiry is None:
        expiry = env_float("HARDOCTOR_EXPIRY_WARNING", 7.0, _nonneg_float)
    disabled = [d.strip() for d in (e.get("HARDOCTOR_DISABLE_PLUGINS") or "").split(",") if d.strip()]
    disabled += list(_strings(ns, "disable_plugin"))
    from hardoctor.cliargs import flat_codes
    from hardoctor.output import color_wanted

    color = color_wanted(ns, env)
    ecosystems = tuple(x.strip().lower() for x in _strings(ns, "ecosystem"))
    offline = bool(getattr(ns, "offline", False)) or env_bool(e, "HARDOCTOR_OFFLINE")
    return Options(
        command=ns.command,
        targets=_strings(ns, "targets"),
        format=fmt,
        output=getattr(ns, "output", None),
        fail_on=fail_on,
        timeout=timeout,
        offline=offline,
        debug=bool(getattr(ns, "debug", False)) or env_bool(e, "HARDOCTOR_DEBUG"),
        color=color,
        ecosystems=ecosystems,
        registries=_strings(ns, "registry"),
        project=_project(getattr(ns, "project", None), env),
        scope=_scope(ns, e),
        expiry_warning_days=expiry,
        push=bool(getattr(ns, "push", False)),
        apply=bool(getattr(ns, "apply", False)),
        unsafe=bool(getattr(ns, "unsafe", False)),
        only=_strings(ns, "only"),
        disabled_plugins=tuple(disabled),
        clients=tuple(x.strip().lower() for x in _strings(ns, "client")),
        select=flat_codes(getattr(ns, "select", None)),
        ignore=flat_codes([*(getattr(ns, "ignore", None) or []),
                           *(getattr(ns, "extend_ignore", None) or [])]),
        verbose=-1 if getattr(ns, "quiet", False) else int(getattr(ns, "verbose", 0) or 0),
        extra=extra,
    )
