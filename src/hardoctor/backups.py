"""The backup store of ``fix --apply`` and ``fix --undo``: atomic writes,
backup sets written whole or not at all, an advisory lock, and undo.

A backup set is a directory ``<root>/<UTC timestamp>/`` holding a copy of
every original and a ``manifest.json``.  It is built under a hidden
``.partial`` name, manifest last, and renamed into place only when complete:
a full disk or a crash never leaves a half set that undo would trust.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from hardoctor.records import dataclass

MANIFEST = "manifest.json"
UNDONE = ".undone"
LOCK = ".lock"
#: How long a second ``fix --apply`` waits for the first one.
LOCK_WAIT_S = 30.0


class BackupError(OSError):
    """The backup store could not be used (exit 2): names the file and the
    operation, never file content."""


def _fchmod(fd: int, mode: int) -> None:
    # os.fchmod is missing on Windows before Python 3.13; the file was
    # created with the right mode there anyway.
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)


@contextlib.contextmanager
def locked(root: str, wait: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the store's advisory lock (``<root>.lock``, beside the store so
    that the store holds only backup sets): concurrent applies and undos
    take turns instead of racing between their "unchanged since planned"
    check and the rename."""
    os.makedirs(root, mode=0o700, exist_ok=True)
    fd = os.open(lock_path(root), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, root, wait)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def lock_path(root: str) -> str:
    return os.path.normpath(root) + LOCK


def _acquire(fd: int, root: str, wait: float) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; runs are not serialised
        return
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            raise BackupError(errno.EBUSY, f"another hardoctor fix --apply holds the lock "
                              f"{lock_path(root)} (waited {wait:g} s)")
        time.sleep(0.05)


def _fsync_dir(path: str) -> None:
    # Makes the rename itself durable; not every platform or filesystem can.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(target: str, data: bytes, mode: int, uid: int, gid: int) -> None:
    """Replace ``target`` by ``data``: readers see the old file or the new
    one, never a half-written one.  (A hard link elsewhere keeps the old
    content: rename gives ``target`` a new inode.)"""
    import tempfile  # here: only a run that writes pays for it (start-up)

    directory = os.path.dirname(target) or "."
    prefix = f".{os.path.basename(target)}."
    _remove_interrupted(directory, prefix)
    # mkstemp creates the file 0600, so the secret is never readable by
    # others, whatever the umask; the final mode is set before any byte.
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    try:
        st = os.fstat(fd)
        if hasattr(os, "fchown") and (st.st_uid, st.st_gid) != (uid, gid):
            # Only root may give a file away; otherwise it stays ours.
            with contextlib.suppress(PermissionError):
                os.fchown(fd, uid, gid)
        # After chown, which clears set-id bits.
        _fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, target)
    except BaseException:
        if fd != -1:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _remove_interrupted(directory: str, prefix: str) -> None:
    """Remove what an interrupted replacement of this file left beside it: a
    run killed (``kill -9``, power loss) between creating its temporary file
    and renaming it cannot clean up, and the file holds the new secret.
    Writes happen under the apply lock (:func:`locked`), so a temporary file
    of ours that exists now belongs to no running write."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp") and len(name) == len(prefix) + 12:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name))


def _write_private(path: str, data: bytes) -> None:
    """Create ``path`` (which must not exist) readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _fchmod(fd, 0o600)  # the umask can only narrow, but be explicit
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def create_exclusive(path: str, data: bytes, mode: int) -> None:
    """A new file, never over an existing one; parent directories made 0700."""
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        _fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(parent or ".")


# -- undo -----------------------------------------------------------------------


@dataclass(frozen=True)
class UndoResult:
    #: The backup set that was undone (None: there was none).
    backup_dir: str | None = None
    restored: tuple[str, ...] = ()
    #: ``(path, why)`` for files left alone.
    refused: tuple[tuple[str, str], ...] = ()


def _latest_set(root: str) -> str | None:
    try:
        names = os.listdir(root)
    except OSError:
        return None
    sets = [
        n
        for n in names
        if not n.endswith(UNDONE) and os.path.isfile(os.path.join(root, n, MANIFEST))
    ]
    return os.path.join(root, max(sets)) if sets else None


def _restore(backup_dir: str, entry: Mapping[str, Any]) -> str | None:
    """Put one file back; return why not, or None when done."""
    target = str(entry["target"])
    if entry.get("created"):
        # The fix created it: undo removes it, unless it changed since.
        try:
            current = _read_bytes(target)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"cannot read it: {exc.strerror}"
        if sha256_hex(current) != entry["sha256_new"]:
            return "changed since the fix created it; not removed"
        try:
            os.unlink(target)
        except OSError as exc:
            return f"cannot remove it: {exc.strerror or exc}"
        # The directories the fix made for it, innermost first, while empty.
        for made in reversed([str(d) for d in entry.get("created_dirs") or ()]):
            try:
                os.rmdir(made)
            except OSError:
                break
        return None
    mode = int(entry["mode"])
    try:
        original = _read_bytes(os.path.join(backup_dir, str(entry["backup"])))
    except OSError as exc:
        return f"backup copy unreadable: {exc.strerror}"
    if sha256_hex(original) != entry["sha256_original"]:
        return "backup copy is damaged (checksum mismatch)"
    try:
        current = _read_bytes(target)
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    sha = sha256_hex(current)
    if sha not in (entry["sha256_new"], entry["sha256_original"]):
        return (
            "changed since the fix was applied; not overwritten "
            f"(original kept in {os.path.join(backup_dir, str(entry['backup']))})"
        )
    try:
        if sha == entry["sha256_original"]:
            # Already the original content (a mode-only fix, or a write that
            # never happened): only the mode may need putting back.
            os.chmod(target, mode)
        else:
            write_atomic(target, original, mode, int(entry["uid"]), int(entry["gid"]))
    except OSError as exc:
        return f"cannot write it: {exc.strerror or exc}"
    return None


def undo(backup_root: str) -> UndoResult:
    """:func:`_undo` under the backup store's lock."""
    with locked(backup_root):
        return _undo(backup_root)


def _undo(backup_root: str) -> UndoResult:
    """Restore the most recent backup set not yet undone.

    A file is restored only if it still holds what :func:`apply` wrote;
    otherwise it is refused, so undo never destroys a later change.  The set
    is then renamed ``<name>.undone`` -- only when nothing was refused, so
    the refused files can be retried (or copied back by hand) -- and the
    next undo takes the set before it.
    """
    backup_dir = _latest_set(backup_root)
    if backup_dir is None:
        return UndoResult()
    try:
        with open(os.path.join(backup_dir, MANIFEST), encoding="utf-8") as fh:
            entries = json.load(fh)["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return UndoResult(backup_dir, refused=((backup_dir, "manifest.json is unreadable"),))
    restored: list[str] = []
    refused: list[tuple[str, str]] = []
    for entry in entries:
        try:
            why = _restore(backup_dir, entry)
        except (KeyError, TypeError, ValueError):
            why = "manifest entry is malformed"
        path = str(entry.get("path", "?")) if isinstance(entry, dict) else "?"
        if why is None:
            restored.append(path)
        else:
            refused.append((path, why))
    if not refused:
        os.rename(backup_dir, backup_dir + UNDONE)
    return UndoResult(backup_dir, tuple(restored), tuple(refused))


def default_backup_root(environ: Mapping[str, str], home: str) -> str:
    """``$XDG_STATE_HOME/hardoctor/backups``, else
    ``~/.local/state/hardoctor/backups``."""
    state = environ.get("XDG_STATE_HOME", "")
    # The XDG spec says relative values are invalid and must be ignored.
    if not os.path.isabs(state):
        state = os.path.join(home, ".local", "state")
    return os.path.join(state, "hardoctor", "backups")


def _stamp(when: datetime) -> str:
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%Y%m%dT%H%M%S%fZ")


def write_set(
    root: str, when: datetime, copies: Sequence[tuple[str, str, bytes]], manifest: bytes
) -> str:
    """Write a complete backup set and return its directory.

    ``copies`` are (file name in the set, original path, bytes).  Everything
    goes into a hidden partial directory first, the manifest last; then one
    rename publishes the set.  On any failure the partial set is removed and
    a :class:`BackupError` names the file and the operation."""
    import tempfile  # here: only a run that writes pays for it (start-up)

    os.makedirs(root, mode=0o700, exist_ok=True)
    partial = tempfile.mkdtemp(prefix=".partial-", dir=root)
    try:
        os.chmod(partial, 0o700)
        for name, original, data in copies:
            _step(f"write the backup copy of {original}", _write_private,
                  os.path.join(partial, name), data)
        _step(f"write the backup manifest in {root}", _write_private,
              os.path.join(partial, MANIFEST), manifest)
        _fsync_dir(partial)
        final = _publish(root, partial, _stamp(when))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _fsync_dir(root)
    return final


def _step(what: str, fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except OSError as exc:
        raise BackupError(exc.errno or errno.EIO,
                          f"cannot {what}: {exc.strerror or type(exc).__name__}") from None


def _publish(root: str, partial: str, stamp: str) -> str:
    # Names sort in time order, so undo can take the largest; a second apply
    # within the same microsecond (a frozen test clock) gets a suffix that
    # still sorts after it.
    for n in range(1000):
        path = os.path.join(root, stamp if n == 0 else f"{stamp}-{n:03d}")
        if os.path.lexists(path):
            continue
        try:
            os.rename(partial, path)
        except OSError as exc:
            if os.path.lexists(path):
                continue
            raise BackupError(exc.errno or errno.EIO,
                              f"cannot create the backup set {path}: {exc.strerror}") from None
        return path
    raise BackupError(errno.EEXIST, f"cannot create a backup set in {root}")


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def sha256_hex(data: bytes) -> str:
    import hashlib  # here: OpenSSL's start-up only when writing

    return hashlib.sha256(data).hexdigest()
