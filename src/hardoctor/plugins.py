"""A small typed plugin manager over pluggy.

Built-ins are registered first, then every entry point of the ``hardoctor``
group, then ``check_pending()`` verifies that every implementation matches a
spec.  A plugin that fails to import is a warning (HD001) and the run goes on;
a plugin that raises inside a hook is an error finding (HD002) and the other
plugins still run -- so the core calls implementations one at a time instead
of through pluggy's all-or-nothing ``hook.NAME(...)``.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pluggy

from hardoctor import __version__, hookspecs, redact
from hardoctor.model import Finding, Rule, Severity
from hardoctor.rules import CORE_RULES, RuleError, RuleRegistry

ENTRY_POINT_GROUP = "hardoctor"

#: Built-in plugins, in registration order.  Module names, importable from the
#: wheel (they live in ``plugins/`` in the source tree).
BUILTIN_PLUGINS: tuple[str, ...] = (
    "hardoctor.builtin",
    "hardoctor_docker",
    "hardoctor_harness",
    "hardoctor_npm",
    "hardoctor_pip",
    "hardoctor_maven",
    "hardoctor_k8s",
)


@dataclass
class PluginInfo:
    name: str
    module: str
    version: str
    builtin: bool
    distribution: str | None = None
    hooks: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)


@dataclass
class HookFailure:
    plugin: str
    hook: str
    error: str
    traceback: str


class PluginManager:
    def __init__(self, disabled: Iterable[str] = (), autoload: bool = True) -> None:
        self.pm = pluggy.PluginManager("hardoctor")
        self.pm.add_hookspecs(hookspecs)
        self.disabled = {d.strip() for d in disabled if d.strip()}
        self.autoload = autoload
        self.infos: dict[str, PluginInfo] = {}
        self.load_problems: list[tuple[str, str]] = []
        self.failures: list[HookFailure] = []
        self.rules = RuleRegistry()
        self._loaded = False

    # -- loading --------------------------------------------------------------

    def load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for core in ("builtin", "hardoctor.builtin"):
            if core in self.disabled:
                # Without it there is no reporter at all; refuse politely.
                self.disabled.discard(core)
                self._problem(core, "the core plugin cannot be disabled")
        for name in self.disabled:
            self.pm.set_blocked(name)
        for module_name in BUILTIN_PLUGINS:
            short = _short_name(module_name)
            if short in self.disabled or module_name in self.disabled:
                continue
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:  # a broken built-in must not stop the run
                self._problem(short, f"cannot import {module_name}: {_describe(exc)}")
                continue
            self._register(module, short, module_name, builtin=True)
        if self.autoload:
            self._load_entry_points()
        self._check_pending()
        self._register_rules()

    def _load_entry_points(self) -> None:
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self.disabled or self.pm.is_blocked(ep.name):
                continue
            if self.pm.get_plugin(ep.name) is not None:
                self._problem(ep.name, f"entry point {ep.value} is not loaded: a plugin named "
                              f"{ep.name!r} is already registered")
                continue
            dist = getattr(ep, "dist", None)
            try:
                plugin = ep.load()
            except Exception as exc:
                self._problem(ep.name, f"cannot import {ep.value}: {_describe(exc)}")
                continue
            self._register(
                plugin,
                ep.name,
                ep.value,
                builtin=False,
                distribution=dist.metadata["Name"] if dist else None,
                version=dist.version if dist else None,
            )

    def _check_pending(self) -> None:
        """pluggy's ``check_pending()`` stops at the first implementation
        without a spec; report every one, naming its plugin.  The plugin stays
        loaded: its other hooks are fine, and the misspelt one is never called."""
        for name, caller in vars(self.pm.hook).items():
            if not name.startswith("hardoctor_") or caller.spec is not None:
                continue
            for impl in caller.get_hookimpls():
                if impl.optionalhook:
                    continue
                self._problem(impl.plugin_name, f"implements unknown hook {name}")

    def _register(
        self,
        plugin: Any,
        name: str,
        module_name: str,
        *,
        builtin: bool,
        distribution: str | None = None,
        version: str | None = None,
    ) -> None:
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # e.g. a hookimpl with an unknown argument
            self._problem(name, f"cannot register: {_describe(exc)}")
            return
        hooks = sorted(
            caller.name
            for caller in self.pm.get_hookcallers(plugin) or ()
        )
        self.infos[name] = PluginInfo(
            name=name,
            module=module_name,
            version=version or getattr(plugin, "__version__", None) or __version__,
            builtin=builtin,
            distribution=distribution,
            hooks=hooks,
        )

    def _register_rules(self) -> None:
        from dataclasses import replace

        from hardoctor.probe.rules import NET_RULES  # rule data only; no httpx

        for rule in (*CORE_RULES, *NET_RULES):
            self.rules.register(replace(rule, plugin="builtin"))
            if "builtin" in self.infos:
                self.infos["builtin"].rules.append(rule.code)
        for name, plugin in self.pm.list_name_plugin():
            impl = getattr(plugin, "hardoctor_register_rules", None)
            if impl is None:
                continue

            def register(rule: Any, _name: str = name) -> None:
                if not isinstance(rule, Rule):
                    self._problem(_name, f"register() got {type(rule).__name__}, not a Rule")
                    return
                rule = replace(rule, plugin=rule.plugin or _name)
                try:
                    self.rules.register(rule)
                except RuleError as exc:
                    self._problem(_name, str(exc))
                    return
                if _name in self.infos:
                    self.infos[_name].rules.append(rule.code)

            try:
                impl(register=register)
            except Exception as exc:
                self._problem(name, f"hardoctor_register_rules raised {_describe(exc)}")

    def _problem(self, name: str, message: str) -> None:
        self.load_problems.append((name, redact.scrub(message)))

    # -- calling ----------------------------------------------------------------

    def implementations(self, hook: str) -> Iterator[tuple[str, Any]]:
        """(plugin name, hookimpl) in registration order (built-ins first),
        honouring tryfirst/trylast."""
        caller = getattr(self.pm.hook, hook)
        # pluggy stores impls trylast..normal..tryfirst and calls them in
        # reverse; normal impls are in registration order, newest last.  We
        # want tryfirst first, then registration order, then trylast.
        impls = caller.get_hookimpls()
        first = [i for i in impls if i.tryfirst]
        last = [i for i in impls if i.trylast]
        normal = [i for i in impls if not i.tryfirst and not i.trylast]
        for impl in [*reversed(first), *normal, *last]:
            yield impl.plugin_name, impl

    def call(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation; return (plugin, result) for each
        non-None result.  An exception becomes a recorded failure."""
        out: list[tuple[str, Any]] = []
        for name, impl in self.implementations(hook):
            result = self._call_one(name, impl, hook, kwargs)
            if result is not None:
                out.append((name, result))
        return out

    def call_first(self, hook: str, **kwargs: Any) -> tuple[str, Any] | None:
        for name, impl in self.implementations(hook):
            result = self._call_one(name, impl, hook, kwargs)
            if result is not None:
                return name, result
        return None

    def call_flat(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Like :meth:`call` for hooks returning sequences: flattened."""
        out: list[tuple[str, Any]] = []
        for name, result in self.call(hook, **kwargs):
            out.extend((name, item) for item in result)
        return out

    def _call_one(self, name: str, impl: Any, hook: str, kwargs: dict[str, Any]) -> Any:
        args = {arg: kwargs[arg] for arg in impl.argnames if arg in kwargs}
        try:
            return impl.function(**args)
        except Exception as exc:
            self.failures.append(
                HookFailure(
                    plugin=name,
                    hook=hook,
                    error=redact.scrub(_describe(exc)),
                    traceback=redact.scrub(traceback.format_exc()),
                )
            )
            return None

    # -- reporting ----------------------------------------------------------------

    def problem_findings(self) -> list[Finding]:
        out: list[Finding] = []
        for name, message in self.load_problems:
            rule = self.rules.get("HD001")
            out.append(
                Finding(
                    rule="HD001",
                    name=rule.name if rule else "plugin-load-failed",
                    severity=Severity.WARNING,
                    cause=None,
                    message=f"plugin {name!r}: {message}",
                    plugin=name,
                )
            )
        seen: set[tuple[str, str, str]] = set()
        for failure in self.failures:
            key = (failure.plugin, failure.hook, failure.error)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Finding(
                    rule="HD002",
                    name="plugin-hook-error",
                    severity=Severity.ERROR,
                    cause=None,
                    message=(
                        f"plugin {failure.plugin!r} raised in {failure.hook}: {failure.error}"
                        " (run with --debug for the traceback)"
                    ),
                    plugin=failure.plugin,
                )
            )
        return out


def _short_name(module_name: str) -> str:
    if module_name == "hardoctor.builtin":
        return "builtin"
    return module_name.removeprefix("hardoctor_")


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
