"""Argument definitions shared by the commands: value types, the output,
rule-selection and token options, help examples and the epilog (exit codes,
environment)."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NoReturn

from hardoctor.errors import UsageError


class Commands(Mapping[str, argparse.ArgumentParser]):
    """The subcommands' parsers by name; each gets its arguments when first
    looked up.

    Why: a run parses one command, but adding every command's arguments
    (and asking every plugin for its options of each) imported the setup,
    serve, push and fix machinery on every start (issue 14's start-up bar).
    Looking a command up here -- to parse it, to read its config keys, to
    write a completion script -- fills it first, so nothing sees a half-built
    parser."""

    def __init__(self) -> None:
        self._parsers: dict[str, argparse.ArgumentParser] = {}
        self._pending: dict[str, list[Callable[[argparse.ArgumentParser], object]]] = {}

    def add(self, name: str, parser: argparse.ArgumentParser,
            fill: Callable[[argparse.ArgumentParser], object] | None = None) -> None:
        self._parsers[name] = parser
        if fill is not None:
            self._pending.setdefault(name, []).append(fill)

    def later(self, name: str, fill: Callable[[argparse.ArgumentParser], object]) -> None:
        """Run ``fill`` on command ``name``'s parser when it is looked up."""
        if name in self._pending or name not in self._parsers:
            self._pending.setdefault(name, []).append(fill)
        else:
            fill(self._parsers[name])

    def __getitem__(self, name: str) -> argparse.ArgumentParser:
        parser = self._parsers[name]
        for fill in self._pending.pop(name, ()):
            fill(parser)
        return parser

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsers)

    def __len__(self) -> int:
        return len(self._parsers)

    def fill_all(self) -> None:
        for name in list(self._pending):
            self[name]


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, and
    keeps the examples and epilog as written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        #: The subcommands' parsers, by name (config keys come from them).
        self.commands = Commands()

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        # The command is the first word that is not an option (the
        # top-level parser has no option taking a value).
        argv = sys.argv[1:] if args is None else list(args)
        word = next((a for a in argv if not a.startswith("-")), None)
        if word is not None and word in self.commands:
            self.commands[word]
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


#: Every wait has a deadline, and the deadline itself is bounded: a run
#: that may wait longer than five minutes is a hung CI job.
MAX_TIMEOUT_S = 300.0
#: Expiry warnings further ahead than ten years are a typo.
MAX_EXPIRY_DAYS = 3650.0


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number: {text!r}")
    return value


def positive_float(text: str) -> float:
    """A timeout: seconds in (0, 300]."""
    value = number(text)
    if not 0 < value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(
            f"expected a timeout in seconds, greater than 0 and at most {MAX_TIMEOUT_S:g}: "
            f"{text!r}")
    return value


def nonneg_float(text: str) -> float:
    """Days in [0, 3650]."""
    value = number(text)
    if not 0 <= value <= MAX_EXPIRY_DAYS:
        raise argparse.ArgumentTypeError(
            f"expected days from 0 to {MAX_EXPIRY_DAYS:g}: {text!r}")
    return value


def rule_codes(text: str) -> tuple[str, ...]:
    """``NPM010,DKR`` -> codes or prefixes, checked for shape here and
    against the loaded rules later."""
    from hardoctor.config import CODE_PREFIX

    out = []
    for part in text.split(","):
        code = part.strip().upper()
        if not CODE_PREFIX.fullmatch(code):
            raise argparse.ArgumentTypeError(f"not a rule code or prefix: {part.strip()!r}")
        out.append(code)
    return tuple(out)


def add_output_options(p: argparse.ArgumentParser, formats: Sequence[str],
                       verbosity: bool = False) -> None:
    g = p.add_argument_group("output")
    g.add_argument("--format", choices=list(formats), default=None,
                   help="output format (env HARDOCTOR_FORMAT; default text)")
    g.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    g.add_argument("--color", choices=["auto", "always", "never"], default=None,
                   help="colour: auto (a terminal, unless NO_COLOR; FORCE_COLOR forces it), "
                   "always or never")
    g.add_argument("--no-color", action="store_true", help="same as --color never")
    if verbosity:
        g.add_argument("-v", "--verbose", action="count", default=0,
                       help="show each client's whole credential chain (winner, losers, why)")
        g.add_argument("-q", "--quiet", action="store_true",
                       help="only the verdict lines and the summary")
    g.add_argument("--debug", action="store_true", help="show tracebacks (HARDOCTOR_DEBUG=1)")
    g.add_argument("--disable-plugin", action="append", default=[], metavar="NAME",
                   help="do not load plugin NAME (repeatable; HARDOCTOR_DISABLE_PLUGINS)")


def add_rule_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rules (codes or prefixes, comma-separated; config keys too)")
    g.add_argument("--select", action="append", type=rule_codes, default=[], metavar="CODES",
                   help="only these rules (default: all)")
    g.add_argument("--ignore", action="append", type=rule_codes, default=[], metavar="CODES",
                   help="never these rules")
    g.add_argument("--extend-ignore", action="append", type=rule_codes, default=[],
                   metavar="CODES", help="never these rules, added to the configured ignores")


def flat_codes(values: Any) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or []:
        out.extend([v] if isinstance(v, str) else v)
    return tuple(dict.fromkeys(out))


def add_token_parser(sub: Any) -> argparse.ArgumentParser:
    """``hardoctor token inspect``: the token comes on stdin, never in argv
    (where it would land in shell history and ``ps``)."""
    token = sub.add_parser("token", help="inspect one token read from stdin")
    actions = token.add_subparsers(dest="token_command", metavar="ACTION", parser_class=Parser)
    inspect = actions.add_parser("inspect", help="kind, account, fingerprint and expiry of the token on stdin",
                                 epilog="example:\n  printf '%s' \"$TOKEN\" | hardoctor token inspect\n")
    # Caught so that a token given as an argument is refused without being
    # echoed back in argparse's "unrecognized arguments: ..." message.
    inspect.add_argument("argv_token", nargs="*", help=argparse.SUPPRESS)
    g = inspect.add_argument_group("token lookup")
    g.add_argument("--offline", action="store_true", help="decode locally only (HARDOCTOR_OFFLINE=1)")
    g.add_argument("--timeout", type=positive_float, default=None, metavar="SECONDS",
                   help="deadline for the API lookup (HARDOCTOR_TIMEOUT; default 5)")
    g.add_argument("--expiry-warning", type=nonneg_float, default=None, metavar="DAYS",
                   help="'expiring-soon' this many days before expiry (default 7)")
    add_output_options(inspect, ("text", "json"))
    assert isinstance(inspect, argparse.ArgumentParser)
    return inspect


EXIT_CODES = """\
exit codes:
  0  no finding at or above --fail-on (default: error)
  1  findings at or above --fail-on; `fix`: changes would be made
  2  usage error, unreadable config, or hardoctor itself failed
"""

ENVIRONMENT = """\
environment:
  HARDOCTOR_FORMAT, HARDOCTOR_FAIL_ON, HARDOCTOR_TIMEOUT,
  HARDOCTOR_EXPIRY_WARNING, HARDOCTOR_SCOPE,
  HARDOCTOR_OFFLINE=1                    twins of the flags
  HARDOCTOR_DISABLE_PLUGINS=a,b          plugins not to load
  HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD=1    load only the built-in plugins
  HARDOCTOR_DEBUG=1                      tracebacks
  NO_COLOR, FORCE_COLOR                  colour off / on
  COLUMNS                                width of the text output
  XDG_CONFIG_HOME                        user config in
                                         $XDG_CONFIG_HOME/hardoctor/config.toml

configuration: [tool.hardoctor] in pyproject.toml or hardoctor.toml (see
`hardoctor config`); flags > environment > project config > user config.
"""

EXAMPLES = {
    "": """\
examples:
  hardoctor check                         every client, every registry
  hardoctor check --scope project         only the repository (pre-commit)
  hardoctor fix --apply                   repair what can be repaired safely
  hardoctor tokens                        every stored token and its expiry
  hardoctor explain NPM010                a rule's page
""",
    "check": """\
examples:
  hardoctor check
  hardoctor check --registry registry.example.com -v
  hardoctor check -q --fail-on warning
  hardoctor check --scope project --offline --ignore NPM010
  hardoctor check --format sarif -o hardoctor.sarif
""",
    "fix": """\
examples:
  hardoctor fix                           show the diff
  hardoctor fix --apply                   write it (backup kept)
  hardoctor fix --undo                    restore the files of the last --apply
  printf '%s' "$NEW" | hardoctor fix --token-stdin --apply
""",
    "tokens": """\
examples:
  hardoctor tokens
  hardoctor tokens --format json | jq '.tokens[] | select(.days_left < 14)'
  hardoctor tokens --fail-on warning      exit 1 when a token expires soon
""",
    "config": """\
examples:
  hardoctor config                        each setting, its value, its origin
  hardoctor config --format json
""",
}


def epilog(command: str = "") -> str:
    return f"{EXAMPLES.get(command, '')}\n{EXIT_CODES}\n{ENVIRONMENT}"
