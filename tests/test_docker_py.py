"""docker-py (the Docker SDK for Python) as a client beside the Docker CLI.

hardoctor asks the SDK itself (``docker.auth``) which credential it would
send; each case here is one where the SDK and the Docker CLI differ, and the
oracle is the SDK run on its own (its own credential store client, its own
file lookup from ``DOCKER_CONFIG``/``HOME``), compared with what hardoctor
reports.  The story with real parts: a registry that the SDK can pull from
(through a real dockerd) while ``docker pull`` is refused -- hardoctor names
both.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import ROOT, run_cli
from tests.test_no_leaks import canary_forms

docker_auth = pytest.importorskip("docker.auth")

HOST = "reg.example.test"
SECRET = "hdfake-dockerpy-0001"
OTHER = "hdfake-dockerpy-0002"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    (h / ".docker").mkdir(parents=True)
    return h


@pytest.fixture()
def bindir(tmp_path: Path) -> Path:
    d = tmp_path / "bin"
    d.mkdir()
    return d


def helper(bindir: Path, name: str, body: str) -> None:
    path = bindir / f"docker-credential-{name}"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


NOT_FOUND = 'echo "credentials not found in native keychain"\nexit 1\n'


def write_config(path: Path, config: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config))
    path.chmod(0o600)


def report(home: Path, *argv: str, environ: dict[str, str | None] | None = None,
           cwd: Path | None = None) -> dict[str, Any]:
    r = run_cli(["check", "--offline", "--format", "json", *argv], home=home, cwd=cwd or home,
                environ=environ)
    assert r.rc in (0, 1), str(r)
    for form in canary_forms(SECRET, "u") | canary_forms(OTHER, "u"):
        assert form not in r.out + r.err
    data: dict[str, Any] = json.loads(r.out)
    return data


def resolution(data: dict[str, Any], client: str) -> dict[str, Any] | None:
    return next((r for r in data["resolutions"] if r["client"] == client), None)


def fingerprint(data: dict[str, Any], res: dict[str, Any] | None) -> str | None:
    if res is None or res["credential"] is None:
        return None
    cred = next(c for c in data["credentials"] if c["id"] == res["credential"])
    return str(cred["secret"]["fingerprint"])


def fp_of(secret: str) -> str:
    from hardoctor.model import Secret

    return Secret(secret, register=False).fingerprint


@pytest.fixture()
def sdk_env(monkeypatch: pytest.MonkeyPatch, home: Path, bindir: Path) -> Iterator[None]:
    """The SDK's own view: it reads HOME, DOCKER_CONFIG and PATH from os.environ."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    yield


def sdk_password(registry: str) -> str | None:
    """What the SDK, on its own, sends to ``registry``."""
    cfg = docker_auth.load_config()
    found = docker_auth.resolve_authconfig(cfg, registry)
    if not found:
        return None
    return found.get("password") or found.get("Password") or found.get("IdentityToken")


def test_helper_not_found_falls_back_to_auths(home: Path, bindir: Path, sdk_env: None) -> None:
    helper(bindir, "hdnone", NOT_FOUND)
    write_config(home / ".docker/config.json", {
        "credHelpers": {HOST: "hdnone"}, "auths": {HOST: {"auth": b64(f"u:{SECRET}")}}})
    assert sdk_password(HOST) == SECRET  # the oracle: the SDK falls back to auths
    data = report(home, f"{HOST}/app:1", environ={"PATH": f"{bindir}:{os.environ['PATH']}"})
    cli, sdk = resolution(data, "docker"), resolution(data, "docker-py")
    assert cli is not None and cli["credential"] is None
    assert sdk is not None and fingerprint(data, sdk) == fp_of(SECRET)
    assert any("falls back to auths" in s["reason"] for s in sdk["chain"])


def test_docker_config_without_file_falls_back_to_home(
        home: Path, tmp_path: Path, sdk_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "ci-docker"
    empty.mkdir()
    write_config(home / ".docker/config.json", {"auths": {HOST: {"auth": b64(f"u:{SECRET}")}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(empty))
    assert sdk_password(HOST) == SECRET
    data = report(home, f"{HOST}/app:1", environ={"DOCKER_CONFIG": str(empty)})
    cli, sdk = resolution(data, "docker"), resolution(data, "docker-py")
    assert cli is not None and cli["credential"] is None
    assert fingerprint(data, sdk) == fp_of(SECRET)


def test_legacy_dockercfg_is_read_by_the_sdk_only(home: Path, sdk_env: None) -> None:
    (home / ".docker").rmdir()
    write_config(home / ".dockercfg", {"https://index.docker.io/v1/": {
        "auth": b64(f"u:{SECRET}"), "email": "u@example.test"}})
    assert sdk_password("docker.io") == SECRET
    data = report(home, "docker.io/library/alpine:3")
    assert resolution(data, "docker")["credential"] is None  # type: ignore[index]
    assert fingerprint(data, resolution(data, "docker-py")) == fp_of(SECRET)


def test_plaintext_fields_are_sent_by_the_cli_only(home: Path, sdk_env: None) -> None:
    write_config(home / ".docker/config.json", {"auths": {HOST: {"username": "u",
                                                                  "password": SECRET}}})
    assert sdk_password(HOST) is None
    data = report(home, f"{HOST}/app:1")
    assert fingerprint(data, resolution(data, "docker")) == fp_of(SECRET)
    sdk = resolution(data, "docker-py")
    assert sdk is not None and sdk["credential"] is None
    assert any("ignores username/password" in s["reason"] for s in sdk["chain"])


def test_docker_auth_config_is_ignored_by_the_sdk(home: Path, sdk_env: None) -> None:
    write_config(home / ".docker/config.json", {"auths": {HOST: {"auth": b64(f"u:{SECRET}")}}})
    env_config = json.dumps({"auths": {HOST: {"auth": b64(f"u:{OTHER}")}}})
    data = report(home, f"{HOST}/app:1", environ={"DOCKER_AUTH_CONFIG": env_config})
    assert fingerprint(data, resolution(data, "docker")) == fp_of(OTHER)
    assert fingerprint(data, resolution(data, "docker-py")) == fp_of(SECRET)


def test_same_answer_no_docker_py_line(home: Path, sdk_env: None) -> None:
    write_config(home / ".docker/config.json", {"auths": {HOST: {"auth": b64(f"u:{SECRET}")}}})
    assert sdk_password(HOST) == SECRET
    data = report(home, f"{HOST}/app:1")
    assert resolution(data, "docker-py") is None


def test_judged_when_the_project_depends_on_the_sdk(home: Path, tmp_path: Path,
                                                    sdk_env: None) -> None:
    write_config(home / ".docker/config.json", {"auths": {HOST: {"username": "u",
                                                                  "password": SECRET}}})
    data = report(home, f"{HOST}/app:1")
    sdk = resolution(data, "docker-py")
    assert sdk is not None and sdk["judged"] is False
    assert not any(f["rule"] == "DKR022" and "docker-py" in f["message"]
                   for f in data["findings"])

    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("docker>=7.0\nrequests\n")
    data = report(home, f"{HOST}/app:1", "--project", str(project), cwd=project)
    sdk = resolution(data, "docker-py")
    assert sdk is not None and sdk["judged"] is True
    assert "requirements.txt" in sdk["judged_because"]
    assert any(f["rule"] == "DKR022" and "docker-py" in f["message"] for f in data["findings"])


def test_a_hanging_helper_is_cut_by_our_runner(home: Path, bindir: Path) -> None:
    """The reason hardoctor keeps its own helper runner: the SDK's store
    would wait for this helper for ever."""
    helper(bindir, "hdhang", "sleep 60\n")
    write_config(home / ".docker/config.json", {
        "credHelpers": {HOST: "hdhang"}, "auths": {HOST: {"auth": b64(f"u:{SECRET}")}}})
    t0 = time.monotonic()
    data = report(home, f"{HOST}/app:1", environ={"PATH": f"{bindir}:{os.environ['PATH']}"})
    assert time.monotonic() - t0 < 30
    sdk = resolution(data, "docker-py")
    assert sdk is not None and sdk["credential"] is None
    assert any(s["outcome"] == "failed" and "within" in s["reason"] for s in sdk["chain"])


def test_broken_file_the_sdk_refuses(home: Path, sdk_env: None) -> None:
    write_config(home / ".docker/config.json", {"auths": {HOST: "not-an-object"}})
    with pytest.raises(Exception):  # noqa: B017  (the SDK's InvalidConfigFile)
        docker_auth.load_config()
    data = report(home, f"{HOST}/app:1")
    sdk = resolution(data, "docker-py")
    if sdk is not None:
        assert any(s["outcome"] == "failed" for s in sdk["chain"])


def test_the_sdk_is_imported_only_when_asked() -> None:
    code = ("import sys, hardoctor.cli, hardoctor_docker; "
            "print('docker' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "plugins")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60, check=True).stdout.strip()
    assert out == "False"
    from hardoctor_docker import dockerpy

    assert "docker.auth" in sys.modules or dockerpy.CLIENT == "docker-py"


# -- the story, with real parts: a real registry, a real dockerd, the real SDK and CLI ----------

from tests.test_servers_selfcheck import (  # noqa: E402  (module fixtures, shared)
    REPO,
    TAG,
    HtpasswdEnv,
    dockerd,
    htpasswd_env,
)

__all__ = ["dockerd", "htpasswd_env"]


@pytest.mark.dockerd
def test_sdk_pulls_where_the_cli_is_refused(dockerd: Any, htpasswd_env: HtpasswdEnv,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    """A credHelpers entry whose helper lost the login, and the password
    still in auths: ``docker pull`` sends nothing and is refused, a script
    using the SDK pulls fine -- and hardoctor says exactly that."""
    import docker

    host = htpasswd_env.reg.host
    password = htpasswd_env.pw["alice"]
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper(bindir, "hdnone", NOT_FOUND)
    config_dir = tmp_path / "docker"
    write_config(config_dir / "config.json", {
        "credHelpers": {host: "hdnone"}, "auths": {host: {"auth": b64(f"alice:{password}")}}})

    cli = dockerd.docker("pull", f"{host}/{REPO}:{TAG}", docker_config_dir=config_dir,
                         env={"PATH": str(bindir)})
    assert cli.returncode != 0 and "no basic auth credentials" in cli.stderr, cli.stderr

    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    client = docker.APIClient(base_url=dockerd.host, timeout=60)
    try:
        client.pull(f"{host}/{REPO}", tag=TAG)
        assert client.inspect_image(f"{host}/{REPO}:{TAG}")["Id"]
    finally:
        client.close()

    home = tmp_path / "home"
    home.mkdir()
    r = run_cli(["check", f"{host}/{REPO}:{TAG}", "--client", "docker", "--client", "docker-py",
                 "--format", "json", "--timeout", "20"], home=home,
                environ={"DOCKER_CONFIG": str(config_dir), "PATH": f"{bindir}:{os.environ['PATH']}"})
    assert r.rc == 1, str(r)
    data = json.loads(r.out)
    sdk = resolution(data, "docker-py")
    assert resolution(data, "docker")["credential"] is None  # type: ignore[index]
    assert sdk is not None and sdk["credential"] is not None and sdk["judged"] is True
    assert fingerprint(data, sdk) == fp_of(password)
    # The registry accepts what docker-py sends and refuses the Docker CLI's nothing.
    assert any(p["credential"] == sdk["credential"] and p["outcome"] == "ok"
               for p in data["probes"]), data["probes"]
    assert "DKR103" in {f["rule"] for f in data["findings"]}, data["findings"]
    for form in canary_forms(password, "alice"):
        assert form not in r.out + r.err
