"""Plan, apply and undo the edits that plugins propose.

A :class:`~hardoctor.model.Fix` is a tuple of :class:`~hardoctor.model.Edit`,
each replacing ``text[start:end]`` of a file.  ``text`` is the file's bytes
decoded as UTF-8 with no newline translation (:func:`read_text`), so an edit
touches only its own range and CRLF endings, a BOM or a missing final newline
survive.  ``Edit.expected`` is :func:`digest` of that text: a file changed
since the plugin read it is refused rather than patched blindly.

:func:`plan` works out the new text of every file without writing anything;
:func:`apply` writes it atomically after saving the originals in a backup set;
:func:`undo` puts the last backup set back.  Nothing here logs or prints file
contents: they hold credentials.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple

from hardoctor import backups, redact
from hardoctor.backups import MANIFEST, UNDONE, UndoResult, default_backup_root, undo  # noqa: F401
from hardoctor.model import Edit, Fix
from hardoctor.records import dataclass, field

__all__ = [
    "ApplyResult",
    "FilePlan",
    "Plan",
    "Skipped",
    "UndoResult",
    "apply",
    "default_backup_root",
    "digest",
    "plan",
    "read_text",
    "ABSENT",
    "undo",
]

#: ``Edit.expected`` of a file that does not exist yet: the fix creates it
#: (with the edit's ``mode``, default 0600), and ``undo`` deletes it again.
ABSENT = "absent"


def digest(text: str) -> str:
    """SHA-256 (hex) of ``text`` as UTF-8: the ``Edit.expected`` of a file
    whose text is ``text``."""
    return backups.sha256_hex(text.encode("utf-8", "surrogatepass"))


def read_text(path: str) -> str:
    """A file's text exactly as edits index it: UTF-8, line endings kept.

    Raises ``OSError`` or ``UnicodeDecodeError``.
    """
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8")


class Skipped(NamedTuple):
    """A fix left out of the plan; ``why`` starts with ``stale:``,
    ``conflict:``, ``unreadable:`` or ``invalid:``."""

    fix: Fix
    why: str


@dataclass(frozen=True)
class FilePlan:
    """What :func:`plan` will do to one file."""

    #: The path as the first edit named it.
    path: str
    #: Where the bytes live (symlinks resolved); this is what gets written.
    target: str
    old_text: str = field(repr=False)
    new_text: str = field(repr=False)
    old_mode: int
    new_mode: int
    #: The file does not exist yet; applying creates it.
    created: bool = False
    # Out of repr as well: an Edit's repr shows its new text, maybe a token.
    applied: tuple[Fix, ...] = field(default=(), repr=False)
    skipped: tuple[Skipped, ...] = field(default=(), repr=False)

    @property
    def changed(self) -> bool:
        return (
            self.new_text != self.old_text
            or self.new_mode != self.old_mode
            or (self.created and bool(self.new_text))
        )

    def diff(self) -> str:
        """Unified diff of this file (unscrubbed: use :meth:`Plan.diff`)."""
        import difflib  # here: only a run that renders a diff pays for it

        if not self.changed:
            return ""
        name = self.path.lstrip("/")
        out = [f"--- {'/dev/null' if self.created else 'a/' + name}\n", f"+++ b/{name}\n"]
        if self.created:
            out.append(f"new file mode {self.new_mode:04o}\n")
        if self.new_mode != self.old_mode and not self.created:
            out.append(f"mode {self.old_mode:04o} → {self.new_mode:04o}\n")
        hunks = difflib.unified_diff(_lines(self.old_text), _lines(self.new_text), n=3)
        for line in list(hunks)[2:]:  # difflib's own ---/+++ lines are replaced above
            # Mark a missing final newline as git does, or the next line
            # would be glued onto this one.
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        return "".join(out)


def _lines(text: str) -> list[str]:
    # Split on "\n" only: str.splitlines() would also split on "\r", "\x0c",
    # U+2028 ... and a CRLF file would then diff as if every line changed.
    return re.findall(r"[^\n]*\n|[^\n]+", text)


@dataclass(frozen=True)
class Plan:
    files: tuple[FilePlan, ...] = ()

    @property
    def changed(self) -> tuple[FilePlan, ...]:
        return tuple(f for f in self.files if f.changed)

    @property
    def applied(self) -> tuple[Fix, ...]:
        return tuple(dict.fromkeys(fx for f in self.files for fx in f.applied))

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        return tuple(dict.fromkeys(s for f in self.files for s in f.skipped))

    def diff(self) -> str:
        """Unified diff of every changed file, secrets scrubbed."""
        return redact.scrub("".join(f.diff() for f in self.files))


@dataclass
class _File:
    """A file while planning: as read, plus the edits accepted so far."""

    path: str
    target: str
    text: str | None = None
    mode: int = 0
    sha: str = ""
    problem: str | None = None
    created: bool = False
    edits: list[Edit] = field(default_factory=list)
    new_mode: int | None = None
    applied: list[Fix] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _load(path: str, overlay: Mapping[str, tuple[str, int]] | None = None) -> _File:
    target = os.path.realpath(path)
    entry = _File(path, target)
    if overlay and target in overlay:
        # A later planning pass: the file as the earlier passes left it.
        entry.text, entry.mode = overlay[target]
        entry.sha = digest(entry.text)
        entry.created = not os.path.lexists(target)
        return entry
    if not os.path.lexists(target):
        # Only fixes that expect the file to be absent can use it.
        entry.text, entry.mode, entry.sha, entry.created = "", 0o600, ABSENT, True
        return entry
    try:
        with open(target, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                entry.problem = "unreadable: not a regular file"
                return entry
            data = fh.read()
    except OSError as exc:
        entry.problem = f"unreadable: {exc.strerror or exc.__class__.__name__}"
        return entry
    try:
        entry.text = data.decode("utf-8")
    except UnicodeDecodeError:
        entry.problem = "unreadable: not UTF-8 text"
        return entry
    entry.mode = stat.S_IMODE(st.st_mode)
    entry.sha = digest(entry.text)
    return entry


def _is_text_edit(e: Edit) -> bool:
    # start == end with no new text changes nothing (a pure chmod, or a no-op).
    return not (e.start == e.end and e.new_text == "")


def _span(e: Edit) -> tuple[int, int, str]:
    # What an edit does to the text; the mode is checked on its own.
    return e.start, e.end, e.new_text


def _overlap(a: Edit, b: Edit) -> bool:
    if a.start < b.end and b.start < a.end:
        return True
    # Two insertions at one point: which goes first is anyone's guess.
    return a.start == a.end == b.start == b.end


def _check(fix: Fix, files: Mapping[str, _File]) -> str | None:
    """Why ``fix`` cannot join the plan (None: it can).  Looks at the edits
    accepted so far, including the fix's own earlier edits."""
    pending: dict[str, list[Edit]] = {}
    modes: dict[str, int] = {}
    for e in fix.edits:
        f = files[os.path.realpath(e.path)]
        if f.problem is not None or f.text is None:
            return f.problem
        if f.created and f.sha == ABSENT and e.expected != ABSENT:
            return "unreadable: the file does not exist"
        if e.expected != f.sha:
            return "stale: the file changed since it was read"
        if not 0 <= e.start <= e.end <= len(f.text):
            return f"invalid: range {e.start}-{e.end} is outside the file"
        try:
            e.new_text.encode("utf-8")
        except UnicodeEncodeError:
            return "invalid: the new text is not valid Unicode (lone surrogate)"
        if e.mode is not None:
            if not 0 <= e.mode <= 0o7777:
                return f"invalid: mode {e.mode:o}"
            wanted = f.new_mode if f.new_mode is not None else modes.get(f.target)
            if wanted is not None and wanted != e.mode:
                return f"conflict: another fix sets mode {wanted:04o}"
            modes[f.target] = e.mode
        if not _is_text_edit(e):
            continue
        mine = pending.setdefault(f.target, [])
        for other in f.edits + mine:
            if _span(other) != _span(e) and _is_text_edit(other) and _overlap(e, other):
                return f"conflict: overlaps another edit of {f.path}"
        mine.append(e)
    return None


def plan(fixes: Sequence[Fix], overlay: Mapping[str, tuple[str, int]] | None = None) -> Plan:
    """Work out the new text and mode of every file the fixes touch.

    Each file is read once.  Fixes are taken in order, all-or-nothing: a fix
    whose file changed since it was read is skipped as stale, one that
    overlaps an earlier fix's edit is skipped as a conflict; exact duplicate
    edits (two findings proposing the same repair) count once.  ``overlay``
    maps a real path to (text, mode) staged by an earlier pass, used instead
    of the file on disk.
    """
    files: dict[str, _File] = {}
    for fix in fixes:
        for e in fix.edits:
            key = os.path.realpath(e.path)
            if key not in files:
                files[key] = _load(e.path, overlay)
    for fix in fixes:
        touched = list(dict.fromkeys(os.path.realpath(e.path) for e in fix.edits))
        why = _check(fix, files)
        for key in touched:
            f = files[key]
            if why is not None:
                f.skipped.append(Skipped(fix, why))
                continue
            if fix not in f.applied:
                f.applied.append(fix)
            for e in fix.edits:
                if os.path.realpath(e.path) != key:
                    continue
                if e.mode is not None:
                    f.new_mode = e.mode
                if _is_text_edit(e) and all(_span(x) != _span(e) for x in f.edits):
                    f.edits.append(e)
    return Plan(tuple(_finish(f) for f in files.values()))


def _finish(f: _File) -> FilePlan:
    old = f.text or ""
    # Assembling pieces left to right is the same as applying the edits from
    # the end backwards (no edit shifts another's offsets), in one pass.
    pieces: list[str] = []
    cursor = 0
    for e in sorted(f.edits, key=lambda e: (e.start, e.end)):
        pieces += [old[cursor : e.start], e.new_text]
        cursor = e.end
    pieces.append(old[cursor:])
    new_mode = f.new_mode if f.new_mode is not None else f.mode
    return FilePlan(
        f.path,
        f.target,
        old,
        "".join(pieces),
        f.mode,
        new_mode,
        created=f.created,
        applied=tuple(f.applied),
        skipped=tuple(f.skipped),
    )


# -- writing ----------------------------------------------------------------


@dataclass(frozen=True)
class ApplyResult:
    #: Paths (as planned) that were written.
    written: tuple[str, ...] = ()
    #: The backup set holding the originals (None when nothing was written).
    backup_dir: str | None = None
    #: ``(path, why)`` for files not written.
    refused: tuple[tuple[str, str], ...] = ()


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def apply(plan: Plan, backup_root: str, clock: Callable[[], datetime] = _utcnow) -> ApplyResult:
    """Like :func:`_apply`, holding the backup store's lock: two concurrent
    ``fix --apply`` runs take turns, and the later one finds the files
    changed since it planned and refuses them (nothing is written twice)."""
    if not plan.changed:
        return ApplyResult()  # nothing to write: not even the backup store
    with backups.locked(backup_root):
        return _apply(plan, backup_root, clock)


_Original = tuple[FilePlan, bytes, os.stat_result]


def _apply(plan: Plan, backup_root: str, clock: Callable[[], datetime]) -> ApplyResult:
    """Write every changed file of ``plan``, originals saved first.

    Every file is re-read before anything is written; if one no longer has
    the planned content, nothing at all is written (a fix may span files, and
    half of one is worse than none).  Then the originals go into a new backup
    set under ``backup_root`` with a ``manifest.json``, and each file is
    replaced atomically, keeping its owner and mode (or taking the planned
    mode).  A symlink stays a symlink: its target is written.
    """
    changed = plan.changed
    if not changed:
        return ApplyResult()
    originals, creating, refused = _preflight(changed)
    if refused:
        return ApplyResult(refused=tuple(refused))
    now = clock()
    manifest, copies = _manifest(now, originals, creating)
    # The whole set, manifest last, is in place before any file changes, so
    # a crash mid-way can still be undone; a failed set leaves nothing.
    backup_dir = backups.write_set(backup_root, now, copies, manifest)
    written: list[str] = []
    for f, data, st in originals:
        why = _replace(f, data, st)
        if why is None:
            written.append(f.path)
        else:
            refused.append((f.path, why))
    for f in creating:
        why = _create(f)
        if why is None:
            written.append(f.path)
        else:
            refused.append((f.path, why))
    return ApplyResult(tuple(written), backup_dir, tuple(refused))


def _preflight(
    changed: Sequence[FilePlan],
) -> tuple[list[_Original], list[FilePlan], list[tuple[str, str]]]:
    originals: list[_Original] = []
    creating: list[FilePlan] = []
    refused: list[tuple[str, str]] = []
    for f in changed:
        if f.created:
            if os.path.lexists(f.target):
                refused.append((f.path, "was created by someone else since the fix was planned"))
            else:
                creating.append(f)
            continue
        try:
            data = _read_bytes(f.target)
            st = os.stat(f.target)
        except OSError as exc:
            refused.append((f.path, f"cannot read it: {exc.strerror}"))
            continue
        if backups.sha256_hex(data) != digest(f.old_text):
            refused.append((f.path, "changed on disk since the fix was planned"))
            continue
        originals.append((f, data, st))
    return originals, creating, refused


def _manifest(
    now: datetime, originals: Sequence[_Original], creating: Sequence[FilePlan]
) -> tuple[bytes, list[tuple[str, str, bytes]]]:
    entries: list[dict[str, Any]] = []
    copies: list[tuple[str, str, bytes]] = []
    for index, (f, data, st) in enumerate(originals):
        name = f"{index}-{os.path.basename(f.target)}"
        copies.append((name, f.path, data))
        entries.append({
            "path": f.path, "target": f.target, "backup": name,
            "mode": stat.S_IMODE(st.st_mode), "new_mode": f.new_mode,
            "uid": st.st_uid, "gid": st.st_gid,
            "sha256_original": backups.sha256_hex(data), "sha256_new": digest(f.new_text),
        })
    for f in creating:
        entries.append({"path": f.path, "target": f.target, "created": True,
                        "new_mode": f.new_mode, "sha256_new": digest(f.new_text),
                        "created_dirs": _missing_dirs(f.target)})
    manifest = {"version": 1, "created": now.isoformat(), "files": entries}
    return json.dumps(manifest, indent=2).encode() + b"\n", copies


def _missing_dirs(path: str) -> list[str]:
    """The parent directories creating ``path`` will make (outermost
    first): ``undo`` removes them again when they are left empty."""
    missing: list[str] = []
    parent = os.path.dirname(path)
    while parent and not os.path.lexists(parent):
        missing.insert(0, parent)
        up = os.path.dirname(parent)
        if up == parent:
            break
        parent = up
    return missing


def _replace(f: FilePlan, data: bytes, st: os.stat_result) -> str | None:
    """Write one planned file; why not, or ``None`` when written."""
    try:
        # Re-check right before the rename: the window for a concurrent
        # writer is now as small as it can be.
        if backups.sha256_hex(_read_bytes(f.target)) != backups.sha256_hex(data):
            return "changed on disk while fixing"
        mode = f.new_mode if f.new_mode != f.old_mode else stat.S_IMODE(st.st_mode)
        if f.new_text == f.old_text:
            os.chmod(f.target, mode)  # mode-only: no need for a new inode
        else:
            backups.write_atomic(f.target, f.new_text.encode("utf-8"), mode, st.st_uid,
                                 st.st_gid)
    except OSError as exc:
        return f"cannot write it: {exc.strerror or type(exc).__name__}"
    return None


def _create(f: FilePlan) -> str | None:
    try:
        backups.create_exclusive(f.target, f.new_text.encode("utf-8"), f.new_mode)
    except FileExistsError:
        return "was created by someone else while fixing"
    except OSError as exc:
        return f"cannot create it: {exc.strerror or type(exc).__name__}"
    return None
