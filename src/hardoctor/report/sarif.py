"""``--format sarif``: the report as a SARIF 2.1.0 log for code-scanning tools.

One run.  ``tool.driver.rules`` lists *every registered rule*, not only the
ones with results: ``ruleIndex`` then stays stable between runs, a viewer can
show the page of a rule whose alert was fixed or dismissed, and the log says
what was checked (a rule without results passed).  Each rule carries its
``hardoctor explain`` page as ``help`` (text and markdown); there is no
``helpUri`` (no web page exists for a rule: the page travels inline), and a
rule about insecure storage carries a ``security-severity`` so code
scanning ranks it as a security alert.

Results follow what GitHub code scanning accepts: every result has at least
one location with ``physicalLocation.artifactLocation.uri`` (GitHub rejects
the *whole* file otherwise) and ``region.startLine``.  A file inside the
repository (``git rev-parse --show-toplevel`` of the project; the project
directory outside a repository) is relative to ``%SRCROOT%``, as code
scanning resolves paths from the repository root; any other file is a
``file://`` URI.  A
finding about something that is not a file (an environment variable, a
Kubernetes object, a keyring entry) points at the file of the credential it
concerns when there is one, else at the project root, and names the real
place as a ``logicalLocation``.

No secret anywhere: every string that comes from a finding, a path or a rule
page is scrubbed as a value (as the JSON report is), before it is placed in
the document; only SARIF's own vocabulary (``level``, ``ruleId``,
``version``, ...) is left alone so the log stays valid.  The CLI must not
scrub the rendered text again (``scrubbed = True``).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from hardoctor import __version__, lazyre
from hardoctor.model import Credential, Finding, Location, Report, Rule, Severity
from hardoctor.report import iso

if TYPE_CHECKING:
    from hardoctor.context import Context

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
#: ``security-severity`` (GitHub's 0.0-10.0 scale, as a string) of a rule
#: whose cause is a stored secret others can read, by the rule's level.
SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "6.5", Severity.INFO: "3.0"}
SRCROOT = "%SRCROOT%"
#: Key of hardoctor's own entry in ``partialFingerprints`` (versioned: a
#: change of what is hashed must change the key, not silently the values).
FINGERPRINT_KEY = "hardoctorFinding/v1"

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

#: A heading of a rule page ("What it does", "Why it matters", "Fix"...).
_SECTION_RE = lazyre.compile(r"^[A-Z][A-Za-z ()/,'-]*$")
_MD_SPECIAL = lazyre.compile(r"([\\*_<>\[\]|])")


def _scrub(text: str) -> str:
    from hardoctor import redact

    return redact.scrub(text)


def _strip_userinfo(url: str) -> str:
    """``https://user:pass@host/x`` -> ``https://host/x`` (for properties and
    fingerprints: a registry key is not the place for credentials)."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1", url)


# -- rule pages ------------------------------------------------------------------------


def _sections(explain: str) -> list[tuple[str, list[str]]]:
    """Split a rule page into ``(heading, body lines)``.  Headings start at
    column 0; bodies are indented (two spaces by convention)."""
    out: list[tuple[str, list[str]]] = []
    for line in explain.splitlines():
        if line and not line[0].isspace() and _SECTION_RE.match(line.strip()):
            out.append((line.strip(), []))
        elif out:
            out[-1][1].append(line)
        elif line.strip():
            out.append(("", [line]))
    return [(h, _dedent(body)) for h, body in out]


def _dedent(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    while lines and not lines[0].strip():
        lines = lines[1:]
    indents = [len(x) - len(x.lstrip(" ")) for x in lines if x.strip()]
    cut = min(indents, default=0)
    return [x[cut:] if x.strip() else "" for x in lines]


def _flatten(lines: Iterable[str]) -> str:
    return " ".join(" ".join(x.split()) for x in lines if x.strip())


def _md_escape(text: str) -> str:
    """Escape markdown outside `code spans` (which the pages already use)."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):  # even parts are outside backticks
        parts[i] = _MD_SPECIAL.sub(r"\\\1", parts[i])
    if len(parts) % 2 == 0:  # an unbalanced backtick: escape it too
        return _MD_SPECIAL.sub(r"\\\1", text.replace("`", "\\`"))
    return "`".join(parts)


def _fence(lines: list[str]) -> list[str]:
    body = _dedent(lines)
    ticks = "```"
    while any(ticks in x for x in body):
        ticks += "`"
    return [ticks + "text", *body, ticks]


def rule_markdown(rule: Rule) -> str:
    """The rule page as markdown: the summary, a facts line, then each
    section; the Example and every deeper-indented block become code."""
    fixes = {None: "no automatic fix", "safe": "safe automatic fix",
             "unsafe": "unsafe automatic fix"}
    fix = fixes[rule.fix.value if rule.fix else None]
    out = [
        f"**{rule.code} {rule.name}**: {_md_escape(rule.summary)}",
        "",
        f"Severity: {rule.severity.value} · cause: `{rule.cause or '-'}` · {fix} · "
        f"plugin: {_md_escape(rule.plugin or '-')}",
    ]
    for heading, body in _sections(rule.explain):
        out.append("")
        if heading:
            out += [f"#### {_md_escape(heading)}", ""]
        if heading.lower().startswith("example"):
            out += _fence(body)
            continue
        block: list[str] = []
        for line in [*body, "\x00"]:  # a sentinel flushes the last block
            if line.startswith("  ") and line.strip():
                block.append(line)
                continue
            if block:
                out += _fence(block)
                block = []
            if line != "\x00":
                out.append(_md_escape(line))
    out += ["", f"Run `hardoctor explain {rule.code}` for this page in a terminal."]
    return "\n".join(out).rstrip() + "\n"


def rule_text(rule: Rule) -> str:
    """The page exactly as ``hardoctor explain CODE`` prints it (less the
    underline of the title)."""
    fix = {
        None: "no automatic fix",
        "safe": "safe automatic fix (`hardoctor fix --apply`)",
        "unsafe": "unsafe automatic fix (`hardoctor fix --unsafe --apply`)",
    }[rule.fix.value if rule.fix else None]
    return "\n".join([
        f"{rule.code} {rule.name}",
        "",
        rule.summary,
        "",
        f"severity: {rule.severity.value}   cause: {rule.cause or '-'}   fix: {fix}   "
        f"plugin: {rule.plugin}",
        "",
        rule.explain.rstrip(),
    ]) + "\n"


def _full_description(rule: Rule) -> str:
    for heading, body in _sections(rule.explain):
        if heading.lower().startswith("what"):
            text = _flatten(body)
            if text:
                return text
    return rule.summary


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    tags = ["hardoctor"]
    if rule.plugin:
        tags.append(rule.plugin)
    if rule.cause:
        tags.append(rule.cause)
    if rule.cause == "insecure-storage":
        # GitHub files alerts tagged `security` as security alerts: a
        # plaintext token in a repository is one.
        tags.append("security")
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _scrub(rule.summary)},
        "fullDescription": {"text": _scrub(_full_description(rule))},
        "help": {"text": _scrub(rule_text(rule)), "markdown": _scrub(rule_markdown(rule))},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "cause": rule.cause,
            "tags": tags,
            "plugin": rule.plugin or None,
            "fix": rule.fix.value if rule.fix else None,
            **({"security-severity": SECURITY_SEVERITY[rule.severity]}
               if "security" in tags else {}),
        },
    }


def _rule_of(finding: Finding) -> Rule:
    """A stand-in rule for a finding whose rule is not registered (a report
    built by hand): the finding's own name, severity and cause."""
    return Rule(code=finding.rule, name=finding.name, severity=finding.severity,
                summary=finding.name.replace("-", " ").capitalize() + ".",
                explain="", cause=finding.cause, plugin=finding.plugin or "")


# -- locations -------------------------------------------------------------------------


class _Places:
    """Turns hardoctor locations into SARIF locations, relative to the
    project (``%SRCROOT%``) when inside it."""

    def __init__(self, project: str, home: str) -> None:
        self.project = os.path.abspath(project)
        self.home = os.path.abspath(home) if home else ""

    def file_path(self, loc: Location | None) -> str | None:
        """The absolute path of a location that is a real file path, else None."""
        if loc is None or not loc.path or loc.path.startswith("<"):
            return None
        return os.path.normpath(os.path.join(self.project, loc.path))

    def artifact(self, path: str) -> dict[str, Any]:
        rel = relative(path, self.project)
        if rel is not None:
            return {"uri": quote(_scrub(rel), safe="/"), "uriBaseId": SRCROOT}
        return {"uri": _file_uri(path)}

    def stable(self, path: str) -> str:
        """A machine-independent spelling of ``path`` for fingerprints."""
        rel = relative(path, self.project)
        if rel is not None:
            return rel
        rel = relative(path, self.home) if self.home else None
        return path if rel is None else "~/" + rel

    def root(self) -> dict[str, Any]:
        return {"uri": _file_uri(self.project).rstrip("/") + "/"}


def repository_root(project: str, environ: Mapping[str, str] | None = None) -> str:
    """``git rev-parse --show-toplevel`` run in ``project`` (bounded by a
    timeout); the project itself outside a repository or without git."""
    import shutil
    import subprocess

    environ = dict(environ or {})
    git = shutil.which("git", path=environ.get("PATH"))
    if git and os.path.isdir(project):
        try:
            out = subprocess.run(
                [git, "-c", f"safe.directory={project}", "rev-parse", "--show-toplevel"],
                cwd=project, capture_output=True, text=True, timeout=3.0,
                stdin=subprocess.DEVNULL, env={**environ, "GIT_TERMINAL_PROMPT": "0"})
            top = out.stdout.strip()
            if out.returncode == 0 and top and os.path.isdir(top):
                return os.path.abspath(top)
        except (OSError, subprocess.SubprocessError):
            pass
    return os.path.abspath(project)


def relative(path: str, root: str) -> str | None:
    """``path`` relative to ``root`` with ``/`` separators when it is inside
    it (also through symlinks: /tmp vs /private/tmp), else None."""
    for p, r in ((os.path.abspath(path), os.path.abspath(root)),
                 (os.path.realpath(path), os.path.realpath(root))):
        try:
            if os.path.commonpath([p, r]) == r:
                return os.path.relpath(p, r).replace(os.sep, "/")
        except ValueError:  # different drives
            continue
    return None


def _file_uri(path: str) -> str:
    """``file:///abs/path`` with every unsafe character percent-encoded.  The
    path is scrubbed *before* encoding, so a secret in it is still found."""
    posix = _scrub(path).replace(os.sep, "/")
    if not posix.startswith("/"):
        posix = "/" + posix  # C:/x -> /C:/x
    return "file://" + quote(posix, safe="/:")


def _region(loc: Location | None) -> dict[str, Any]:
    # GitHub wants region.startLine; a finding about the whole file (its
    # mode, say) points at its first line.
    region: dict[str, Any] = {"startLine": loc.line if loc and loc.line and loc.line > 0 else 1}
    if loc and loc.line and loc.column and loc.column > 0:
        region["startColumn"] = loc.column
    return region


def _logical(loc: Location | None, registry: str | None) -> list[dict[str, Any]]:
    if loc is not None and loc.key:
        key = loc.key
        if loc.path and not loc.path.startswith("<"):
            kind = "property"  # a key inside a file: auths["host"], <server id=...>
        elif key.startswith("$"):
            kind = "variable"
        else:
            kind = "resource"
        return [{"name": _scrub(key), "fullyQualifiedName": _scrub(key), "kind": kind}]
    if loc is not None and loc.path and loc.path.startswith("<"):
        return [{"name": _scrub(loc.path), "kind": "resource"}]
    if registry:
        reg = _scrub(_strip_userinfo(registry))
        return [{"name": reg, "fullyQualifiedName": reg, "kind": "resource"}]
    return []


# -- the document ------------------------------------------------------------------------


def _message(f: Finding) -> str:
    parts = [f.message.rstrip()]
    if f.why:
        parts.append(f"Why: {f.why.rstrip()}")
    if f.remediation is not None and f.remediation.summary:
        parts.append(f"Fix: {f.remediation.summary.rstrip()}")
    return _scrub("\n".join(parts))


def _credential_fingerprint(cred: Credential | None) -> str | None:
    if cred is None:
        return None
    if cred.token is not None and cred.token.fingerprint:
        return cred.token.fingerprint
    return cred.secret.fingerprint if cred.secret else None


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def to_sarif(report: Report, ctx: Context) -> dict[str, Any]:
    places = _Places(repository_root(ctx.project, ctx.env.environ), ctx.home)
    rules: list[Rule] = list(ctx.rules)
    index = {r.code: i for i, r in enumerate(rules)}
    for f in report.findings:
        if f.rule not in index:
            index[f.rule] = len(rules)
            rules.append(_rule_of(f))
    creds = {c.id: c for c in report.credentials}

    results = []
    by_place = {(c.location.path, c.location.line): c for c in report.credentials
                if c.location.path and c.location.line}
    for f in report.findings:
        cred = creds.get(f.credential) if f.credential else None
        if cred is None and f.location is not None and f.location.path and f.location.line:
            # A lint finding names no credential but points at the line of one.
            cred = by_place.get((f.location.path, f.location.line))
        path = places.file_path(f.location)
        region_loc = f.location
        if path is None and cred is not None:
            # Not a file (an environment variable, a cluster object): anchor
            # the alert at the file of the credential it is about, if any.
            path = places.file_path(cred.location)
            region_loc = cred.location if path else None
        physical: dict[str, Any]
        if path is not None:
            physical = {"artifactLocation": places.artifact(path), "region": _region(region_loc)}
        else:
            physical = {"artifactLocation": {"uri": ".", "uriBaseId": SRCROOT},
                        "region": {"startLine": 1}}
        location: dict[str, Any] = {"physicalLocation": physical}
        logical = _logical(f.location, f.registry)
        if logical:
            location["logicalLocations"] = logical

        where = places.stable(path) if path else (f.location.key or "") if f.location else ""
        key = (f.location.key or "") if f.location else ""
        registry = _strip_userinfo(f.registry) if f.registry else ""
        props: dict[str, Any] = {
            "cause": f.cause,
            "severity": f.severity.value,
            "ecosystem": f.ecosystem,
            "registry": _scrub(registry) if registry else None,
            "credential": _scrub(f.credential) if f.credential else None,
            "credentialFingerprint": _credential_fingerprint(cred),
            "fix": f.fix.applicability.value if f.fix else None,
        }
        if f.remediation is not None and f.remediation.commands:
            props["commands"] = [_scrub(c) for c in f.remediation.commands]
        results.append({
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": LEVEL[f.severity],
            "message": {"text": _message(f)},
            "locations": [location],
            "partialFingerprints": {
                FINGERPRINT_KEY: _fingerprint(f.rule, _scrub(where), _scrub(key), _scrub(registry)),
            },
            # `cause` always (null for info findings), the rest when known.
            "properties": {k: v for k, v in props.items() if v is not None or k == "cause"},
        })

    counts = report.counts()
    end = report.started_at + timedelta(milliseconds=report.duration_ms)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "hardoctor",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [rule_descriptor(r) for r in rules],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "startTimeUtc": iso(report.started_at),
                        "endTimeUtc": iso(end),
                    }
                ],
                "originalUriBaseIds": {SRCROOT: places.root()},
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": {
                    "summary": {
                        "errors": counts["error"],
                        "warnings": counts["warning"],
                        "infos": counts["info"],
                        "status": report.status,
                    },
                    "offline": report.offline,
                },
            }
        ],
    }


class SarifReporter:
    #: Every value is scrubbed while the document is built (see the module
    #: docstring); scrubbing the JSON text could break its syntax.
    scrubbed = True

    def render(self, report: Report, ctx: Context) -> str:
        import json

        return json.dumps(to_sarif(report, ctx), indent=2, ensure_ascii=False) + "\n"
