"""``hardoctor config``: every setting of a command, its effective value and
where that value came from (command line, environment, project config,
user config, default)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hardoctor.errors import UsageError

if TYPE_CHECKING:
    from hardoctor.context import Context


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        out: list[Any] = []
        for v in value:
            out.extend(_plain(v) if isinstance(v, (list, tuple)) else [v])
        return out
    return value


def config_command(ctx: Context, commands: Mapping[str, argparse.ArgumentParser],
                   command: str) -> tuple[str, int]:
    from hardoctor.config import CONFIGURED_COMMANDS, configure, user_config_path

    if command not in CONFIGURED_COMMANDS or command not in commands:
        raise UsageError(f"argument --for: choose from {', '.join(CONFIGURED_COMMANDS)}")
    ns = commands[command].parse_args([])
    ns.project = ctx.options.project
    ns.command = command
    resolved = configure(commands, command, ns, [], ctx.env.environ, ctx.home, ctx.env.cwd)
    assert resolved is not None
    home = ctx.home
    from hardoctor.cliopts import options_from_args

    opts = options_from_args(ns, ctx.env)
    effective = {"fail-on": opts.fail_on, "timeout": opts.timeout, "format": opts.format,
                 "expiry-warning": opts.expiry_warning_days, "scope": opts.scope,
                 "offline": opts.offline}
    rows = []
    for key in sorted(resolved.values):
        origin = resolved.origins[key]
        env_value = ctx.env.environ.get(origin.env or "") if origin.kind == "env" else None
        value = env_value if env_value is not None else _plain(resolved.values[key])
        if key in effective and origin.kind != "env":
            value = effective[key]
        rows.append({"key": key, "value": value, "origin": origin.kind,
                     "where": origin.describe(home), "line": origin.line, "path": origin.path})
    files = [{"kind": layer.kind, "path": layer.path} for layer in resolved.layers]
    if ctx.options.format == "json":
        data = {"schema": "hardoctor/config/v1", "command": command, "files": files,
                "user_config": user_config_path(ctx.env.environ, home), "settings": rows}
        return json.dumps(data, indent=2) + "\n", 0
    from hardoctor.output import terminal_width
    from hardoctor.report.wrap import wrap

    cols = terminal_width(ctx.env)
    lines = [f"settings of `hardoctor {command}`"]
    lines += wrap("config files: " + (", ".join(
        f"{f['kind']} {ctx.display_path(f['path'])}" for f in files) or "none")
        + f" (user config: {ctx.display_path(user_config_path(ctx.env.environ, home))})",
        cols, "", "  ")
    width = max((len(str(r["key"])) for r in rows), default=10)
    for r in rows:
        value = r["value"]
        shown = ("[" + ", ".join(map(str, value)) + "]") if isinstance(value, list) else (
            "-" if value is None else str(value).lower() if isinstance(value, bool) else str(value))
        lines += wrap(f"{shown:<16}  {r['where']}", cols, f"  {r['key']:<{width}}  ",
                      " " * (width + 6))
    return "\n".join(lines) + "\n", 0
