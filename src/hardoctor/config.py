"""hardoctor's own configuration: ``[tool.hardoctor]`` in the project's
``pyproject.toml``, a ``hardoctor.toml`` (or ``.hardoctor.toml``), and the
user's ``$XDG_CONFIG_HOME/hardoctor/config.toml``.

Every key is an option of the command line, spelled as its flag without the
dashes (``fail-on``, ``timeout``, ``ignore``, and any plugin's own flag such
as ``manifests``).  A value is checked by the very code that checks the flag
(the argparse action's ``type`` and ``choices``), so a key means exactly
what the flag means.  Precedence: flags > environment > project config >
user config > defaults.  ``extend-ignore`` accumulates over every layer.

A key nobody knows, or a bad value, is a usage error (exit 2) naming the
file and line.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from hardoctor import lazyre
from hardoctor.errors import UsageError
from hardoctor.records import dataclass, field

#: Config files larger than this are refused (every input has a size cap).
MAX_CONFIG_BYTES = 256 * 1024
#: Options that describe one invocation, not a setting a project pins.
NOT_CONFIGURABLE = frozenset({
    "command", "targets", "apply", "undo", "unsafe", "output", "project", "version",
    "help", "code", "argv_token", "token_command", "debug", "config_command",
    "disable_plugin",
})
#: Why a flag is not a config key, for the ones a person may well try.
WHY_NOT = {
    "disable-plugin": "plugins load before config files are read: use HARDOCTOR_DISABLE_PLUGINS",
    "apply": "writing files is decided per run, on the command line",
    "unsafe": "unsafe fixes are chosen per run, on the command line",
    "output": "the report file is chosen per run, on the command line",
    "project": "the config file is found from the project, not the other way round",
    "debug": "use HARDOCTOR_DEBUG=1",
}
_ENV_TWIN = lazyre.compile(r"\b(HARDOCTOR_[A-Z0-9_]+|NO_COLOR|FORCE_COLOR)\b")
#: A rule code or prefix as ``--select``/``--ignore`` accept it.
CODE_PREFIX = lazyre.compile(r"[A-Z][A-Z0-9]{0,3}[0-9]{0,3}")
#: Keys whose values add up over the layers instead of replacing each other.
ACCUMULATE = frozenset({"extend_ignore"})


@dataclass(frozen=True)
class Origin:
    """Where an effective value came from."""

    kind: str  # "flag", "env", "project", "user", "default"
    path: str | None = None
    line: int | None = None
    env: str | None = None

    def describe(self, home: str | None = None) -> str:
        if self.kind == "env":
            return f"environment {self.env}"
        if self.path:
            path = self.path
            if home and path.startswith(home.rstrip("/") + "/"):
                path = "~" + path[len(home.rstrip("/")):]
            where = f"{path}:{self.line}" if self.line else path
            return f"{self.kind} config {where}"
        return {"flag": "command line"}.get(self.kind, self.kind)


@dataclass
class Layer:
    """One config file: its table, and the line of each key."""

    kind: str
    path: str
    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)

    def origin(self, key: str) -> Origin:
        return Origin(self.kind, self.path, self.lines.get(key))


def user_config_path(environ: Mapping[str, str], home: str) -> str:
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return os.path.join(base, "hardoctor", "config.toml")


def find_project_config(start: str) -> tuple[str, bool] | None:
    """The nearest ``hardoctor.toml``/``.hardoctor.toml``, or
    ``pyproject.toml`` with a ``[tool.hardoctor]`` table, from ``start``
    upwards (ruff's search); ``(path, is_pyproject)``."""
    here = os.path.abspath(start)
    while True:
        for name in ("hardoctor.toml", ".hardoctor.toml"):
            path = os.path.join(here, name)
            if os.path.isfile(path):
                return path, False
        py = os.path.join(here, "pyproject.toml")
        if os.path.isfile(py) and _has_tool_table(py):
            return py, True
        parent = os.path.dirname(here)
        if parent == here or os.path.isdir(os.path.join(here, ".git")):
            return None
        here = parent


def _has_tool_table(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError:
        return False
    return re.search(r"^\s*\[\s*tool\s*\.\s*hardoctor\s*[\].]", text, re.M) is not None


def load_layer(kind: str, path: str, pyproject: bool) -> Layer:
    """Parse one file; a broken file is a usage error with file:line."""
    import importlib

    try:
        tomllib: Any = importlib.import_module("tomllib")
    except ModuleNotFoundError:  # Python 3.10: the backport (a dependency there)
        tomllib = importlib.import_module("tomli")
    try:
        size = os.path.getsize(path)
        if size > MAX_CONFIG_BYTES:
            raise UsageError(f"{path}: config file larger than {MAX_CONFIG_BYTES} bytes")
        with open(path, "rb") as fh:
            raw = fh.read()
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_of_error(str(exc))
        # tomllib's message names a position and a category, never the text.
        reason = str(exc).split(" (at ")[0]
        raise UsageError(f"{path}:{line or '?'}: invalid TOML: {reason}") from None
    table: Any = data
    if pyproject:
        table = data.get("tool", {}).get("hardoctor", {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.hardoctor] must be a table")
    return Layer(kind, path, dict(table), _key_lines(text, pyproject))


def _line_of_error(message: str) -> int | None:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def _key_lines(text: str, pyproject: bool) -> dict[str, int]:
    """Line of each top-level key of the table (tomllib keeps no positions)."""
    lines: dict[str, int] = {}
    inside = not pyproject
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("["):
            inside = pyproject and re.match(r"\[\s*tool\s*\.\s*hardoctor\s*\]", s) is not None
            continue
        m = re.match(r"""^["']?([A-Za-z0-9_-]+)["']?\s*=""", s)
        if inside and m:
            lines.setdefault(m.group(1), n)
    return lines


def key_name(dest: str) -> str:
    return dest.replace("_", "-")


def configurable_actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The options of one command that a config file may set, by key."""
    out: dict[str, argparse.Action] = {}
    for action in parser._actions:
        if not action.option_strings or action.dest in NOT_CONFIGURABLE:
            continue
        if action.dest.endswith("_stdin") or isinstance(action, argparse._HelpAction):
            continue
        out.setdefault(key_name(action.dest), action)
    return out


def env_twins(action: argparse.Action) -> list[str]:
    """The environment variables an option's help names as its twin."""
    return _ENV_TWIN.findall(action.help or "") if action.help else []


def convert(action: argparse.Action, value: Any, where: str) -> Any:
    """A config value, checked and converted as the flag's value would be."""
    flag = action.option_strings[-1]
    nargs_list = isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+")
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        if not isinstance(value, bool):
            raise UsageError(f"{where}: {flag[2:]} must be true or false")
        return value if isinstance(action, argparse._StoreTrueAction) else not value
    if isinstance(action, argparse._CountAction):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise UsageError(f"{where}: {flag[2:]} must be a non-negative integer")
        return value
    if nargs_list:
        items = value if isinstance(value, list) else [value]
        return [_one(action, item, where) for item in items]
    if isinstance(value, list):
        raise UsageError(f"{where}: {flag[2:]} takes one value, not a list")
    return _one(action, value, where)


def _one(action: argparse.Action, value: Any, where: str) -> Any:
    name = action.option_strings[-1][2:]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UsageError(f"{where}: {name} must be a string or a number")
    text = str(value)
    if not text.strip():
        raise UsageError(f"{where}: {name} must not be empty")
    out: Any = text
    if callable(action.type):
        try:
            out = action.type(text)
        except (argparse.ArgumentTypeError, TypeError, ValueError) as exc:
            raise UsageError(f"{where}: {name}: {exc}") from None
    if action.choices is not None and out not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise UsageError(f"{where}: {name}: {text!r} is not one of {choices}")
    return out


@dataclass
class Resolved:
    """Effective configurable values of one command, with their origins."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    layers: list[Layer] = field(default_factory=list)


def load_layers(environ: Mapping[str, str], home: str, project: str) -> list[Layer]:
    """User config first, then the project's: later layers win."""
    layers: list[Layer] = []
    user = user_config_path(environ, home)
    if os.path.isfile(user):
        layers.append(load_layer("user", user, False))
    found = find_project_config(project)
    if found is not None and os.path.abspath(found[0]) != os.path.abspath(user):
        layers.append(load_layer("project", *found))
    return layers


def validate(layers: Sequence[Layer], known: Mapping[str, argparse.Action],
             everywhere: frozenset[str]) -> None:
    """Unknown keys and bad values exit 2 with file:line, whichever command runs."""
    for layer in layers:
        for raw, value in layer.values.items():
            key = raw.replace("_", "-")
            where = f"{layer.path}:{layer.lines.get(raw, '?')}"
            if key in WHY_NOT:
                raise UsageError(f"{where}: {raw!r} cannot be set in a config file ({WHY_NOT[key]})")
            if key not in everywhere:
                import difflib

                near = difflib.get_close_matches(key, sorted(everywhere), n=1)
                hint = f"did you mean {near[0]!r}? " if near else ""
                raise UsageError(f"{where}: unknown key {raw!r} ({hint}see `hardoctor config`)")
            action = known.get(key)
            if action is not None and key != "format":
                convert(action, value, where)
            if key in ("select", "ignore", "extend-ignore"):
                _check_codes(value, where, key)


def _check_codes(value: Any, where: str, key: str) -> None:
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, str) or not CODE_PREFIX.fullmatch(item.strip().upper()):
            raise UsageError(f"{where}: {key}: {item!r} is not a rule code or prefix")


def apply(ns: argparse.Namespace, parser: argparse.ArgumentParser, layers: Sequence[Layer],
          environ: Mapping[str, str], given: set[str],
          all_formats: frozenset[str] = frozenset()) -> Resolved:
    """Fill the options not given on the command line (``given``: dests) and
    not set in the environment from the config layers."""
    actions = configurable_actions(parser)
    resolved = Resolved(layers=list(layers))
    for key, action in actions.items():
        dest = action.dest
        twins = [e for e in env_twins(action) if environ.get(e, "").strip()]
        if dest in given:
            resolved.origins[key] = Origin("flag")
        elif twins:
            resolved.origins[key] = Origin("env", env=twins[0])
        else:
            resolved.origins[key] = Origin("default")
        resolved.values[key] = getattr(ns, dest, None)
        collected: list[Any] = []
        for layer in layers:
            raw = next((k for k in layer.values if k.replace("_", "-") == key), None)
            if raw is None:
                continue
            where = f"{layer.path}:{layer.lines.get(raw, '?')}"
            if key == "format" and action.choices is not None and layer.values[raw] not in action.choices:
                if layer.values[raw] not in all_formats:
                    raise UsageError(f"{where}: format: {layer.values[raw]!r} is not a known format")
                continue  # a format this command cannot produce: the config is for another
            value = _relative_to(action, convert(action, layer.values[raw], where), layer.path)
            if dest in ACCUMULATE:
                collected.extend(value)
                resolved.origins[key] = layer.origin(raw)
                continue
            if dest in given or twins:
                continue
            setattr(ns, dest, value)
            resolved.values[key] = value
            resolved.origins[key] = layer.origin(raw)
        if collected:
            setattr(ns, dest, [*collected, *(getattr(ns, dest, None) or [])])
            resolved.values[key] = getattr(ns, dest)
    return resolved


#: Metavars of options that take a path: a relative path in a config file
#: is relative to that file's directory (as in ruff), not to the cwd.
PATH_METAVARS = frozenset({"PATH", "FILE", "DIR"})


def _relative_to(action: argparse.Action, value: Any, config_path: str) -> Any:
    if action.metavar not in PATH_METAVARS:
        return value
    base = os.path.dirname(os.path.abspath(config_path))

    def fix(v: Any) -> Any:
        if isinstance(v, str) and not os.path.isabs(os.path.expanduser(v)) and v != "-":
            return os.path.join(base, v)
        return v

    return [fix(v) for v in value] if isinstance(value, list) else fix(value)


def given_dests(parser: argparse.ArgumentParser, args: Sequence[str]) -> set[str]:
    """Which options the command line gave (by dest), including
    ``--flag=value`` and unambiguous abbreviations argparse accepts."""
    by_flag: dict[str, str] = {}
    for action in parser._actions:
        for flag in action.option_strings:
            by_flag[flag] = action.dest
    out: set[str] = set()
    for arg in args:
        if arg == "--":
            break
        if not arg.startswith("-") or arg == "-":
            continue
        flag = arg.split("=", 1)[0]
        if flag in by_flag:
            out.add(by_flag[flag])
        elif flag.startswith("--"):
            matches = {d for f, d in by_flag.items() if f.startswith(flag)}
            if len(matches) == 1:
                out |= matches
        elif len(flag) > 2:  # -vv, -n NS glued
            short = flag[:2]
            if short in by_flag:
                out.add(by_flag[short])
    return out


#: The commands whose options a config file sets.
CONFIGURED_COMMANDS = ("check", "fix", "tokens", "serve")


def all_keys(commands: Mapping[str, argparse.ArgumentParser]) -> frozenset[str]:
    keys: set[str] = set()
    for sp in commands.values():
        keys |= set(configurable_actions(sp))
    return frozenset(keys)


def all_formats(commands: Mapping[str, argparse.ArgumentParser]) -> frozenset[str]:
    out: set[str] = set()
    for sp in commands.values():
        action = configurable_actions(sp).get("format")
        if action is not None and action.choices is not None:
            out |= {str(c) for c in action.choices}
    return frozenset(out)


def configure(commands: Mapping[str, argparse.ArgumentParser], command: str,
              ns: argparse.Namespace, args: Sequence[str], environ: Mapping[str, str],
              home: str, cwd: str) -> Resolved | None:
    """Load the config layers, check every key, and fill ``ns`` for
    ``command``; ``None`` for commands without settings."""
    project = getattr(ns, "project", None)
    start = os.path.join(cwd, os.path.expanduser(project)) if project else cwd
    layers = load_layers(environ, home, start)
    parser = commands.get(command)
    if parser is None or command not in CONFIGURED_COMMANDS:
        if layers:
            validate(layers, {}, all_keys({c: commands[c] for c in CONFIGURED_COMMANDS
                                           if c in commands}))
        return None
    rest = list(args)[list(args).index(command) + 1:] if command in args else list(args)
    if not layers:
        # No file to check against every command's keys: the other commands'
        # parsers stay unbuilt (start-up, see cliargs.Commands).
        return apply(ns, parser, layers, environ, given_dests(parser, rest))
    configured = {c: commands[c] for c in CONFIGURED_COMMANDS if c in commands}
    validate(layers, configurable_actions(parser), all_keys(configured))
    return apply(ns, parser, layers, environ, given_dests(parser, rest), all_formats(configured))
