"""The vendor plugins beyond Harness (plugins/hardoctor_vendors): token
formats and expiry decoded locally (`token inspect`), expired cloud logins
in a Docker config (`check --offline`) with each vendor's own login
command, URL mistakes, credential-helper failure modes, a token of the
wrong vendor refused by `fix --token-stdin`, and each vendor's documented
error answers through the real probe engine (tests/servers/vendor_registry.py).
No output ever holds a secret."""

from __future__ import annotations

import base64
import json
import os
import random
import string
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import Result, run_cli
from tests.servers.vendor_registry import (
    ACR_FIREWALL,
    ECR_EXPIRED,
    ECR_NO_PERMISSION,
    GHCR_NO_SCOPE,
    GITLAB_DENIED,
    JFROG_BAD_CREDENTIALS,
    JFROG_FORBIDDEN,
    Reply,
    VendorRegistry,
)

R = random.Random()
ZERO = "00000000-0000-0000-0000-000000000000"
ECR_HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def rnd(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(R.choice(alphabet) for _ in range(n))


def _throwaway_pem() -> str:
    """A private key made for this run only (a service-account key file
    carries one); nothing key-shaped is stored in the repository."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def b64u(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def ecr_token(exp: int) -> str:
    body = {"payload": rnd(300), "datakey": rnd(120), "version": "2", "type": "DATA_KEY",
            "expiration": exp}
    return base64.b64encode(json.dumps(body).encode()).decode()


def acr_token(exp: int, aud: str = "acmeregistry.azurecr.io") -> str:
    claims = {"jti": rnd(8), "sub": "dev@acme.io", "nbf": exp - 10800, "exp": exp,
              "iat": exp - 10800, "iss": "Azure Container Registry", "aud": aud,
              "version": "1.0", "grant_type": "refresh_token", "tenant": "t-1"}
    return f"{b64u({'alg': 'RS256', 'typ': 'JWT'})}.{b64u(claims)}.{rnd(43)}"


def reference_token(exp: int) -> str:
    while True:
        value = base64.b64encode(f"reftkn:01:{exp}:{rnd(27)}".encode()).decode()
        if value.isalnum() and len(value) == 64:
            return value


def jfrog_jwt(exp: int) -> str:
    claims = {"iss": "jfac@01h0abc", "sub": "jfac@01h0abc/users/dev", "scp":
              "applied-permissions/user", "aud": "*@*", "exp": exp, "iat": exp - 3600,
              "jti": "f1e2d3c4"}
    return f"{b64u({'alg': 'RS256', 'typ': 'JWT'})}.{b64u(claims)}.{rnd(43)}"


def secret_forms(*values: str) -> list[str]:
    out: list[str] = []
    for v in values:
        raw = v.encode()
        out += [v, base64.b64encode(raw).decode().rstrip("="),
                base64.urlsafe_b64encode(raw).decode().rstrip("="), v[len(v) // 3:][:24]]
    return out


def assert_no_secret(result: Result, *values: str) -> None:
    for form in secret_forms(*values):
        assert form not in result.out and form not in result.err, f"leak of {form[:6]}…"


def write_docker(home: Path, auths: dict[str, tuple[str, str]], age: float = 0,
                 extra: dict[str, Any] | None = None) -> Path:
    path = home / ".docker" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"auths": {
        host: {"auth": base64.b64encode(f"{u}:{p}".encode()).decode()}
        for host, (u, p) in auths.items()}}
    doc.update(extra or {})
    path.write_text(json.dumps(doc, indent=2))
    path.chmod(0o600)
    if age:
        t = time.time() - age
        os.utime(path, (t, t))
    return path


# ------------------------------------------------------------------ token inspect

NOW = int(time.time())
TOKENS = {
    "github-pat-classic": "ghp_" + rnd(36),
    "github-pat-fine-grained": "github_pat_" + rnd(22) + "_" + rnd(59),
    "github-installation-token": "ghs_" + rnd(36),
    "gitlab-pat": "glpat-" + rnd(20),
    "gitlab-deploy-token": "gldt-" + rnd(20),
    "docker-hub-pat": "dckr_pat_" + rnd(27, string.ascii_letters + string.digits + "-_"),
    "docker-hub-oat": "dckr_oat_" + rnd(32),
    "jfrog-reference-token": reference_token(NOW + 30 * 86400),
    "jfrog-access-token": jfrog_jwt(NOW + 86400),
    "google-oauth-access-token": "ya29." + rnd(160, string.ascii_letters + string.digits + "-_"),
    "aws-ecr-token": ecr_token(NOW - 3600),
    "acr-refresh-token": acr_token(NOW + 3 * 3600),
}


@pytest.mark.parametrize("fmt", sorted(TOKENS))
def test_token_inspect_names_the_vendor_format(tmp_path: Path, fmt: str) -> None:
    value = TOKENS[fmt]
    r = run_cli(["token", "inspect", "--offline", "--format", "json"], home=tmp_path,
                stdin=value + "\n")
    doc = r.json()
    assert doc["format"] == fmt and doc["kind"] != fmt.split("-")[0]
    assert doc["details"]["vendor"]
    assert_no_secret(r, value)
    text = run_cli(["token", "inspect", "--offline"], home=tmp_path, stdin=value)
    assert fmt in text.out
    assert_no_secret(text, value)


def test_token_inspect_reads_the_expiry_tokens_carry(tmp_path: Path) -> None:
    def inspect(value: str) -> dict[str, Any]:
        r = run_cli(["token", "inspect", "--offline", "--format", "json"], home=tmp_path,
                    stdin=value)
        return dict(r.json())

    ecr = inspect(TOKENS["aws-ecr-token"])
    assert ecr["status"] == "expired" and ecr["expiry_source"] == "token"
    assert ecr["expires_at"].startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(NOW - 3600)))
    ref = inspect(TOKENS["jfrog-reference-token"])
    assert ref["status"] == "valid" and ref["expiry_source"] == "token"
    acr = inspect(TOKENS["acr-refresh-token"])
    # Lives hours: valid until it expires, never "expiring soon".
    assert acr["status"] == "valid" and acr["account_id"] == "acmeregistry"
    jf = inspect(TOKENS["jfrog-access-token"])
    assert jf["account_id"] == "dev" and jf["token_id"] == "f1e2d3c4"
    # A cut-off token says so, and the command fails (exit 1).
    r = run_cli(["token", "inspect", "--offline", "--format", "json"], home=tmp_path,
                stdin="ghp_" + rnd(20))
    assert r.rc == 1 and "truncated" in r.json()["problem_codes"]


def test_service_account_key_shows_the_account_never_the_key(tmp_path: Path) -> None:
    private = _throwaway_pem()
    key = json.dumps({"type": "service_account", "project_id": "acme-prod",
                      "private_key_id": "abc123", "private_key": private,
                      "client_email": "ci@acme-prod.iam.gserviceaccount.com"}, indent=2)
    home = tmp_path
    write_docker(home, {"europe-west3-docker.pkg.dev": ("_json_key", key)})
    r = run_cli(["check", "--offline", "--format", "json"], home=home)
    assert "ci@acme-prod.iam.gserviceaccount.com" in r.out
    # A pretty-printed key file has whitespace by nature: not "malformed".
    assert r.rc == 0 and not r.json()["findings"], r
    assert_no_secret(r, key, private, private.splitlines()[1])
    b64 = base64.b64encode(key.encode()).decode()
    r = run_cli(["token", "inspect", "--offline", "--format", "json"], home=home, stdin=b64)
    assert r.json()["format"] == "google-service-account-key"
    assert r.json()["account_id"] == "ci@acme-prod.iam.gserviceaccount.com"
    assert_no_secret(r, key, b64, private.splitlines()[1])


# ------------------------------------------------------------------ check --offline

CLOUD = {
    "ecr": (ECR_HOST, "AWS", lambda: ecr_token(NOW - 600), 0, "ECR101",
            "aws ecr get-login-password --region eu-west-1 | docker login --username AWS "
            f"--password-stdin {ECR_HOST}"),
    "gar": ("europe-west3-docker.pkg.dev", "oauth2accesstoken",
            lambda: "ya29." + rnd(150), 7200, "GAR101",
            "gcloud auth configure-docker europe-west3-docker.pkg.dev"),
    "acr": ("acmeregistry.azurecr.io", ZERO, lambda: acr_token(NOW - 600), 0, "ACR101",
            "az acr login --name acmeregistry"),
    # No readable expiration: written 13 hours ago + ECR's 12 hours.
    "ecr-estimated": (ECR_HOST, "AWS", lambda: rnd(200), 13 * 3600, "ECR101",
                      "aws ecr get-login-password --region eu-west-1"),
    # An ISO expiration; a JWT of any issuer for the all-zero user.
    "ecr-iso": (ECR_HOST, "AWS", lambda: base64.b64encode(json.dumps(
        {"payload": rnd(50), "datakey": rnd(50), "expiration": "2020-01-01T00:00:00Z"}
    ).encode()).decode(), 0, "ECR101", "aws ecr get-login-password"),
    "acr-any-issuer": ("acmeregistry.azurecr.io", ZERO, lambda: (
        f"{b64u({'alg': 'RS256'})}.{b64u({'exp': NOW - 60, 'iss': 'sts.example'})}.{rnd(20)}"),
        0, "ACR101", "az acr login --name acmeregistry"),
}


@pytest.mark.parametrize("vendor", sorted(CLOUD))
def test_expired_cloud_login_names_the_vendor_command(tmp_path: Path, vendor: str) -> None:
    host, user, make, age, rule, command = CLOUD[vendor]
    token = make()
    write_docker(tmp_path, {host: (user, token)}, age=age)
    r = run_cli(["check", "--offline", "--format", "json"], home=tmp_path)
    assert r.rc == 1, r
    found = [f for f in r.json()["findings"] if f["cause"] == "token-expired"]
    assert [f["rule"] for f in found] == [rule]
    assert any(command in c for c in found[0]["remediation"]["commands"])
    assert_no_secret(r, token)
    text = run_cli(["check", "--offline"], home=tmp_path)
    assert "token-expired" in text.out and rule in text.out
    assert_no_secret(text, token)


def test_fresh_cloud_logins_are_not_expired(tmp_path: Path) -> None:
    write_docker(tmp_path, {ECR_HOST: ("AWS", ecr_token(NOW + 6 * 3600)),
                            "us-docker.pkg.dev": ("oauth2accesstoken", "ya29." + rnd(150))})
    r = run_cli(["check", "--offline", "--format", "json"], home=tmp_path)
    assert not [f for f in r.json()["findings"] if f["cause"] == "token-expired"]


def test_wrong_vendor_token_for_a_host(tmp_path: Path) -> None:
    token = TOKENS["docker-hub-pat"]
    write_docker(tmp_path, {"ghcr.io": ("octocat", token)})
    r = run_cli(["check", "--offline", "--format", "json"], home=tmp_path)
    (f,) = [f for f in r.json()["findings"] if f["rule"] == "GHP104"]
    assert "Docker Hub personal access token" in f["message"]
    assert "docker login ghcr.io" in " ".join(f["remediation"]["commands"])
    assert_no_secret(r, token)


def test_rotation_refuses_a_token_of_another_vendor(tmp_path: Path) -> None:
    old = "ghp_" + rnd(36)
    path = write_docker(tmp_path, {"ghcr.io": ("octocat", old)})
    before = path.read_text()
    wrong = TOKENS["gitlab-pat"]
    r = run_cli(["fix", "--token-stdin", "ghcr.io", "--offline", "--apply"], home=tmp_path,
                stdin=wrong)
    assert r.rc == 1 and "GHP104" in r.out and "GitLab access token" in r.out
    assert path.read_text() == before
    assert_no_secret(r, wrong, old)
    good = "ghp_" + rnd(36)
    r = run_cli(["fix", "--token-stdin", "ghcr.io", "--offline"], home=tmp_path, stdin=good)
    assert "refused" not in r.out, r
    assert "(github-pat-classic" in r.out  # the vendor's format names the new token
    assert_no_secret(r, good, old)


def aws_sso(home: Path, expired: bool) -> None:
    import hashlib
    from datetime import datetime, timedelta, timezone

    (home / ".aws" / "sso" / "cache").mkdir(parents=True)
    (home / ".aws" / "config").write_text(
        "[profile acme]\nsso_session = acme\nsso_account_id = 123456789012\n"
        "region = eu-west-1\n\n[sso-session acme]\nsso_start_url = "
        "https://acme.awsapps.com/start\nsso_region = eu-west-1\n")
    at = datetime.now(timezone.utc) + timedelta(hours=-2 if expired else 2)
    cache = home / ".aws" / "sso" / "cache" / (hashlib.sha1(b"acme").hexdigest() + ".json")
    cache.write_text(json.dumps({"startUrl": "https://acme.awsapps.com/start",
                                 "expiresAt": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                 "accessToken": "canary-" + rnd(30)}))


@pytest.mark.parametrize(("setup", "profile", "says"), [
    ("none", None, "finds no AWS credentials"),
    ("none", "nope", "profile the helper is told to use does not exist"),
    ("sso-expired", "acme", "SSO session the helper uses has expired"),
    ("sso-valid", "acme", "AWS credentials are configured"),
])
def test_ecr_helper_failure_says_which(tmp_path: Path, setup: str, profile: str | None,
                                       says: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-ecr-login"
    # Helpers print their error on stdout (docker-credential-helpers protocol).
    helper.write_text("#!/bin/sh\ncat >/dev/null\necho 'error getting credentials'\nexit 1\n")
    helper.chmod(0o755)
    if setup.startswith("sso"):
        aws_sso(tmp_path, expired=setup == "sso-expired")
    write_docker(tmp_path, {}, extra={"credHelpers": {ECR_HOST: "ecr-login"}})
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "AWS_PROFILE": profile}
    r = run_cli(["check", "--offline", "--format", "json"], home=tmp_path, environ=env)
    (f,) = [f for f in r.json()["findings"] if f["cause"] == "helper-failure"]
    assert says in f["remediation"]["summary"], f
    if setup == "sso-expired":
        assert "aws sso login --profile acme" in f["remediation"]["commands"]
    assert "canary-" not in r.out


def fake_helper(home: Path, name: str) -> dict[str, str]:
    bin_dir = home / "bin"
    bin_dir.mkdir(exist_ok=True)
    helper = bin_dir / f"docker-credential-{name}"
    helper.write_text("#!/bin/sh\ncat >/dev/null\necho 'error getting credentials'\nexit 1\n")
    helper.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


@pytest.mark.parametrize(("setup", "helper", "says"), [
    ("none", "gcloud", "gcloud has no account"),
    ("other-config", "gcloud", "configuration the helper uses does not exist"),
    ("account", "gcloud", "Google credentials are configured"),
    ("none", "gcr", "finds no Google credentials"),
])
def test_gar_helper_failure_says_which(tmp_path: Path, setup: str, helper: str,
                                       says: str) -> None:
    env = fake_helper(tmp_path, helper)
    gdir = tmp_path / ".config" / "gcloud"
    if setup != "none":
        (gdir / "configurations").mkdir(parents=True)
        (gdir / "active_config").write_text("work\n" if setup == "other-config" else "default")
        (gdir / "configurations" / "config_default").write_text(
            "[core]\naccount = dev@acme.io\nproject = acme\n")
    write_docker(tmp_path, {}, extra={"credHelpers": {"europe-docker.pkg.dev": helper}})
    r = run_cli(["check", "--offline", "--format", "json"], home=tmp_path, environ=env)
    (f,) = [f for f in r.json()["findings"] if f["cause"] == "helper-failure"]
    assert says in f["remediation"]["summary"], f


@pytest.mark.parametrize(("helper", "environ", "says"), [
    ("acr-env", {}, "no service principal"),
    ("acr-linux", {}, "no Azure sign-in"),
])
def test_acr_helper_failure_says_which(tmp_path: Path, helper: str, environ: dict[str, str],
                                       says: str) -> None:
    env = {**fake_helper(tmp_path, helper), **environ}
    write_docker(tmp_path, {}, extra={"credHelpers": {"acmeregistry.azurecr.io": helper}})
    r = run_cli(["check", "--offline", "--format", "json"], home=tmp_path, environ=env)
    (f,) = [f for f in r.json()["findings"] if f["cause"] == "helper-failure"]
    assert says in f["remediation"]["summary"], f


def test_ecr_helper_missing(tmp_path: Path) -> None:
    write_docker(tmp_path, {}, extra={"credHelpers": {ECR_HOST: "ecr-login"}})
    r = run_cli(["check", "--offline", "--format", "json"], home=tmp_path,
                environ={"PATH": "/usr/bin:/bin"})
    (f,) = [f for f in r.json()["findings"] if f["cause"] == "helper-failure"]
    assert "not installed" in f["remediation"]["summary"]


# ------------------------------------------------------------------ URL mistakes


@pytest.mark.parametrize(("module", "url", "ptype", "words"), [
    ("ecr", "ecr.us-east-1.amazonaws.com", "oci", "API endpoint"),
    ("ecr", "12345.dkr.ecr.us-east1.amazonaws.com", "oci", "12 digits"),
    ("ecr", f"{ECR_HOST}/web", "npm", "CodeArtifact"),
    ("gar", "https://us-central1-docker.pkg.dev/acme/web/", "npm", "us-central1-npm.pkg.dev"),
    ("gar", "https://us-central1-python.pkg.dev/acme/py/", "python", "/simple/"),
    ("acr", "acme-registry.azurecr.io", "oci", "no dashes"),
    ("acr", "acmeregistry.westeurope.data.azurecr.io", "oci", "data endpoint"),
    ("github", "ghcr.io/Acme/Web", "oci", "lower-case"),
    ("github", "docker.pkg.github.com/acme/web/web", "oci", "retired"),
    ("github", "https://maven.pkg.github.com/acme", "maven", "OWNER/REPOSITORY"),
    ("gitlab", "https://gitlab.example.com/api/v4/projects/acme/web/packages/npm/", "npm",
     "URL-encoded"),
    ("gitlab", "https://gitlab.com/api/v4/projects/42/packages/pypi", "python", "/simple"),
    ("dockerhub", "hub.docker.com", "oci", "not the registry"),
    ("jfrog", "https://acme.jfrog.io/artifactory/npm-remote/", "npm", "api/npm/npm-remote"),
    ("jfrog", "https://art.example.com/artifactory/api/pypi/py/", "python", "/simple"),
    ("jfrog", "https://acme.jfrog.io/artifactory/api/maven/libs/", "maven", "artifactory/libs/"),
])
def test_url_mistakes(tmp_path: Path, module: str, url: str, ptype: str, words: str) -> None:
    import importlib

    mod = importlib.import_module(f"hardoctor_vendors.{module}")
    info = mod.registry_info(url, ptype, None)  # pure: no run state needed for built-in hosts
    assert info is not None and info.vendor == mod.VENDOR.name
    assert any(words in p for p in info.problems), info.problems


# ------------------------------------------------------------------ answers, probed


@pytest.fixture(scope="module")
def registry() -> Iterator[VendorRegistry]:
    with VendorRegistry() as reg:
        yield reg


ANSWERS = [
    ("ecr", ECR_EXPIRED, "AWS", "ECR101", "token-expired", "aws ecr get-login-password"),
    ("ecr", ECR_NO_PERMISSION, "AWS", "ECR106", "permission-denied", "aws sts"),
    ("github", GHCR_NO_SCOPE, "octocat", "GHP106", "permission-denied", None),
    ("jfrog", JFROG_BAD_CREDENTIALS, "dev", "JFR103", "token-invalid", "docker login"),
    ("jfrog", JFROG_FORBIDDEN, "dev", "JFR106", "permission-denied", None),
    ("acr", ACR_FIREWALL, "acmeregistry", "ACR106", "blocked-by-policy", None),
    ("gitlab", GITLAB_DENIED, "dev", "GLB103", "token-invalid", "docker login"),
]


@pytest.mark.parametrize(("vendor", "reply", "user", "rule", "cause", "command"), ANSWERS)
def test_vendor_answers_through_the_probe_engine(
    tmp_path: Path, registry: VendorRegistry, vendor: str, reply: Reply, user: str, rule: str,
    cause: str, command: str | None,
) -> None:
    token = "tok" + rnd(40)
    registry.answer(token, reply)
    write_docker(tmp_path, {registry.host: (user, token)})
    r = run_cli(["check", f"{registry.host}/acme/web:1", f"--{vendor}-host", registry.host,
                 "--format", "json"], home=tmp_path)
    found = {f["rule"]: f for f in r.json()["findings"]}
    assert rule in found, r
    f = found[rule]
    assert f["cause"] == cause
    assert reply.message[:30] in f["message"]
    if command:
        assert command in " ".join(f["remediation"]["commands"])
    assert_no_secret(r, token)


def test_expired_ecr_token_403_is_one_expiry_story(tmp_path: Path,
                                                   registry: VendorRegistry) -> None:
    """ECR answers 403 to an expired token: the story is the expiry (ECR101,
    with the OCI walk's DKR102 as evidence), never a missing permission."""
    token = ecr_token(NOW - 3600)
    registry.answer(token, ECR_EXPIRED)
    write_docker(tmp_path, {registry.host: ("AWS", token)})
    r = run_cli(["check", f"{registry.host}/acme/web:1", "--ecr-host", registry.host,
                 "--format", "json"], home=tmp_path)
    causes = {f["cause"] for f in r.json()["findings"] if f["severity"] == "error"}
    assert causes == {"token-expired"}, r
    assert "ECR102" not in r.out  # a 12-hour token is never "expiring soon"
    assert_no_secret(r, token)


def test_unknown_vendor_answers_stay_generic(tmp_path: Path, registry: VendorRegistry) -> None:
    """Without --ecr-host the loopback registry is nobody's: no ECR rule."""
    token = "tok" + rnd(40)
    registry.answer(token, ECR_EXPIRED)
    write_docker(tmp_path, {registry.host: ("AWS", token)})
    r = run_cli(["check", f"{registry.host}/acme/web:1", "--format", "json"], home=tmp_path)
    assert not [f for f in r.json()["findings"] if f["rule"].startswith("ECR")]
    assert r.rc == 1


def test_bad_host_option_is_a_usage_error(tmp_path: Path) -> None:
    r = run_cli(["check", "--offline", "--ecr-host", "http://"], home=tmp_path)
    assert r.rc == 2 and "--ecr-host" in r.err


def test_story_expired_ecr_login_with_skopeo(tmp_path: Path) -> None:
    """The user's story with a real client: skopeo is refused with ECR's
    expired-token answer -> hardoctor names the expiry and the AWS command
    -> the new token goes in with `fix --token-stdin` -> skopeo pulls."""
    import shutil

    from tests.servers.oci import skopeo_inspect
    from tests.servers.util import server_missing

    if shutil.which("skopeo") is None:
        server_missing("skopeo is not installed (scripts/install-system-deps.sh)")
    old, new = ecr_token(NOW - 3600), ecr_token(NOW + 11 * 3600)
    with VendorRegistry() as reg:
        reg.answer(old, ECR_EXPIRED)
        reg.accepted.add(new)
        path = write_docker(tmp_path, {reg.host: ("AWS", old)})
        image = f"{reg.host}/acme/web:1"
        rc, _, err = skopeo_inspect(image, env={"HOME": str(tmp_path)}, extra_args=["--raw"])
        assert rc != 0 and "expired" in err.lower()

        r = run_cli(["check", image, "--ecr-host", reg.host, "--format", "json"], home=tmp_path)
        errors = [f for f in r.json()["findings"] if f["severity"] == "error"]
        assert {f["cause"] for f in errors} == {"token-expired"}, r
        assert any("aws ecr get-login-password" in c for f in errors
                   for c in f["remediation"]["commands"])

        r = run_cli(["fix", "--token-stdin", image, "--ecr-host", reg.host, "--apply"],
                    home=tmp_path, stdin=new)
        assert r.rc == 0, r
        assert_no_secret(r, old, new)
        auth = json.loads(path.read_text())["auths"][reg.host]["auth"]
        assert base64.b64decode(auth).decode() == f"AWS:{new}"
        rc, out, err = skopeo_inspect(image, env={"HOME": str(tmp_path)}, extra_args=["--raw"])
        assert rc == 0, err
        assert '"schemaVersion"' in out
