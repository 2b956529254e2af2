"""Self-check of the real test servers in tests/servers.

These prove that the token server, docker-registry, skopeo and dockerd behave
the way hardoctor's integration tests rely on. Secrets are generated per run.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from tests.servers import (
    Dockerd,
    MissingBinaryError,
    OciImage,
    Registry,
    ServerStartError,
    TokenServer,
    authfile_json,
    build_oci_layout,
    htpasswd_line,
    http_get,
    push_image,
    require_binary,
    server_missing,
    skopeo_inspect,
)

REPO = "team/app"
PUBLIC_REPO = "public/app"
TAG = "v1"


def need(*binaries: str) -> None:
    for name in binaries:
        try:
            require_binary(name)
        except MissingBinaryError as e:
            server_missing(str(e))


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def write_authfile(path: Path, host: str, user: str, password: str) -> Path:
    path.write_text(authfile_json(host, user, password))
    return path


def pull_access(repo: str) -> list[dict[str, object]]:
    return [{"type": "repository", "name": repo, "actions": ["pull"]}]


@dataclass
class TokenEnv:
    ts: TokenServer
    reg: Registry
    image: OciImage
    pw: dict[str, str]


@dataclass
class HtpasswdEnv:
    reg: Registry
    image: OciImage
    pw: dict[str, str]


@pytest.fixture(scope="module")
def tokens() -> Iterator[tuple[TokenServer, dict[str, str]]]:
    """A started token server alone: its own tests need no binaries."""
    pw = {u: secrets.token_hex(8) for u in ("alice", "bob", "carol")}
    ts = TokenServer(
        users=pw,
        grants={
            "alice": {"*": ["pull", "push"]},  # admin
            "bob": {},  # authenticates, may do nothing
            "carol": {REPO: ["pull"]},
        },
        anonymous_grants={PUBLIC_REPO: ["pull"]},
    )
    with ts:
        yield ts, pw


@pytest.fixture(scope="module")
def token_env(
    tokens: tuple[TokenServer, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TokenEnv]:
    need("docker-registry", "skopeo")
    ts, pw = tokens
    layout = tmp_path_factory.mktemp("oci") / "layout"
    image = build_oci_layout(layout, TAG)
    with Registry(auth="token", token_server=ts) as reg:
        push_image(image.layout_dir, reg.host, REPO, TAG, ("alice", pw["alice"]))
        push_image(image.layout_dir, reg.host, PUBLIC_REPO, TAG, ("alice", pw["alice"]))
        yield TokenEnv(ts, reg, image, pw)


@pytest.fixture(scope="module")
def htpasswd_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HtpasswdEnv]:
    need("docker-registry", "skopeo", "htpasswd")
    pw = {"alice": secrets.token_hex(8), "md5user": secrets.token_hex(8)}
    # An apr1 (MD5) entry: valid for Apache, refused by distribution.
    apr1 = subprocess.run(
        [require_binary("htpasswd"), "-mbn", "md5user", pw["md5user"]],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    layout = tmp_path_factory.mktemp("oci") / "layout"
    image = build_oci_layout(layout, TAG)
    with Registry(
        auth="htpasswd", users={"alice": pw["alice"]}, extra_htpasswd_lines=[apr1]
    ) as reg:
        push_image(image.layout_dir, reg.host, REPO, TAG, ("alice", pw["alice"]))
        yield HtpasswdEnv(reg, image, pw)


# --------------------------------------------------------------- token server


@pytest.mark.live
def test_tokenserver_kid_claims_and_bundle(tokens: tuple[TokenServer, dict[str, str]]) -> None:
    ts, pw = tokens
    assert re.fullmatch(r"([A-Z2-7]{4}:){11}[A-Z2-7]{4}", ts.kid)
    assert ts.rootcertbundle is not None
    assert ts.rootcertbundle.read_text().startswith("-----BEGIN CERTIFICATE-----")

    query = urlencode({"service": ts.service, "scope": f"repository:{REPO}:pull,push"})
    status, _, body = http_get(f"{ts.realm}?{query}", basic("carol", pw["carol"]))
    assert status == 200
    answer = json.loads(body)
    assert answer["token"] == answer["access_token"]
    assert answer["expires_in"] == ts.token_ttl and answer["issued_at"].endswith("Z")
    assert "refresh_token" not in answer  # only with offline_token=true

    import jwt

    assert jwt.get_unverified_header(answer["token"])["kid"] == ts.kid
    claims = ts.decode_token(answer["token"])
    assert claims["aud"] == ts.service and claims["iss"] == ts.issuer
    assert claims["sub"] == "carol" and claims["jti"]
    assert claims["nbf"] <= claims["iat"] < claims["exp"]
    # carol asked for pull,push and is granted the intersection: pull.
    assert claims["access"] == [{"type": "repository", "name": REPO, "actions": ["pull"]}]
    assert ts.requests[-1].basic_credentials == ("carol", pw["carol"])


@pytest.mark.live
def test_tokenserver_bad_credentials_and_anonymous(
    tokens: tuple[TokenServer, dict[str, str]],
) -> None:
    ts, pw = tokens
    query = urlencode({"service": ts.service, "scope": f"repository:{REPO}:pull"})
    status, headers, body = http_get(f"{ts.realm}?{query}", basic("alice", "not-the-password"))
    assert status == 401
    assert headers["www-authenticate"] == f'Basic realm="{ts.realm}"'
    assert json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"

    scopes = [("scope", f"repository:{REPO}:pull"), ("scope", f"repository:{PUBLIC_REPO}:pull")]
    status, _, body = http_get(f"{ts.realm}?{urlencode([('service', ts.service), *scopes])}")
    assert status == 200
    claims = ts.decode_token(json.loads(body)["token"])
    assert claims["sub"] == ""
    assert claims["access"] == [
        {"type": "repository", "name": REPO, "actions": []},
        {"type": "repository", "name": PUBLIC_REPO, "actions": ["pull"]},
    ]


@pytest.mark.live
def test_tokenserver_oauth_password_and_refresh_grants(
    tokens: tuple[TokenServer, dict[str, str]],
) -> None:
    ts, pw = tokens
    status, body = _post_form(
        ts.realm,
        {
            "grant_type": "password",
            "service": ts.service,
            "client_id": "selfcheck",
            "username": "carol",
            "password": pw["carol"],
            "scope": f"repository:{REPO}:pull",
        },
    )
    assert status == 200, body
    refresh = body["refresh_token"]
    assert ts.decode_token(body["access_token"])["access"][0]["actions"] == ["pull"]

    status, body = _post_form(
        ts.realm,
        {
            "grant_type": "refresh_token",
            "service": ts.service,
            "client_id": "selfcheck",
            "refresh_token": refresh,
            "scope": f"repository:{REPO}:pull",
        },
    )
    assert status == 200, body
    assert ts.decode_token(body["access_token"])["sub"] == "carol"
    assert body["refresh_token"] == refresh

    status, body = _post_form(
        ts.realm,
        {
            "grant_type": "refresh_token",
            "service": ts.service,
            "client_id": "selfcheck",
            "refresh_token": "hd-refresh-unknown",
        },
    )
    assert status == 401 and body["errors"][0]["code"] == "UNAUTHORIZED"

    status, body = _post_form(
        ts.realm,
        {
            "grant_type": "password",
            "service": ts.service,
            "client_id": "selfcheck",
            "username": "carol",
            "password": "wrong",
        },
    )
    assert status == 401

    status, _ = _post_form(ts.realm, {"grant_type": "password", "service": ts.service})
    assert status == 400  # client_id is required


def _post_form(url: str, form: dict[str, str]) -> tuple[int, dict[str, object]]:
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, data=urlencode(form).encode(), method="POST")
    try:
        with opener.open(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


# ----------------------------------------------------- token registry + skopeo


@pytest.mark.live
def test_token_registry_good_credentials(token_env: TokenEnv, tmp_path: Path) -> None:
    env = token_env
    env.ts.clear_requests()
    authfile = write_authfile(tmp_path / "auth.json", env.reg.host, "carol", env.pw["carol"])
    rc, out, err = skopeo_inspect(f"{env.reg.host}/{REPO}:{TAG}", authfile=authfile)
    assert rc == 0, err
    assert json.loads(out)["Digest"] == env.image.manifest_digest
    assert {r.basic_credentials for r in env.ts.requests} == {("carol", env.pw["carol"])}
    assert all(r.status == 200 for r in env.ts.requests)


@pytest.mark.live
def test_token_registry_wrong_password(token_env: TokenEnv, tmp_path: Path) -> None:
    env = token_env
    env.ts.clear_requests()
    authfile = write_authfile(tmp_path / "auth.json", env.reg.host, "carol", "wrong-password")
    rc, _, err = skopeo_inspect(f"{env.reg.host}/{REPO}:{TAG}", authfile=authfile)
    assert rc != 0
    assert "invalid username/password" in err and "unauthorized" in err
    assert [r.status for r in env.ts.requests] == [401]


@pytest.mark.live
def test_token_registry_no_grant_is_insufficient_scope(token_env: TokenEnv, tmp_path: Path) -> None:
    env = token_env
    authfile = write_authfile(tmp_path / "auth.json", env.reg.host, "bob", env.pw["bob"])
    rc, _, err = skopeo_inspect(f"{env.reg.host}/{REPO}:{TAG}", authfile=authfile)
    assert rc != 0
    # skopeo renders insufficient_scope as DENIED; the header is checked below.
    assert "requested access to the resource is denied" in err

    # The token endpoint said yes (200, empty access); the registry says 401.
    query = urlencode({"service": env.ts.service, "scope": f"repository:{REPO}:pull"})
    status, _, body = http_get(f"{env.ts.realm}?{query}", basic("bob", env.pw["bob"]))
    assert status == 200
    token = json.loads(body)["token"]
    status, headers, _ = http_get(
        f"{env.reg.url}/v2/{REPO}/manifests/{TAG}", {"Authorization": f"Bearer {token}"}
    )
    assert status == 401
    assert 'error="insufficient_scope"' in headers["www-authenticate"]


@pytest.mark.live
def test_anonymous_grant_allows_public_pull(token_env: TokenEnv) -> None:
    env = token_env
    rc, _, err = skopeo_inspect(f"{env.reg.host}/{PUBLIC_REPO}:{TAG}")
    assert rc == 0, err
    rc, _, err = skopeo_inspect(f"{env.reg.host}/{REPO}:{TAG}")
    assert rc != 0 and "requested access to the resource is denied" in err


@pytest.mark.live
def test_expired_and_untrusted_tokens_rejected(token_env: TokenEnv, tmp_path: Path) -> None:
    env = token_env
    url = f"{env.reg.url}/v2/{REPO}/manifests/{TAG}"
    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}

    def get_with(token: str) -> tuple[int, str]:
        status, headers, _ = http_get(url, {"Authorization": f"Bearer {token}", **accept})
        return status, headers.get("www-authenticate", "")

    assert get_with(env.ts.issue_token("carol", pull_access(REPO)))[0] == 200
    # distribution grants 60 s of clock-skew leeway on exp: -30 still works.
    assert get_with(env.ts.issue_token("carol", pull_access(REPO), ttl=-30))[0] == 200
    status, challenge = get_with(env.ts.issue_token("carol", pull_access(REPO), ttl=-120))
    assert status == 401 and 'error="invalid_token"' in challenge
    status, challenge = get_with(env.ts.issue_token("carol", pull_access(REPO), audience="other"))
    assert status == 401 and 'error="invalid_token"' in challenge

    with TokenServer(algorithm="ES256", service=env.ts.service, issuer=env.ts.issuer) as foreign:
        status, challenge = get_with(foreign.issue_token("carol", pull_access(REPO)))
    assert status == 401 and 'error="invalid_token"' in challenge

    # Through skopeo: the token server hands out already-expired tokens.
    authfile = write_authfile(tmp_path / "auth.json", env.reg.host, "carol", env.pw["carol"])
    env.ts.token_ttl = -120
    try:
        rc, _, err = skopeo_inspect(f"{env.reg.host}/{REPO}:{TAG}", authfile=authfile)
    finally:
        env.ts.token_ttl = 300
    assert rc != 0 and "authentication required" in err


# ------------------------------------------------------------ htpasswd registry


@pytest.mark.live
def test_htpasswd_registry_good_and_bad(htpasswd_env: HtpasswdEnv, tmp_path: Path) -> None:
    env = htpasswd_env
    ref = f"{env.reg.host}/{REPO}:{TAG}"
    good = write_authfile(tmp_path / "good.json", env.reg.host, "alice", env.pw["alice"])
    rc, out, err = skopeo_inspect(ref, authfile=good)
    assert rc == 0, err
    assert json.loads(out)["Digest"] == env.image.manifest_digest

    bad = write_authfile(tmp_path / "bad.json", env.reg.host, "alice", "wrong-password")
    rc, _, err = skopeo_inspect(ref, authfile=bad)
    assert rc != 0 and "authentication required" in err

    rc, _, err = skopeo_inspect(ref)
    assert rc != 0 and "authentication required" in err

    status, headers, body = http_get(env.reg.url + "/v2/")
    assert status == 401 and headers["www-authenticate"].startswith("Basic realm=")
    assert json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"
    assert http_get(env.reg.url + "/v2/", basic("alice", env.pw["alice"]))[0] == 200
    # apr1/MD5 entries are refused even with the right password.
    assert http_get(env.reg.url + "/v2/", basic("md5user", env.pw["md5user"]))[0] == 401
    # Good credentials, missing tag: 404 MANIFEST_UNKNOWN.
    status, _, body = http_get(
        f"{env.reg.url}/v2/{REPO}/manifests/nope", basic("alice", env.pw["alice"])
    )
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN"


@pytest.mark.live
def test_htpasswd_line_is_bcrypt() -> None:
    need("htpasswd")
    assert htpasswd_line("someone", "pw").startswith("someone:$2y$")


# ----------------------------------------------------------------------- dockerd


@pytest.fixture(scope="module")
def dockerd() -> Iterator[Dockerd]:
    need("dockerd", "containerd", "docker")
    engine = Dockerd()
    try:
        engine.start()
    except (ServerStartError, TimeoutError) as e:
        server_missing(f"dockerd did not start: {e}")
    try:
        yield engine
    finally:
        engine.stop()


def write_docker_config(dir_: Path, host: str, user: str, password: str) -> Path:
    dir_.mkdir(parents=True, exist_ok=True)
    (dir_ / "config.json").write_text(authfile_json(host, user, password))
    return dir_


@pytest.mark.dockerd
def test_dockerd_pull_with_docker_config(
    dockerd: Dockerd, htpasswd_env: HtpasswdEnv, token_env: TokenEnv, tmp_path: Path
) -> None:
    host = htpasswd_env.reg.host
    ref = f"{host}/{REPO}:{TAG}"

    good = write_docker_config(tmp_path / "good", host, "alice", htpasswd_env.pw["alice"])
    res = dockerd.docker("pull", ref, docker_config_dir=good)
    assert res.returncode == 0, res.stderr
    assert htpasswd_env.image.manifest_digest in res.stdout

    bad = write_docker_config(tmp_path / "bad", host, "alice", "wrong-password")
    res = dockerd.docker("pull", ref, docker_config_dir=bad)
    assert res.returncode != 0 and "unauthorized: authentication required" in res.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    res = dockerd.docker("pull", ref, docker_config_dir=empty)
    assert res.returncode != 0 and "no basic auth credentials" in res.stderr

    # Token registry: a user without the pull grant gets Docker's "denied".
    thost = token_env.reg.host
    nogrant = write_docker_config(tmp_path / "nogrant", thost, "bob", token_env.pw["bob"])
    res = dockerd.docker("pull", f"{thost}/{REPO}:{TAG}", docker_config_dir=nogrant)
    assert res.returncode != 0 and "requested access to the resource is denied" in res.stderr

    # Docker shows the token endpoint's error message verbatim.
    badtok = write_docker_config(tmp_path / "badtok", thost, "carol", "wrong-password")
    res = dockerd.docker("pull", f"{thost}/{REPO}:{TAG}", docker_config_dir=badtok)
    assert res.returncode != 0 and "unauthorized: invalid username or password" in res.stderr

    # docker login against a token server stores an identity token (refresh
    # token) instead of the password; pulls then use the OAuth refresh flow.
    login_dir = tmp_path / "login"
    login_dir.mkdir()
    token_env.ts.clear_requests()
    res = dockerd.docker(
        "login",
        "-u",
        "carol",
        "--password-stdin",
        thost,
        docker_config_dir=login_dir,
        input=token_env.pw["carol"],
    )
    assert res.returncode == 0, res.stderr
    stored = json.loads((login_dir / "config.json").read_text())
    # The login is in the file, not in a store the CLI picked by itself
    # (pass / secretservice on PATH): tests/servers/dockerd.py controls PATH.
    assert "credsStore" not in stored, stored
    entry = stored["auths"][thost]
    assert entry["identitytoken"].startswith("hd-refresh-")
    assert base64.b64decode(entry["auth"]).decode() == "carol:"
    res = dockerd.docker("pull", f"{thost}/{REPO}:{TAG}", docker_config_dir=login_dir)
    assert res.returncode == 0, res.stderr
    assert [r.form.get("grant_type") for r in token_env.ts.requests if r.method == "POST"] == [
        ["refresh_token"]
    ]
