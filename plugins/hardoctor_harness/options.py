"""The Harness options: ``--harness-host``, ``--harness-api``,
``--no-token-api`` and ``--harness-api-key-stdin``, with their environment
twins, validated into one frozen :class:`HarnessOptions` per run."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hardoctor import lazyre
from hardoctor.errors import UsageError
from hardoctor.model import Credential, Secret
from hardoctor.records import dataclass
from hardoctor.stash import StashKey

if TYPE_CHECKING:
    from hardoctor.context import Context

DEFAULT_API = "https://app.harness.io/gateway"
#: Subcommands that run checks (and so look tokens up).
CHECK_COMMANDS = frozenset({"check", "fix", "serve", "tokens", "setup"})
_API_HELP = f"Harness API base URL (HARDOCTOR_HARNESS_API; default {DEFAULT_API})"
_HOST = lazyre.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?::[0-9]{1,5})?"
)


@dataclass(frozen=True)
class HarnessOptions:
    #: Hosts declared as HAR hosts (``--harness-host``), env twin first.
    hosts: tuple[str, ...] = ()
    #: The token API's base URL (``--harness-api``), or None for the default.
    api: str | None = None
    #: Never ask the token API (``--no-token-api``, ``--offline``).
    no_token_api: bool = False


OPTIONS: StashKey[HarnessOptions] = StashKey("harness.options")
#: The caller key read by ``--harness-api-key-stdin``.
STDIN_KEY: StashKey[Secret] = StashKey("harness.api_key_stdin")


def add_options(parser: argparse.ArgumentParser, command: str) -> None:
    if command == "token":
        g = parser.add_argument_group("Harness token lookup")
        g.add_argument("--no-token-api", action="store_true",
                       help="never ask the Harness API (HARDOCTOR_NO_TOKEN_API=1)")
        g.add_argument("--harness-api", metavar="URL", help=_API_HELP)
        g.add_argument("--harness-host", action="append", default=[], metavar="HOST[:PORT]",
                       help="a host that may receive tokens over plain http "
                       "(HARDOCTOR_HARNESS_HOSTS)")
        return
    if command not in CHECK_COMMANDS:
        return
    g = parser.add_argument_group("Harness Artifact Registry")
    g.add_argument("--harness-host", action="append", default=[], metavar="HOST[:PORT]",
                   help="treat HOST as a Harness Artifact Registry host (HARDOCTOR_HARNESS_HOSTS)")
    g.add_argument("--harness-api", metavar="URL", help=_API_HELP)
    g.add_argument("--no-token-api", action="store_true",
                   help="never ask the Harness API about tokens (HARDOCTOR_NO_TOKEN_API=1)")
    g.add_argument("--harness-api-key-stdin", action="store_true",
                   help="read a working Harness API key from stdin to look up other tokens' expiry")


def _env_bool(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _host(value: str, where: str) -> str:
    host = value.strip()
    if not _HOST.fullmatch(host) or (":" in host and int(host.rsplit(":", 1)[1] or 0) > 65535):
        raise UsageError(f"{where}: expected HOST[:PORT] (no scheme, no path), like "
                         "har.example.com:8443")
    return host


def _api(value: str, where: str) -> str:
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        host = None
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"{where}: expected an http(s) URL with a host, like {DEFAULT_API}")
    return value.strip()


def build(ctx: Context) -> HarnessOptions:
    """The run's options from the command line and the environment; a bad
    value is a :class:`UsageError` naming the option."""
    opts = ctx.options
    env_hosts = [h for h in (ctx.getenv("HARDOCTOR_HARNESS_HOSTS") or "").split(",") if h.strip()]
    hosts = [_host(h, "HARDOCTOR_HARNESS_HOSTS") for h in env_hosts]
    hosts += [_host(h, "argument --harness-host") for h in opts.strings("harness_host")]
    api = opts.string("harness_api")
    if api:
        api = _api(api, "argument --harness-api")
    elif ctx.getenv("HARDOCTOR_HARNESS_API"):
        api = _api(ctx.getenv("HARDOCTOR_HARNESS_API") or "", "HARDOCTOR_HARNESS_API")
    no_api = (opts.flag("no_token_api") or _env_bool(ctx.getenv("HARDOCTOR_NO_TOKEN_API"))
              or opts.offline)
    return HarnessOptions(tuple(hosts), api or None, no_api)


def harness_options(ctx: Context) -> HarnessOptions:
    """The run's :class:`HarnessOptions` (built once, on first use)."""
    return ctx.stash.compute(OPTIONS, lambda: build(ctx))


def on_har_host(ctx: Context) -> Callable[[Credential], bool]:
    """Is a credential stored for a HAR host?  (Harness wording only there.)"""
    from .urls import is_har_host

    hosts = harness_options(ctx).hosts
    return lambda cred: is_har_host(cred.host, hosts)
