"""``hardoctor fix --token-stdin`` for Kubernetes pull secrets.

Manifest files (offline): the new token goes into the entry's ``password``
and ``auth`` inside the decoded ``.dockerconfigjson`` / ``.dockercfg``, which
is stored back exactly as it was (base64 under ``data:``, raw JSON under
``stringData:`` in its own quoting or block style, a legacy ``.dockercfg``,
a JSON ``kubectl get -o json`` dump, a double-encoded value stays so); only
that value's characters change -- read back by an independent YAML parser,
every other document, field and byte is the same; a second run changes
nothing and ``fix --undo`` brings back every byte.  Manifests on stdin get
the ``kubectl create secret ... | kubectl apply -f -`` step instead.

Live cluster (``--kube``): real ``kubectl apply --server-side`` against the
API emulator (``tests/servers/kube_api.py``) with the Secret on stdin -- a
``--kubectl`` wrapper records kubectl's argv to prove no token is in it --
and the run's ``--context``; the Secret's other entries and its type stay.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.helpers import Result, run_cli
from tests.servers.kube_api import KubeApi
from tests.servers.util import server_missing

REG = "reg.example.test"
IMAGE = f"{REG}/team/app:v1"
OTHER = "other.example.test"
OLD = "hd-old-k8s-" + "a1" * 10
NEW = "hd-new-k8s-" + "b2" * 10
UNRELATED = "hd-unrelated-" + "c3" * 10


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forms(*tokens: str) -> list[str]:
    out = []
    for t in tokens:
        out += [t, b64(t), b64(t).rstrip("="), b64(f"dev:{t}").rstrip("="),
                b64(f"ci-bot:{t}").rstrip("=")]
    return out


def assert_no_tokens(text: str, *tokens: str) -> None:
    for form in forms(*tokens):
        assert form not in text, f"a token ({form[:8]}...) is in the output:\n{text}"


def entry(token: str, user: str = "dev") -> dict[str, str]:
    """An entry the way `kubectl create secret docker-registry` writes it."""
    return {"username": user, "password": token, "auth": b64(f"{user}:{token}")}


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def secret_doc(name: str, body: str, type_: str = "kubernetes.io/dockerconfigjson") -> str:
    return (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: shop\n"
            f"type: {type_}\n{body}")


def rotate(home: Path, proj: Path, *flags: str, token: str = NEW, target: str = IMAGE,
           manifests: str = "deploy/", stdin: str | None = None) -> Result:
    res = run_cli(["fix", "--token-stdin", "--offline", "--project", str(proj),
                   "--manifests", manifests, *flags, target], home=home, cwd=proj,
                  stdin=stdin if stdin is not None else token + "\n")
    assert "Traceback" not in res.out + res.err, res
    return res


def decoded(path: Path, name: str) -> dict[str, Any]:
    """The pull-secret JSON of Secret ``name`` as the API server hands it to
    the kubelet, read with PyYAML (not hardoctor's parser)."""
    text = path.read_text()
    docs = json.loads(text).get("items", []) if path.suffix == ".json" else \
        list(yaml.safe_load_all(text))
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "Secret" and \
                doc["metadata"]["name"] == name:
            key = ".dockercfg" if doc["type"].endswith("dockercfg") else ".dockerconfigjson"
            if key in (doc.get("stringData") or {}):
                value = doc["stringData"][key]
            else:
                value = base64.b64decode(doc["data"][key]).decode()
            if not value.lstrip().startswith("{"):
                value = base64.b64decode(value).decode()  # double-encoded
            result: dict[str, Any] = json.loads(value)
            return result
    raise AssertionError(f"no Secret {name} in {path}")


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    (path / "deploy").mkdir(parents=True)
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


# -- manifest files, offline -------------------------------------------------------------


def test_every_encoding_keeps_its_form_and_only_the_value_changes(home: Path, proj: Path) -> None:
    data_json = compact({"auths": {REG: entry(OLD), OTHER: entry(UNRELATED, "someone")}})
    pretty = json.dumps({"auths": {REG: {"auth": b64(f"ci-bot:{OLD}")}}}, indent=2)
    block = "\n".join("    " + line for line in pretty.splitlines())
    cfg = json.dumps({REG: {"username": "dev", "password": OLD, "email": "dev@example.test"}})
    manifest = (
        "# pull secrets for the shop\n"
        + secret_doc("data-b64", f"data:\n  .dockerconfigjson: {b64(data_json)}  # kubectl\n")
        + "---\n"
        + secret_doc("string-block", f"stringData:\n  .dockerconfigjson: |\n{block}\n")
        + "---\n"
        + secret_doc("legacy", f"data:\n  .dockercfg: \"{b64(cfg)}\"\n", "kubernetes.io/dockercfg")
        + "---\n"
        + "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
        "spec:\n  template:\n    spec:\n      imagePullSecrets: [{name: data-b64}]\n"
        f"      containers: [{{name: web, image: '{IMAGE}'}}]\n"
    )
    path = write(proj / "deploy" / "app.yaml", manifest)
    before = path.read_bytes()

    dry = rotate(home, proj)
    assert dry.rc == 1, dry
    assert "3 places hold the old credential" in dry.out, dry.out
    assert "Secret shop/data-b64 .dockerconfigjson auths[\"reg.example.test\"]: store the new " \
        "token for user dev (base64 under data:)" in dry.out
    assert "(raw JSON under stringData:)" in dry.out and "for user ci-bot" in dry.out
    assert '.dockercfg ["reg.example.test"]' in dry.out
    assert path.read_bytes() == before
    outputs = dry.out + dry.err

    done = rotate(home, proj, "--apply")
    assert done.rc == 0, done
    assert "Updated 1 file" in done.out and "Checked again" in done.out, done.out
    outputs += done.out + done.err

    after = decoded(path, "data-b64")
    assert after == {"auths": {REG: entry(NEW), OTHER: entry(UNRELATED, "someone")}}
    assert decoded(path, "string-block") == {"auths": {REG: {"auth": b64(f"ci-bot:{NEW}")}}}
    assert decoded(path, "legacy") == {REG: {"username": "dev", "password": NEW,
                                             "email": "dev@example.test"}}
    new_data = compact({"auths": {REG: entry(NEW), OTHER: entry(UNRELATED, "someone")}})
    # Exactly the three values changed, each in its own form: the compact
    # JSON as base64 (the comment after it kept), the literal block in place
    # (same lines, same indentation), the legacy value in its quotes.
    expected = (manifest.replace(b64(data_json), b64(new_data))
                .replace(b64(f"ci-bot:{OLD}"), b64(f"ci-bot:{NEW}"))
                .replace(b64(cfg), b64(cfg.replace(OLD, NEW))))
    assert path.read_text() == expected

    again = rotate(home, proj, "--apply")
    assert again.rc == 0 and "0 places hold the old credential" in again.out, again.out
    outputs += again.out + again.err

    undo = run_cli(["fix", "--undo"], home=home, cwd=proj)
    assert undo.rc == 0, undo
    assert path.read_bytes() == before
    assert_no_tokens(outputs + undo.out + undo.err, OLD, NEW, UNRELATED)


def test_stringdata_quoting_styles_and_a_json_dump(home: Path, proj: Path) -> None:
    value = compact({"auths": {REG: entry(OLD)}})
    single = write(proj / "deploy" / "single.yaml", secret_doc(
        "single", f"stringData:\n  .dockerconfigjson: '{value}'\r\n").replace("\n", "\r\n")
        .replace("\r\r\n", "\r\n"))
    double = write(proj / "deploy" / "double.yaml", secret_doc(
        "double", f"stringData:\n  .dockerconfigjson: {json.dumps(value)}\n"))
    dump = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
         "metadata": {"name": "dumped", "namespace": "shop", "uid": "u1",
                      "resourceVersion": "7"},
         "data": {".dockerconfigjson": b64(value)}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
         "data": {"k": OLD[:6]}},
    ]}
    dump_path = write(proj / "deploy" / "dump.json", json.dumps(dump, indent=4) + "\n")
    files = (single, double, dump_path)
    before = [p.read_bytes() for p in files]

    res = rotate(home, proj, "--apply", target=REG)
    assert res.rc == 0, res
    assert "3 places hold the old credential" in res.out and "Updated 3 files" in res.out
    for path, name in zip(files, ("single", "double", "dumped"), strict=True):
        assert decoded(path, name) == {"auths": {REG: entry(NEW)}}, name
    # Only the token's characters changed inside the quoted JSON (CRLF kept).
    assert single.read_bytes() == before[0].replace(OLD.encode(), NEW.encode()).replace(
        b64(f"dev:{OLD}").encode(), b64(f"dev:{NEW}").encode())
    assert double.read_bytes() == before[1].replace(OLD.encode(), NEW.encode()).replace(
        b64(f"dev:{OLD}").encode(), b64(f"dev:{NEW}").encode())
    assert json.loads(dump_path.read_text())["items"][1] == dump["items"][1]
    assert dump_path.read_text() == json.dumps(dump, indent=4).replace(
        b64(value), b64(compact({"auths": {REG: entry(NEW)}}))) + "\n"
    assert_no_tokens(res.out + res.err, OLD, NEW)

    undo = run_cli(["fix", "--undo"], home=home, cwd=proj)
    assert undo.rc == 0 and [p.read_bytes() for p in files] == before


def test_double_encoded_stays_double_and_same_token_entries_go_together(
    home: Path, proj: Path
) -> None:
    # Two registry keys in one value holding the same old token: one edit
    # updates both (the second credential proposes the identical edit).  The
    # kubelet cannot read a double-encoded value, so the Secret is a place
    # only as a copy of the token the Docker config uses for the registry.
    value = compact({"auths": {REG: entry(OLD), f"{REG}/team": entry(OLD)}})
    path = write(proj / "deploy" / "twice.yaml", secret_doc(
        "twice", f"data:\n  .dockerconfigjson: {b64(b64(value))}\n"))
    write(home / ".docker" / "config.json", json.dumps({"auths": {REG: {"auth": b64(f"dev:{OLD}")}}}))
    res = rotate(home, proj, "--apply", target=REG)
    assert res.rc == 1, res  # the value is still double-encoded (K8S006): not green
    assert "3 places hold the old credential" in res.out, res.out
    assert "Updated 2 files" in res.out, res.out
    assert "K8S006" in res.out
    assert "encoded twice as before" in res.out
    assert decoded(path, "twice") == {"auths": {REG: entry(NEW), f"{REG}/team": entry(NEW)}}
    assert_no_tokens(res.out + res.err, OLD, NEW)


def test_password_only_entry_in_a_folded_block(home: Path, proj: Path) -> None:
    value = json.dumps({"auths": {REG: {"username": "dev", "password": OLD}}}, indent=1)
    path = write(proj / "deploy" / "pw.yaml", secret_doc(
        "pw", f"data:\n  .dockerconfigjson: >-\n    {b64(value)}\n"))
    res = rotate(home, proj, "--apply", target=REG)
    assert res.rc == 0, res
    assert decoded(path, "pw") == {"auths": {REG: {"username": "dev", "password": NEW}}}
    # The pretty-printed JSON keeps its layout inside the new base64 (no
    # `auth` is added: only the token changes).
    stored = yaml.safe_load(path.read_text().split("---")[0])["data"][".dockerconfigjson"]
    assert base64.b64decode(stored).decode() == value.replace(OLD, NEW)
    # ... and the folded block stays a folded block.
    assert path.read_text() == secret_doc(
        "pw", f"data:\n  .dockerconfigjson: >-\n    {b64(value.replace(OLD, NEW))}\n")


def test_an_entry_with_a_username_only_gets_the_password(home: Path, proj: Path) -> None:
    value = json.dumps({"auths": {REG: {"username": "robot$ci", "email": "ci@example.test"}}})
    path = write(proj / "deploy" / "user.yaml", secret_doc(
        "user", f"stringData:\n  .dockerconfigjson: '{value}'\n"))
    res = rotate(home, proj, "--apply", target=REG)
    assert "1 place holds the old credential" in res.out, res.out
    assert "for user robot$ci" in res.out and "Updated 1 file" in res.out, res.out
    assert decoded(path, "user") == {"auths": {REG: {"password": NEW, "username": "robot$ci",
                                                     "email": "ci@example.test"}}}
    assert_no_tokens(res.out + res.err, NEW)


TWO_KEYS = (
    secret_doc("p", "data:\n  .dockerconfigjson: {value}\n")
    + "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: a, namespace: shop}}\nspec:\n"
    "  imagePullSecrets: [{{name: p}}]\n"
    f"  containers: [{{{{name: a, image: {REG}/team/app:1}}}}, "
    f"{{{{name: b, image: {REG}/other/app:1}}}}]\n"
)


def two_keys(old_a: str, old_b: str) -> str:
    """One value, two entries the kubelet uses for the same registry (the
    more specific key for team/, the host key for other/), two old tokens."""
    return compact({"auths": {REG: entry(old_a), f"{REG}/team": entry(old_b)}})


def test_two_entries_used_for_the_registry_are_rotated_in_one_edit(
    home: Path, proj: Path
) -> None:
    old_b = "hd-old-k8s-" + "d4" * 10
    path = write(proj / "deploy" / "pod.yaml", TWO_KEYS.format(value=b64(two_keys(OLD, old_b))))
    res = rotate(home, proj, "--apply", target=REG)
    assert res.rc == 0, res
    assert "2 places hold the old credential" in res.out and "Updated 1 file" in res.out
    assert decoded(path, "p") == {"auths": {REG: entry(NEW), f"{REG}/team": entry(NEW)}}
    assert_no_tokens(res.out + res.err, OLD, old_b, NEW)


def test_overlapping_edits_are_said_and_nothing_is_written(
    home: Path, proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without rotating the value's entries together, the two places'
    edits of one value would overlap: the core then names the one left out
    and writes nothing, instead of updating one copy silently."""
    from hardoctor_k8s import rotate as k8s_rotate

    monkeypatch.setattr(k8s_rotate, "_used_alongside", lambda *a: ())
    old_b = "hd-old-k8s-" + "d4" * 10
    path = write(proj / "deploy" / "pod.yaml", TWO_KEYS.format(value=b64(two_keys(OLD, old_b))))
    before = path.read_bytes()
    res = rotate(home, proj, "--apply", target=REG)
    assert res.rc == 2, res
    assert "Failed:" in res.out and "conflict: overlaps another edit" in res.out, res.out
    assert 'auths["reg.example.test/team"]' in res.out.split("Failed:")[1]
    assert path.read_bytes() == before and "Updated" not in res.out
    assert_no_tokens(res.out + res.err, OLD, old_b, NEW)


def test_a_secret_the_target_does_not_use_is_left_alone(home: Path, proj: Path) -> None:
    text = secret_doc("other", "stringData:\n  .dockerconfigjson: '"
                      + compact({"auths": {OTHER: entry(UNRELATED)}}) + "'\n")
    path = write(proj / "deploy" / "other.yaml", text)
    res = rotate(home, proj, "--apply", target=REG)
    assert "0 places hold the old credential" in res.out, res.out
    assert path.read_text() == text


def test_manifests_on_stdin_cannot_share_it_with_the_token(home: Path, proj: Path) -> None:
    """--token-stdin owns stdin: `--manifests -` with it is a usage error
    (the Rotation for a stdin manifest -- a manual kubectl step -- is
    checked below on its own)."""
    manifest = secret_doc("from-helm", "data:\n  .dockerconfigjson: "
                          + b64(compact({"auths": {REG: entry(OLD)}})) + "\n")
    res = run_cli(["fix", "--token-stdin", "--offline", "--project", str(proj), "--manifests",
                   "-", IMAGE], home=home, cwd=proj, stdin=NEW + "\n" + manifest)
    assert res.rc == 2, res
    assert_no_tokens(res.out + res.err, OLD, NEW)


def test_rotation_module_builds_the_stdin_step() -> None:
    from hardoctor.context import Context, Options
    from hardoctor.env import Environment
    from hardoctor.model import Credential, Location
    from hardoctor.rules import RuleRegistry
    from hardoctor_k8s import rotate as k8s_rotate
    from hardoctor_k8s.dockercfg import decode_value
    from hardoctor_k8s.objects import SecretObj, Where

    ctx = Context(Options(extra={"kube_context": "prod-eu"}),
                  Environment(environ={}, home="/home/tester", cwd="/tmp"), RuleRegistry())

    secret = SecretObj("shop", "har-pull", "kubernetes.io/dockerconfigjson",
                       Where("k8s:stdin", None, 1))
    dec = decode_value(".dockerconfigjson", "stringData", compact({"auths": {REG: entry(OLD)}}))
    cred = Credential(id="x", ecosystem="k8s", registry=REG, host=REG, source="k8s:stdin",
                      location=Location(key="k"), username="dev@acme.io")
    rot = k8s_rotate._manual(cred, secret, ".dockerconfigjson", REG, dec, ctx,
                             "Secret shop/har-pull")
    (step,) = rot.manual
    assert step == ("kubectl create secret docker-registry har-pull --namespace shop "
                    f"--docker-server={REG} --docker-username=dev@acme.io --context prod-eu "
                    '--docker-password="$TOKEN" --dry-run=client -o yaml | '
                    "kubectl --context prod-eu apply -f -")
    assert rot.fix is None and not rot.actions


# -- the live cluster: real kubectl, the API emulator --------------------------------------


@pytest.fixture
def api(home: Path) -> Iterator[KubeApi]:
    if shutil.which("kubectl") is None:
        server_missing("kubectl is not installed")
    server = KubeApi()
    with server:
        server.write_kubeconfig(home / ".kube" / "config", context="emu", namespace="default")
        yield server


def kubectl_wrapper(tmp_path: Path) -> tuple[Path, Path]:
    """A --kubectl that logs its argv (and stdin's size) and runs the real one."""
    log = tmp_path / "argv.log"
    real = shutil.which("kubectl")
    wrapper = tmp_path / "kubectl-wrap"
    wrapper.write_text(f"""#!/usr/bin/env python3
import json, os, sys
with open({str(log)!r}, "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
""")
    wrapper.chmod(0o755)
    return wrapper, log


@pytest.mark.live
def test_live_secret_is_applied_with_kubectl_from_stdin(
    api: KubeApi, home: Path, tmp_path: Path
) -> None:
    value = compact({"auths": {REG: entry(OLD), OTHER: entry(UNRELATED, "someone")}})
    api.add({"kind": "Secret", "metadata": {"name": "har-pull", "namespace": "shop"},
             "type": "kubernetes.io/dockerconfigjson",
             "data": {".dockerconfigjson": b64(value)}})
    api.add({"kind": "Secret", "metadata": {"name": "unrelated", "namespace": "shop"},
             "type": "kubernetes.io/dockerconfigjson",
             "data": {".dockerconfigjson": b64(compact({"auths": {OTHER: entry(UNRELATED)}}))}})
    wrapper, log = kubectl_wrapper(tmp_path)
    env = {"KUBECONFIG": str(home / ".kube" / "config")}
    argv = ["fix", "--token-stdin", "--offline", "--kube", "--context", "emu", "-n", "shop",
            "--kubectl", str(wrapper)]

    dry = run_cli([*argv, REG], home=home, environ=env, stdin=NEW)
    assert dry.rc == 1, dry
    assert "1 place holds the old credential" in dry.out, dry.out
    assert "kubectl apply --server-side -f - (Secret shop/har-pull .dockerconfigjson " \
        'auths["reg.example.test"], context emu)' in dry.out
    assert not api.received("PATCH")

    done = run_cli([*argv, "--apply", REG], home=home, environ=env, stdin=NEW)
    assert done.rc == 0, done
    assert "Checked again" in done.out, done.out
    (patch,) = api.received("PATCH")
    assert patch.path == "/api/v1/namespaces/shop/secrets/har-pull"
    assert patch.query.get("fieldManager") == ["hardoctor"]
    stored = api.get("Secret", "shop", "har-pull")
    assert stored is not None and stored["type"] == "kubernetes.io/dockerconfigjson"
    assert json.loads(base64.b64decode(stored["data"][".dockerconfigjson"])) == {
        "auths": {REG: entry(NEW), OTHER: entry(UNRELATED, "someone")}}
    # kubectl got the Secret on stdin: its argv holds no token, in any form.
    applies = [json.loads(line) for line in log.read_text().splitlines() if '"apply"' in line]
    assert len(applies) == 1 and applies[0][-2:] == ["-f", "-"]
    assert "--context" in applies[0] and "emu" in applies[0]
    assert_no_tokens(log.read_text(), OLD, NEW)

    again = run_cli([*argv, "--apply", REG], home=home, environ=env, stdin=NEW)
    assert again.rc == 0 and "0 places hold the old credential" in again.out, again.out
    assert len(api.received("PATCH")) == 1
    assert_no_tokens(dry.out + dry.err + done.out + done.err + again.out + again.err,
                     OLD, NEW, UNRELATED)


@pytest.mark.live
def test_live_apply_failure_is_reported_and_says_why(api: KubeApi, home: Path,
                                                     tmp_path: Path) -> None:
    api.add({"kind": "Secret", "metadata": {"name": "har-pull", "namespace": "shop"},
             "type": "kubernetes.io/dockerconfigjson",
             "data": {".dockerconfigjson": b64(compact({"auths": {REG: entry(OLD)}}))}})
    # kubectl reads the cluster, but the apply is refused (RBAC: no patch).
    real = shutil.which("kubectl")
    wrapper = tmp_path / "kubectl-no-patch"
    wrapper.write_text(f"""#!/bin/sh
case " $* " in
  *" apply "*) cat >/dev/null
    echo 'Error from server (Forbidden): secrets "har-pull" is forbidden: User "ci" cannot patch resource "secrets"' >&2
    exit 1;;
esac
exec {real} "$@"
""")
    wrapper.chmod(0o755)
    env = {"KUBECONFIG": str(home / ".kube" / "config")}
    res = run_cli(["fix", "--token-stdin", "--offline", "--kube", "-n", "shop", "--apply",
                   "--kubectl", str(wrapper), REG], home=home, environ=env, stdin=NEW)
    assert res.rc == 2, res
    assert "Failed:" in res.out and "kubectl apply failed (exit 1)" in res.out, res.out
    assert "cannot patch resource" in res.out
    stored = api.get("Secret", "shop", "har-pull")
    assert stored is not None
    assert json.loads(base64.b64decode(stored["data"][".dockerconfigjson"])) == {
        "auths": {REG: entry(OLD)}}
    assert_no_tokens(res.out + res.err, OLD, NEW)


@pytest.mark.live
def test_live_two_entries_are_applied_once(api: KubeApi, home: Path) -> None:
    old_b = "hd-old-k8s-" + "d4" * 10
    api.add({"kind": "Secret", "metadata": {"name": "p", "namespace": "shop"},
             "type": "kubernetes.io/dockerconfigjson",
             "data": {".dockerconfigjson": b64(two_keys(OLD, old_b))}})
    api.add({"kind": "Pod", "metadata": {"name": "a", "namespace": "shop"}, "spec": {
        "imagePullSecrets": [{"name": "p"}],
        "containers": [{"name": "a", "image": f"{REG}/team/app:1"},
                       {"name": "b", "image": f"{REG}/other/app:1"}]}})
    env = {"KUBECONFIG": str(home / ".kube" / "config")}
    res = run_cli(["fix", "--token-stdin", "--offline", "--kube", "-n", "shop", "--apply", REG],
                  home=home, environ=env, stdin=NEW)
    assert res.rc == 0, res
    assert "2 places hold the old credential" in res.out, res.out
    assert len(api.received("PATCH")) == 1
    stored = api.get("Secret", "shop", "p")
    assert stored is not None
    assert json.loads(base64.b64decode(stored["data"][".dockerconfigjson"])) == {
        "auths": {REG: entry(NEW), f"{REG}/team": entry(NEW)}}
    assert_no_tokens(res.out + res.err, OLD, old_b, NEW)
