"""Bad input and secrets, for the Maven/Gradle plugin.

* Hypothesis feeds random text and random Maven-shaped XML to every file the
  plugin reads (user and project settings, settings-security.xml, POMs,
  gradle.properties, build scripts): every run ends with exit 0 or 1, no
  traceback, no HD002 (a plugin raised), a report that validates, in well
  under a second; ``fix --unsafe --apply`` never turns readable XML into
  unreadable XML and converges.
* No secret leaks: a HOME with a canary in every place Maven and Gradle keep
  one (plaintext, encrypted, the master, headers, env-interpolated, URL
  userinfo, gradle.properties, ORG_GRADLE_PROJECT_*, a literal in a build
  script) goes through check (text and JSON, offline and probing), fix (diff
  and apply) and a real subprocess; no canary -- nor its base64 -- may
  appear in any output.  Each in-process run starts with
  :mod:`hardoctor.redact` empty, as a fresh process does.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import assert_no_traceback, assert_valid_report, run_cli, run_subprocess

from hardoctor import redact
from hardoctor_maven.mvnfiles import parse_settings
from hardoctor_maven.xmlpos import XmlError

EXAMPLES = int(os.environ.get("HARDOCTOR_FUZZ_EXAMPLES", "60"))

PLACES = {
    "settings": ".m2/settings.xml",
    "security": ".m2/settings-security.xml",
    "pom": "pom.xml",
    "gradle-user": ".gradle/gradle.properties",
    "gradle-project": "gradle.properties",
    "script": "build.gradle.kts",
}


@contextlib.contextmanager
def fresh_redact() -> Iterator[None]:
    """An empty redaction registry for one run (as in a new process)."""
    saved = redact.snapshot()
    redact.clear()
    try:
        yield
    finally:
        redact.restore(saved)


def run_ok(home: Path, *argv: str) -> dict:
    t0 = time.monotonic()
    res = run_cli(list(argv), home=home)
    assert time.monotonic() - t0 < 10
    assert res.rc in (0, 1), res
    assert_no_traceback(res)
    report = assert_valid_report(res.out)
    assert not [f for f in report["findings"] if f["rule"] == "HD002"], res.out
    return report


# -- random input ------------------------------------------------------------------------

TAGS = ["settings", "servers", "server", "id", "username", "password", "passphrase",
        "mirrors", "mirror", "mirrorOf", "url", "blocked", "profiles", "profile", "activation",
        "activeByDefault", "repositories", "repository", "pluginRepositories",
        "pluginRepository", "activeProfiles", "activeProfile", "configuration", "httpHeaders",
        "property", "name", "value", "properties", "project", "parent", "relativePath",
        "modules", "module", "distributionManagement", "master", "relocation"]
VALUES = st.one_of(
    st.sampled_from(["*", "central", "har", "*, !x", "external:*", "true", "false",
                     "https://pkg.harness.io/pkg/AcctX1/r/maven", "http://1.2.3.4/r",
                     "${env.HD_FUZZ_UNSET}", "${user.home}", "{abc}", "{[name=x]y}",
                     "{yVAQT7k9NngHJz+ArI1LLvgdSlB19qD+EKT/0/cHfDc3pzNsmeDpw+9/aw7fgIg2}",
                     "../pom.xml", "/", "", " a , b ", "pat.AcctX1.t.s", "&amp;", "&lt;x&gt;"]),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="<&\x00"),
            max_size=20),
)


@st.composite
def xml_tree(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(st.sampled_from(TAGS))
    if depth >= 4 or draw(st.booleans()):
        return f"<{tag}>{draw(VALUES)}</{tag}>"
    children = draw(st.lists(xml_tree(depth + 1), max_size=4))
    return f"<{tag}>" + "".join(children) + f"</{tag}>"


@st.composite
def maven_doc(draw: st.DrawFn) -> str:
    root = draw(st.sampled_from(["settings", "project", "settingsSecurity"]))
    body = draw(st.lists(xml_tree(1), max_size=5))
    prolog = draw(st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>\n', "\ufeff"]))
    nl = draw(st.sampled_from(["\n", "\r\n", ""]))
    return prolog + f"<{root}>{nl}" + nl.join(body) + f"{nl}</{root}>{nl}"


def _home_with(place: str, text: str) -> tempfile.TemporaryDirectory[str]:
    tmp = tempfile.TemporaryDirectory(prefix="hd-mvnfuzz-")
    path = Path(tmp.name) / PLACES[place]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    path.chmod(0o600)
    return tmp


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(place=st.sampled_from(sorted(PLACES)),
       text=st.one_of(st.text(max_size=300), maven_doc()))
def test_random_files_are_findings_not_crashes(place: str, text: str) -> None:
    with _home_with(place, text.replace("\x00", "")) as tmp:
        run_ok(Path(tmp), "check", "--offline", "--format", "json")


@settings(max_examples=max(10, EXAMPLES // 3), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=maven_doc())
def test_fixes_on_random_settings_keep_xml_readable(text: str) -> None:
    text = text.replace("<project>", "<settings>").replace("</project>", "</settings>")
    text = text.replace("<settingsSecurity>", "<settings>").replace("</settingsSecurity>",
                                                                    "</settings>")
    with _home_with("settings", text) as tmp:
        home = Path(tmp)
        cfg = home / PLACES["settings"]
        try:
            parse_settings(text, str(cfg), "user")
            readable = True
        except XmlError:
            readable = False
        res = run_cli(["fix", "--offline", "--unsafe", "--apply"], home=home)
        assert res.rc in (0, 1), res
        assert_no_traceback(res)
        if readable:
            parse_settings(cfg.read_text(encoding="utf-8"), str(cfg), "user")
        again = run_cli(["fix", "--offline", "--unsafe", "--apply"], home=home)
        assert again.rc == 0 and "Nothing to fix." in again.out, again


# -- secrets never leak ------------------------------------------------------------------

MASTER_ENC = "{EgITROFej14HM4foXRwoCiAkImMLngu4Jjgci/pczsg=}"  # hd-master-Pass1 (real mvn)
PAT_ENC = ("{XiMHdxo5BVoHZreRcQbkEfmPtkOllyMboruvCwDhLJaBgyA6O1rf7JJ42GAjkYXXTIb3VrQXd4C27Px"
           "nSqKusQ==}")  # pat.AcctX1.tok1.c2VjcmV0c2VjcmV0 under that master
OTHER_ENC = "{wI0AnHUfU5QHf+E6Pk1u9HOhCATqbizQ+2g+WTCok1MC2jDN3YDm8cyMONTy0eGz}"  # another master

CANARIES = [
    "hdcanary-plain-0001",
    "pat.AcctX1.tok1.c2VjcmV0c2VjcmV0",  # decrypted from PAT_ENC
    "hd-master-Pass1",  # the master password itself
    "hdcanary-header-0003",
    "hdcanary-braces{0004}x",
    "hdcanary-env-0005",
    "hdcanary-passphrase-0006",
    "hdcanary-urlpw-0007",
    "hdcanary-pomtoken-0008",
    "hdcanary-gradleuser-0009",
    "hdcanary-gradleproject-0010",
    "hdcanary-orggradle-0011",
    "hdcanary-literal-0012",
    "hdcanary-duplicate-0013",
    MASTER_ENC,
    PAT_ENC,
    OTHER_ENC,
]


def _write(home: Path, rel: str, text: str) -> None:
    path = home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o644)  # world-readable on purpose: the chmod fix runs too


def leak_home(home: Path, port: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    _write(home, ".m2/settings-security.xml",
           f"<settingsSecurity><master>{MASTER_ENC}</master></settingsSecurity>\n")
    _write(home, ".m2/settings.xml", f"""<settings>
  <servers>
    <server><id>plain</id><username>u1</username><password>hdcanary-plain-0001</password></server>
    <server><id>central</id><username>u2</username><password>{PAT_ENC}</password></server>
    <server><id>hdr</id><configuration><httpHeaders><property><name>Authorization</name>
      <value>Bearer hdcanary-header-0003</value></property></httpHeaders></configuration></server>
    <server><id>braces</id><username>u4</username><password>hdcanary-braces{{0004}}x</password></server>
    <server><id>envpw</id><username>u5</username><password>${{env.HD_CANARY_ENV}}</password></server>
    <server><id>key</id><privateKey>/k</privateKey><passphrase>hdcanary-passphrase-0006</passphrase></server>
    <server><id>wrong</id><username>u7</username><password>{OTHER_ENC}</password></server>
    <server><id>plain</id><username>u1</username><password>hdcanary-duplicate-0013</password></server>
  </servers>
  <mirrors>
    <mirror><id>har</id><mirrorOf>central, snapshots</mirrorOf><url>{base}/pkg/AcctX1/r/maven</url></mirror>
  </mirrors>
</settings>
""")
    _write(home, "project/pom.xml", f"""<project>
  <properties><har.token>hdcanary-pomtoken-0008</har.token></properties>
  <repositories>
    <repository><id>snapshots</id><url>{base}/snap</url></repository>
    <repository><id>plain</id><url>http://me:hdcanary-urlpw-0007@127.0.0.1:{port}/r</url></repository>
    <repository><id>envpw</id><url>{base}/envpw</url></repository>
  </repositories>
</project>
""")
    _write(home, ".gradle/gradle.properties",
           "harUsername=dev@example.test\nharPassword=hdcanary-gradleuser-0009\n")
    _write(home, "project/gradle.properties", "harPassword=hdcanary-gradleproject-0010\n")
    _write(home, "project/build.gradle", f"""repositories {{
    maven {{ name = "har"; url = "{base}/g"; credentials(PasswordCredentials) }}
    maven {{
        url "{base}/lit"
        credentials {{ username = "lit"; password = "hdcanary-literal-0012" }}
    }}
}}
""")
    return {"HD_CANARY_ENV": "hdcanary-env-0005",
            "ORG_GRADLE_PROJECT_harPassword": "hdcanary-orggradle-0011"}


def forms(value: str) -> set[str]:
    raw = value.encode()
    out = {value, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    out |= {f.rstrip("=") for f in out}
    return {f for f in out if len(f) >= 6}


def assert_clean(*texts: str) -> None:
    for value in CANARIES:
        for form in forms(value):
            for text in texts:
                assert form not in text, f"secret {value!r} leaked (as {form!r})"


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def canary_home(home: Path) -> tuple[Path, dict[str, str]]:
    env = leak_home(home, _closed_port())
    return home, env


COMMANDS = [
    ["check", "--offline"],
    ["check", "--offline", "--format", "json"],
    ["check", "--offline", "maven:com.example:lib:1.0"],
    ["check", "--timeout", "2"],
    ["check", "--timeout", "2", "--format", "json", "maven:com.example:lib"],
    ["fix", "--offline", "--unsafe"],
    ["fix", "--offline", "--unsafe", "--format", "json"],
    ["check", "--offline", "--debug"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a))
def test_no_secret_in_any_output(canary_home: tuple[Path, dict[str, str]], argv: list[str]) -> None:
    home, env = canary_home
    with fresh_redact():
        res = run_cli([*argv, "--project", str(home / "project")], home=home, environ=env)
    assert res.rc in (0, 1), res
    assert_no_traceback(res)
    assert_clean(res.out, res.err)
    if "check" in argv and "json" in argv:
        report = assert_valid_report(res.out)
        rules = {f["rule"] for f in report["findings"]}
        # The fixture really exercises the code paths that handle secrets.
        assert {"MVN005", "MVN007", "MVN008", "MVN013", "MVN020"} <= rules, rules


def test_fix_apply_undo_and_subprocess(canary_home: tuple[Path, dict[str, str]],
                                       tmp_path: Path) -> None:
    home, env = canary_home
    args = ["--project", str(home / "project")]
    out_file = tmp_path / "report.json"
    with fresh_redact():
        applied = run_cli(["fix", "--offline", "--unsafe", "--apply", *args], home=home,
                          environ=env)
        undone = run_cli(["fix", "--undo"], home=home, environ=env)
        written = run_cli(["check", "--offline", "--format", "json", "--output", str(out_file),
                           *args], home=home, environ=env)
    for res in (applied, undone, written):
        assert res.rc in (0, 1), res
        assert_clean(res.out, res.err)
    assert_clean(out_file.read_text())
    sub = run_subprocess(["check", "--offline", *args], home=home, environ=env)
    assert sub.rc == 1, sub
    assert_no_traceback(sub)
    assert_clean(sub.out, sub.err)
