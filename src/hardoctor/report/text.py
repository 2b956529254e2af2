"""The human report: a verdict per registry, then each problem with where,
why and the exact fix.  Plain, stable text when not writing to a terminal."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from hardoctor import __version__
from hardoctor.model import Credential, Finding, Report, Resolution, Severity

if TYPE_CHECKING:
    from hardoctor.context import Context

MARK = {"fail": "✗", "warn": "!", "ok": "✓", "unjudged": "-"}
STYLE = {"fail": "bold red", "warn": "bold yellow", "ok": "bold green", "unjudged": "dim"}
SEV_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
GENERAL = "configuration"



def client_names(ctx: Context) -> dict[str, str]:
    """Display names of every loaded plugin's clients
    (``hardoctor_client_names``); a client without one shows its id."""
    names: dict[str, str] = {}
    if ctx.plugins is not None:
        for _, mapping in ctx.plugins.call("hardoctor_client_names"):
            names.update({str(k): str(v) for k, v in dict(mapping).items()})
    return names


def _verdict(findings: list[Finding], resolutions: list[Resolution] | None = None) -> str:
    if any(f.severity is Severity.ERROR for f in findings):
        return "fail"
    if any(f.severity is Severity.WARNING for f in findings):
        return "warn"
    if resolutions and not any(r.judged for r in resolutions):
        return "unjudged"  # never a ✓ for what nothing checked
    return "ok"


def judged_line(resolutions: list[Resolution], names: dict[str, str]) -> str:
    """``judged: uv (uv.lock); not judged: pip (the project uses uv)``:
    which clients the verdict is about, and why -- shown whenever some
    client of the registry is left out or chosen for a stated reason."""
    if not any(r.judged_because or not r.judged for r in resolutions):
        return ""

    def part(r: Resolution) -> str:
        name = names.get(r.client, r.client)
        return f"{name} ({r.judged_because})" if r.judged_because else name

    yes = list(dict.fromkeys(part(r) for r in resolutions if r.judged))
    no = list(dict.fromkeys(part(r) for r in resolutions if not r.judged))
    out = []
    if yes:
        out.append("judged: " + ", ".join(yes))
    if no:
        out.append("not judged: " + ", ".join(no))
    return "; ".join(out)


class TextReporter:
    def __init__(self, color: bool = False, width: int = 100) -> None:
        self.color = color
        self.width = width

    def render(self, report: Report, ctx: Context) -> str:
        buf = io.StringIO()
        console = Console(
            file=buf,
            width=self.width,
            color_system="standard" if self.color else None,
            force_terminal=self.color,
            no_color=not self.color,
            highlight=False,
            emoji=False,
            soft_wrap=True,
        )
        home = ctx.home
        names = client_names(ctx)
        creds = {c.id: c for c in report.credentials}
        files = sum(1 for s in report.sources if s.kind == "file" and s.exists)
        hosts = {r.target.host for r in report.resolutions}
        probed_urls = {p.url for p in report.probes if p.outcome != "not-probed"}
        probed = {
            r.target.host
            for r in report.resolutions
            if any(u.split("/")[2:3] == [r.target.host] for u in probed_urls if "://" in u)
        } or {u.split("/")[2] for u in probed_urls if "://" in u}
        head = (
            f"hardoctor {__version__} · {files} config file{'s' * (files != 1)} · "
            f"{len(report.credentials)} credential{'s' * (len(report.credentials) != 1)} · "
        )
        if report.offline:
            head += f"{len(hosts)} registr{'ies' if len(hosts) != 1 else 'y'} (offline, not probed)"
        else:
            head += (
                f"{len(probed)} registr{'ies' if len(probed) != 1 else 'y'} probed in "
                f"{report.duration_ms / 1000:.2f} s"
            )
        console.print(escape(head), style="bold" if self.color else None)

        groups: dict[str, list[Finding]] = defaultdict(list)
        for f in report.findings:
            groups[f.registry or GENERAL].append(f)
        res_by_host: dict[str, list[Resolution]] = defaultdict(list)
        for r in report.resolutions:
            res_by_host[r.registry or r.target.host].append(r)
        order = list(dict.fromkeys([*res_by_host, *groups]))
        rank = {"fail": 0, "warn": 1, "ok": 2, "unjudged": 3}
        order.sort(key=lambda k: (
            k == GENERAL, rank[_verdict(groups[k], res_by_host.get(k, []))], k))

        for key in order:
            findings = groups.get(key, [])
            resolutions = res_by_host.get(key, [])
            verdict = _verdict(findings, resolutions)
            clients = " · ".join(
                dict.fromkeys(names.get(r.client, r.client) for r in resolutions)
            )
            console.print()
            line = f"{MARK[verdict]} {escape(key)}"
            if clients:
                line += f"   [dim]{escape(clients)}[/dim]" if self.color else f"   {escape(clients)}"
            console.print(line, style=STYLE[verdict] if self.color else None)
            for r in resolutions:
                console.print("  " + escape(_resolution_line(r, home, names)))
            judged = judged_line(resolutions, names)
            if judged:
                console.print("  " + escape(judged))
            for f in findings:
                self._finding(console, f, creds, home)

        counts = report.counts()
        console.print()
        parts = [
            f"{counts['error']} error{'s' * (counts['error'] != 1)}",
            f"{counts['warning']} warning{'s' * (counts['warning'] != 1)}",
        ]
        if counts["info"]:
            parts.append(f"{counts['info']} info")
        safe = sum(1 for f in report.findings if f.fix and f.fix.applicability.value == "safe")
        unsafe = sum(1 for f in report.findings if f.fix and f.fix.applicability.value == "unsafe")
        if ctx.options.command == "check" and (safe or unsafe):
            extra = f"run `hardoctor fix` to see {safe} safe fix{'es' * (safe != 1)}"
            if unsafe:
                extra += f" (and {unsafe} more with --unsafe)"
            parts.append(extra)
        console.print(escape(" · ".join(parts)))
        return buf.getvalue()

    def _finding(
        self, console: Console, f: Finding, creds: dict[str, Credential], home: str
    ) -> None:
        sev = f.severity
        tag = f"{f.rule} {f.name}" + (f" ({f.cause})" if f.cause else "")
        prefix = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}[sev]
        if self.color:
            console.print(
                f"  [{SEV_STYLE[sev]}]{escape(tag)}[/{SEV_STYLE[sev]}]  {escape(f.message)}"
            )
        else:
            console.print(f"  {prefix}: {escape(tag)}  {escape(f.message)}")
        rows: list[tuple[str, str]] = []
        if f.location is not None:
            where = f.location.display(home)
            if f.location.key and f.location.path:  # without a path, display() is the key
                where += f"  {f.location.key}"
            rows.append(("where", where))
        if f.credential and f.credential in creds:
            rows.append(("uses", credential_line(creds[f.credential], home)))
        if f.why:
            rows.append(("why", f.why))
        for ev in f.evidence:
            rows.append(("seen", ev))
        rem = f.remediation
        if rem is not None:
            rows.append(("fix", rem.summary))
            for i, step in enumerate(rem.steps, 1):
                rows.append(("", f"{i}. {step}"))
            for cmd in rem.commands:
                rows.append(("", f"$ {cmd}"))
            for doc in rem.docs:
                rows.append(("", f"see {doc}"))
        if f.fix is not None:
            flag = "" if f.fix.applicability.value == "safe" else " --unsafe"
            rows.append(
                ("autofix", f"{f.fix.description} ({f.fix.applicability.value}: "
                 f"hardoctor fix{flag} --apply)")
            )
        for label, text in rows:
            console.print(f"    {label:<8}{escape(text)}")


def credential_line(cred: Credential, home: str) -> str:
    loc = cred.location.display(home)
    if cred.location.key and cred.location.path:
        loc += f"  {cred.location.key}"
    parts = [loc]
    if cred.username:
        parts.append(cred.username)
    tok = cred.token
    if tok is not None:
        desc: str = tok.kind
        if tok.account_id:
            desc += f" account {tok.account_id}"
        if tok.fingerprint:
            desc += f" #{tok.fingerprint}"
        parts.append(desc)
    elif cred.secret:
        parts.append(f"#{cred.secret.fingerprint}")
    return "  ".join(parts)


def _resolution_line(r: Resolution, home: str, names: dict[str, str]) -> str:
    client = names.get(r.client, r.client)
    if not r.judged:
        client += " (not judged)"
    if r.credential is None:
        return f"{client}: sends no credentials"
    return f"{client}: uses {credential_line(r.credential, home)}"
