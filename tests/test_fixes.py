from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hardoctor import fixes, jsonspan, redact
from hardoctor.model import Applicability, Edit, Fix, Secret

T0 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)


def clock_from(start: datetime = T0) -> Callable[[], datetime]:
    """A clock that moves one second per call, so backup sets get distinct,
    ordered names."""
    ticks = iter(range(10_000))
    return lambda: start + timedelta(seconds=next(ticks))


def write(path: Path, data: bytes, mode: int = 0o644) -> str:
    path.write_bytes(data)
    os.chmod(path, mode)
    return str(path)


def mode_of(path: str | Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def replace(path: str, old: str, new: str, nth: int = 0) -> Edit:
    """An edit replacing the ``nth`` occurrence of ``old`` in the file."""
    text = fixes.read_text(path)
    start = -1
    for _ in range(nth + 1):
        start = text.index(old, start + 1)
    return Edit(path, start, start + len(old), new, fixes.digest(text))


def fix(*edits: Edit, description: str = "fix") -> Fix:
    return Fix(description, Applicability.SAFE, tuple(edits))


@pytest.fixture
def backups(tmp_path: Path) -> str:
    return str(tmp_path / "state" / "backups")


@pytest.fixture
def secrets() -> Iterator[None]:
    yield
    redact.clear()


# -- planning ---------------------------------------------------------------------


def test_digest_is_sha256_of_utf8() -> None:
    assert fixes.digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert fixes.digest("é") != fixes.digest("e")


def test_read_text_keeps_line_endings_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"\xef\xbb\xbfa\r\nb\rc\n")
    assert fixes.read_text(path) == "\ufeffa\r\nb\rc\n"


def test_edits_leave_every_other_byte_alone(tmp_path: Path, backups: str) -> None:
    raw = '\ufeff{\r\n  "auths": {"x": {"auth": "old"}},   \r\n  "name": "Zoë ✓"\t\r\n}'
    path = write(tmp_path / "config.json", raw.encode())
    p = fixes.plan([fix(replace(path, '"old"', '"new"'))])
    assert [f.changed for f in p.files] == [True]
    result = fixes.apply(p, backups, clock_from())
    assert result.written == (path,)
    assert Path(path).read_bytes() == raw.replace('"old"', '"new"').encode()


def test_several_edits_use_original_offsets(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"aaa bbb ccc")
    text = fixes.read_text(path)
    d = fixes.digest(text)
    p = fixes.plan(
        [
            fix(Edit(path, 8, 11, "CCCCC", d)),  # later edit first: order must not matter
            fix(Edit(path, 0, 3, "A", d), Edit(path, 4, 4, ">", d)),
        ]
    )
    assert p.files[0].new_text == "A >bbb CCCCC"
    assert len(p.applied) == 2 and not p.skipped


def test_jsonspan_edits_through_the_engine(tmp_path: Path, backups: str) -> None:
    data = {"auths": {"a.example": {"auth": "YTpi"}, "b.example": {}}, "credsStore": "x"}
    raw = json.dumps(data, indent="\t")
    path = write(tmp_path / "config.json", raw.encode())
    text = fixes.read_text(path)
    root = jsonspan.parse(text)
    auths = jsonspan.member(root, "auths")
    store = jsonspan.member(root, "credsStore")
    assert auths is not None and store is not None
    b = jsonspan.member(auths.value, "b.example")
    assert b is not None
    edits = [
        jsonspan.remove_member(text, auths.value, b),
        jsonspan.remove_member(text, root, store),
    ]
    d = fixes.digest(text)
    p = fixes.plan([fix(*(Edit(path, s, e, n, d) for s, e, n in edits))])
    fixes.apply(p, backups, clock_from())
    assert Path(path).read_text() == json.dumps(
        {"auths": {"a.example": {"auth": "YTpi"}}}, indent="\t"
    )


def test_stale_file_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"one two")
    other = write(tmp_path / "g", b"three")
    stale = replace(path, "one", "1")
    Path(path).write_bytes(b"one two!")
    fresh = replace(other, "three", "3")
    p = fixes.plan([fix(stale, description="stale"), fix(fresh, description="fresh")])
    by_path = {f.path: f for f in p.files}
    assert not by_path[path].changed
    assert [(s.fix.description, s.why.split(":")[0]) for s in by_path[path].skipped] == [
        ("stale", "stale")
    ]
    assert by_path[other].new_text == "3"


def test_fix_spanning_files_is_all_or_nothing(tmp_path: Path) -> None:
    a = write(tmp_path / "a", b"aaa")
    b = write(tmp_path / "b", b"bbb")
    both = fix(replace(a, "aaa", "A"), Edit(b, 0, 3, "B", fixes.digest("not b")))
    p = fixes.plan([both])
    assert not p.changed
    assert {f.path for f in p.files if f.skipped} == {a, b}
    assert p.skipped == (fixes.Skipped(both, "stale: the file changed since it was read"),)


def test_overlapping_edit_is_a_conflict(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"hello world")
    first = fix(replace(path, "hello", "HELLO"), description="first")
    second = fix(replace(path, "lo wo", "LO WO"), description="second")
    inside = fix(replace(path, "ell", "ELL"), description="inside")
    later = fix(replace(path, "world", "WORLD"), description="later")
    p = fixes.plan([first, second, inside, later])
    (f,) = p.files
    assert f.new_text == "HELLO WORLD"
    assert [fx.description for fx in f.applied] == ["first", "later"]
    assert [(s.fix.description, s.why.split(":")[0]) for s in f.skipped] == [
        ("second", "conflict"),
        ("inside", "conflict"),
    ]


def test_insertions_at_one_point_conflict(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"ab")
    d = fixes.digest("ab")
    p = fixes.plan([fix(Edit(path, 1, 1, "X", d)), fix(Edit(path, 1, 1, "Y", d))])
    assert p.files[0].new_text == "aXb"
    assert len(p.skipped) == 1
    # ...but an insertion right before a replaced range is not an overlap.
    p = fixes.plan([fix(Edit(path, 1, 2, "B", d)), fix(Edit(path, 1, 1, "X", d))])
    assert p.files[0].new_text == "aXB" and not p.skipped


def test_edits_within_one_fix_must_not_overlap(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"abcdef")
    d = fixes.digest("abcdef")
    p = fixes.plan([fix(Edit(path, 0, 3, "x", d), Edit(path, 2, 4, "y", d))])
    assert not p.changed and p.skipped[0].why.startswith("conflict:")


def test_duplicate_edits_are_merged(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"token=abc\n")
    e = replace(path, "abc", "xyz")
    same_fix = fix(e, description="from finding 1")
    p = fixes.plan([same_fix, fix(e, description="from finding 2"), same_fix])
    (f,) = p.files
    assert f.new_text == "token=xyz\n"
    assert [fx.description for fx in f.applied] == ["from finding 1", "from finding 2"]
    assert not f.skipped


def test_invalid_and_unreadable_edits_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"abc")
    binary = write(tmp_path / "bin", b"\xff\xfe")
    missing = str(tmp_path / "missing")
    d = fixes.digest("abc")
    p = fixes.plan(
        [
            fix(Edit(path, 2, 9, "x", d)),
            fix(Edit(path, 0, 1, "\ud800", d)),
            fix(Edit(path, 0, 0, "", d, mode=0o10000)),
            fix(Edit(binary, 0, 1, "x", d)),
            fix(Edit(missing, 0, 0, "x", fixes.digest(""))),
        ]
    )
    reasons = [s.why.split(":")[0] for s in p.skipped]
    assert reasons == ["invalid", "invalid", "invalid", "unreadable", "unreadable"]
    assert not p.changed and p.diff() == ""


def test_mode_conflict(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"x")
    d = fixes.digest("x")
    p = fixes.plan(
        [
            fix(Edit(path, 0, 0, "", d, mode=0o600)),
            fix(Edit(path, 0, 0, "", d, mode=0o600)),
            fix(Edit(path, 0, 0, "", d, mode=0o640)),
        ]
    )
    assert p.files[0].new_mode == 0o600
    assert [s.why for s in p.skipped] == ["conflict: another fix sets mode 0600"]


def test_diff_headers_mode_line_and_missing_newline(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"a\nb\nc", mode=0o644)
    e = replace(path, "c", "C")
    p = fixes.plan([fix(Edit(e.path, e.start, e.end, e.new_text, e.expected, mode=0o600))])
    name = path.lstrip("/")
    assert p.diff() == (
        f"--- a/{name}\n+++ b/{name}\nmode 0644 → 0600\n"
        "@@ -1,3 +1,3 @@\n a\n b\n-c\n\\ No newline at end of file\n+C\n"
        "\\ No newline at end of file\n"
    )


def test_diff_keeps_crlf_lines_intact(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"a\r\nb\r\n")
    p = fixes.plan([fix(replace(path, "b", "B"))])
    assert "-b\r\n+B\r\n" in p.diff()
    assert "\n a\r\n" in p.diff()


def test_diff_is_scrubbed(tmp_path: Path, secrets: None) -> None:
    token = Secret("pat.abcdefghijklmnop.0123456789")
    path = write(tmp_path / "f", b"password=old\n")
    p = fixes.plan([fix(replace(path, "old", token.reveal()))])
    assert token.reveal() not in p.diff()
    assert f"<secret #{token.fingerprint}>" in p.diff()
    assert token.reveal() not in repr(p)


# -- applying ---------------------------------------------------------------------


def test_mode_and_owner_are_kept(tmp_path: Path, backups: str) -> None:
    path = write(tmp_path / "f", b"user=a\n", mode=0o640)
    if os.geteuid() == 0:
        os.chown(path, 1234, 4321)  # only root can make a file someone else's
    before = os.stat(path)
    fixes.apply(fixes.plan([fix(replace(path, "a", "b"))]), backups, clock_from())
    after = os.stat(path)
    assert Path(path).read_bytes() == b"user=b\n"
    assert after.st_ino != before.st_ino  # really replaced, not rewritten in place
    assert (mode_of(path), after.st_uid, after.st_gid) == (0o640, before.st_uid, before.st_gid)


def test_new_mode_with_text_change(tmp_path: Path, backups: str) -> None:
    path = write(tmp_path / "f", b"x=1\n", mode=0o664)
    e = replace(path, "1", "2")
    plan = fixes.plan([fix(Edit(e.path, e.start, e.end, e.new_text, e.expected, mode=0o600))])
    fixes.apply(plan, backups, clock_from())
    assert (Path(path).read_bytes(), mode_of(path)) == (b"x=2\n", 0o600)


def test_chmod_only_fix(tmp_path: Path, backups: str) -> None:
    path = write(tmp_path / ".npmrc", b"//r/:_authToken=abc\n", mode=0o644)
    before = os.stat(path)
    chmod = fix(Edit(path, 0, 0, "", fixes.digest(fixes.read_text(path)), mode=0o600))
    plan = fixes.plan([chmod])
    assert plan.files[0].changed and plan.files[0].new_text == plan.files[0].old_text
    result = fixes.apply(plan, backups, clock_from())
    assert result.written == (path,)
    assert mode_of(path) == 0o600
    assert os.stat(path).st_ino == before.st_ino
    assert Path(path).read_bytes() == b"//r/:_authToken=abc\n"


def test_unchanged_plan_writes_nothing(tmp_path: Path, backups: str) -> None:
    path = write(tmp_path / "f", b"same\n")
    noop = fix(replace(path, "same", "same"))
    plan = fixes.plan([noop])
    assert plan.files[0].applied == (noop,) and not plan.changed
    before = os.stat(path)
    assert fixes.apply(plan, backups, clock_from()) == fixes.ApplyResult()
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns
    assert not os.path.exists(backups)


def test_apply_refuses_a_file_changed_after_planning(tmp_path: Path, backups: str) -> None:
    a = write(tmp_path / "a", b"aaa")
    b = write(tmp_path / "b", b"bbb")
    plan = fixes.plan([fix(replace(a, "aaa", "A")), fix(replace(b, "bbb", "B"))])
    Path(b).write_bytes(b"bbb, edited by the user")
    result = fixes.apply(plan, backups, clock_from())
    assert result.written == () and result.backup_dir is None
    assert [(p, why.split()[0]) for p, why in result.refused] == [(b, "changed")]
    # Nothing is written when any file is stale: a fix may span files.
    assert Path(a).read_bytes() == b"aaa"
    assert Path(b).read_bytes() == b"bbb, edited by the user"


def test_atomic_write_leaves_no_temp_files(tmp_path: Path, backups: str) -> None:
    d = tmp_path / "dir"
    d.mkdir()
    path = write(d / "settings.xml", b"<settings/>\n")
    write(d / "other", b"")
    fixes.apply(fixes.plan([fix(replace(path, "/>", "></settings>"))]), backups, clock_from())
    assert sorted(os.listdir(d)) == ["other", "settings.xml"]


def test_backup_set_and_manifest(tmp_path: Path, backups: str) -> None:
    a = write(tmp_path / "config.json", b'{"auths": {}}', mode=0o644)
    sub = tmp_path / "sub"
    sub.mkdir()
    b = write(sub / "config.json", b"[x]\n", mode=0o640)
    plan = fixes.plan([fix(replace(a, "{}", '{"h": {}}'), replace(b, "x", "y"))])
    result = fixes.apply(plan, backups, clock_from())
    assert result.backup_dir == os.path.join(backups, "20240506T070809123456Z")
    assert mode_of(result.backup_dir) == 0o700
    assert sorted(os.listdir(result.backup_dir)) == [
        "0-config.json",
        "1-config.json",
        "manifest.json",
    ]
    for name in os.listdir(result.backup_dir):
        assert mode_of(os.path.join(result.backup_dir, name)) == 0o600
    assert Path(result.backup_dir, "0-config.json").read_bytes() == b'{"auths": {}}'
    assert Path(result.backup_dir, "1-config.json").read_bytes() == b"[x]\n"
    manifest = json.loads(Path(result.backup_dir, "manifest.json").read_text())
    assert manifest["version"] == 1 and manifest["created"] == T0.isoformat()
    first, second = manifest["files"]
    assert first["path"] == a and first["backup"] == "0-config.json"
    assert first["mode"] == 0o644 and second["mode"] == 0o640
    assert first["sha256_original"] == fixes.digest('{"auths": {}}')
    assert first["sha256_new"] == fixes.digest(Path(a).read_text())
    assert second["sha256_new"] == fixes.digest("[y]\n")


def test_backup_names_do_not_collide_on_a_frozen_clock(tmp_path: Path, backups: str) -> None:
    path = write(tmp_path / "f", b"0")
    dirs: list[str] = []
    for n in range(3):
        plan = fixes.plan([fix(replace(path, str(n), str(n + 1)))])
        result = fixes.apply(plan, backups, lambda: T0)
        assert result.backup_dir is not None
        dirs.append(result.backup_dir)
    assert dirs == sorted(dirs) and len(set(dirs)) == 3
    assert fixes.undo(backups).restored == (path,)
    assert Path(path).read_bytes() == b"2"


def test_symlink_target_is_written_and_link_kept(tmp_path: Path, backups: str) -> None:
    real_dir = tmp_path / "dotfiles"
    real_dir.mkdir()
    real = write(real_dir / "npmrc", b"registry=http://old/\n", mode=0o600)
    link = tmp_path / ".npmrc"
    link.symlink_to(real)
    plan = fixes.plan([fix(replace(str(link), "http://old/", "https://new/"))])
    assert plan.files[0].target == real
    result = fixes.apply(plan, backups, clock_from())
    assert result.written == (str(link),)
    assert link.is_symlink() and os.readlink(link) == real
    assert Path(real).read_bytes() == b"registry=https://new/\n"
    assert mode_of(real) == 0o600
    assert sorted(os.listdir(real_dir)) == ["npmrc"]
    fixes.undo(backups)
    assert link.is_symlink() and Path(real).read_bytes() == b"registry=http://old/\n"


def test_link_and_target_are_one_file(tmp_path: Path) -> None:
    real = write(tmp_path / "real", b"abc")
    link = tmp_path / "link"
    link.symlink_to(real)
    p = fixes.plan([fix(replace(real, "a", "A")), fix(replace(str(link), "c", "C"))])
    assert [f.new_text for f in p.files] == ["AbC"]


# -- undo -----------------------------------------------------------------------


def test_undo_restores_exact_bytes_and_mode(tmp_path: Path, backups: str) -> None:
    raw = b"\xef\xbb\xbfkey = v\xc3\xa9   \r\nother\r\n\tlast"
    path = write(tmp_path / "pip.conf", raw, mode=0o644)
    e = replace(path, "key = vé", "key = new")
    fixes.apply(
        fixes.plan([fix(Edit(e.path, e.start, e.end, e.new_text, e.expected, mode=0o600))]),
        backups,
        clock_from(),
    )
    assert mode_of(path) == 0o600 and Path(path).read_bytes() != raw
    result = fixes.undo(backups)
    assert result.restored == (path,) and not result.refused
    assert Path(path).read_bytes() == raw and mode_of(path) == 0o644
    assert result.backup_dir is not None
    assert os.path.isdir(result.backup_dir + ".undone")
    assert not os.path.exists(result.backup_dir)
    assert sorted(os.listdir(tmp_path)) == ["pip.conf", "state"]


def test_undo_chmod_only(tmp_path: Path, backups: str) -> None:
    path = write(tmp_path / "f", b"x", mode=0o666)
    fixes.apply(fixes.plan([fix(Edit(path, 0, 0, "", fixes.digest("x"), mode=0o600))]), backups)
    assert mode_of(path) == 0o600
    assert fixes.undo(backups).restored == (path,)
    assert mode_of(path) == 0o666


def test_second_undo_takes_the_previous_set(tmp_path: Path, backups: str) -> None:
    path = write(tmp_path / "f", b"v1")
    clock = clock_from()
    fixes.apply(fixes.plan([fix(replace(path, "v1", "v2"))]), backups, clock)
    fixes.apply(fixes.plan([fix(replace(path, "v2", "v3"))]), backups, clock)
    assert fixes.undo(backups).restored == (path,)
    assert Path(path).read_bytes() == b"v2"
    assert fixes.undo(backups).restored == (path,)
    assert Path(path).read_bytes() == b"v1"
    assert fixes.undo(backups) == fixes.UndoResult()


def test_undo_refuses_a_file_modified_after_apply(tmp_path: Path, backups: str) -> None:
    a = write(tmp_path / "a", b"a1")
    b = write(tmp_path / "b", b"b1")
    result = fixes.apply(
        fixes.plan([fix(replace(a, "a1", "a2")), fix(replace(b, "b1", "b2"))]),
        backups,
        clock_from(),
    )
    Path(b).write_bytes(b"b2 and a later edit")
    undone = fixes.undo(backups)
    assert undone.restored == (a,)
    assert [(p, why.split(";")[0]) for p, why in undone.refused] == [
        (b, "changed since the fix was applied")
    ]
    assert Path(a).read_bytes() == b"a1"
    assert Path(b).read_bytes() == b"b2 and a later edit"
    # The set stays so that the refused file can be retried once resolved.
    assert result.backup_dir is not None and os.path.isdir(result.backup_dir)
    Path(b).write_bytes(b"b2")
    again = fixes.undo(backups)
    assert set(again.restored) == {a, b} and not again.refused
    assert Path(b).read_bytes() == b"b1"


def test_undo_with_no_backups(tmp_path: Path) -> None:
    assert fixes.undo(str(tmp_path / "none")) == fixes.UndoResult()


def test_undo_reports_a_broken_manifest(tmp_path: Path, backups: str) -> None:
    path = write(tmp_path / "f", b"1")
    result = fixes.apply(fixes.plan([fix(replace(path, "1", "2"))]), backups, clock_from())
    assert result.backup_dir is not None
    Path(result.backup_dir, "manifest.json").write_text("{not json")
    undone = fixes.undo(backups)
    assert undone.refused and not undone.restored
    assert Path(path).read_bytes() == b"2"


def test_default_backup_root() -> None:
    assert (
        fixes.default_backup_root({"XDG_STATE_HOME": "/x/state"}, "/home/u")
        == "/x/state/hardoctor/backups"
    )
    for env in ({}, {"XDG_STATE_HOME": ""}, {"XDG_STATE_HOME": "relative"}):
        assert fixes.default_backup_root(env, "/home/u") == "/home/u/.local/state/hardoctor/backups"


def test_plan_over_an_overlay(tmp_path: Path) -> None:
    # A later planning pass sees the text an earlier pass staged, not the disk.
    path = write(tmp_path / "f", b"a=1\n", mode=0o644)
    staged = "a=2\n"
    e = Edit(path, 2, 3, "3", fixes.digest(staged))
    p = fixes.plan([fix(e)], overlay={os.path.realpath(path): (staged, 0o600)})
    (f,) = p.files
    assert (f.old_text, f.new_text, f.old_mode, f.new_mode) == (staged, "a=3\n", 0o600, 0o600)
    assert Path(path).read_bytes() == b"a=1\n"


# -- creating files (fixes.ABSENT) --------------------------------------------------


def test_fix_creates_a_missing_file_and_undo_removes_it(tmp_path: Path) -> None:
    from hardoctor import fixes as fx
    from hardoctor.model import Applicability, Edit, Fix

    target = tmp_path / "sub" / ".netrc"
    fix = Fix("create", Applicability.UNSAFE,
              (Edit(str(target), 0, 0, "machine h login u password p\n", expected=fx.ABSENT,
                    mode=0o600),))
    plan = fx.plan([fix])
    (fp,) = plan.changed
    assert fp.created and "/dev/null" in plan.diff() and "new file mode 0600" in plan.diff()
    res = fx.apply(plan, str(tmp_path / "backups"))
    assert res.written == (str(target),)
    assert target.read_text() == "machine h login u password p\n"
    assert oct(target.stat().st_mode & 0o777) == oct(0o600)
    # Planning the same creation again is stale: the file exists now.
    assert not fx.plan([fix]).changed
    undone = fx.undo(str(tmp_path / "backups"))
    assert undone.restored == (str(target),)
    assert not target.exists()


def test_creation_refused_when_the_file_appeared_meanwhile(tmp_path: Path) -> None:
    from hardoctor import fixes as fx
    from hardoctor.model import Applicability, Edit, Fix

    target = tmp_path / "new.conf"
    plan = fx.plan([Fix("create", Applicability.SAFE,
                        (Edit(str(target), 0, 0, "x=1\n", expected=fx.ABSENT),))])
    target.write_text("someone else's\n")
    res = fx.apply(plan, str(tmp_path / "b"))
    assert res.written == () and res.refused
    assert target.read_text() == "someone else's\n"


def test_concurrent_applies_take_turns(tmp_path: Path, backups: str) -> None:
    """Two applies of the same plan at once: the lock serialises them, so
    exactly one writes and the other finds the file changed and refuses."""
    import threading

    path = write(tmp_path / "f", b"old\n")
    plans = [fixes.plan([fix(replace(path, "old", "new"))]) for _ in range(2)]
    results: list[fixes.ApplyResult] = []
    barrier = threading.Barrier(2)

    def run(p: fixes.Plan) -> None:
        barrier.wait()
        results.append(fixes.apply(p, backups, clock_from()))

    threads = [threading.Thread(target=run, args=(p,)) for p in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(len(r.written) for r in results) == [0, 1], results
    assert any(r.refused for r in results)
    assert Path(path).read_bytes() == b"new\n"


def test_failed_backup_set_leaves_nothing_and_names_the_file(
    tmp_path: Path, backups: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hardoctor import backups as store

    path = write(tmp_path / "f", b"old\n")
    plan = fixes.plan([fix(replace(path, "old", "new"))])

    def full(p: str, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_write_private", full)
    with pytest.raises(OSError) as info:
        fixes.apply(plan, backups, clock_from())
    assert "No space left on device" in str(info.value) and path in str(info.value)
    assert Path(path).read_bytes() == b"old\n"
    assert os.listdir(backups) == []
