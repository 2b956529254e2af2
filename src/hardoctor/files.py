"""Reading configuration files, the one way every plugin should.

``hardoctor fix`` plans in passes: after the first pass's edits, every
plugin looks again at the *edited* text (held in ``ctx.overlay``) so fixes
that touch the same lines converge in one run instead of needing a second
``fix --apply``.  Plugins that read files through :func:`read_file` get that
for free.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hardoctor.context import Context

MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class FileData:
    path: str
    text: str | None = field(default=None, repr=False)
    mode: int | None = None
    mtime: float | None = None
    #: Why the file could not be read (None when ``text`` is set).
    error: str | None = None


def read_file(ctx: Context | None, path: str, max_bytes: int = MAX_BYTES) -> FileData | None:
    """The file's text (UTF-8, line endings kept), mode and mtime; ``None``
    when it does not exist; ``error`` set when it exists but cannot be read."""
    staged = ctx.overlay.get(os.path.realpath(path)) if ctx is not None else None
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        if staged is not None:  # created by an earlier ``fix`` pass
            return FileData(path, staged[0], staged[1], None)
        return None
    except OSError as exc:
        return FileData(path, error=exc.strerror or str(exc))
    if stat.S_ISDIR(st.st_mode):
        return FileData(path, error="is a directory, not a file")
    mode = stat.S_IMODE(st.st_mode)
    if staged is not None:
        return FileData(path, staged[0], staged[1], st.st_mtime)
    regular = stat.S_ISREG(st.st_mode)
    if regular and st.st_size > max_bytes:
        return FileData(path, error=f"is larger than {max_bytes // (1024 * 1024)} MiB")
    try:
        with open(path, "rb") as fh:
            # Never more than the file: read(n) may allocate n bytes up front.
            # (A FIFO such as <(...) has no size; read up to the limit.)
            raw = fh.read((min(max_bytes, st.st_size) if regular else max_bytes) + 1)
    except OSError as exc:
        return FileData(path, error=exc.strerror or str(exc))
    if len(raw) > max_bytes:
        return FileData(path, error=f"is larger than {max_bytes // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FileData(path, error=f"is not UTF-8 text (byte {exc.start})")
    return FileData(path, text, mode, st.st_mtime)
