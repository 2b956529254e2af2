"""``hardoctor completion bash|zsh|fish``: a completion script generated
from the very parser the run uses, so plugin options complete too
(bash and zsh through shtab; fish written here, shtab has no fish)."""

from __future__ import annotations

import argparse

from hardoctor.errors import UsageError


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    commands = getattr(parser, "commands", None)
    if commands is not None and hasattr(commands, "fill_all"):
        commands.fill_all()  # every command's options, not only the parsed one's
    if shell == "fish":
        return _fish(parser)
    try:
        import shtab
    except ImportError:  # a declared dependency; a broken install says so
        raise UsageError("completion needs the shtab package, a dependency of hardoctor: "
                         "reinstall hardoctor") from None
    return str(shtab.complete(parser, shell=shell))


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish(parser: argparse.ArgumentParser) -> str:
    commands: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands = dict(action.choices)
    names = " ".join(commands)
    lines = [
        "# hardoctor completion for fish: hardoctor completion fish | source",
        "complete -c hardoctor -f",
        f"complete -c hardoctor -n 'not __fish_seen_subcommand_from {names}' "
        f"-a {_quote(names)}",
        "complete -c hardoctor -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'",
    ]
    for name, sp in commands.items():
        cond = f"'__fish_seen_subcommand_from {name}'"
        for action in sp._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            for flag in action.option_strings:
                opt = f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}"
                line = f"complete -c hardoctor -n {cond} {opt}"
                if action.choices:
                    line += f" -x -a {_quote(' '.join(map(str, action.choices)))}"
                elif action.nargs != 0 and action.metavar in ("FILE", "PATH", "DIR"):
                    line += " -r -F"
                elif action.nargs != 0:
                    line += " -x"
                if action.help:
                    line += f" -d {_quote(action.help.split(' (')[0][:60])}"
                lines.append(line)
    return "\n".join(lines) + "\n"
