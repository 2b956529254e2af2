"""Verdicts the engine adds after every plugin spoke: a probe that could not
run is CHK002 (never a pass), a credential that travelled over plain http
is NET009 -- whichever plugin probed."""

from __future__ import annotations

import io
from pathlib import Path

from hardoctor.context import Context, Options
from hardoctor.env import Environment
from hardoctor.model import Finding, ProbeResult, Resolution, Severity, Target
from hardoctor.plugins import PluginManager
from hardoctor.probe.cleartext import cleartext_findings
from hardoctor.unchecked import could_not_check


def _ctx(tmp_path: Path) -> Context:
    manager = PluginManager(autoload=False)
    manager.load()
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(),
                      environ={"HOME": str(tmp_path)}, cwd=str(tmp_path), home=str(tmp_path))
    return Context(Options(command="check"), env, manager.rules, manager)


def _res(host: str) -> Resolution:
    return Resolution(Target(host, "registry", host), "acme", "acme-cli", None)


def test_a_probe_that_could_not_run_is_an_error_not_a_pass(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    res = [_res("reg.example.com"), _res("ok.example.com")]
    probes = {0: [ProbeResult("https://reg.example.com/v2/", "error",
                              detail="probe failed: KeyError")],
              1: [ProbeResult("https://ok.example.com/v2/", "ok", status=200)]}
    (found,) = could_not_check(ctx, res, probes, [])
    assert found.rule == "CHK002" and found.severity == Severity.ERROR
    assert found.registry == "reg.example.com" and "KeyError" in found.message
    # A registry an error finding already explains gets no second story.
    explained = Finding(rule="NET005", name="dns-error", severity=Severity.ERROR,
                        cause="dns-error", message="dns", registry="reg.example.com")
    assert could_not_check(ctx, res, probes, [explained]) == []


def test_credentials_in_clear_warn_off_loopback_and_note_a_loopback_downgrade(
        tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    res = [_res("reg.example.com"), _res("127.0.0.1:5000")]
    probes = {
        0: [ProbeResult("http://reg.example.com/v2/", "ok", status=200,
                        facts={"auth_in_clear": ["http://auth.example.com"]})],
        1: [ProbeResult("http://127.0.0.1:5000/v2/", "ok", status=200,
                        facts={"auth_in_clear": ["http://127.0.0.1:5000"]})],
    }
    warn, note = cleartext_findings(ctx, res, probes)
    assert (warn.rule, warn.severity, warn.cause) == ("NET009", Severity.WARNING,
                                                      "insecure-storage")
    assert "http://auth.example.com" in warn.message
    assert note.severity == Severity.INFO and "downgrade" in note.message
