"""``hardoctor fix --token-stdin`` for Maven and Gradle.

Offline: a plaintext ``<password>`` gets the new token XML-escaped (or in its
CDATA section), every other byte kept; an encrypted one is encrypted again
with the master password of ``settings-security.xml`` (``maven_encrypt``,
checked against values real ``mvn`` made); ``gradle.properties`` copies are
rewritten in Java's properties syntax; a value from the environment
(``${env.X}``, ``ORG_GRADLE_PROJECT_*``) is never overwritten -- the exact
``export`` is printed instead.

Live: real ``mvn`` against Debian's nginx (basic auth) on 127.0.0.1 fails
with the old encrypted password, succeeds after one ``fix --token-stdin
--apply`` that re-encrypted it (so real Maven decrypts what
``maven_encrypt`` wrote) and updated a ``gradle.properties`` copy; the
``${env.X}`` home succeeds once the printed ``export`` is done; a second run
changes nothing, ``fix --undo`` brings back every byte, a token nginx rejects
is refused before anything is written, and no output holds a token or any
form of it.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import Result, assert_no_traceback, run_cli
from tests.servers.nginx_maven import (
    DEBIAN_REPO,
    TEST_ARTIFACT,
    MvnResult,
    NginxMaven,
    clone_local_repo,
    run_mvn_get,
    seed_local_repo,
)
from tests.servers.util import MissingBinaryError, require_binary, server_missing

from hardoctor import redact
from hardoctor_maven import gradle
from hardoctor_maven import rotate as mvn_rotate
from hardoctor_maven.cipher import maven_decrypt, maven_decrypt_master, maven_encrypt

# Real `mvn --encrypt-master-password hd-master-Pass1` and, under that master,
# `mvn --encrypt-password hd-e2e-password-1` (see test_maven_plugin.py).
MASTER_A = "{EgITROFej14HM4foXRwoCiAkImMLngu4Jjgci/pczsg=}"
PW_A, PW_A_PLAIN = "{yVAQT7k9NngHJz+ArI1LLvgdSlB19qD+EKT/0/cHfDc3pzNsmeDpw+9/aw7fgIg2}", \
    "hd-e2e-password-1"
REPO = "https://repo.example.test/maven"
TARGET = "maven:com.example.hd:hd-lib:1.0"
OLD = "hd-old-mvn-" + "a1" * 10
NEW = "hd-new-mvn-" + "b2" * 10
#: Every character XML and Java properties files treat specially.
ODD = "hd-new&<b2>\"x'\\y=z:#!-" + "c3" * 6
ENCRYPTED = re.compile(r"\{[A-Za-z0-9+/]{20,}={0,2}\}")


def master() -> str:
    return maven_decrypt_master(MASTER_A).reveal()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def assert_no_tokens(text: str, *tokens: str) -> None:
    """No token in ``text`` in any form: itself, XML-escaped, base64 (of
    ``dev:token`` too), or encrypted (any ``{base64}`` at all)."""
    for t in tokens:
        for form in (t, xml_escape(t), b64(t), b64(f"dev:{t}")):
            assert form not in text, f"a token ({form[:10]}...) is in the output:\n{text}"
    assert not ENCRYPTED.search(text), f"an encrypted value is in the output:\n{text}"


def settings_xml(servers: str, url: str = REPO, nl: str = "\n") -> str:
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <!-- team settings: keep this comment -->
  <servers>
{servers}  </servers>
  <mirrors>
    <mirror>
      <id>hd</id>
      <mirrorOf>*</mirrorOf>
      <url>{url}</url>
    </mirror>
  </mirrors>
</settings>
"""
    return text.replace("\n", nl)


def server(password: str, user: str = "dev", sid: str = "hd", tail: str = "") -> str:
    return (f"    <server>\n      <id>{sid}</id>\n      <username>{user}</username>\n"
            f"      <password>{password}</password>{tail}\n    </server>\n")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    path.chmod(0o600)
    return path


def settings(home: Path, text: str, security: str | None = MASTER_A) -> Path:
    if security is not None:
        write(home / ".m2" / "settings-security.xml",
              f"<settingsSecurity>\n  <master>{security}</master>\n</settingsSecurity>\n")
    return write(home / ".m2" / "settings.xml", text)


def rotate(home: Path, *flags: str, token: str = NEW, environ: Mapping[str, str] | None = None,
           project: Path | None = None, target: str = TARGET, offline: bool = True) -> Result:
    argv = ["fix", "--token-stdin", *(["--offline"] if offline else []), *flags]
    if project is not None:
        argv += ["--project", str(project)]
    res = run_cli([*argv, target], home=home, cwd=project or home, environ=environ,
                  stdin=token + "\n")
    assert_no_traceback(res)
    return res


def backups(home: Path) -> list[Path]:
    root = home / ".local" / "state" / "hardoctor" / "backups"
    return sorted(root.iterdir()) if root.is_dir() else []


def password_of(path: Path, sid: str = "hd") -> str:
    """What an independent XML parser reads as the server's password."""
    ns = {"s": "http://maven.apache.org/SETTINGS/1.0.0"}
    root = ET.fromstring(path.read_bytes())
    for srv in root.iterfind("s:servers/s:server", ns):
        if srv.findtext("s:id", namespaces=ns) == sid:
            return (srv.findtext("s:password", namespaces=ns) or "").strip()
    raise AssertionError(f"no server {sid}")


def braces(value: str) -> str:
    m = ENCRYPTED.search(value)
    assert m, "no {...} value"
    return m.group(0)


# -- maven_encrypt -----------------------------------------------------------------------


def test_maven_encrypt_round_trips_in_plexus_format() -> None:
    key = master()
    for text in ("", "a", "x" * 15, "y" * 16, ODD, "pat.AcctX1.tok1." + "é€😀" * 5):
        enc = maven_encrypt(text, key)
        assert enc.startswith("{") and enc.endswith("}")
        blob = base64.b64decode(enc[1:-1], validate=True)
        pad_len = blob[8]
        # salt(8) | padLen | AES blocks | padLen filler bytes -- what plexus-cipher writes.
        assert pad_len == 16 - (8 + len(blob) - 9 - pad_len + 1) % 16
        assert (len(blob) - 9 - pad_len) % 16 == 0
        assert maven_decrypt(enc, key).reveal() == text
    # Real mvn's output decrypts, and the same text never encrypts the same way twice.
    assert maven_decrypt(PW_A, key).reveal() == PW_A_PLAIN
    first, second = maven_encrypt(PW_A_PLAIN, key), maven_encrypt(PW_A_PLAIN, key)
    assert first != second and len(first) == len(PW_A)
    assert maven_decrypt(first, maven_decrypt_master(MASTER_A)).reveal() == PW_A_PLAIN
    # The encrypted form is a secret too: scrubbed wherever it shows up.
    assert first not in redact.scrub(f"value {first} here")


# -- settings.xml, offline ----------------------------------------------------------------


def test_plaintext_password_is_replaced_byte_exactly_and_xml_escaped(home: Path) -> None:
    before = settings_xml(server(OLD, tail="  <!-- rotated monthly -->"), nl="\r\n")
    path = settings(home, before, security=None)
    dry = rotate(home, token=ODD)
    assert dry.rc == 1, dry
    assert "1 place holds the old credential" in dry.out
    assert "<server> hd: store the new token" in dry.out
    assert path.read_bytes() == before.encode()  # a dry run writes nothing
    assert_no_tokens(dry.out + dry.err, OLD, ODD)

    done = rotate(home, "--apply", token=ODD)
    assert done.rc == 0, done
    assert "Updated 1 file" in done.out and "Checked again" in done.out
    assert path.read_bytes() == before.replace(OLD, xml_escape(ODD)).encode()
    assert password_of(path) == ODD
    assert_no_tokens(done.out + done.err, OLD, ODD)

    again = rotate(home, "--apply", token=ODD)
    assert again.rc == 0 and "0 places hold the old credential" in again.out, again
    assert run_cli(["fix", "--undo"], home=home).rc == 0
    assert path.read_bytes() == before.encode()


def test_cdata_password_stays_cdata(home: Path) -> None:
    before = settings_xml(server(f"<![CDATA[{OLD}]]>"))
    path = settings(home, before, security=None)
    assert rotate(home, "--apply", token=ODD).rc == 0
    assert path.read_text() == before.replace(OLD, ODD)
    assert password_of(path) == ODD


def test_encrypted_password_is_encrypted_again_with_the_master(home: Path) -> None:
    """The old value was written by real mvn; the new one decrypts with the
    same master, and only the {...} changed (the comment around it stays)."""
    before = settings_xml(server(f"Rotated by ops {PW_A}"))
    path = settings(home, before)
    dry = rotate(home, token=NEW)
    assert dry.rc == 1, dry
    assert "encrypted with the master password (as the old one was)" in dry.out
    assert path.read_text() == before
    assert_no_tokens(dry.out + dry.err, PW_A_PLAIN, NEW)

    done = rotate(home, "--apply", token=NEW)
    assert done.rc == 0, done
    after = path.read_text()
    enc = braces(password_of(path))
    assert after == before.replace(PW_A, enc)
    assert password_of(path) == f"Rotated by ops {enc}"
    assert maven_decrypt(enc, master()).reveal() == NEW
    assert_no_tokens(done.out + done.err, PW_A_PLAIN, NEW, enc)

    again = rotate(home, "--apply", token=NEW)
    assert "0 places hold the old credential" in again.out, again
    assert path.read_text() == after
    assert run_cli(["fix", "--undo"], home=home).rc == 0
    assert path.read_text() == before


def test_a_password_that_did_not_decrypt_is_encrypted_with_the_current_master(home: Path) -> None:
    wrong = maven_encrypt(OLD, "another-master")
    path = settings(home, settings_xml(server(wrong)))
    res = rotate(home, "--apply")
    assert res.rc == 0, res
    assert "did not decrypt with it" in res.out
    assert maven_decrypt(password_of(path), master()).reveal() == NEW


def test_a_missing_password_is_added_encrypted(home: Path) -> None:
    before = settings_xml("    <server>\n      <id>hd</id>\n      <username>dev</username>\n"
                          "    </server>\n")
    path = settings(home, before)
    res = rotate(home, "--apply")
    assert res.rc == 0, res
    assert "add a <password> with the new token encrypted" in res.out
    enc = password_of(path)
    assert before.replace("<username>dev</username>\n",
                          f"<username>dev</username>\n      <password>{enc}</password>\n") \
        == path.read_text()
    assert maven_decrypt(enc, master()).reveal() == NEW
    assert_no_tokens(res.out + res.err, NEW, enc)


def test_env_references_print_the_export_and_write_nothing(home: Path) -> None:
    before = settings_xml(server("${env.HARNESS_TOKEN}", user="${env.HARNESS_USERNAME}"))
    path = settings(home, before)
    step = '$ export HARNESS_TOKEN="$TOKEN"   # and update the CI secret HARNESS_TOKEN'
    for environ in ({"HARNESS_TOKEN": OLD, "HARNESS_USERNAME": "dev"},
                    {"HARNESS_USERNAME": "dev"}):  # set to the old token, or not set at all
        res = rotate(home, "--apply", environ=environ)
        assert step in res.out, res
        assert "the password comes from $HARNESS_TOKEN" in res.out
        assert "Updated" not in res.out
        assert_no_tokens(res.out + res.err, OLD, NEW)
    assert path.read_text() == before and not backups(home)

    # An encrypted value in the variable: encrypted again, by mvn, from $TOKEN.
    res = rotate(home, "--apply", environ={"HARNESS_TOKEN": maven_encrypt(OLD, master()),
                                           "HARNESS_USERNAME": "dev"})
    assert ("$ export HARNESS_TOKEN=\"$(mvn --encrypt-password \"$TOKEN\" | grep -o "
            "'{[^}]*}')\"   # and update the CI secret HARNESS_TOKEN") in res.out, res
    assert path.read_text() == before and not backups(home)


def test_property_references_get_a_manual_step(home: Path) -> None:
    before = settings_xml(server("${hd.token}") + server("${env.A}-${env.B}", sid="two"))
    path = settings(home, before, security=None)
    write(home / ".mvn" / "maven.config", f"-Dhd.token={OLD}\n")
    res = rotate(home, "--apply", target="maven:com.example.hd:hd-lib",
                 environ={"A": "x", "B": "y"})
    assert "pass the new token as -Dhd.token=..." in res.out, res
    assert path.read_text() == before and not backups(home)
    assert_no_tokens(res.out + res.err, OLD, NEW)


def test_what_cannot_be_rotated_is_said_and_left_alone(home: Path) -> None:
    # Encrypted, but no settings-security.xml: no master to encrypt with.
    before = settings_xml(server(PW_A))
    path = settings(home, before, security=None)
    res = rotate(home, "--apply")
    assert "the master password cannot be read" in res.out, res
    assert path.read_text() == before and not backups(home)

    # Maven 4's format.
    before = settings_xml(server("{[name=master,cipher=AES/GCM/NoPadding,version=4.0]"
                                 "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0}"))
    path = settings(home, before)
    res = rotate(home, "--apply")
    assert "Maven 4's format" in res.out, res
    assert path.read_text() == before and not backups(home)

    # A comment inside the value: rewriting it would lose the comment.
    before = settings_xml(server(f"{OLD}<!-- do not touch -->"))
    path = settings(home, before, security=None)
    res = rotate(home, "--apply")
    assert "set it by hand" in res.out, res
    assert path.read_text() == before and not backups(home)


# -- Gradle, offline -------------------------------------------------------------------------

BUILD = """repositories {
    maven {
        name = "hd"
        url = uri("%s")
        credentials(PasswordCredentials::class)
    }
}
"""


def gradle_project(home: Path, url: str = REPO) -> Path:
    project = home / "project"
    write(project / "build.gradle.kts", BUILD % url)
    return project


def test_gradle_properties_copies_are_rewritten_in_properties_syntax(home: Path) -> None:
    project = gradle_project(home)
    user_before = (f"# credentials\r\nhdUsername=dev\r\nhdPassword={OLD}\r\nother=1\r\n"
                   f"hdPassword : {OLD}\r\n")
    project_before = f"hdPassword=\\\n    {OLD}\n"  # a continuation line
    user_props = write(home / ".gradle" / "gradle.properties", user_before)
    project_props = write(project / "gradle.properties", project_before)
    res = rotate(home, "--apply", token=ODD, project=project)
    assert res.rc == 0, res
    assert "store the new token in hdPassword (and 1 other copy)" in res.out
    escaped = "hd-new&<b2>\"x'\\\\y=z:#!-" + "c3" * 6
    assert user_props.read_bytes() == user_before.replace(OLD, escaped).encode()
    assert project_props.read_bytes() == f"hdPassword={escaped}\n".encode()
    for path in (user_props, project_props):
        values = [p.value for p in gradle.parse_properties(path.read_text()) if p.key == "hdPassword"]
        assert values and set(values) == {ODD}
    assert_no_tokens(res.out + res.err, OLD, ODD, escaped)
    assert run_cli(["fix", "--undo"], home=home).rc == 0
    assert (user_props.read_bytes(), project_props.read_bytes()) == \
        (user_before.encode(), project_before.encode())


def test_gradle_env_property_gets_the_export(home: Path) -> None:
    project = gradle_project(home)
    props_before = f"hdUsername=dev\nhdPassword={OLD}\n"
    props = write(home / ".gradle" / "gradle.properties", props_before)
    res = rotate(home, "--apply", project=project,
                 environ={"ORG_GRADLE_PROJECT_hdPassword": OLD})
    assert ('$ export ORG_GRADLE_PROJECT_hdPassword="$TOKEN"   # and update the CI secret '
            "ORG_GRADLE_PROJECT_hdPassword") in res.out, res
    # The shadowed copy in gradle.properties holds the same old token: updated.
    assert props.read_text() == props_before.replace(OLD, NEW)
    assert_no_tokens(res.out + res.err, OLD, NEW)


def test_gradle_build_script_values(home: Path) -> None:
    """``System.getenv("X")`` gets the export; a literal in the script is
    left to the person (code is not rewritten)."""
    project = home / "project"
    script = write(project / "build.gradle", f"""repositories {{
    maven {{
        name = "hd"
        url = "{REPO}"
        credentials {{
            username = "dev"
            password = System.getenv("HD_TOKEN")
        }}
    }}
}}
""")
    before = script.read_text()
    res = rotate(home, "--apply", project=project, environ={"HD_TOKEN": OLD})
    assert '$ export HD_TOKEN="$TOKEN"   # and update the CI secret HD_TOKEN' in res.out, res
    assert script.read_text() == before and not backups(home)
    write(script, before.replace('System.getenv("HD_TOKEN")', f'"{OLD}"'))
    res = rotate(home, "--apply", project=project)
    assert "the password is a literal in" in res.out and "set it by hand" in res.out, res
    assert not backups(home)
    assert_no_tokens(res.out + res.err, OLD, NEW)


def test_properties_escaping_reads_back() -> None:
    for value in (ODD, " leading", "=x", ":x", "tab\there", "ünï"):
        text = f"k={mvn_rotate._prop_escape(value)}\n"
        assert text.isascii()  # Gradle reads the file as ISO-8859-1
        assert [p.value for p in gradle.parse_properties(text)] == [value]
    # Outside the BMP: a UTF-16 surrogate pair, as Java's Properties.store writes it.
    assert mvn_rotate._prop_escape("😀") == "\\ud83d\\ude00"


def test_rotation_texts_hold_no_secret_even_unscrubbed(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scrubbing is the second line of defence: descriptions and manual steps
    must not hold a token themselves (the diff does, and is scrubbed)."""
    project = gradle_project(home)
    settings(home, settings_xml(server(PW_A) + server("${env.HARNESS_TOKEN}", sid="two")))
    write(home / ".gradle" / "gradle.properties", f"hdUsername=dev\nhdPassword={PW_A_PLAIN}\n")
    monkeypatch.setattr(redact, "scrub", lambda text: text)
    res = rotate(home, "--format", "json", project=project, token=ODD,
                 environ={"HARNESS_TOKEN": PW_A_PLAIN})
    data = res.json()
    assert len(data["places"]) == 3, data["places"]
    assert data["manual"], data
    data.pop("diff")
    assert_no_tokens(json.dumps(data) + res.err, PW_A_PLAIN, ODD)


# -- live: real mvn, real nginx --------------------------------------------------------------


@dataclass
class Live:
    srv: NginxMaven
    new: str
    seed: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    for binary in ("nginx", "mvn"):
        try:
            require_binary(binary)
        except MissingBinaryError as exc:
            server_missing(f"{exc} (scripts/install-maven-deps.sh)")
    if not (DEBIAN_REPO / "org/apache/maven/plugins/maven-dependency-plugin/3.5.0").is_dir():
        server_missing("libmaven-dependency-plugin-java is not installed "
                       "(scripts/install-maven-deps.sh)")
    # nginx accepts only the new token: the old one is the expired one.
    new = "hd-new-" + secrets.token_hex(10)
    seed = seed_local_repo(tmp_path_factory.mktemp("m2seed") / "repository")
    with NginxMaven({"dev": new}) as srv:
        yield Live(srv, new, seed)


def mvn_all(live: Live, jobs: list[tuple[Path, dict[str, str] | None]]) -> list[MvnResult]:
    def one(job: tuple[Path, dict[str, str] | None]) -> MvnResult:
        home, environ = job
        # A fresh local repository every run: a cached artifact would skip auth.
        repo = clone_local_repo(live.seed, home / "local-repo")
        return run_mvn_get(home / ".m2" / "settings.xml", TEST_ARTIFACT.coords, home=home,
                           local_repo=repo, env=environ)

    with ThreadPoolExecutor(max_workers=2) as pool:  # 2 cores: JVM start-up is CPU-bound
        return list(pool.map(one, jobs))


@pytest.mark.live
def test_live_rotation_reencrypts_and_mvn_then_works(live: Live, tmp_path: Path) -> None:
    old = "hd-old-" + secrets.token_hex(10)
    wrong = "hd-wrong-" + secrets.token_hex(10)
    url = live.srv.url()
    target = f"maven:{TEST_ARTIFACT.coords}"

    # Home 1: the old token encrypted in settings.xml, and a plaintext copy in
    # ~/.gradle/gradle.properties used by a Gradle build.
    home = tmp_path / "enc"
    old_enc = maven_encrypt(old, master())
    settings_path = settings(home, settings_xml(server(old_enc), url))
    project = gradle_project(home, url)
    props = write(home / ".gradle" / "gradle.properties", f"hdUsername=dev\nhdPassword={old}\n")
    # Home 2: the password comes from ${env.HARNESS_TOKEN}.
    env_home = tmp_path / "env"
    env_settings = settings(env_home, settings_xml(
        server("${env.HARNESS_TOKEN}", user="${env.HARNESS_USERNAME}"), url), security=None)
    old_env = {"HARNESS_TOKEN": old, "HARNESS_USERNAME": "dev"}
    files = (settings_path, props, env_settings)
    before = [p.read_bytes() for p in files]
    outputs: list[str] = []

    def run(h: Path, *flags: str, token: str, environ: Mapping[str, str] | None = None,
            proj: Path | None = None) -> Result:
        res = rotate(h, "--timeout", "10", *flags, token=token, environ=environ, project=proj,
                     target=target, offline=False)
        outputs.append(res.out + res.err)
        return res

    (failing,) = mvn_all(live, [(home, None)])
    assert failing.rc != 0 and "status: 401 Unauthorized" in failing.output, failing.output[-2000:]

    # A token nginx rejects: refused, nothing written.
    bad = run(home, "--apply", token=wrong, proj=project)
    assert bad.rc == 1 and "refused; nothing was written" in bad.out, bad
    assert "MVN101" in bad.out
    assert [p.read_bytes() for p in files] == before and not backups(home)

    dry = run(home, token=live.new, proj=project)
    assert dry.rc == 1, dry
    assert "2 places hold the old credential" in dry.out, dry.out
    assert "settings.xml" in dry.out and "gradle.properties" in dry.out
    assert [p.read_bytes() for p in files] == before

    done = run(home, "--apply", token=live.new, proj=project)
    assert done.rc == 0, done
    assert "Updated 2 files" in done.out and "Checked again" in done.out and "✓" in done.out
    new_enc = password_of(settings_path)
    assert settings_path.read_bytes() == before[0].replace(old_enc.encode(), new_enc.encode())
    assert maven_decrypt(new_enc, master()).reveal() == live.new
    assert props.read_bytes() == before[1].replace(old.encode(), live.new.encode())

    # ${env.X}: the export to do, nothing written (and Maven still fails until it is done).
    env_run = run(env_home, "--apply", token=live.new, environ=old_env)
    assert env_run.rc == 1, env_run
    assert '$ export HARNESS_TOKEN="$TOKEN"   # and update the CI secret HARNESS_TOKEN' \
        in env_run.out
    assert env_settings.read_bytes() == before[2] and not backups(env_home)

    # Real mvn decrypts what maven_encrypt wrote; the export, done, works too.
    after = mvn_all(live, [(home, None), (env_home, {**old_env, "HARNESS_TOKEN": live.new})])
    for result in after:
        assert result.rc == 0, result.output[-3000:]

    again = run(home, "--apply", token=live.new, proj=project)
    assert again.rc == 0, again
    assert "0 places hold the old credential" in again.out
    assert settings_path.read_bytes() != before[0] and len(backups(home)) == 1

    undo = run_cli(["fix", "--undo"], home=home)
    assert undo.rc == 0, undo
    outputs.append(undo.out + undo.err)
    assert [p.read_bytes() for p in files] == before

    for text in outputs:
        assert_no_tokens(text, old, live.new, wrong, old_enc, new_enc)
