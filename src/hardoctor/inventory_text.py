"""The text table of ``hardoctor tokens``: one row per token (the soonest
expiry first) with every place it is stored under it, fitted to the
terminal width."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from hardoctor.report.wrap import wrap

if TYPE_CHECKING:
    from hardoctor.context import Context

HEAD = f"{'EXPIRES':<10}  {'LEFT':>6}  {'STATUS':<13}  {'FINGERPRINT':<11}  KIND · ACCOUNT"


def _left(days: float | None) -> str:
    if days is None:
        return "-"
    if abs(days) < 1:
        return f"{days * 24:.0f}h"
    return f"{days:.0f}d"


def _status_style(status: str) -> str:
    from hardoctor.inventory import STATUS_STYLE

    return STATUS_STYLE.get(status, "dim")


def render_table(ctx: Context, rows: list[dict[str, Any]]) -> str:
    from hardoctor.output import terminal_width

    width = terminal_width(ctx.env)
    color = bool(ctx.options.color)
    buf = io.StringIO()
    console = Console(file=buf, width=max(width, 200), color_system="standard" if color else None,
                      force_terminal=color, no_color=not color, highlight=False, emoji=False,
                      soft_wrap=True)
    copies = sum(len(r["copies"]) for r in rows)
    for line in wrap(f"{len(rows)} token{'s' * (len(rows) != 1)} in {copies} "
                     f"place{'s' * (copies != 1)} (offline: what the files say)", width):
        console.print(escape(line), style="bold" if color else None)
    if not rows:
        return buf.getvalue()
    for line in wrap(HEAD, width):
        console.print(escape(line), style="bold" if color else None)
    for r in rows:
        console.print()
        date = (r["expires_at"] or "")[:10] or "-"
        fp = f"#{r['fingerprint']}" if r["fingerprint"] else "-"
        kind = r["kind"] + (f" ({r['vendor']})" if r["vendor"] else "")
        if r["account"]:
            kind += f" · {r['account']}"
        status = r["status"]
        cells = f"{date:<10}  {_left(r['days_left']):>6}  {status:<13}  {fp:<11}  "
        lines = wrap(kind, width, cells, " " * len(cells))
        style = _status_style(status)
        for i, line in enumerate(lines):
            if i == 0 and color:
                before, after = line[: 20], line[20 + 13:]
                console.print(f"{escape(before)}[{style}]{escape(status):<13}[/{style}]"
                              f"{escape(after)}")
            else:
                console.print(escape(line))
        if r["expires_at"]:
            for line in wrap(f"expiry from {r['expiry_source']}", width, "  "):
                console.print(escape(line), style="dim" if color else None)
        for c in r["copies"]:
            where = c["location"]["display"]
            clients = ", ".join(c["clients"])
            text = f"{where}  {c['registry']}" + (f"  ({clients})" if clients else "")
            if c["username"] and c["username"] != r["account"]:
                text += f"  user {c['username']}"
            for line in wrap(text, width, "  ", "      "):
                console.print(escape(line))
    return buf.getvalue()
