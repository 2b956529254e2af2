"""Command line: parse, run, report, and map every outcome to an exit code.

Tracebacks are shown only with ``--debug``; every other failure is one line
on stderr and exit 2.  ``--version`` is answered before anything heavy is
imported.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from hardoctor import __version__

if TYPE_CHECKING:
    from hardoctor.context import Context, Options
    from hardoctor.env import Environment
    from hardoctor.model import Report
    from hardoctor.plugins import PluginManager


class ExitStatus(enum.IntEnum):
    OK = 0
    FINDINGS = 1
    ERROR = 2


from hardoctor.cliargs import Parser as _Parser  # noqa: E402
from hardoctor.cliargs import (  # noqa: E402
    add_output_options,
    add_rule_options,
    add_token_parser,
    epilog,
)
from hardoctor.cliargs import nonneg_float as _nonneg_float  # noqa: E402
from hardoctor.cliargs import positive_float as _positive_float  # noqa: E402
from hardoctor.cliopts import env_bool as _env_bool  # noqa: E402
from hardoctor.cliopts import options_from_args as options_from_args  # noqa: E402  (re-exported)
from hardoctor.errors import UsageError  # noqa: E402  (re-exported: hardoctor.cli.UsageError)


def _add_scope_options(
    p: argparse.ArgumentParser, examples: Sequence[str] = (), ecosystems: Sequence[str] = ()
) -> None:
    g = p.add_argument_group("scope")
    spelled = ", ".join([*examples, "or a registry host/URL"]) if examples else "a registry host/URL"
    g.add_argument("targets", nargs="*", metavar="TARGET", help=spelled)
    g.add_argument("--registry", action="append", default=[], metavar="HOST_OR_URL",
                   help="only this registry (repeatable)")
    g.add_argument("--ecosystem", action="append", default=[], metavar="NAME",
                   help="only this ecosystem (repeatable): "
                   + (", ".join(ecosystems) or "see `hardoctor plugins`"))
    g.add_argument("--client", action="append", default=[], metavar="NAME",
                   help="judge only this client (repeatable; see `hardoctor plugins`); default: "
                   "the clients the project's lock files, configuration and PATH show in use")
    g.add_argument("--project", metavar="DIR", help="project directory (default: the working directory)")
    g.add_argument("--scope", choices=["all", "project"], default=None,
                   help="all: every config the clients read (default); project: only files under "
                   "--project (for pre-commit and repository CI) (HARDOCTOR_SCOPE)")
    g.add_argument("--offline", action="store_true", help="no network at all (HARDOCTOR_OFFLINE=1)")
    g.add_argument("--timeout", type=_positive_float, default=None, metavar="SECONDS",
                   help="overall deadline for all probes (HARDOCTOR_TIMEOUT; default 5)")
    g.add_argument("--push", action="store_true", help="probe push access too, not only pull")
    g.add_argument("--expiry-warning", type=_nonneg_float, default=None, metavar="DAYS",
                   help="warn this many days before a token expires (HARDOCTOR_EXPIRY_WARNING; default 7)")
    p.add_argument("--fail-on", choices=["error", "warning", "never"], default=None,
                   help="exit 1 when findings at or above this severity (HARDOCTOR_FAIL_ON; default error)")


def _token_command(ctx: Context, ns: argparse.Namespace) -> int:
    from hardoctor.tokens import TokenInputError, inspect_command

    if getattr(ns, "token_command", None) != "inspect":
        raise UsageError("token: an action is required (inspect)")
    if getattr(ns, "argv_token", None):
        from hardoctor import redact

        for value in ns.argv_token:
            redact.register(value)
        raise UsageError("token inspect reads the token from stdin, never from the command line "
                         "(shell history and ps see arguments): printf '%s' \"$TOKEN\" | "
                         "hardoctor token inspect")
    try:
        return _emit(ctx, inspect_command(ctx))
    except TokenInputError as exc:  # one line, no usage hint: the input was wrong, not the call
        ctx.env.stderr.write(f"hardoctor: error: {exc}\n")
        return ExitStatus.ERROR


def build_parser(formats: Sequence[str] = ("text", "json"), manager: PluginManager | None = None) -> _Parser:
    parser = _Parser(
        prog="hardoctor",
        description="Find out why a registry client gets 401/403, and fix it.",
        epilog=epilog(),
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    vocabulary = _plugin_vocabulary(manager)

    def command(name: str, help: str, fmts: Sequence[str], scope: bool = True,
                fill: Callable[[argparse.ArgumentParser], object] | None = None,
                options_of: str | None = None) -> None:
        """Add command ``name``; its arguments are added when it is looked
        up in ``parser.commands`` (see :class:`Commands`)."""
        sp = sub.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".",
                            epilog=epilog(name))

        def fill_command(sp: argparse.ArgumentParser) -> None:
            if scope:
                _add_scope_options(sp, *vocabulary)
                add_rule_options(sp)
            add_output_options(sp, fmts, verbosity=name == "check")
            if fill is not None:
                fill(sp)
            if manager is not None and options_of is not None:
                manager.call("hardoctor_addoption", parser=sp, command=options_of)

        parser.commands.add(name, sp, fill_command)

    def check_args(sp: argparse.ArgumentParser) -> None:
        from hardoctor.pushgateway import add_push_arguments

        add_push_arguments(sp)

    command("check", "diagnose every credential and registry", formats,
            fill=check_args, options_of="check")
    # fix writes a diff (text) or its own JSON document: nothing else.
    command("fix", "show (and with --apply, make) the repairs", ("text", "json"),
            fill=_fix_arguments, options_of="fix")
    # Every check option (manifests, clusters, vendor hosts) for tokens and serve.
    command("tokens", "every stored credential: where, which registry, fingerprint, expiry",
            ("text", "json", "openmetrics"), options_of="check")
    command("rules", "list every rule", ("text", "json"), scope=False)
    command("explain", "show a rule's page", ("text",), scope=False,
            fill=lambda sp: sp.add_argument("code", metavar="CODE"))
    command("plugins", "list loaded plugins", ("text", "json"), scope=False)
    command("config", "show each setting, its value and where it came from",
            ("text", "json"), scope=False, fill=_config_arguments)
    completion = sub.add_parser("completion", help="print a shell completion script",
                                epilog="example:\n  hardoctor completion bash > "
                                "~/.local/share/bash-completion/completions/hardoctor\n")
    completion.add_argument("shell", choices=["bash", "zsh", "fish"])

    def serve_args(sp: argparse.ArgumentParser) -> None:
        from hardoctor.serve import add_serve_arguments

        add_serve_arguments(sp)

    command("serve", "check every interval and serve the metrics (Prometheus)", formats,
            fill=serve_args, options_of="check")

    token = add_token_parser(sub)
    if manager is not None:
        parser.commands.add("token", token,
                            lambda sp: manager.call("hardoctor_addoption", parser=sp, command="token"))

    def setup_args(sp: argparse.ArgumentParser) -> None:
        from hardoctor.setup import add_setup_arguments

        add_setup_arguments(sp, _positive_float)

    command("setup", "configure the clients for registry URLs from one token on stdin "
            "(checked first, proven after)", ("text", "json"), scope=False,
            fill=setup_args, options_of="setup")
    return parser


def _fix_arguments(fix: argparse.ArgumentParser) -> None:
    fix.add_argument("--apply", action="store_true", help="write the changes (atomically, with a backup)")
    fix.add_argument("--unsafe", action="store_true", help="include fixes marked unsafe")
    fix.add_argument("--only", action="append", default=[], metavar="CODE",
                     help="only fixes for this rule code or prefix (repeatable)")
    fix.add_argument("--undo", action="store_true", help="restore the files of the last --apply")
    fix.add_argument("--token-stdin", action="store_true",
                     help="rotate: read one new token from stdin and put it everywhere the old "
                     "one is stored (checked first; a diff unless --apply)")


def _config_arguments(config: argparse.ArgumentParser) -> None:
    config.add_argument("--project", metavar="DIR", help="project directory (default: the working directory)")
    config.add_argument("--for", dest="config_command", default="check", metavar="COMMAND",
                        help="the command whose settings to show (default check)")


def _plugin_vocabulary(manager: PluginManager | None) -> tuple[list[str], list[str]]:
    """Target spellings and ecosystem names, as the loaded plugins declare
    them (``hardoctor_ecosystems``)."""
    examples: list[str] = []
    ecosystems: list[str] = []
    if manager is None:
        return examples, ecosystems
    for _, declared in manager.call("hardoctor_ecosystems"):
        for eco in declared:
            ecosystems.append(eco.name)
            examples.extend(eco.target_examples)
    return list(dict.fromkeys(examples)), sorted(set(ecosystems))


def _check_ecosystems(options: Options, manager: PluginManager) -> None:
    known = _plugin_vocabulary(manager)[1]
    for eco in options.ecosystems:
        if eco not in known:
            raise UsageError(f"argument --ecosystem: unknown ecosystem {eco!r} "
                             f"(choose from {', '.join(known) or 'none: no plugin is loaded'})")


def _check_format(options: Options, parser: _Parser) -> None:
    """HARDOCTOR_FORMAT must name a format this command produces (the flag's
    choices are checked by argparse): `fix` never falls back to text."""
    sp = parser.commands.get(options.command)
    action = next((a for a in sp._actions if a.dest == "format"), None) if sp else None
    if action is not None and action.choices and options.format not in action.choices:
        raise UsageError(f"HARDOCTOR_FORMAT={options.format!r}: `hardoctor {options.command}` "
                         f"produces {', '.join(map(str, action.choices))}")


def _check_clients(options: Options, manager: PluginManager) -> None:
    """``--client NAME``: a client some loaded plugin names
    (``hardoctor_client_names``)."""
    if not options.clients:
        return
    known: dict[str, str] = {}
    for _, mapping in manager.call("hardoctor_client_names"):
        known.update({str(k).lower(): str(k) for k in dict(mapping)})
    for name in options.clients:
        if name not in known:
            raise UsageError(f"argument --client: unknown client {name!r} "
                             f"(choose from {', '.join(sorted(known)) or 'none: no plugin is loaded'})")


def _check_rule_codes(ns: argparse.Namespace, manager: PluginManager) -> None:
    """``--select``/``--ignore`` on the command line name loaded rules."""
    from hardoctor.cliargs import flat_codes
    from hardoctor.rules import RuleError

    for dest in ("select", "ignore", "extend_ignore"):
        try:
            manager.rules.select(flat_codes(getattr(ns, dest, None)))
        except RuleError as exc:
            raise UsageError(f"argument --{dest.replace('_', '-')}: {exc}") from None


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):
        out = env.stdout if env is not None else sys.stdout
        out.write(f"hardoctor {__version__}\n")
        return ExitStatus.OK

    from hardoctor.env import Environment

    env = env or Environment()
    debug = "--debug" in args or _env_bool(env.environ, "HARDOCTOR_DEBUG")
    try:
        return _main(args, env)
    except UsageError as exc:
        env.stderr.write(f"hardoctor: error: {_scrub(str(exc))}\n")
        env.stderr.write("Try 'hardoctor --help' or 'hardoctor COMMAND --help'.\n")
        return ExitStatus.ERROR
    except KeyboardInterrupt:
        env.stderr.write("hardoctor: interrupted\n")
        return ExitStatus.ERROR
    except BrokenPipeError:
        return ExitStatus.ERROR
    except OSError as exc:  # a full disk, a read-only store, a held lock: name the file
        if debug:
            import traceback

            env.stderr.write(_scrub(traceback.format_exc()))
        env.stderr.write(f"hardoctor: error: {_scrub(_os_error(exc))}\n")
        return ExitStatus.ERROR
    except Exception as exc:  # the tool itself failed: one line unless --debug
        if debug:
            import traceback

            env.stderr.write(_scrub(traceback.format_exc()))
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        env.stderr.write(f"hardoctor: internal error: {_scrub(reason)}\n")
        if not debug:
            env.stderr.write("Run again with --debug for the traceback.\n")
        return ExitStatus.ERROR


def _os_error(exc: OSError) -> str:
    """One line for an OS error: what failed, on which file, and why; never
    file content (an OSError carries none)."""
    why = exc.strerror or type(exc).__name__
    names = [n for n in (exc.filename, exc.filename2) if n]
    where = f" ({', '.join(map(str, names))})" if names else ""
    return f"{why}{where}"


def _scrub(text: str) -> str:
    from hardoctor import redact

    return redact.scrub(text)


def _manager(env: Environment, args: Sequence[str]) -> PluginManager:
    from hardoctor.plugins import PluginManager

    disabled = [d for d in (env.environ.get("HARDOCTOR_DISABLE_PLUGINS") or "").split(",")]
    # --disable-plugin must act before plugins load, i.e. before parsing.
    for i, a in enumerate(args):
        if a == "--disable-plugin" and i + 1 < len(args):
            disabled.append(args[i + 1])
        elif a.startswith("--disable-plugin="):
            disabled.append(a.split("=", 1)[1])
    autoload = not _env_bool(env.environ, "HARDOCTOR_DISABLE_PLUGIN_AUTOLOAD")
    manager = PluginManager(disabled=disabled, autoload=autoload)
    manager.load()
    return manager


def _main(args: list[str], env: Environment) -> int:
    if args[:1] in (["check"], ["fix"]) and "--offline" not in args and not _env_bool(
        env.environ, "HARDOCTOR_OFFLINE"
    ):
        from hardoctor.engine import prewarm_http

        prewarm_http()  # overlaps the HTTP stack's import with plugin loading
    manager = _manager(env, args)
    formats: list[str] = []
    for _, names in manager.call("hardoctor_report_formats"):
        formats.extend(n for n in names if n not in formats)
    parser = build_parser(formats or ["text", "json"], manager)
    if not args:
        env.stdout.write(parser.format_help())
        return ExitStatus.ERROR
    ns = parser.parse_args(args)
    if ns.version:
        env.stdout.write(f"hardoctor {__version__}\n")
        return ExitStatus.OK
    if not ns.command:
        raise UsageError("a command is required (check, fix, tokens, rules, explain, plugins)")
    if ns.command == "completion":
        from hardoctor.completion import completion_script

        env.stdout.write(completion_script(parser, ns.shell))
        return ExitStatus.OK
    _check_rule_codes(ns, manager)
    from hardoctor.config import configure

    configure(parser.commands, ns.command, ns, args, env.environ, env.home, env.cwd)
    options = options_from_args(ns, env)
    _check_ecosystems(options, manager)
    _check_format(options, parser)
    _check_clients(options, manager)

    from hardoctor.context import Context

    ctx = Context(options, env, manager.rules, manager)
    for problem in manager.load_problems:
        env.stderr.write(f"hardoctor: warning: plugin {problem[0]!r}: {problem[1]}\n")

    status = _listing_command(ctx, ns, manager, parser)
    if status is not None:
        return status
    if options.command == "token":
        return _token_command(ctx, ns)
    if options.command == "setup":
        from hardoctor.setup import setup_command

        return setup_command(ctx, manager, bool(getattr(ns, "token_stdin", False)))
    if options.command == "fix" and getattr(ns, "token_stdin", False):
        if getattr(ns, "undo", False):
            raise UsageError("--token-stdin and --undo cannot be combined")
        ctx.claim_stdin("--token-stdin")
        from hardoctor.rotate import rotate_command

        return rotate_command(ctx, manager)
    if options.command == "fix" and getattr(ns, "undo", False):
        from hardoctor.commands import undo_command

        text, status = undo_command(ctx)
        _write(ctx, text)
        return status
    return _run_check(ctx, manager)


def _listing_command(ctx: Context, ns: argparse.Namespace, manager: PluginManager,
                     parser: _Parser) -> int | None:
    """rules, explain, plugins, config, tokens; None for the other commands."""
    command = ctx.options.command
    if command == "rules":
        from hardoctor.commands import rules_command

        return _emit(ctx, rules_command(ctx))
    if command == "explain":
        from hardoctor.commands import explain_command

        return _emit(ctx, explain_command(ctx, ns.code))
    if command == "plugins":
        from hardoctor.commands import plugins_command

        return _emit(ctx, plugins_command(ctx))
    if command == "config":
        from hardoctor.configshow import config_command

        return _emit(ctx, config_command(ctx, parser.commands, ns.config_command))
    if command == "tokens":
        from hardoctor.inventory import tokens_command

        with _progress(ctx):
            return _emit(ctx, tokens_command(ctx, manager))
    return None


def _run_check(ctx: Context, manager: PluginManager) -> int:
    from hardoctor import engine
    from hardoctor.rules import RuleError

    if ctx.options.command == "serve":
        from hardoctor.serve import serve_command

        return serve_command(ctx, manager)

    if ctx.options.only:
        try:
            manager.rules.select(ctx.options.only)
        except RuleError as exc:
            raise UsageError(str(exc)) from None
    try:
        if ctx.options.command == "fix":
            from hardoctor.commands import fix_command

            with _progress(ctx):
                return fix_command(ctx, manager)
        with _progress(ctx):
            report = engine.run(ctx, manager)
    except UsageError as exc:
        raise UsageError(str(exc)) from None
    if ctx.options.debug:
        for failure in manager.failures:
            ctx.env.stderr.write(failure.traceback)

    found = manager.call_first("hardoctor_reporter", name=ctx.options.format, ctx=ctx)
    if found is None:
        raise UsageError(f"no reporter for format {ctx.options.format!r}")
    reporter = found[1]
    chunks = getattr(reporter, "chunks", None)  # a streaming reporter (scrubs its own pieces)
    if chunks is not None and getattr(reporter, "scrubbed", False):
        _write(ctx, chunks(report, ctx), scrubbed=True)
    else:
        _write(ctx, reporter.render(report, ctx), scrubbed=getattr(reporter, "scrubbed", False))
    if ctx.options.extra.get("push_gateway"):
        from hardoctor.pushgateway import push_report

        return push_report(ctx, report, exit_status(ctx, report))
    return exit_status(ctx, report)


def exit_status(ctx: Context, report: Report) -> int:
    counts = report.counts()
    if ctx.options.fail_on == "never":
        return ExitStatus.OK
    if counts["error"] or (ctx.options.fail_on == "warning" and counts["warning"]):
        return ExitStatus.FINDINGS
    return ExitStatus.OK


class _progress:
    """The progress line on stderr (see hardoctor.output), gone before any
    output is written."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def __enter__(self) -> _progress:
        from hardoctor.output import start_progress

        start_progress(self.ctx)
        return self

    def __exit__(self, *exc: object) -> None:
        from hardoctor.output import stop_progress

        stop_progress()


def _emit(ctx: Context, result: tuple[str, int]) -> int:
    text, status = result
    _write(ctx, text)
    return status


def _write_pieces(ctx: Context, pieces: Iterable[str]) -> None:
    """Stream pieces to ``--output`` (private, like a whole report) or
    stdout, about 64 KiB at a time."""
    if ctx.options.output:
        path = os.path.abspath(ctx.options.output)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            if hasattr(os, "fchmod"):  # not on Windows before Python 3.13
                os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                for piece in pieces:
                    fh.write(piece)
        except OSError as exc:
            raise UsageError(f"cannot write --output {ctx.options.output}: {exc.strerror}") from None
        return
    buf: list[str] = []
    size = 0
    for piece in pieces:
        buf.append(piece)
        size += len(piece)
        if size >= 65536:
            ctx.env.stdout.write("".join(buf))
            buf, size = [], 0
    ctx.env.stdout.write("".join(buf))
    with contextlib.suppress(AttributeError, ValueError):
        ctx.env.stdout.flush()


def _write(ctx: Context, text: str | Iterable[str], scrubbed: bool = False) -> None:
    """Write output; ``scrubbed`` says the producer already scrubbed every
    value (structured formats, where scrubbing the text could break syntax).
    Pieces (an iterable, always already scrubbed) are written as they come."""
    from hardoctor.output import stop_progress

    stop_progress()  # nothing is printed while the spinner runs
    if not isinstance(text, str):
        assert scrubbed, "pieces are scrubbed by their producer"
        _write_pieces(ctx, text)
        return
    if not scrubbed:
        text = _scrub(text)
    if ctx.options.output:
        path = os.path.abspath(ctx.options.output)
        try:
            # The report holds no secret, but keep it private like the configs it describes.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            if hasattr(os, "fchmod"):  # not on Windows before Python 3.13
                os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write --output {ctx.options.output}: {exc.strerror}") from None
        return
    ctx.env.stdout.write(text)
    with contextlib.suppress(AttributeError, ValueError):
        ctx.env.stdout.flush()
