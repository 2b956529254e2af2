"""The CI recipes of ``docs/ci.md``, tested as written.

Each recipe is a fenced ``yaml`` block right after a ``<!-- recipe: NAME -->``
marker.  For each one:

- its YAML is parsed (YAML 1.2 booleans, as GitHub and GitLab read it: the
  key ``on`` stays a string) and its structure checked; the GitHub workflow
  and the GitLab job are also validated against SchemaStore's schemas, the
  copies the ``check-jsonschema`` package ships;
- its shell commands are extracted and run for real with bash, in a
  checkout directory, against a fixture HOME -- one with an error
  (``docker-bad-base64``) and a clean one (``docker-good``) -- with this
  checkout's ``hardoctor`` first on ``PATH``.  The ``pip install hardoctor``
  line is checked, not run (``hardoctor`` is already there); a network
  upload is a fake ``curl`` that records what it was given; probes are off
  (``HARDOCTOR_OFFLINE=1``: the tests never leave the machine).
- asserted: the build fails on errors and passes when clean, and the report
  the recipe uploads is produced and valid (SARIF through the independent
  model and the official schema, JSON through the shipped JSON Schema).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.helpers import IN_CI, ROOT, assert_valid_report, code_pythonpath, copy_fixture
from tests.test_report_sarif import assert_valid_sarif

DOC = ROOT / "docs" / "ci.md"
RECIPES = ("github-actions", "harness-ci", "gitlab-ci")
INSTALL_RE = re.compile(r"^python3? -m pip install (--quiet )?hardoctor$")
#: (fixture HOME, the exit status the check gives, i.e. whether the build fails)
HOMES = {"broken": ("docker-bad-base64", 1), "clean": ("docker-good", 0)}


# -- reading the document -------------------------------------------------------------------------


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 core booleans: only true/false.  PyYAML's 1.1 rules turn the
    workflow key ``on`` into True."""


_Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader subclass


@lru_cache(maxsize=1)
def recipes() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"<!-- recipe: ([a-z0-9-]+) -->\s*\n```yaml\n(.*?)\n```", text, re.S)
    out = dict(found)
    assert len(out) == len(found), "a recipe name is used twice"
    return out


def recipe(name: str) -> Any:
    return load_yaml(recipes()[name])


def test_every_recipe_is_in_the_document() -> None:
    assert sorted(recipes()) == sorted(RECIPES)


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@cache
def _schema_validator(name: str) -> Any:
    try:
        from importlib.resources import files

        text = files("check_jsonschema.builtin_schemas.vendor").joinpath(name).read_text(
            encoding="utf-8")
    except (ImportError, FileNotFoundError, ModuleNotFoundError):
        return None
    import jsonschema

    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def assert_schema_valid(doc: Any, schema_name: str) -> None:
    validator = _schema_validator(schema_name)
    if validator is None:
        _missing("check-jsonschema (SchemaStore's CI schemas) is not installed "
                 "(scripts/install-ci-deps.sh)")
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
              for e in validator.iter_errors(doc)]
    assert not errors, f"not a valid {schema_name} document:\n  " + "\n  ".join(errors)


def _check_command(line: str) -> list[str]:
    """The argv of the ``hardoctor check`` in a shell line (None when there is none)."""
    words = shlex.split(line, comments=True)
    for i in range(len(words) - 1):
        if words[i] == "hardoctor" and words[i + 1] == "check":
            return words[i:]
    return []


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


# -- structure ------------------------------------------------------------------------------------


def test_github_actions_structure() -> None:
    wf = recipe("github-actions")
    assert_schema_valid(wf, "github-workflows.json")
    assert wf["permissions"]["security-events"] == "write"  # upload-sarif needs it
    steps = wf["jobs"]["hardoctor"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    runs = [s for s in steps if "run" in s]
    assert any(INSTALL_RE.match(s["run"].strip()) for s in runs)
    check = next(s for s in runs if _check_command(s["run"]) and "if" not in s)
    argv = _check_command(check["run"])
    assert _option(argv, "--format") == "sarif"
    sarif = _option(argv, "--output")
    assert sarif and _option(argv, "--fail-on") in (None, "error", "warning")
    upload = next(s for s in steps if str(s.get("uses", "")).startswith(
        "github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == sarif
    assert "!cancelled()" in upload["if"] or "always()" in upload["if"]
    assert steps.index(upload) > steps.index(check)
    annotate = next(s for s in runs if "--format github" in s["run"])
    assert "!cancelled()" in annotate["if"] or "always()" in annotate["if"]


def test_gitlab_ci_structure() -> None:
    doc = recipe("gitlab-ci")
    assert_schema_valid(doc, "gitlab-ci.json")
    job = doc["hardoctor"]
    assert job["image"].startswith("python:")
    assert any(INSTALL_RE.match(line) for line in job["script"])
    argv = next(_check_command(line) for line in job["script"] if _check_command(line))
    assert _option(argv, "--format") == "json"
    report = _option(argv, "--output")
    assert job["artifacts"]["paths"] == [report]
    assert job["artifacts"]["when"] == "always"  # keep the report of a failed job
    assert not job.get("allow_failure", False)


def test_harness_ci_structure() -> None:
    steps = recipe("harness-ci")
    assert isinstance(steps, list) and len(steps) == 1
    step = steps[0]["step"]
    assert step["type"] == "Run"
    assert re.fullmatch(r"[a-zA-Z_][0-9a-zA-Z_$]{0,127}", step["identifier"])
    spec = step["spec"]
    assert spec["shell"] == "Bash"
    assert spec["image"].startswith("python:") and spec["connectorRef"]
    lines = spec["command"].splitlines()
    assert any(INSTALL_RE.match(line.strip()) for line in lines)
    argv = next(_check_command(line) for line in lines if _check_command(line))
    assert _option(argv, "--format") == "json"
    for value in spec["envVariables"].values():
        assert isinstance(value, str)
        assert "secrets.getValue" not in value or value.startswith("<+secrets.getValue(")
    assert spec["command"].rstrip().endswith("exit $status")


def test_harness_recipe_names_the_principal() -> None:
    """The seed's pipeline identity model is stated next to the recipe."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Harness CI"):text.index("### GitLab CI")]
    flat = " ".join(section.split())
    for needle in ("triggering user", "webhook", "schedule", "Internal Developer Portal",
                   "service account", "*read*", "*write*", "403"):
        assert needle in flat, needle


# -- running the commands ------------------------------------------------------------------


@dataclass
class Sandbox:
    home: Path
    checkout: Path
    bin: Path
    uploads: Path
    #: what `hardoctor check` must exit with over this HOME (1: the build fails)
    expected_rc: int
    env: dict[str, str] = field(default_factory=dict)

    def bash(self, script: str, *, errexit: bool = True, extra: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
        argv = ["bash", "--noprofile", "--norc"] + (["-eo", "pipefail"] if errexit else []) + [
            "-c", script]
        return subprocess.run(argv, cwd=self.checkout, env={**self.env, **(extra or {})},
                              capture_output=True, text=True, timeout=120, check=False)


FAKE_CURL = """#!/bin/sh
# A stand-in for curl: records the call, and "uploads" every --form file=@PATH
# by copying it to $HD_UPLOADS.  Fails (as curl would) on a file that does
# not exist.
printf '%s\\n' "$*" >> "$HD_UPLOADS/curl.log"
for arg in "$@"; do
  case "$arg" in
    file=@*)
      path="${arg#file=@}"
      [ -f "$path" ] || { echo "curl: can't open '$path'" >&2; exit 26; }
      cp "$path" "$HD_UPLOADS/"
      ;;
  esac
done
exit 0
"""


@pytest.fixture(params=sorted(HOMES))
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Sandbox:
    fixture, _ = HOMES[request.param]
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    copy_fixture(fixture, home)
    # git keeps no file modes: make the config as private as `docker login` does.
    for path in home.rglob("*.json"):
        path.chmod(0o600)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "README.md").write_text("a project\n", encoding="utf-8")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    # `hardoctor` from this checkout, whatever is installed elsewhere.
    wrapper = bindir / "hardoctor"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m hardoctor \"$@\"\n",
                       encoding="utf-8")
    curl = bindir / "curl"
    curl.write_text(FAKE_CURL, encoding="utf-8")
    for exe in (wrapper, curl):
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    env = {
        "PATH": f"{bindir}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(code_pythonpath()),
        "HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1",
        "HARDOCTOR_OFFLINE": "1",
        "HD_UPLOADS": str(uploads),
        "CI": "true",
    }
    return Sandbox(home, checkout, bindir, uploads, HOMES[request.param][1], env)


def _without_install(lines: list[str]) -> tuple[str, int]:
    """The script without its ``pip install hardoctor`` lines (``hardoctor``
    from this checkout is on PATH instead), and how many there were."""
    out = [line for line in lines if not INSTALL_RE.match(line.strip())]
    return "\n".join(out), len(lines) - len(out)


_SECRET_EXPR = re.compile(r"\$\{\{\s*secrets\.[A-Za-z0-9_]+\s*\}\}")


def _github_if(expr: str, failed: bool, checkout: Path) -> bool:
    """Evaluate the few status functions the recipe uses."""
    body = expr.strip()
    if body.startswith("${{") and body.endswith("}}"):
        body = body[3:-2].strip()

    def hash_files(m: re.Match[str]) -> str:
        return "'h'" if (checkout / m.group(1)).exists() else "''"

    py = re.sub(r"hashFiles\('([^']+)'\)", hash_files, body)
    py = (py.replace("!cancelled()", "True").replace("always()", "True")
          .replace("success()", str(not failed)).replace("failure()", str(failed))
          .replace("&&", " and ").replace("||", " or ").replace("!=", " != "))
    assert re.fullmatch(r"[\sA-Za-z'()=!]*", py), f"unsupported expression {expr!r}"
    result = eval(py, {"__builtins__": {}}, {})  # noqa: S307 - a checked, tiny grammar
    return bool(result)


def test_github_actions_runs(sandbox: Sandbox) -> None:
    wf = recipe("github-actions")
    job = wf["jobs"]["hardoctor"]
    env = {k: _SECRET_EXPR.sub("hdfake-ci-secret-0001", str(v))
           for k, v in job.get("env", {}).items()}
    failed = False
    ran: list[str] = []
    uploaded: list[str] = []
    installs = 0
    for step in job["steps"]:
        condition = step.get("if")
        run_it = _github_if(condition, failed, sandbox.checkout) if condition else not failed
        if not run_it:
            continue
        if "uses" in step:
            if step["uses"].startswith("github/codeql-action/upload-sarif@"):
                uploaded.append(step["with"]["sarif_file"])
            continue  # actions (checkout, setup-python) are GitHub's
        script, n = _without_install(step["run"].splitlines())
        installs += n
        if not script.strip():
            continue
        # GitHub runs `run` with `bash --noprofile --norc -eo pipefail`.
        proc = sandbox.bash(script, extra={**env, **step.get("env", {})})
        ran.append(step.get("name", script))
        assert "Traceback" not in proc.stderr, proc.stderr
        if "--format github" in script:
            assert proc.returncode == 0, proc.stderr  # --fail-on never
            lines = proc.stdout.splitlines()
            assert lines and lines[-1].startswith("hardoctor "), proc.stdout
            kinds = ("::error ", "::warning ", "::notice ")
            assert all(line.startswith(kinds) for line in lines[:-1])
            assert bool(lines[:-1]) == bool(sandbox.expected_rc)
        elif _check_command(script):
            assert proc.returncode == sandbox.expected_rc, (
                f"{script}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        if proc.returncode != 0:
            failed = True
    assert installs == 1
    assert "Check registry credentials" in ran
    assert failed == bool(sandbox.expected_rc)  # the job fails on errors
    assert uploaded == ["hardoctor.sarif"], "the SARIF is uploaded, failed or not"
    doc = assert_valid_sarif((sandbox.checkout / "hardoctor.sarif").read_text(encoding="utf-8"))
    results = doc["runs"][0]["results"]
    assert bool(any(r["level"] == "error" for r in results)) == bool(sandbox.expected_rc)


def test_gitlab_ci_runs(sandbox: Sandbox) -> None:
    job = recipe("gitlab-ci")["hardoctor"]
    env = {k: str(v) for k, v in job.get("variables", {}).items()}
    # The runner stops the job at the first line that fails.
    script, installs = _without_install(list(job["script"]))
    assert installs == 1
    proc = sandbox.bash(script, extra=env)
    assert proc.returncode == sandbox.expected_rc, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for path in job["artifacts"]["paths"]:  # when: always -- kept either way
        report = assert_valid_report((sandbox.checkout / path).read_text(encoding="utf-8"))
        assert report["summary"]["status"] == ("fail" if sandbox.expected_rc else "ok")


def test_harness_ci_runs(sandbox: Sandbox) -> None:
    spec = recipe("harness-ci")[0]["step"]["spec"]
    env = {}
    for key, value in spec["envVariables"].items():
        value = re.sub(r"<\+secrets\.getValue\(\"[^\"]+\"\)>", "hdfake-harness-secret-0002",
                       str(value))
        value = value.replace("<+account.identifier>", "AcctX1")
        value = value.replace("<+pipeline.sequenceId>", "42")
        assert "<+" not in value, f"unresolved expression in {key}"
        env[key] = value
    script, installs = _without_install(spec["command"].splitlines())
    assert installs == 1
    # Harness runs the command with bash; -e is the stricter reading.
    for errexit in (True, False):
        for old in sandbox.uploads.glob("*"):
            old.unlink()
        proc = sandbox.bash(script, errexit=errexit, extra=env)
        assert proc.returncode == sandbox.expected_rc, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        log = (sandbox.uploads / "curl.log").read_text(encoding="utf-8")
        assert "https://pkg.harness.io/pkg/AcctX1/ci-reports/generic/hardoctor-report/42" in log
        assert "x-api-key: hdfake-harness-secret-0002" in log
        uploaded = sandbox.uploads / "hardoctor-report.json"
        report = assert_valid_report(uploaded.read_text(encoding="utf-8"))
        assert (report["summary"]["errors"] > 0) == bool(sandbox.expected_rc)


def test_harness_ci_tool_failure_is_not_hidden(sandbox: Sandbox) -> None:
    """When hardoctor itself cannot run (exit 2, no report), the step fails
    with 2 and uploads nothing."""
    spec = recipe("harness-ci")[0]["step"]["spec"]
    script, _ = _without_install(spec["command"].splitlines())
    proc = sandbox.bash(script, extra={"HARDOCTOR_FAIL_ON": "sometimes", "HAR_ACCOUNT": "A",
                                        "HAR_REPORTS_REGISTRY": "r", "REPORT_VERSION": "1",
                                        "HAR_UPLOAD_KEY": "k"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert not (sandbox.uploads / "curl.log").exists()
