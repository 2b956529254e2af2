"""`hardoctor tokens`: every stored credential across every client, with
fingerprints and expiry, grouped by token, sorted by expiry, in text, JSON
(hardoctor/tokens/v1, validated) and OpenMetrics; exit 1 on an expired
token; never a secret."""

from __future__ import annotations

import base64
import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import jwt
import pytest
from tests.helpers import run_cli

from hardoctor.inventory import schema_path
from hardoctor.model import fingerprint

NOW = datetime.now(timezone.utc)
DOCKER_PASS = "CANARY-docker-pass-7f3e9"
PIP_PASS = "CANARY-pip-pass-2b8d1"


def _jwt(sub: str, days: float) -> str:
    return jwt.encode({"sub": sub, "exp": int((NOW + timedelta(days=days)).timestamp())},
                      "test-key-not-a-secret-but-long-enough-for-hs256", algorithm="HS256")


FRESH = _jwt("alice", 20)
EXPIRED = _jwt("bob", -3)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    (h / ".docker").mkdir(parents=True)
    (h / ".config" / "pip").mkdir(parents=True)
    (h / "work").mkdir()
    (h / ".npmrc").write_text(
        f"//registry.npmjs.org/:_authToken={FRESH}\n//npm.example.com/:_authToken={EXPIRED}\n")
    auth = base64.b64encode(f"ci-bot:{DOCKER_PASS}".encode()).decode()
    (h / ".docker" / "config.json").write_text(json.dumps(
        {"auths": {"registry.example.com": {"auth": auth}, "mirror.example.com": {"auth": auth}}},
        indent=2))
    (h / ".config" / "pip" / "pip.conf").write_text(
        f"[global]\nindex-url = https://pyuser:{PIP_PASS}@pypi.example.com/simple/\n")
    for p in (h / ".npmrc", h / ".docker" / "config.json", h / ".config" / "pip" / "pip.conf"):
        os.chmod(p, 0o600)
    return h


def _run(home: Path, *args: str, **env: str) -> object:
    return run_cli(["tokens", *args], home=home, cwd=home / "work", environ=env or None)


def _no_secret(text: str) -> None:
    for value in (FRESH, EXPIRED, DOCKER_PASS, PIP_PASS, FRESH.split(".")[1], EXPIRED.split(".")[2]):
        assert value not in text


def test_json_lists_every_credential_with_expiry_and_validates(home: Path) -> None:
    r = _run(home, "--format", "json")
    assert r.rc == 1, str(r)  # one token is expired
    doc = json.loads(r.out)
    with open(schema_path(), encoding="utf-8") as fh:
        jsonschema.validate(doc, json.load(fh))
    assert doc["schema"] == "hardoctor/tokens/v1"
    _no_secret(r.out + r.err)
    by_fp = {t["fingerprint"]: t for t in doc["tokens"]}
    fresh, old = by_fp[fingerprint(FRESH)], by_fp[fingerprint(EXPIRED)]
    assert fresh["status"] == "valid" and 19 < fresh["days_left"] <= 20
    assert fresh["expiry_source"] == "token" and fresh["expires_at"].startswith(
        (NOW + timedelta(days=20)).strftime("%Y-%m-%d")[:7])
    assert old["status"] == "expired" and old["days_left"] < 0
    assert fresh["copies"][0]["location"]["line"] == 1
    assert old["copies"][0]["location"]["line"] == 2
    # the sooner expiry first; unknown expiry last
    order = [t["fingerprint"] for t in doc["tokens"]]
    assert order.index(old["fingerprint"]) < order.index(fresh["fingerprint"])
    assert doc["tokens"][-1]["expires_at"] is None
    # the docker password stored for two registries is one token with two copies
    docker = [t for t in doc["tokens"] if any(c["ecosystem"] == "docker" for c in t["copies"])]
    assert len(docker) == 1 and len(docker[0]["copies"]) == 2
    assert {c["registry"] for c in docker[0]["copies"]} == {"registry.example.com", "mirror.example.com"}
    assert docker[0]["account"] == "ci-bot"
    # pip's URL credential is there too
    assert any(c["ecosystem"] == "python" or "pypi.example.com" in c["registry"]
               for t in doc["tokens"] for c in t["copies"])


def test_text_table_shows_fingerprints_and_no_secret(home: Path) -> None:
    r = _run(home, COLUMNS="80")
    assert r.rc == 1
    for value in (FRESH, EXPIRED):
        assert f"#{fingerprint(value)}" in r.out
    assert "expired" in r.out and "valid" in r.out
    assert "~/.npmrc:2" in r.out and "~/.docker/config.json" in r.out
    _no_secret(r.out + r.err)
    assert max(len(line) for line in r.out.splitlines()) <= 80
    lines = r.out.splitlines()
    assert lines.index(next(x for x in lines if fingerprint(EXPIRED) in x)) < lines.index(
        next(x for x in lines if fingerprint(FRESH) in x))


def test_fail_on(home: Path) -> None:
    assert _run(home, "--fail-on", "never").rc == 0
    (home / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={_jwt('a', 3)}\n")
    assert _run(home).rc == 0  # expiring within 7 days is a warning
    assert _run(home, "--fail-on", "warning").rc == 1
    assert _run(home, "--fail-on", "warning", "--expiry-warning", "1").rc == 0


def test_openmetrics(home: Path) -> None:
    r = _run(home, "--format", "openmetrics")
    assert r.out.rstrip().endswith("# EOF")
    assert f'fingerprint="{fingerprint(FRESH)}"' in r.out
    assert re.search(r"^hardoctor_credential_expiry_timestamp_seconds\{.*\} \d+$", r.out, re.M)
    _no_secret(r.out)


def test_scope_options_narrow(home: Path) -> None:
    r = _run(home, "--format", "json", "--ecosystem", "npm")
    eco = {c["ecosystem"] for t in json.loads(r.out)["tokens"] for c in t["copies"]}
    assert eco == {"npm"}
    r = _run(home, "--format", "json", "--registry", "registry.example.com")
    regs = {c["host"] for t in json.loads(r.out)["tokens"] for c in t["copies"]}
    assert regs == {"registry.example.com"}


def test_no_vendor_wording_for_a_plain_registry(home: Path) -> None:
    r = _run(home, "--format", "json")
    for t in json.loads(r.out)["tokens"]:
        if any(c["host"] in ("registry.example.com", "npm.example.com") for c in t["copies"]):
            assert t["vendor"] is None
    assert "Harness" not in _run(home).out


def test_empty_home(tmp_path: Path) -> None:
    r = run_cli(["tokens"], home=tmp_path)
    assert r.rc == 0 and r.out.startswith("0 tokens")
