"""The rule registry: code and name validation, uniqueness, causes, select."""

from __future__ import annotations

import pytest

from hardoctor.context import Context, Options
from hardoctor.env import Environment
from hardoctor.model import CAUSES, Applicability, Rule, Severity
from hardoctor.plugins import PluginManager
from hardoctor.rules import CODE_RE, CORE_RULES, NAME_RE, RuleError, RuleRegistry


def rule(code: str = "TST001", name: str | None = None, **kw) -> Rule:
    # Names are unique across rules too: derive one from the code by default.
    name = name if name is not None else f"test-rule-{code.lower()}"
    kw.setdefault("severity", Severity.WARNING)
    kw.setdefault("summary", "A test rule.")
    kw.setdefault("explain", "What it does\n  Tests.\n")
    return Rule(code=code, name=name, **kw)


@pytest.fixture
def registry() -> RuleRegistry:
    reg = RuleRegistry()
    for code in ("DKR001", "DKR002", "DKR010", "DKR101", "NPM001", "HAR001", "HD001"):
        reg.register(rule(code, plugin="p"))
    return reg


# -- codes and names --------------------------------------------------------------------


@pytest.mark.parametrize("code", ["HD001", "DKR123", "NPM999", "KUB001", "TOK000", "AB000"])
def test_code_regex_accepts(code: str) -> None:
    assert CODE_RE.match(code)
    RuleRegistry().register(rule(code))


@pytest.mark.parametrize(
    "code",
    ["H001", "HDDD001", "hd001", "Hd001", "HD01", "HD0001", "HD001 ", " HD001", "HD-001", "", "ÄB001", "HD001\t"],
)
def test_bad_codes_refused(code: str) -> None:
    with pytest.raises(RuleError, match="does not match"):
        RuleRegistry().register(rule(code))


@pytest.mark.parametrize("code, name", [("HD001\n", "test-rule"), ("HD001", "test-rule\n")])
def test_trailing_newline_refused(code: str, name: str) -> None:
    with pytest.raises(RuleError):
        RuleRegistry().register(rule(code, name))


@pytest.mark.parametrize("name", ["plugin-load-failed", "a", "auth-not-user-pass", "x1-2y"])
def test_kebab_names_accepted(name: str) -> None:
    assert NAME_RE.match(name)
    RuleRegistry().register(rule(name=name))


@pytest.mark.parametrize("name", ["Not-Kebab", "snake_case", "two  spaces", "-lead", "trail-", "a--b", ""])
def test_bad_names_refused(name: str) -> None:
    with pytest.raises(RuleError, match="kebab-case"):
        RuleRegistry().register(rule(name=name))


# -- uniqueness, causes, severity ----------------------------------------------------------


def test_duplicate_code_refused_and_first_kept() -> None:
    reg = RuleRegistry()
    reg.register(rule("TST001", plugin="first"))
    with pytest.raises(RuleError, match=r"TST001 registered twice \(first and second\)"):
        reg.register(rule("TST001", name="other-name", plugin="second"))
    assert reg["TST001"].plugin == "first"
    assert len(reg) == 1


def test_duplicate_refused_even_with_same_content() -> None:
    reg = RuleRegistry()
    reg.register(rule())
    with pytest.raises(RuleError):
        reg.register(rule())


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_every_design_cause_accepted(cause: str) -> None:
    RuleRegistry().register(rule(cause=cause))


@pytest.mark.parametrize("cause", ["token_expired", "Token-Expired", "expired", "", "unknown"])
def test_bad_cause_refused(cause: str) -> None:
    with pytest.raises(RuleError, match="unknown cause"):
        RuleRegistry().register(rule(cause=cause))


def test_causes_are_exactly_designs() -> None:
    assert {
        "no-credentials", "credential-not-matched", "credential-shadowed", "token-expired",
        "token-expiring-soon", "token-invalid", "token-malformed", "env-unset",
        "account-mismatch", "permission-denied", "blocked-by-policy", "not-found", "wrong-url",
        "helper-failure", "config-invalid", "insecure-storage", "tls-error", "dns-error",
        "connection-error", "timeout", "proxy-error", "clock-skew", "rate-limited",
    } == CAUSES


@pytest.mark.parametrize("severity", ["error", "fatal", None, 3])
def test_severity_must_be_enum(severity: object) -> None:
    with pytest.raises(RuleError, match="severity"):
        RuleRegistry().register(rule(severity=severity))


# -- lookup and select ------------------------------------------------------------------------


def test_lookup_is_case_insensitive(registry: RuleRegistry) -> None:
    assert registry.get("dkr001") is registry["DKR001"]
    assert "npm001" in registry and "NPM001" in registry
    assert "NPM002" not in registry and 5 not in registry
    assert registry.get("XX999") is None
    with pytest.raises(KeyError):
        registry["XX999"]


def test_iteration_sorted_by_code(registry: RuleRegistry) -> None:
    codes = [r.code for r in registry]
    assert codes == sorted(codes)
    assert len(registry) == len(codes) == 7


@pytest.mark.parametrize(
    "selectors, expected",
    [
        (["DKR"], {"DKR001", "DKR002", "DKR010", "DKR101"}),
        (["DKR0"], {"DKR001", "DKR002", "DKR010"}),
        (["DKR00"], {"DKR001", "DKR002"}),
        (["dkr1"], {"DKR101"}),
        (["DKR001"], {"DKR001"}),
        ([" npm001 ", "HAR"], {"NPM001", "HAR001"}),
        (["H"], {"HAR001", "HD001"}),
        (["HD"], {"HD001"}),
        (["", "  ", "NPM"], {"NPM001"}),
        ([], set()),
    ],
)
def test_select_codes_and_prefixes(registry: RuleRegistry, selectors: list[str], expected: set[str]) -> None:
    assert registry.select(selectors) == expected


@pytest.mark.parametrize("selectors", [["XYZ"], ["DKR2"], ["DKR", "NOPE01"], ["DKR0011"]])
def test_select_unknown_raises(registry: RuleRegistry, selectors: list[str]) -> None:
    with pytest.raises(RuleError, match="unknown rule code"):
        registry.select(selectors)


# -- the rules that actually ship -----------------------------------------------------------


def test_core_rules() -> None:
    reg = RuleRegistry()
    for r in CORE_RULES:
        reg.register(r)
    assert [r.code for r in reg] == ["CHK001", "CHK002", "HD001", "HD002", "HD003"]
    for r in CORE_RULES:
        for section in ("What it does", "Why it matters", "Example", "Fix"):
            assert section in r.explain, (r.code, section)


def test_every_loaded_rule_is_well_formed() -> None:
    """All built-in plugins' rules: valid, unique, documented, owned."""
    manager = PluginManager(autoload=False)
    manager.load()
    assert manager.load_problems == []
    rules = list(manager.rules)
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules), "rule names should be unique too"
    for r in rules:
        assert CODE_RE.fullmatch(r.code) and NAME_RE.fullmatch(r.name), r
        assert r.plugin, r
        assert r.summary.strip() and r.explain.strip(), r
        assert r.cause is None or r.cause in CAUSES, r
        assert r.fix is None or isinstance(r.fix, Applicability), r
        assert isinstance(r.severity, Severity), r
        # The core owns its own rules (HD) and the shared transport rules (NET).
        assert r.code.startswith(("HD", "NET", "TOK", "CHK")) == (r.plugin == "builtin"), r


def test_context_finding_uses_rule_defaults() -> None:
    reg = RuleRegistry()
    reg.register(rule("TST001", severity=Severity.ERROR, cause="token-expired", plugin="p"))
    ctx = Context(Options(), Environment(environ={}, home="/nonexistent"), reg)
    f = ctx.finding("tst001", "msg")
    assert (f.rule, f.name, f.severity, f.cause, f.plugin) == (
        "TST001", "test-rule-tst001", Severity.ERROR, "token-expired", "p"
    )
    f = ctx.finding("TST001", "msg", severity=Severity.WARNING, cause="token-expiring-soon")
    assert (f.severity, f.cause) == (Severity.WARNING, "token-expiring-soon")
    with pytest.raises(ValueError, match="unknown cause"):
        ctx.finding("TST001", "msg", cause="bogus")
    with pytest.raises(KeyError):
        ctx.finding("TST999", "msg")


def test_rule_names_are_unique_too() -> None:
    reg = RuleRegistry()
    reg.register(rule("TST001", name="same-name"))
    with pytest.raises(RuleError, match="already used by TST001"):
        reg.register(rule("TST002", name="same-name"))
