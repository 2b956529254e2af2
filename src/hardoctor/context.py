"""The run context handed to every hook as ``ctx``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from hardoctor.env import Environment
from hardoctor.errors import UsageError
from hardoctor.model import (
    CAUSES,
    Credential,
    Finding,
    Fix,
    Location,
    RegistryInfo,
    Remediation,
    Severity,
)
from hardoctor.records import dataclass, field
from hardoctor.rules import RuleRegistry
from hardoctor.stash import Stash

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
    expiry_warning_days: float = 7.0
    push: bool = False
    apply: bool = False
    unsafe: bool = False
    only: tuple[str, ...] = ()
    #: ``--select`` / ``--ignore`` + ``--extend-ignore``: rule codes or
    #: prefixes (flags, environment, config files; see hardoctor.config).
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    disabled_plugins: tuple[str, ...] = ()
    #: ``--client NAME``: judge only these clients (ids from the plugins'
    #: ``hardoctor_client_names``); empty: each plugin decides.
    clients: tuple[str, ...] = ()
    #: Values of the options plugins added (``hardoctor_addoption``), by
    #: argparse dest.  Read them with the typed accessors below.
    extra: Mapping[str, object] = field(default_factory=dict)

    def flag(self, dest: str) -> bool:
        """A plugin's ``store_true`` option."""
        return bool(self.extra.get(dest, False))

    def string(self, dest: str) -> str | None:
        """A plugin's single-valued option, or ``None``."""
        value = self.extra.get(dest)
        return value if isinstance(value, str) else None

    def strings(self, dest: str) -> tuple[str, ...]:
        """A plugin's repeatable (``append``) option; empty values are refused."""
        value = self.extra.get(dest)
        if not isinstance(value, (list, tuple)):
            return ()
        out: list[str] = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                flag = "--" + dest.replace("_", "-")
                raise UsageError(f"argument {flag}: expected a non-empty value")
            out.append(item)
        return tuple(out)

    def number(self, dest: str) -> float | None:
        """A plugin's numeric option (already converted by argparse)."""
        value = self.extra.get(dest)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)


class Context:
    """Everything a hook may need: options, environment, rules, typed state.

    Not frozen: plugins keep per-run state in ``stash`` under their own
    :class:`~hardoctor.stash.StashKey` so that a file parsed during
    ``discover`` is not parsed again in ``lint``.
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
        self.stash = Stash()
        self._registry_info: dict[tuple[str, str | None], RegistryInfo | None] = {}
        self._stdin_owner: str | None = None
        self.started_at: datetime = env.clock()
        self.warnings: list[str] = []
        #: realpath -> (text, mode) staged by an earlier ``fix`` pass; read
        #: through :func:`hardoctor.files.read_file`.
        self.overlay: dict[str, tuple[str, int]] = {}
        #: Findings silenced by --ignore/--select or inline comments.
        self.silenced = 0

    # -- conveniences -------------------------------------------------------

    @property
    def home(self) -> str:
        return self.env.home

    @property
    def project(self) -> str:
        # Relative to the run's working directory (``--project .``), not the process's.
        return os.path.abspath(os.path.join(self.env.cwd, self.options.project or "."))

    def in_scope(self, path: str) -> bool:
        """``--scope project`` reads only the repository: True for a path
        under the project directory (symbolic links resolved, so a link to a
        file in HOME is outside), always True with ``--scope all``.  Sources
        the person named on the command line are marked ``explicit`` instead."""
        if self.options.scope != "project":
            return True
        root = os.path.realpath(self.project)
        real = os.path.realpath(path)
        return real == root or real.startswith(root.rstrip(os.sep) + os.sep)

    def now(self) -> datetime:
        return self.env.clock()

    def getenv(self, name: str, default: str | None = None) -> str | None:
        return self.env.environ.get(name, default)

    def wants_ecosystem(self, ecosystem: str) -> bool:
        eco = self.options.ecosystems
        return not eco or ecosystem in eco

    def claim_stdin(self, what: str) -> None:
        """Say that option ``what`` reads standard input.  Stdin can be read
        once: a second, different claim is a usage error naming both."""
        if self._stdin_owner is not None and self._stdin_owner != what:
            raise UsageError(f"{self._stdin_owner} and {what} both want stdin; "
                             f"give one of them a file")
        self._stdin_owner = what

    def registry_info(self, url: str, package_type: str | None = None) -> RegistryInfo | None:
        """What the vendor that owns ``url`` says about it
        (``hardoctor_registry_info``), once per (URL, package type) per run;
        ``None`` when no loaded plugin owns it."""
        key = (url, package_type)
        if key in self._registry_info:
            return self._registry_info[key]
        info: RegistryInfo | None = None
        if self.plugins is not None:
            found = self.plugins.call_first(
                "hardoctor_registry_info", url=url, package_type=package_type, ctx=self
            )
            info = found[1] if found and isinstance(found[1], RegistryInfo) else None
        self._registry_info[key] = info
        return info

    def remediation(self, finding: Finding, credential: Credential | None) -> Remediation | None:
        """The owning vendor's remediation for ``finding``, if any."""
        if self.plugins is None:
            return None
        found = self.plugins.call_first(
            "hardoctor_remediation", finding=finding, credential=credential, ctx=self
        )
        return found[1] if found and isinstance(found[1], Remediation) else None

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
