"""``hardoctor setup`` for Maven, proven with real ``mvn dependency:get``
against the HAR Maven emulator: from an empty HOME (a ``<server>`` plus an
active profile with the repository), with ``settings-security.xml`` (the
password encrypted with the master, as ``mvn --encrypt-password`` writes
it), and with an existing mirror that serves the URL (the ``<server>`` takes
the mirror's id, nothing else changes).  A token the registry refuses
writes nothing; no output holds the token."""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.servers import MissingBinaryError, require_binary, server_missing
from tests.servers.har_maven import HarMaven
from tests.servers.nginx_maven import (
    DEBIAN_REPO,
    TEST_ARTIFACT,
    MvnResult,
    clone_local_repo,
    run_mvn_get,
    seed_local_repo,
    write_artifact,
)

pytestmark = pytest.mark.live

ACCT = "AcmeX1"
USER = "dev@acme.io"
# Real `mvn --encrypt-master-password hd-master-Pass1` (see test_maven_plugin.py).
MASTER = "{EgITROFej14HM4foXRwoCiAkImMLngu4Jjgci/pczsg=}"


def _token() -> str:
    return f"pat.{ACCT}.{secrets.token_hex(6)}.{secrets.token_urlsafe(18).replace('-', 'x')}"


@pytest.fixture(scope="module")
def har() -> Iterator[HarMaven]:
    try:
        require_binary("mvn")
    except MissingBinaryError as exc:
        server_missing(str(exc))
    if not (DEBIAN_REPO / "org/apache/maven/plugins/maven-dependency-plugin/3.5.0").is_dir():
        server_missing("libmaven-dependency-plugin-java is not installed "
                       "(scripts/install-maven-deps.sh)")
    server = HarMaven(account=ACCT, registry="maven-prod")
    with tempfile.TemporaryDirectory() as tmp:
        write_artifact(Path(tmp), TEST_ARTIFACT)
        for p in Path(tmp).rglob("*"):
            if p.is_file():
                server.files[str(p.relative_to(tmp))] = p.read_bytes()
    with server:
        yield server


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_local_repo(tmp_path_factory.mktemp("m2seed") / "repository")


class Home:
    def __init__(self, har: HarMaven, root: Path, seed: Path) -> None:
        self.har, self.root, self.seed = har, root, seed
        self.home = root / "home"
        self.home.mkdir()
        self.outputs: list[str] = []

    @property
    def settings(self) -> Path:
        return self.home / ".m2" / "settings.xml"

    def setup(self, token: str, *extra: str) -> subprocess.CompletedProcess[str]:
        exe = shutil.which("hardoctor") or "hardoctor"
        env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", **_pythonpath(),
               "HOME": str(self.home), "HARDOCTOR_HARNESS_HOSTS": self.har.host,
               "HARDOCTOR_NO_TOKEN_API": "1"}
        res = subprocess.run([exe, "setup", self.har.url(), "--token-stdin", "--user", USER,
                              *extra], input=token, env=env, cwd=self.home,
                             capture_output=True, text=True, timeout=120, check=False)
        self.outputs += [res.stdout, res.stderr]
        return res

    def mvn(self) -> MvnResult:
        repo = clone_local_repo(self.seed, self.root / "m2repo")
        return run_mvn_get(self.settings, TEST_ARTIFACT.coords, home=self.home, local_repo=repo)

    def files(self) -> dict[str, bytes]:
        return {str(p.relative_to(self.home)): p.read_bytes()
                for p in sorted(self.home.rglob("*"))
                if p.is_file() and ".local/state/hardoctor/" not in str(p)}

    def no_leak(self, token: str) -> None:
        for text in self.outputs:
            assert token not in text


@pytest.fixture
def home(har: HarMaven, tmp_path: Path, seed: Path) -> Home:
    return Home(har, tmp_path, seed)


def test_empty_home_then_mvn_downloads(home: Home) -> None:
    token = _token()
    home.har.tokens[token] = {"*"}
    res = home.setup(token, "--apply")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "✓ maven" in res.stdout
    assert stat.S_IMODE(home.settings.stat().st_mode) == 0o600
    text = home.settings.read_text()
    assert "<id>maven-prod</id>" in text and "<activeProfile>hardoctor-maven-prod<" in text
    got = home.mvn()
    assert got.rc == 0, got.output[-2000:]

    again = home.setup(token, "--apply")
    assert again.returncode == 0 and "Nothing to change" in again.stdout
    undo = subprocess.run([shutil.which("hardoctor") or "hardoctor", "fix", "--undo"],
                          env={"PATH": os.environ.get("PATH", ""), "HOME": str(home.home),
                               **_pythonpath()},
                          capture_output=True, text=True, timeout=60, check=False)
    assert undo.returncode == 0, undo.stderr
    assert home.files() == {}
    home.no_leak(token)


def test_encrypted_with_the_master_password(home: Home) -> None:
    token = _token()
    home.har.tokens[token] = {"*"}
    (home.home / ".m2").mkdir()
    (home.home / ".m2" / "settings-security.xml").write_text(
        f"<settingsSecurity>\n  <master>{MASTER}</master>\n</settingsSecurity>\n")
    res = home.setup(token, "--apply")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "encrypted with the master password" in res.stdout
    text = home.settings.read_text()
    assert token not in text and "<password>{" in text
    got = home.mvn()
    assert got.rc == 0, got.output[-2000:]
    home.no_leak(token)


def test_existing_mirror_gets_the_server(home: Home) -> None:
    token = _token()
    home.har.tokens[token] = {"*"}
    home.settings.parent.mkdir()
    original = (
        "<settings>\n"
        "  <!-- the team's settings -->\n"
        "  <mirrors>\n"
        "    <mirror>\n"
        "      <id>har</id>\n"
        "      <mirrorOf>*</mirrorOf>\n"
        f"      <url>{home.har.url()}</url>\n"
        "    </mirror>\n"
        "  </mirrors>\n"
        "</settings>\n"
    )
    home.settings.write_text(original)
    res = home.setup(token, "--apply")
    assert res.returncode == 0, res.stdout + res.stderr
    text = home.settings.read_text()
    assert text.startswith(original[:-len("</settings>\n")])
    assert "<id>har</id>" in text.split("<servers>", 1)[1] and "<profiles>" not in text
    got = home.mvn()
    assert got.rc == 0, got.output[-2000:]
    home.no_leak(token)


def test_refused_token_writes_nothing(home: Home) -> None:
    token = _token()  # never given to the registry
    res = home.setup(token, "--apply")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "nothing was written" in res.stdout and "MVN101" in res.stdout
    assert home.files() == {}
    home.no_leak(token)


def test_project_scope_references_the_ci_secret(home: Home) -> None:
    token = _token()
    home.har.tokens[token] = {"*"}
    res = home.setup(token, "--scope", "project", "--apply")
    assert res.returncode == 0, res.stdout + res.stderr
    project_settings = home.home / ".mvn" / "settings.xml"
    text = project_settings.read_text()
    assert "<password>${env.MAVEN_TOKEN}</password>" in text and token not in text
    assert not home.settings.exists()
    assert "MAVEN_TOKEN" in res.stdout and "-s .mvn/settings.xml" in res.stdout
    repo = clone_local_repo(home.seed, home.root / "m2repo")
    got = run_mvn_get(project_settings, TEST_ARTIFACT.coords, home=home.home, local_repo=repo,
                      env={"MAVEN_TOKEN": token})
    assert got.rc == 0, got.output[-2000:]
    home.no_leak(token)


def _pythonpath() -> dict[str, str]:
    """The hardoctor under test, when the run points at a checkout."""
    value = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": value} if value else {}
