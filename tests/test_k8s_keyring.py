"""The kubelet's matching rules (pkg/credentialprovider/keyring.go) and
secret decoding (secrets.go, config.go), unit by unit."""

from __future__ import annotations

import base64
import json

import pytest

from hardoctor.targets import parse_image_reference
from hardoctor_k8s import dockercfg, keyring
from hardoctor_k8s.hub import HUB
from hardoctor_k8s.yamlstream import StreamError, iter_objects


def repo(image: str) -> str:
    ref = parse_image_reference(image, HUB)
    assert ref is not None
    return keyring.image_repository(ref)


@pytest.mark.parametrize(("key", "normalized"), [
    ("pkg.harness.io", "pkg.harness.io"),
    ("https://pkg.harness.io", "pkg.harness.io"),
    ("http://pkg.harness.io/v2/", "pkg.harness.io"),
    ("https://index.docker.io/v1/", "index.docker.io"),
    ("pkg.harness.io/v2/acme", "pkg.harness.io/acme"),
    ("pkg.harness.io/acme/reg", "pkg.harness.io/acme/reg"),
    ("registry.local:5000", "registry.local:5000"),
    ("https://[::1]:5000/v2/", "[::1]:5000"),
    ("https://bad:port/", None),
])
def test_add_normalises_keys(key: str, normalized: str | None) -> None:
    assert keyring.normalize_key(key) == normalized


@pytest.mark.parametrize(("key", "image", "match", "why"), [
    ("pkg.harness.io", "pkg.harness.io/acme/reg/web:1", True, ""),
    ("pkg.harness.io:443", "pkg.harness.io/acme/reg/web:1", False, "port 443"),
    ("registry.local", "registry.local:5000/app:1", False, "port 5000"),
    ("*.harness.io", "pkg.harness.io/acme/reg/web:1", True, ""),
    ("*.harness.io", "harness.io/acme/web:1", False, "wildcard matches exactly one label"),
    ("*.io", "pkg.harness.io/acme/web:1", False, "labels"),
    ("*.example.io", "pkg.harness.io/acme/web:1", False, "does not match"),
    ("pkg.harness.io/acme", "pkg.harness.io/acme/reg/web:1", True, ""),
    ("pkg.harness.io/acm", "pkg.harness.io/acme/reg/web:1", True, ""),  # a string prefix
    ("pkg.harness.io/other", "pkg.harness.io/acme/reg/web:1", False, "not a prefix"),
    ("https://pkg.harness.io/v2/acme", "pkg.harness.io/acme/web:1", True, ""),
    ("PKG.harness.io", "pkg.harness.io/acme/web:1", False, "letter case"),
    ("ghcr.io", "pkg.harness.io/acme/web:1", False, "it is for host ghcr.io"),
])
def test_urls_match(key: str, image: str, match: bool, why: str) -> None:
    verdicts = keyring.lookup([keyring.Candidate(key, "x")], repo(image))
    assert verdicts[0].matched is match
    assert why in verdicts[0].why


def test_every_match_is_tried_most_specific_first() -> None:
    cands = [
        keyring.Candidate("pkg.harness.io", "host"),
        keyring.Candidate("pkg.harness.io/acme", "path"),
        keyring.Candidate("ghcr.io", "other"),
        keyring.Candidate("https://pkg.harness.io/v2/", "host-again"),
    ]
    verdicts = keyring.lookup(cands, repo("pkg.harness.io/acme/reg/web:1"))
    matched = [v.candidate.item for v in verdicts if v.matched]
    assert matched == ["path", "host", "host-again"]
    assert [v.order for v in verdicts if v.matched] == [0, 1, 2]
    assert not verdicts[-1].matched and verdicts[-1].candidate.item == "other"


@pytest.mark.parametrize("image", ["nginx", "library/nginx:1", "docker.io/team/app",
                                   "index.docker.io/team/app"])
def test_docker_hub_falls_back_to_index_key(image: str) -> None:
    verdicts = keyring.lookup([keyring.Candidate("https://index.docker.io/v1/", "hub")],
                              repo(image))
    assert verdicts[0].matched and verdicts[0].via_default


def test_docker_io_key_matches_directly() -> None:
    v = keyring.lookup([keyring.Candidate("docker.io", "hub")], repo("nginx"))[0]
    assert v.matched and not v.via_default


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_decode_data_and_string_data() -> None:
    cfg = json.dumps({"auths": {"r.io": {"auth": b64("u:p4ssword")}}})
    for section, raw in (("data", b64(cfg)), ("stringData", cfg)):
        dec = dockercfg.decode_value(".dockerconfigjson", section, raw)
        assert not dec.problems
        (e,) = dec.entries
        assert (e.key, e.username, e.password, e.from_auth) == ("r.io", "u", "p4ssword", True)


def test_auth_wins_over_fields_and_fields_are_case_insensitive() -> None:
    cfg = json.dumps({"Auths": {"r.io": {"Username": "a", "PASSWORD": "b"},
                                "s.io": {"username": "x", "password": "y", "auth": b64("u:p")}}})
    dec = dockercfg.decode_value(".dockerconfigjson", "stringData", cfg)
    got = {e.key: (e.username, e.password) for e in dec.entries}
    assert got == {"r.io": ("a", "b"), "s.io": ("u", "p")}


@pytest.mark.parametrize(("key", "value", "code", "breaks"), [
    (".dockerconfigjson", {"r.io": {"auth": "dTpw"}}, "no-auths", False),
    (".dockercfg", {"auths": {"r.io": {"auth": "dTpw"}}}, "has-auths", False),
    (".dockerconfigjson", {"auths": {"r.io": {"auth": "bm9jb2xvbg=="}}}, "auth-no-colon", True),
    (".dockerconfigjson", {"auths": {"r.io": {"auth": "%%%"}}}, "auth-bad-base64", True),
    (".dockerconfigjson", {"auths": {"r.io": {"username": 7}}}, "field-type", True),
    (".dockerconfigjson", {"auths": {"r.io": "text"}}, "entry-not-object", True),
    (".dockerconfigjson", {"auths": ["r.io"]}, "auths-type", True),
    (".dockerconfigjson", [1], "not-object", True),
    (".dockerconfigjson", {"auths": {}, "credHelpers": {"r.io": "x"}}, "helpers", False),
])
def test_decode_problems(key: str, value: object, code: str, breaks: bool) -> None:
    dec = dockercfg.decode_value(key, "stringData", json.dumps(value))
    assert dec.has(code), dec.problems
    assert dec.breaks is breaks


def test_double_encoding_is_peeled_for_the_intended_entries() -> None:
    cfg = json.dumps({"auths": {"r.io": {"auth": b64("u:p")}}})
    dec = dockercfg.decode_value(".dockerconfigjson", "data", b64(b64(cfg)))
    assert dec.has("double-encoded") and dec.breaks and not dec.entries
    assert [e.key for e in dec.intended] == ["r.io"]
    dec = dockercfg.decode_value(".dockerconfigjson", "data", "{not base64")
    assert dec.has("raw-json")
    dec = dockercfg.decode_value(".dockerconfigjson", "data", "abc")
    assert dec.has("data-bad-base64")


def test_identitytoken_is_not_read() -> None:
    cfg = json.dumps({"auths": {"r.io": {"auth": b64("u:"), "identitytoken": "refresh-xyz-123"}}})
    (e,) = dockercfg.decode_value(".dockerconfigjson", "stringData", cfg).entries
    assert e.unsupported == ("identitytoken",) and e.password == ""


def test_stream_reads_lists_one_item_at_a_time_with_lines() -> None:
    text = "apiVersion: v1\nitems:\n- kind: Secret\n  metadata: {name: a}\n- kind: Pod\n" \
           "  metadata: {name: b}\nkind: List\n---\nkind: ServiceAccount\n"
    objs = list(iter_objects(text))
    assert [(o.node.text("kind"), o.node.line, o.doc, o.item) for o in objs] == [
        ("Secret", 3, 0, 0), ("Pod", 5, 0, 1), ("ServiceAccount", 9, 1, None)]


@pytest.mark.parametrize("text", ["a: [", "a: *nope\n", "- [" * 300, "\x00", "a: b\n c: d\n"])
def test_stream_errors_never_raise(text: str) -> None:
    out = list(iter_objects(text))
    assert out and isinstance(out[-1], StreamError)
