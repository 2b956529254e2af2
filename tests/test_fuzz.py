"""Bad input never crashes (issue 2, "Done means").

Hypothesis feeds random bytes, random text, random JSON and random
Docker-shaped JSON to every place the Docker plugin reads a config from
(``~/.docker/config.json``, the containers ``auth.json``, Helm's registry
config, ``~/.dockercfg`` and ``DOCKER_AUTH_CONFIG``), and random strings as
TARGET arguments.  Every run must end with exit 0 or 1 (2 for a usage error
caused by a TARGET), without a traceback, without a plugin-hook-error
finding (HD002: a plugin raised), and with a report that validates against
the shipped schema.  ``fix`` is run on a subset: planning, applying and
undoing must not crash, must not turn valid JSON into invalid JSON, must
converge (a second ``fix`` finds nothing), and ``--undo`` must restore the
original bytes.

Helper names in the generated configs all start with ``hdfuzz-`` and do not
exist, so no real credential helper ever runs.  Every run is in-process
(``run_cli``) inside a throw-away HOME created in the test body (hypothesis
runs many examples per test function, so a function-scoped fixture would be
shared between them).
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests.helpers import (
    Result,
    assert_no_traceback,
    assert_valid_report,
    run_cli,
)

from hardoctor import redact

#: Where each client reads a Docker-format file, relative to HOME.
PLACES = {
    "docker": ".docker/config.json",
    "containers": ".config/containers/auth.json",
    "helm": ".config/helm/registry/config.json",
    "dockercfg": ".dockercfg",
}
ENV_PLACE = "DOCKER_AUTH_CONFIG"
ALL_PLACES = (*PLACES, ENV_PLACE)

CHECK = ["check", "--offline", "--format", "json"]
FIX = ["fix", "--offline", "--format", "json"]

#: ``HARDOCTOR_FUZZ_EXAMPLES=1000`` for a longer hunt (about 8 minutes;
#: the default keeps this file around 20 s).
EXAMPLES = int(os.environ.get("HARDOCTOR_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
FUZZ_FEW = settings(FUZZ, max_examples=max(1, EXAMPLES // 2))


# -- running -----------------------------------------------------------------------


@dataclass
class Home:
    path: Path

    def environ(self, extra: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
        # XDG_RUNTIME_DIR inside HOME: otherwise the containers chain reads the
        # real /run/containers/UID/auth.json of the machine running the tests.
        env: dict[str, str | None] = {"XDG_RUNTIME_DIR": str(self.path / "run")}
        env.update(extra or {})
        return env

    def run(self, argv: list[str], environ: Mapping[str, str | None] | None = None) -> Result:
        return run_cli(argv, home=self.path, environ=self.environ(environ))


class _TempHome:
    """A fresh HOME (0700) for one hypothesis example.

    Also puts :mod:`hardoctor.redact`'s registry of secrets back as it was on
    exit.  Generated "secrets" are often common words (hypothesis likes the
    string constants of the code under test: ``error``, ``clients``,
    ``true``...); left registered, every later test in this process would
    see those words scrubbed out of its (text) output.
    """

    def __enter__(self) -> Home:
        with redact._lock:
            self._known = redact.snapshot()
        self._tmp = tempfile.TemporaryDirectory(prefix="hdfuzz-")
        path = Path(self._tmp.name) / "home"
        path.mkdir(mode=0o700)
        (path / "run").mkdir(mode=0o700)
        return Home(path)

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()
        with redact._lock:
            redact.restore(self._known)


def _write(home: Home, place: str, data: bytes, mode: int = 0o600) -> Path:
    path = home.path / PLACES[place]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


def assert_check_ok(r: Result) -> dict[str, Any]:
    """rc 0/1, no traceback, no internal error, no HD002, a valid report."""
    assert r.rc in (0, 1), str(r)
    assert_no_traceback(r)
    assert "internal error" not in r.err, str(r)
    report = assert_valid_report(r.json())
    hook_errors = [f for f in report["findings"] if f["rule"] == "HD002"]
    assert not hook_errors, f"a plugin raised inside a hook: {hook_errors}\n{r}"
    return report


def assert_fix_ok(r: Result, *, applied: bool = False) -> dict[str, Any]:
    """A ``fix --format json`` run that did not crash."""
    assert r.rc in ((0,) if applied else (0, 1)), str(r)
    assert_no_traceback(r)
    assert "internal error" not in r.err, str(r)
    data = r.json()
    assert data["schema"] == "hardoctor/fix/v1", data
    assert not data["refused"], data
    return data


def _env_safe(text: str) -> bool:
    # os.environ cannot hold NUL (run_cli mirrors the environment there).
    return "\x00" not in text


# -- strategies ----------------------------------------------------------------------


class Obj:
    """A JSON object as an ordered list of members (duplicate keys allowed,
    which a dict cannot express)."""

    def __init__(self, members: list[tuple[str, Any]]) -> None:
        self.members = members

    def __repr__(self) -> str:
        return f"Obj({self.members!r})"


@dataclass(frozen=True)
class Style:
    indent: str | None
    newline: str
    ascii: bool
    bom: bool
    final_newline: bool


def dump(value: Any, style: Style) -> str:
    body = _dump(value, style, 0)
    if style.final_newline:
        body += style.newline
    return ("\ufeff" if style.bom else "") + body


def _dump(value: Any, style: Style, level: int) -> str:
    if isinstance(value, Obj):
        items = [
            f"{json.dumps(k, ensure_ascii=style.ascii)}: {_dump(v, style, level + 1)}"
            for k, v in value.members
        ]
        return _container("{", "}", items, style, level)
    if isinstance(value, list):
        return _container("[", "]", [_dump(v, style, level + 1) for v in value], style, level)
    return json.dumps(value, ensure_ascii=style.ascii)


def _container(open_: str, close: str, items: list[str], style: Style, level: int) -> str:
    if not items:
        return open_ + close
    if style.indent is None:
        return open_ + ", ".join(items) + close
    pad = style.newline + style.indent * (level + 1)
    return open_ + pad + ("," + pad).join(items) + style.newline + style.indent * level + close


styles = st.builds(
    Style,
    indent=st.sampled_from([None, "  ", "    ", "\t"]),
    newline=st.sampled_from(["\n", "\n", "\r\n"]),
    ascii=st.booleans(),
    bom=st.sampled_from([False, False, False, True]),
    final_newline=st.booleans(),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_any = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(st.tuples(st.text(max_size=8), children), max_size=3).map(Obj),
    ),
    max_leaves=8,
)

#: Helper names that are never installed anywhere (no real helper runs).
helper_names = st.sampled_from(
    ["hdfuzz-nope", "hdfuzz-nope2", "hdfuzz-Nope", "", "hdfuzz nope", "hdfuzz-nope\n",
     "hdfuzz-nope/../x", "hdfuzz-\u00e9"]
)
registry_keys = st.one_of(
    st.sampled_from(
        [
            "pkg.harness.io",
            "pkg.harness.io:443",
            "PKG.Harness.io",
            "https://pkg.harness.io",
            "https://pkg.harness.io/v2/",
            "http://pkg.harness.io/v1/",
            "pkg.harness.io/acct/reg",
            "https://index.docker.io/v1/",
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "[::1",
            "https://",
            "http://:80/",
            "",
            ":",
            "/",
            "a/b/c/d",
            "ghcr.io",
        ]
    ),
    st.text(max_size=16),
)
user_pass = st.tuples(
    st.text(max_size=10) | st.sampled_from(["me", "me@example.com", ""]),
    st.text(max_size=16) | st.sampled_from(["hdfuzz-secret", "pat.Acct.tok.sec", ""]),
    st.sampled_from(["", "", "\n", "\r\n", " ", "\t"]),
).map(lambda t: f"{t[0]}:{t[1]}{t[2]}")
B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
b64ish = st.one_of(
    user_pass.map(lambda s: base64.b64encode(s.encode("utf-8")).decode()),
    user_pass.map(lambda s: base64.b64encode(s.encode("utf-8")).decode().rstrip("=")),
    user_pass.map(lambda s: base64.urlsafe_b64encode(s.encode("utf-8")).decode()),
    user_pass.map(lambda s: base64.b64encode(s.encode("utf-8")).decode() + "\n"),
    st.binary(max_size=24).map(lambda b: base64.b64encode(b).decode()),
    st.text(alphabet=B64_CHARS + "=-_. \n", max_size=40),
    st.text(max_size=20),
)


def _cased(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.capitalize(), name.upper()])


def _field(name: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, Any]]:
    return st.tuples(_cased(name), st.one_of(values, values, json_any))


entry_members = st.one_of(
    _field("auth", b64ish),
    _field("username", st.text(max_size=12)),
    _field("password", st.text(max_size=16) | st.sampled_from(["pw\n", "pw ", "pat.A.b.c"])),
    _field("identitytoken", st.text(max_size=24)),
    _field("registrytoken", st.text(max_size=24)),
    _field("email", st.text(max_size=12)),
    _field("serveraddress", registry_keys),
    st.tuples(st.text(max_size=8), json_any),
)
entries = st.lists(entry_members, max_size=5).map(Obj)
auths_maps = st.lists(
    st.tuples(registry_keys, st.one_of(entries, entries, entries, json_any)), max_size=4
).map(Obj)
cred_helpers_maps = st.lists(
    st.tuples(registry_keys, st.one_of(helper_names, helper_names, json_any)), max_size=3
).map(Obj)
top_members = st.one_of(
    st.tuples(_cased("auths"), st.one_of(auths_maps, auths_maps, auths_maps, json_any)),
    st.tuples(st.sampled_from(["credsStore", "credsstore", "credStore", "credentialsStore"]),
              st.one_of(helper_names, helper_names, json_any)),
    st.tuples(st.sampled_from(["credHelpers", "credhelpers", "credHelper", "credentialHelpers"]),
              st.one_of(cred_helpers_maps, cred_helpers_maps, json_any)),
    st.tuples(st.sampled_from(["HttpHeaders", "auth", "auhts", "psFormat", "experimental"]), json_any),
    st.tuples(st.text(max_size=10), json_any),
)
docker_docs = st.one_of(
    st.lists(top_members, max_size=5).map(Obj),
    st.lists(top_members, max_size=5).map(Obj),
    st.lists(top_members, max_size=5).map(Obj),
    json_any,
)
#: ``~/.dockercfg`` is the registry map itself (no ``auths`` wrapper).
legacy_docs = st.one_of(auths_maps, auths_maps, docker_docs)


@st.composite
def docker_texts(draw: st.DrawFn, legacy: bool = False) -> str:
    return dump(draw(legacy_docs if legacy else docker_docs), draw(styles))


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    """Valid Docker-shaped JSON with one random cut, deletion or insertion:
    the errors people make by hand (and truncated writes)."""
    text = draw(docker_texts())
    if not text:
        return text
    pos = draw(st.integers(min_value=0, max_value=len(text)))
    how = draw(st.sampled_from(["cut", "delete", "insert", "replace"]))
    if how == "cut":
        return text[:pos]
    if how == "delete":
        return text[:pos] + text[pos + 1 :]
    char = draw(st.sampled_from(list('{}[]":,\\ \n\x00\ufeff') + ["'", "tru", "1e", "-"]) | st.text(max_size=2))
    if how == "insert":
        return text[:pos] + char + text[pos:]
    return text[:pos] + char + text[pos + 1 :]


#: Inputs for every place: raw bytes, any text, any JSON, Docker-shaped JSON,
#: damaged Docker-shaped JSON.
def contents(place: str) -> st.SearchStrategy[bytes]:
    texts = st.one_of(
        st.text(),
        json_any.map(lambda v: json.dumps(v, default=lambda o: dict(o.members))),
        docker_texts(legacy=place == "dockercfg"),
        docker_texts(legacy=place == "dockercfg"),
        mutated_texts(),
    )
    return st.one_of(st.binary(max_size=200), texts.map(lambda t: t.encode("utf-8")))


# -- one place at a time -----------------------------------------------------------------


def _check_place(place: str, data: bytes, mode: int) -> None:
    with _TempHome() as home:
        if place == ENV_PLACE:
            text = data.decode("utf-8", "replace")
            assume(_env_safe(text) and text)
            r = home.run(CHECK, {ENV_PLACE: text})
        else:
            _write(home, place, data, mode)
            r = home.run(CHECK)
        assert_check_ok(r)


modes = st.sampled_from([0o600, 0o600, 0o644, 0o640])


@FUZZ
@given(data=contents("docker"), mode=modes)
def test_fuzz_docker_config(data: bytes, mode: int) -> None:
    _check_place("docker", data, mode)


@FUZZ
@given(data=contents("containers"), mode=modes)
def test_fuzz_containers_auth_json(data: bytes, mode: int) -> None:
    _check_place("containers", data, mode)


@FUZZ
@given(data=contents("helm"), mode=modes)
def test_fuzz_helm_registry_config(data: bytes, mode: int) -> None:
    _check_place("helm", data, mode)


@FUZZ
@given(data=contents("dockercfg"), mode=modes)
def test_fuzz_dockercfg(data: bytes, mode: int) -> None:
    _check_place("dockercfg", data, mode)


@FUZZ
@given(data=contents("docker"))
def test_fuzz_docker_auth_config_env(data: bytes) -> None:
    _check_place(ENV_PLACE, data, 0o600)


# -- every place at once -----------------------------------------------------------------


@st.composite
def homes(draw: st.DrawFn) -> dict[str, str]:
    """Docker-shaped text in a random subset of the places (clients fall
    back from one to the other, so the interplay matters)."""
    chosen = draw(st.sets(st.sampled_from(ALL_PLACES), min_size=1))
    out: dict[str, str] = {}
    for place in chosen:
        text = draw(st.one_of(docker_texts(legacy=place == "dockercfg"), mutated_texts()))
        if place == ENV_PLACE:
            text = text.replace("\x00", "")
            if not text:
                continue
        out[place] = text
    return out


def _populate(home: Home, files: Mapping[str, str], mode: int = 0o600) -> dict[str, str]:
    env: dict[str, str] = {}
    for place, text in files.items():
        if place == ENV_PLACE:
            env[ENV_PLACE] = text
        else:
            _write(home, place, text.encode("utf-8"), mode)
    return env


@FUZZ
@given(files=homes(), mode=modes, text_format=st.booleans())
def test_fuzz_all_places_together(files: dict[str, str], mode: int, text_format: bool) -> None:
    with _TempHome() as home:
        env = _populate(home, files, mode)
        assert_check_ok(home.run(CHECK, env))
        if text_format:
            r = home.run(["check", "--offline", "--no-color"], env)
            assert r.rc in (0, 1), str(r)
            assert_no_traceback(r)
            assert "internal error" not in r.err, str(r)
            assert "HD002" not in r.out, str(r)


# -- fix: plan, apply, converge, undo ---------------------------------------------------


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _snapshot(home: Home) -> dict[str, tuple[bytes, int]]:
    out = {}
    for place, rel in PLACES.items():
        path = home.path / rel
        if path.exists():
            out[place] = (path.read_bytes(), os.stat(path).st_mode & 0o7777)
    return out


@FUZZ
@given(files=homes(), mode=modes, unsafe=st.booleans())
def test_fuzz_fix_plan_only(files: dict[str, str], mode: int, unsafe: bool) -> None:
    with _TempHome() as home:
        env = _populate(home, files, mode)
        before = _snapshot(home)
        argv = FIX + (["--unsafe"] if unsafe else [])
        assert_fix_ok(home.run(argv, env))
        r = home.run(["fix", "--offline", "--no-color"] + (["--unsafe"] if unsafe else []), env)
        assert r.rc in (0, 1), str(r)
        assert_no_traceback(r)
        assert _snapshot(home) == before, "fix without --apply changed a file"


@FUZZ_FEW
@given(doc=docker_docs, style=styles, place=st.sampled_from(sorted(PLACES)), mode=modes)
def test_fuzz_fix_apply_converges_and_undoes(doc: Any, style: Style, place: str, mode: int) -> None:
    text = dump(doc, style)
    with _TempHome() as home:
        path = _write(home, place, text.encode("utf-8"), mode)
        before = _snapshot(home)

        applied = assert_fix_ok(home.run(FIX + ["--apply"]), applied=True)
        after = path.read_text(encoding="utf-8")
        if _parses(text.lstrip("\ufeff")):
            assert _parses(after.lstrip("\ufeff")), (
                f"fix --apply turned valid JSON into invalid JSON:\n{text!r}\n->\n{after!r}\n{applied}"
            )
        # Converged: a second run has nothing left to do.
        again = assert_fix_ok(home.run(FIX))
        assert not [f for f in again["files"] if f["changed"]], (
            f"a second fix still changes files:\n{text!r}\n->\n{after!r}\n{again}"
        )
        assert_check_ok(home.run(CHECK))

        undo = home.run(["fix", "--undo"])
        assert undo.rc == 0, str(undo)
        assert_no_traceback(undo)
        assert _snapshot(home) == before, f"--undo did not restore the original:\n{text!r}"


# -- targets -----------------------------------------------------------------------------

TARGET_HOME = {
    "docker": json.dumps(
        {
            "auths": {
                "pkg.harness.io": {"auth": base64.b64encode(b"me:hdfuzz-secret").decode()},
                "https://index.docker.io/v1/": {"auth": base64.b64encode(b"me:pw").decode()},
                "localhost:5000": {"username": "me", "password": "pw"},
            },
            "credHelpers": {"ghcr.io": "hdfuzz-nope"},
        }
    ),
    "containers": json.dumps({"auths": {"pkg.harness.io/acct": {"auth": "bWU6cHc="}}}),
    "helm": json.dumps({"auths": {}, "credsStore": "hdfuzz-nope"}),
}

target_parts = st.one_of(
    st.sampled_from(
        ["pkg.harness.io", "localhost:5000", "docker.io", "ghcr.io", "[::1]:5000", "HOST:99999",
         "acct/reg/app", "library/nginx", "app", ":tag", "@sha256:" + "a" * 64, "@sha256:zz",
         "https://", "oci://", "docker://", "npm:", "pip:", "maven:", ":", "/", "//", "@", "..",
         "\x00", "\n", " ", "-", "--", "\u00e9", "\udcff"]
    ),
    st.text(max_size=10),
)
targets = st.one_of(
    st.text(),
    st.lists(target_parts, min_size=1, max_size=6).map("".join),
)


def _assert_target_run(r: Result, argv: list[str]) -> None:
    assert r.rc in (0, 1, 2), str(r)
    assert_no_traceback(r)
    if r.rc == 2:
        assert r.err.startswith("hardoctor: error: "), f"{argv!r}\n{r}"
        assert "internal error" not in r.err, f"{argv!r}\n{r}"
    else:
        assert_check_ok(r) if argv[0] == "check" else assert_fix_ok(r)


@FUZZ
@given(values=st.lists(targets, min_size=1, max_size=3), separator=st.booleans())
def test_fuzz_target_arguments(values: list[str], separator: bool) -> None:
    with _TempHome() as home:
        _populate(home, TARGET_HOME)
        argv = CHECK + (["--"] if separator else []) + values
        _assert_target_run(home.run(argv), argv)


@FUZZ_FEW
@given(value=targets, how=st.sampled_from(["registry", "fix", "fix-registry"]))
def test_fuzz_registry_option_and_fix_targets(value: str, how: str) -> None:
    with _TempHome() as home:
        _populate(home, TARGET_HOME)
        if how == "registry":
            argv = CHECK + [f"--registry={value}"]
        elif how == "fix":
            argv = FIX + ["--", value]
        else:
            argv = FIX + [f"--registry={value}"]
        _assert_target_run(home.run(argv), argv)


# -- hand-picked hostile inputs --------------------------------------------------------------


HOSTILE = [
    b"",
    b" \n\t",
    b"\xef\xbb\xbf",
    b"\xef\xbb\xbf{}",
    b"\xff\xfe{\x00}\x00",
    b"null",
    b"[]",
    b'"auths"',
    b"{" * 600,
    b"[" * 600 + b"]" * 600,
    b'{"auths":' * 400 + b"{}" + b"}" * 400,
    b'{"auths": {"x": {"auth": "' + b"A" * 100_000 + b'"}}}',
    b'{"auths": {"x": {"auth": "\\ud800"}}}',
    b'{"auths": {"\\ud800": {"auth": "bWU6cHc="}}}',
    b'{"auths": {"x": {"auth": "bWU6cHc=", "auth": "bWU6cHc="}}, "auths": {}}',
    b'{"auths": {"x": {"auth": "bWU6cHc="}}, "credsStore": "hdfuzz-nope", "credHelpers": {"x": "hdfuzz-nope"}}',
    b'{"auths": {"x": {"username": "a", "password": "b\\n"}}}',
    b'{"auths": {"x": {"auth": 1e400}}}',
    b'{"auths": {"x": {"auth": NaN}}}',
    b'{"auths": {"x": {}}}\x00',
    b"\x00" * 64,
]


def test_hostile_inputs_everywhere() -> None:
    for data in HOSTILE:
        for place in ALL_PLACES:
            with _TempHome() as home:
                if place == ENV_PLACE:
                    text = data.decode("utf-8", "replace").replace("\x00", "")
                    if not text:
                        continue
                    r = home.run(CHECK, {ENV_PLACE: text})
                else:
                    _write(home, place, data, 0o644)
                    r = home.run(CHECK)
                try:
                    assert_check_ok(r)
                except AssertionError as exc:
                    raise AssertionError(f"{place} = {data[:80]!r}: {exc}") from None


def test_file_larger_than_the_cap_is_a_finding() -> None:
    with _TempHome() as home:
        _write(home, "docker", b'{"auths": {}, "x": "' + b"a" * (5 * 1024 * 1024) + b'"}')
        report = assert_check_ok(home.run(CHECK))
        assert any(f["rule"] == "HD003" for f in report["findings"]), report["findings"]


def test_places_that_are_directories_or_dangling_links() -> None:
    with _TempHome() as home:
        for rel in PLACES.values():
            (home.path / rel).mkdir(parents=True)
        report = assert_check_ok(home.run(CHECK))
        assert any(f["rule"] == "HD003" for f in report["findings"]), report["findings"]
    with _TempHome() as home:
        for rel in PLACES.values():
            path = home.path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(home.path / "nowhere" / rel)
        assert_check_ok(home.run(CHECK))
        assert_fix_ok(home.run(FIX + ["--apply"]), applied=True)


# -- regressions: bugs the fuzz tests found -----------------------------------------------------


@pytest.mark.parametrize("secret", ["true", "clients", "error"])
def test_common_word_secret_keeps_json_report_valid(secret: str) -> None:
    """A secret equal to a word of the report (``true``, a rule name...) is
    scrubbed from values, never from the JSON syntax or the vocabulary."""
    with _TempHome() as home:
        doc = {"auths": {"hdfuzz.example": {"username": "me", "password": secret},
                         "y.hdfuzz.example": {"identitytoken": secret + "s"}}}
        _write(home, "docker", json.dumps(doc).encode(), 0o644)
        r = home.run(CHECK)
        assert r.rc in (0, 1), str(r)
        assert_valid_report(r.json())
        assert_fix_ok(home.run(FIX))


@pytest.mark.parametrize(
    "argv",
    [["check", "--registry=--"], ["check", "--ecosystem=--"], ["fix", "--only=--"],
     ["check", "--harness-host=--"], ["check", "--manifests=--"]],
    ids=" ".join,
)
def test_option_equals_double_dash_is_a_usage_error(argv: list[str]) -> None:
    """argparse (3.11) turns ``--opt=--`` into an empty list, not a string."""
    with _TempHome() as home:
        r = home.run([*argv, "--offline"])
        assert_no_traceback(r)
        assert "internal error" not in r.err, str(r)
        assert r.rc == 2 and r.err.startswith("hardoctor: error: "), str(r)


def test_fix_keeps_namespaced_containers_keys() -> None:
    """``host/namespace`` is a containers/image scope, not a URL: renaming it
    to the bare host would widen what the credential applies to."""
    with _TempHome() as home:
        doc = {"auths": {"pkg.harness.io/acctx1": {"auth": base64.b64encode(b"me:pw-hdfuzz").decode()}}}
        text = json.dumps(doc, indent=2) + "\n"
        path = _write(home, "containers", text.encode())
        report = assert_check_ok(home.run(CHECK))
        assert not [f for f in report["findings"] if f["rule"] == "DKR014"], report["findings"]
        assert_fix_ok(home.run(FIX + ["--apply"]), applied=True)
        assert path.read_text(encoding="utf-8") == text
