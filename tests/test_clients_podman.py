"""The user's story with the real podman 4.3 and buildah 1.28 (Debian)
against a real docker-registry: the pull fails, hardoctor names why, the
remediation is run (`podman login ...`) or the file fixed, the pull works --
and the Docker CLI, which this person never logged in with, is shown but
not judged.

Each run gets its own HOME, ``XDG_RUNTIME_DIR`` (where `podman login`
writes ``containers/auth.json``), vfs storage and a registries.conf that
marks the loopback registry insecure (plain http).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli
from tests.servers import MissingBinaryError, clients, server_missing
from tests.servers.oci import build_oci_layout, push_image
from tests.servers.registry import Registry
from tests.servers.util import clean_env, require_binary

pytestmark = pytest.mark.live

USER = "dev"
PASSWORD = "hd-clients-Pod-pass-9"
IMAGE = "team/app:1.0"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    try:
        clients.system("podman")
        clients.system("buildah")
        require_binary("docker-registry")
        require_binary("skopeo")
    except MissingBinaryError as exc:
        server_missing(str(exc))
    with Registry(auth="htpasswd", users={USER: PASSWORD}) as reg:
        layout = build_oci_layout(tmp_path_factory.mktemp("layout") / "oci")
        push_image(layout.layout_dir, reg.host, "team/app", "1.0", (USER, PASSWORD),
                   src_tag=layout.tag)
        yield reg


def env_for(home: Path, reg: Registry, **extra: str) -> dict[str, str]:
    run = home / "run"
    run.mkdir(mode=0o700, exist_ok=True)
    (home / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{home}/graph"\nrunroot = "{home}/runroot"\n')
    (home / "registries.conf").write_text(
        f'[[registry]]\nlocation = "{reg.host}"\ninsecure = true\n')
    return {"HOME": str(home), "XDG_RUNTIME_DIR": str(run),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "CONTAINERS_STORAGE_CONF": str(home / "storage.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(home / "registries.conf"), **extra}


def podman(home: Path, reg: Registry, *args: str, stdin: str | None = None,
           **extra: str) -> subprocess.CompletedProcess[str]:
    argv = [*clients.system("podman"), "--cgroup-manager=cgroupfs", "--events-backend=none",
            *args]
    return subprocess.run(argv, env=clean_env(env_for(home, reg, **extra)), input=stdin,
                          capture_output=True, text=True, timeout=180, check=False)


def buildah(home: Path, reg: Registry, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*clients.system("buildah"), *args],
                          env=clean_env(env_for(home, reg, **extra)), capture_output=True,
                          text=True, timeout=180, check=False)


def hd(home: Path, reg: Registry, *args: str, **extra: str) -> tuple[int, dict, str]:
    env = env_for(home, reg, **extra)
    target = f"{reg.host}/{IMAGE}"
    res = run_cli(["check", target, *args, "--format", "json"], home=home, cwd=home, environ=env)
    text = run_cli(["check", target, *args, "--no-color"], home=home, cwd=home, environ=env)
    for out in (res.out, res.err, text.out, text.err):
        assert PASSWORD not in out
    assert "Traceback" not in res.err
    return res.rc, assert_valid_report(res.out), text.out


def rules(report: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in report["findings"]}


def judged(report: dict) -> dict[str, bool]:
    return {r["client"]: r["judged"] for r in report["resolutions"]}


def test_podman_login_then_pull(registry: Registry, tmp_path: Path) -> None:
    reg, home = registry, tmp_path
    failed = podman(home, reg, "pull", f"{reg.host}/{IMAGE}")
    assert failed.returncode != 0 and "unauthorized" in failed.stderr
    rc, report, text = hd(home, reg)
    assert rc == 1, text
    assert judged(report) == {"docker": False, "podman": True}
    f = rules(report)["DKR103"]
    assert any("podman login" in c for c in f["remediation"]["commands"]), text

    login = podman(home, reg, "login", "-u", USER, "--password-stdin", reg.host,
                   stdin=PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    auth = home / "run" / "containers" / "auth.json"
    assert auth.is_file()
    assert podman(home, reg, "pull", f"{reg.host}/{IMAGE}").returncode == 0
    rc, report, text = hd(home, reg)
    assert rc == 0, text  # the Docker CLI is not judged: docker login was never used
    podman_res = next(r for r in report["resolutions"] if r["client"] == "podman")
    assert podman_res["credential"] and str(auth) in podman_res["credential"]
    assert "not judged: Docker CLI" in text
    metrics = run_cli(["check", f"{reg.host}/{IMAGE}", "--format", "openmetrics"], home=home,
                      cwd=home, environ=env_for(home, reg)).out
    up = [ln for ln in metrics.splitlines() if ln.startswith("hardoctor_registry_up{")]
    assert up and all('client="podman"' in ln and ln.endswith(" 1") for ln in up), up
    # Said outright, the Docker CLI is judged again -- and has nothing.
    rc, report, _ = hd(home, reg, "--client", "docker")
    assert rc == 1 and judged(report) == {"docker": True, "podman": False}


def test_missing_registry_auth_file_is_named(registry: Registry, tmp_path: Path) -> None:
    reg, home = registry, tmp_path
    missing = home / "ci" / "auth.json"
    failed = podman(home, reg, "pull", f"{reg.host}/{IMAGE}", REGISTRY_AUTH_FILE=str(missing))
    assert failed.returncode != 0
    rc, report, text = hd(home, reg, REGISTRY_AUTH_FILE=str(missing))
    assert rc == 1
    f = rules(report)["DKR031"]
    assert f["location"]["key"] == "$REGISTRY_AUTH_FILE" and "ci/auth.json" in f["message"]
    command = next(c for c in f["remediation"]["commands"] if "--authfile" in c)
    assert str(missing) in command
    missing.parent.mkdir()
    login = podman(home, reg, "login", "--authfile", str(missing), "-u", USER,
                   "--password-stdin", reg.host, stdin=PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    assert podman(home, reg, "pull", f"{reg.host}/{IMAGE}",
                  REGISTRY_AUTH_FILE=str(missing)).returncode == 0
    assert hd(home, reg, REGISTRY_AUTH_FILE=str(missing))[0] == 0


def _auth_json(path: Path, entries: dict[str, tuple[str, str]]) -> None:
    import base64

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": {
        key: {"auth": base64.b64encode(f"{u}:{p}".encode()).decode()}
        for key, (u, p) in entries.items()}}, indent=2) + "\n")
    path.chmod(0o600)


def test_runtime_auth_file_beats_the_docker_config(registry: Registry, tmp_path: Path) -> None:
    """${XDG_RUNTIME_DIR}/containers/auth.json is read before ~/.docker/config.json."""
    reg, home = registry, tmp_path
    runtime = home / "run" / "containers" / "auth.json"
    env_for(home, reg)
    _auth_json(runtime, {reg.host: (USER, "hd-stale-pass-2")})
    _auth_json(home / ".docker" / "config.json", {reg.host: (USER, PASSWORD)})
    assert podman(home, reg, "pull", f"{reg.host}/{IMAGE}").returncode != 0
    rc, report, text = hd(home, reg, "--client", "podman")
    assert rc == 1, text
    bad = [f for f in report["findings"] if f["severity"] == "error"]
    assert bad and bad[0]["location"]["path"] == str(runtime), text
    assert podman(home, reg, "logout", reg.host).returncode == 0  # drops the stale entry
    assert podman(home, reg, "pull", f"{reg.host}/{IMAGE}").returncode == 0
    rc, report, text = hd(home, reg, "--client", "podman")
    assert rc == 0, text


def test_buildah_namespace_key(registry: Registry, tmp_path: Path) -> None:
    """containers-auth.json(5): a `host/namespace` key serves that namespace only."""
    reg, home = registry, tmp_path
    authfile = home / "auth.json"
    env_for(home, reg)
    _auth_json(authfile, {f"{reg.host}/other": (USER, PASSWORD)})
    pulled = buildah(home, reg, "pull", "--authfile", str(authfile), f"{reg.host}/{IMAGE}")
    assert pulled.returncode != 0
    rc, report, text = hd(home, reg, REGISTRY_AUTH_FILE=str(authfile))
    assert rc == 1, text
    _auth_json(authfile, {f"{reg.host}/team": (USER, PASSWORD)})
    pulled = buildah(home, reg, "pull", "--authfile", str(authfile), f"{reg.host}/{IMAGE}")
    assert pulled.returncode == 0, pulled.stderr
    rc, report, text = hd(home, reg, REGISTRY_AUTH_FILE=str(authfile))
    assert rc == 0, text
    res = next(r for r in report["resolutions"] if r["client"] == "podman")
    assert any(s["outcome"] == "used" and f"{reg.host}/team" in s["description"]
               for s in res["chain"])
