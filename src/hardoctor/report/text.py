"""The human report: a verdict per registry, then each problem with where,
why and the exact fix.  Plain, stable text when not writing to a terminal."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from hardoctor import __version__, lazyre
from hardoctor.model import ChainStep, Credential, Finding, Report, Resolution, Severity
from hardoctor.report.wrap import command_lines, wrap

if TYPE_CHECKING:
    from rich.console import Console

    from hardoctor.context import Context

MARK = {"fail": "✗", "warn": "!", "ok": "✓", "unjudged": "-"}
STYLE = {"fail": "bold red", "warn": "bold yellow", "ok": "bold green", "unjudged": "dim"}
SEV_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
GENERAL = "configuration"

#: rich's markup tags (``rich.markup``): ``[style]``, escaped as ``\\[style]``.
_TAGS = lazyre.compile(r"((\\*)\[([a-z#/@][^[]*?)])")
#: The control characters rich drops from printed text.
_CONTROL = dict.fromkeys((7, 8, 11, 12, 13))


def escape(markup: str) -> str:
    """``rich.markup.escape``, without importing rich (plain output never does)."""
    markup = _TAGS.sub(lambda m: f"{m.group(2)}{m.group(2)}\\{m.group(1)[len(m.group(2)):]}",
                       markup)
    if markup.endswith("\\") and not markup.endswith("\\\\"):
        return markup + "\\"
    return markup


class _PlainConsole:
    """What a colourless rich ``Console`` prints, for output that is not a
    terminal: the text of the markup (escapes resolved, tags dropped),
    rich's control characters removed, tabs expanded -- without importing
    rich (start-up)."""

    def __init__(self, file: io.StringIO) -> None:
        self.file = file

    def print(self, markup: str = "", style: str | None = None) -> None:
        out: list[str] = []
        pos = 0
        for m in _TAGS.finditer(markup):
            full, escapes, _ = m.groups()
            start, end = m.span()
            out.append(markup[pos:start])
            backslashes, escaped = divmod(len(escapes), 2)
            out.append("\\" * backslashes)
            if escaped:
                out.append(full[len(escapes):])
            pos = end
        out.append(markup[pos:])
        self.file.write("".join(out).translate(_CONTROL).expandtabs(8) + "\n")



def client_names(ctx: Context) -> dict[str, str]:
    """Display names of every loaded plugin's clients
    (``hardoctor_client_names``); a client without one shows its id."""
    names: dict[str, str] = {}
    if ctx.plugins is not None:
        for _, mapping in ctx.plugins.call("hardoctor_client_names"):
            names.update({str(k): str(v) for k, v in dict(mapping).items()})
    return names


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


def _esc(line: str) -> str:
    """``escape`` for one printed line; a final ``\\`` (a command's
    continuation) stays single, where ``escape`` would double it."""
    return escape(line[:-1]) + "\\" if line.endswith("\\") else escape(line)


class TextReporter:
    def __init__(self, color: bool = False, width: int | None = None) -> None:
        self.color = color
        #: Columns to fit; ``None``: COLUMNS, else the terminal, else 80.
        self.width = width
        self.cols = width or 80

    def _print(self, console: Console | _PlainConsole, text: str, indent: str = "", rest: str | None = None,
               style: str | None = None) -> None:
        """Prose, wrapped to the width at spaces (never inside a word)."""
        for line in wrap(text, self.cols, indent, rest):
            console.print(_esc(line.replace(_GLUE, " ")), style=style if self.color else None)

    def render(self, report: Report, ctx: Context) -> str:
        from hardoctor.output import terminal_width

        self.cols = self.width or terminal_width(ctx.env)
        verbose = ctx.options.verbose
        buf = io.StringIO()
        if self.color:
            from rich.console import Console
        console: Console | _PlainConsole = _PlainConsole(buf) if not self.color else Console(
            file=buf,
            width=max(self.cols, 200),  # lines come wrapped: rich must not re-wrap them
            color_system="standard",
            force_terminal=True,
            highlight=False,
            emoji=False,
            soft_wrap=True,
        )
        home = ctx.home
        names = client_names(ctx)
        creds = {c.id: c for c in report.credentials}
        if verbose >= 0:  # -q: the verdict lines and the summary only
            self._print(console, _header(report), style="bold")

        from hardoctor.report.verdicts import ordered

        for grp in ordered(report):
            key, findings, resolutions = grp.key, grp.findings, grp.resolutions
            verdict = grp.verdict
            clients = " · ".join(
                dict.fromkeys(names.get(r.client, r.client) for r in resolutions)
            )
            if verbose >= 0:
                console.print()
            line = f"{MARK[verdict]} {key}" + (f"   {clients}" if clients else "")
            self._print(console, line, rest="    ", style=STYLE[verdict])
            if verbose < 0:  # -q: the verdict lines and the summary
                continue
            failing = grp.failing_clients()
            for r in resolutions:
                mark = "✗ " if r.client in failing and len(resolutions) > 1 else ""
                self._print(console, mark + _resolution_line(r, home, names), "  ", "    ")
                if verbose > 0:
                    self._chain(console, r, home)
            judged = judged_line(resolutions, names)
            if judged:
                self._print(console, judged, "  ", "    ")
            for f in findings:
                self._finding(console, f, creds, home)
            for f, there in grp.elsewhere:
                prefix = {Severity.ERROR: "error", Severity.WARNING: "warning",
                          Severity.INFO: "info"}[f.severity]
                self._print(console, f"{prefix}: {f.rule} {f.name}"
                            + (f" ({f.cause})" if f.cause else "")
                            + f"  the same story, told under {there}", "  ", "    ")

        counts = report.counts()
        console.print()
        parts = [
            f"{counts['error']} error{'s' * (counts['error'] != 1)}",
            f"{counts['warning']} warning{'s' * (counts['warning'] != 1)}",
        ]
        if counts["info"]:
            parts.append(f"{counts['info']} info")
        silenced = getattr(ctx, "silenced", 0)
        if silenced:
            parts.append(f"{silenced} silenced (--select/--ignore, config, inline comments)")
        safe = sum(1 for f in report.findings if f.fix and f.fix.applicability.value == "safe")
        unsafe = sum(1 for f in report.findings if f.fix and f.fix.applicability.value == "unsafe")
        if ctx.options.command == "check" and (safe or unsafe):
            extra = f"run `hardoctor fix` to see {safe} safe fix{'es' * (safe != 1)}"
            if unsafe:
                extra += f" (and {unsafe} more with --unsafe)"
            parts.append(extra)
        self._print(console, " · ".join(parts))
        # A lone surrogate (a config key decoded from "\ud800") cannot be
        # written as UTF-8: it is shown as U+FFFD instead of failing the run.
        return buf.getvalue().encode("utf-8", "surrogatepass").decode("utf-8", "replace")

    def _chain(self, console: Console | _PlainConsole, r: Resolution, home: str) -> None:
        """``-v``: every candidate the client considered, in its order."""
        steps = r.chain or (ChainStep("no candidate", "missing"),)
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            text = step.description
            if step.location is not None:
                text += f" ({step.location.display(home)})"
            if step.reason:
                text += f": {step.reason}"
            self._print(console, text, "    " + ("└─ " if last else "├─ ") + f"{step.outcome:<8}",
                        "    " + ("   " if last else "│  ") + " " * 8)

    def _finding(
        self, console: Console | _PlainConsole, f: Finding, creds: dict[str, Credential], home: str
    ) -> None:
        sev = f.severity
        tag = f"{f.rule} {f.name}" + (f" ({f.cause})" if f.cause else "")
        prefix = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}[sev]
        # The severity is a word as well as a colour.
        head = wrap(f"{prefix}: {tag}  {f.message}", self.cols, "  ", "    ")
        for i, line in enumerate(head):
            if i == 0 and self.color:
                style = SEV_STYLE[sev]
                console.print(f"  [bold {style}]{prefix}:[/bold {style}]"
                              f"[{style}]{escape(line[len(prefix) + 3:])}[/{style}]")
            else:
                console.print(escape(line))
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
            # The command inside the prose is glued so wrapping never breaks it.
            cmd = f"hardoctor fix{flag} --apply".replace(" ", _GLUE)
            rows.append(
                ("autofix", f"{f.fix.description} ({f.fix.applicability.value}: {cmd})")
            )
        self._rows(console, rows)

    def _rows(self, console: Console | _PlainConsole, rows: list[tuple[str, str]]) -> None:
        for label, text in rows:
            if not label and text.startswith("$ "):  # a command: its own line, whole words
                for line in command_lines(text[2:], self.cols, " " * 12):
                    console.print(_esc(line))
                continue
            step = re.match(r"\d+\. ", text) if not label else None
            self._print(console, text, f"    {label:<8}", " " * (12 + (step.end() if step else 0)))


#: Joins the words of a command quoted inside prose for :func:`wrap` (which
#: breaks only at plain spaces); printed as a space.
_GLUE = "\u00a0"


def _header(report: Report) -> str:
    """The first line: what was read and what was probed."""
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
    return head


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
