"""A small typed plugin manager over pluggy.

Built-ins are registered first, then every entry point of the ``hardoctor``
group, then ``check_pending()`` verifies that every implementation matches a
spec.  A plugin that fails to import is a warning (HD001) and the run goes on;
a plugin that raises inside a hook is an error finding (HD002) and the other
plugins still run: each ordinary implementation is wrapped at registration,
so hooks are still called through pluggy and ``wrapper=True`` implementations
of third-party plugins work.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from types import ModuleType
from typing import Any

import pluggy

from hardoctor import __version__, hookspecs, redact
from hardoctor.entrypoints import PluginEntry, entry_points
from hardoctor.errors import UsageError
from hardoctor.model import Finding, Rule, Severity
from hardoctor.records import dataclass, field
from hardoctor.rules import CORE_RULES, RuleError, RuleRegistry

ENTRY_POINT_GROUP = "hardoctor"

#: id(result) -> plugin name, for the hook call in progress (see _guarded).
_COLLECTED: ContextVar[dict[int, str] | None] = ContextVar("hardoctor_collected", default=None)

#: The core's own plugin.  Every other plugin, the built-in ones included,
#: arrives through the ``hardoctor`` entry points of its distribution.
CORE_PLUGIN = "hardoctor.builtin"
#: The distribution whose plugins are "built-in" (shipped in the wheel).
OWN_DISTRIBUTION = "hardoctor"


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


class _Pluggy(pluggy.PluginManager):
    """pluggy's manager, except that a plugin's submodules are never taken
    for hook implementations: they may be lazy (:mod:`hardoctor.lazy`), and
    pluggy's inspection of every attribute would import them all."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> pluggy.HookimplOpts | None:
        value = getattr(plugin, name, None)
        if isinstance(value, ModuleType):  # no import: type() only
            return None
        # Only what our marker marked is an implementation; asking pluggy
        # about every other name of a module (its imports, helpers) costs
        # an inspect.getattr_static each -- several ms of every start.
        if not callable(value) or getattr(value, "hardoctor_impl", None) is None:
            return None
        return super().parse_hookimpl_opts(plugin, name)

    def parse_hookspec_opts(self, module_or_class: Any, name: str) -> pluggy.HookspecOpts | None:
        # Every spec is named hardoctor_*; the rest of hookspecs.py (its
        # imports) need not be inspected one by one.
        if not name.startswith("hardoctor_"):
            return None
        return super().parse_hookspec_opts(module_or_class, name)


class PluginManager:
    def __init__(self, disabled: Iterable[str] = (), autoload: bool = True) -> None:
        self.pm = _Pluggy("hardoctor")
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
        try:
            module = importlib.import_module(CORE_PLUGIN)
        except Exception as exc:  # pragma: no cover - a broken install
            self._problem("builtin", f"cannot import {CORE_PLUGIN}: {_describe(exc)}")
        else:
            self._register(module, "builtin", CORE_PLUGIN, builtin=True)
        self._load_entry_points()
        self._check_pending()
        self._register_rules()

    def _load_entry_points(self) -> None:
        """Third-party plugins first, then this distribution's own, each
        group in name order: pluggy calls the most recently registered
        plugin first, so the built-ins are called in name order and a
        third-party plugin can answer a ``firstresult`` hook before them.
        ``autoload=False`` (HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD) loads only the
        built-ins."""
        eps = sorted(entry_points(ENTRY_POINT_GROUP),
                     key=lambda ep: (ep.distribution == OWN_DISTRIBUTION, ep.name))
        own = [ep for ep in eps if ep.distribution == OWN_DISTRIBUTION]
        others = [ep for ep in eps if ep.distribution != OWN_DISTRIBUTION]
        for ep in [*(others if self.autoload else []), *reversed(own)]:
            self._load_entry_point(ep, builtin=ep.distribution == OWN_DISTRIBUTION)

    def _load_entry_point(self, ep: PluginEntry, *, builtin: bool) -> None:
        if ep.name in self.disabled or self.pm.is_blocked(ep.name):
            return
        if self.pm.get_plugin(ep.name) is not None:
            self._problem(ep.name, f"entry point {ep.value} is not loaded: a plugin named "
                          f"{ep.name!r} is already registered")
            return
        try:
            plugin = ep.load()
        except Exception as exc:
            self._problem(ep.name, f"cannot import {ep.value}: {_describe(exc)}")
            return
        self._register(
            plugin,
            ep.name,
            ep.value,
            builtin=builtin,
            distribution=ep.distribution,
            version=ep.version if not builtin else None,
        )

    def register(self, plugin: object, name: str) -> None:
        """Register a plugin object directly (tests, embedding): guarded
        like every loaded plugin, its rules registered."""
        self._register(plugin, name, type(plugin).__module__, builtin=False)

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
        self._guard(name)
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
                if not rule.plugin:
                    rule = replace(rule, plugin=_name)
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

    def _guard(self, name: str) -> None:
        """Wrap each ordinary implementation of plugin ``name`` so that an
        exception becomes a recorded failure (HD002) and ``None``, while
        the call itself stays pluggy's: wrappers, ``tryfirst``/``trylast``
        and ``firstresult`` keep their documented meaning."""
        plugin = self.pm.get_plugin(name)
        for caller in self.pm.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin_name != name or impl.wrapper or impl.hookwrapper:
                    continue
                # pluggy marks the attribute Final for its own code; replacing
                # it at registration is the documented way to wrap an impl
                # without losing wrapper semantics for the others.
                impl.function = self._guarded(  # type: ignore[misc]
                    name, caller.name, impl.function)

    def _guarded(self, plugin: str, hook: str, function: Callable[..., object]) -> Callable[..., object]:
        def guarded(*args: object) -> object:
            try:
                result = function(*args)
            except UsageError:
                raise  # the person's mistake, not the plugin's: exit 2
            except Exception as exc:
                self._failure(plugin, hook, exc)
                return None
            collected = _COLLECTED.get()
            if collected is not None and result is not None:
                collected[id(result)] = plugin
            return result

        guarded.__wrapped__ = function  # type: ignore[attr-defined]
        return guarded

    def _failure(self, plugin: str, hook: str, exc: BaseException) -> None:
        import traceback  # only when a plugin failed (start-up)

        self.failures.append(
            HookFailure(
                plugin=plugin,
                hook=hook,
                error=redact.scrub(_describe(exc)),
                traceback=redact.scrub(traceback.format_exc()),
            )
        )

    def _invoke(self, hook: str, kwargs: dict[str, object]) -> tuple[object, dict[int, str]]:
        caller = getattr(self.pm.hook, hook)
        collected: dict[int, str] = {}
        token = _COLLECTED.set(collected)
        try:
            return caller(**kwargs), collected
        except UsageError:
            raise
        except Exception as exc:
            # Only a wrapper can get here (ordinary implementations are
            # guarded): name every wrapper of the hook, since pluggy does
            # not say which one raised.
            names = sorted({i.plugin_name for i in caller.get_hookimpls()
                            if i.wrapper or i.hookwrapper}) or ["?"]
            for name in names:
                self._failure(name, hook, exc)
            return None, collected
        finally:
            _COLLECTED.reset(token)

    def call(self, hook: str, **kwargs: object) -> list[tuple[str, Any]]:
        """Call every implementation through pluggy; return (plugin, result)
        for each non-None result.  An exception becomes a recorded failure."""
        results, names = self._invoke(hook, kwargs)
        if results is None:
            return []
        if not isinstance(results, list):  # a firstresult hook: one answer
            results = [results]
        return [(names.get(id(r), "?"), r) for r in results if r is not None]

    def call_first(self, hook: str, **kwargs: object) -> tuple[str, Any] | None:
        """For a ``firstresult`` hook: (plugin, result) or ``None``."""
        result, names = self._invoke(hook, kwargs)
        if result is None:
            return None
        return names.get(id(result), "?"), result

    def call_flat(self, hook: str, **kwargs: object) -> list[tuple[str, Any]]:
        """Like :meth:`call` for hooks returning sequences: flattened."""
        out: list[tuple[str, Any]] = []
        for name, result in self.call(hook, **kwargs):
            out.extend((name, item) for item in result)
        return out

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


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
