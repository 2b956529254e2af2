"""npm at the edges (issue 15), with real npm against a real verdaccio: an
auth key for another name of the same registry (``//localhost:PORT/`` while
the registry is ``http://127.0.0.1:PORT/``).  npm fails with E401; hardoctor
must say ``credential-not-matched`` at the key's line, and its safe fix (a
copy of the key under the name npm looks up) must make the same npm work.
"""

from __future__ import annotations

import pytest
from tests.helpers import run_cli
from tests.test_npm_e2e import Box, Reg, box, hd, npm, reg

pytestmark = pytest.mark.live
__all__ = ["box", "reg"]  # the fixtures


def test_nerf_dart_for_another_name_of_the_registry(reg: Reg, box: Box) -> None:
    port = reg.host.rsplit(":", 1)[1]
    box.npmrc.write_text(f"registry={reg.url}\n//localhost:{port}/:_authToken={reg.token}\n")
    box.npmrc.chmod(0o600)
    before = npm(box, "view", "hd-demo", "version")
    assert before.returncode != 0 and "E401" in before.stderr

    report = hd(box, "check", "npm:hd-demo")
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [f["cause"] for f in errors] == ["credential-not-matched"], errors
    f = errors[0]
    assert f["location"]["path"].endswith(".npmrc") and f["location"]["line"] == 2
    assert f"//localhost:{port}/" in f["message"] and "same registry" in f["message"]
    assert f["fix"]["available"] and f["fix"]["applicability"] == "safe"
    assert reg.token not in str(report)
    # Without a target hardoctor checks the registry itself, where verdaccio's
    # whoami answers 200 to anyone: still not a ✓ while the key is a near miss.
    plain = run_cli(["check", "--project", str(box.proj)], home=box.home, cwd=box.proj,
                    environ=box.env)
    assert not [ln for ln in plain.out.splitlines() if ln.startswith("✓")], plain.out

    fixed = run_cli(["fix", "--apply", "--project", str(box.proj), "--timeout", "10"],
                    home=box.home, cwd=box.proj, environ=box.env)
    assert fixed.rc == 0, fixed
    assert f"//localhost:{port}/:_authToken=" in box.npmrc.read_text()  # the old key stays
    assert npm(box, "view", "hd-demo", "version").stdout.strip() == "1.0.0"
    after = hd(box, "check", "npm:hd-demo")
    assert not [f for f in after["findings"] if f["severity"] == "error"], after["findings"]
