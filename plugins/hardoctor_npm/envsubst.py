"""``${VAR}`` expansion as each client does it -- they disagree, and the
disagreement is what breaks people's CI.

* npm (``@npmcli/config/lib/env-replace.js``): ``${VAR}`` becomes the
  variable's value; an **unset** variable leaves ``${VAR}`` in place (npm then
  sends that text as the token); ``${VAR?}`` becomes empty instead.  Anything
  else inside the braces (``${VAR:-default}``) is taken as a variable *name*,
  which is never set, so the text stays literal.  A backslash escapes.
* pnpm (``@pnpm/config.env-replace``): ``${VAR}`` and ``${VAR:-default}``;
  an unset variable without a default makes pnpm warn ``Failed to replace env
  in config`` and keep the text.
* Yarn Berry (``miscUtils.replaceEnvVariables``): ``${VAR}``,
  ``${VAR:-default}``, ``${VAR-default}``; an unset variable without a
  default aborts every command (``Environment variable not found (VAR)``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from hardoctor import lazyre
from hardoctor.records import dataclass

_NPM_RE = lazyre.compile(r"(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}")
_PNPM_RE = lazyre.compile(r"(?<!\\)(\\*)\$\{([^${}]+)\}")
_DEFAULT_SYNTAX = lazyre.compile(r"[A-Za-z_][A-Za-z0-9_]*:?-.*", re.DOTALL)
_YARN_RE = lazyre.compile(r"\$\{([\w]+)(:)?-?([^}]+)?\}", re.ASCII)


@dataclass(frozen=True)
class EnvRef:
    """One ``${...}`` reference and what the client made of it."""

    name: str
    #: Offsets of the ``${...}`` text in the input string.
    start: int
    end: int
    #: The variable is set in the environment (possibly to "").
    is_set: bool
    #: The client left the reference as literal text (an unset variable).
    literal: bool = False
    #: The client uses a default/empty value instead.
    defaulted: bool = False
    #: ``${VAR:-x}`` / ``${VAR-x}`` syntax (npm does not support it).
    default_syntax: bool = False
    #: Yarn aborts on this reference.
    fatal: bool = False


@dataclass(frozen=True)
class Expanded:
    value: str
    refs: tuple[EnvRef, ...] = ()

    @property
    def unset(self) -> tuple[EnvRef, ...]:
        return tuple(r for r in self.refs if r.literal or r.fatal)


def npm(text: str, env: Mapping[str, str]) -> Expanded:
    if "${" not in text:  # the common case, at C speed (a token is megabytes long)
        return Expanded(text)
    refs: list[EnvRef] = []

    def repl(m: re.Match[str]) -> str:
        esc, name, modifier = m.group(1), m.group(2), m.group(3)
        orig = m.group(0)
        start = m.start() + len(esc)
        if len(esc) % 2:
            return orig[(len(esc) + 1) // 2 :]
        is_set = name in env
        default_syntax = bool(_DEFAULT_SYNTAX.fullmatch(name))
        if is_set:
            val = env[name]
            refs.append(EnvRef(name, start, m.end(), True))
        elif modifier == "?":
            val = ""
            refs.append(EnvRef(name, start, m.end(), False, defaulted=True))
        else:
            val = "${" + name + "}"
            refs.append(EnvRef(name, start, m.end(), False, literal=True,
                               default_syntax=default_syntax))
        return esc[len(esc) // 2 :] + val

    out = _NPM_RE.sub(repl, text)
    return Expanded(out, tuple(refs))


def _split_default(name: str) -> tuple[str, str | None]:
    if ":-" in name:
        var, _, fallback = name.partition(":-")
        return var, fallback
    return name, None


def pnpm(text: str, env: Mapping[str, str]) -> Expanded:
    if "${" not in text:
        return Expanded(text)
    refs: list[EnvRef] = []

    def repl(m: re.Match[str]) -> str:
        esc, raw = m.group(1), m.group(2)
        orig = m.group(0)
        start = m.start() + len(esc)
        if len(esc) % 2:
            return orig[(len(esc) + 1) // 2 :]
        name, fallback = _split_default(raw)
        if name in env:
            refs.append(EnvRef(name, start, m.end(), True, default_syntax=fallback is not None))
            return esc[len(esc) // 2 :] + env[name]
        if fallback is not None:
            refs.append(EnvRef(name, start, m.end(), False, defaulted=True, default_syntax=True))
            return esc[len(esc) // 2 :] + fallback
        refs.append(EnvRef(name, start, m.end(), False, literal=True))
        return orig

    out = _PNPM_RE.sub(repl, text)
    return Expanded(out, tuple(refs))


def yarn(text: str, env: Mapping[str, str]) -> Expanded:
    if "${" not in text:
        return Expanded(text)
    refs: list[EnvRef] = []

    def repl(m: re.Match[str]) -> str:
        name, colon, fallback = m.group(1), m.group(2), m.group(3)
        exists = name in env
        value = env.get(name)
        syntax = fallback is not None
        if value:
            refs.append(EnvRef(name, m.start(), m.end(), True, default_syntax=syntax))
            return value
        if exists and colon:
            refs.append(EnvRef(name, m.start(), m.end(), True, defaulted=True, default_syntax=syntax))
            return fallback or ""
        if exists:
            refs.append(EnvRef(name, m.start(), m.end(), True, default_syntax=syntax))
            return value or ""
        if fallback:
            refs.append(EnvRef(name, m.start(), m.end(), False, defaulted=True, default_syntax=True))
            return fallback
        refs.append(EnvRef(name, m.start(), m.end(), False, literal=True, fatal=True))
        return m.group(0)

    out = _YARN_RE.sub(repl, text)
    return Expanded(out, tuple(refs))
