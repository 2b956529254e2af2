"""A probe exchange as a :class:`~hardoctor.model.ProbeResult` (the facts
the report and the diagnoses read).  Re-exported by
:mod:`hardoctor.probe.session`, where plugins import it from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hardoctor import redact
from hardoctor.model import ProbeResult
from hardoctor.probe.classify import TransportFailure

if TYPE_CHECKING:
    from hardoctor.probe.session import Exchange


def to_result(
    exchange: Exchange,
    *,
    credential: str | None,
    detail: str = "",
    facts: Mapping[str, Any] | None = None,
    outcome: str | None = None,
) -> ProbeResult:
    """A :class:`ProbeResult` for one exchange.  Everything in it is
    secret-free by construction: URLs, codes, the server's (scrubbed) message
    and the facts the caller chose."""
    merged: dict[str, Any] = {}
    if isinstance(exchange, TransportFailure):
        merged["transport"] = exchange.kind
        merged["transport_detail"] = exchange.detail
        if exchange.proxy:
            merged["proxy"] = exchange.proxy
        merged.update(facts or {})
        return ProbeResult(
            url=exchange.url,
            outcome=outcome or exchange.outcome,
            credential=credential,
            elapsed_ms=exchange.elapsed_ms,
            detail=redact.scrub(f"{detail}: {exchange.detail}" if detail else exchange.detail),
            facts=merged,
        )
    cls = exchange.classify()
    merged["method"] = exchange.method
    if exchange.redirects:
        merged["redirects"] = list(exchange.redirects)
    if exchange.auth_sent:
        merged["auth_sent"] = True
    if exchange.auth_withheld:
        merged["auth_withheld"] = list(exchange.auth_withheld)
    if exchange.auth_in_clear:
        merged["auth_in_clear"] = list(exchange.auth_in_clear)
    if exchange.fallback_http:
        merged["fallback_http"] = True
    if exchange.date_skew_s is not None:
        merged["date_skew_s"] = round(exchange.date_skew_s, 1)
    if exchange.proxy:
        merged["proxy"] = exchange.proxy
    if cls.message and exchange.status >= 300:  # a 2xx body is data, never an error text
        merged["server_message"] = cls.message
    if cls.policy:
        merged["policy"] = True
    merged.update(facts or {})
    return ProbeResult(
        url=exchange.url,
        outcome=outcome or cls.outcome,
        credential=credential,
        status=exchange.status,
        error_code=cls.error_code,
        elapsed_ms=exchange.elapsed_ms,
        detail=redact.scrub(detail),
        facts=merged,
    )
