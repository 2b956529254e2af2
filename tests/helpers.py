"""Shared test helpers: run the CLI in an isolated environment, validate
reports against the shipped JSON Schema, copy fixtures, fake plugin
distributions.

Import as ``from tests.helpers import ...`` (``tests/conftest.py`` puts the
repository root on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
IN_CI = os.environ.get("CI", "").strip().lower() == "true"

#: Matches any ANSI escape sequence (colour, cursor movement).
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: Matches ANSI colour/style (SGR) sequences only.
SGR_RE = re.compile(r"\x1b\[[0-9;]*m")


# -- running the CLI -------------------------------------------------------------


@dataclass
class Result:
    rc: int
    out: str
    err: str

    def json(self) -> Any:
        """The stdout parsed as JSON (no schema check: see :meth:`report`)."""
        try:
            return json.loads(self.out)
        except ValueError as exc:  # pragma: no cover - diagnostic only
            raise AssertionError(f"stdout is not JSON ({exc}):\n{self.out}\n--- stderr:\n{self.err}") from None

    def report(self) -> dict[str, Any]:
        """The stdout parsed as a ``hardoctor/report/v1`` document, validated."""
        data = self.json()
        assert_valid_report(data)
        return data

    def __str__(self) -> str:
        return f"rc={self.rc}\n--- stdout:\n{self.out}\n--- stderr:\n{self.err}"


class TTYStringIO(io.StringIO):
    """A StringIO that claims to be a terminal (to test colour and spinners)."""

    def isatty(self) -> bool:
        return True


def isolated_environ(
    home: str | os.PathLike[str],
    environ: Mapping[str, str | None] | None = None,
    *,
    autoload: bool = False,
) -> dict[str, str]:
    """Only PATH and LANG from the real environment, HOME set to ``home``,
    plugin autoload off unless ``autoload``; then ``environ`` on top (a value
    of ``None`` removes the variable)."""
    env: dict[str, str] = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "HOME": os.fspath(home),
        # Never the machine's real /run/containers/<uid>/auth.json.
        "XDG_RUNTIME_DIR": os.path.join(os.fspath(home), ".xdg-run"),
    }
    if not autoload:
        env["HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    for key, value in (environ or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@contextlib.contextmanager
def _swapped_os_environ(new: Mapping[str, str]) -> Iterator[None]:
    """Make ``os.environ`` equal ``new`` for the duration (then restore it).

    hardoctor reads variables through ``ctx.env``; libraries it calls (rich,
    the docker SDK) read ``os.environ``, and must not see the developer's real
    HOME or DOCKER_CONFIG either.
    """
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(new)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_cli(
    argv: list[str],
    *,
    home: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str | None] | None = None,
    stdin: str = "",
    autoload: bool = False,
    tty: bool = False,
    clock: Callable[[], datetime] | None = None,
) -> Result:
    """Run ``hardoctor.cli.main(argv)`` in-process with an isolated
    :class:`~hardoctor.env.Environment` (see :func:`isolated_environ`).

    ``cwd`` defaults to ``home`` so that no project file of the real working
    directory is read.  ``tty`` makes stdout and stderr claim to be terminals.
    """
    from hardoctor.cli import main
    from hardoctor.env import Environment

    env_vars = isolated_environ(home, environ, autoload=autoload)
    stream = TTYStringIO if tty else io.StringIO
    out, err = stream(), stream()
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["clock"] = clock
    env = Environment(
        stdout=out,
        stderr=err,
        stdin=io.StringIO(stdin),
        environ=env_vars,
        cwd=os.fspath(cwd if cwd is not None else home),
        home=os.fspath(home),
        **kwargs,
    )
    with _swapped_os_environ(env_vars):
        rc = main(list(argv), env=env)
    assert isinstance(rc, int), f"main() returned {rc!r}, not an int"
    return Result(int(rc), out.getvalue(), err.getvalue())


@lru_cache(maxsize=1)
def code_pythonpath() -> list[str]:
    """The directories this test process imports hardoctor and its built-in
    plugins from, so a subprocess runs the very same code."""
    paths: list[str] = []
    for name in ("hardoctor", *(f"hardoctor_{p}" for p in ("docker", "harness", "npm", "pip", "maven", "k8s"))):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        parent = str(Path(spec.origin).resolve().parent.parent)
        if parent not in paths:
            paths.append(parent)
    return paths


def run_subprocess(
    argv: list[str],
    *,
    home: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str | None] | None = None,
    stdin: str = "",
    autoload: bool = False,
    executable: list[str] | None = None,
    extra_pythonpath: list[str] | None = None,
    timeout: float = 60,
) -> Result:
    """Run ``python -m hardoctor ARGV`` (or ``executable + ARGV``) in a real
    process with the isolated environment of :func:`isolated_environ`.

    With the default executable, PYTHONPATH points at the code this test
    process imports (plus ``extra_pythonpath``); with an explicit
    ``executable`` (a venv's ``hardoctor``), PYTHONPATH is left unset.
    """
    env = isolated_environ(home, environ, autoload=autoload)
    if executable is None:
        cmd = [sys.executable, "-m", "hardoctor", *argv]
        env["PYTHONPATH"] = os.pathsep.join([*(extra_pythonpath or []), *code_pythonpath()])
    else:
        cmd = [*executable, *argv]
        if extra_pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(extra_pythonpath)
    proc = subprocess.run(
        cmd,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=os.fspath(cwd if cwd is not None else home),
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_no_traceback(result: Result) -> None:
    for name, text in (("stdout", result.out), ("stderr", result.err)):
        assert "Traceback (most recent call last)" not in text, f"traceback on {name}:\n{result}"


def assert_usage_error(result: Result, *needles: str) -> str:
    """Exit 2, no traceback, one ``hardoctor: error:`` line on stderr (plus
    at most a hint line); returns the error line."""
    assert result.rc == 2, str(result)
    assert_no_traceback(result)
    lines = result.err.splitlines()
    assert lines, f"no message on stderr:\n{result}"
    assert lines[0].startswith("hardoctor: error: "), str(result)
    assert len(lines) <= 2, f"more than one line plus a hint:\n{result}"
    if len(lines) == 2:
        assert "--help" in lines[1], str(result)
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]


# -- the report schema -----------------------------------------------------------

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$"
)


def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema
    from jsonschema import Draft202012Validator, FormatChecker

    from hardoctor.report import schema_path

    with open(schema_path(), encoding="utf-8") as fh:
        schema = json.load(fh)
    Draft202012Validator.check_schema(schema)
    checker = FormatChecker()
    if "date-time" not in checker.checkers:
        # jsonschema checks date-time only when rfc3339-validator is installed;
        # never let format checking silently switch off.
        checker.checks("date-time", raises=ValueError)(_is_rfc3339)
    assert jsonschema.validators.validator_for(schema) is Draft202012Validator
    return Draft202012Validator(schema, format_checker=checker)


def report_errors(obj_or_text: Any) -> list[str]:
    """Every schema violation of a report, as ``path: message`` strings."""
    data = json.loads(obj_or_text) if isinstance(obj_or_text, (str, bytes)) else obj_or_text
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]


def assert_valid_report(obj_or_text: Any) -> dict[str, Any]:
    """Validate a JSON report (text or parsed) against the shipped schema
    (Draft 2020-12, format checking on); return the parsed document."""
    data = json.loads(obj_or_text) if isinstance(obj_or_text, (str, bytes)) else obj_or_text
    errors = report_errors(data)
    assert not errors, "report does not match the schema:\n  " + "\n  ".join(errors)
    return data


# -- fixtures and binaries ---------------------------------------------------------


def copy_fixture(name: str, dest: str | os.PathLike[str]) -> Path:
    """Copy ``tests/fixtures/NAME/`` (a HOME layout) into ``dest``; return it."""
    src = FIXTURES / name
    if not src.is_dir():
        raise FileNotFoundError(f"no fixture folder {src}")
    dest = Path(dest)
    shutil.copytree(src, dest, dirs_exist_ok=True, symlinks=True)
    return dest


def require_binary(name: str) -> str:
    """Path of binary ``name``; when missing, fail under ``CI=true`` and
    skip locally."""
    path = shutil.which(name)
    if path is not None:
        return path
    reason = f"required binary {name!r} not found on PATH"
    try:
        from tests.servers.util import server_missing
    except ImportError:  # pragma: no cover - the servers package is optional
        import pytest

        if IN_CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    server_missing(reason)
    raise AssertionError("unreachable")  # pragma: no cover


# -- fake plugin distributions ------------------------------------------------------


def make_distribution(
    site: str | os.PathLike[str],
    dist_name: str,
    version: str,
    modules: Mapping[str, str],
    entry_points: Mapping[str, str],
    *,
    group: str = "hardoctor",
) -> Path:
    """Write an installed-looking distribution into directory ``site``:
    ``MODULE.py`` files (sources dedented) and ``NAME-VERSION.dist-info`` with
    METADATA and ``entry_points.txt``.  Put ``site`` on ``sys.path`` (or on
    PYTHONPATH of a subprocess) and ``importlib.metadata`` finds it exactly as
    it finds a pip-installed plugin."""
    site = Path(site)
    site.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    norm = re.sub(r"[-_.]+", "_", dist_name)
    info = site / f"{norm}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = [f"[{group}]"] + [f"{name} = {value}" for name, value in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return info


def finding_codes(report: Mapping[str, Any]) -> list[str]:
    return [f["rule"] for f in report["findings"]]


#: Source of a small plugin for CLI and plugin tests.  It reads ``~/.hdtest``
#: and reports one finding per line naming a severity (``error``,
#: ``warning``, ``info``), with that line's number; every ``ctx.options`` it
#: is configured with is appended to ``SEEN``.
TEST_PLUGIN_SOURCE = '''
import os

from hardoctor import hookimpl
from hardoctor.model import Location, Rule, Severity, Source

__version__ = "9.8.7"
SEEN = []
CODES = {"error": "TST002", "warning": "TST001", "info": "TST003"}


@hookimpl
def hardoctor_register_rules(register):
    register(Rule(code="TST001", name="test-warning", severity=Severity.WARNING,
                  summary="A test warning.", explain="What it does\\n  Tests.\\n",
                  cause="insecure-storage"))
    register(Rule(code="TST002", name="test-error", severity=Severity.ERROR,
                  summary="A test error.", explain="What it does\\n  Tests.\\n",
                  cause="token-expired"))
    register(Rule(code="TST003", name="test-info", severity=Severity.INFO,
                  summary="A test info.", explain="What it does\\n  Tests.\\n"))


@hookimpl
def hardoctor_configure(ctx):
    SEEN.append(ctx.options)


@hookimpl
def hardoctor_discover(ctx):
    path = os.path.join(ctx.home, ".hdtest")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    return [Source(id="hdtest:" + path, ecosystem="hdtest", kind="file",
                   description="the hdtest file", path=path, text=text)]


@hookimpl
def hardoctor_lint(source, ctx):
    if source.ecosystem != "hdtest":
        return None
    out = []
    for number, line in enumerate(source.text.splitlines(), 1):
        word = line.strip()
        if word in CODES:
            out.append(ctx.finding(CODES[word], "a " + word + " on purpose",
                                   location=Location(source.path, number),
                                   ecosystem="hdtest", registry="hdtest.example"))
    return out
'''


def install_test_plugin(
    site: str | os.PathLike[str],
    *,
    module: str = "hdtest_plugin",
    entry_point: str = "hdtest",
    dist_name: str = "hardoctor-hdtest",
    version: str = "9.8.7",
) -> Path:
    """Install :data:`TEST_PLUGIN_SOURCE` as a fake distribution in ``site``."""
    return make_distribution(
        site, dist_name, version, {module: TEST_PLUGIN_SOURCE}, {entry_point: module}
    )
