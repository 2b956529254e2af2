"""``--format github``: GitHub Actions workflow commands, one per finding.

    ::error file=.npmrc,line=2,col=1,title=NPM010 token-in-project-npmrc::message%0AWhy: ...

``::error`` / ``::warning`` / ``::notice`` (for info findings), so each
finding becomes an inline annotation on the file and line in a pull request.
``file`` is relative to the repository (``$GITHUB_WORKSPACE``, else the
project directory) when the file is inside it, else absolute; a finding
that is not about a file has no ``file``.  The output ends with one plain
summary line.

Escaping follows the Actions toolkit (``@actions/core``): data ``%`` ->
``%25``, CR -> ``%0D``, LF -> ``%0A``; property values also ``:`` -> ``%3A``
and ``,`` -> ``%2C``.  A value is scrubbed of secrets *before* it is escaped
(an escaped secret would no longer match), so the CLI must not scrub the
text again (``scrubbed = True``).  GitHub shows at most 10 annotations of
each kind per step; the rest are still in the log.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from hardoctor import __version__
from hardoctor.model import Finding, Report, Severity
from hardoctor.report.sarif import relative

if TYPE_CHECKING:
    from hardoctor.context import Context

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _scrub(text: str) -> str:
    from hardoctor import redact

    return redact.scrub(text)


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _root(ctx: Context) -> str:
    """What annotation paths are relative to: the checkout when running in
    GitHub Actions and the project is inside it, else the project."""
    project = os.path.abspath(ctx.project)
    workspace = ctx.getenv("GITHUB_WORKSPACE")
    if workspace and relative(project, workspace) is not None:
        return os.path.abspath(workspace)
    return project


def _file(f: Finding, ctx: Context, root: str) -> str | None:
    loc = f.location
    if loc is None or not loc.path or loc.path.startswith("<"):
        return None
    path = os.path.normpath(os.path.join(os.path.abspath(ctx.project), loc.path))
    rel = relative(path, root)
    return path if rel is None else rel


def _message(f: Finding) -> str:
    lines = [f.message.rstrip()]
    if f.location is not None and f.location.key:
        lines.append(f"Where: {f.location.key}")
    if f.why:
        lines.append(f"Why: {f.why.rstrip()}")
    rem = f.remediation
    if rem is not None:
        if rem.summary:
            lines.append(f"Fix: {rem.summary.rstrip()}")
        lines += [f"  $ {cmd}" for cmd in rem.commands]
    if f.fix is not None:
        flag = " --unsafe" if f.fix.applicability.value == "unsafe" else ""
        lines.append(f"Autofix: {f.fix.description} (hardoctor fix{flag} --apply)")
    return "\n".join(lines)


def annotation(f: Finding, ctx: Context, root: str | None = None) -> str:
    """One workflow command for ``f`` (without the trailing newline)."""
    props: list[tuple[str, str]] = []
    path = _file(f, ctx, root if root is not None else _root(ctx))
    if path is not None:
        props.append(("file", path))
        if f.location is not None and f.location.line and f.location.line > 0:
            props.append(("line", str(f.location.line)))
            if f.location.column and f.location.column > 0:
                props.append(("col", str(f.location.column)))
    props.append(("title", f"{f.rule} {f.name}"))
    head = ",".join(f"{k}={escape_property(_scrub(v))}" for k, v in props)
    return f"::{COMMAND[f.severity]} {head}::{escape_data(_scrub(_message(f)))}"


def summary(report: Report) -> str:
    c = report.counts()

    def n(count: int, word: str) -> str:
        return f"{count} {word}{'s' * (count != 1)}"

    verdict = {"fail": "failed", "warn": "passed with warnings", "ok": "passed"}[report.status]
    return (f"hardoctor {__version__}: {verdict} · {n(c['error'], 'error')} · "
            f"{n(c['warning'], 'warning')} · {c['info']} info")


class GithubReporter:
    #: Values are scrubbed before escaping (see the module docstring).
    scrubbed = True

    def render(self, report: Report, ctx: Context) -> str:
        root = _root(ctx)
        lines = [annotation(f, ctx, root) for f in report.findings]
        lines.append(summary(report))
        return "\n".join(lines) + "\n"
