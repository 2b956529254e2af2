"""The pieces that keep start-up small (issue 14) behave like what they
stand in for: :mod:`hardoctor.records` (dataclasses processed on first
use), :mod:`hardoctor.lazyre` (patterns compiled on first use) and
:mod:`hardoctor.entrypoints` (entry points read without importlib.metadata).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from pathlib import Path

import pytest

from hardoctor import entrypoints, lazyre
from hardoctor.records import dataclass, field, materialize


def _pending(cls: type) -> bool:
    return "__dataclass_fields__" in cls.__dict__ and not isinstance(
        cls.__dict__["__dataclass_fields__"], dict)


# -- records ------------------------------------------------------------------


def test_dataclass_is_processed_on_first_instance() -> None:
    @dataclass(frozen=True)
    class Point:
        x: int
        y: int = 0
        tags: list[str] = field(default_factory=list)

    assert _pending(Point)
    p = Point(1)
    assert not _pending(Point)
    assert p == Point(1, 0, []) and p != Point(2)
    assert repr(p) == "test_dataclass_is_processed_on_first_instance.<locals>.Point(x=1, y=0, tags=[])"
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3  # type: ignore[misc]
    assert dataclasses.replace(p, y=5) == Point(1, 5)


def test_class_level_introspection_processes_the_class() -> None:
    @dataclass
    class Pair:
        a: int
        b: str = "x"

    assert _pending(Pair)
    assert [f.name for f in dataclasses.fields(Pair)] == ["a", "b"]
    assert dataclasses.is_dataclass(Pair)
    assert Pair.__match_args__ == ("a", "b")
    match Pair(3):
        case Pair(a, b):
            assert (a, b) == (3, "x")


def test_subclasses_see_the_fields_of_lazy_bases() -> None:
    @dataclass(frozen=True)
    class Base:
        a: int

    @dataclass(frozen=True)
    class Child(Base):
        b: int = 2

    class Plain(Child):
        def total(self) -> int:
            return self.a + self.b

    assert _pending(Base) and _pending(Child)
    assert Plain(1).total() == 3
    assert Child(1, 5) == Child(1, 5) and hash(Child(1, 5)) == hash(Child(1, 5))
    assert [f.name for f in dataclasses.fields(Child)] == ["a", "b"]


def test_own_init_and_slots_are_processed_at_once() -> None:
    @dataclass(slots=True)
    class Slotted:
        a: int

    @dataclass(init=False)
    class OwnInit:
        a: int

        def __init__(self) -> None:
            self.a = 7

    assert not _pending(Slotted) and not _pending(OwnInit)
    assert Slotted(1).a == 1 and OwnInit().a == 7


def test_first_use_from_many_threads_processes_once() -> None:
    """Threads racing to construct a class for the first time all get a
    complete object: none may see the class between its stub and its real
    ``__init__`` (repeated over fresh classes to give the race a chance)."""
    for _ in range(30):
        @dataclass(frozen=True)
        class Shared:
            n: int
            tag: str = "x"

        made: list[Shared] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def work(i: int, cls: type[Shared] = Shared, made: list[Shared] = made,
                 errors: list[BaseException] = errors,
                 barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                made.append(cls(i))
            except BaseException as exc:  # noqa: BLE001  (collected, asserted below)
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert sorted(s.n for s in made) == list(range(8)) and all(s.tag == "x" for s in made)
        assert materialize(Shared) is Shared


# -- lazyre -------------------------------------------------------------------


def test_pattern_compiles_on_first_use_and_acts_like_re() -> None:
    source = r"(?P<word>z[a-y]{3}q)\d+"
    re.purge()
    pat = lazyre.compile(source, re.I)
    assert pat._compiled is None  # type: ignore[attr-defined]
    m = pat.search("--ZabcQ42--")
    assert m is not None and m.group("word") == "ZabcQ"
    assert pat.pattern == source and pat.flags & re.I
    assert pat.sub("X", "zabcq1 zabcq2") == "X X"
    assert [x.group(0) for x in pat.finditer("zabcq1 zabcq22")] == ["zabcq1", "zabcq22"]
    assert pat == lazyre.compile(source, re.I) and hash(pat) == hash(lazyre.compile(source, re.I))


def test_a_real_pattern_passes_through() -> None:
    real = re.compile("a+")
    assert lazyre.compile(real) is real


# -- entry points -------------------------------------------------------------


def _dist(site: Path, folder: str, name: str, version: str, text: str) -> None:
    info = site / folder
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nbody\n")
    (info / "entry_points.txt").write_text(text)


def test_entry_points_of_a_group_in_path_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _dist(first, "hd_thing-1.0.dist-info", "hd-thing", "1.0",
          "# a comment\n[console_scripts]\nx = y:z\n\n[hardoctor]\n; another\nthing = hd_thing.plugin:Obj.attr [extra]\n")
    # The same distribution again, later on the path: shadowed, as in importlib.metadata.
    _dist(second, "HD.Thing-2.0.dist-info", "HD.Thing", "2.0", "[hardoctor]\nthing2 = other\n")
    _dist(second, "other-0.3.egg-info", "other", "0.3", "[hardoctor]\nother = other_mod\n")
    found = entrypoints.entry_points("hardoctor", [str(first), str(second), str(tmp_path / "none")])
    assert [(e.name, e.value, e.distribution, e.version) for e in found] == [
        ("thing", "hd_thing.plugin:Obj.attr [extra]", "hd-thing", "1.0"),
        ("other", "other_mod", "other", "0.3"),
    ]


def test_entry_point_load_follows_the_attribute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hd_ep_mod.py").write_text("class Obj:\n    attr = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = entrypoints.PluginEntry("x", "hd_ep_mod:Obj.attr [extra]", "hardoctor")
    assert entry.load() == 42
    assert entrypoints.PluginEntry("y", "hd_ep_mod", "hardoctor").load().Obj.attr == 42


# -- the dataclass code cache ---------------------------------------------------


def _generated(cache: object, source: str) -> dict[str, object]:
    ns: dict[str, object] = {}
    cache.exec(source, {}, ns)  # type: ignore[attr-defined]
    return ns


def test_code_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hardoctor import records

    monkeypatch.setattr("sys.dont_write_bytecode", False)
    path = tmp_path / "pycache" / "records-code.test.marshal"
    source = "def __create_fn__():\n def f(x):\n  return x + 1\n return f\n"
    first = records._CodeCache(str(path))
    assert _generated(first, source)["__create_fn__"]()(1) == 2  # type: ignore[operator]
    first.save()
    assert path.is_file()

    second = records._CodeCache(str(path))
    compiled: list[str] = []
    monkeypatch.setattr("builtins.compile", lambda *a, **k: compiled.append(a[0]))
    assert _generated(second, source)["__create_fn__"]()(41) == 42  # type: ignore[operator]
    assert compiled == []  # executed from the cache, not compiled again
    assert not second.dirty


def test_code_cache_ignores_foreign_or_broken_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hardoctor import records

    monkeypatch.setattr("sys.dont_write_bytecode", False)
    path = tmp_path / "records-code.test.marshal"
    source = "def __create_fn__():\n def g():\n  return 'ok'\n return g\n"
    for junk in (b"", b"not a cache", records._CodeCache(str(path)).header + b"\x00garbage",
                 b"hardoctor-records/1\x00" + b"\x00\x00\x00\x00" + b"{}"):
        path.write_bytes(junk)
        cache = records._CodeCache(str(path))
        assert _generated(cache, source)["__create_fn__"]()() == "ok"  # type: ignore[operator]
        cache.save()
        assert path.read_bytes().startswith(cache.header)  # rewritten whole


def test_code_cache_and_bytecode_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PYTHONDONTWRITEBYTECODE: nothing written, unless the package was
    compiled at install (its own .pyc exists: pip wrote the directory)."""
    import importlib.util

    from hardoctor import records

    monkeypatch.setattr("sys.dont_write_bytecode", True)
    compiled = tmp_path / "records.cpython-311.pyc"
    monkeypatch.setattr(importlib.util, "cache_from_source", lambda path: str(compiled))
    path = tmp_path / "records-code.test.marshal"
    cache = records._CodeCache(str(path))
    _generated(cache, "def __create_fn__():\n def h():\n  pass\n return h\n")
    cache.save()
    assert not path.exists()

    compiled.write_bytes(b"")
    cache = records._CodeCache(str(path))
    _generated(cache, "def __create_fn__():\n def h2():\n  pass\n return h2\n")
    cache.save()
    assert path.exists()


def test_code_cache_that_cannot_be_written_is_silent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory that cannot hold the cache (here its parent is a regular
    file, which stops root too): no exception, nothing written."""
    from hardoctor import records

    monkeypatch.setattr("sys.dont_write_bytecode", False)
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    path = blocker / "__pycache__" / "records-code.test.marshal"
    cache = records._CodeCache(str(path))
    _generated(cache, "def __create_fn__():\n def k():\n  pass\n return k\n")
    assert cache.dirty
    cache.save()
    assert not path.exists() and blocker.read_bytes() == b""


def test_code_cache_keeps_what_was_used_when_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Old versions of edited classes pile up in a checkout: past the bound the
    file is rewritten with this process's entries only."""
    import marshal

    from hardoctor import records

    monkeypatch.setattr("sys.dont_write_bytecode", False)
    monkeypatch.setattr(records._CodeCache, "MAX_ENTRIES", 5)
    path = tmp_path / "records-code.test.marshal"
    stale = {f"# stale {i}\n": marshal.dumps(compile("pass", "<string>", "exec")) for i in range(10)}
    path.write_bytes(records._CodeCache(str(path)).header + marshal.dumps(stale))
    used = "def __create_fn__():\n def u():\n  return 1\n return u\n"
    cache = records._CodeCache(str(path))
    _generated(cache, used)
    cache.save()
    kept = records._CodeCache(str(path))._load()
    assert list(kept) == [used]


# -- the HTTP stack ---------------------------------------------------------------


def test_plain_http_client_context_verifies_and_trusts_nothing() -> None:
    """A client that only speaks http:// loads no CA store, and a TLS
    handshake it made anyway would fail closed (nothing is trusted)."""
    import ssl

    from hardoctor.probe.tls import no_tls_context, plain_http

    ctx = no_tls_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] == 0
    assert plain_http("http://127.0.0.1:5000/v2/", None)
    assert plain_http("HTTP://mirror.internal/v2/", None)
    assert not plain_http("https://registry.example/v2/", None)
    assert not plain_http("http://127.0.0.1:5000/v2/", "http://proxy:3128")


def test_prewarm_leaves_optional_modules_importable() -> None:
    """The HTTP stack is imported without trio and httpx's CLI, and both are
    importable again afterwards (in a fresh interpreter: nothing of this
    test process leaks in)."""
    code = (
        "import sys, time, threading\n"
        "from hardoctor import engine\n"
        "engine.prewarm_http()\n"
        "for t in threading.enumerate():\n"
        "    if t.name == 'hardoctor-prewarm': t.join(60)\n"
        "assert 'httpx' in sys.modules\n"
        "assert sys.modules.get('trio', 0) is not None and sys.modules.get('httpx._main', 0) is not None\n"
        "print('ok')\n"
    )
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{root / 'src'}:{root / 'plugins'}"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]
