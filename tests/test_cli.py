"""The command line: parsing, environment twins, exit codes, output."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from tests.helpers import (
    ANSI_RE,
    SGR_RE,
    assert_no_traceback,
    assert_usage_error,
    assert_valid_report,
    code_pythonpath,
    install_test_plugin,
    run_cli,
    run_subprocess,
)

import hardoctor
from hardoctor import redact
from hardoctor.model import Secret

VERSION = hardoctor.__version__


@pytest.fixture
def findings_home(home: Path, plugin_site: Path) -> Path:
    """A HOME where the test plugin reports one warning (line 1) and one info
    (line 2); add ``error`` lines for errors.  Run with ``autoload=True``."""
    install_test_plugin(plugin_site)
    (home / ".hdtest").write_text("warning\ninfo\n", encoding="utf-8")
    return home


def _seen_options():
    return sys.modules["hdtest_plugin"].SEEN


# -- version, help, usage errors -----------------------------------------------------


def test_version_fast_path(home: Path) -> None:
    r = run_cli(["--version"], home=home)
    assert (r.rc, r.out, r.err) == (0, f"hardoctor {VERSION}\n", "")


def test_version_flag_with_other_options_still_works(home: Path) -> None:
    r = run_cli(["--version", "--version"], home=home)
    assert r.rc == 0
    assert r.out == f"hardoctor {VERSION}\n"


def test_version_does_not_import_pluggy_or_rich(home: Path) -> None:
    code = (
        "import sys\n"
        "from hardoctor.cli import main\n"
        "rc = main(['--version'])\n"
        "heavy = sorted(m for m in ('pluggy', 'rich', 'httpx', 'docker', 'yaml') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
        "raise SystemExit(rc)\n"
    )
    r = run_subprocess(["-c", code], home=home, executable=[sys.executable],
                       extra_pythonpath=code_pythonpath())
    assert r.rc == 0, str(r)
    assert f"hardoctor {VERSION}" in r.out
    assert "HEAVY []" in r.out, r.out


def test_python_m_hardoctor_version(home: Path) -> None:
    r = run_subprocess(["--version"], home=home)
    assert r.rc == 0, str(r)
    assert r.out == f"hardoctor {VERSION}\n"
    assert r.err == ""


def test_no_arguments_prints_usage_and_exits_2(home: Path) -> None:
    r = run_cli([], home=home)
    assert r.rc == 2
    assert_no_traceback(r)
    assert "usage: hardoctor" in r.out + r.err
    for command in ("check", "fix", "rules", "explain", "plugins"):
        assert command in r.out + r.err


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["fix", "-h"]])
def test_help_exits_0(home: Path, argv: list[str]) -> None:
    r = run_subprocess(argv, home=home)
    assert r.rc == 0, str(r)
    assert r.out.startswith("usage: hardoctor")
    assert_no_traceback(r)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--bogus"], "--bogus"),
        (["check", "--bogus"], "--bogus"),
        (["check", "--offline", "--frobnicate=1"], "--frobnicate"),
        (["rules", "--registry", "x"], "--registry"),
        (["frobnicate"], "frobnicate"),
        (["explain"], "CODE"),
    ],
)
def test_unknown_options_and_commands_are_usage_errors(home: Path, argv: list[str], needle: str) -> None:
    assert_usage_error(run_cli(argv, home=home), needle)


def test_command_required_when_only_global_flags(home: Path) -> None:
    # `--version` alone takes the fast path; with no command otherwise -> usage error
    r = run_cli(["--disable-plugin", "x"], home=home)
    assert r.rc == 2
    assert_no_traceback(r)


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", ""])
def test_bad_timeout_is_usage_error(home: Path, value: str) -> None:
    assert_usage_error(run_cli(["check", "--offline", "--timeout", value], home=home), "timeout")


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["check", "--fail-on", "sometimes"], "--fail-on"),
        (["check", "--format", "xml"], "--format"),
        (["rules", "--format", "sarif"], "--format"),
        (["explain", "HD001", "--format", "json"], "--format"),
        (["check", "--expiry-warning", "-3"], "--expiry-warning"),
    ],
)
def test_bad_values_are_usage_errors(home: Path, argv: list[str], needle: str) -> None:
    assert_usage_error(run_cli([*argv, "--offline"] if argv[0] == "check" else argv, home=home), needle)


# -- environment twins -------------------------------------------------------------


@pytest.mark.parametrize(
    "var, value, needle",
    [
        ("HARDOCTOR_FAIL_ON", "sometimes", "HARDOCTOR_FAIL_ON"),
        ("HARDOCTOR_TIMEOUT", "abc", "HARDOCTOR_TIMEOUT"),
        ("HARDOCTOR_TIMEOUT", "-2", "HARDOCTOR_TIMEOUT"),
        ("HARDOCTOR_TIMEOUT", "0", "timeout"),
        ("HARDOCTOR_EXPIRY_WARNING", "soon", "HARDOCTOR_EXPIRY_WARNING"),
        ("HARDOCTOR_FORMAT", "xml", "xml"),
    ],
)
def test_bad_environment_twins_are_usage_errors(home: Path, var: str, value: str, needle: str) -> None:
    assert_usage_error(run_cli(["check", "--offline"], home=home, environ={var: value}), needle)


def test_hardoctor_format_json_twin(home: Path) -> None:
    r = run_cli(["check", "--offline"], home=home, environ={"HARDOCTOR_FORMAT": "json"})
    assert r.rc == 0, str(r)
    assert_valid_report(r.out)


def test_format_flag_beats_environment(home: Path) -> None:
    r = run_cli(["check", "--offline", "--format", "text"], home=home,
                environ={"HARDOCTOR_FORMAT": "json"})
    assert r.rc == 0, str(r)
    assert r.out.startswith(f"hardoctor {VERSION}")


def test_timeout_twin_and_flag_precedence(findings_home: Path) -> None:
    r = run_cli(["check", "--offline"], home=findings_home, autoload=True,
                environ={"HARDOCTOR_TIMEOUT": "2.5"})
    assert r.rc == 0, str(r)
    assert _seen_options()[-1].timeout == 2.5
    r = run_cli(["check", "--offline", "--timeout", "1"], home=findings_home, autoload=True,
                environ={"HARDOCTOR_TIMEOUT": "2.5"})
    assert r.rc == 0, str(r)
    assert _seen_options()[-1].timeout == 1.0
    r = run_cli(["check", "--offline"], home=findings_home, autoload=True)
    assert _seen_options()[-1].timeout == 5.0


def test_offline_and_harness_twins(findings_home: Path) -> None:
    r = run_cli(
        ["check", "--harness-host", "b.example:5000"],
        home=findings_home,
        autoload=True,
        environ={
            "HARDOCTOR_OFFLINE": "1",
            "HARDOCTOR_HARNESS_HOSTS": "a.example, ,c.example",
            "HARDOCTOR_HARNESS_API": "http://127.0.0.1:9/gateway",
            "HARDOCTOR_EXPIRY_WARNING": "3",
        },
    )
    assert r.rc == 0, str(r)
    opts = _seen_options()[-1]
    assert opts.offline is True
    assert opts.expiry_warning_days == 3.0
    # The Harness twins are the harness plugin's own options now (its typed
    # HarnessOptions; see tests/test_harness.py); the core only carries the
    # raw flag values.
    assert opts.strings("harness_host") == ("b.example:5000",)


# -- exit codes and --fail-on --------------------------------------------------------


def test_check_offline_empty_home_json(home: Path) -> None:
    r = run_cli(["check", "--offline", "--format", "json"], home=home)
    assert r.rc == 0, str(r)
    report = r.report()
    assert report["schema"] == "hardoctor/report/v1"
    assert report["tool"] == {"name": "hardoctor", "version": VERSION}
    assert report["summary"]["errors"] == 0
    assert report["summary"]["status"] in ("ok", "warn")


def test_check_offline_empty_home_text(home: Path) -> None:
    r = run_cli(["check", "--offline"], home=home)
    assert r.rc == 0, str(r)
    assert r.out.startswith(f"hardoctor {VERSION} · ")
    assert "offline" in r.out.splitlines()[0]
    assert r.out.rstrip().splitlines()[-1].startswith("0 errors · ")
    assert not ANSI_RE.search(r.out)


def test_default_fail_on_error(findings_home: Path) -> None:
    r = run_cli(["check", "--offline", "--format", "json"], home=findings_home, autoload=True)
    assert r.rc == 0, str(r)
    report = r.report()
    assert {f["rule"] for f in report["findings"]} == {"TST001", "TST003"}
    assert report["summary"] == {"errors": 0, "warnings": 1, "infos": 1, "status": "warn"}

    (findings_home / ".hdtest").write_text("warning\nerror\n", encoding="utf-8")
    r = run_cli(["check", "--offline", "--format", "json"], home=findings_home, autoload=True)
    assert r.rc == 1, str(r)
    report = r.report()
    assert report["summary"]["status"] == "fail"
    err = next(f for f in report["findings"] if f["rule"] == "TST002")
    assert err["cause"] == "token-expired"
    assert err["location"]["path"] == str(findings_home / ".hdtest")
    assert err["location"]["line"] == 2


@pytest.mark.parametrize(
    "content, fail_on, rc",
    [
        ("warning\n", "warning", 1),
        ("warning\n", "error", 0),
        ("info\n", "warning", 0),
        ("error\n", "never", 0),
        ("error\n", "warning", 1),
    ],
)
def test_fail_on(findings_home: Path, content: str, fail_on: str, rc: int) -> None:
    (findings_home / ".hdtest").write_text(content, encoding="utf-8")
    r = run_cli(["check", "--offline", "--fail-on", fail_on], home=findings_home, autoload=True)
    assert r.rc == rc, str(r)
    r = run_cli(["check", "--offline"], home=findings_home, autoload=True,
                environ={"HARDOCTOR_FAIL_ON": fail_on})
    assert r.rc == rc, str(r)


def test_fail_on_flag_beats_environment(findings_home: Path) -> None:
    r = run_cli(["check", "--offline", "--fail-on", "error"], home=findings_home, autoload=True,
                environ={"HARDOCTOR_FAIL_ON": "warning"})
    assert r.rc == 0, str(r)


# -- --output, colour --------------------------------------------------------------


def test_output_file_is_private_and_stdout_empty(findings_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    r = run_cli(["check", "--offline", "--format", "json", "--output", str(target)],
                home=findings_home, autoload=True)
    assert r.rc == 0, str(r)
    assert r.out == ""
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    report = assert_valid_report(target.read_text(encoding="utf-8"))
    assert "TST001" in {f["rule"] for f in report["findings"]}


def test_output_file_replaces_existing_content(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("x" * 100_000, encoding="utf-8")
    r = run_cli(["check", "--offline", "-o", str(target)], home=home)
    assert r.rc == 0, str(r)
    text = target.read_text(encoding="utf-8")
    assert text.startswith(f"hardoctor {VERSION}")
    assert "xxxx" not in text


def test_output_existing_file_becomes_private(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o644)
    r = run_cli(["check", "--offline", "--format", "json", "--output", str(target)], home=home)
    assert r.rc == 0, str(r)
    assert_valid_report(target.read_text(encoding="utf-8"))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_output_to_unwritable_place_is_usage_error(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "report.json"
    assert_usage_error(
        run_cli(["check", "--offline", "--output", str(target)], home=home), "--output"
    )


def test_text_output_colour_on_tty_only(findings_home: Path) -> None:
    r = run_cli(["check", "--offline"], home=findings_home, autoload=True, tty=True)
    assert r.rc == 0, str(r)
    assert SGR_RE.search(r.out), "expected colour on a terminal"
    plain = run_cli(["check", "--offline"], home=findings_home, autoload=True)
    assert not ANSI_RE.search(plain.out)


@pytest.mark.parametrize(
    "argv, environ",
    [
        (["--no-color"], {}),
        ([], {"NO_COLOR": "1"}),
    ],
)
def test_no_color(findings_home: Path, argv: list[str], environ: dict[str, str]) -> None:
    r = run_cli(["check", "--offline", *argv], home=findings_home, autoload=True, tty=True,
                environ=environ)
    assert r.rc == 0, str(r)
    assert not ANSI_RE.search(r.out), repr(r.out)
    # the spinner may move the cursor on a terminal, but never colours
    assert not SGR_RE.search(r.err), repr(r.err)
    assert "TST001" in r.out


# -- the tool failing ------------------------------------------------------------------


def test_internal_error_is_one_line_without_debug(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(ctx, manager):
        raise RuntimeError("the engine exploded")

    monkeypatch.setattr("hardoctor.engine.run", boom)
    r = run_cli(["check", "--offline"], home=home)
    assert r.rc == 2
    assert_no_traceback(r)
    lines = r.err.splitlines()
    assert lines[0] == "hardoctor: internal error: RuntimeError: the engine exploded"
    assert len(lines) <= 2
    assert r.out == ""


@pytest.mark.parametrize("how", ["flag", "env"])
def test_internal_error_traceback_with_debug(home: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    def boom(ctx, manager):
        raise RuntimeError("the engine exploded")

    monkeypatch.setattr("hardoctor.engine.run", boom)
    if how == "flag":
        r = run_cli(["check", "--offline", "--debug"], home=home)
    else:
        r = run_cli(["check", "--offline"], home=home, environ={"HARDOCTOR_DEBUG": "1"})
    assert r.rc == 2
    assert "Traceback (most recent call last)" in r.err
    assert "the engine exploded" in r.err
    assert r.err.rstrip().splitlines()[-1] == "hardoctor: internal error: RuntimeError: the engine exploded"


def test_internal_error_message_is_scrubbed(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    value = "int3rnal-err0r-s3cret-value"
    secret = Secret(value)

    def boom(ctx, manager):
        raise ValueError(f"token {secret.reveal()} rejected")

    monkeypatch.setattr("hardoctor.engine.run", boom)
    for argv in (["check", "--offline"], ["check", "--offline", "--debug"]):
        r = run_cli(argv, home=home)
        assert r.rc == 2
        assert value not in r.err + r.out
        assert f"#{secret.fingerprint}" in r.err
    assert redact.scrub(value) != value


def test_keyboard_interrupt_exit_2(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(ctx, manager):
        raise KeyboardInterrupt

    monkeypatch.setattr("hardoctor.engine.run", interrupted)
    r = run_cli(["check", "--offline"], home=home)
    assert r.rc == 2
    assert r.err == "hardoctor: interrupted\n"


# -- rules, explain, plugins -----------------------------------------------------------


def test_rules_text(home: Path) -> None:
    r = run_cli(["rules"], home=home)
    assert r.rc == 0, str(r)
    header, *rows = r.out.splitlines()
    assert header.split()[:5] == ["CODE", "NAME", "SEVERITY", "FIX", "PLUGIN"]
    hd001 = next(row for row in rows if row.startswith("HD001 "))
    assert "plugin-load-failed" in hd001 and "warning" in hd001 and "builtin" in hd001


def test_rules_json(home: Path) -> None:
    r = run_cli(["rules", "--format", "json"], home=home)
    assert r.rc == 0, str(r)
    rules = json.loads(r.out)
    assert isinstance(rules, list)
    codes = [rule["code"] for rule in rules]
    assert len(codes) == len(set(codes))
    assert codes == sorted(codes)
    assert {"HD001", "HD002", "HD003"} <= set(codes)
    for rule in rules:
        assert set(rule) >= {"code", "name", "severity", "fix", "plugin", "summary", "cause"}
        assert rule["severity"] in ("error", "warning", "info")
        assert rule["fix"] in (None, "safe", "unsafe")
        assert rule["plugin"]


def test_rules_include_plugin_rules(findings_home: Path) -> None:
    r = run_cli(["rules", "--format", "json"], home=findings_home, autoload=True)
    rules = {rule["code"]: rule for rule in json.loads(r.out)}
    assert rules["TST001"]["plugin"] == "hdtest"
    assert rules["TST002"]["cause"] == "token-expired"


@pytest.mark.parametrize("code", ["HD001", "hd001", "plugin-load-failed"])
def test_explain_known(home: Path, code: str) -> None:
    r = run_cli(["explain", code], home=home)
    assert r.rc == 0, str(r)
    lines = r.out.splitlines()
    assert lines[0] == "HD001 plugin-load-failed"
    for section in ("What it does", "Why it matters", "Example", "Fix"):
        assert section in r.out
    assert "severity: warning" in r.out


@pytest.mark.parametrize("code", ["XX999", "nonsense", "HD00"])
def test_explain_unknown_is_usage_error(home: Path, code: str) -> None:
    assert_usage_error(run_cli(["explain", code], home=home), code)


def test_plugins_text_lists_builtins(home: Path) -> None:
    r = run_cli(["plugins"], home=home)
    assert r.rc == 0, str(r)
    assert f"builtin {VERSION} (built-in)" in r.out
    assert "hooks: " in r.out


# -- end to end ---------------------------------------------------------------------------


def test_subprocess_check_offline_json(home: Path) -> None:
    r = run_subprocess(["check", "--offline", "--format", "json"], home=home)
    assert r.rc == 0, str(r)
    assert_no_traceback(r)
    assert_valid_report(r.out)


def test_subprocess_unknown_option(home: Path) -> None:
    r = run_subprocess(["check", "--nope"], home=home)
    assert_usage_error(r, "--nope")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--timeout", "inf"], "--timeout"),
        (["--timeout", "1e9"], "--timeout"),
        (["--timeout", "1e308"], "--timeout"),
        (["--timeout", "nan"], "--timeout"),
        (["--expiry-warning", "inf"], "--expiry-warning"),
        (["--ecosystem", "bogus"], "--ecosystem"),
        (["--project", "/nonexistent-hardoctor-dir"], "--project"),
    ],
)
def test_out_of_range_options_exit_2_naming_the_option(home: Path, args: list[str], needle: str) -> None:
    """A typo must never turn into a silent pass (or a hang) of a CI gate."""
    assert_usage_error(run_cli(["check", "--offline", *args], home=home), needle)


@pytest.mark.timeout(20)
def test_fifo_config_is_refused_at_once(home: Path) -> None:
    import os

    (home / ".docker").mkdir(exist_ok=True)
    os.mkfifo(home / ".docker" / "config.json")
    r = run_cli(["check", "--offline", "--format", "json", "--ecosystem", "docker"], home=home)
    report = assert_valid_report(r.out)
    hd3 = [f for f in report["findings"] if f["rule"] == "HD003"]
    assert hd3 and "FIFO" in hd3[0]["message"], str(r)
