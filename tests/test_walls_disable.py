"""Any plugin can be disabled without another one failing or lying (issue 12).

Failing setups of every ecosystem are checked with each plugin disabled in
turn: never an HD finding (a plugin raising because another is missing),
never a ✓ next to a registry that has an error, and the right cause still
named wherever the plugin that owns it is loaded.  (The online Kubernetes
story against a real registry is tests/test_walls_k8s.py.)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from tests.helpers import assert_valid_report, copy_fixture, run_cli

PLUGINS = ("docker", "harness", "k8s", "maven", "npm", "oci", "pip")


@dataclass(frozen=True)
class Setup:
    name: str
    #: The cause that must be named, and the plugins it takes: the client
    #: plugin that reads the file and the one whose knowledge the cause is.
    cause: str
    needs: tuple[str, ...]
    fixture: str | None = None
    manifests: bool = False


SETUPS = (
    Setup("docker-bad-base64", "token-malformed", ("docker",), fixture="docker-bad-base64"),
    Setup("docker-trailing-newline", "token-malformed", ("docker",),
          fixture="docker-trailing-newline"),
    Setup("pip-har-account-mismatch", "account-mismatch", ("pip", "harness"),
          fixture="pip-har-account-mismatch"),
    Setup("pip-netrc-invalid", "config-invalid", ("pip",), fixture="pip-netrc-invalid"),
    Setup("maven-har-account-mismatch", "account-mismatch", ("maven", "harness"),
          fixture="maven-har-account-mismatch"),
    Setup("k8s-auth-malformed", "token-malformed", ("k8s",), fixture="k8s-auth-malformed",
          manifests=True),
    # An expired JWT as an npm token: the generic token checks (core) know it.
    Setup("npm-expired-jwt", "token-expired", ("npm",)),
)


def _expired_jwt() -> str:
    past = datetime.now(timezone.utc) - timedelta(days=3)
    return jwt.encode({"sub": "ci", "exp": int(past.timestamp())}, "k" * 32, algorithm="HS256")


def _home(setup: Setup, home: Path) -> Path:
    if setup.fixture is not None:
        return copy_fixture(setup.fixture, home)
    (home / ".npmrc").write_text(
        "registry=https://npm.example.test/\n"
        f"//npm.example.test/:_authToken={_expired_jwt()}\n"
    )
    (home / ".npmrc").chmod(0o600)
    return home


def _check(setup: Setup, home: Path, disabled: str | None, fmt: str) -> tuple[int, str]:
    argv = ["check", "--offline", "--format", fmt]
    if setup.manifests:
        argv += ["--manifests", str(home / "manifests")]
    if disabled:
        argv += ["--disable-plugin", disabled]
    r = run_cli(argv, home=home, cwd=home)
    return r.rc, r.out


@pytest.mark.parametrize("disabled", [None, *PLUGINS])
@pytest.mark.parametrize("setup", SETUPS, ids=[s.name for s in SETUPS])
def test_disabling_a_plugin_never_breaks_or_lies(setup: Setup, disabled: str | None,
                                                  tmp_path: Path) -> None:
    home = _home(setup, tmp_path)
    rc, out = _check(setup, home, disabled, "json")
    if setup.manifests and disabled == "k8s":
        # --manifests is the Kubernetes plugin's own option: without the
        # plugin it is an unknown option (exit 2), never a silent pass.
        assert rc == 2 and out == ""
        return
    report = assert_valid_report(out)
    findings = report["findings"]
    assert not [f for f in findings if f["rule"].startswith("HD")], json.dumps(findings, indent=1)
    errors = [f for f in findings if f["severity"] == "error"]
    if disabled not in setup.needs:
        assert any(f["cause"] == setup.cause for f in errors), json.dumps(findings, indent=1)
        assert rc == 1
    # Never a ✓ for a registry that has an error.
    rc_text, text = _check(setup, home, disabled, "text")
    assert rc_text == rc
    failing = {f["registry"] for f in errors if f["registry"]}
    for line in text.splitlines():
        m = re.match(r"^✓ (\S+)", line)
        if m:
            assert m.group(1) not in failing, text
