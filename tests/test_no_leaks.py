"""No secret leaks (issue 2, "Done means").

``tests/fixtures/leak-home`` is a HOME whose every secret is an obviously
fake canary (``hdcanary-...``): a Docker config with ``auth``,
``username``/``password``, ``identitytoken``, ``registrytoken``, a password
with a trailing newline, Harness-shaped PAT/SAT values, duplicate and
URL-form keys; a containers ``auth.json`` (with a JWT built here, at test
time); a Helm registry config whose ``credsStore`` is the fake helper
``bin/docker-credential-hdcanary``; a legacy ``~/.dockercfg`` with an
``auth`` that is not base64 (its raw value is a canary); and
``broken-docker/``, a config that Docker cannot load (wrong type, misspelt
key, bad base64, a JSON-escaped password), used through ``DOCKER_CONFIG``.
``DOCKER_AUTH_CONFIG`` holds more canaries.

Every command and format runs over it -- in-process and in a real
subprocess -- and no canary may appear in stdout, stderr or an ``--output``
file: neither the value, nor its standard or URL-safe base64 (with and
without padding), nor the base64 of ``user:value``, nor its JSON-escaped
form.  The config files themselves and the fix backups hold secrets by
design and are not checked.  ``repr``/``str`` of every model object the
engine produces must not show one either.

Each in-process run starts with :mod:`hardoctor.redact` empty (and puts it
back afterwards), as a fresh process does: a value registered by an
earlier run would otherwise be scrubbed and hide a leak.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import io
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
import pytest
from tests.helpers import (
    Result,
    _swapped_os_environ,
    assert_no_traceback,
    assert_valid_report,
    copy_fixture,
    isolated_environ,
    run_cli,
    run_subprocess,
)

from hardoctor import redact
from hardoctor.model import Secret, fingerprint

FIXTURE = "leak-home"
HELPER = "bin/docker-credential-hdcanary"
JWT_PLACEHOLDER = "@@JWT_AUTH@@"

PAT = "pat.AcctX1.tokid01.hdcanarysecretpat0001"
SAT = "sat.AcctX1.tokid02.hdcanarysecretsat0002"
ESCAPED_RAW = r"hdcanary-\u0065sc\"aped\\-0016"  # as written in broken-docker/config.json
ESCAPED = 'hdcanary-esc"aped\\-0016'  # what it decodes to
HELPER_SECRET = "hdcanary-helpersecret-0021"
ENV_SECRET = "hdcanary-envauth-0017"
URL_PASSWORD = "hdcanary-urlpass-0022"

#: (user or None, secret) for every secret the fixture holds.  A user means
#: the secret is stored as base64 of ``user:secret`` somewhere.
STATIC_SECRETS: list[tuple[str | None, str]] = [
    ("dev@acme.io", PAT),
    (None, "hdcanarysecretpat0001"),  # the secret part of the PAT alone
    ("plainuser", "hdcanary-plainpass-0002"),
    ("idtoken-user", "hdcanary-identity-0003"),
    (None, "hdcanary-registrytoken-0004"),
    ("ci-bot", "hdcanary-newlinepass-0005\n"),
    ("ci-bot", "hdcanary-newlinepass-0005"),
    ("urluser", "hdcanary-urlkeypass-0006"),
    ("urluser", "hdcanary-unusedpass-0007"),
    ("sat-user", SAT),
    (None, "hdcanarysecretsat0002"),
    ("dupuser", "hdcanary-duppass-0008"),
    ("hubuser", "hdcanary-hubpass-0009"),
    ("podman-user", "hdcanary-podpass-0010"),
    ("helmuser", "hdcanary-helmpass-0011"),
    ("legacyuser", "hdcanary-legacypass-0012"),
    (None, "hdcanary-badbase64-0013!"),
    ("brokenuser", "hdcanary-brokenpass-0014"),
    (None, "hdcanary-badbase64-0015?"),
    ("escuser", ESCAPED),
    (None, ESCAPED_RAW),
    ("ci-user", ENV_SECRET),
    (None, "hdcanary-helperstderr-0018"),
    (None, "hdcanary-helperfail-0019"),
    (None, "hdcanary-helpergarbage-0020"),
    ("hdhelper-user", HELPER_SECRET),
    ("me", URL_PASSWORD),
]

#: Registries named in the fixture, for ``check TARGET``.
TARGETS = [
    "pkg.harness.io/acctx1/docker-prod/web:1.4",
    "pkg.harness.io",
    "registry.example.com",
    "idtoken.example.com/team/app@sha256:" + "ab" * 32,
    "regtoken.example.com",
    "newline.example.com/app:1",
    "https://urlkey.example.com/v2/",
    "sat.example.com",
    "dup.example.com",
    "docker.io/library/nginx:latest",
    "helper.example",
    "fail.example",
    "garbage.example",
    "notfound.example",
    "store.example.com",
    "helm.example.com",
    "legacy.example.com",
    "jwt.example.com/img:2",
    "jwt-env.example.com",
    "ci.example.com",
]


# -- canaries ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def make_jwt() -> str:
    """A JWT built with PyJWT (HS256; the key is not a canary, the token is)."""
    now = int(time.time())
    claims = {"iss": "hd-leak-test", "sub": "hdjwt-user", "iat": now, "exp": now + 3600,
              "jti": "hd-jwtid-0023"}
    return jwt.encode(claims, "hd-leak-test-signing-key-not-a-canary", algorithm="HS256")


def _b64_forms(raw: bytes) -> set[str]:
    std = base64.b64encode(raw).decode()
    url = base64.urlsafe_b64encode(raw).decode()
    return {std, std.rstrip("="), url, url.rstrip("=")}


def canary_forms(value: str, user: str | None = None) -> set[str]:
    """The value, its base64 forms, those of ``user:value``, and the
    JSON-escaped form of each (how a leak would look in a JSON report)."""
    forms = {value} | _b64_forms(value.encode("utf-8"))
    if user is not None:
        forms |= _b64_forms(f"{user}:{value}".encode())
    escaped = set()
    for form in forms:
        escaped.add(json.dumps(form)[1:-1])
        escaped.add(json.dumps(form, ensure_ascii=False)[1:-1])
    return {f for f in forms | escaped if len(f) >= 8}


@lru_cache(maxsize=1)
def canaries() -> tuple[str, ...]:
    token = make_jwt()
    secrets = [*STATIC_SECRETS, ("jwtuser", token), (None, token.rsplit(".", 1)[1])]
    out: set[str] = set()
    for user, value in secrets:
        out |= canary_forms(value, user)
    return tuple(sorted(out, key=len, reverse=True))


def find_canaries(text: str) -> list[str]:
    return [c for c in canaries() if c in text]


def assert_no_canary(text: str, what: str) -> None:
    found = find_canaries(text)
    if not found:
        return
    first = found[0]
    at = text.index(first)
    context = text[max(0, at - 200) : at + len(first) + 100]
    raise AssertionError(f"secret leaked in {what}: {found!r}\n--- context:\n{context}")


def assert_clean(r: Result, what: str) -> None:
    assert_no_traceback(r)
    assert_no_canary(r.out, f"stdout of {what}")
    assert_no_canary(r.err, f"stderr of {what}")


# -- the HOME ---------------------------------------------------------------------------


@dataclass
class LeakHome:
    path: Path
    broken: bool = False

    def environ(self, extra: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
        token = make_jwt()
        env: dict[str, str | None] = {
            "PATH": f"{self.path / 'bin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
            "XDG_RUNTIME_DIR": str(self.path / "run"),
            # Every command runs offline: the probe engine is its own issue.
            "HARDOCTOR_OFFLINE": "1",
            "DOCKER_AUTH_CONFIG": json.dumps(
                {
                    "auths": {
                        "ci.example.com": {
                            "auth": base64.b64encode(f"ci-user:{ENV_SECRET}".encode()).decode()
                        },
                        "jwt-env.example.com": {"identitytoken": token},
                    }
                }
            ),
        }
        if self.broken:
            env["DOCKER_CONFIG"] = str(self.path / "broken-docker")
        env.update(extra or {})
        return env

    def run(self, argv: list[str], environ: Mapping[str, str | None] | None = None) -> Result:
        with fresh_redact():
            return run_cli(argv, home=self.path, environ=self.environ(environ))

    def run_subprocess(self, argv: list[str], environ: Mapping[str, str | None] | None = None) -> Result:
        return run_subprocess(argv, home=self.path, environ=self.environ(environ))


@contextlib.contextmanager
def fresh_redact() -> Iterator[None]:
    """Run with redact's registry empty, as in a new process; restore it after."""
    saved = redact.snapshot()
    redact.clear()
    try:
        yield
    finally:
        redact.restore(saved)


def make_leak_home(root: Path, broken: bool = False) -> LeakHome:
    home = root / "home"
    home.mkdir(mode=0o700)
    copy_fixture(FIXTURE, home)
    (home / "run").mkdir(mode=0o700)
    auth_json = home / ".config/containers/auth.json"
    jwt_auth = base64.b64encode(f"jwtuser:{make_jwt()}".encode()).decode()
    auth_json.write_text(auth_json.read_text().replace(JWT_PLACEHOLDER, jwt_auth))
    # git does not keep modes: set them here.
    os.chmod(home / HELPER, 0o755)
    for rel in (".config/containers/auth.json", ".config/helm/registry/config.json", ".dockercfg",
                "broken-docker/config.json"):
        os.chmod(home / rel, 0o600)
    os.chmod(home / ".docker/config.json", 0o644)  # readable by others: DKR013 and its chmod fix
    return LeakHome(home, broken)


@pytest.fixture(params=["home", "broken"])
def leak_home(request: pytest.FixtureRequest, tmp_path: Path) -> LeakHome:
    return make_leak_home(tmp_path, broken=request.param == "broken")


@pytest.fixture
def normal_home(tmp_path: Path) -> LeakHome:
    return make_leak_home(tmp_path)


# -- the fixture is what this test thinks it is -------------------------------------------


def test_fixture_holds_the_canaries(normal_home: LeakHome) -> None:
    """Guard against a vacuous pass: the secrets are really in the files, the
    helper really answers, and hardoctor really reads them (their
    fingerprints, never their values, are in the report)."""
    text = "".join(
        p.read_text(encoding="utf-8")
        for p in sorted(normal_home.path.rglob("*"))
        if p.is_file() and p.suffix in (".json", "") and "bin" not in p.parts
    )
    for user, value in STATIC_SECRETS:
        if value in (ENV_SECRET, URL_PASSWORD, ESCAPED) or "helper" in value:
            continue  # not in a file (environment, command line, helper output)
        if any(value != other and value in other for _, other in STATIC_SECRETS):
            continue  # a part of another secret (PAT/SAT secret part, the fixed password)
        assert canary_forms(value, user) & set(find_canaries(text)), (
            f"{value!r} is not in the fixture"
        )
    r = normal_home.run(["check", "--format", "json"])
    assert r.rc in (0, 1), str(r)
    report = assert_valid_report(r.json())
    fps = {c["secret"]["fingerprint"] for c in report["credentials"]}
    for value in (PAT, SAT, make_jwt(), HELPER_SECRET, ENV_SECRET, "hdcanary-identity-0003",
                  "hdcanary-registrytoken-0004", "hdcanary-newlinepass-0005\n",
                  "hdcanary-plainpass-0002", "hdcanary-helmpass-0011"):
        # Token fingerprints are taken of the cleaned value (whitespace stripped).
        assert {fingerprint(value), fingerprint(value.strip())} & fps, f"no credential holds {value!r}"
    vias = {c["via"] for c in report["credentials"]}
    assert {"credHelpers", "credsStore"} <= vias, vias
    assert_clean(r, "check --format json")


# -- every command and format, in-process ---------------------------------------------------

CHECK_ARGVS = [
    ["check"],
    ["check", "--format", "json"],
    ["check", "--debug"],
    ["check", "--format", "json", "--debug"],
    ["check", "--no-color"],
    ["check", "--fail-on", "never"],
    ["check", "--fail-on", "warning", "--format", "json"],
    ["check", "--ecosystem", "docker"],
    ["check", "--registry", "pkg.harness.io"],
    ["check", "--registry", "helper.example", "--format", "json"],
    ["fix"],
    ["fix", "--format", "json"],
    ["fix", "--unsafe"],
    ["fix", "--unsafe", "--format", "json"],
    ["fix", "--debug", "--unsafe"],
    ["fix", "--only", "DKR004"],
    ["fix", "--only", "DKR", "--format", "json"],
]


@pytest.mark.parametrize("argv", CHECK_ARGVS, ids=" ".join)
def test_check_and_fix_plan(leak_home: LeakHome, argv: list[str]) -> None:
    r = leak_home.run(argv)
    assert r.rc in (0, 1), str(r)
    assert_clean(r, " ".join(argv))
    if argv[0] == "check" and "json" in argv:
        assert_valid_report(r.json())
    if argv[0] == "fix" and "--only" not in argv:
        # The diff is where file content (and so secrets) would show.
        assert ("--- a/" in r.out) or ("---" in r.json().get("diff", "")), str(r)


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("command", ["check", "fix"])
def test_output_file(leak_home: LeakHome, tmp_path: Path, command: str, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    argv = [command, "--format", fmt, "--output", str(out)] + (["--unsafe"] if command == "fix" else [])
    r = leak_home.run(argv)
    assert r.rc in (0, 1), str(r)
    assert_clean(r, " ".join(argv))
    written = out.read_text(encoding="utf-8")
    assert written, "nothing written to --output"
    assert_no_canary(written, f"--output of {' '.join(argv)}")
    if command == "check" and fmt == "json":
        assert_valid_report(written)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_check_targets(leak_home: LeakHome, fmt: str) -> None:
    for target in TARGETS:
        argv = ["check", "--format", fmt, target]
        r = leak_home.run(argv)
        assert r.rc in (0, 1), str(r)
        assert_clean(r, " ".join(argv))
    argv = ["fix", "--format", fmt, "--unsafe", *TARGETS]
    r = leak_home.run(argv)
    assert r.rc in (0, 1), str(r)
    assert_clean(r, " ".join(argv))


def test_fix_apply_and_undo(leak_home: LeakHome, tmp_path: Path) -> None:
    """Apply, apply again, apply the unsafe ones, undo twice: every output
    (and the --output files) clean.  The configs and the backups are not
    checked: they hold the secrets by design."""
    steps = [
        ["fix", "--apply", "--output", str(tmp_path / "apply.txt")],
        ["fix", "--apply"],
        ["fix", "--apply", "--unsafe", "--format", "json", "--output", str(tmp_path / "apply.json")],
        ["check"],
        ["check", "--format", "json"],
        ["fix", "--undo"],
        ["fix", "--undo"],
        ["fix", "--undo"],
        ["fix", "--apply", "--unsafe", "--debug"],
        ["check", "--debug"],
    ]
    for i, argv in enumerate(steps):
        r = leak_home.run(argv)
        assert r.rc in ((0,) if i == 0 else (0, 1)), f"{argv}: {r}"
        assert_clean(r, " ".join(argv))
    for name in ("apply.txt", "apply.json"):
        written = (tmp_path / name).read_text(encoding="utf-8")
        assert written, f"nothing written to {name}"
        assert_no_canary(written, f"--output {name}")
    applied = json.loads((tmp_path / "apply.json").read_text(encoding="utf-8"))
    assert applied["applied"] is True


# -- the small commands and usage errors -------------------------------------------------------


def test_rules_explain_plugins_version(normal_home: LeakHome) -> None:
    r = normal_home.run(["rules", "--format", "json"])
    assert r.rc == 0, str(r)
    codes = [rule["code"] for rule in r.json()]
    assert codes
    argvs = [["rules"], ["plugins"], ["plugins", "--format", "json"], ["--version"], ["-V"]]
    argvs += [["explain", code] for code in codes]
    for argv in argvs:
        r = normal_home.run(argv)
        assert r.rc == 0, f"{argv}: {r}"
        assert_clean(r, " ".join(argv))


USAGE_ERRORS = [
    [],
    ["frobnicate"],
    ["check", "--bogus"],
    ["check", "--format", "xml"],
    ["check", "--timeout", "-1"],
    ["check", "--fail-on", "sometimes"],
    ["explain", "NOPE999"],
    ["fix", "--only", "ZZZ999"],
    ["check", "not a target at all \u2603"],
]


@pytest.mark.parametrize("argv", USAGE_ERRORS, ids=lambda a: " ".join(a) or "no-args")
def test_usage_errors(leak_home: LeakHome, argv: list[str]) -> None:
    r = leak_home.run(argv)
    assert r.rc in (0, 1, 2), str(r)
    assert_clean(r, " ".join(argv))


# -- a real process (logging, warnings, the real stderr) -----------------------------------------

SUBPROCESS_ARGVS = [
    ["check", "--debug"],
    ["check", "--format", "json", "pkg.harness.io/acctx1/docker-prod/web:1.4", "helper.example"],
    ["fix", "--unsafe", "--debug"],
    ["fix", "--apply", "--unsafe", "--format", "json"],
    ["fix", "--undo"],
    ["check", "--bogus"],
]


def test_subprocess(leak_home: LeakHome, tmp_path: Path) -> None:
    for argv in SUBPROCESS_ARGVS:
        r = leak_home.run_subprocess(argv, {"PYTHONWARNINGS": "always"})
        assert r.rc in (0, 1, 2), f"{argv}: {r}"
        assert_clean(r, "subprocess " + " ".join(argv))
    out = tmp_path / "sub.json"
    r = leak_home.run_subprocess(["check", "--format", "json", "--output", str(out)])
    assert r.rc in (0, 1), str(r)
    assert_clean(r, "subprocess check --output")
    assert_no_canary(out.read_text(encoding="utf-8"), "subprocess --output file")


# -- the objects themselves ----------------------------------------------------------------------


def _engine_run(home: LeakHome, argv: list[str]) -> list[Any]:
    """What the engine produces for ``argv``, run exactly as cli.py runs it:
    the report (for ``fix``: the first pass's report, whose findings carry
    the fixes and edits, then the fixed state's report and the plan) and
    the run's typed state."""
    from hardoctor import engine
    from hardoctor.cli import _manager, build_parser, options_from_args
    from hardoctor.commands import plan_fixes
    from hardoctor.context import Context
    from hardoctor.env import Environment

    env_vars = isolated_environ(home.path, home.environ())
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(),
                      environ=env_vars, cwd=str(home.path), home=str(home.path))
    with _swapped_os_environ(env_vars), fresh_redact():
        manager = _manager(env, argv)
        formats: list[str] = []
        for _, names in manager.call("hardoctor_report_formats"):
            formats.extend(n for n in names if n not in formats)
        ns = build_parser(formats, manager).parse_args(argv)
        options = options_from_args(ns, env)
        ctx = Context(options, env, manager.rules, manager)
        out = [engine.run(ctx, manager), _state(ctx)]
        if options.command == "fix":
            ctx = Context(options, env, manager.rules, manager)
            report, plan, _ = plan_fixes(ctx, manager)
            out += [report, plan, _state(ctx)]
        return out


def _state(ctx: Any) -> dict[str, Any]:
    """The run's typed state (every plugin's StashKey values)."""
    return {key.name or repr(key): value for key, value in ctx.stash.items()}


def _shown(obj: Any, seen: set[int] | None = None) -> Iterator[Any]:
    """Every object reachable through fields that ``repr`` shows."""
    seen = set() if seen is None else seen
    if id(obj) in seen or obj is None or isinstance(obj, (str, int, float, bool, bytes)):
        return
    seen.add(id(obj))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        yield obj
        for f in dataclasses.fields(obj):
            if f.repr:
                yield from _shown(getattr(obj, f.name), seen)
    elif isinstance(obj, Secret):
        yield obj
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _shown(k, seen)
            yield from _shown(v, seen)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for item in obj:
            yield from _shown(item, seen)


@pytest.mark.parametrize("argv", [["check"], ["check", *TARGETS], ["fix", "--unsafe"]], ids=" ".join)
def test_model_objects_never_show_secrets(leak_home: LeakHome, argv: list[str]) -> None:
    produced = _engine_run(leak_home, argv)
    report = produced[0]
    assert report.credentials, "the engine found no credentials: the test would prove nothing"
    objects = [obj for top in produced for obj in [top, *_shown(top)]]
    kinds = {type(o).__name__ for o in objects}
    assert {"Credential", "Secret", "Source", "Finding", "Fix", "Edit", "Resolution"} <= kinds, kinds
    problems = []
    for obj in objects:
        for how, text in (("repr", repr(obj)), ("str", str(obj)), ("format", f"{obj}")):
            found = find_canaries(text)
            if found:
                problems.append(f"{how}({type(obj).__name__}) shows {found[0]!r}: {text[:300]}")
    assert not problems, "\n".join(dict.fromkeys(problems))


# -- secrets typed on the command line ------------------------------------------------------------


def test_target_url_with_userinfo_is_not_echoed(normal_home: LeakHome) -> None:
    """A registry URL pasted with its credentials (``https://user:token@host``)
    is not shown back in any report."""
    target = f"https://me:{URL_PASSWORD}@pkg.harness.io/v2/"
    for argv in (["check", target], ["check", "--format", "json", target],
                 ["check", "--registry", target, "--format", "json"]):
        r = normal_home.run(argv)
        assert r.rc in (0, 1, 2), str(r)
        assert_clean(r, " ".join(a.replace(URL_PASSWORD, "***") for a in argv))


# -- regressions: leaks this file found -----------------------------------------------------------


@pytest.mark.parametrize(
    ("broken", "secret"),
    [(False, "hdcanary-unusedpass-0007"), (True, ESCAPED_RAW)],
    ids=["field-the-client-ignores", "json-escaped-in-file"],
)
def test_fix_diff_hides_every_secret_as_written(tmp_path: Path, broken: bool, secret: str) -> None:
    """The diff shows the file's own text: a secret there is scrubbed even
    when no client uses it (a ``password`` next to an ``auth``) and when it is
    written with JSON escapes (``\\u0065``, ``\\"``)."""
    home = make_leak_home(tmp_path, broken=broken)
    forms = canary_forms(secret)
    for argv in (["fix", "--unsafe"], ["fix", "--unsafe", "--format", "json"]):
        r = home.run(argv)
        assert r.rc in (0, 1), str(r)
        assert "--- a/" in r.out or "--- a/" in r.json()["diff"], str(r)
        leaked = [c for c in forms if c in r.out or c in r.err]
        assert not leaked, f"{' '.join(argv)} shows {leaked[0]!r}:\n{r.out}"
