"""Harness Artifact Registry: the first vendor plugin, and one that uses
only hooks.

* options (``--harness-host``, ``--harness-api``, ``--no-token-api``,
  ``--harness-api-key-stdin``): :mod:`.options`;
* PAT/SAT tokens (``hardoctor_decode_secret``, pure) with their expiry from
  the Harness token API (:mod:`.tokenapi`, asked once for every token of
  the run in ``hardoctor_prefetch``): :mod:`.pat`, :mod:`.expiry`;
* HAR checks (HAR1xx tokens and accounts, HAR2xx URL layout):
  :mod:`.checks`, :mod:`.diagnose`, :mod:`.rules`;
* what a HAR URL means and Harness's own remediation, for every other
  plugin's findings on HAR hosts (``hardoctor_registry_info``,
  ``hardoctor_remediation``): :mod:`.vendor`.

No other plugin imports this package: everything it knows reaches them
through those hooks.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hardoctor import hookimpl

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.model import (
        Credential,
        Finding,
        ProbeResult,
        RegistryInfo,
        Remediation,
        Resolution,
        Rule,
        TokenInfo,
    )


@hookimpl
def hardoctor_addoption(parser: argparse.ArgumentParser, command: str) -> None:
    from .options import add_options

    add_options(parser, command)


@hookimpl
def hardoctor_configure(ctx: Context) -> None:
    """Validate the options (a bad value exits 2) and read the caller key
    of ``--harness-api-key-stdin`` before anything runs."""
    from hardoctor.errors import UsageError

    from .options import STDIN_KEY, harness_options

    harness_options(ctx)
    if ctx.options.flag("harness_api_key_stdin"):
        from .tokenapi import read_api_key_stdin  # the API client only when asked

        ctx.claim_stdin("--harness-api-key-stdin")
        try:
            ctx.stash[STDIN_KEY] = read_api_key_stdin(ctx.env)
        except ValueError as exc:
            raise UsageError(str(exc)) from None


@hookimpl
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    from .rules import RULES

    for rule in RULES:
        register(rule)


@hookimpl
def hardoctor_prefetch(credentials: Sequence[Credential], ctx: Context) -> None:
    """Every token API lookup of the run at once (one deadline,
    concurrently), before anything is decoded."""
    if not credentials:
        return  # nothing to look up: not even the API client is imported
    from .expiry import prefetch

    prefetch(list(credentials), ctx)


@hookimpl(tryfirst=True)
def hardoctor_decode_secret(credential: Credential, ctx: Context) -> TokenInfo | None:
    """Harness tokens only; everything else falls through to the generic
    decoder.  Pure: the API answers were fetched by ``hardoctor_prefetch``."""
    from .expiry import decode_harness, harness_token

    token = harness_token(credential)
    return decode_harness(credential, token, ctx) if token is not None else None


@hookimpl
def hardoctor_check_credential(credential: Credential, ctx: Context) -> Sequence[Finding] | None:
    from .checks import check_credential

    return check_credential(credential, ctx)


@hookimpl
def hardoctor_diagnose(
    resolution: Resolution, results: Sequence[ProbeResult], ctx: Context
) -> Sequence[Finding] | None:
    from .diagnose import diagnose

    return diagnose(resolution, results, ctx)


@hookimpl
def hardoctor_registry_info(
    url: str, package_type: str | None, ctx: Context
) -> RegistryInfo | None:
    from .vendor import registry_info

    return registry_info(url, package_type, ctx)


@hookimpl
def hardoctor_setup_notes(url: str, package_type: str | None, ctx: Context) -> Sequence[str] | None:
    from .setupnotes import setup_notes

    return setup_notes(url, package_type, ctx)


@hookimpl
def hardoctor_remediation(
    finding: Finding, credential: Credential | None, ctx: Context
) -> Remediation | None:
    from .vendor import remediation

    return remediation(finding, credential, ctx)
