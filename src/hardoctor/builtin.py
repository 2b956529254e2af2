"""The core's own plugin: reporters, the generic token decoder and token
checks (TOK rules, :mod:`hardoctor.tokencheck`), and the findings about
sources that no plugin could read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hardoctor import hookimpl
from hardoctor.model import Credential, Finding, Location, Rule, Source, TokenInfo

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.report import Reporter

FORMATS = ("text", "json", "sarif", "github", "openmetrics")


@hookimpl
def hardoctor_report_formats() -> Sequence[str]:
    return FORMATS


@hookimpl(trylast=True)
def hardoctor_reporter(name: str, ctx: Context) -> Reporter | None:
    if name == "json":
        from hardoctor.report import JsonReporter

        return JsonReporter()
    if name == "text":
        from hardoctor.report.text import TextReporter

        return TextReporter(color=bool(ctx.options.color))
    if name == "sarif":
        from hardoctor.report.sarif import SarifReporter

        return SarifReporter()
    if name == "github":
        from hardoctor.report.github import GithubReporter

        return GithubReporter()
    if name == "openmetrics":
        from hardoctor.report.openmetrics import OpenMetricsReporter

        return OpenMetricsReporter()
    return None


@hookimpl
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    from hardoctor.tokencheck import token_rules

    for rule in token_rules():
        register(rule)


@hookimpl
def hardoctor_prefetch(credentials: Sequence[Credential], ctx: Context) -> None:
    """Index every credential by its token before any check asks "where
    else is this token stored?"."""
    from hardoctor.tokens.index import token_index

    token_index(ctx).add_all(credentials)


@hookimpl
def hardoctor_check_credential(credential: Credential, ctx: Context) -> Sequence[Finding] | None:
    from hardoctor.tokencheck import check_credential

    return check_credential(credential, ctx)


@hookimpl(trylast=True)
def hardoctor_decode_secret(credential: Credential, ctx: Context) -> TokenInfo | None:
    if credential.secret is None:
        return TokenInfo(kind="none", fingerprint=None)
    from hardoctor.tokens import decode_generic

    return decode_generic(
        credential.secret,
        credential.scheme,
        ctx.now(),
        ctx.options.expiry_warning_days,
        username=credential.username,
    )


@hookimpl(trylast=True)
def hardoctor_lint(source: Source, ctx: Context) -> Sequence[Finding] | None:
    if source.kind != "file" or not source.error:
        return None
    return [
        ctx.finding(
            "HD003",
            f"{ctx.display_path(source.path)} cannot be read: {source.error}",
            location=Location(source.path),
            ecosystem=source.ecosystem,
            why=f"{source.description} is read by the client; it fails or ignores the file.",
        )
    ]
