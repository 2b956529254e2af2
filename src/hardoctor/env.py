"""The environment a run sees, injected so tests can swap any part of it.

Like httpie's ``Environment``: streams, environment variables, home and
working directories, and the clock are all here, so no module reads
``os.environ`` or ``datetime.now()`` behind the caller's back.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TextIO

from hardoctor.records import dataclass, field


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Environment:
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO | None = field(default_factory=lambda: sys.stdin)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: str = field(default_factory=os.getcwd)
    home: str = field(default_factory=lambda: os.path.expanduser("~"))
    clock: Callable[[], datetime] = _now
    uid: int = field(default_factory=lambda: os.getuid() if hasattr(os, "getuid") else 0)
    #: ``sys.platform`` of the machine the clients run on (``linux``,
    #: ``darwin``, ``win32``): where each client looks for its files.
    #: Injected by tests to check the macOS and Windows rules on Linux.
    platform: str = field(default_factory=lambda: sys.platform)

    @property
    def windows(self) -> bool:
        return self.platform == "win32"

    @property
    def macos(self) -> bool:
        return self.platform == "darwin"

    @property
    def stdout_isatty(self) -> bool:
        try:
            return self.stdout.isatty()
        except (AttributeError, ValueError):
            return False

    @property
    def stderr_isatty(self) -> bool:
        try:
            return self.stderr.isatty()
        except (AttributeError, ValueError):
            return False

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.environ.get(name, default)

    def expand_home(self, path: str) -> str:
        if path == "~" or path.startswith("~/") or (self.windows and path.startswith("~\\")):
            return self.home + path[1:]
        return path

    def appdata(self) -> str:
        """Windows' roaming application data folder (``%APPDATA%``, else
        ``~\\AppData\\Roaming``): where pip, npm, uv, Poetry and Helm keep
        their per-user configuration there."""
        value = self.environ.get("APPDATA", "")
        return value if value.strip() else os.path.join(self.home, "AppData", "Roaming")

    def programdata(self) -> str:
        """Windows' machine-wide application data (``%PROGRAMDATA%``)."""
        value = self.environ.get("PROGRAMDATA") or self.environ.get("ALLUSERSPROFILE") or ""
        return value if value.strip() else "C:\\ProgramData"
