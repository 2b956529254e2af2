"""Fixtures shared by the whole suite.

Deliberately absent: an autouse fixture calling ``hardoctor.redact.clear()``.
Secrets registered by one test stay registered, exactly as they would in one
long run; clearing them would hide a leak behind a test boundary.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    # `from tests.helpers import ...` and `from tests.servers import ...` work
    # under plain `pytest` too, not only `python -m pytest` from the root.
    sys.path.insert(0, str(ROOT))

from tests.helpers import IN_CI, copy_fixture  # noqa: E402


def pytest_report_header(config: pytest.Config) -> list[str]:
    if IN_CI:
        return ["CI=true: tests needing a missing binary or server FAIL instead of skipping"]
    return ["CI is not set: tests needing a missing binary or server are skipped"]


#: Markers of tests that share one machine-wide resource (a Docker engine,
#: whatever a ``serial`` test says): under pytest-xdist (``-n``, as
#: ``scripts/test`` runs) each group runs on one worker, one test at a time
#: (``--dist loadgroup``); everything else is independent (servers on
#: ephemeral ports, per-test temporary directories) and runs in parallel.
SERIAL_GROUPS = ("dockerd", "serial")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name in SERIAL_GROUPS:
            if item.get_closest_marker(name) is not None:
                item.add_marker(pytest.mark.xdist_group(name))
                break


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty HOME (mode 0700) for one test."""
    path = tmp_path / "home"
    path.mkdir()
    os.chmod(path, 0o700)
    return path


@pytest.fixture
def fixture_home(home: Path) -> Callable[[str], Path]:
    """``fixture_home("name")`` copies ``tests/fixtures/name/`` into ``home``."""

    def copy(name: str) -> Path:
        return copy_fixture(name, home)

    return copy


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on ``sys.path`` for fake plugin distributions written with
    :func:`tests.helpers.make_distribution`; modules imported from it are
    forgotten after the test."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = set(sys.modules)
    yield site
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) or ""
        if origin.startswith(str(site)):
            del sys.modules[name]
