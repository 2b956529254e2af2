"""The Maven/Gradle plugin offline: every rule over a real fixture (cause and
line), mirror selection as maven-resolver does it, decryption against values
produced by real ``mvn``, the resolution chain, fixes that keep every other
byte, hostile and random XML, and Gradle.

The probe and the real ``mvn`` stories are in ``test_maven_e2e.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from tests.helpers import assert_no_traceback, assert_valid_report, copy_fixture, run_cli

from hardoctor.model import fingerprint
from hardoctor_maven import gradle, mirrors, xmlpos
from hardoctor_maven.creds import decrypt_password
from hardoctor_maven.mvnfiles import parse_pom, parse_settings
from hardoctor_maven.state import Master

# Values produced by the real `mvn` 3.8.7 of this machine (offline):
#   mvn --encrypt-master-password hd-master-Pass1       -> MASTER_A
#   mvn --encrypt-password hd-e2e-password-1            -> PW_A   (master A)
#   mvn --encrypt-password pat.AcctX1.tok1.c2VjcmV0c2VjcmV0  -> PAT_A
#   mvn --encrypt-master-password hd-other-master-2     -> MASTER_B
#   mvn --encrypt-password hd-e2e-password-1            -> PW_B   (master B)
MASTER_A = "{EgITROFej14HM4foXRwoCiAkImMLngu4Jjgci/pczsg=}"
PW_A = "{yVAQT7k9NngHJz+ArI1LLvgdSlB19qD+EKT/0/cHfDc3pzNsmeDpw+9/aw7fgIg2}"
PAT_A = ("{XiMHdxo5BVoHZreRcQbkEfmPtkOllyMboruvCwDhLJaBgyA6O1rf7JJ42GAjkYXXTIb3VrQXd4C27Px"
         "nSqKusQ==}")
MASTER_B = "{D1K1aan0eBkHsQSq4iJGjq7E/wSFdsmuLTLgQMJ8vHCuuWRFH0ECfXgBV4BHC7rS}"
PW_B = "{wI0AnHUfU5QHf+E6Pk1u9HOhCATqbizQ+2g+WTCok1MC2jDN3YDm8cyMONTy0eGz}"
HAR = "https://pkg.harness.io/pkg/AcctX1/maven-local/maven"


def prepare(name: str, home: Path) -> list[str]:
    """Copy a fixture into HOME (files 0600: git does not keep modes) and
    return the scope arguments (``--project`` when it has a project)."""
    copy_fixture(name, home)
    for path in home.rglob("*"):
        if path.is_file():
            path.chmod(0o600)
    return ["--project", str(home / "project")] if (home / "project").is_dir() else []


def check(home: Path, *args: str, environ: Mapping[str, str | None] | None = None) -> dict:
    res = run_cli(["check", "--offline", "--format", "json", *args], home=home, environ=environ)
    assert res.rc in (0, 1), res
    assert_no_traceback(res)
    return assert_valid_report(res.out)


def findings(report: dict, rule: str) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == rule]


def rules_of(report: dict) -> list[str]:
    return [f["rule"] for f in report["findings"]]


# -- every rule over its fixture ----------------------------------------------------------

CASES = [
    # fixture, rule, cause, file (relative to HOME), line
    ("maven-invalid-xml", "MVN001", "config-invalid", ".m2/settings.xml", 8),
    ("maven-billion-laughs", "MVN001", "config-invalid", ".m2/settings.xml", 3),
    ("maven-no-server", "MVN002", "no-credentials", ".m2/settings.xml", 7),
    ("maven-behind-mirror", "MVN003", "credential-not-matched", ".m2/settings.xml", 5),
    ("maven-wrong-id", "MVN004", "credential-not-matched", ".m2/settings.xml", 5),
    ("maven-mirrorof-space", "MVN005", "config-invalid", ".m2/settings.xml", 13),
    ("maven-encrypted-no-master", "MVN006", "config-invalid", ".m2/settings.xml", 7),
    ("maven-encrypted-wrong-master", "MVN007", "config-invalid", ".m2/settings.xml", 7),
    ("maven-master-undecryptable", "MVN007", "config-invalid", ".m2/settings-security.xml", 3),
    ("maven-braces", "MVN008", "token-malformed", ".m2/settings.xml", 7),
    ("maven-header-encrypted", "MVN009", "token-malformed", ".m2/settings.xml", 10),
    ("maven-gradle-missing-props", "MVN011", "no-credentials", "project/build.gradle.kts", 5),
    ("maven-env-unset", "MVN012", "env-unset", ".m2/settings.xml", 7),
    ("maven-duplicate-server", "MVN013", "credential-shadowed", ".m2/settings.xml", 5),
    ("maven-http-blocked", "MVN014", "config-invalid", "project/pom.xml", 9),
    ("maven-maven4-format", "MVN015", "config-invalid", ".m2/settings.xml", 7),
    ("maven-config-missing-settings", "MVN016", "config-invalid", "project/.mvn/maven.config",
     None),
    ("maven-har-wrong-type", "MVN017", "wrong-url", ".m2/settings.xml", 14),
    ("maven-unused-server", "MVN018", None, ".m2/settings.xml", 10),
    ("maven-gradle-unreadable", "MVN019", None, "project/build.gradle", 2),
    ("maven-gradle-no-credentials", "MVN021", "no-credentials", "project/build.gradle.kts", 2),
    # HAR URL shapes and token/account checks come from the harness plugin,
    # over the credentials and URLs this plugin reports.
    ("maven-har-no-pkg", "HAR201", "wrong-url", ".m2/settings.xml", 5),
    ("maven-har-account-mismatch", "HAR105", "account-mismatch", ".m2/settings.xml", 5),
]


@pytest.mark.parametrize(("fixture", "rule", "cause", "path", "line"), CASES)
def test_rule_fires_with_cause_and_line(home, fixture, rule, cause, path, line):
    args = prepare(fixture, home)
    report = check(home, *args)
    hits = findings(report, rule)
    assert hits, f"{rule} not reported; got {rules_of(report)}"
    f = hits[0]
    assert f["cause"] == cause
    assert f["location"]["path"] == str(home / path)
    assert f["location"]["line"] == line
    if f["severity"] in ("error", "warning"):
        assert f["cause"] is not None and f["remediation"]["summary"]


@pytest.mark.parametrize("fixture", ["maven-good", "maven-encrypted-good", "maven-gradle-good"])
def test_good_configs_are_clean(home, fixture):
    args = prepare(fixture, home)
    report = check(home, *args)
    assert report["findings"] == [], rules_of(report)
    assert report["credentials"]
    assert all(r["credential"] for r in report["resolutions"])


def test_each_401_cause_is_a_different_rule(home, tmp_path):
    """The four stories Maven answers with the same 401 are told apart offline
    too (the probe adds the registry's answer: test_maven_e2e.py)."""
    seen = {}
    for fixture in ("maven-no-server", "maven-behind-mirror", "maven-wrong-id",
                    "maven-encrypted-wrong-master"):
        h = tmp_path / fixture
        h.mkdir()
        report = check(h, *prepare(fixture, h))
        errors = [f["rule"] for f in report["findings"] if f["severity"] != "info"]
        assert len(errors) == 1, (fixture, errors)
        seen[fixture] = errors[0]
    assert len(set(seen.values())) == 4, seen


# -- decryption against real mvn output --------------------------------------------------


def test_decrypts_values_made_by_real_mvn():
    from hardoctor_maven.cipher import maven_decrypt, maven_decrypt_master

    master = maven_decrypt_master(MASTER_A)
    assert master.reveal() == "hd-master-Pass1"
    assert maven_decrypt(PW_A, master).reveal() == "hd-e2e-password-1"
    assert maven_decrypt(PAT_A, master).reveal() == "pat.AcctX1.tok1.c2VjcmV0c2VjcmV0"
    other = maven_decrypt_master(MASTER_B)
    assert maven_decrypt(PW_B, other).reveal() == "hd-e2e-password-1"


def test_password_states():
    from hardoctor_maven.cipher import maven_decrypt_master

    ok = Master("ok", "x", maven_decrypt_master(MASTER_A))
    missing = Master("missing", "x", detail="no file")
    assert decrypt_password(PW_A, ok).state == "decrypted"
    assert decrypt_password(PW_A, ok).sent == "hd-e2e-password-1"
    # A wrong master or none: Maven keeps the value and sends it as written.
    assert (decrypt_password(PW_B, ok).state, decrypt_password(PW_B, ok).sent) == \
        ("wrong-master", PW_B)
    assert decrypt_password(PW_A, missing).state == "no-master"
    # Text around the braces is a comment (plexus-cipher).
    assert decrypt_password("hd " + PW_A + " comment", ok).sent == "hd-e2e-password-1"
    assert decrypt_password("hd-{fixture}-pass", ok).state == "braces"
    assert decrypt_password("{}", ok).state == "plain"
    assert decrypt_password("plain-pass", ok).state == "plain"
    assert decrypt_password("{[name=master,cipher=AES/GCM/NoPadding,version=4.0]abc=}",
                            ok).state == "maven4"


def test_encrypted_password_is_decrypted_like_maven(home):
    report = check(home, *prepare("maven-encrypted-good", home))
    (cred,) = report["credentials"]
    assert cred["secret"]["fingerprint"] == fingerprint("hd-e2e-password-1")
    assert "decrypted" in cred["via"]


@pytest.mark.live
def test_live_mvn_encrypt_round_trip(tmp_path):
    """Encrypt fresh random values with this machine's real mvn, decrypt them here."""
    mvn = shutil.which("mvn")
    if mvn is None:
        from tests.servers.util import server_missing

        server_missing("mvn is not installed (scripts/install-maven-deps.sh)")
    import secrets as pysecrets

    from hardoctor_maven.cipher import maven_decrypt, maven_decrypt_master

    master_plain = "hd-" + pysecrets.token_urlsafe(12)
    password = "pat.AcctX1.tok9." + pysecrets.token_urlsafe(16)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}

    def run(*args: str) -> str:
        out = subprocess.run([mvn, "-B", "-q", f"-Duser.home={tmp_path}", *args],
                             capture_output=True, text=True, env=env, timeout=120, check=True)
        found = re.search(r"\{[A-Za-z0-9+/=]+\}", out.stdout)
        assert found, out.stdout
        return found.group(0)

    enc_master = run("--encrypt-master-password", master_plain)
    (tmp_path / ".m2").mkdir()
    (tmp_path / ".m2" / "settings-security.xml").write_text(
        f"<settingsSecurity><master>{enc_master}</master></settingsSecurity>\n")
    enc = run("--encrypt-password", password)
    master = maven_decrypt_master(enc_master)
    assert master.reveal() == master_plain
    assert maven_decrypt(enc, master).reveal() == password


# -- mirror selection ---------------------------------------------------------------------


class M:
    def __init__(self, mirror_of: str, layouts: str = "") -> None:
        self.mirror_of = mirror_of
        self.layouts = layouts


@pytest.mark.parametrize(("pattern", "repo_id", "url", "expected"), [
    ("*", "central", "https://r", True),
    ("central", "central", "https://r", True),
    ("central,snapshots", "snapshots", "https://r", True),
    ("central, snapshots", "snapshots", "https://r", False),  # untrimmed
    ("*,!snapshots", "snapshots", "https://r", False),
    ("*, !snapshots", "snapshots", "https://r", True),  # ' !snapshots' excludes nothing
    ("!snapshots,*", "snapshots", "https://r", False),
    ("external:*", "x", "https://repo.example", True),
    ("external:*", "x", "http://localhost:8081/r", False),
    ("external:*", "x", "http://127.0.0.1:8081/r", False),
    ("external:*", "x", "file:///tmp/r", False),
    ("external:http:*", "x", "http://repo.example/r", True),
    ("external:http:*", "x", "https://repo.example/r", False),
    ("external:http:*", "x", "http://127.0.0.1/r", False),
    ("a,b", "c", "https://r", False),
])
def test_match_pattern(pattern, repo_id, url, expected):
    assert mirrors.match_pattern(repo_id, url, pattern) is expected


def test_exact_id_beats_an_earlier_pattern():
    ms = [M("*"), M("central")]
    assert mirrors.select_mirror("central", "https://r", ms) == (1, "exact")
    assert mirrors.select_mirror("other", "https://r", ms) == (0, "pattern")
    assert mirrors.select_mirror("x", "https://r", [M("a"), M("b")]) is None
    # First matching pattern wins.
    assert mirrors.select_mirror("x", "https://r", [M("external:*"), M("*")]) == (0, "pattern")
    assert mirrors.select_mirror("x", "https://r", [M("*", "legacy")]) is None


# -- XML positions ------------------------------------------------------------------------


def test_positions_survive_crlf_bom_and_non_ascii():
    text = ("\ufeff<?xml version='1.0'?>\r\n<settings>\r\n  <!-- é -->\r\n"
            "  <servers><server><id>\tçentral </id></server></servers>\r\n</settings>\r\n")
    sf = parse_settings(text, "/x", "user")
    (srv,) = sf.servers
    assert srv.id == "çentral"
    assert srv.id_elem is not None and srv.id_elem.line == 4
    start, end = xmlpos.text_span(text, srv.id_elem)
    assert text[start:end] == "çentral"


def test_hostile_xml_is_refused_quickly():
    bomb = (Path(__file__).parent / "fixtures" / "maven-billion-laughs" / ".m2" / "settings.xml")
    t0 = time.monotonic()
    with pytest.raises(xmlpos.XmlError) as info:
        parse_settings(bomb.read_text(), str(bomb), "user")
    assert time.monotonic() - t0 < 1
    assert info.value.hostile
    external = '<!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><settings>&x;</settings>'
    with pytest.raises(xmlpos.XmlError) as info:
        parse_settings(external, "/x", "user")
    assert info.value.hostile


def test_billion_laughs_report(home):
    args = prepare("maven-billion-laughs", home)
    t0 = time.monotonic()
    report = check(home, *args)
    assert time.monotonic() - t0 < 5
    (f,) = findings(report, "MVN001")
    assert "entities" in f["message"]
    assert "lol" not in json.dumps(report)  # nothing was expanded into the report


def test_pom_parse():
    pom = parse_pom(
        "<project><parent><artifactId>p</artifactId></parent>"
        "<distributionManagement><repository><id>d</id><url>https://d</url></repository>"
        "<snapshotRepository><id>s</id><url>https://s</url></snapshotRepository>"
        "</distributionManagement><modules><module>m</module></modules></project>", "/p/pom.xml")
    assert [(r.id, r.kind) for r in pom.repositories] == [
        ("d", "distribution"), ("s", "snapshotDistribution")]
    assert pom.parent_path == "../pom.xml" and pom.modules == ["m"]


# -- resolution chain -----------------------------------------------------------------------


def _resolution(report: dict, url: str) -> dict:
    return next(r for r in report["resolutions"] if r["registry"] == url)


def test_chain_shows_mirror_and_server_lookup(home):
    report = check(home, *prepare("maven-behind-mirror", home))
    res = _resolution(report, HAR)
    assert res["client"] == "maven" and res["credential"] is None
    chain = [(s["outcome"], s["description"]) for s in res["chain"]]
    assert ("skipped", "repository 'central' (Maven's built-in) "
            "https://repo.maven.apache.org/maven2") in chain
    assert ("used", f"mirror 'har' {HAR}") in chain
    assert ("missing", "<server> 'har'") in chain
    lost = next(s for s in res["chain"] if s["outcome"] == "lost")
    assert lost["description"] == "<server> 'central'" and "behind the mirror" in lost["reason"]
    assert lost["location"]["line"] == 5


def test_profiles_parent_properties_and_deploy(home):
    args = prepare("maven-profiles", home)
    report = check(home, *args)
    urls = {r["registry"] for r in report["resolutions"]}
    # activeProfiles turns on "team"; "off" is not active; the parent POM on
    # disk gives the property and the deploy repository.
    assert urls == {"https://team.example.test/releases", "https://inherited.example.test/maven",
                    "https://deploy.example.test/releases"}
    team = _resolution(report, "https://team.example.test/releases")
    assert team["credential"]
    deploy = _resolution(report, "https://deploy.example.test/releases")
    assert "mirrors never apply" in deploy["chain"][0]["reason"]
    assert {f["rule"] for f in report["findings"]} == {"MVN002"}


def test_maven_coordinates_target(home):
    args = prepare("maven-good", home)
    report = check(home, *args, "maven:com.example.hd:hd-lib:1.0")
    (res,) = report["resolutions"]
    assert res["target"] == "maven:com.example.hd:hd-lib:1.0"
    assert res["registry"] == "https://repo.example.test/maven"
    assert res["credential"]


def test_maven_config_selects_user_settings(home):
    prepare("maven-good", home)
    project = home / "project"
    (project / ".mvn").mkdir()
    (project / ".mvn" / "maven.config").write_text("-s .mvn/team.xml -Pteam\n")
    shutil.move(str(home / ".m2" / "settings.xml"), project / ".mvn" / "team.xml")
    report = check(home, "--project", str(project))
    paths = {s["path"] for s in report["sources"]}
    assert str(project / ".mvn" / "team.xml") in paths
    assert report["credentials"][0]["location"]["path"] == str(project / ".mvn" / "team.xml")


def test_global_settings_follow_mvn_on_path(home, tmp_path):
    """maven.home is where the mvn found on PATH really lives (symlinks resolved)."""
    mhome = tmp_path / "apache-maven"
    (mhome / "bin").mkdir(parents=True)
    (mhome / "conf").mkdir()
    (mhome / "lib").mkdir()
    (mhome / "lib" / "maven-core-3.9.6.jar").write_bytes(b"")
    script = mhome / "bin" / "mvn"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "mvn").symlink_to(script)
    (mhome / "conf" / "settings.xml").write_text(
        "<settings><servers><server><id>g</id><username>u</username>"
        "<password>hd-global-pass</password></server><server><id>repo-mirror</id>"
        "<username>x</username><password>hd-shadowed-pass</password></server></servers>"
        "</settings>\n")
    prepare("maven-good", home)
    env = {"PATH": f"{bindir}:/usr/bin:/bin"}
    report = check(home, environ=env)
    sources = {s["path"]: s["description"] for s in report["sources"]}
    assert sources[str(mhome / "conf" / "settings.xml")] == "Maven global settings"
    # The user's server with the same id wins (MavenSettingsMerger).
    res = _resolution(report, "https://repo.example.test/maven")
    assert res["credential"].startswith(f"maven:{home}/.m2/settings.xml")
    lost = [s for s in res["chain"] if s["outcome"] == "lost"]
    assert lost and "wins" in lost[0]["reason"]
    # Without mvn on PATH, MAVEN_HOME is used.
    report = check(home, environ={"PATH": "/nonexistent", "MAVEN_HOME": str(mhome)})
    assert str(mhome / "conf" / "settings.xml") in {s["path"] for s in report["sources"]}


def test_env_interpolation_resolves_when_set(home):
    args = prepare("maven-env-unset", home)
    report = check(home, *args, environ={"HD_FIXTURE_UNSET_TOKEN": "hd-from-env-token"})
    assert not findings(report, "MVN012")
    (cred,) = report["credentials"]
    assert cred["secret"]["fingerprint"] == fingerprint("hd-from-env-token")


# -- fixes ------------------------------------------------------------------------------------

SAFE_FIXES = [
    ("maven-behind-mirror", "MVN003", ("<id>central</id>", "<id>har</id>")),
    ("maven-wrong-id", "MVN004", ("<id>harness</id>", "<id>har</id>")),
    ("maven-mirrorof-space", "MVN005",
     ("<mirrorOf>central, snapshots</mirrorOf>", "<mirrorOf>central,snapshots</mirrorOf>")),
]


@pytest.mark.parametrize(("fixture", "rule", "change"), SAFE_FIXES)
def test_safe_fix_repairs_idempotent_and_undoable(home, fixture, rule, change):
    args = prepare(fixture, home)
    cfg = home / ".m2" / "settings.xml"
    before = cfg.read_bytes()
    dry = run_cli(["fix", "--offline", *args], home=home)
    assert dry.rc == 1 and "--- a/" in dry.out, dry
    assert cfg.read_bytes() == before

    res = run_cli(["fix", "--offline", "--apply", *args], home=home)
    assert res.rc == 0, res
    after = cfg.read_text()
    assert after == before.decode().replace(*change)  # exactly that edit, nothing else
    assert not findings(check(home, *args), rule)
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600

    again = run_cli(["fix", "--offline", "--apply", *args], home=home)
    assert again.rc == 0 and "Nothing to fix." in again.out
    undo = run_cli(["fix", "--undo"], home=home)
    assert undo.rc == 0, undo
    assert cfg.read_bytes() == before


def test_fix_keeps_crlf_comments_and_entities(home):
    prepare("maven-behind-mirror", home)
    cfg = home / ".m2" / "settings.xml"
    text = cfg.read_text().replace("<servers>", "<servers><!-- ids &amp; more -->", 1)
    text = text.replace("<id>central</id>", "<id>\n        central\n      </id>")
    text = "\ufeff" + text.replace("\n", "\r\n")
    cfg.write_bytes(text.encode())
    res = run_cli(["fix", "--offline", "--apply"], home=home)
    assert res.rc == 0, res
    expected = text.replace("\r\n        central\r\n", "\r\n        har\r\n")
    assert cfg.read_bytes().decode() == expected


def test_world_readable_settings_chmod_fix(home):
    prepare("maven-good", home)
    cfg = home / ".m2" / "settings.xml"
    cfg.chmod(0o644)
    (f,) = findings(check(home), "MVN020")
    assert f["cause"] == "insecure-storage" and f["fix"]["applicability"] == "safe"
    assert run_cli(["fix", "--offline", "--apply"], home=home).rc == 0
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600


def test_unsafe_fix_adds_server_skeleton(home):
    prepare("maven-no-server", home)
    cfg = home / ".m2" / "settings.xml"
    before = cfg.read_text()
    res = run_cli(["fix", "--offline", "--apply"], home=home)
    assert res.rc == 0 and "unsafe" in res.out and cfg.read_text() == before
    res = run_cli(["fix", "--offline", "--unsafe", "--apply"], home=home)
    assert res.rc == 0, res
    text = cfg.read_text()
    sf = parse_settings(text, str(cfg), "user")
    (srv,) = sf.servers
    assert srv.id == "har" and srv.password == "${env.HARNESS_TOKEN}"
    assert "    <server>\n      <id>har</id>\n" in text  # indented like the file
    assert text.startswith(before.split("  </servers>")[0])
    env = {"HARNESS_TOKEN": "hd-env-token", "HARNESS_USERNAME": "dev@example.test"}
    report = check(home, environ=env)
    assert not findings(report, "MVN002") and not findings(report, "MVN012")
    report = check(home)
    assert findings(report, "MVN012")  # the variables must be set


def test_unsafe_fix_without_servers_element(home):
    prepare("maven-no-server", home)
    cfg = home / ".m2" / "settings.xml"
    cfg.write_text("<settings>\n  <mirrors>\n    <mirror><id>har</id><mirrorOf>*</mirrorOf>"
                   f"<url>{HAR}</url></mirror>\n  </mirrors>\n</settings>\n")
    assert run_cli(["fix", "--offline", "--unsafe", "--apply"], home=home).rc == 0
    sf = parse_settings(cfg.read_text(), str(cfg), "user")
    assert [s.id for s in sf.servers] == ["har"]
    assert [m.id for m in sf.mirrors] == ["har"]


# -- Gradle -----------------------------------------------------------------------------------


def test_gradle_credential_and_precedence(home):
    args = prepare("maven-gradle-good", home)
    report = check(home, *args)
    (res,) = [r for r in report["resolutions"] if r["client"] == "gradle"]
    cred = next(c for c in report["credentials"] if c["id"] == res["credential"])
    assert cred["username"] == "dev@example.test"
    assert cred["secret"]["fingerprint"] == fingerprint("hd-gradle-fixture-password")
    outcomes = [(s["outcome"], s["location"]["path"]) for s in res["chain"][1:]]
    assert outcomes == [("used", str(home / ".gradle" / "gradle.properties")),
                        ("lost", str(home / "project" / "gradle.properties"))]
    # ORG_GRADLE_PROJECT_* beats both files.
    report = check(home, *args, environ={"ORG_GRADLE_PROJECT_harPassword": "hd-env-gradle-pw"})
    (res,) = [r for r in report["resolutions"] if r["client"] == "gradle"]
    cred = next(c for c in report["credentials"] if c["id"] == res["credential"])
    assert cred["secret"]["fingerprint"] == fingerprint("hd-env-gradle-pw")
    # GRADLE_USER_HOME moves the user file.
    moved = home / "gh"
    shutil.move(str(home / ".gradle"), moved)
    report = check(home, *args, environ={"GRADLE_USER_HOME": str(moved)})
    assert not findings(report, "MVN011")


def test_gradle_missing_props_names_them(home):
    report = check(home, *prepare("maven-gradle-missing-props", home))
    (f,) = findings(report, "MVN011")
    assert "harUsername" in f["message"] and "harPassword" in f["message"]
    assert any("ORG_GRADLE_PROJECT_harPassword" in c for c in f["remediation"]["commands"])


def test_gradle_script_scanner():
    text = """
    // maven { url "https://commented.example" }
    repositories {
        mavenCentral()
        maven { url 'https://jitpack.io' }
        maven {
            url "https://repo.example.test/maven2"
            credentials {
                username = findProperty("repoUser") ?: System.getenv("REPO_USER")
                password System.getenv("REPO_TOKEN")
            }
        }
        maven("https://kts.example.test/m2") {
            credentials { username = "literal-user"; password = providers.gradleProperty("x").get() }
        }
    }
    publishing { repositories { maven { name = "deploy"; url = uri("https://d.example/m")
        credentials(PasswordCredentials::class) } } }
    """
    repos = gradle.scan_script(text, "build.gradle.kts")
    assert [(r.name, r.url, r.creds, r.publishing) for r in repos] == [
        ("maven", "https://jitpack.io", None, False),
        ("maven2", "https://repo.example.test/maven2", "block", False),
        ("maven3", "https://kts.example.test/m2", "block", False),
        ("deploy", "https://d.example/m", "properties", True),
    ]
    r = repos[1]
    assert r.username is not None and (r.username.kind, r.username.value) == ("property", "repoUser")
    assert [(e.kind, e.value) for e in r.username.fallbacks] == [("env", "REPO_USER")]
    assert r.password is not None and (r.password.kind, r.password.value) == ("env", "REPO_TOKEN")
    assert repos[2].username is not None and repos[2].username.kind == "literal"
    assert repos[2].password is not None and (repos[2].password.kind, repos[2].password.value) \
        == ("property", "x")


def test_properties_parser():
    props = gradle.parse_properties(
        "# c\n! c\na=1\nharUsername : me\\\n   more\nharPassword  tok\\u0041\nempty=\n")
    assert [(p.key, p.value, p.line) for p in props] == [
        ("a", "1", 3), ("harUsername", "memore", 4), ("harPassword", "tokA", 6),
        ("empty", "", 7)]


# -- committed secrets ------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, timeout=30,
                   env={"PATH": os.environ["PATH"], "HOME": str(cwd), "GIT_AUTHOR_NAME": "t",
                        "GIT_AUTHOR_EMAIL": "t@example.test", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.test"})


def test_plaintext_secrets_in_committed_files(home):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    args = prepare("maven-committed", home)
    assert not findings(check(home, *args), "MVN010")  # not a git work tree yet
    project = home / "project"
    _git(project, "init", "-q")
    _git(project, "add", "pom.xml", "gradle.properties")
    report = check(home, *args)
    where = {(Path(f["location"]["path"]).name, f["location"]["line"])
             for f in findings(report, "MVN010")}
    assert where == {("pom.xml", 8), ("gradle.properties", 2)}
    assert all(f["cause"] == "insecure-storage" for f in findings(report, "MVN010"))
    text = json.dumps(report)
    assert "hdCommittedSecret01" not in text and "hd-committed-gradle-password" not in text


# -- bad input --------------------------------------------------------------------------------


def test_unreadable_and_directory_settings(home):
    (home / ".m2" / "settings.xml").mkdir(parents=True)
    report = check(home)
    assert any(f["rule"] == "HD003" for f in report["findings"])
    assert not any(f["rule"] == "HD002" for f in report["findings"])


@pytest.mark.parametrize("text", [
    "", "   \n", "<settings>", "<settings><servers><server/></servers></settings>",
    "<project/>", "\x00\x01", "<settings><mirrors><mirror/></mirrors></settings>",
    "<settings><profiles><profile><repositories><repository/></repositories>"
    "</profile></profiles><activeProfiles><activeProfile>default</activeProfile>"
    "</activeProfiles></settings>",
])
def test_odd_settings_never_crash(home, text):
    (home / ".m2").mkdir()
    (home / ".m2" / "settings.xml").write_text(text)
    report = check(home)
    assert not any(f["rule"] == "HD002" for f in report["findings"])


def test_explain_every_rule():
    from hardoctor_maven.rules import RULES

    home = Path("/nonexistent-hd-home")
    for rule in RULES:
        res = run_cli(["explain", rule.code], home=home)
        assert res.rc == 0 and "What it does" in res.out and "Fix" in res.out, rule.code


def test_offline_imports_no_httpx_and_rules_no_xml_parser(home):
    """`check --offline` never loads the probe engine; listing rules does not
    even load the XML parser (the plugin imports it on first use)."""
    import sys

    from tests.helpers import code_pythonpath, run_subprocess

    args = prepare("maven-good", home)
    code = (
        "import sys\n"
        "from hardoctor.cli import main\n"
        "argv = sys.argv[1:]\n"
        "rc = main(argv)\n"
        "print('LOADED', sorted(m for m in ('httpx', 'defusedxml') if m in sys.modules))\n"
    )
    r = run_subprocess(["-c", code, "check", "--offline", "--format", "json", *args], home=home,
                       executable=[sys.executable], extra_pythonpath=code_pythonpath())
    assert "LOADED ['defusedxml']" in r.out, r
    r = run_subprocess(["-c", code, "rules"], home=home, executable=[sys.executable],
                       extra_pythonpath=code_pythonpath())
    assert "LOADED []" in r.out, r


def test_rename_fix_only_when_unambiguous(home):
    prepare("maven-wrong-id", home)
    cfg = home / ".m2" / "settings.xml"
    # Two servers that could both be meant: say so, but fix nothing.
    text = cfg.read_text().replace("  </servers>", "    <server><id>harr</id><username>u</username>"
                                   "<password>hd-other-pass</password></server>\n  </servers>")
    cfg.write_text(text)
    (f,) = findings(check(home), "MVN004")
    assert f["fix"]["available"] is False
    assert any("other server" in e for e in f["evidence"])


def test_registry_option_selects_maven_repositories(home):
    prepare("maven-good", home)
    report = check(home, "--registry", "repo.example.test")
    maven = [r for r in report["resolutions"] if r["client"] == "maven"]
    assert [r["registry"] for r in maven] == ["https://repo.example.test/maven"]
    report = check(home, "https://repo.example.test/maven/")
    assert [r["registry"] for r in report["resolutions"] if r["client"] == "maven"] == [
        "https://repo.example.test/maven"]


def test_unsafe_fix_creates_missing_user_settings(home):
    project = home / "project"
    project.mkdir()
    (project / "pom.xml").write_text(
        "<project><modelVersion>4.0.0</modelVersion><groupId>g</groupId><artifactId>a</artifactId>"
        f"<version>1</version><repositories><repository><id>har</id><url>{HAR}</url>"
        "</repository></repositories></project>\n")
    args = ["--project", str(project)]
    (f,) = findings(check(home, *args), "MVN002")
    assert f["fix"]["applicability"] == "unsafe" and "create" in f["fix"]["description"]
    res = run_cli(["fix", "--offline", "--unsafe", "--apply", *args], home=home)
    assert res.rc == 0, res
    cfg = home / ".m2" / "settings.xml"
    (srv,) = parse_settings(cfg.read_text(), str(cfg), "user").servers
    assert srv.id == "har"
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert run_cli(["fix", "--undo"], home=home).rc == 0
    assert not cfg.exists()
