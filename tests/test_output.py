"""Output that fits: wrapping at COLUMNS (never inside a word), commands
whole and runnable, severity as a word in colour too, --color/NO_COLOR/
FORCE_COLOR, nothing written while the progress line runs and the progress
naming what it waits on, -v chain trees, -q, --help epilogs, completion
scripts, and the formats each command accepts."""

from __future__ import annotations

import http.server
import io
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import TTYStringIO, isolated_environ, run_cli, run_subprocess

from hardoctor.report.wrap import command_lines, shell_words, wrap

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
FIXTURES = Path(__file__).parent / "fixtures"
PAT = "pat.AcmeX1bcDEfgHIjkLMno12.6418b2a4ef2d1e3b41cb12a1.Zk3qW9rT2vXy8LmN0pQa"
LONG_REG = "https://pkg.harness.io/pkg/AcmeX1bcDEfgHIjkLMno12/npm-registry-with-a-long-name/npm/"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A HOME full of findings with long paths, URLs and commands."""
    h = tmp_path / "home"
    shutil.copytree(FIXTURES / "leak-home", h, symlinks=True)
    nerf = LONG_REG.removeprefix("https:")
    (h / ".npmrc").write_text(f"registry={LONG_REG}\n{nerf}:_authToken={PAT}\n"
                              "//registry.npmjs.org/:_authToken=${NPM_TOKEN_THAT_IS_NOT_SET}\n")
    os.chmod(h / ".npmrc", 0o644)
    (h / "work").mkdir()
    return h


def _fits(text: str, width: int) -> list[str]:
    """Lines wider than ``width`` that are more than one unbreakable word."""
    return [line for line in text.splitlines()
            if len(line) > width and len(line.strip().split(" ")) > 1]


@pytest.mark.parametrize("argv", [
    ["check", "--offline"],
    ["check", "--offline", "-v"],
    ["check", "--offline", "-q"],
    ["tokens"],
    ["config"],
    ["rules"],
    ["plugins"],
    ["explain", "NPM010"],
])
@pytest.mark.parametrize("width", [80, 60])
def test_prose_fits_columns(home: Path, argv: list[str], width: int) -> None:
    r = run_cli(argv, home=home, cwd=home / "work", environ={"COLUMNS": str(width)})
    assert r.rc in (0, 1), str(r)
    assert r.out.count("\n") > 3
    text = r.out
    if argv[0] == "explain":  # a rule page's Example is a file's text, kept as written
        text = re.sub(r"\nExample\n(?:  .*\n|\n)*?(?=[A-Z])", "\n", text)
    assert not _fits(text, width), "\n".join(_fits(text, width))


def test_fix_prose_fits(home: Path) -> None:
    r = run_cli(["fix", "--offline", "--unsafe"], home=home, cwd=home / "work",
                environ={"COLUMNS": "60"})
    assert r.rc == 1, str(r)
    lines = r.out.splitlines()
    hunk = max(i for i, x in enumerate(lines) if x.startswith("@@"))
    end = lines.index("", hunk)  # the diff (the files' own text) ends with a blank line
    prose = "\n".join(lines[end + 1:])
    assert "would be applied" in prose
    assert not _fits(prose, 60), _fits(prose, 60)


def test_wide_terminal_does_not_wrap(home: Path) -> None:
    r = run_cli(["check", "--offline"], home=home, cwd=home / "work", environ={"COLUMNS": "400"})
    narrow = run_cli(["check", "--offline"], home=home, cwd=home / "work", environ={"COLUMNS": "80"})
    assert len(r.out.splitlines()) < len(narrow.out.splitlines())
    assert max(len(x) for x in r.out.splitlines()) > 80


def test_words_are_never_broken(home: Path) -> None:
    """Every word of the wide output is a word of the narrow one: nothing is
    cut in the middle (a URL, a path, a fingerprint, "harness")."""
    wide = run_cli(["check", "--offline"], home=home, cwd=home / "work", environ={"COLUMNS": "1000"})
    narrow = run_cli(["check", "--offline"], home=home, cwd=home / "work", environ={"COLUMNS": "60"})
    # (a broken command adds only its " \\" continuations)
    assert sorted(wide.out.split()) == sorted(w for w in narrow.out.split() if w != "\\")


def test_commands_stand_whole_and_run_as_pasted(home: Path) -> None:
    doc = run_cli(["check", "--offline", "--format", "json"], home=home, cwd=home / "work").json()
    commands = {c for f in doc["findings"] for c in ((f["remediation"] or {}).get("commands") or [])}
    assert commands, "the fixture must produce remediation commands"
    text = run_cli(["check", "--offline"], home=home, cwd=home / "work",
                   environ={"COLUMNS": "60"}).out
    shown: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].lstrip()
        if line.startswith("$ "):
            cmd = line[2:]
            while cmd.endswith(" \\") and i + 1 < len(lines):
                i += 1
                cmd = cmd[:-2] + " " + lines[i].strip()
            shown.append(cmd)
        i += 1
    for cmd in commands:
        if "\n" in cmd:
            continue
        assert " ".join(shell_words(cmd)) in {" ".join(shell_words(s)) for s in shown}, cmd


def test_wrap_and_command_lines_units() -> None:
    assert wrap("a  b c", 80, "  ") == ["  a  b c"]
    out = wrap("word " * 30, 20, "> ", "  ")
    assert all(len(x) <= 20 for x in out) and out[0].startswith("> ")
    long = "https://example.com/" + "x" * 100
    out = wrap(f"see {long} now", 40, "    ", "    ")
    assert long in [x.strip() for x in out]
    cmd = "printf '%s' \"$TOKEN\" | docker login pkg.example.com --username 'a b c' --password-stdin"
    lines = command_lines(cmd, 40, "  ")
    assert all(x.endswith(" \\") for x in lines[:-1])
    joined = " ".join(x.strip().removesuffix(" \\") for x in lines).removeprefix("$ ")
    assert shell_words(joined) == shell_words(cmd)
    assert "'a b c'" in "".join(lines)  # a quoted word is never split
    script = lines[0].strip()
    assert script.startswith("$ printf")
    fake = 'docker() { shift; echo docker-login "$@"; }\n'
    sh = subprocess.run(["sh", "-c", fake + "\n".join(x.strip() for x in lines).removeprefix("$ ")],
                        input="", capture_output=True, text=True, env={"TOKEN": "t", "PATH": os.defpath})
    assert sh.returncode == 0 and "docker-login pkg.example.com --username a b c" in sh.stdout


def test_severity_is_a_word_in_colour(home: Path) -> None:
    r = run_cli(["check", "--offline", "--color", "always"], home=home, cwd=home / "work")
    assert ANSI.search(r.out)
    plain = ANSI.sub("", r.out)
    assert re.search(r"^  error: [A-Z0-9]+ ", plain, re.M)
    assert re.search(r"^  warning: [A-Z0-9]+ ", plain, re.M)


@pytest.mark.parametrize("argv, env, coloured", [
    ([], {}, False),                                     # not a terminal
    ([], {"FORCE_COLOR": "1"}, True),
    ([], {"FORCE_COLOR": "0"}, False),
    ([], {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),  # NO_COLOR wins over FORCE_COLOR
    (["--color", "always"], {"NO_COLOR": "1"}, True),    # the flag wins over both
    (["--color", "never"], {"FORCE_COLOR": "1"}, False),
    (["--no-color"], {"FORCE_COLOR": "1"}, False),
    (["--color", "auto"], {"FORCE_COLOR": "yes"}, True),
])
def test_color_choice(home: Path, argv: list[str], env: dict[str, str], coloured: bool) -> None:
    r = run_cli(["check", "--offline", *argv], home=home, cwd=home / "work", environ=env)
    assert bool(ANSI.search(r.out)) is coloured


def test_color_from_config_yields_to_the_environment(home: Path) -> None:
    (home / "work" / "hardoctor.toml").write_text('color = "always"\n')
    assert ANSI.search(run_cli(["check", "--offline"], home=home, cwd=home / "work").out)
    r = run_cli(["check", "--offline"], home=home, cwd=home / "work", environ={"NO_COLOR": "1"})
    assert not ANSI.search(r.out)


def test_bad_color_value_is_a_usage_error(home: Path) -> None:
    r = run_cli(["check", "--color", "sometimes"], home=home)
    assert r.rc == 2 and "--color" in r.err


class _Guarded(TTYStringIO):
    """A terminal stream that fails the test if anything is written to it
    while the progress line is active."""

    def write(self, text: str) -> int:
        from hardoctor import output

        if output._active is not None:
            raise AssertionError(f"written while the spinner runs: {text[:40]!r}")
        return super().write(text)


@pytest.mark.parametrize("argv", [["fix", "--offline"], ["fix", "--offline", "--apply"],
                                  ["check", "--offline"], ["tokens"]])
def test_nothing_is_written_while_the_spinner_runs(home: Path, argv: list[str]) -> None:
    from hardoctor.cli import main
    from hardoctor.env import Environment

    out, err = _Guarded(), TTYStringIO()
    env = Environment(stdout=out, stderr=err, stdin=io.StringIO(""),
                      environ=isolated_environ(home, {"HARDOCTOR_BACKUP_DIR": str(home / "bk")}),
                      cwd=str(home / "work"), home=str(home))
    rc = main(argv, env=env)
    assert rc in (0, 1), err.getvalue()
    text = out.getvalue()
    assert text.strip()
    assert "checking" not in text and "probing" not in text and "⠋" not in text
    from hardoctor import output

    assert output._active is None


class _SlowRegistry(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        time.sleep(1.2)
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="slow"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slow_registry() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_progress_names_what_it_waits_on(tmp_path: Path, slow_registry: str) -> None:
    from hardoctor.cli import main
    from hardoctor.env import Environment

    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    (home / ".docker" / "config.json").write_text(json.dumps(
        {"auths": {slow_registry: {"auth": "dXNlcjpDQU5BUllzbG93cGFzczE="}}}))
    os.chmod(home / ".docker" / "config.json", 0o600)
    out, err = TTYStringIO(), TTYStringIO()
    env = Environment(stdout=out, stderr=err, stdin=io.StringIO(""),
                      environ=isolated_environ(home), cwd=str(home), home=str(home))
    main(["check", f"{slow_registry}/app:1", "--timeout", "3", "--client", "docker"], env=env)
    progress = ANSI.sub("", err.getvalue())
    assert re.search(r"probing: 0 of \d+ done · waiting on " + re.escape(slow_registry)
                     + r" · \d+\.\d s left", progress), progress[-500:]
    assert "probing" not in out.getvalue()


def test_probe_message_unit() -> None:
    from hardoctor.output import probe_message

    msg = probe_message(2, 5, ["https://a.example/v2/", "https://b.example/x",
                               "https://c.example/", "https://d.example/"], 3.24)
    assert msg == "probing: 2 of 5 done · waiting on a.example, b.example (+2) · 3.2 s left"
    assert probe_message(5, 5, [], -1).endswith("0.0 s left")


def test_verbose_shows_the_whole_chain(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "proj").mkdir(parents=True)
    (home / ".npmrc").write_text("//registry.npmjs.org/:_authToken=npm_" + "a" * 36 + "\n")
    (home / "proj" / ".npmrc").write_text("//registry.npmjs.org/:_authToken=npm_" + "b" * 36 + "\n")
    for p in (home / ".npmrc", home / "proj" / ".npmrc"):
        os.chmod(p, 0o600)
    plain = run_cli(["check", "--offline", "--ecosystem", "npm"], home=home, cwd=home / "proj").out
    verbose = run_cli(["check", "--offline", "--ecosystem", "npm", "-v"], home=home,
                      cwd=home / "proj").out
    assert "├─" not in plain and "└─" not in plain
    tree = [x for x in verbose.splitlines() if "├─" in x or "└─" in x]
    assert any("used" in x and "proj/.npmrc" in x for x in tree), verbose
    lost = [x for x in tree if " lost " in x]
    assert lost and "~/.npmrc" in lost[0], verbose
    # the reason the loser lost is given
    i = verbose.splitlines().index(lost[0])
    assert ":" in " ".join(verbose.splitlines()[i:i + 2]).split("~/.npmrc", 1)[1]


def test_quiet_prints_verdicts_and_summary(home: Path) -> None:
    wide = {"COLUMNS": "300"}
    full = run_cli(["check", "--offline"], home=home, cwd=home / "work", environ=wide).out
    quiet = run_cli(["check", "--offline", "-q"], home=home, cwd=home / "work", environ=wide)
    lines = [x for x in quiet.out.splitlines() if x.strip()]
    verdicts = [x for x in full.splitlines() if x[:2] in ("✗ ", "! ", "✓ ", "- ")]
    assert lines[-1] == full.rstrip("\n").splitlines()[-1]
    assert [x for x in lines[:-1] if not x.startswith("    ")] == verdicts
    assert "error:" not in quiet.out and "warning:" not in quiet.out
    assert quiet.rc == run_cli(["check", "--offline"], home=home, cwd=home / "work").rc


@pytest.mark.parametrize("command", ["", "check", "fix", "tokens", "config"])
def test_help_has_examples_exit_codes_and_environment(tmp_path: Path, command: str) -> None:
    r = run_subprocess([*([command] if command else []), "--help"], home=tmp_path,
                       environ={"COLUMNS": "80"})
    assert r.rc == 0, str(r)
    assert "examples:" in r.out and "exit codes:" in r.out and "environment:" in r.out
    assert "HARDOCTOR_FAIL_ON" in r.out and "NO_COLOR" in r.out and "FORCE_COLOR" in r.out
    assert not _fits(r.out, 80), _fits(r.out, 80)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(tmp_path: Path, shell: str) -> None:
    r = run_cli(["completion", shell], home=tmp_path, autoload=True)
    assert r.rc == 0, str(r)
    for flag in ("--select", "--extend-ignore", "--color", "--manifests"):
        assert flag.lstrip("-") in r.out, flag
    assert "tokens" in r.out and "config" in r.out
    exe = shutil.which(shell)
    if exe is not None:
        script = tmp_path / f"c.{shell}"
        script.write_text(r.out)
        check = subprocess.run([exe, "-n", str(script)], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
    if shell == "bash" and exe is not None:
        # completing `hardoctor check --sel` offers --select
        probe = tmp_path / "probe.bash"
        probe.write_text(r.out + "\nCOMP_WORDS=(hardoctor check --sel); COMP_CWORD=2; "
                         "COMP_LINE='hardoctor check --sel'; COMP_POINT=${#COMP_LINE}\n"
                         "_shtab_hardoctor hardoctor --sel check; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
        out = subprocess.run([exe, str(probe)], capture_output=True, text=True, timeout=30)
        assert "--select" in out.stdout, out.stdout + out.stderr


def test_completion_needs_a_shell(tmp_path: Path) -> None:
    r = run_cli(["completion", "tcsh"], home=tmp_path)
    assert r.rc == 2 and "shell" in r.err


@pytest.mark.parametrize("fmt", ["sarif", "github", "openmetrics"])
def test_fix_refuses_formats_it_cannot_produce(tmp_path: Path, fmt: str) -> None:
    r = run_cli(["fix", "--format", fmt], home=tmp_path)
    assert r.rc == 2 and "--format" in r.err.splitlines()[0] and r.out == ""


def test_fix_refuses_an_env_format_it_cannot_produce(tmp_path: Path) -> None:
    r = run_cli(["fix", "--offline"], home=tmp_path, environ={"HARDOCTOR_FORMAT": "sarif"})
    assert r.rc == 2 and "HARDOCTOR_FORMAT" in r.err and r.out == ""
    r = run_cli(["check", "--offline"], home=tmp_path, environ={"HARDOCTOR_FORMAT": "yaml"})
    assert r.rc == 2 and "HARDOCTOR_FORMAT" in r.err
    r = run_cli(["check", "--offline"], home=tmp_path, environ={"HARDOCTOR_FORMAT": "sarif"})
    assert r.rc == 0 and json.loads(r.out)["version"] == "2.1.0"


def test_fix_json_is_json(home: Path) -> None:
    r = run_cli(["fix", "--offline", "--format", "json"], home=home, cwd=home / "work")
    assert json.loads(r.out)["schema"] == "hardoctor/fix/v1"


def test_sarif_paths_from_the_repository_root(tmp_path: Path) -> None:
    home = tmp_path / "home"
    repo = home / "repo"
    sub = repo / "services" / "web"
    sub.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (sub / ".npmrc").write_text("//npm.example.com/:_authToken=npm_" + "c" * 36 + "\n")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    r = run_cli(["check", "--offline", "--scope", "project", "--project", str(sub),
                 "--format", "sarif"], home=home, cwd=sub)
    doc = json.loads(r.out)
    run = doc["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    uris = {loc["physicalLocation"]["artifactLocation"].get("uri")
            for res in run["results"] for loc in res["locations"]}
    assert "services/web/.npmrc" in uris, uris
    assert "informationUri" not in run["tool"]["driver"]
    for rule in run["tool"]["driver"]["rules"]:
        assert "helpUri" not in rule
        if "security" in rule["properties"]["tags"]:
            assert 0 < float(rule["properties"]["security-severity"]) <= 10
    assert "hardoctor.dev" not in r.out
