"""The plugin system: loading, blocking, failure isolation, rule validation,
and ``hardoctor plugins``.

Third-party plugins are loaded the real way: a distribution (``*.dist-info``
with ``entry_points.txt``) is written into a directory on ``sys.path`` and
``importlib.metadata`` finds it, exactly as it finds a pip-installed one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from tests.helpers import (
    assert_no_traceback,
    assert_valid_report,
    finding_codes,
    install_test_plugin,
    make_distribution,
    run_cli,
    run_subprocess,
)

from hardoctor import hookimpl, plugins
from hardoctor.model import Secret
from hardoctor.plugins import PluginManager

CHECK_JSON = ["check", "--offline", "--format", "json"]

BOOM_PLUGIN = """
from hardoctor import hookimpl

CALLS = []

@hookimpl
def hardoctor_discover(ctx):
    CALLS.append("discover")
    raise RuntimeError("discover went wrong")

@hookimpl
def hardoctor_lint(source, ctx):
    CALLS.append("lint")
    raise KeyError("auths")
"""


@pytest.fixture
def hdtest(home: Path, plugin_site: Path) -> Path:
    """The test plugin installed (entry point ``hdtest``) and a HOME where it
    reports one warning; returns the site directory."""
    install_test_plugin(plugin_site, version="1.0.0")
    (home / ".hdtest").write_text("warning\n", encoding="utf-8")
    return plugin_site


def _hd(report: dict, code: str) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == code]


# -- a plugin raising inside a hook ------------------------------------------------------


def test_hook_exception_is_hd002_and_others_still_run(home: Path, hdtest: Path) -> None:
    make_distribution(hdtest, "hardoctor-boom", "0.1", {"hdboom_plugin": BOOM_PLUGIN},
                      {"boom": "hdboom_plugin"})
    r = run_cli(CHECK_JSON, home=home, autoload=True)
    assert r.rc == 1, str(r)  # HD002 is an error
    assert_no_traceback(r)
    report = r.report()
    # the healthy plugin still ran: its source was discovered and linted
    assert "TST001" in finding_codes(report)
    hd002 = _hd(report, "HD002")
    messages = sorted(f["message"] for f in hd002)
    assert len(hd002) == 2, messages
    assert all(f["severity"] == "error" for f in hd002)
    assert all(f["name"] == "plugin-hook-error" for f in hd002)
    assert any("'boom'" in m and "hardoctor_discover" in m and "discover went wrong" in m for m in messages)
    assert any("'boom'" in m and "hardoctor_lint" in m and "KeyError" in m for m in messages)
    # the failing plugin was called (and failed) for every source, but reported once per hook
    assert sys.modules["hdboom_plugin"].CALLS.count("discover") == 1
    assert sum(1 for m in messages if "hardoctor_lint" in m) == 1


def test_hook_exception_traceback_only_with_debug(home: Path, hdtest: Path) -> None:
    make_distribution(hdtest, "hardoctor-boom", "0.1", {"hdboom_plugin": BOOM_PLUGIN},
                      {"boom": "hdboom_plugin"})
    r = run_cli(["check", "--offline"], home=home, autoload=True)
    assert r.rc == 1
    assert "Traceback" not in r.err
    assert "HD002" in r.out and "hardoctor_discover" in r.out
    r = run_cli(["check", "--offline", "--debug"], home=home, autoload=True)
    assert r.rc == 1
    assert "Traceback (most recent call last)" in r.err
    assert "discover went wrong" in r.err


def test_hook_exception_message_is_scrubbed(home: Path, hdtest: Path) -> None:
    value = "plug1n-hook-s3cret-value"
    Secret(value)  # registered, as every secret a plugin reads is
    make_distribution(
        hdtest,
        "hardoctor-leaky",
        "0.1",
        {"hdleaky_plugin": f"""
            from hardoctor import hookimpl

            @hookimpl
            def hardoctor_discover(ctx):
                raise ValueError("bad token {value}")
        """},
        {"leaky": "hdleaky_plugin"},
    )
    for argv in (CHECK_JSON, ["check", "--offline", "--debug"]):
        r = run_cli(argv, home=home, autoload=True)
        assert r.rc == 1, str(r)
        assert value not in r.out + r.err
    report = run_cli(CHECK_JSON, home=home, autoload=True).report()
    assert any("<secret #" in f["message"] for f in _hd(report, "HD002"))


def test_exception_in_configure_and_addoption(home: Path, hdtest: Path) -> None:
    make_distribution(
        hdtest,
        "hardoctor-early",
        "0.1",
        {"hdearly_plugin": """
            from hardoctor import hookimpl

            @hookimpl
            def hardoctor_addoption(parser):
                raise RuntimeError("no options today")

            @hookimpl
            def hardoctor_configure(ctx):
                raise RuntimeError("no configuration today")
        """},
        {"early": "hdearly_plugin"},
    )
    r = run_cli(CHECK_JSON, home=home, autoload=True)
    assert r.rc == 1, str(r)
    report = r.report()
    messages = [f["message"] for f in _hd(report, "HD002")]
    assert any("hardoctor_addoption" in m for m in messages), messages
    assert any("hardoctor_configure" in m for m in messages), messages
    assert "TST001" in finding_codes(report)


# -- a plugin failing to load -------------------------------------------------------------


def test_import_failure_is_hd001_warning_and_run_goes_on(home: Path, hdtest: Path) -> None:
    make_distribution(
        hdtest,
        "hardoctor-broken",
        "0.1",
        {"hdbroken_plugin": "import acme_sdk_that_is_not_installed\n"},
        {"broken": "hdbroken_plugin", "ghost": "hdghost_module_missing"},
    )
    r = run_cli(CHECK_JSON, home=home, autoload=True)
    assert r.rc == 0, str(r)  # warnings only
    assert_no_traceback(r)
    report = r.report()
    hd001 = _hd(report, "HD001")
    assert all(f["severity"] == "warning" for f in hd001)
    messages = [f["message"] for f in hd001]
    assert any("'broken'" in m and "acme_sdk_that_is_not_installed" in m for m in messages), messages
    assert any("'ghost'" in m and "hdghost_module_missing" in m for m in messages), messages
    assert "TST001" in finding_codes(report)
    # and a one-line warning per plugin on stderr
    assert "hardoctor: warning: plugin 'broken'" in r.err
    assert "hardoctor: warning: plugin 'ghost'" in r.err


def test_import_failure_warns_for_every_command(home: Path, hdtest: Path) -> None:
    make_distribution(hdtest, "hardoctor-broken", "0.1",
                      {"hdbroken_plugin": "raise RuntimeError('plugin import blew up')\n"},
                      {"broken": "hdbroken_plugin"})
    for argv in (["rules"], ["plugins"], ["explain", "HD001"]):
        r = run_cli(argv, home=home, autoload=True)
        assert r.rc == 0, str(r)
        assert "plugin 'broken'" in r.err
        assert "plugin import blew up" in r.err
        assert_no_traceback(r)


def test_broken_builtin_is_hd001(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built-ins arrive through entry points like any plugin: one that
    cannot be imported is HD001 and the run goes on."""
    from hardoctor import entrypoints

    real = entrypoints.entry_points

    def with_broken(group: str, path: object = None) -> list[entrypoints.PluginEntry]:
        found = list(real(group))
        if group == plugins.ENTRY_POINT_GROUP:
            found.append(entrypoints.PluginEntry(
                "nosuchthing", "hardoctor_nosuchthing", group, plugins.OWN_DISTRIBUTION))
        return found

    monkeypatch.setattr(plugins, "entry_points", with_broken)
    r = run_cli(CHECK_JSON, home=home)
    assert r.rc == 0, str(r)
    messages = [f["message"] for f in _hd(r.report(), "HD001")]
    assert any("'nosuchthing'" in m and "hardoctor_nosuchthing" in m for m in messages), messages


def test_hookimpl_with_unknown_argument_is_refused(home: Path, hdtest: Path) -> None:
    make_distribution(
        hdtest,
        "hardoctor-badargs",
        "0.1",
        {"hdbadargs_plugin": """
            from hardoctor import hookimpl

            @hookimpl
            def hardoctor_lint(source, ctx, something_else):
                return []
        """},
        {"badargs": "hdbadargs_plugin"},
    )
    r = run_cli(CHECK_JSON, home=home, autoload=True)
    assert r.rc == 0, str(r)
    report = r.report()
    messages = [f["message"] for f in _hd(report, "HD001")]
    assert any("'badargs'" in m and "something_else" in m for m in messages), messages
    assert "TST001" in finding_codes(report)
    listed = json.loads(run_cli(["plugins", "--format", "json"], home=home, autoload=True).out)
    assert "badargs" not in {p["name"] for p in listed["plugins"]}


def test_unknown_hook_is_reported_with_the_plugin_name(home: Path, hdtest: Path) -> None:
    make_distribution(
        hdtest,
        "hardoctor-typo",
        "0.1",
        {"hdtypo_plugin": """
            from hardoctor import hookimpl

            @hookimpl
            def hardoctor_lnit(source, ctx):
                return []
        """},
        {"typo": "hdtypo_plugin"},
    )
    r = run_cli(CHECK_JSON, home=home, autoload=True)
    assert r.rc == 0, str(r)
    messages = [f["message"] for f in _hd(r.report(), "HD001")]
    assert any("hardoctor_lnit" in m for m in messages), messages
    r = run_cli(["plugins"], home=home, autoload=True)
    assert "typo 0.1 (from hardoctor-typo)" in r.out  # still loaded; only warned about


def test_unknown_hook_names_the_plugin(home: Path, hdtest: Path) -> None:
    make_distribution(
        hdtest,
        "hardoctor-typo",
        "0.1",
        {"hdtypo_plugin": """
            from hardoctor import hookimpl

            @hookimpl
            def hardoctor_lnit(source, ctx):
                return []
        """},
        {"typo": "hdtypo_plugin"},
    )
    messages = [f["message"] for f in _hd(run_cli(CHECK_JSON, home=home, autoload=True).report(), "HD001")]
    assert any(m.startswith("plugin 'typo'") and "hardoctor_lnit" in m for m in messages), messages


# -- blocking and autoload -------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, environ",
    [
        (["--disable-plugin", "hdtest"], {}),
        (["--disable-plugin=hdtest"], {}),
        (["--disable-plugin", "other", "--disable-plugin", "hdtest"], {}),
        ([], {"HARDOCTOR_DISABLE_PLUGINS": "hdtest"}),
        ([], {"HARDOCTOR_DISABLE_PLUGINS": " other , hdtest ,"}),
    ],
)
def test_disable_plugin(home: Path, hdtest: Path, argv: list[str], environ: dict[str, str]) -> None:
    r = run_cli([*CHECK_JSON, *argv], home=home, autoload=True, environ=environ)
    assert r.rc == 0, str(r)
    report = r.report()
    assert not {"TST001", "HD001", "HD002"} & set(finding_codes(report))
    assert not any(s["ecosystem"] == "hdtest" for s in report["sources"])
    # nothing of it was even imported
    assert "hdtest_plugin" not in sys.modules
    r = run_cli(["rules", "--format", "json", *argv], home=home, autoload=True, environ=environ)
    assert "TST001" not in {rule["code"] for rule in json.loads(r.out)}


def test_disable_plugin_blocks_a_failing_plugin(home: Path, hdtest: Path) -> None:
    make_distribution(hdtest, "hardoctor-boom", "0.1", {"hdboom_plugin": BOOM_PLUGIN},
                      {"boom": "hdboom_plugin"})
    r = run_cli([*CHECK_JSON, "--disable-plugin", "boom"], home=home, autoload=True)
    assert r.rc == 0, str(r)
    assert "HD002" not in finding_codes(r.report())
    assert "hdboom_plugin" not in sys.modules


def test_disable_builtin_plugin(home: Path) -> None:
    before = json.loads(run_cli(["plugins", "--format", "json"], home=home).out)
    assert "docker" in {p["name"] for p in before["plugins"]}
    for kwargs in ({"argv": ["--disable-plugin", "docker"]},
                   {"environ": {"HARDOCTOR_DISABLE_PLUGINS": "docker"}}):
        r = run_cli(["plugins", "--format", "json", *kwargs.get("argv", [])], home=home,
                    environ=kwargs.get("environ"))
        assert r.rc == 0, str(r)
        names = {p["name"] for p in json.loads(r.out)["plugins"]}
        assert "docker" not in names
        assert "builtin" in names


def test_autoload_off_skips_entry_points(home: Path, hdtest: Path) -> None:
    r = run_cli(CHECK_JSON, home=home, autoload=True,
                environ={"HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert r.rc == 0, str(r)
    assert "TST001" not in finding_codes(r.report())
    r = run_cli(["plugins", "--format", "json"], home=home, autoload=True,
                environ={"HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD": "true"})
    names = {p["name"] for p in json.loads(r.out)["plugins"]}
    assert "hdtest" not in names
    assert {"builtin", "docker", "harness"} <= names  # built-ins still load
    assert "hdtest_plugin" not in sys.modules


@pytest.mark.parametrize("value", ["0", "", "no"])
def test_autoload_on_unless_truthy(home: Path, hdtest: Path, value: str) -> None:
    r = run_cli(CHECK_JSON, home=home, autoload=True,
                environ={"HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD": value})
    assert "TST001" in finding_codes(r.report())


# -- rules registered by plugins ------------------------------------------------------------


RULES_PLUGIN = """
from hardoctor import hookimpl
from hardoctor.model import Rule, Severity

def rule(code, name=None, severity=Severity.WARNING, cause=None):
    name = name if name is not None else f"fine-rule-{code.lower()}"
    return Rule(code=code, name=name, severity=severity, summary="s", explain="e", cause=cause)

@hookimpl
def hardoctor_register_rules(register):
    register(rule("TST100"))
    register(rule("BAD1"))
    register(rule("HD001"))                    # the core's
    register(rule("TST100"))                   # its own, twice
    register(rule("TST101", name="Not Kebab"))
    register(rule("TST102", cause="made-up-cause"))
    register(rule("TST103", severity="error"))
    register(rule("tst104"))
    register(rule("TST105", severity=Severity.ERROR, cause="token-invalid"))
"""


def test_bad_and_duplicate_rule_codes_refused_others_load(home: Path, hdtest: Path) -> None:
    make_distribution(hdtest, "hardoctor-rules", "0.1", {"hdrules_plugin": RULES_PLUGIN},
                      {"rulesy": "hdrules_plugin"})
    r = run_cli(["rules", "--format", "json"], home=home, autoload=True)
    assert r.rc == 0, str(r)
    rules = {rule["code"]: rule for rule in json.loads(r.out)}
    assert rules["TST100"]["plugin"] == "rulesy"
    assert rules["TST105"]["severity"] == "error"
    assert rules["HD001"]["plugin"] == "builtin"  # the duplicate did not replace it
    for refused in ("BAD1", "TST101", "TST102", "TST103", "tst104", "TST104"):
        assert refused not in rules
    # the test plugin loaded after it is unaffected
    assert "TST001" in rules

    report = run_cli(CHECK_JSON, home=home, autoload=True).report()
    messages = [f["message"] for f in _hd(report, "HD001") if "'rulesy'" in f["message"]]
    text = "\n".join(messages)
    for needle in ("'BAD1'", "HD001 registered twice", "TST100 registered twice",
                   "'Not Kebab'", "'made-up-cause'", "TST103", "'tst104'"):
        assert needle in text, (needle, messages)
    assert len(messages) == 7, messages


def test_register_rules_raising_is_hd001(home: Path, hdtest: Path) -> None:
    make_distribution(
        hdtest,
        "hardoctor-rulesboom",
        "0.1",
        {"hdrulesboom_plugin": """
            from hardoctor import hookimpl
            from hardoctor.model import Rule, Severity

            @hookimpl
            def hardoctor_register_rules(register):
                register(Rule(code="TST200", name="before", severity=Severity.INFO,
                              summary="s", explain="e"))
                raise RuntimeError("ran out of rules")
        """},
        {"rulesboom": "hdrulesboom_plugin"},
    )
    r = run_cli(CHECK_JSON, home=home, autoload=True)
    assert r.rc == 0, str(r)
    messages = [f["message"] for f in _hd(r.report(), "HD001")]
    assert any("'rulesboom'" in m and "ran out of rules" in m for m in messages), messages
    rules = {rule["code"] for rule in json.loads(run_cli(["rules", "--format", "json"], home=home, autoload=True).out)}
    assert "TST200" in rules


def test_register_non_rule_is_refused_not_fatal(home: Path, hdtest: Path) -> None:
    make_distribution(
        hdtest,
        "hardoctor-notrule",
        "0.1",
        {"hdnotrule_plugin": """
            from hardoctor import hookimpl
            from hardoctor.model import Rule, Severity

            @hookimpl
            def hardoctor_register_rules(register):
                register({"code": "TST300"})
                register(Rule(code="TST301", name="after", severity=Severity.INFO,
                              summary="s", explain="e"))
        """},
        {"notrule": "hdnotrule_plugin"},
    )
    rules = {rule["code"] for rule in json.loads(run_cli(["rules", "--format", "json"], home=home, autoload=True).out)}
    assert "TST301" in rules


# -- hardoctor plugins -----------------------------------------------------------------------


def test_plugins_text(home: Path, hdtest: Path) -> None:
    r = run_cli(["plugins"], home=home, autoload=True)
    assert r.rc == 0, str(r)
    lines = r.out.splitlines()
    i = lines.index("hdtest 1.0.0 (from hardoctor-hdtest)")
    assert lines[i + 1].strip() == "hooks: configure, discover, lint, register_rules"
    assert lines[i + 2].strip() == "rules: TST001, TST002, TST003"
    assert any(line.startswith("builtin ") and line.endswith("(built-in)") for line in lines)
    assert any(line.startswith("docker ") and line.endswith("(built-in)") for line in lines)


def test_plugins_json(home: Path, hdtest: Path) -> None:
    r = run_cli(["plugins", "--format", "json"], home=home, autoload=True)
    assert r.rc == 0, str(r)
    data = json.loads(r.out)
    assert data["problems"] == []
    by_name = {p["name"]: p for p in data["plugins"]}
    names = list(by_name)
    assert names.index("builtin") < names.index("hdtest")  # built-ins first
    hd = by_name["hdtest"]
    assert hd["version"] == "1.0.0"  # the distribution's, not the module's __version__
    assert hd["builtin"] is False
    assert hd["distribution"] == "hardoctor-hdtest"
    assert hd["module"] == "hdtest_plugin"
    assert hd["hooks"] == ["hardoctor_configure", "hardoctor_discover", "hardoctor_lint",
                           "hardoctor_register_rules"]
    assert sorted(hd["rules"]) == ["TST001", "TST002", "TST003"]
    core = by_name["builtin"]
    assert core["builtin"] is True and core["distribution"] is None
    assert "hardoctor_reporter" in core["hooks"]
    assert {"HD001", "HD002", "HD003"} <= set(core["rules"])


def test_plugins_json_lists_problems(home: Path, hdtest: Path) -> None:
    make_distribution(hdtest, "hardoctor-broken", "0.1",
                      {"hdbroken_plugin": "raise ImportError('nope')\n"}, {"broken": "hdbroken_plugin"})
    data = json.loads(run_cli(["plugins", "--format", "json"], home=home, autoload=True).out)
    assert [p["plugin"] for p in data["problems"]] == ["broken"]
    assert "nope" in data["problems"][0]["message"]
    text = run_cli(["plugins"], home=home, autoload=True).out
    assert "! broken: " in text


def test_plugins_from_a_real_process(home: Path, hdtest: Path) -> None:
    """The same distribution on PYTHONPATH of a real ``python -m hardoctor``."""
    r = run_subprocess(["plugins"], home=home, autoload=True, extra_pythonpath=[str(hdtest)])
    assert r.rc == 0, str(r)
    assert "hdtest 1.0.0 (from hardoctor-hdtest)" in r.out
    r = run_subprocess(CHECK_JSON, home=home, autoload=True, extra_pythonpath=[str(hdtest)])
    assert r.rc == 0, str(r)
    assert "TST001" in finding_codes(assert_valid_report(r.out))
    r = run_subprocess(["plugins"], home=home, extra_pythonpath=[str(hdtest)])  # autoload off
    assert "hdtest" not in r.out


# -- the manager's calling rules --------------------------------------------------------------


class _Plugin:
    def __init__(self, name: str, log: list[str], fail: bool = False) -> None:
        self.name, self.log, self.fail = name, log, fail

    @hookimpl
    def hardoctor_parse_target(self, value, ctx):
        self.log.append(self.name)
        if self.fail:
            raise RuntimeError(f"{self.name} failed")
        return f"{self.name}:{value}"

    @hookimpl
    def hardoctor_report_formats(self):
        self.log.append(self.name)
        if self.fail:
            raise RuntimeError(f"{self.name} failed")
        return [self.name]


class _First(_Plugin):
    @hookimpl(tryfirst=True)
    def hardoctor_parse_target(self, value, ctx):
        return super().hardoctor_parse_target(value, ctx)


class _Last(_Plugin):
    @hookimpl(trylast=True)
    def hardoctor_parse_target(self, value, ctx):
        return super().hardoctor_parse_target(value, ctx)


@pytest.fixture
def bare_manager(monkeypatch: pytest.MonkeyPatch) -> PluginManager:
    # Only the core's own plugin: no entry point at all.
    monkeypatch.setattr(PluginManager, "_load_entry_points", lambda self: None)
    manager = PluginManager(autoload=False)
    manager.load()
    return manager


def test_call_order_is_pluggys(bare_manager: PluginManager) -> None:
    """tryfirst, then the most recently registered first, then trylast."""
    log: list[str] = []
    for plugin in (_Plugin("a", log), _Last("z", log), _First("f", log), _Plugin("b", log)):
        bare_manager.register(plugin, name=plugin.name)
    results = bare_manager.call("hardoctor_parse_target", value="v", ctx=None)
    assert log == ["f"] and results == [("f", "f:v")]  # firstresult: pluggy stops there
    assert bare_manager.failures == []


def test_call_isolates_failures(bare_manager: PluginManager) -> None:
    log: list[str] = []
    for plugin in (_Plugin("b", log), _Plugin("a", log, fail=True)):
        bare_manager.register(plugin, name=plugin.name)
    found = bare_manager.call("hardoctor_report_formats")
    assert [r for r in found if r[0] != "builtin"] == [("b", ["b"])]
    assert bare_manager.call_first("hardoctor_parse_target", value="w", ctx=None) == ("b", "b:w")
    assert log == ["a", "b", "a", "b"]
    assert [(f.plugin, f.hook) for f in bare_manager.failures] == [
        ("a", "hardoctor_report_formats"),
        ("a", "hardoctor_parse_target"),
    ]
    assert "Traceback" in bare_manager.failures[0].traceback
    bare_manager.call_first("hardoctor_parse_target", value="again", ctx=None)
    found = bare_manager.problem_findings()
    # identical failures are reported once (per plugin and hook)
    assert [(f.rule, f.plugin) for f in found] == [("HD002", "a"), ("HD002", "a")]
    assert any("'a' raised in hardoctor_parse_target: RuntimeError: a failed" in f.message
               for f in found)


def test_call_passes_only_requested_arguments(bare_manager: PluginManager) -> None:
    seen: list[tuple] = []

    class Minimal:
        @hookimpl
        def hardoctor_parse_target(self, value):
            seen.append((value,))
            return None

    bare_manager.register(Minimal(), name="minimal")
    assert bare_manager.call_first("hardoctor_parse_target", value="x", ctx=object()) is None
    assert seen == [("x",)]


def test_load_is_idempotent(bare_manager: PluginManager) -> None:
    count = len(bare_manager.rules)
    bare_manager.load()
    assert len(bare_manager.rules) == count
    assert bare_manager.load_problems == []


# -- wrapper=True implementations of third-party plugins -------------------------------

WRAPPER_PLUGIN = """
from dataclasses import replace

from hardoctor import hookimpl

SEEN = []


@hookimpl(wrapper=True)
def hardoctor_lint(source, ctx):
    # pluggy's new-style wrapper: runs around every other implementation and
    # receives their collected results.
    results = yield
    SEEN.append(len(results))
    return [[replace(f, message=f.message + " [wrapped]") for f in r] for r in results]
"""

RAISING_WRAPPER = """
from hardoctor import hookimpl


@hookimpl(wrapper=True)
def hardoctor_lint(source, ctx):
    yield
    raise RuntimeError("wrapper went wrong")
"""


def test_third_party_wrapper_hook_works(home: Path, hdtest: Path) -> None:
    """Hooks are called through pluggy, so a wrapper sees (and may change)
    the other plugins' results, as pluggy documents."""
    make_distribution(hdtest, "hardoctor-wrap", "0.1", {"hdwrap_plugin": WRAPPER_PLUGIN},
                      {"wrap": "hdwrap_plugin"})
    r = run_cli(CHECK_JSON, home=home, autoload=True)
    assert_no_traceback(r)
    report = r.report()
    assert not _hd(report, "HD002"), report["findings"]
    wrapped = [f for f in report["findings"] if f["rule"] == "TST001"]
    assert wrapped and all(f["message"].endswith("[wrapped]") for f in wrapped)
    assert sys.modules["hdwrap_plugin"].SEEN


def test_raising_wrapper_is_hd002_naming_it(home: Path, hdtest: Path) -> None:
    make_distribution(hdtest, "hardoctor-badwrap", "0.1", {"hdbadwrap_plugin": RAISING_WRAPPER},
                      {"badwrap": "hdbadwrap_plugin"})
    r = run_cli(CHECK_JSON, home=home, autoload=True)
    assert_no_traceback(r)
    messages = [f["message"] for f in _hd(r.report(), "HD002")]
    assert any("'badwrap'" in m and "hardoctor_lint" in m for m in messages), messages
