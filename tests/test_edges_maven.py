"""Maven asks its repositories in maven-resolver's order and stops at the
first that serves the artifact -- and so does hardoctor (issue 15).

Real ``mvn`` against Debian's nginx: a project whose POM lists a repository
that answers 404 for everything, then the authenticated repository that
serves the artifact, with Maven Central made unreachable by a ``central``
mirror on a closed loopback port (this machine and CI have no route to
Central anyway; the mirror makes sure of it everywhere).  mvn prints BUILD
SUCCESS, so hardoctor must exit 0: no NET error for the Central it never
contacts, no "not found" for the repository that passes the request on.
For an artifact no repository has, both fail.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers import assert_no_traceback, assert_valid_report, run_cli
from tests.servers.nginx_maven import (
    DEBIAN_REPO,
    TEST_ARTIFACT,
    NginxMaven,
    clone_local_repo,
    run_mvn_get,
    seed_local_repo,
)
from tests.servers.util import MissingBinaryError, free_port, require_binary, server_missing

pytestmark = pytest.mark.live


@dataclass
class Env:
    srv: NginxMaven
    password: str
    seed: Path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    for binary in ("nginx", "mvn"):
        try:
            require_binary(binary)
        except MissingBinaryError as exc:
            server_missing(f"{exc} (scripts/install-maven-deps.sh)")
    if not (DEBIAN_REPO / "org/apache/maven/plugins/maven-dependency-plugin/3.5.0").is_dir():
        server_missing("libmaven-dependency-plugin-java is not installed "
                       "(scripts/install-maven-deps.sh)")
    password = "hd-edge-" + secrets.token_hex(8)
    seed = seed_local_repo(tmp_path_factory.mktemp("m2seed") / "repository")
    with NginxMaven({"dev": password}) as srv:
        yield Env(srv, password, seed)


def make_home(root: Path, env: Env) -> tuple[Path, Path, str]:
    """HOME with settings.xml (the server, Central behind a dead mirror) and
    a project whose POM lists an empty repository, then the real one."""
    dead = f"http://127.0.0.1:{free_port()}/maven2"  # nothing listens there
    home = root / "home"
    (home / ".m2").mkdir(parents=True)
    settings = home / ".m2" / "settings.xml"
    settings.write_text(f"""<settings>
  <servers>
    <server><id>hd</id><username>dev</username><password>{env.password}</password></server>
  </servers>
  <mirrors>
    <mirror><id>central-unreachable</id><mirrorOf>central</mirrorOf><url>{dead}</url></mirror>
  </mirrors>
</settings>
""")
    settings.chmod(0o600)
    project = root / "project"
    project.mkdir()
    (project / "pom.xml").write_text(f"""<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId><artifactId>app</artifactId><version>1</version>
  <repositories>
    <repository><id>empty</id><url>{env.srv.base}/nothing</url></repository>
    <repository><id>hd</id><url>{env.srv.url()}</url></repository>
  </repositories>
</project>
""")
    return home, project, dead


def check(home: Path, project: Path, target: str) -> tuple[int, dict]:
    res = run_cli(["check", "--format", "json", "--timeout", "5", "--project", str(project),
                   target], home=home)
    assert res.rc in (0, 1), res
    assert_no_traceback(res)
    return res.rc, assert_valid_report(res.out)


def test_central_unreachable_artifact_from_pom_repository(env: Env, tmp_path: Path) -> None:
    home, project, dead = make_home(tmp_path, env)
    repo = clone_local_repo(env.seed, home / "local-repo")
    mvn = run_mvn_get(home / ".m2" / "settings.xml", TEST_ARTIFACT.coords, home=home,
                      local_repo=repo, cwd=project)
    assert mvn.rc == 0 and "BUILD SUCCESS" in mvn.output, mvn.output[-3000:]

    rc, report = check(home, project, f"maven:{TEST_ARTIFACT.coords}")
    bad = [f for f in report["findings"] if f["severity"] != "info"]
    assert rc == 0 and bad == [], bad
    # Central (behind its dead mirror) is never contacted: Maven stops at hd.
    dead_probes = [p for p in report["probes"] if p["url"].startswith(dead)]
    assert dead_probes and all(p["outcome"] == "not-probed" for p in dead_probes), dead_probes
    notes = [f for f in report["findings"] if f["rule"] == "MVN108"]
    assert notes and env.srv.url() in notes[0]["message"]
    # The empty repository was asked (Maven asks it first) and said 404: no finding.
    assert not [f for f in report["findings"] if f["rule"] == "MVN104"]
    # Without a version Maven merges every repository's metadata: the empty
    # repository's 404 and the dead Central mirror cost nothing while hd serves it.
    group_artifact = TEST_ARTIFACT.coords.rsplit(":", 1)[0]
    rc, report = check(home, project, f"maven:{group_artifact}")
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert rc == 0 and errors == [], errors
    # The text report shows no failing group.
    text = run_cli(["check", "--timeout", "5", "--project", str(project),
                    f"maven:{TEST_ARTIFACT.coords}"], home=home)
    assert text.rc == 0 and "✗" not in text.out, text.out


def test_artifact_nowhere_fails_in_both(env: Env, tmp_path: Path) -> None:
    home, project, _ = make_home(tmp_path, env)
    coords = f"{TEST_ARTIFACT.group}:hd-missing-{secrets.token_hex(3)}:1.0"
    repo = clone_local_repo(env.seed, home / "local-repo")
    mvn = run_mvn_get(home / ".m2" / "settings.xml", coords, home=home, local_repo=repo,
                      cwd=project)
    assert mvn.rc != 0
    rc, report = check(home, project, f"maven:{coords}")
    assert rc == 1, report["findings"]
    causes = {f["cause"] for f in report["findings"] if f["severity"] == "error"}
    assert causes & {"not-found", "connection-error", "dns-error"}, causes


@pytest.mark.parametrize(("server_id", "near_miss"), [("HD", True), ("Hd", True),
                                                      (" hd ", False), ("hd\n", False)])
def test_server_id_case_is_a_near_miss_whitespace_is_not(
        tmp_path: Path, server_id: str, near_miss: bool) -> None:
    """Maven matches <server> ids exactly after trimming them (its settings
    reader trims every value): another letter case is a near miss with a
    safe rename; surrounding whitespace is no problem at all."""
    home = tmp_path / "home"
    (home / ".m2").mkdir(parents=True)
    (home / ".m2" / "settings.xml").write_text(
        f"<settings><servers><server><id>{server_id}</id><username>dev</username>"
        "<password>hd-edge-pw-1</password></server></servers></settings>\n")
    (home / ".m2" / "settings.xml").chmod(0o600)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pom.xml").write_text(
        "<project><modelVersion>4.0.0</modelVersion><groupId>g</groupId><artifactId>a"
        "</artifactId><version>1</version><repositories><repository><id>hd</id>"
        "<url>https://repo.example.org/maven</url></repository></repositories></project>\n")
    res = run_cli(["check", "--offline", "--format", "json", "--project", str(project)],
                  home=home)
    report = assert_valid_report(res.out)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    if near_miss:
        assert res.rc == 1 and [f["cause"] for f in errors] == ["credential-not-matched"]
        assert errors[0]["location"]["path"].endswith("settings.xml")
        assert errors[0]["fix"]["available"] and errors[0]["fix"]["applicability"] == "safe"
    else:
        assert res.rc == 0 and errors == [], errors
