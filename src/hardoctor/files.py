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
from typing import IO, TYPE_CHECKING, BinaryIO

from hardoctor.records import dataclass, field

if TYPE_CHECKING:
    from hardoctor.context import Context

MAX_BYTES = 4 * 1024 * 1024
#: Windows has neither O_NONBLOCK (no FIFOs to block on) nor O_CLOEXEC, and
#: needs O_BINARY so that line endings are kept.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_BINARY", 0))


@dataclass(frozen=True)
class FileData:
    path: str
    text: str | None = field(default=None, repr=False)
    mode: int | None = None
    mtime: float | None = None
    #: Why the file could not be read (None when ``text`` is set).
    error: str | None = None


def file_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; ``None`` for a regular file."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((word for test, word in kinds if test(mode)), None)


def _too_big(max_bytes: int) -> str:
    return f"is larger than {max_bytes // (1024 * 1024)} MiB"


def read_file(ctx: Context | None, path: str, max_bytes: int = MAX_BYTES) -> FileData | None:
    """The file's text (UTF-8, line endings kept), mode and mtime; ``None``
    when it does not exist; ``error`` set when it exists but cannot be read.

    Only regular files are read.  The file is opened with ``O_NONBLOCK`` and
    judged by ``fstat`` on the open descriptor, so a FIFO, device or socket
    in place of a config file is refused at once (``open()`` on a FIFO
    would wait for a writer forever) and cannot be swapped in between a
    check and the read.

    With ``--scope project`` a file outside the project is not read at all
    (``None``, as if missing): HOME's logins play no part in a repository
    check (:meth:`hardoctor.context.Context.in_scope`)."""
    if ctx is not None and not ctx.in_scope(path):
        return None
    staged = ctx.overlay.get(os.path.realpath(path)) if ctx is not None else None
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        if staged is not None:  # created by an earlier ``fix`` pass
            return FileData(path, staged[0], staged[1], None)
        return None
    except IsADirectoryError:
        return FileData(path, error="is a directory, not a file")
    except OSError as exc:
        return FileData(path, error=exc.strerror or type(exc).__name__)
    st = os.fstat(fd)
    kind = file_kind(st.st_mode)
    if kind is not None:
        os.close(fd)
        return FileData(path, error=f"is {kind}, not a regular file")
    with os.fdopen(fd, "rb") as fh:
        mode = stat.S_IMODE(st.st_mode)
        if staged is not None:
            return FileData(path, staged[0], staged[1], st.st_mtime)
        if st.st_size > max_bytes:
            return FileData(path, error=_too_big(max_bytes))
        try:
            # Never more than the file: read(n) may allocate n bytes up front.
            raw = fh.read(min(max_bytes, st.st_size) + 1)
        except OSError as exc:
            return FileData(path, error=exc.strerror or type(exc).__name__)
    if len(raw) > max_bytes:
        return FileData(path, error=_too_big(max_bytes))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FileData(path, error=f"is not UTF-8 text (byte {exc.start})")
    return FileData(path, text, mode, st.st_mtime)


class InputTooLarge(Exception):
    """A stream went past its cap (:class:`CappedReader`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class CappedReader:
    """A read-only stream that raises :class:`InputTooLarge` as soon as more
    than ``limit`` bytes (or characters, for a text stream) have been read:
    memory stays bounded by the reader's own buffers, whatever the input."""

    def __init__(self, stream: IO[bytes] | IO[str], limit: int) -> None:
        self._stream = stream
        self.limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes | str:
        want = self.limit + 1 - self.count
        if size is None or size < 0 or size > want:
            size = max(want, 1)
        data = self._stream.read(size)
        self.count += len(data)
        if self.count > self.limit:
            raise InputTooLarge(self.limit)
        return data


def open_regular(path: str) -> tuple[BinaryIO, os.stat_result]:
    """Open ``path`` for reading the way :func:`read_file` does (``O_NONBLOCK``
    and ``fstat`` on the descriptor): a FIFO, device or socket raises
    :class:`NotRegularFile` at once instead of blocking."""
    fd = os.open(path, _OPEN_FLAGS)
    st = os.fstat(fd)
    kind = file_kind(st.st_mode)
    if kind is not None:
        os.close(fd)
        raise NotRegularFile(f"is {kind}, not a regular file")
    return os.fdopen(fd, "rb"), st


class NotRegularFile(OSError):
    """:func:`open_regular` found a directory, FIFO, device or socket."""


def read_bounded(path: str, max_bytes: int = MAX_BYTES, *, head: bool = False) -> bytes | None:
    """The bytes of a small side file (package.json, a lock file's head, a
    daemon config), read by the same policy as :func:`read_file`: only a
    regular file, opened ``O_NONBLOCK`` (a FIFO never blocks), never more
    than ``max_bytes``.  ``None`` when missing, unreadable or (unless
    ``head``, which keeps the first ``max_bytes``) larger than the cap."""
    try:
        fh, st = open_regular(path)
    except OSError:
        return None
    with fh:
        if st.st_size > max_bytes and not head:
            return None
        try:
            raw = fh.read(min(max_bytes, st.st_size) + 1)
        except OSError:
            return None
    if len(raw) > max_bytes:
        return raw[:max_bytes] if head else None
    return raw
