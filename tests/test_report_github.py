"""``--format github`` (issue 9): GitHub Actions workflow commands.

Every line is read back with a parser written from the Actions runner's own
rules (``ActionCommand.TryParseV2``: ``::NAME k=v,k=v::DATA``, properties
unescaped ``%0D %0A %3A %2C`` then ``%25``, data ``%0D %0A`` then ``%25``),
so what GitHub shows is exactly what hardoctor meant: the right file, line,
column and title, and the whole message -- whatever ``%``, newlines, ``:``
or ``,`` it holds.  The leak test over ``tests/fixtures/leak-home`` for this
format is in ``tests/test_report_sarif.py`` (both formats together).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import run_cli
from tests.test_no_leaks import canary_forms, fresh_redact

from hardoctor import __version__
from hardoctor.context import Context, Options
from hardoctor.env import Environment
from hardoctor.model import (
    Applicability,
    Finding,
    Fix,
    Location,
    Remediation,
    Report,
    Secret,
    Severity,
)
from hardoctor.report.github import GithubReporter, escape_data, escape_property
from hardoctor.rules import RuleRegistry

HOME = "/home/dev"
PROJECT = "/home/dev/src/shop"
COMMANDS = {"error", "warning", "notice"}


@dataclass
class Command:
    name: str
    props: dict[str, str]
    data: str


def _unescape_property(value: str) -> str:
    for seq, ch in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(seq, ch)
    return value


def _unescape_data(value: str) -> str:
    for seq, ch in (("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        value = value.replace(seq, ch)
    return value


def parse_command(line: str) -> Command | None:
    """The runner's parser (V2 syntax); None for a line that is not a command."""
    if not line.startswith("::"):
        return None
    end = line.find("::", 2)
    if end < 0:
        return None
    info, data = line[2:end], line[end + 2:]
    name, _, rest = info.partition(" ")
    props: dict[str, str] = {}
    if rest:
        for pair in rest.split(","):
            key, eq, value = pair.partition("=")
            assert eq and key, f"malformed property {pair!r} in {line!r}"
            assert key not in props, f"duplicate property {key} in {line!r}"
            props[key] = _unescape_property(value)
    return Command(name, props, _unescape_data(data))


def parse_output(text: str) -> tuple[list[Command], str]:
    """(the commands, the summary line): every line but the last is a
    command; the last is plain text; nothing else is printed."""
    assert text.endswith("\n") and "\r" not in text
    lines = text[:-1].split("\n")
    commands = []
    for line in lines[:-1]:
        cmd = parse_command(line)
        assert cmd is not None, f"not a workflow command: {line!r}"
        assert cmd.name in COMMANDS, line
        commands.append(cmd)
    assert parse_command(lines[-1]) is None, "the summary must not be a command"
    return commands, lines[-1]


# -- escaping ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["plain", "100%", "%25 literally", "a\nb", "a\r\nb", "x:y,z",
                                 "::error::inject", "%0A is text", "ünïcödé ✓", ""])
def test_escape_round_trips(raw: str) -> None:
    assert _unescape_data(escape_data(raw)) == raw
    assert _unescape_property(escape_property(raw)) == raw
    assert "\n" not in escape_data(raw) and "\r" not in escape_data(raw)
    assert ":" not in escape_property(raw) and "," not in escape_property(raw)


def test_escape_values() -> None:
    assert escape_data("50%\r\n:,") == "50%25%0D%0A:,"
    assert escape_property("50%\r\n:,") == "50%25%0D%0A%3A%2C"


# -- a hand-built report -------------------------------------------------------------------------


def make_ctx(environ: dict[str, str] | None = None, project: str = PROJECT) -> Context:
    return Context(Options(command="check", format="github"),
                   Environment(environ=environ or {}, home=HOME, cwd=project), RuleRegistry())


def _f(rule: str, severity: Severity, message: str, **kw: Any) -> Finding:
    return Finding(rule=rule, name=kw.pop("name", "some-rule"), severity=severity,
                   cause=kw.pop("cause", "config-invalid"), message=message, **kw)


ODD_PATH = f"{PROJECT}/conf:dir,v2/100% sure/.npmrc"

FINDINGS = (
    _f("NPM010", Severity.WARNING, "a literal token in .npmrc", name="token-in-project-npmrc",
       location=Location(f"{PROJECT}/.npmrc", 2, 1, "//npm.example.test/:_authToken"),
       why="Everyone with the repository has it.",
       remediation=Remediation("Use ${NPM_TOKEN}.", commands=("export NPM_TOKEN=...",)),
       fix=Fix("replace the value with ${NPM_TOKEN}", Applicability.UNSAFE, ())),
    _f("DKR001", Severity.ERROR, "100% broken: line 1\nand line 2\r\nwith a: colon, and comma",
       name="invalid-json", location=Location(ODD_PATH, 7, 3)),
    _f("DKR013", Severity.WARNING, "~/.docker/config.json has mode 0644",
       location=Location(f"{HOME}/.docker/config.json")),
    _f("DKR023", Severity.WARNING, "DOCKER_AUTH_CONFIG overrides the file",
       location=Location(None, key="$DOCKER_AUTH_CONFIG")),
    _f("K8S008", Severity.ERROR, "bad pull secret", location=Location("<stdin>", 9)),
    _f("DKR112", Severity.INFO, "credentials go to another host", cause=None),
    _f("HD002", Severity.ERROR, "plugin 'acme' raised ::error::injected%0A in a hook"),
)


def build_report(findings: tuple[Finding, ...] = FINDINGS) -> Report:
    from datetime import datetime, timezone

    return Report(started_at=datetime(2026, 11, 28, tzinfo=timezone.utc), duration_ms=5.0,
                  sources=(), credentials=(), resolutions=(), probes=(), findings=findings)


@pytest.fixture(scope="module")
def parsed() -> tuple[list[Command], str]:
    return parse_output(GithubReporter().render(build_report(), make_ctx()))


def test_one_command_per_finding_in_order(parsed: tuple[list[Command], str]) -> None:
    commands, _ = parsed
    assert [c.name for c in commands] == ["warning", "error", "warning", "warning", "error",
                                          "notice", "error"]
    assert [c.props["title"].split()[0] for c in commands] == [f.rule for f in FINDINGS]


def test_project_file_line_col_title(parsed: tuple[list[Command], str]) -> None:
    cmd = parsed[0][0]
    assert cmd.props == {"file": ".npmrc", "line": "2", "col": "1",
                         "title": "NPM010 token-in-project-npmrc"}
    assert cmd.data.split("\n") == [
        "a literal token in .npmrc",
        "Where: //npm.example.test/:_authToken",
        "Why: Everyone with the repository has it.",
        "Fix: Use ${NPM_TOKEN}.",
        "  $ export NPM_TOKEN=...",
        "Autofix: replace the value with ${NPM_TOKEN} (hardoctor fix --unsafe --apply)",
    ]


def test_escaping_edge_cases(parsed: tuple[list[Command], str]) -> None:
    """``%``, CR/LF, ``:`` and ``,`` in a message and in a path survive."""
    cmd = parsed[0][1]
    assert cmd.props["file"] == "conf:dir,v2/100% sure/.npmrc"
    assert (cmd.props["line"], cmd.props["col"]) == ("7", "3")
    assert cmd.data == "100% broken: line 1\nand line 2\r\nwith a: colon, and comma"
    raw = GithubReporter().render(build_report(), make_ctx()).splitlines()[1]
    assert raw.startswith("::error file=conf%3Adir%2Cv2/100%25 sure/.npmrc,line=7,col=3,"
                          "title=DKR001 invalid-json::100%25 broken")
    assert "%0Aand line 2%0D%0Awith a: colon, and comma" in raw


def test_injection_is_inert(parsed: tuple[list[Command], str]) -> None:
    """A message holding ``::error::`` or ``%0A`` cannot start a new command
    or turn into a newline."""
    cmd = parsed[0][6]
    assert cmd.data == "plugin 'acme' raised ::error::injected%0A in a hook"
    assert "file" not in cmd.props


def test_file_outside_the_repository_is_absolute(parsed: tuple[list[Command], str]) -> None:
    cmd = parsed[0][2]
    assert cmd.props["file"] == f"{HOME}/.docker/config.json"
    assert "line" not in cmd.props and "col" not in cmd.props


def test_findings_without_a_file_have_no_file(parsed: tuple[list[Command], str]) -> None:
    for cmd in (parsed[0][3], parsed[0][4], parsed[0][5]):
        assert set(cmd.props) == {"title"}, cmd
    assert parsed[0][3].data.endswith("Where: $DOCKER_AUTH_CONFIG")


def test_summary_line(parsed: tuple[list[Command], str]) -> None:
    assert parsed[1] == f"hardoctor {__version__}: failed · 3 errors · 3 warnings · 1 info"
    _, ok = parse_output(GithubReporter().render(build_report(()), make_ctx()))
    assert ok == f"hardoctor {__version__}: passed · 0 errors · 0 warnings · 0 info"
    warn = build_report((FINDINGS[0],))
    assert parse_output(GithubReporter().render(warn, make_ctx()))[1].startswith(
        f"hardoctor {__version__}: passed with warnings · 0 errors · 1 warning")


def test_paths_relative_to_github_workspace() -> None:
    """In Actions, paths are relative to the checkout even when --project
    is a subdirectory of it."""
    ctx = make_ctx({"GITHUB_WORKSPACE": "/home/dev/src"})
    commands, _ = parse_output(GithubReporter().render(build_report(), ctx))
    assert commands[0].props["file"] == "shop/.npmrc"
    # a workspace that does not contain the project is ignored
    ctx = make_ctx({"GITHUB_WORKSPACE": "/elsewhere"})
    commands, _ = parse_output(GithubReporter().render(build_report(), ctx))
    assert commands[0].props["file"] == ".npmrc"


def test_secret_scrubbed_before_escaping() -> None:
    """A secret holding ``%``, ``,`` and ``:`` is scrubbed in its plain form,
    so neither it nor its escaped form reaches the log."""
    value = "hd,secret:100%-github-0001"
    with fresh_redact():
        Secret(value)
        f = _f("NPM010", Severity.WARNING, f"token {value} in file", location=Location(
            f"{PROJECT}/{value}/.npmrc", 1), why=f"because {value}",
            remediation=Remediation(f"rotate {value}", commands=(f"echo {value}",)))
        text = GithubReporter().render(build_report((f,)), make_ctx())
    for form in canary_forms(value):
        assert form not in text
    for form in (escape_data(value), escape_property(value)):
        assert form not in text
    assert "<secret #" in text
    parse_output(text)


def test_reporter_is_marked_scrubbed() -> None:
    assert GithubReporter.scrubbed is True


# -- through the CLI ------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["docker-bad-base64", "docker-helper-missing",
                                     "docker-trailing-newline", "docker-good", "pip-netrc-default"])
def test_cli_github_matches_the_json_report(fixture_home: Any, home: Path, tmp_path: Path,
                                            fixture: str) -> None:
    fixture_home(fixture)
    work = tmp_path / "checkout"
    work.mkdir()
    r = run_cli(["check", "--offline", "--format", "github"], home=home, cwd=work)
    j = run_cli(["check", "--offline", "--format", "json"], home=home, cwd=work)
    assert r.rc == j.rc and r.rc in (0, 1), str(r)
    assert r.err == ""
    commands, summary = parse_output(r.out)
    report = j.report()
    assert len(commands) == len(report["findings"])
    for cmd, f in zip(commands, report["findings"], strict=True):
        assert cmd.name == {"error": "error", "warning": "warning", "info": "notice"}[f["severity"]]
        assert cmd.props["title"] == f"{f['rule']} {f['name']}"
        assert cmd.data.split("\n")[0] == f["message"]
        loc = f["location"] or {}
        if loc.get("path"):
            assert cmd.props["file"] == loc["path"]  # HOME is outside the checkout
            if loc.get("line"):
                assert cmd.props["line"] == str(loc["line"])
        else:
            assert "file" not in cmd.props
    s = report["summary"]
    assert re.search(rf"· {s['errors']} errors? · {s['warnings']} warnings? · {s['infos']} info$",
                     summary), summary
