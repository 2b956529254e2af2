"""pip at the edges (issue 15), with real pip against a real pypiserver.

* An index URL with a user name only (``http://dev@host/simple``) and the
  password in ``.netrc``: pip downloads with the netrc password, so nothing
  may be wrong -- in particular no "token is empty" for the URL's empty
  password slot, which pip never sends.
* ``machine localhost`` in ``.netrc`` while the index is on ``127.0.0.1``
  (and the other loopback spellings): the credential exists under another
  name.  pip fails; hardoctor must say ``credential-not-matched`` at
  ``.netrc:1``, its fix must make the same pip succeed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import run_cli
from tests.servers.pypiserver import PypiServer, pip_download
from tests.test_pip_e2e import PASSWORD, USER, check, hd_env, netrc, pip_conf, pypi

pytestmark = pytest.mark.live
__all__ = ["pypi"]  # the module-scoped server fixture


def test_username_only_url_with_netrc_password_is_healthy(pypi: PypiServer, home: Path) -> None:
    pip_conf(home, f"[global]\nindex-url = http://dev%40example.test@{pypi.host}/simple\n")
    netrc(home, f"machine 127.0.0.1\n  login {USER}\n  password {PASSWORD}\n")
    assert pip_download(home, "hdtestpkg").returncode == 0
    for extra in ((), ("--offline",)):
        report = check(home, "pip:hdtestpkg", *extra)
        bad = [f for f in report["findings"] if f["severity"] != "info"]
        assert bad == [], bad
        assert not [f for f in report["findings"] if f["rule"].startswith("TOK")]
    res = run_cli(["check", "--ecosystem", "pip", "--timeout", "10", "pip:hdtestpkg"],
                  home=home, environ=hd_env(home))
    assert res.rc == 0 and "✗" not in res.out, res


@pytest.mark.parametrize(("machine", "index_host"), [
    ("localhost", "127.0.0.1"),
    ("[::1]", "127.0.0.1"),
    ("127.0.0.1", "localhost"),
])
def test_netrc_loopback_alias_is_credential_not_matched(
        pypi: PypiServer, home: Path, machine: str, index_host: str) -> None:
    port = pypi.host.rsplit(":", 1)[1]
    pip_conf(home, f"[global]\nindex-url = http://{index_host}:{port}/simple\n")
    netrc(home, f"machine {machine}\n  login {USER}\n  password {PASSWORD}\n")
    assert pip_download(home, "hdtestpkg").returncode != 0

    report = check(home, "pip:hdtestpkg")
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [f["cause"] for f in errors] == ["credential-not-matched"], errors
    (f,) = errors
    assert f["rule"] == "PIP038" and f["location"]["path"].endswith(".netrc")
    assert f["location"]["line"] == 1 and machine in f["message"] and index_host in f["message"]
    assert f["fix"]["available"] and f["fix"]["applicability"] == "safe"
    assert PASSWORD not in str(report)

    fixed = run_cli(["fix", "--apply", "--ecosystem", "pip", "--timeout", "10"], home=home,
                    environ=hd_env(home))
    assert fixed.rc == 0, fixed
    assert f"machine {index_host}" in (home / ".netrc").read_text()
    assert pip_download(home, "hdtestpkg").returncode == 0
    after = check(home, "pip:hdtestpkg")
    assert not [f for f in after["findings"] if f["severity"] != "info"], after["findings"]
