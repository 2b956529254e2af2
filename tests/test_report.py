"""Reporters over a hand-built Report: the text layout and the JSON document."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from tests.helpers import ANSI_RE, SGR_RE, assert_valid_report, report_errors

import hardoctor
from hardoctor.context import Context, Options
from hardoctor.env import Environment
from hardoctor.model import (
    Applicability,
    ChainStep,
    Credential,
    Edit,
    Finding,
    Fix,
    Location,
    ProbeResult,
    Remediation,
    Report,
    Resolution,
    Secret,
    Severity,
    Source,
    Target,
    TokenInfo,
)
from hardoctor.report import JsonReporter, iso, schema_path, scrub_values, to_dict
from hardoctor.report.text import TextReporter
from hardoctor.rules import RuleRegistry

HOME = "/home/dev"
DOCKER_VALUE = "pat.AcmeX1.abc123.r3portS3cretValue"
NPM_VALUE = "npm_r3portS3cretNpmToken000"
STARTED = datetime(2026, 11, 28, 9, 30, 0, tzinfo=timezone.utc)
LONG = "a very long message " * 15


def ctx(command: str = "check") -> Context:
    # With the built-in plugins loaded: client display names come from them.
    from hardoctor.plugins import PluginManager

    manager = PluginManager(autoload=False)
    manager.load()
    return Context(Options(command=command), Environment(environ={}, home=HOME, cwd=HOME),
                   RuleRegistry(), manager)


def build_report(*, offline: bool = False, extra_findings: tuple[Finding, ...] = ()) -> Report:
    docker_secret = Secret(DOCKER_VALUE)
    npm_secret = Secret(NPM_VALUE)
    cfg = f"{HOME}/.docker/config.json"
    npmrc = f"{HOME}/.npmrc"
    sources = (
        Source(id="docker:config", ecosystem="docker", kind="file", description="Docker CLI config",
               path=cfg, text="{}"),
        Source(id="npm:userconfig", ecosystem="npm", kind="file", description="npm user config",
               path=npmrc),
        Source(id="npm:project", ecosystem="npm", kind="file", description="npm project config",
               path="/work/.npmrc", exists=False),
        Source(id="env:DOCKER_AUTH_CONFIG", ecosystem="docker", kind="env",
               description="DOCKER_AUTH_CONFIG"),
    )
    docker_cred = Credential(
        id="docker:config:pkg.harness.io",
        ecosystem="docker",
        registry="pkg.harness.io",
        host="pkg.harness.io",
        source="docker:config",
        location=Location(cfg, 4, 7, 'auths["pkg.harness.io"]'),
        username="dev@acme.io",
        secret=docker_secret,
        clients=("docker", "podman"),
        token=TokenInfo(
            kind="harness-pat",
            fingerprint=docker_secret.fingerprint,
            account_id="AcmeX1",
            token_id="abc123",
            expires_at=STARTED - timedelta(days=7),
            expiry_source="harness-api",
            status="expired",
        ),
    )
    npm_cred = Credential(
        id="npm:userconfig:npm.example.com",
        ecosystem="npm",
        registry="//npm.example.com/",
        host="npm.example.com",
        source="npm:userconfig",
        location=Location(npmrc, 2),
        secret=npm_secret,
        scheme="bearer",
    )
    image = Target(raw="pkg.harness.io/acmex1/docker-prod/web:1.4", kind="image",
                   host="pkg.harness.io", ecosystem="docker", name="acmex1/docker-prod/web",
                   reference="1.4")
    resolutions = (
        Resolution(target=image, ecosystem="docker", client="docker", credential=docker_cred,
                   registry="pkg.harness.io",
                   chain=(ChainStep("credsStore", "skipped", "not configured"),
                          ChainStep('auths["pkg.harness.io"]', "used", credential=docker_cred.id,
                                    location=docker_cred.location))),
        Resolution(target=image, ecosystem="docker", client="podman", credential=docker_cred,
                   registry="pkg.harness.io"),
        Resolution(target=Target(raw="ghcr.io", kind="registry", host="ghcr.io"),
                   ecosystem="docker", client="docker", credential=None),
        Resolution(target=Target(raw="npm.example.com", kind="registry", host="npm.example.com"),
                   ecosystem="npm", client="npm", credential=npm_cred, registry="npm.example.com"),
    )
    probes = (
        ProbeResult(url="https://pkg.harness.io/v2/", outcome="unauthorized", status=401,
                    credential=docker_cred.id, elapsed_ms=12.345, detail="challenge"),
        ProbeResult(url="https://pkg.harness.io/v2/token?scope=x", outcome="unauthorized",
                    status=401, error_code="UNAUTHORIZED", credential=docker_cred.id, elapsed_ms=8.0),
        ProbeResult(url="https://ghcr.io/v2/", outcome="not-probed"),
    )
    safe_fix = Fix("tighten the permissions to 0600", Applicability.SAFE,
                   (Edit(npmrc, 0, 0, "", "0" * 64, mode=0o600),))
    unsafe_fix = Fix("remove the credsStore entry", Applicability.UNSAFE,
                     (Edit(cfg, 10, 30, "", "0" * 64),))
    findings = (
        Finding(
            rule="HAR101", name="token-expired", severity=Severity.ERROR, cause="token-expired",
            message="The token Docker sends expired on 2026-11-21 (from the Harness API).",
            ecosystem="docker", location=docker_cred.location, credential=docker_cred.id,
            registry="pkg.harness.io",
            why="the registry refuses an expired token with 401",
            evidence=("the token endpoint answered 401",),
            remediation=Remediation(
                summary="Create a new token and log in again.",
                steps=("Create a new token in Harness.", "Log in with it."),
                commands=("printf '%s' \"$TOKEN\" | docker login pkg.harness.io -u dev@acme.io --password-stdin",),
                docs=("https://developer.harness.io/docs/artifact-registry",),
            ),
        ),
        Finding(
            rule="NPM012", name="credential-shadowed", severity=Severity.WARNING,
            cause="credential-shadowed", message="./.npmrc:1 overrides the token in ~/.npmrc [bold]x[/bold] [/]",
            ecosystem="npm", location=Location(npmrc, 2), credential=npm_cred.id,
            registry="npm.example.com", fix=safe_fix,
        ),
        Finding(
            rule="DKR012", name="insecure-file-mode", severity=Severity.WARNING,
            cause="insecure-storage", message=LONG.strip(), ecosystem="docker",
            location=Location(cfg), fix=unsafe_fix,
        ),
        Finding(rule="HD001", name="plugin-load-failed", severity=Severity.WARNING, cause=None,
                message="plugin 'acme': cannot import acme", plugin="acme"),
        Finding(rule="DKR099", name="some-info", severity=Severity.INFO, cause=None,
                message="an informational note", registry="pkg.harness.io"),
        *extra_findings,
    )
    return Report(
        started_at=STARTED,
        duration_ms=410.0,
        sources=sources,
        credentials=(docker_cred, npm_cred),
        resolutions=resolutions,
        probes=probes,
        findings=findings,
        offline=offline,
    )


# -- text ----------------------------------------------------------------------------------


@pytest.fixture
def text() -> str:
    return TextReporter(color=False, width=400).render(build_report(), ctx())


def test_header_line() -> None:
    report = build_report()
    report = dataclasses.replace(report, probes=report.probes[:2])
    assert TextReporter(width=120).render(report, ctx()).splitlines()[0] == (
        f"hardoctor {hardoctor.__version__} · 2 config files · 2 credentials · "
        "1 registry probed in 0.41 s"
    )


def test_header_does_not_count_not_probed(text: str) -> None:
    assert "· 1 registry probed in 0.41 s" in text.splitlines()[0]


def test_offline_header() -> None:
    out = TextReporter(width=120).render(build_report(offline=True), ctx())
    assert out.splitlines()[0].endswith("3 registries (offline, not probed)")


def test_verdict_marks_per_registry_in_order(text: str) -> None:
    verdicts = [line for line in text.splitlines() if line[:2] in ("✗ ", "! ", "✓ ")]
    assert verdicts == [
        "✗ pkg.harness.io   Docker CLI · podman/skopeo/buildah",
        "! npm.example.com   npm",
        "✓ ghcr.io   Docker CLI",
        "! configuration",
    ]


def test_findings_under_their_registry(text: str) -> None:
    lines = text.splitlines()
    start = lines.index("✗ pkg.harness.io   Docker CLI · podman/skopeo/buildah")
    end = lines.index("! npm.example.com   npm")
    block = "\n".join(lines[start:end])
    assert "  error: HAR101 token-expired (token-expired)  The token Docker sends expired" in block
    assert "  info: DKR099 some-info  an informational note" in block
    assert block.index("error: HAR101") < block.index("info: DKR099")


def test_where_uses_why_fix_rows(text: str) -> None:
    assert '    where   ~/.docker/config.json:4  auths["pkg.harness.io"]' in text
    fp = Secret(DOCKER_VALUE).fingerprint
    assert (f'    uses    ~/.docker/config.json:4  auths["pkg.harness.io"]  dev@acme.io  '
            f"harness-pat account AcmeX1 #{fp}") in text
    assert "    why     the registry refuses an expired token with 401" in text
    assert "    seen    the token endpoint answered 401" in text
    assert "    fix     Create a new token and log in again." in text
    assert "            1. Create a new token in Harness." in text
    assert "            2. Log in with it." in text
    assert "            $ printf '%s' \"$TOKEN\" | docker login pkg.harness.io" in text
    assert "            see https://developer.harness.io/docs/artifact-registry" in text
    assert "    where   ~/.npmrc:2" in text
    assert "    autofix tighten the permissions to 0600 (safe: hardoctor fix --apply)" in text
    assert "    autofix remove the credsStore entry (unsafe: hardoctor fix --unsafe --apply)" in text


def test_resolution_lines(text: str) -> None:
    assert "  Docker CLI: sends no credentials" in text
    fp = Secret(NPM_VALUE).fingerprint
    assert f"  npm: uses ~/.npmrc:2  #{fp}" in text


def test_summary_line(text: str) -> None:
    assert text.rstrip("\n").splitlines()[-1] == (
        "1 error · 3 warnings · 1 info · run `hardoctor fix` to see 1 safe fix (and 1 more with --unsafe)"
    )
    fix_text = TextReporter(width=200).render(build_report(), ctx("fix"))
    assert fix_text.rstrip("\n").splitlines()[-1] == "1 error · 3 warnings · 1 info"


def test_plain_text_no_ansi_no_secret_no_wrap(text: str) -> None:
    assert not ANSI_RE.search(text)
    assert DOCKER_VALUE not in text and NPM_VALUE not in text
    # rich markup in messages is printed literally
    assert "~/.npmrc [bold]x[/bold] [/]" in text
    # a line that fits the width is not wrapped
    assert any(LONG.strip() in line for line in text.splitlines())


def test_plain_text_is_deterministic() -> None:
    assert TextReporter().render(build_report(), ctx()) == TextReporter().render(build_report(), ctx())


def test_colour_text_has_styles_but_same_words() -> None:
    coloured = TextReporter(color=True).render(build_report(), ctx())
    assert SGR_RE.search(coloured)
    plain = ANSI_RE.sub("", coloured)
    assert "✗ pkg.harness.io" in plain
    assert "[bold]x[/bold] [/]" in plain
    assert DOCKER_VALUE not in coloured


def test_empty_report_text() -> None:
    empty = Report(started_at=STARTED, duration_ms=3.0, sources=(), credentials=(), resolutions=(),
                   probes=(), findings=(), offline=True)
    out = TextReporter(width=120).render(empty, ctx())
    assert out.splitlines()[0].endswith("0 config files · 0 credentials · 0 registries (offline, not probed)")
    assert out.rstrip("\n").splitlines()[-1] == "0 errors · 0 warnings"


# -- JSON -------------------------------------------------------------------------------------


def test_to_dict_validates_and_matches_design() -> None:
    doc = to_dict(build_report())
    assert_valid_report(doc)
    assert doc["schema"] == "hardoctor/report/v1"
    assert doc["tool"] == {"name": "hardoctor", "version": hardoctor.__version__}
    assert doc["started_at"] == "2026-11-28T09:30:00Z"
    assert doc["summary"] == {"errors": 1, "warnings": 3, "infos": 1, "status": "fail"}
    cred = doc["credentials"][0]
    assert cred["secret"] == {
        "kind": "harness-pat",
        "fingerprint": Secret(DOCKER_VALUE).fingerprint,
        "account_id": "AcmeX1",
        "token_id": "abc123",
        "expires_at": "2026-11-21T09:30:00Z",
        "expiry_source": "harness-api",
        "status": "expired",
    }
    assert cred["location"] == {"path": f"{HOME}/.docker/config.json", "line": 4, "column": 7,
                                "key": 'auths["pkg.harness.io"]'}
    # a credential nobody decoded still has a secret block
    assert doc["credentials"][1]["secret"]["kind"] == "opaque"
    assert doc["probes"][0] == {
        "url": "https://pkg.harness.io/v2/", "credential": cred["id"], "outcome": "unauthorized",
        "status": 401, "error_code": None, "elapsed_ms": 12.3, "detail": "challenge",
    }
    assert doc["probes"][2]["elapsed_ms"] is None
    har = doc["findings"][0]
    assert har["remediation"]["commands"][0].startswith("printf")
    assert har["fix"] == {"available": False, "applicability": None, "description": None}
    npm = doc["findings"][1]
    assert npm["fix"] == {"available": True, "applicability": "safe",
                          "description": "tighten the permissions to 0600"}
    assert doc["findings"][3]["location"] is None


def test_json_reporter_output() -> None:
    out = JsonReporter().render(build_report(), ctx())
    assert out.endswith("}\n")
    assert DOCKER_VALUE not in out and NPM_VALUE not in out
    assert "✓" not in out  # the document, not the text
    # The reporter scrubs every value (secrets registered anywhere in this
    # process included); otherwise it is exactly the v1 document.
    assert json.loads(out) == json.loads(json.dumps(scrub_values(to_dict(build_report()))))
    assert_valid_report(out)


def test_naive_datetimes_are_utc() -> None:
    assert iso(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"
    assert iso(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))) == "2026-01-02T01:04:05Z"
    assert iso(None) is None


def test_schema_file_ships_in_package() -> None:
    path = Path(schema_path())
    assert path.is_file()
    assert path.parent.name == "report" and path.parent.parent.name == "hardoctor"
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# The validator is strict: these broken documents must all be refused.
def _break_secret(d):
    d["credentials"][0]["secret"]["value"] = "x"


def _break_cause(d):
    d["findings"][0]["cause"] = "made-up"


def _missing_cause(d):
    d["findings"][0]["cause"] = None


def _bad_time(d):
    d["started_at"] = "yesterday"


def _bad_expiry(d):
    d["credentials"][0]["secret"]["expires_at"] = "2026-13-45T99:00:00Z"


def _bad_status(d):
    d["summary"]["status"] = "meh"


def _bad_outcome(d):
    d["probes"][0]["outcome"] = "teapot"


def _bad_rule(d):
    d["findings"][0]["rule"] = "har101"


def _no_findings(d):
    del d["findings"]


def _bad_fingerprint(d):
    d["credentials"][0]["secret"]["fingerprint"] = DOCKER_VALUE


@pytest.mark.parametrize(
    "breaker",
    [_break_secret, _break_cause, _missing_cause, _bad_time, _bad_expiry, _bad_status,
     _bad_outcome, _bad_rule, _no_findings, _bad_fingerprint],
)
def test_schema_refuses_broken_documents(breaker) -> None:
    doc = copy.deepcopy(to_dict(build_report()))
    breaker(doc)
    assert report_errors(doc), f"{breaker.__name__} was accepted"
    with pytest.raises(AssertionError):
        assert_valid_report(doc)


def test_hd_findings_may_lack_a_cause() -> None:
    doc = to_dict(build_report())
    hd = next(f for f in doc["findings"] if f["rule"] == "HD001")
    assert hd["cause"] is None
    assert_valid_report(doc)


@pytest.mark.parametrize(
    "value, ok",
    [("2026-11-28T09:30:00Z", True), ("2026-11-28T09:30:00.123+02:00", True),
     ("2026-11-28 09:30:00Z", False), ("2026-13-01T00:00:00Z", False), ("yesterday", False),
     ("2026-11-28T09:30:00", False)],
)
def test_fallback_date_time_checker(value: str, ok: bool) -> None:
    """The checker used when rfc3339-validator is missing is as strict."""
    from tests.helpers import _is_rfc3339

    assert _is_rfc3339(value) is ok
