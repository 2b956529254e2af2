"""The rule registry: every finding has a rule, every rule a valid, unique code."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hardoctor import lazyre
from hardoctor.model import CAUSES, Applicability, Rule, Severity

#: A prefix of two or three characters that starts and ends with a capital
#: (a digit may stand between), then three digits: ``DKR001``, ``HD002``,
#: ``K8S010``.
CODE_RE = lazyre.compile(r"[A-Z][A-Z0-9]?[A-Z][0-9]{3}")
NAME_RE = lazyre.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def rule_page(what: str, why: str, example: str, fix: str, safety: str) -> str:
    """A rule's ``explain`` page in the house layout (ruff's rule pages):
    what it detects, why the client fails, an example, the fix and whether
    the automatic fix is safe."""
    return (
        f"What it does\n  {what}\n\nWhy it matters\n  {why}\n\nExample\n  {example}\n\n"
        f"Fix\n  {fix}\n  {safety}\n"
    )


_SAFETY = {
    None: "No automatic fix.",
    Applicability.SAFE: "`hardoctor fix --apply` repairs it; the fix is safe (the client reads "
    "the same credential afterwards, or a stricter file mode).",
    Applicability.UNSAFE: "`hardoctor fix --unsafe --apply` repairs it; the fix is unsafe because "
    "it changes which credential the client sends.",
}


def rule(
    code: str,
    name: str,
    severity: Severity,
    cause: str | None,
    summary: str,
    *,
    what: str,
    why: str,
    example: str,
    fix: str,
    fixable: Applicability | None = None,
    safety: str | None = None,
    rank: int = 0,
    replaces: tuple[str, ...] = (),
) -> Rule:
    """The one way to declare a rule: its page in the house layout
    (:func:`rule_page`) with the standard fix-safety sentence unless
    ``safety`` says more.  The registering plugin's name is filled in at
    registration."""
    page = rule_page(what, why, example, fix, safety if safety is not None else _SAFETY[fixable])
    return Rule(code, name, severity, summary, page, cause, fixable, "", rank, replaces)


class RuleError(ValueError):
    """A rule was refused at load time (bad code, duplicate, unknown cause)."""


class RuleRegistry:
    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}
        self._moved: dict[str, str] = {}
        self._by_name: dict[str, str] = {}  # name -> code: one lookup, not a scan per rule

    def register(self, rule: Rule) -> None:
        if not CODE_RE.fullmatch(rule.code):
            raise RuleError(f"rule code {rule.code!r} does not match {CODE_RE.pattern}")
        if not NAME_RE.fullmatch(rule.name):
            raise RuleError(f"rule {rule.code}: name {rule.name!r} is not kebab-case")
        if rule.code in self._rules:
            other = self._rules[rule.code]
            raise RuleError(
                f"rule code {rule.code} registered twice ({other.plugin or '?'} and "
                f"{rule.plugin or '?'})"
            )
        clash = self._by_name.get(rule.name)
        if clash is not None:
            # `hardoctor explain NAME` must be unambiguous.
            raise RuleError(f"rule {rule.code}: name {rule.name!r} is already used by {clash}")
        if rule.cause is not None and rule.cause not in CAUSES:
            raise RuleError(f"rule {rule.code}: unknown cause {rule.cause!r}")
        if not isinstance(rule.severity, Severity):
            raise RuleError(f"rule {rule.code}: severity must be a Severity")
        self._rules[rule.code] = rule
        self._by_name[rule.name] = rule.code
        for old in rule.replaces:
            self._moved[old.upper()] = rule.code

    def moved_to(self, code: str) -> Rule | None:
        """The rule that took over ``code`` after it moved, if one did."""
        new = self._moved.get(code.strip().upper())
        return self._rules.get(new) if new else None

    def __getitem__(self, code: str) -> Rule:
        return self._rules[code.upper()]

    def get(self, code: str) -> Rule | None:
        return self._rules.get(code.upper())

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.upper() in self._rules

    def __iter__(self) -> Iterator[Rule]:
        return iter(sorted(self._rules.values(), key=lambda r: r.code))

    def __len__(self) -> int:
        return len(self._rules)

    def select(self, codes: Iterable[str]) -> set[str]:
        """Expand codes and prefixes (``DKR``, ``DKR0``) to known codes."""
        out: set[str] = set()
        for raw in codes:
            prefix = raw.strip().upper()
            if not prefix:
                continue
            matched = {c for c in self._rules if c.startswith(prefix)}
            if not matched:
                raise RuleError(f"unknown rule code {raw!r}")
            out |= matched
        return out


# Core rules: problems of hardoctor itself and of its plugins.
CORE_RULES = (
    Rule(
        code="HD001",
        name="plugin-load-failed",
        severity=Severity.WARNING,
        summary="A plugin could not be imported or registered.",
        explain="""\
What it does
  Reports a plugin (built-in or installed through the `hardoctor` entry-point
  group) that failed to import, or whose rules were refused.

Why it matters
  The checks that plugin provides did not run, so a clean report may be
  incomplete.

Example
  hardoctor-acme 1.0 is installed but imports a module that is missing.

Fix
  Reinstall or upgrade the plugin, or block it with
  `--disable-plugin NAME` / `HARDOCTOR_DISABLE_PLUGINS=NAME`.  No automatic fix.
""",
    ),
    Rule(
        code="HD002",
        name="plugin-hook-error",
        severity=Severity.ERROR,
        summary="A plugin raised an exception inside a hook.",
        explain="""\
What it does
  Reports a plugin that raised while hardoctor called one of its hooks.  The
  other plugins still ran.

Why it matters
  Whatever that hook would have found is missing from the report.

Example
  `hardoctor_lint` of plugin `acme` raised KeyError('auths').

Fix
  Run with `--debug` for the traceback and report it to the plugin's authors;
  `--disable-plugin NAME` skips it meanwhile.  No automatic fix.
""",
    ),
    Rule(
        code="HD003",
        name="source-unreadable",
        severity=Severity.ERROR,
        cause="config-invalid",
        summary="A configuration file exists but cannot be read.",
        explain="""\
What it does
  Reports a configuration file that exists but could not be read (permission
  denied, a directory where a file belongs, invalid UTF-8).

Why it matters
  The client fails to read it too, usually with a less helpful message, or
  silently ignores it.

Example
  A client's config file owned by root with mode 0600 while you run as yourself.

Fix
  Fix ownership or permissions (`sudo chown $USER FILE`).
  No automatic fix.
""",
    ),
    Rule(
        code="CHK001",
        name="protocol-not-probed",
        severity=Severity.WARNING,
        summary="Online, no loaded plugin probes the protocol a client speaks.",
        explain="""\
What it does
  Reports a client's resolution that names a wire protocol (``oci``, ...)
  when the run is online but no loaded plugin returned a probe for it,
  usually because the protocol plugin is disabled.

Why it matters
  Nothing asked the registry, so a revoked or expired token looks exactly
  like a working one: the registry is not checked, not passing.

Example
  `hardoctor check --disable-plugin oci` with a pull secret in a manifest.

Fix
  Enable the protocol's plugin (remove it from `--disable-plugin` /
  `HARDOCTOR_DISABLE_PLUGINS`).  No automatic fix.
""",
    ),
    Rule(
        code="CHK002",
        name="probe-could-not-run",
        severity=Severity.ERROR,
        summary="Online, a probe could not run, and nothing else explains it: not checked.",
        explain="""\
What it does
  Reports a registry whose probe ended without an answer that any rule
  explains (the probe raised, or refused to send a credential), so whether
  the client would succeed is unknown.

Why it matters
  A check that could not run is not a pass: a CI gate must not turn green
  because the network part never happened.

Example
  A probe plan that raised an exception inside a plugin.

Fix
  Run again with `--debug` for the reason; transport problems (DNS, TLS,
  proxy) have their own NET rules.  No automatic fix.
""",
    ),
)

FIX_SAFE = Applicability.SAFE
FIX_UNSAFE = Applicability.UNSAFE
