"""The run context handed to every hook as ``ctx``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hardoctor.env import Environment
from hardoctor.model import CAUSES, Finding, Fix, Location, Remediation, Severity
from hardoctor.rules import RuleRegistry

if TYPE_CHECKING:
    from hardoctor.plugins import PluginManager


@dataclass(frozen=True)
class Options:
    """Parsed command-line options (with their environment twins applied)."""

    command: str = "check"
    targets: tuple[str, ...] = ()
    format: str = "text"
    output: str | None = None
    fail_on: str = "error"
    timeout: float = 5.0
    offline: bool = False
    debug: bool = False
    color: bool | None = None
    verbose: int = 0
    ecosystems: tuple[str, ...] = ()
    registries: tuple[str, ...] = ()
    project: str | None = None
    #: ``all`` or ``project`` (only files under the project directory).
    scope: str = "all"
    manifests: tuple[str, ...] = ()
    kube: bool = False
    kube_context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    harness_hosts: tuple[str, ...] = ()
    harness_api: str | None = None
    no_token_api: bool = False
    expiry_warning_days: float = 7.0
    push: bool = False
    apply: bool = False
    unsafe: bool = False
    only: tuple[str, ...] = ()
    disabled_plugins: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


class Context:
    """Everything a hook may need: options, environment, rules, a cache.

    Not frozen: plugins keep per-run state in ``cache`` (keyed by their own
    name) so that a file parsed during ``discover`` is not parsed again in
    ``lint``.
    """

    def __init__(
        self,
        options: Options,
        env: Environment,
        rules: RuleRegistry,
        plugins: PluginManager | None = None,
    ) -> None:
        self.options = options
        self.env = env
        self.rules = rules
        self.plugins = plugins
        self.cache: dict[str, Any] = {}
        self.started_at: datetime = env.clock()
        self.warnings: list[str] = []
        #: realpath -> (text, mode) staged by an earlier ``fix`` pass; read
        #: through :func:`hardoctor.files.read_file`.
        self.overlay: dict[str, tuple[str, int]] = {}

    # -- conveniences -------------------------------------------------------

    @property
    def home(self) -> str:
        return self.env.home

    @property
    def project(self) -> str:
        return os.path.abspath(self.options.project or self.env.cwd)

    def now(self) -> datetime:
        return self.env.clock()

    def getenv(self, name: str, default: str | None = None) -> str | None:
        return self.env.environ.get(name, default)

    def wants_ecosystem(self, ecosystem: str) -> bool:
        eco = self.options.ecosystems
        return not eco or ecosystem in eco

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def finding(
        self,
        code: str,
        message: str,
        *,
        cause: str | None = None,
        severity: Severity | None = None,
        location: Location | None = None,
        ecosystem: str | None = None,
        credential: str | None = None,
        registry: str | None = None,
        why: str = "",
        evidence: Sequence[str] = (),
        remediation: Remediation | None = None,
        fix: Fix | None = None,
        plugin: str | None = None,
    ) -> Finding:
        """Build a finding for a registered rule, taking name, severity and
        cause from the rule unless overridden."""
        rule = self.rules[code]
        cause = cause if cause is not None else rule.cause
        if cause is not None and cause not in CAUSES:
            raise ValueError(f"{code}: unknown cause {cause!r}")
        return Finding(
            rule=rule.code,
            name=rule.name,
            severity=severity or rule.severity,
            cause=cause,
            message=message,
            ecosystem=ecosystem,
            location=location,
            credential=credential,
            registry=registry,
            why=why,
            evidence=tuple(evidence),
            remediation=remediation,
            fix=fix,
            plugin=plugin or rule.plugin or None,
        )

    def display_path(self, path: str | None) -> str:
        if not path:
            return "?"
        return Location(path).display(self.home)
