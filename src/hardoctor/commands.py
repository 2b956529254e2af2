"""The small subcommands (rules, explain, plugins) and the fix flow.

Each returns ``(text, exit status)``; the CLI writes the text (scrubbed)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from hardoctor.model import Applicability, Finding, Fix

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.fixes import Plan
    from hardoctor.model import Report
    from hardoctor.plugins import PluginManager


def rules_command(ctx: Context) -> tuple[str, int]:
    rules = list(ctx.rules)
    if ctx.options.format == "json":
        data = [
            {
                "code": r.code,
                "name": r.name,
                "severity": r.severity.value,
                "cause": r.cause,
                "fix": r.fix.value if r.fix else None,
                "plugin": r.plugin,
                "summary": r.summary,
            }
            for r in rules
        ]
        return json.dumps(data, indent=2) + "\n", 0
    width = max((len(r.name) for r in rules), default=10)
    plug = max((len(r.plugin) for r in rules), default=6)
    from hardoctor.output import terminal_width
    from hardoctor.report.wrap import wrap

    cols = terminal_width(ctx.env)
    narrow = 7 + width + 8 + 6 + plug + 5 > cols  # the columns alone do not fit
    lines = [f"{'CODE':<7} {'NAME':<{width}} {'SEVERITY':<8} {'FIX':<6} {'PLUGIN':<{plug}} SUMMARY"
             if not narrow else "CODE    NAME / SEVERITY · FIX · PLUGIN / SUMMARY"]
    for r in rules:
        fix = r.fix.value if r.fix else "-"
        if narrow:
            lines += [f"{r.code:<7} {r.name}",
                      *wrap(f"{r.severity.value} · fix {fix} · {r.plugin}", cols, " " * 8),
                      *wrap(r.summary, cols, " " * 8)]
            continue
        cells = f"{r.code:<7} {r.name:<{width}} {r.severity.value:<8} {fix:<6} {r.plugin:<{plug}} "
        # The summary wraps under its column, or goes under the code when
        # the columns leave it too little room.
        if cols - len(cells) >= 30:
            lines += wrap(r.summary, cols, cells, " " * len(cells))
        else:
            lines += [cells.rstrip(), *wrap(r.summary, cols, " " * 8)]
    return "\n".join(lines) + "\n", 0


def explain_command(ctx: Context, code: str) -> tuple[str, int]:
    rule = ctx.rules.get(code.strip())
    if rule is None:
        # accept a rule name too (`hardoctor explain auth-not-user-pass`)
        rule = next((r for r in ctx.rules if r.name == code.strip().lower()), None)
    moved = ctx.rules.moved_to(code) if rule is None else None
    if moved is not None:
        return (f"{code.strip().upper()} moved: it is now {moved.code} {moved.name} "
                f"(plugin {moved.plugin}).\n\n" + explain_command(ctx, moved.code)[0], 0)
    if rule is None:
        from hardoctor.errors import UsageError

        raise UsageError(f"unknown rule {code!r} (see `hardoctor rules`)")
    fix = {
        None: "no automatic fix",
        Applicability.SAFE: "safe automatic fix (`hardoctor fix --apply`)",
        Applicability.UNSAFE: "unsafe automatic fix (`hardoctor fix --unsafe --apply`)",
    }[rule.fix]
    head = f"{rule.code} {rule.name}"
    from hardoctor.output import terminal_width
    from hardoctor.report.wrap import wrap

    cols = terminal_width(ctx.env)
    lines = [
        head,
        "=" * len(head),
        "",
        *wrap(rule.summary, cols),
        "",
        *wrap(f"severity: {rule.severity.value}   cause: {rule.cause or '-'}   fix: {fix}   "
              f"plugin: {rule.plugin}", cols),
        "",
        *_wrap_page(rule.explain.rstrip(), cols),
    ]
    return "\n".join(lines) + "\n", 0


def _wrap_page(page: str, cols: int) -> list[str]:
    """A rule page fitted to the width: prose wraps under its own indent;
    the Example section is kept as written (it is a file's text)."""
    from hardoctor.report.wrap import wrap

    out: list[str] = []
    example = False
    for line in page.splitlines():
        if line and not line.startswith(" "):
            example = line.strip() == "Example"
        if example or len(line) <= cols:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out += wrap(line.strip(), cols, indent)
    return out


def plugins_command(ctx: Context) -> tuple[str, int]:
    assert ctx.plugins is not None
    infos = list(ctx.plugins.infos.values())
    problems = ctx.plugins.load_problems
    if ctx.options.format == "json":
        data = {
            "plugins": [
                {
                    "name": i.name,
                    "version": i.version,
                    "builtin": i.builtin,
                    "distribution": i.distribution,
                    "module": i.module,
                    "hooks": i.hooks,
                    "rules": i.rules,
                }
                for i in infos
            ],
            "problems": [{"plugin": n, "message": m} for n, m in problems],
        }
        return json.dumps(data, indent=2) + "\n", 0
    from hardoctor.output import terminal_width
    from hardoctor.report.wrap import wrap

    cols = terminal_width(ctx.env)
    lines = []
    for i in infos:
        origin = "built-in" if i.builtin else f"from {i.distribution or i.module}"
        lines += wrap(f"{i.name} {i.version} ({origin})", cols, "", "    ")
        lines += wrap(", ".join(h.removeprefix("hardoctor_") for h in i.hooks) or "-", cols,
                      "    hooks: ", " " * 11)
        if i.rules:
            lines += wrap(", ".join(sorted(i.rules)), cols, "    rules: ", " " * 11)
    for name, message in problems:
        lines.append(f"! {name}: {message}")
    return "\n".join(lines) + "\n", 0


def selected_fixes(ctx: Context, findings: tuple[Finding, ...]) -> list[tuple[Finding, Fix]]:
    only = ctx.rules.select(ctx.options.only) if ctx.options.only else None
    out = []
    for f in findings:
        if f.fix is None:
            continue
        if only is not None and f.rule not in only:
            continue
        if f.fix.applicability is Applicability.UNSAFE and not ctx.options.unsafe:
            continue
        out.append((f, f.fix))
    return out


#: Passes of fix planning: each pass re-reads the files as the previous one
#: left them (``ctx.overlay``), so fixes whose edits collided converge in one
#: ``fix --apply``.  A bounded number: a plugin whose fixes never settle must
#: not loop forever.
MAX_PASSES = 5


def plan_fixes(ctx: Context, manager: PluginManager) -> tuple[Report, Plan, int]:
    """Run the engine in passes; return (the report of the fixed state, the
    combined plan from the files on disk to the fixed state, unsafe fixes not
    selected)."""
    from hardoctor import engine, fixes

    firsts: dict[str, fixes.FilePlan] = {}
    applied: dict[str, list[Fix]] = {}
    skipped: dict[str, list[fixes.Skipped]] = {}
    report = engine.run(ctx, manager)
    unsafe_left = _unsafe_not_selected(ctx, report)
    for _ in range(MAX_PASSES):
        chosen = [fx for _, fx in selected_fixes(ctx, report.findings)]
        step = fixes.plan(chosen, overlay=ctx.overlay)
        for fp in step.files:
            skipped[fp.target] = list(fp.skipped)
        if not step.changed:
            break
        for fp in step.changed:
            firsts.setdefault(fp.target, fp)
            applied.setdefault(fp.target, []).extend(fp.applied)
            ctx.overlay[fp.target] = (fp.new_text, fp.new_mode)
        report = engine.run(ctx, manager)
    files = []
    for target, first in firsts.items():
        text, mode = ctx.overlay[target]
        files.append(
            fixes.FilePlan(
                first.path, target, first.old_text, text, first.old_mode, mode,
                created=first.created,
                applied=tuple(dict.fromkeys(applied[target])),
                skipped=tuple(s for s in skipped.get(target, []) if s.fix not in applied[target]),
            )
        )
    return report, fixes.Plan(tuple(files)), unsafe_left


def _unsafe_not_selected(ctx: Context, report: Report) -> int:
    return sum(
        1
        for f in report.findings
        if f.fix and f.fix.applicability is Applicability.UNSAFE and not ctx.options.unsafe
    )


def fix_command(ctx: Context, manager: PluginManager) -> int:
    from hardoctor import fixes, redact
    from hardoctor.cli import _write

    report, plan, skipped_unsafe = plan_fixes(ctx, manager)
    diff = redact.scrub(plan.diff())
    changed = plan.changed
    backup_dir = None
    written: list[str] = []
    refused: list[tuple[str, str]] = []
    if ctx.options.apply and changed:
        root = fixes.default_backup_root(ctx.env.environ, ctx.home)
        result = fixes.apply(plan, root, ctx.env.clock)
        written = list(result.written)
        backup_dir = result.backup_dir
        refused = list(result.refused)
    remaining = [f for f in report.findings if f.severity.value in ("error", "warning")]
    if ctx.options.format == "json":
        data = {
            "schema": "hardoctor/fix/v1",
            "applied": bool(ctx.options.apply),
            "files": [
                {
                    "path": e.path,
                    "fixes": [fx.description for fx in e.applied],
                    "skipped": [f"{s.fix.description}: {s.why}" for s in e.skipped],
                    "changed": e.changed,
                }
                for e in plan.files
            ],
            "diff": diff,
            "written": written,
            "refused": [{"path": p, "reason": why} for p, why in refused],
            "backup": backup_dir,
            "unsafe_not_selected": skipped_unsafe,
            "remaining": [f.rule for f in remaining],
        }
        from hardoctor.report import scrub_values

        _write(ctx, json.dumps(scrub_values(data), indent=2) + "\n", scrubbed=True)
    else:
        lines: list[str] = []
        if diff:
            lines += [diff.rstrip("\n"), ""]
        for e in plan.files:
            for s in e.skipped:
                lines.append(f"skipped: {ctx.display_path(e.path)}: {s.fix.description}: {s.why}")
        for path, why in refused:
            lines.append(f"not written: {ctx.display_path(path)}: {why}")
        if not changed:
            lines.append("Nothing to fix.")
        elif ctx.options.apply and written:
            lines.append(
                f"Fixed {len(written)} file{'s' * (len(written) != 1)}; originals saved in "
                f"{ctx.display_path(backup_dir)} (undo with `hardoctor fix --undo`)."
            )
        elif not ctx.options.apply:
            n = len(plan.applied)
            lines.append(
                f"{n} fix{'es' * (n != 1)} in {len(changed)} file{'s' * (len(changed) != 1)} "
                "would be applied; run again with --apply to write them."
            )
        if skipped_unsafe:
            lines.append(
                f"{skipped_unsafe} unsafe fix{'es' * (skipped_unsafe != 1)} not selected (add --unsafe)."
            )
        if remaining:
            lines.append(
                f"{len(remaining)} problem{'s remain' if len(remaining) != 1 else ' remains'} after these fixes: "
                "see `hardoctor check`."
            )
        from hardoctor.output import terminal_width
        from hardoctor.report.wrap import wrap

        cols, start = terminal_width(ctx.env), 2 if diff else 0  # the diff is the files' text
        lines[start:] = [w for line in lines[start:] for w in (wrap(line, cols, "", "  ") or [""])]
        _write(ctx, "\n".join(lines) + "\n")
    if refused:
        return 2
    if ctx.options.apply:
        return 0
    return 1 if changed else 0


def undo_command(ctx: Context) -> tuple[str, int]:
    from hardoctor import fixes

    root = fixes.default_backup_root(ctx.env.environ, ctx.home)
    result = fixes.undo(root)
    if not result.restored and not result.refused:
        return "Nothing to undo.\n", 0
    lines = [f"restored {ctx.display_path(p)}" for p in result.restored]
    lines += [f"refused {ctx.display_path(p)}: {why}" for p, why in result.refused]
    return "\n".join(lines) + "\n", 1 if result.refused else 0
