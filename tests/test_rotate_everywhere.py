"""The whole story of issue 9: one new token, every copy of the old one.

One fixture HOME (and a project) holds the same old token in

* a Docker config whose ``credHelpers`` send the registry to a small real
  ``docker-credential-hdfile`` script on PATH (it keeps its secrets in a
  JSON file),
* the containers ``auth.json`` (skopeo/podman) for the same registry,
* ``~/.npmrc`` (``//127.0.0.1:PORT/:_auth`` = base64 ``dev:OLD``),
* ``pip.conf`` (``index-url = http://dev:OLD@127.0.0.1:PORT/simple``),
* ``~/.m2/settings.xml`` (the password *encrypted* with the master of
  ``settings-security.xml``),
* a pull-secret manifest under the project (``--manifests deploy/``),

and the real servers on 127.0.0.1 -- docker-registry with a token server,
verdaccio, pypiserver, nginx for Maven -- accept only the NEW token for user
``dev``.  Before: skopeo, ``npm view``, ``pip download`` and ``mvn
dependency:get`` all fail.  One ``printf NEW | hardoctor fix --token-stdin
--apply --manifests deploy/ IMAGE`` updates every place; afterwards every
client succeeds (the helper's store and the manifest's decoded pull secret
too, each handed to skopeo as its ``--authfile``), a second run changes
nothing and ``fix --undo`` brings back every byte of every file.  A bad new
token -- rejected by the registry, an expired JWT, a Harness token of
another account -- changes nothing and says why.  No output ever holds the
old or new token in any form (raw, base64, ``user:token`` base64,
percent-encoded, Maven-encrypted).
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import json
import os
import secrets
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
import yaml
from tests.helpers import Result, run_cli
from tests.servers import (
    MissingBinaryError,
    Registry,
    TokenServer,
    build_oci_layout,
    push_image,
    require_binary,
    server_missing,
    skopeo_inspect,
)
from tests.servers.credhelper import file_credential_helper
from tests.servers.nginx_maven import (
    DEBIAN_REPO,
    TEST_ARTIFACT,
    MvnResult,
    NginxMaven,
    clone_local_repo,
    run_mvn_get,
    seed_local_repo,
)
from tests.servers.pypiserver import PypiServer, find_pypiserver, pip_download, venv_of
from tests.servers.verdaccio import Verdaccio, verdaccio_entry

from hardoctor_maven.cipher import maven_decrypt, maven_decrypt_master, maven_encrypt

pytestmark = pytest.mark.live

REPO, TAG = "team/app", "v1"
USER = "dev"
# Real `mvn --encrypt-master-password hd-master-Pass1` (see test_maven_plugin.py).
MASTER = "{EgITROFej14HM4foXRwoCiAkImMLngu4Jjgci/pczsg=}"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def master_key() -> str:
    return maven_decrypt_master(MASTER).reveal()


# -- the servers: once per module -------------------------------------------------------


@dataclass
class World:
    reg: Registry
    npm: Verdaccio
    pypi: PypiServer
    mvn: NginxMaven
    seed: Path
    #: The token every server accepts for user dev (and nothing else does).
    new: str

    @property
    def image(self) -> str:
        return f"{self.reg.host}/{REPO}:{TAG}"


def _need() -> None:
    try:
        for binary in ("docker-registry", "skopeo", "npm", "nginx", "mvn"):
            require_binary(binary)
        verdaccio_entry()
        find_pypiserver()
    except MissingBinaryError as exc:
        server_missing(str(exc))
    if not (DEBIAN_REPO / "org/apache/maven/plugins/maven-dependency-plugin/3.5.0").is_dir():
        server_missing("libmaven-dependency-plugin-java is not installed "
                       "(scripts/install-maven-deps.sh)")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    _need()
    new = "hd-new-" + secrets.token_hex(10)
    admin = "hd-admin-" + secrets.token_hex(6)
    with contextlib.ExitStack() as stack:
        ts = stack.enter_context(TokenServer(
            users={"admin": admin, USER: new},
            grants={"admin": {"*": ["pull", "push"]}, USER: {"*": ["pull"]}}))
        reg = stack.enter_context(Registry(auth="token", token_server=ts))
        layout = build_oci_layout(tmp_path_factory.mktemp("oci") / "layout", TAG)
        push_image(layout.layout_dir, reg.host, REPO, TAG, ("admin", admin))
        npm = stack.enter_context(Verdaccio())
        npm.publish("hd-demo", "1.0.0", npm.add_user(USER, new))  # htpasswd: dev / NEW
        pypi = stack.enter_context(PypiServer(users={USER: new}))
        mvn = stack.enter_context(NginxMaven({USER: new}))
        seed = seed_local_repo(tmp_path_factory.mktemp("m2seed") / "repository")
        yield World(reg, npm, pypi, mvn, seed, new)


# -- one fixture home per test ------------------------------------------------------------


@dataclass
class Home:
    world: World
    root: Path
    home: Path
    proj: Path
    bindir: Path
    old: str
    outputs: list[str] = field(default_factory=list)

    # The places.
    @property
    def store(self) -> Path:
        return self.root / "helper-store.json"

    @property
    def docker(self) -> Path:
        return self.home / ".docker" / "config.json"

    @property
    def containers(self) -> Path:
        return self.home / ".config" / "containers" / "auth.json"

    @property
    def npmrc(self) -> Path:
        return self.home / ".npmrc"

    @property
    def pip_conf(self) -> Path:
        return self.home / ".config" / "pip" / "pip.conf"

    @property
    def settings(self) -> Path:
        return self.home / ".m2" / "settings.xml"

    @property
    def security(self) -> Path:
        return self.home / ".m2" / "settings-security.xml"

    @property
    def manifest(self) -> Path:
        return self.proj / "deploy" / "app.yaml"

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.docker, self.containers, self.npmrc, self.pip_conf, self.settings,
                self.security, self.manifest)

    def snapshot(self) -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in (*self.files, self.store)}

    # The environment every tool runs with.
    @property
    def path(self) -> str:
        return f"{self.bindir}:{os.environ.get('PATH', os.defpath)}"

    @property
    def npm_env(self) -> dict[str, str]:
        return {
            "npm_config_cache": str(self.root / "npm-cache"),
            "npm_config_globalconfig": str(self.root / "global-npmrc"),
            "npm_config_update_notifier": "false",
            "npm_config_fetch_retries": "0",
            "npm_config_audit": "false",
            "npm_config_fund": "false",
        }

    @property
    def environ(self) -> dict[str, str]:
        return {
            "PATH": self.path,
            **self.npm_env,
            # pip: no /etc/pip.conf, the XDG dirs inside HOME, and the pip
            # that runs is the pypiserver venv's.
            "HARDOCTOR_PIP_ETC_CONFIG": "",
            "XDG_CONFIG_DIRS": str(self.home / "xdg"),
            "VIRTUAL_ENV": venv_of(find_pypiserver()[1]),
        }

    def fix(self, *args: str, token: str) -> Result:
        res = run_cli(["fix", "--token-stdin", "--timeout", "10", "--project", str(self.proj),
                       *args], home=self.home, cwd=self.proj, environ=self.environ,
                      stdin=token)
        assert "Traceback" not in res.out + res.err, res
        self.outputs.append(res.out + res.err)
        return res

    def rotate(self, *flags: str, token: str) -> Result:
        return self.fix(*flags, "--manifests", "deploy/", self.world.image, token=token)

    # The real clients.
    def skopeo(self, authfile: Path | None = None) -> tuple[int, str]:
        rc, _, err = skopeo_inspect(self.world.image, authfile=authfile,
                                    env={"HOME": str(self.home), "PATH": self.path})
        return rc, err

    def npm(self) -> subprocess.CompletedProcess[str]:
        env = {"PATH": self.path, "LANG": "C.UTF-8", "HOME": str(self.home), **self.npm_env}
        return subprocess.run(["npm", "view", "hd-demo", "version"], cwd=self.proj, env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    def pip(self) -> subprocess.CompletedProcess[str]:
        return pip_download(self.home, "hdtestpkg")

    def mvn(self) -> MvnResult:
        repo = clone_local_repo(self.world.seed, self.root / "local-repo")
        return run_mvn_get(self.settings, TEST_ARTIFACT.coords, home=self.home,
                           local_repo=repo)

    def backups(self) -> list[Path]:
        root = self.home / ".local" / "state" / "hardoctor" / "backups"
        return sorted(root.iterdir()) if root.is_dir() else []


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    path.chmod(0o600)
    return path


def pull_secret_json(token: str) -> str:
    """`.dockerconfigjson` as `kubectl create secret docker-registry` writes it."""
    return compact({"auths": {"REG": {"username": USER, "password": token,
                                      "auth": b64(f"{USER}:{token}")}}})


@pytest.fixture
def box(world: World, tmp_path: Path) -> Home:
    root = tmp_path
    home, proj, bindir = root / "home", root / "proj", root / "bin"
    for d in (home, proj, bindir):
        d.mkdir()
    home.chmod(0o700)
    (root / "global-npmrc").write_text("")
    old = "hd-old-" + secrets.token_hex(10)
    h = Home(world, root, home, proj, bindir, old)
    reg = world.reg.host

    h.store.write_text(json.dumps({reg: [USER, old]}))
    file_credential_helper(bindir, h.store)
    write(h.docker, json.dumps({"auths": {}, "credHelpers": {reg: "hdfile"}}, indent=2) + "\n")
    write(h.containers, json.dumps({"auths": {reg: {"auth": b64(f"{USER}:{old}")}}},
                                   indent="\t") + "\n")
    npm_host = world.npm.host
    write(h.npmrc, f"; team npm\nregistry={world.npm.url}\n"
                   f"//{npm_host}/:_auth={b64(f'{USER}:{old}')}\nsave-exact=true\n")
    write(h.pip_conf, f"# pip\n[global]\nindex-url = http://{USER}:{old}@{world.pypi.host}/simple\n"
                      "no-input = true\n")
    write(h.security, f"<settingsSecurity>\n  <master>{MASTER}</master>\n</settingsSecurity>\n")
    write(h.settings, f"""<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <!-- team settings -->
  <servers>
    <server>
      <id>hd</id>
      <username>{USER}</username>
      <password>{maven_encrypt(old, master_key())}</password>
    </server>
  </servers>
  <mirrors>
    <mirror>
      <id>hd</id>
      <mirrorOf>*</mirrorOf>
      <url>{world.mvn.url()}</url>
    </mirror>
  </mirrors>
</settings>
""")
    secret = pull_secret_json(old).replace('"REG"', json.dumps(reg))
    write(h.manifest, f"""# the shop's pull secret and its workload
apiVersion: v1
kind: Secret
metadata:
  name: regcred
  namespace: shop
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: {b64(secret)}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings, namespace: shop}}
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      imagePullSecrets:
      - name: regcred
      containers:
      - name: web
        image: {world.image}
""")
    return h


# -- reading the places back independently -------------------------------------------------


def docker_auth(path: Path, key: str) -> str:
    return base64.b64decode(json.loads(path.read_text())["auths"][key]["auth"]).decode()


def npm_auth(path: Path, host: str) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"//{host}/:_auth="):
            return base64.b64decode(line.split("=", 1)[1]).decode()
    raise AssertionError("no _auth line")


def pip_userinfo(path: Path) -> tuple[str, str]:
    parser = configparser.RawConfigParser()
    parser.read(path)
    netloc = urlsplit(parser["global"]["index-url"]).netloc
    user, _, pw = netloc.rsplit("@", 1)[0].partition(":")
    return unquote(user), unquote(pw)


def maven_password(path: Path) -> str:
    ns = {"s": "http://maven.apache.org/SETTINGS/1.0.0"}
    root = ET.fromstring(path.read_bytes())
    value = root.findtext("s:servers/s:server/s:password", namespaces=ns) or ""
    return value.strip()


def manifest_pull_secret(path: Path) -> dict[str, Any]:
    """The manifest's .dockerconfigjson as the API server hands it to the
    kubelet (read with PyYAML)."""
    for doc in yaml.safe_load_all(path.read_text()):
        if isinstance(doc, dict) and doc.get("kind") == "Secret":
            result: dict[str, Any] = json.loads(
                base64.b64decode(doc["data"][".dockerconfigjson"]))
            return result
    raise AssertionError("no Secret")


def token_forms(*tokens: str) -> list[str]:
    out: list[str] = []
    for t in tokens:
        for v in (t, quote(t, safe="")):
            out += [v, b64(v), b64(v).rstrip("="), b64(f"{USER}:{v}").rstrip("=")]
    return out


def assert_no_secrets(outputs: list[str], *tokens: str, extra: tuple[str, ...] = ()) -> None:
    forms = token_forms(*tokens) + [e for e in extra if e]
    for text in outputs:
        for form in forms:
            assert form not in text, f"a secret ({form[:8]}...) is in the output:\n{text}"


# -- the story ------------------------------------------------------------------------------


def test_one_rotation_updates_every_place_and_every_client_then_works(box: Home) -> None:
    world, old, new = box.world, box.old, box.world.new
    reg = world.reg.host
    before = box.snapshot()
    old_enc = maven_password(box.settings)
    assert maven_decrypt(old_enc, master_key()).reveal() == old

    # Before: every real client fails with the old token.
    rc, err = box.skopeo()
    assert rc != 0, err
    failed_npm = box.npm()
    assert failed_npm.returncode != 0 and "E401" in failed_npm.stderr, failed_npm.stderr
    assert box.pip().returncode != 0
    failed_mvn = box.mvn()
    assert failed_mvn.rc != 0 and failed_mvn.unauthorized, failed_mvn.output[-2000:]

    # The dry run: every place, the diff, nothing written.
    dry = box.rotate(token=new + "\n")
    assert dry.rc == 1, dry
    assert "passed its checks" in dry.out, dry.out
    assert "6 places hold the old credential" in dry.out, dry.out
    for name in ("auth.json", ".npmrc", "pip.conf", "settings.xml", "deploy/app.yaml"):
        assert name in dry.out, (name, dry.out)
    assert "docker-credential-hdfile store" in dry.out
    assert "Secret shop/regcred .dockerconfigjson" in dry.out
    assert "Run again with --apply" in dry.out
    assert box.snapshot() == before
    as_json = box.rotate("--format", "json", token=new)
    data = json.loads(as_json.out)
    assert len(data["places"]) == 6 and all(p["automatic"] for p in data["places"]), data
    assert box.snapshot() == before

    # One command.
    done = box.rotate("--apply", token=new + "\n")
    assert done.rc == 0, done
    assert "Updated 5 files" in done.out, done.out
    assert f"Checked again: {reg} ✓" in done.out, done.out

    # Every place holds the new token, encoded as it was, nothing else changed.
    assert json.loads(box.store.read_text()) == {reg: [USER, new]}
    assert box.docker.read_bytes() == before[box.docker]  # the helper holds it
    assert docker_auth(box.containers, reg) == f"{USER}:{new}"
    assert box.containers.read_bytes() == before[box.containers].replace(
        b64(f"{USER}:{old}").encode(), b64(f"{USER}:{new}").encode())
    assert npm_auth(box.npmrc, world.npm.host) == f"{USER}:{new}"
    assert box.npmrc.read_bytes() == before[box.npmrc].replace(
        b64(f"{USER}:{old}").encode(), b64(f"{USER}:{new}").encode())
    assert pip_userinfo(box.pip_conf) == (USER, new)
    assert box.pip_conf.read_bytes() == before[box.pip_conf].replace(old.encode(), new.encode())
    new_enc = maven_password(box.settings)
    assert new_enc != old_enc and maven_decrypt(new_enc, master_key()).reveal() == new
    assert box.settings.read_bytes() == before[box.settings].replace(old_enc.encode(),
                                                                     new_enc.encode())
    assert box.security.read_bytes() == before[box.security]
    pulled = manifest_pull_secret(box.manifest)
    assert pulled == {"auths": {reg: {"username": USER, "password": new,
                                      "auth": b64(f"{USER}:{new}")}}}
    old_secret = pull_secret_json(old).replace('"REG"', json.dumps(reg))
    new_secret = pull_secret_json(new).replace('"REG"', json.dumps(reg))
    assert box.manifest.read_bytes() == before[box.manifest].replace(
        b64(old_secret).encode(), b64(new_secret).encode())

    # Every real client works now.
    rc, err = box.skopeo()
    assert rc == 0, err
    # The helper's store, through the Docker config (skopeo runs the helper).
    rc, err = box.skopeo(authfile=box.docker)
    assert rc == 0, err
    # The manifest's pull secret, decoded as the kubelet gets it.
    authfile = write(box.root / "kubelet-auth.json", json.dumps(pulled))
    rc, err = box.skopeo(authfile=authfile)
    assert rc == 0, err
    ok_npm = box.npm()
    assert ok_npm.returncode == 0 and ok_npm.stdout.strip() == "1.0.0", ok_npm.stderr
    ok_pip = box.pip()
    assert ok_pip.returncode == 0, ok_pip.stderr
    ok_mvn = box.mvn()
    assert ok_mvn.rc == 0, ok_mvn.output[-3000:]

    # A second run changes nothing.
    after = box.snapshot()
    again = box.rotate("--apply", token=new)
    assert again.rc == 0, again
    assert "0 places hold the old credential" in again.out and "Updated" not in again.out
    assert box.snapshot() == after and len(box.backups()) == 1

    # --undo: every file hardoctor wrote is back, byte for byte.  (The
    # helper's own store is the helper's, not a file hardoctor edits.)
    undo = run_cli(["fix", "--undo"], home=box.home, cwd=box.proj, environ=box.environ)
    assert undo.rc == 0, undo
    box.outputs.append(undo.out + undo.err)
    restored = box.snapshot()
    assert {p: restored[p] for p in box.files} == {p: before[p] for p in box.files}

    assert_no_secrets(box.outputs, old, new, extra=(
        old_enc, new_enc, b64(old_secret), b64(new_secret)))


def test_a_bad_new_token_changes_nothing_and_says_why(box: Home) -> None:
    import jwt

    world, old = box.world, box.old
    before = box.snapshot()
    wrong = "hd-wrong-" + secrets.token_hex(10)
    expired = jwt.encode({"sub": USER, "exp": int(time.time()) - 3600}, "k" * 32,
                         algorithm="HS256")
    other = "pat.OtherAcct9." + secrets.token_hex(12) + "." + secrets.token_hex(10)
    cases: list[tuple[str, list[str], str, tuple[str, ...]]] = [
        # The registry's token server refuses it for user dev.
        ("rejected", ["--manifests", "deploy/", world.image], wrong,
         (f"{world.reg.host}:", "DKR")),
        ("expired", ["--manifests", "deploy/", world.image], expired, ("it expired on",)),
        # A Harness token of another account than the image path's (offline:
        # the account is in the token and the path, no network needed).
        ("other account", ["--offline", "pkg.harness.io/acctone1/docker-prod/app:1"], other,
         ("HAR105", "belongs to account OtherAcct9", "account acctone1")),
    ]
    for why, args, token, says in cases:
        res = box.fix("--apply", *args, token=token)
        assert res.rc == 1, (why, res)
        assert "The new token was refused; nothing was written:" in res.out, (why, res.out)
        for text in says:
            assert text in res.out, (why, text, res.out)
        assert box.snapshot() == before, why
        assert not box.backups(), why
    assert_no_secrets(box.outputs, old, world.new, wrong, expired, other)
