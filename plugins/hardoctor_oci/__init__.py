"""The OCI distribution protocol: challenge, token service, manifest walk,
OCI and Docker error bodies, and their rules (DKR101-DKR113).

A protocol plugin: it probes *every* resolution whose ``protocol`` is
``"oci"``, whichever client plugin made it (Docker CLI, podman/skopeo, Helm,
the kubelet).  Client plugins only say which credential their client sends
(``credential``, then ``fallbacks``) and what it trusts (``tls``); this
plugin walks the wire as the client would and names the one cause.

Modules: :mod:`.spec` (what a walk depends on, the probe plans),
:mod:`.walk` and :mod:`.token` (the requests), :mod:`.diagnosis` and
:mod:`.verdicts` (results -> findings), :mod:`.rules`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hardoctor import hookimpl
from hardoctor.model import Finding, ProbeResult, Resolution, Rule

from .rules import OCI_RULES

#: ``Resolution.protocol`` of the resolutions this plugin probes (also
#: ``spec.PROTOCOL``; here so that loading the plugin imports no probe code).
PROTOCOL = "oci"

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.probe import ProbePlan

__all__ = ["OCI_RULES", "PROTOCOL", "diagnose", "plan"]


def plan(resolution: Resolution, ctx: Context) -> list[ProbePlan]:
    """The walks that test ``resolution`` (no I/O)."""
    from .spec import plan as _plan  # the probe engine only when probing

    return _plan(resolution, ctx)


def diagnose(resolution: Resolution, results: Sequence[ProbeResult], ctx: Context) -> list[Finding]:
    """Findings for ``resolution`` from its walks' results (none offline)."""
    if not results:
        return []
    from .diagnosis import diagnose as _diagnose

    return _diagnose(resolution, results, ctx)


@hookimpl
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    for rule in OCI_RULES:
        register(rule)


@hookimpl
def hardoctor_probe(resolution: Resolution, ctx: Context) -> Sequence[ProbePlan] | None:
    if resolution.protocol != PROTOCOL:
        return None
    return plan(resolution, ctx)


@hookimpl
def hardoctor_diagnose(
    resolution: Resolution, results: Sequence[ProbeResult], ctx: Context
) -> Sequence[Finding] | None:
    if resolution.protocol != PROTOCOL:
        return None
    return diagnose(resolution, results, ctx)
