"""No secret from a pull secret ever reaches any output, for every shape a
Kubernetes pull secret can take: data and stringData, .dockerconfigjson and
.dockercfg, auth or username/password, identity and registry tokens, double
base64, raw JSON under data, block scalars, Opaque secrets, JSON dumps with
kubectl's last-applied annotation, broken auth values -- in text and JSON
reports, in fix diffs (dry run and --apply), with --debug, and on stdin."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from tests.helpers import run_cli

USER = "leaky@acme.io"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def token(n: int) -> str:
    return f"pat.AcmeX1.leakTok{n:02d}.LEAKsecretLEAKsecret{n:02d}"


def forms(secret: str) -> set[str]:
    """Every way the secret could show up."""
    out = {secret, secret.rsplit(".", 1)[-1], b64(secret), b64(f"{USER}:{secret}"),
           b64(f"{USER}:{secret}").rstrip("=")}
    return {f for f in out if len(f) >= 8}


def docker_json(tok: str, *, wrapper: bool = True, extra: dict | None = None) -> str:
    entry = {"username": USER, "password": tok, "auth": b64(f"{USER}:{tok}")}
    entry.update(extra or {})
    body = {"pkg.harness.io": entry}
    return json.dumps({"auths": body} if wrapper else body)


def secret_doc(name: str, body: str, *, typ: str = "kubernetes.io/dockerconfigjson",
               key: str = ".dockerconfigjson", section: str = "data") -> str:
    head = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: shop\n"
    if typ:
        head += f"type: {typ}\n"
    return head + f"{section}:\n  {key}: {body}\n"


def shapes() -> tuple[str, list[str]]:
    """(manifest text, every secret in it)."""
    docs: list[str] = []
    secrets: list[str] = []

    def tok() -> str:
        secrets.append(token(len(secrets)))
        return secrets[-1]

    docs.append(secret_doc("data", b64(docker_json(tok()))))
    docs.append(secret_doc("string", "'" + docker_json(tok()) + "'", section="stringData"))
    block = docker_json(tok(), extra={"email": "x@y.z"})
    docs.append(secret_doc("block", "|\n    " + block, section="stringData"))
    docs.append(secret_doc("cfg", b64(docker_json(tok(), wrapper=False)),
                           typ="kubernetes.io/dockercfg", key=".dockercfg"))
    docs.append(secret_doc("double", b64(b64(docker_json(tok())))))
    docs.append(secret_doc("string-b64", b64(docker_json(tok())), section="stringData"))
    docs.append(secret_doc("raw", "'" + docker_json(tok()) + "'"))
    docs.append(secret_doc("noauths", b64(docker_json(tok(), wrapper=False))))
    docs.append(secret_doc("cfgauths", b64(docker_json(tok())), typ="kubernetes.io/dockercfg",
                           key=".dockercfg"))
    docs.append(secret_doc("opaque", b64(docker_json(tok())), typ=""))
    t = tok()
    docs.append(secret_doc("fields", b64(json.dumps({"auths": {"pkg.harness.io": {
        "username": USER, "password": t}}}))))
    t = tok()
    docs.append(secret_doc("identity", b64(json.dumps({"auths": {"pkg.harness.io": {
        "auth": b64(USER + ":"), "identitytoken": t}}}))))
    t = tok()
    docs.append(secret_doc("regtoken", b64(json.dumps({"auths": {"pkg.harness.io": {
        "registrytoken": t}}}))))
    t = tok()
    docs.append(secret_doc("badauth", b64(json.dumps({"auths": {"pkg.harness.io": {
        "auth": b64(t)}}}))))
    t = tok()
    docs.append(secret_doc("badb64", b64(json.dumps({"auths": {"pkg.harness.io": {
        "auth": b64(f"{USER}:{t}").rstrip("=") + "%"}}}))))
    t = tok()
    docs.append(secret_doc("colon", b64(docker_json(t + ":x:ü"))))
    secrets[-1] = t + ":x:ü"
    t = tok()
    docs.append(secret_doc("trailing-newline", b64(docker_json(t + "\n"))))
    t = tok()
    docs.append(secret_doc("both", b64(docker_json(t)) + "\nstringData:\n  .dockerconfigjson: '"
                           + docker_json(tok()) + "'"))
    deploy = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n"
              "spec:\n  template:\n    spec:\n      imagePullSecrets:\n"
              + "".join(f"      - name: {n}\n" for n in (
                  "data", "string", "block", "cfg", "double", "string-b64", "raw", "noauths",
                  "cfgauths", "opaque", "fields", "identity", "regtoken", "badauth", "badb64",
                  "colon", "trailing-newline", "both"))
              + "      containers:\n      - name: web\n"
              "        image: pkg.harness.io/acmex1/docker-prod/web:1.4\n")
    docs.append(deploy)
    return "---\n".join(docs), secrets


def json_dump(tok: str) -> str:
    """A `kubectl get -o json` dump whose Secret carries kubectl's
    last-applied-configuration annotation (which repeats the token)."""
    value = docker_json(tok)
    last = json.dumps({"apiVersion": "v1", "kind": "Secret", "stringData": {
        ".dockerconfigjson": value}, "metadata": {"name": "p", "namespace": "shop"}})
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [{
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": "p", "namespace": "shop", "uid": "u", "creationTimestamp":
                     "2024-01-01T00:00:00Z", "annotations": {
                         "kubectl.kubernetes.io/last-applied-configuration": last}},
        "data": {".dockerconfigjson": b64(value)}}]}, indent=2)


def assert_clean(text: str, secrets: list[str]) -> None:
    for s in secrets:
        for form in forms(s):
            assert form not in text, f"secret form {form[:6]}… leaked"


RUNS = [
    ["check", "--offline"],
    ["check", "--offline", "--format", "json"],
    ["check", "--offline", "--debug"],
    ["fix", "--offline", "--unsafe"],
    ["fix", "--offline", "--unsafe", "--format", "json"],
    ["fix", "--offline", "--unsafe", "--apply"],
]


@pytest.mark.parametrize("argv", RUNS, ids=[" ".join(a) for a in RUNS])
def test_no_secret_in_any_output(home: Path, argv: list[str]) -> None:
    text, secrets = shapes()
    (home / "app.yaml").write_text(text)
    dump_token = token(90)
    (home / "dump.json").write_text(json_dump(dump_token))
    # A newer local login, so the stale-token fix (which writes a token) runs too.
    local = token(91)
    (home / ".docker").mkdir()
    (home / ".docker" / "config.json").write_text(json.dumps(
        {"auths": {"pkg.harness.io": {"auth": b64(f"{USER}:{local}")}}}))
    (home / ".docker" / "config.json").chmod(0o600)
    res = run_cli([*argv, "--manifests", str(home / "app.yaml"), "--manifests",
                   str(home / "dump.json")], home=home)
    assert res.rc in (0, 1), res
    assert "Traceback" not in res.err or "--debug" in argv
    assert_clean(res.out + res.err, [*secrets, dump_token, local])
    if "json" in argv and argv[0] == "check":
        report = json.loads(res.out)
        # every shape was read: one credential per secret that holds one
        assert len([c for c in report["credentials"] if c["ecosystem"] == "k8s"]) >= 15


def test_no_secret_on_stdin_runs(home: Path) -> None:
    text, secrets = shapes()
    for argv in (["check", "--offline"], ["fix", "--offline", "--unsafe"]):
        res = run_cli([*argv, "--manifests", "-"], home=home, stdin=text)
        assert res.rc in (0, 1), res
        assert_clean(res.out + res.err, secrets)
