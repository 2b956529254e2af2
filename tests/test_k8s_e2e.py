"""What hardoctor calls "works" for a pull secret is what a real client
does: each case renders the fixture manifest (tests/fixtures/k8s-e2e),
decodes its pull secret exactly as the API server hands it to the kubelet,
and uses that as skopeo's ``--authfile`` against a real ``docker-registry``
(token auth) on 127.0.0.1; then ``hardoctor check`` (online) runs on the
same manifest.  skopeo's exit status and hardoctor's verdict must agree,
and hardoctor must name the right cause."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from tests.helpers import FIXTURES, assert_valid_report, run_cli
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

pytestmark = pytest.mark.live

REPO = "team/app"
TAG = "v1"


@dataclass
class Env:
    reg: Registry
    password: str


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    for name in ("docker-registry", "skopeo"):
        try:
            require_binary(name)
        except MissingBinaryError as exc:
            server_missing(str(exc))
    password = "hd-k8s-" + secrets.token_hex(8)
    ts = TokenServer(users={"dev": password, "viewer": password},
                     grants={"dev": {"*": ["pull", "push"]}, "viewer": {}})
    with ts:
        layout = build_oci_layout(tmp_path_factory.mktemp("oci") / "layout", TAG)
        with Registry(auth="token", token_server=ts) as reg:
            push_image(layout.layout_dir, reg.host, REPO, TAG, ("dev", password))
            yield Env(reg, password)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def render(env: Env, home: Path, *, key: str | None = None, user: str = "dev",
           password: str | None = None, tag: str = TAG, encode: str = "data",
           layout: str = "auths") -> Path:
    """The fixture with this registry filled in; ``encode``: ``data`` (the
    API server's form), ``double`` (base64 twice), ``stringData``."""
    password = env.password if password is None else password
    text = (FIXTURES / "k8s-e2e" / "app.yaml").read_text()
    for k, v in {"@KEY@": key or env.reg.host, "@USER@": user, "@PASSWORD@": password,
                 "@AUTH@": b64(f"{user}:{password}"), "@HOST@": env.reg.host,
                 "@TAG@": tag}.items():
        text = text.replace(k, v)
    secret_doc, rest = text.split("---\n", 1)
    value = yaml.safe_load(secret_doc)["stringData"][".dockerconfigjson"]
    if layout == "flat":
        value = json.dumps(json.loads(value)["auths"])
    head = secret_doc.split("stringData:")[0]
    if encode == "data":
        secret_doc = head + f"data:\n  .dockerconfigjson: {b64(value)}\n"
    elif encode == "double":
        secret_doc = head + f"data:\n  .dockerconfigjson: {b64(b64(value))}\n"
    else:
        secret_doc = head + f"stringData:\n  .dockerconfigjson: '{value}'\n"
    path = home / "app.yaml"
    path.write_text(secret_doc + "---\n" + rest)
    return path


def kubelet_json(manifest: Path) -> str:
    """The bytes the kubelet gets for .dockerconfigjson: the API server
    decodes data: once (stringData is stored as is)."""
    doc = next(yaml.safe_load_all(manifest.read_text()))
    if "data" in doc:
        return base64.b64decode(doc["data"][".dockerconfigjson"]).decode()
    return str(doc["stringData"][".dockerconfigjson"])


def skopeo_works(env: Env, manifest: Path, tmp: Path, tag: str = TAG) -> tuple[bool, str]:
    authfile = tmp / "authfile.json"
    authfile.write_text(kubelet_json(manifest))
    authfile.chmod(0o600)
    rc, _, err = skopeo_inspect(f"{env.reg.host}/{REPO}:{tag}", authfile=authfile)
    return rc == 0, err


def hardoctor(home: Path, manifest: Path) -> dict:
    res = run_cli(["check", "--format", "json", "--timeout", "15", "--manifests", str(manifest)],
                  home=home)
    assert res.rc in (0, 1), res
    assert "Traceback" not in res.err
    return assert_valid_report(res.out)


def verdict(report: dict, host: str) -> tuple[bool, list[dict]]:
    """hardoctor's answer for the kubelet: (works, the error findings)."""
    (res,) = [r for r in report["resolutions"] if r["client"] == "kubelet" and r["host"] == host]
    errors = [f for f in report["findings"] if f["severity"] == "error" and f["ecosystem"] == "k8s"]
    tried = {s["credential"] for s in res["chain"] if s["outcome"] in ("used", "lost")} - {None}
    pulled = any(p["credential"] in tried and "/manifests/" in p["url"] and p["outcome"] == "ok"
                 for p in report["probes"])
    return pulled and not errors, errors


CASES = [
    # name, render kwargs, works, expected rule, expected cause
    ("good", {}, True, None, None),
    ("url-key", {"key": "http://{host}/v2/"}, True, None, None),
    ("string-data", {"encode": "stringData"}, True, None, None),
    ("wrong-password", {"password": "not-the-password"}, False, "DKR101", "token-invalid"),
    ("no-pull-grant", {"user": "viewer"}, False, "DKR104", "permission-denied"),
    ("missing-tag", {"tag": "v9"}, False, "DKR105", "not-found"),
    ("other-port-key", {"key": "{ip}:1"}, False, "K8S010", "credential-not-matched"),
    ("double-base64", {"encode": "double"}, False, "K8S006", "token-malformed"),
    ("no-auths-wrapper", {"layout": "flat"}, False, "K8S005", "config-invalid"),
]


@pytest.mark.parametrize(("name", "kwargs", "works", "rule", "cause"), CASES,
                         ids=[c[0] for c in CASES])
def test_hardoctor_agrees_with_skopeo(env: Env, home: Path, tmp_path: Path, name: str,
                                      kwargs: dict, works: bool, rule: str | None,
                                      cause: str | None) -> None:
    kwargs = dict(kwargs)
    if "key" in kwargs:
        kwargs["key"] = kwargs["key"].format(host=env.reg.host, ip=env.reg.host.split(":")[0])
    manifest = render(env, home, **kwargs)
    real, err = skopeo_works(env, manifest, tmp_path, kwargs.get("tag", TAG))
    assert real is works, f"skopeo: {err}"
    report = hardoctor(home, manifest)
    said, errors = verdict(report, env.reg.host)
    assert said is works, json.dumps(errors, indent=1)
    if rule is not None:
        hit = [f for f in errors if f["rule"] == rule]
        assert hit, [f["rule"] for f in errors]
        assert hit[0]["cause"] == cause
    assert env.password not in json.dumps(report)


def test_the_kubelet_tries_every_matching_entry(env: Env, home: Path) -> None:
    """Two secrets: the first one's token is wrong, the second one works --
    the kubelet pulls, so the refusal is only a warning."""
    manifest = render(env, home)
    text = manifest.read_text()
    stale_value = b64(json.dumps({"auths": {f"http://{env.reg.host}": {
        "auth": b64("dev:wrong-password")}}}))
    stale = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: stale\n  namespace: shop\n"
             f"type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {stale_value}\n")
    text = stale + "---\n" + text.replace("      - name: regcred\n",
                                          "      - name: stale\n      - name: regcred\n")
    manifest.write_text(text)
    report = hardoctor(home, manifest)
    works, errors = verdict(report, env.reg.host)
    (res,) = [r for r in report["resolutions"] if r["client"] == "kubelet"]
    matched = [s for s in res["chain"] if s["outcome"] in ("used", "lost")
               and s["description"].startswith("Secret")]
    assert len(matched) == 2
    refused = [f for f in report["findings"] if f["rule"] == "DKR101"]
    assert refused and refused[0]["severity"] == "warning"
    assert "which works" in refused[0]["message"]
    assert not errors
