"""The Docker plugin over real fixture files: every lint rule with its cause
and line, the client resolution chain, credential helpers, and fixes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, copy_fixture, run_cli

FIXTURES = Path(__file__).parent / "fixtures"


def _prepare(name: str, home: Path) -> dict[str, str]:
    copy_fixture(name, home)
    for path in home.rglob("*"):
        if path.is_file() and path.parent.name == "bin":
            path.chmod(0o755)
        elif path.is_file():
            path.chmod(0o600)  # git does not keep modes; DKR013 is tested on its own
    env: dict[str, str] = {}
    if (home / "bin").is_dir():
        env["PATH"] = f"{home / 'bin'}:{os.environ.get('PATH', os.defpath)}"
    return env


def check_json(home: Path, *args: str, environ: dict[str, str] | None = None) -> dict:
    res = run_cli(["check", "--offline", "--format", "json", *args], home=home, environ=environ)
    assert res.rc in (0, 1), res
    assert "Traceback" not in res.err
    return assert_valid_report(res.out)


def findings(report: dict, rule: str) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == rule]


CASES = [
    # fixture, extra args, rule, cause, line
    ("docker-invalid-json", (), "DKR001", "config-invalid", 5),
    ("docker-bad-base64", (), "DKR002", "token-malformed", 4),
    ("docker-auth-no-colon", (), "DKR003", "token-malformed", 4),
    ("docker-trailing-newline", (), "DKR004", "token-malformed", 4),
    ("docker-plaintext-fields", (), "DKR005", "credential-not-matched", 3),
    ("docker-helper-missing", (), "DKR006", "helper-failure", 3),
    ("docker-helper-shadows", (), "DKR008", "credential-shadowed", 3),
    ("docker-helper-shadows", (), "DKR024", "credential-shadowed", 6),
    ("docker-hub-key", (), "DKR009", "credential-not-matched", 3),
    ("docker-duplicate-hosts", (), "DKR010", "credential-shadowed", 3),
    ("docker-misspelt-key", (), "DKR011", "config-invalid", 7),
    ("docker-url-key", (), "DKR014", None, 3),
    ("docker-wrong-type", (), "DKR015", "config-invalid", 4),
    ("docker-duplicate-json-key", (), "DKR018", "config-invalid", 4),
    ("docker-other-port", ("registry.example.test/team/app:1",), "DKR021", "credential-not-matched", 3),
    ("docker-plaintext-fields", (), "DKR022", "credential-shadowed", None),
]


@pytest.mark.parametrize(("fixture", "args", "rule", "cause", "line"), CASES)
def test_rule_fires_with_cause_and_line(home, fixture, args, rule, cause, line):
    env = _prepare(fixture, home)
    report = check_json(home, *args, environ=env)
    hits = findings(report, rule)
    assert hits, f"{rule} not reported; got {[f['rule'] for f in report['findings']]}"
    f = hits[0]
    assert f["cause"] == cause
    if line is not None:
        assert f["location"]["line"] == line
        assert f["location"]["path"].endswith(("config.json", ".dockercfg"))
    if f["severity"] in ("error", "warning"):
        assert f["cause"] is not None


def test_good_config_is_clean(home):
    _prepare("docker-good", home)
    report = check_json(home)
    assert report["findings"] == []
    assert report["summary"]["status"] == "ok"
    (cred,) = report["credentials"]
    assert cred["registry"] == "registry.example.test"
    assert cred["username"] == "dev@example.test"
    assert cred["secret"]["fingerprint"]
    res = [r for r in report["resolutions"] if r["client"] == "docker"]
    assert res and res[0]["credential"] == cred["id"]


def test_world_readable_file(home):
    _prepare("docker-good", home)
    cfg = home / ".docker" / "config.json"
    cfg.chmod(0o644)
    report = check_json(home)
    (f,) = findings(report, "DKR013")
    assert f["cause"] == "insecure-storage"
    assert f["fix"]["applicability"] == "safe"
    res = run_cli(["fix", "--offline", "--apply"], home=home)
    assert res.rc == 0, res
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert findings(check_json(home), "DKR013") == []


def test_docker_config_pointing_at_file(home):
    _prepare("docker-good", home)
    report = check_json(home, environ={"DOCKER_CONFIG": str(home / ".docker" / "config.json")})
    (f,) = findings(report, "DKR012")
    assert f["cause"] == "config-invalid"
    assert "export DOCKER_CONFIG=" in " ".join(f["remediation"]["commands"])


def test_docker_auth_config_env(home):
    _prepare("docker-good", home)
    bad = check_json(home, environ={"DOCKER_AUTH_CONFIG": "{auths: nope"})
    assert findings(bad, "DKR016")
    good_env = json.dumps({"auths": {"registry.example.test": {"auth": "ZW52dXNlcjpoZC1lbnYtdG9rZW4="}}})
    report = check_json(home, "registry.example.test", environ={"DOCKER_AUTH_CONFIG": good_env})
    (docker,) = [r for r in report["resolutions"] if r["client"] == "docker"]
    cred = next(c for c in report["credentials"] if c["id"] == docker["credential"])
    assert cred["username"] == "envuser"
    outcomes = [(s["description"], s["outcome"]) for s in docker["chain"]]
    assert ("DOCKER_AUTH_CONFIG", "used") in outcomes
    assert any(o == "lost" for _, o in outcomes)
    assert findings(report, "DKR023")


def test_dockercfg_is_ignored_by_docker(home):
    _prepare("docker-dockercfg", home)
    report = check_json(home)
    (f,) = findings(report, "DKR017")
    assert f["cause"] == "credential-not-matched"


def test_helper_answers_and_shadows_plaintext(home):
    env = _prepare("docker-helper-shadows", home)
    report = check_json(home, "registry.example.test", environ=env)
    docker = next(r for r in report["resolutions"] if r["client"] == "docker")
    chain = {s["description"]: s for s in docker["chain"]}
    used = chain["credsStore -> docker-credential-hdtest"]
    assert used["outcome"] == "used"
    lost = chain['auths["registry.example.test"]']
    assert lost["outcome"] == "lost"
    assert "helper" in lost["reason"] or "credsStore" in lost["reason"]
    cred = next(c for c in report["credentials"] if c["id"] == docker["credential"])
    assert cred["via"] == "credsStore"
    # The store's secret and the file's differ: the clients disagree.
    assert findings(report, "DKR022")


def test_helper_not_found_means_no_credentials(home):
    env = _prepare("docker-helper-shadows", home)
    report = check_json(home, "unknown.example.test", environ=env)
    docker = next(r for r in report["resolutions"] if r["client"] == "docker")
    assert docker["credential"] is None
    assert docker["chain"][0]["outcome"] == "missing"
    assert "never falls back" in docker["chain"][0]["reason"]


def test_failing_and_hanging_helpers(home, tmp_path):
    env = _prepare("docker-helper-missing", home)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    broken = bindir / "docker-credential-hdbroken"
    broken.write_text("#!/bin/sh\necho 'secret-ish garbage'\nexit 3\n")
    hang = bindir / "docker-credential-hdhang"
    hang.write_text("#!/bin/sh\nsleep 30\n")
    for p in (broken, hang):
        p.chmod(0o755)
    cfg = home / ".docker" / "config.json"
    cfg.write_text(json.dumps({
        "auths": {},
        "credHelpers": {"a.example.test": "hdbroken", "b.example.test": "hdhang"},
    }, indent=2))
    env = {"PATH": f"{bindir}:{os.environ['PATH']}"}
    import time

    t0 = time.monotonic()
    report = check_json(home, environ=env)
    assert time.monotonic() - t0 < 20
    details = {f["registry"]: f for f in findings(report, "DKR007")}
    assert "exited with status 3" in details["a.example.test"]["message"]
    assert "did not answer" in details["b.example.test"]["message"]
    assert "garbage" not in json.dumps(report)


def test_explicit_image_target_resolves_each_client(home):
    env = _prepare("docker-good", home)
    env["PATH"] = os.environ["PATH"]
    report = check_json(home, "registry.example.test/team/app:1.0", environ=env)
    clients = {r["client"] for r in report["resolutions"]}
    assert "docker" in clients
    for r in report["resolutions"]:
        assert r["target"] == "registry.example.test/team/app:1.0"
        assert r["credential"]


def test_registry_filter(home):
    _prepare("docker-bad-base64", home)
    report = check_json(home, "--registry", "nowhere.example.test")
    assert all(f["registry"] in (None, "nowhere.example.test") for f in report["findings"])


def test_text_report_shows_where_why_and_fix(home):
    _prepare("docker-trailing-newline", home)
    res = run_cli(["check", "--offline"], home=home)
    assert res.rc == 1
    out = res.out
    assert "✗ registry.example.test" in out
    assert "DKR004" in out and "~/.docker/config.json:4" in out
    assert "hardoctor fix --apply" in out
    assert "\x1b[" not in out  # plain text when not a terminal


# -- fixes -------------------------------------------------------------------------

FIXABLE = [
    ("docker-trailing-newline", "DKR004"),
    ("docker-plaintext-fields", "DKR005"),
    ("docker-hub-key", "DKR009"),
    ("docker-duplicate-hosts", "DKR010"),
    ("docker-misspelt-key", "DKR011"),
    ("docker-url-key", "DKR014"),
    ("docker-duplicate-json-key", "DKR018"),
]


@pytest.mark.parametrize(("fixture", "rule"), FIXABLE)
def test_safe_fix_repairs_and_is_idempotent(home, fixture, rule):
    env = _prepare(fixture, home)
    cfg = home / ".docker" / "config.json"
    before = cfg.read_bytes()
    dry = run_cli(["fix", "--offline"], home=home, environ=env)
    assert dry.rc == 1, dry
    assert "--- a/" in dry.out
    assert cfg.read_bytes() == before  # no --apply: nothing written

    res = run_cli(["fix", "--offline", "--apply"], home=home, environ=env)
    assert res.rc == 0, res
    after = cfg.read_text()
    json.loads(after)  # still valid JSON
    assert not findings(check_json(home, environ=env), rule)
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600

    again = run_cli(["fix", "--offline", "--apply"], home=home, environ=env)
    assert again.rc == 0 and "Nothing to fix." in again.out
    assert cfg.read_text() == after

    undo = run_cli(["fix", "--undo"], home=home, environ=env)
    assert undo.rc == 0, undo
    assert cfg.read_bytes() == before


def test_fix_keeps_unrelated_bytes(home):
    _prepare("docker-url-key", home)
    cfg = home / ".docker" / "config.json"
    text = cfg.read_text()
    text = text.replace("{\n", "{\n  \"psFormat\": \"table {{.ID}}\",   \n", 1).replace("\n", "\r\n")
    cfg.write_bytes(text.encode())
    res = run_cli(["fix", "--offline", "--apply"], home=home)
    assert res.rc == 0, res
    new = cfg.read_bytes().decode()
    assert new == text.replace('"https://registry.example.test/v1/"', '"registry.example.test"')


def test_unsafe_fix_needs_flag(home):
    env = _prepare("docker-helper-shadows", home)
    cfg = home / ".docker" / "config.json"
    res = run_cli(["fix", "--offline", "--only", "DKR024", "--apply"], home=home, environ=env)
    assert res.rc == 0
    assert "hdtest" in cfg.read_text() and "Nothing to fix." in res.out
    assert "unsafe" in res.out
    res = run_cli(["fix", "--offline", "--unsafe", "--only", "DKR024", "--apply"], home=home,
                  environ=env)
    assert res.rc == 0, res
    data = json.loads(cfg.read_text())
    assert data["credHelpers"] == {}
    assert data["credsStore"] == "hdtest"


def test_fix_only_unknown_code_is_usage_error(home):
    _prepare("docker-good", home)
    res = run_cli(["fix", "--only", "NOPE999"], home=home)
    assert res.rc == 2
    assert "Traceback" not in res.err


def test_fix_refuses_file_changed_meanwhile(home, monkeypatch):
    _prepare("docker-url-key", home)
    cfg = home / ".docker" / "config.json"
    from hardoctor import fixes

    real_apply = fixes.apply

    def racing_apply(plan, root, clock):
        cfg.write_text(cfg.read_text() + " ")
        return real_apply(plan, root, clock)

    monkeypatch.setattr(fixes, "apply", racing_apply)
    res = run_cli(["fix", "--offline", "--apply"], home=home)
    assert res.rc == 2, res
    assert cfg.read_text().endswith(" ")
    assert "registry.example.test/v1/" in cfg.read_text()


def test_dockercfg_keys_differing_in_case_are_not_duplicates(home):
    """~/.dockercfg's top level is the auths map (Go map keys: case-sensitive),
    so the copy ``fix`` adds under the key the client looks up is not a
    duplicate of the original, and a second ``fix`` has nothing to do
    (found by the fix-convergence fuzz test)."""
    env = _prepare("docker-dockercfg-case-keys", home)
    cfg = home / ".dockercfg"
    run_cli(["fix", "--offline", "--apply"], home=home, environ=env)
    assert not findings(check_json(home, environ=env), "DKR018")
    once = cfg.read_text()
    again = run_cli(["fix", "--offline", "--apply"], home=home, environ=env)
    assert again.rc == 0 and "Nothing to fix." in again.out, again
    assert cfg.read_text() == once
