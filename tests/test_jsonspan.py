from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardoctor import jsonspan
from hardoctor.jsonspan import JSONSpanError, Node, line_col, member, parse


def strict_loads(text: str) -> Any:
    """``json.loads`` without the NaN/Infinity extension RFC 8259 forbids."""

    def reject(name: str) -> Any:
        raise ValueError(f"constant {name} is not JSON")

    return json.loads(text, parse_constant=reject)


def apply_edit(text: str, edit: tuple[int, int, str]) -> str:
    start, end, new = edit
    return text[:start] + new + text[end:]


DOCS = [
    "0",
    "-0",
    "-12.5e+3",
    "1E400",
    "123456789012345678901234567890",
    "true",
    "false",
    "null",
    '""',
    '"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"',
    '"\\ud800"',
    '"plain ünïcødé 🙂"',
    "[]",
    "{}",
    ' \t\r\n[ 1 , [ ] , { } , [[["x"]]] ] \n',
    '{"a": {"b": [1, 2, {"c": null}]}, "d": "e"}',
    '{"a": 1, "a": 2}',
    '{"": 0, "\\u0000": 1}',
    json.dumps({"auths": {"pkg.harness.io": {"auth": "dTpw"}}, "credsStore": "desktop"}, indent=4),
]


@pytest.mark.parametrize("text", DOCS)
def test_values_equal_json_loads(text: str) -> None:
    assert parse(text).value == json.loads(text)


def test_kinds_and_positions() -> None:
    text = '{\n  "a": [1, "x", true],\n  "b": {"c": null, "d": false}\n}'
    root = parse(text)
    assert (root.kind, root.start, root.end) == ("object", 0, len(text))

    def check(node: Node) -> None:
        # Every node's range is exactly the text of its value.
        assert json.loads(text[node.start : node.end]) == node.value
        for m in node.members:
            assert text[m.key_start : m.key_end] == json.dumps(m.key)
            check(m.value)
        for item in node.items:
            check(item)

    check(root)
    a = member(root, "a")
    assert a is not None
    assert [n.kind for n in a.value.items] == ["number", "string", "true"]
    assert line_col(text, a.key_start) == (2, 3)
    b = member(root, "b")
    assert b is not None
    d = member(b.value, "d")
    assert d is not None and d.value.kind == "false"
    assert line_col(text, d.value.start) == (3, 25)


def test_duplicate_keys_kept_in_members_last_wins_in_value() -> None:
    root = parse('{"auths": {"x": 1}, "Auths": {"y": 2}, "auths": {"z": 3}}')
    assert [m.key for m in root.members] == ["auths", "Auths", "auths"]
    assert root.value == {"auths": {"z": 3}, "Auths": {"y": 2}}
    exact = member(root, "auths")
    assert exact is not None and exact.value.value == {"z": 3}
    assert len(jsonspan.find_members(root, "AUTHS", casefold=True)) == 3
    assert member(root, "AUTHS") is None
    folded = member(root, "AUTHS", casefold=True)
    assert folded is exact


def test_bom_tolerated_and_reported() -> None:
    text = '\ufeff{"a": 1}'
    root = parse(text)
    assert root.value == {"a": 1}
    assert jsonspan.has_bom(text) and not jsonspan.has_bom(text[1:])
    # Offsets index the text as given, BOM included.
    assert root.start == 1 and text[root.members[0].key_start] == '"'
    with pytest.raises(JSONSpanError):
        parse(' \ufeff{"a": 1}')  # a BOM is only tolerated at the very start


ERRORS = [
    # text, message, line, column
    ("", "Expecting value", 1, 1),
    ("  \n ", "Expecting value", 2, 2),
    ("[1,]", "Illegal trailing comma", 1, 3),
    ('{\n  "a": 1,\n}', "Illegal trailing comma", 2, 9),
    ('{"a" 1}', "Expecting ':' delimiter", 1, 6),
    ('{\n  "a": 1\n  "b": 2\n}', "Expecting ',' delimiter", 3, 3),
    ("{'a': 1}", "Expecting property name enclosed in double quotes", 1, 2),
    ("[1] x", "Extra data", 1, 5),
    ('[\n"abc', "Unterminated string starting at", 2, 1),
    ('"a\tb"', "Invalid control character at", 1, 3),
    ('"\\x"', "Invalid \\escape", 1, 2),
    ("NaN", "Expecting value", 1, 1),
    ("[-Infinity]", "Expecting value", 1, 2),
    ("tru", "Expecting value", 1, 1),
    ("01", "Extra data", 1, 2),
    ("1" * 5000, "Number too long", 1, 1),
]


@pytest.mark.parametrize(("text", "msg", "line", "column"), ERRORS)
def test_errors_have_message_and_position(text: str, msg: str, line: int, column: int) -> None:
    with pytest.raises(JSONSpanError) as info:
        parse(text)
    err = info.value
    assert (err.msg, err.line, err.column) == (msg, line, column)
    assert (err.line, err.column) == line_col(text, err.pos)
    assert str(err) == f"{msg}: line {line} column {column} (char {err.pos})"
    assert isinstance(err, ValueError)


# Not comparable: trailing commas are worded and placed as Python 3.13 does,
# json.loads raises a plain ValueError for over-long numbers and accepts
# NaN/Infinity.
SAME_AS_JSON = [
    e
    for e in ERRORS
    if "trailing comma" not in e[1]
    and e[1] != "Number too long"
    and "NaN" not in e[0]
    and "Infinity" not in e[0]
]


@pytest.mark.parametrize(("text", "msg", "line", "column"), SAME_AS_JSON)
def test_error_positions_match_json_module(text: str, msg: str, line: int, column: int) -> None:
    with pytest.raises(json.JSONDecodeError) as info:
        strict_loads(text)
    assert (parse_error(text).pos, msg) == (info.value.pos, info.value.msg)


def parse_error(text: str) -> JSONSpanError:
    with pytest.raises(JSONSpanError) as info:
        parse(text)
    return info.value


def test_nesting_limit_without_recursion_error() -> None:
    ok = "[" * jsonspan.MAX_DEPTH + "]" * jsonspan.MAX_DEPTH
    assert parse(ok).kind == "array"
    err = parse_error("[" * 100_000)
    assert err.msg == "nesting too deep" and err.pos == jsonspan.MAX_DEPTH
    assert parse_error('{"a":' * 1000).msg == "nesting too deep"


def test_repr_does_not_show_values() -> None:
    root = parse('{"auth": "c2VjcmV0LXRva2Vu"}')
    assert "c2VjcmV0LXRva2Vu" not in repr(root)
    assert "c2VjcmV0LXRva2Vu" not in repr(root.members)


def test_parse_needs_str() -> None:
    with pytest.raises(TypeError):
        parse(b"{}")  # type: ignore[arg-type]


# -- edits ------------------------------------------------------------------

DOCKER = """{
\t"auths": {
\t\t"https://index.docker.io/v1/": {
\t\t\t"auth": "dXNlcjpwYXNz"
\t\t},
\t\t"pkg.harness.io": {
\t\t\t"auth": "YTpi",
\t\t\t"email": "me@example.com"
\t\t},
\t\t"old.example.com": {}
\t},
\t"credsStore": "desktop",
\t"HttpHeaders": {
\t\t"User-Agent": "Docker-Client/19.03.12 (linux)"
\t}
}"""


def _auths(text: str) -> Node:
    found = member(parse(text), "auths")
    assert found is not None
    return found.value


def _drop_lines(text: str, first: int, last: int) -> str:
    lines = text.split("\n")
    return "\n".join(lines[:first] + lines[last + 1 :])


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # first, middle and last member of "auths": whole lines go, and for
        # the last one the comma that ended the line before it
        ("https://index.docker.io/v1/", _drop_lines(DOCKER, 2, 4)),
        ("pkg.harness.io", _drop_lines(DOCKER, 5, 8)),
        ("old.example.com", _drop_lines(DOCKER, 9, 9).replace("\t\t},\n\t},", "\t\t}\n\t},")),
    ],
)
def test_remove_member_keeps_pretty_layout(key: str, expected: str) -> None:
    auths = _auths(DOCKER)
    target = member(auths, key)
    assert target is not None
    out = apply_edit(DOCKER, jsonspan.remove_member(DOCKER, auths, target))
    assert out == expected
    data = json.loads(DOCKER)
    del data["auths"][key]
    assert json.loads(out) == data


def test_remove_member_matches_indent_dump_of_result() -> None:
    data = {"a": 1, "b": [1, 2], "c": {"d": None}, "e": "f"}
    text = json.dumps(data, indent=2) + "\n"
    root = parse(text)
    for m in root.members:
        out = apply_edit(text, jsonspan.remove_member(text, root, m))
        rest = {k: v for k, v in data.items() if k != m.key}
        assert out == json.dumps(rest, indent=2) + "\n"


def test_remove_member_compact_and_only() -> None:
    text = '{"a": 1, "b": 2, "c": 3}'
    root = parse(text)
    outs = [apply_edit(text, jsonspan.remove_member(text, root, m)) for m in root.members]
    assert outs == ['{"b": 2, "c": 3}', '{"a": 1, "c": 3}', '{"a": 1, "b": 2}']
    only = '{\n    "x": {\n        "auth": "YTpi"\n    }\n}\n'
    root = parse(only)
    assert apply_edit(only, jsonspan.remove_member(only, root, root.members[0])) == "{}\n"


def test_remove_member_crlf_and_trailing_blanks() -> None:
    text = '{\r\n  "a": 1, \r\n  "b": 2  \r\n}\r\n'
    root = parse(text)
    first = apply_edit(text, jsonspan.remove_member(text, root, root.members[0]))
    last = apply_edit(text, jsonspan.remove_member(text, root, root.members[1]))
    assert first == '{\r\n  "b": 2  \r\n}\r\n'
    assert last == '{\r\n  "a": 1\r\n}\r\n'


def test_remove_member_duplicate_and_foreign() -> None:
    text = '{"k": 1, "k": 2}'
    root = parse(text)
    out = apply_edit(text, jsonspan.remove_member(text, root, root.members[1]))
    assert out == '{"k": 1}'
    other = parse('{ "k": 1}')
    with pytest.raises(ValueError):
        jsonspan.remove_member(text, root, other.members[0])
    with pytest.raises(ValueError):
        jsonspan.remove_member("[1]", parse("[1]"), root.members[0])


def test_rename_key_and_replace_value() -> None:
    text = '{\n  "Auths": {\n    "x": {"auth": "YTpi"}\n  },\n  "credsStore": "desktop"\n}\n'
    root = parse(text)
    found = member(root, "auths", casefold=True)
    assert found is not None
    out = apply_edit(text, jsonspan.rename_key(found, "auths"))
    assert out == text.replace('"Auths"', '"auths"')
    store = member(root, "credsStore")
    assert store is not None
    out = apply_edit(text, jsonspan.replace_value(store.value, 'pass "q"'))
    assert json.loads(out)["credsStore"] == 'pass "q"'
    assert out.replace('"pass \\"q\\""', '"desktop"') == text
    odd = apply_edit(text, jsonspan.rename_key(found, 'a"\n'))
    assert list(json.loads(odd)) == ['a"\n', "credsStore"]


# -- property tests -----------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)

json_ish = st.text(alphabet=st.sampled_from(list('{}[],:"\\ \t\r\n0123456789-+.eEtrufalsn\ufeffx')))


def _same(a: Any, b: Any) -> bool:
    # -0.0 == 0.0 and 1e400 == inf compare fine; only NaN would not, and
    # strict JSON has none.
    return bool(a == b) or (isinstance(a, float) and isinstance(b, float) and math.isnan(a))


# Valid JSON with a few characters spliced in: mostly *almost* valid, which
# is where a parser's error paths are.
def _splice(value: Any, at: int, junk: str) -> str:
    """``value`` as JSON with one character replaced by ``junk``."""
    text = json.dumps(value, indent=1)
    at %= len(text) + 1
    return text[:at] + junk + text[at + 1 :]


mangled = st.builds(
    _splice,
    json_values,
    st.integers(min_value=0),
    st.text(alphabet=st.sampled_from(list('{}[],:"\\ \n0-.eE\ufeff')), max_size=2),
)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), json_ish, mangled))
def test_fuzz_parse_agrees_with_json_loads(text: str) -> None:
    reference = text[1:] if text.startswith("\ufeff") else text
    try:
        expected = strict_loads(reference)
    except (ValueError, RecursionError):
        with pytest.raises(JSONSpanError):
            parse(text)
        return
    assert _same(parse(text).value, expected)


@given(json_values, st.sampled_from([None, 0, 2, "\t"]), st.booleans())
def test_roundtrip_dumps(value: Any, indent: int | str | None, ascii_only: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    assert parse(text).value == value


@given(
    st.dictionaries(st.text(max_size=6), json_values, min_size=1, max_size=6),
    st.sampled_from([None, 2, "\t"]),
    st.data(),
)
def test_remove_any_member_stays_valid(data: dict[str, Any], indent: Any, draw: Any) -> None:
    text = json.dumps({"outer": data, "tail": 1}, indent=indent)
    obj = _member_value(parse(text), "outer")
    victim = draw.draw(st.sampled_from(obj.members))
    out = apply_edit(text, jsonspan.remove_member(text, obj, victim))
    rest = {k: v for k, v in data.items() if k != victim.key}
    assert json.loads(out) == {"outer": rest, "tail": 1}
    if indent is not None and rest:
        assert out == json.dumps({"outer": rest, "tail": 1}, indent=indent)


def _member_value(node: Node, key: str) -> Node:
    found = member(node, key)
    assert found is not None
    return found.value
