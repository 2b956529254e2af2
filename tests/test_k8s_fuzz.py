"""Bad manifests never crash the Kubernetes plugin.

Hypothesis feeds random bytes, random text, random YAML made from
Kubernetes-shaped objects (Secrets with random values under random keys,
workloads with random pull-secret lists and images, Lists) and mutations of
the real fixtures, through ``--manifests FILE`` and ``--manifests -``.  Every
run must exit 0 or 1 without a traceback, without a plugin-hook error
(HD002), with a report that validates; ``fix --apply`` must not crash and
must converge.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import FIXTURES, assert_no_traceback, assert_valid_report, run_cli

from hardoctor import redact

EXAMPLES = int(os.environ.get("HARDOCTOR_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


def run(home: Path, argv: list[str], stdin: str = "") -> dict[str, Any]:
    res = run_cli(argv, home=home, stdin=stdin)
    assert res.rc in (0, 1), str(res)
    assert_no_traceback(res)
    assert "internal error" not in res.err, str(res)
    data = res.json()
    if data.get("schema") == "hardoctor/report/v1":
        assert_valid_report(data)
        hook = [f for f in data["findings"] if f["rule"] == "HD002"]
        assert not hook, f"a plugin raised inside a hook: {hook}"
    return data


class TempHome:
    """A fresh HOME; redact's registry restored afterwards (generated
    "secrets" are often short common words)."""

    def __enter__(self) -> Path:
        with redact._lock:
            self.known = redact.snapshot()
        self.tmp = tempfile.TemporaryDirectory(prefix="hdk8sfuzz-")
        home = Path(self.tmp.name) / "home"
        home.mkdir(mode=0o700)
        return home

    def __exit__(self, *exc: object) -> None:
        self.tmp.cleanup()
        with redact._lock:
            redact.restore(self.known)


def check_file(data: bytes) -> None:
    with TempHome() as home:
        path = home / "m.yaml"
        path.write_bytes(data)
        run(home, ["check", "--offline", "--format", "json", "--manifests", str(path)])


# -- strategies -----------------------------------------------------------------------

b64 = st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode())
scalar = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=12), b64)
entry = st.dictionaries(
    st.sampled_from(["auth", "username", "password", "email", "identitytoken", "Auth", "x"]),
    st.one_of(scalar, b64, st.just(base64.b64encode(b"u:p").decode())), max_size=4)
registry = st.sampled_from(["pkg.harness.io", "https://index.docker.io/v1/", "*.x.io",
                            "h:5000", "h.io/v2/a", "", "::", "a b"])
docker = st.one_of(
    st.builds(lambda m: {"auths": m}, st.dictionaries(registry, st.one_of(entry, scalar), max_size=3)),
    st.dictionaries(registry, st.one_of(entry, scalar), max_size=3),
    scalar,
)


def encode(value: Any, how: str) -> Any:
    text = json.dumps(value)
    if how == "b64":
        return base64.b64encode(text.encode()).decode()
    if how == "b64b64":
        return base64.b64encode(base64.b64encode(text.encode())).decode()
    return text


secret = st.builds(
    lambda name, typ, key, section, value, how: {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "shop"},
        **({"type": typ} if typ else {}), section: {key: encode(value, how)}},
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg", "Opaque", None, 7]),
    st.sampled_from([".dockerconfigjson", ".dockercfg", "other"]),
    st.sampled_from(["data", "stringData"]),
    docker,
    st.sampled_from(["b64", "b64b64", "raw"]),
)
image = st.one_of(st.sampled_from(["nginx", "pkg.harness.io/acme/r/web:1", "h:5000/a@sha256:" + "a" * 64,
                                   "UPPER/x", "", "h.io/a/b:c:d"]), st.text(max_size=20))
pod_spec = st.fixed_dictionaries({
    "imagePullSecrets": st.one_of(st.none(), st.lists(st.one_of(
        st.fixed_dictionaries({"name": st.sampled_from(["a", "b", "c", "zz"])}), scalar), max_size=3)),
    "serviceAccountName": st.one_of(st.none(), st.sampled_from(["default", "sa"])),
    "containers": st.one_of(scalar, st.lists(st.fixed_dictionaries(
        {"name": st.text(max_size=5), "image": st.one_of(image, scalar)}), max_size=3)),
})
workload = st.builds(
    lambda kind, spec, ns: {
        "apiVersion": "v1" if kind == "Pod" else "apps/v1", "kind": kind,
        "metadata": {"name": "w", **({"namespace": ns} if ns else {})},
        "spec": spec if kind == "Pod" else {"template": {"spec": spec}}},
    st.sampled_from(["Pod", "Deployment", "StatefulSet", "CronJob"]),
    pod_spec,
    st.one_of(st.none(), st.sampled_from(["shop", "other"])),
)
service_account = st.builds(
    lambda refs: {"apiVersion": "v1", "kind": "ServiceAccount",
                  "metadata": {"name": "sa", "namespace": "shop"}, "imagePullSecrets": refs},
    st.lists(st.fixed_dictionaries({"name": st.sampled_from(["a", "b"])}), max_size=2))
objects = st.lists(st.one_of(secret, workload, service_account, scalar), max_size=6)


def as_text(objs: list[Any], mode: str) -> str:
    if mode == "list":
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}, indent=2)
    return yaml.safe_dump_all(objs, sort_keys=False)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check_file(data)


@FUZZ
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_random_text(text: str) -> None:
    check_file(text.encode("utf-8"))


@FUZZ
@given(objects, st.sampled_from(["docs", "list"]))
def test_kubernetes_shaped_objects(objs: list[Any], mode: str) -> None:
    check_file(as_text(objs, mode).encode())


@settings(FUZZ, max_examples=max(1, EXAMPLES // 3))
@given(objects, st.sampled_from(["docs", "list"]), st.booleans())
def test_fix_never_crashes_and_converges(objs: list[Any], mode: str, stdin: bool) -> None:
    with TempHome() as home:
        text = as_text(objs, mode)
        if stdin:
            run(home, ["fix", "--offline", "--unsafe", "--format", "json", "--manifests", "-"],
                stdin=text)
            return
        path = home / "m.yaml"
        path.write_text(text)
        first = run(home, ["fix", "--offline", "--unsafe", "--apply", "--format", "json",
                           "--manifests", str(path)])
        assert not first["refused"], first
        again = run(home, ["fix", "--offline", "--unsafe", "--format", "json", "--manifests",
                           str(path)])
        assert not [f for f in again["files"] if f["changed"]], again
        if first["written"]:
            # what hardoctor wrote still parses as YAML
            list(yaml.safe_load_all(path.read_text()))


@FUZZ
@given(st.sampled_from(sorted(p for p in FIXTURES.glob("k8s-*/**/*") if p.is_file())),
       st.integers(0, 10_000), st.sampled_from(["drop", "dup", "flip"]))
def test_mutated_fixtures(path: Path, at: int, how: str) -> None:
    data = bytearray(path.read_bytes())
    if data:
        i = at % len(data)
        if how == "drop":
            del data[i]
        elif how == "dup":
            data[i:i] = data[i:i + 1]
        else:
            data[i] ^= 0x20
    check_file(bytes(data))
