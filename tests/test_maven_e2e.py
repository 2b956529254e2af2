"""The user's story with real parts: real ``mvn`` (Debian's 3.8 with Debian's
plugins) against Debian's ``nginx`` serving a Maven repository behind basic
auth on 127.0.0.1.

Maven fails with the same ``status: 401 Unauthorized`` for a bad password,
no ``<server>``, a server id that matches nothing, and a server id that
matches the repository behind a mirror.  ``hardoctor check`` must tell the
four apart (one different rule each, backed by the probe), ``hardoctor fix``
must repair the three that can be repaired, and the same ``mvn`` must then
succeed.  Also: a password encrypted by real ``mvn`` decrypts here exactly as
Maven decrypts it (Maven downloads with it), a wrong master is named, and
probe-only cases (a server that needs preemptive auth, a missing artifact,
the HAR URL layout, Gradle).

One nginx per module.  Each mvn run gets a fresh local repository cloned
from a seed that holds Debian's plugins but never the test artifact, so the
only download -- the one that needs credentials -- is the artifact itself
(about 3 s a run; two run at a time).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import assert_no_traceback, assert_valid_report, run_cli
from tests.servers.har_maven import HarMaven
from tests.servers.nginx_maven import (
    DEBIAN_REPO,
    HAR_ACCOUNT,
    HAR_REGISTRY,
    TEST_ARTIFACT,
    MvnResult,
    NginxMaven,
    clone_local_repo,
    run_mvn_get,
    seed_local_repo,
)
from tests.servers.util import MissingBinaryError, require_binary, server_missing

from hardoctor.model import fingerprint

pytestmark = pytest.mark.live

# Real `mvn --encrypt-master-password` / `--encrypt-password` output (see
# test_maven_plugin.py): master A, and "hd-e2e-password-1" under A and under
# another master B.
MASTER_A = "{EgITROFej14HM4foXRwoCiAkImMLngu4Jjgci/pczsg=}"
PW_A = "{yVAQT7k9NngHJz+ArI1LLvgdSlB19qD+EKT/0/cHfDc3pzNsmeDpw+9/aw7fgIg2}"
PW_B = "{wI0AnHUfU5QHf+E6Pk1u9HOhCATqbizQ+2g+WTCok1MC2jDN3YDm8cyMONTy0eGz}"
ENC_USER, ENC_PASSWORD = "enc", "hd-e2e-password-1"


@dataclass
class Env:
    srv: NginxMaven
    user: str
    password: str
    seed: Path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    for binary in ("nginx", "mvn"):
        try:
            require_binary(binary)
        except MissingBinaryError as exc:
            server_missing(f"{exc} (scripts/install-maven-deps.sh)")
    plugin = DEBIAN_REPO / "org/apache/maven/plugins/maven-dependency-plugin/3.5.0"
    if not plugin.is_dir():
        server_missing("libmaven-dependency-plugin-java is not installed "
                       "(scripts/install-maven-deps.sh)")
    password = "hd-e2e-" + secrets.token_hex(8)
    seed = seed_local_repo(tmp_path_factory.mktemp("m2seed") / "repository")
    with NginxMaven({"dev": password, ENC_USER: ENC_PASSWORD}) as srv:
        yield Env(srv, "dev", password, seed)


def settings_xml(servers: str, mirror_url: str, mirror_id: str = "hd") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <!-- hardoctor e2e: every request goes to the nginx mirror -->
  <servers>
{servers}  </servers>
  <mirrors>
    <mirror>
      <id>{mirror_id}</id>
      <mirrorOf>*</mirrorOf>
      <url>{mirror_url}</url>
    </mirror>
  </mirrors>
</settings>
"""


def server_xml(server_id: str, user: str, password: str, extra: str = "") -> str:
    return (f"    <server>\n      <id>{server_id}</id>\n      <username>{user}</username>\n"
            f"      <password>{password}</password>\n{extra}    </server>\n")


def make_home(root: Path, name: str, settings: str, security: str | None = None) -> Path:
    home = root / name
    (home / ".m2").mkdir(parents=True)
    cfg = home / ".m2" / "settings.xml"
    cfg.write_text(settings)
    cfg.chmod(0o600)
    if security is not None:
        (home / ".m2" / "settings-security.xml").write_text(
            f"<settingsSecurity>\n  <master>{security}</master>\n</settingsSecurity>\n")
    return home


def mvn(seed: Path, home: Path, environ: dict[str, str] | None = None) -> MvnResult:
    # A fresh local repository every run: a cached test artifact would skip auth.
    repo = clone_local_repo(seed, home / "local-repo")
    assert not (repo / TEST_ARTIFACT.dir).exists()
    return run_mvn_get(home / ".m2" / "settings.xml", TEST_ARTIFACT.coords, home=home,
                       local_repo=repo, env=environ)


def mvn_all(env: Env, jobs: list[tuple[Path, dict[str, str] | None]]) -> list[MvnResult]:
    with ThreadPoolExecutor(max_workers=2) as pool:  # 2 cores: JVM start-up is CPU-bound
        return list(pool.map(lambda job: mvn(env.seed, *job), jobs))


def check(home: Path, *args: str, environ: Mapping[str, str | None] | None = None) -> dict:
    res = run_cli(["check", "--format", "json", "--timeout", "5", *args], home=home,
                  environ=environ)
    assert res.rc in (0, 1), res
    assert_no_traceback(res)
    return assert_valid_report(res.out)


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def test_four_401s_told_apart_then_fixed(env: Env, tmp_path: Path) -> None:
    url = env.srv.url()
    stories = {
        "bad-password": (server_xml("hd", env.user, "not-the-password"), "MVN101",
                         "token-invalid"),
        "no-server": ("", "MVN002", "no-credentials"),
        "wrong-id": (server_xml("hd-repo", env.user, env.password), "MVN004",
                     "credential-not-matched"),
        "behind-mirror": (server_xml("central", env.user, env.password), "MVN003",
                          "credential-not-matched"),
    }
    homes = {name: make_home(tmp_path, name, settings_xml(servers, url))
             for name, (servers, _, _) in stories.items()}

    # 1. Real mvn fails the same way for all four.
    before = dict(zip(homes, mvn_all(env, [(h, None) for h in homes.values()]), strict=True))
    for name, result in before.items():
        assert result.rc != 0, f"{name}: mvn succeeded:\n{result.output[-2000:]}"
        assert "status: 401 Unauthorized" in result.output, (name, result.output[-2000:])

    # 2. hardoctor tells them apart: one error each, a different rule each.
    for name, home in homes.items():
        report = check(home)
        errs = errors(report)
        assert [f["rule"] for f in errs] == [stories[name][1]], (name, report["findings"])
        f = errs[0]
        assert f["cause"] == stories[name][2]
        assert f["registry"] == url
        assert any("401" in e for e in f["evidence"]), f  # backed by the probe
        assert report["probes"] and report["probes"][0]["status"] == 401
    assert "'hd'" in errors(check(homes["no-server"]))[0]["message"]  # names the id to use

    # 3. Fixes: safe ones for the ids, the <server> skeleton with --unsafe.
    fix_env = {"HARNESS_USERNAME": env.user, "HARNESS_TOKEN": env.password}
    for name in ("wrong-id", "behind-mirror"):
        res = run_cli(["fix", "--apply"], home=homes[name])
        assert res.rc == 0, res
        assert "<id>hd</id>" in (homes[name] / ".m2" / "settings.xml").read_text()
    res = run_cli(["fix", "--apply"], home=homes["no-server"])
    assert "unsafe" in res.out
    res = run_cli(["fix", "--apply", "--unsafe"], home=homes["no-server"])
    assert res.rc == 0, res
    # A wrong password cannot be fixed by editing: the remedy is a new token.
    res = run_cli(["fix"], home=homes["bad-password"])
    assert "Nothing to fix." in res.out
    (f,) = errors(check(homes["bad-password"]))
    assert "new token" in " ".join(f["remediation"]["steps"]).lower()

    # 4. The same mvn now succeeds, and hardoctor is satisfied.
    jobs: list[tuple[Path, dict[str, str] | None]] = [
        (homes["wrong-id"], None), (homes["behind-mirror"], None), (homes["no-server"], fix_env)]
    for (home, environ), result in zip(jobs, mvn_all(env, jobs), strict=True):
        assert result.rc == 0, f"{home.name}: mvn still fails:\n{result.output[-3000:]}"
        report = check(home, environ=dict(environ or {}))
        assert errors(report) == [], (home.name, report["findings"])
        assert any(p["status"] == 404 or p["status"] == 200 for p in report["probes"])


def test_encrypted_password_decrypts_like_maven(env: Env, tmp_path: Path) -> None:
    url = env.srv.url()
    good = make_home(tmp_path, "enc-good", settings_xml(server_xml("hd", ENC_USER, PW_A), url),
                     MASTER_A)
    wrong = make_home(tmp_path, "enc-wrong", settings_xml(server_xml("hd", ENC_USER, PW_B), url),
                      MASTER_A)
    good_mvn, wrong_mvn = mvn_all(env, [(good, None), (wrong, None)])
    assert good_mvn.rc == 0, good_mvn.output[-3000:]
    assert wrong_mvn.rc != 0 and "status: 401 Unauthorized" in wrong_mvn.output

    report = check(good)
    assert errors(report) == [], report["findings"]
    (cred,) = report["credentials"]
    assert cred["secret"]["fingerprint"] == fingerprint(ENC_PASSWORD)

    report = check(wrong)
    assert [f["rule"] for f in errors(report)] == ["MVN007"], report["findings"]
    assert "does not decrypt" in errors(report)[0]["message"]


def test_artifact_target_probes_metadata(env: Env, tmp_path: Path) -> None:
    url = env.srv.url()
    home = make_home(tmp_path, "coords", settings_xml(server_xml("hd", env.user, env.password),
                                                      url))
    env.srv.clear_log()
    report = check(home, "maven:com.example.hd:hd-lib")
    assert errors(report) == [], report["findings"]
    assert any(p["url"].endswith("/com/example/hd/hd-lib/maven-metadata.xml") and p["status"] == 200
               for p in report["probes"])
    log = env.srv.access_log()
    # Maven's two requests: anonymous, then with the credential (only the user name is logged).
    assert any("maven-metadata.xml 401 user=- -" in line for line in log), log
    assert any("maven-metadata.xml 200 user=dev auth" in line for line in log), log

    report = check(home, "maven:com.example.hd:no-such-lib:9")
    (f,) = errors(report)
    assert f["rule"] == "MVN104" and f["cause"] == "not-found"


def test_server_that_needs_preemptive_auth(env: Env, tmp_path: Path) -> None:
    """A server that hides content behind 404 instead of a 401 challenge: mvn
    never sends the credential ("Could not find artifact"); hardoctor says
    why, and its remedy (usePreemptive, Maven 3.8) makes the same mvn succeed."""
    url = env.srv.url("preemptive")
    home = make_home(tmp_path, "preemptive", settings_xml(
        server_xml("hd", env.user, env.password), url))
    report = check(home, "maven:com.example.hd:hd-lib")
    (f,) = errors(report)
    assert f["rule"] == "MVN103" and f["cause"] == "no-credentials"
    remedy = " ".join(f["remediation"]["steps"])
    assert "usePreemptive" in remedy
    pre = ("      <configuration><httpConfiguration><all><usePreemptive>true</usePreemptive>"
           "</all></httpConfiguration></configuration>\n")
    home2 = make_home(tmp_path, "preemptive-on", settings_xml(
        server_xml("hd", env.user, env.password, pre), url))
    assert errors(check(home2, "maven:com.example.hd:hd-lib")) == []
    before, after = mvn_all(env, [(home, None), (home2, None)])
    assert before.rc != 0 and "Could not find artifact" in before.output
    assert after.rc == 0, after.output[-3000:]


def test_har_layout_on_loopback(env: Env, tmp_path: Path) -> None:
    """The HAR URL shape and token checks (harness plugin) over this plugin's
    credentials and targets, on a loopback host declared as HAR."""
    host = ["--harness-host", env.srv.host, "--no-token-api"]
    good_url = env.srv.url("har")
    token = f"pat.{HAR_ACCOUNT}.tok1.hdE2eSecret01"
    srv_xml = server_xml("har", "dev@example.test", token)
    home = make_home(tmp_path, "har-nopkg", settings_xml(
        srv_xml, f"{env.srv.base}/{HAR_ACCOUNT}/{HAR_REGISTRY}/maven", "har"))
    rules = {f["rule"] for f in check(home, *host)["findings"]}
    assert "HAR201" in rules, rules  # no /pkg/ segment

    home = make_home(tmp_path, "har-type", settings_xml(
        srv_xml, good_url.replace("/maven", "/npm"), "har"))
    rules = {f["rule"] for f in check(home, *host)["findings"]}
    assert "MVN017" in rules, rules

    home = make_home(tmp_path, "har-account", settings_xml(
        server_xml("har", "dev@example.test", "pat.OtherAcct.tok1.hdE2eSecret02"), good_url,
        "har"))
    report = check(home, *host)
    rules = {f["rule"] for f in report["findings"]}
    assert "HAR105" in rules, rules  # token of another account
    assert "MVN101" in rules  # and the registry refuses it
    ev = next(f for f in report["findings"] if f["rule"] == "MVN101")["evidence"]
    assert any('realm="Harness Registry"' in e for e in ev), ev


def test_gradle_credentials_probed(env: Env, tmp_path: Path) -> None:
    home = tmp_path / "gradle"
    project = home / "project"
    project.mkdir(parents=True)
    (project / "build.gradle.kts").write_text(f"""repositories {{
    maven {{
        name = "hd"
        url = uri("{env.srv.url()}")
        credentials(PasswordCredentials::class)
    }}
}}
""")
    (home / ".gradle").mkdir()
    props = home / ".gradle" / "gradle.properties"
    props.write_text(f"hdUsername={env.user}\nhdPassword=wrong-password\n")
    report = check(home, "--project", str(project))
    (f,) = errors(report)
    assert f["rule"] == "MVN101" and "Gradle" in f["message"]
    props.write_text(f"hdUsername={env.user}\nhdPassword={env.password}\n")
    report = check(home, "--project", str(project))
    assert errors(report) == [], report["findings"]
    assert [r["client"] for r in report["resolutions"]] == ["gradle"]


# -- HAR's Maven answers (an emulator: 403, quarantine, 429, 5xx) ----------------------------

GOOD_TOKEN = "pat.AcctMvn01.tok1.hdHarEmuSecret01"
NOPERM_TOKEN = "pat.AcctMvn01.tok2.hdHarEmuSecret02"


@pytest.fixture
def har() -> Iterator[HarMaven]:
    emu = HarMaven(
        tokens={GOOD_TOKEN: {"*"}, NOPERM_TOKEN: {"other-registry"}},
        files={"com/example/hd/hd-lib/maven-metadata.xml": b"<metadata/>\n"},
        quarantined={"com/example/hd/bad-lib/maven-metadata.xml"},
    )
    with emu:
        yield emu


def har_check(tmp_path: Path, har: HarMaven, token: str, *targets: str) -> dict:
    home = make_home(tmp_path, f"har-{len(list(tmp_path.iterdir()))}", settings_xml(
        server_xml("har", "dev@example.test", token), har.url(), "har"))
    return check(home, "--harness-host", har.host, "--no-token-api", *targets)


def test_har_answers_are_told_apart(har: HarMaven, tmp_path: Path) -> None:
    lib = "maven:com.example.hd:hd-lib"
    assert errors(har_check(tmp_path, har, GOOD_TOKEN, lib)) == []

    (f,) = errors(har_check(tmp_path, har, NOPERM_TOKEN, lib))
    assert (f["rule"], f["cause"]) == ("MVN102", "permission-denied")
    steps = " ".join(f["remediation"]["steps"])
    assert "Access Control" in steps and "webhook" in steps  # the HAR principal story

    (f,) = errors(har_check(tmp_path, har, GOOD_TOKEN, "maven:com.example.hd:bad-lib"))
    assert (f["rule"], f["cause"]) == ("MVN105", "blocked-by-policy")

    report = har_check(tmp_path, har, "pat.AcctMvn01.tok3.hdHarEmuUnknown3", lib)
    assert [x["rule"] for x in errors(report)] == ["MVN101"]

    har.status_override = 429
    report = har_check(tmp_path, har, GOOD_TOKEN, lib)
    assert [x["rule"] for x in report["findings"]] == ["MVN106"]
    har.status_override = 502
    report = har_check(tmp_path, har, GOOD_TOKEN, lib)
    # The server error is named, and since nothing could be checked behind
    # it the registry is "could not check", never a pass.
    assert [x["rule"] for x in report["findings"]] == ["CHK002", "MVN107"]
    # The token never went anywhere but the registry's origin, and was never logged.
    assert all(r.path.startswith("/pkg/") for r in har.requests)
