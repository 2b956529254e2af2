"""The generic token checks (``TOK001``-``TOK007``), for every credential
of every client: malformed values, a token's own expiry (a JWT's ``exp``),
clock skew.  Registered by the core's builtin plugin.

A vendor that owns the registry replaces the generic remediation with its
own steps through ``hardoctor_remediation``.  The rule pages and the
finding texts live in ``tokenrules.json``: they quote real clients'
files as examples, and the core's code names none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hardoctor.lazy import submodule
from hardoctor.model import Credential, Finding, Remediation, Rule, Severity, TokenInfo

if TYPE_CHECKING:
    from hardoctor import tokens
    from hardoctor.context import Context
    from hardoctor.tokens import Problem
else:
    # Every plugin imports this module for reported_by_owner(); the token
    # parsers load when a credential is checked (start-up, issue 14).
    tokens = submodule("hardoctor", "tokens")

PLACEHOLDER_CODES = frozenset({"placeholder", "env-literal", "template-literal"})

#: Value problems a credential's own plugin reports itself, with a fix that
#: edits the file: saying it twice is noise.  (plugin, ``via`` prefix) ->
#: problem codes; plugins declare them with :func:`reported_by_owner`.
_OWNER_REPORTED: dict[tuple[str, str], frozenset[str]] = {}


def reported_by_owner(plugin: str, via: str, codes: Iterable[str]) -> None:
    """Plugin ``plugin`` reports problems ``codes`` of the credentials it
    reads from ``via`` (a prefix of ``Credential.via``) itself."""
    _OWNER_REPORTED[(plugin, via)] = frozenset(codes)


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    path = Path(__file__).with_name("tokenrules.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def token_rules() -> tuple[Rule, ...]:
    """TOK001-TOK007: they read the token itself, so they lead a story (rank 1)."""
    return tuple(
        Rule(
            code=r["code"],
            name=r["name"],
            severity=Severity(r["severity"]),
            summary=r["summary"],
            explain=r["explain"],
            cause=r["cause"],
            rank=1,
        )
        for r in _data()["rules"]
    )


def check_credential(cred: Credential, ctx: Context) -> list[Finding]:
    from hardoctor.tokens import index as token_store

    token_store.token_index(ctx).add(cred)
    if cred.secret is None or cred.role != "token":
        return []  # an empty slot the client completes elsewhere is not a token
    out = malformed(cred, ctx)
    if cred.token is not None:
        out += expiry(cred, cred.token, ctx)
        out += skew(cred, cred.token, ctx)
    return out


# --------------------------------------------------------------- malformed


def _about(cred: Credential) -> dict[str, Any]:
    """The ``ctx.finding`` arguments that tie a finding to ``cred``."""
    return {
        "location": cred.location,
        "ecosystem": cred.ecosystem,
        "credential": cred.id,
        "registry": cred.host,
    }


def _subject(cred: Credential) -> str:
    return f"The token stored for {cred.registry or cred.host}"


def _rule_for(problem: Problem) -> str:
    if problem.code in PLACEHOLDER_CODES:
        return "TOK002"
    if problem.code == "email":
        return "TOK003"
    if problem.code == "token-as-username":
        return "TOK004"
    return "TOK001"


def _problems(cred: Credential) -> list[Problem]:
    assert cred.secret is not None
    problems = tokens.problems_for(cred.secret.reveal(), cred.username)
    for (plugin, via), codes in _OWNER_REPORTED.items():
        if cred.plugin == plugin and cred.via.startswith(via):
            problems = [p for p in problems if p.code not in codes]
    # The decoder that recognised the format may say which problems the
    # format has by nature (whitespace inside a pretty-printed JSON key file).
    allowed = cred.token.details.get("format_allows", ()) if cred.token is not None else ()
    return [p for p in problems if p.code not in allowed]


def _username_message(cred: Credential, problems: list[Problem]) -> tuple[str, Severity | None]:
    assert cred.secret is not None
    reg = cred.registry or cred.host
    swapped = any(p.code in ("email", "empty") or p.code in PLACEHOLDER_CODES for p in problems)
    if swapped or not tokens.looks_like_token(tokens.clean_token(cred.secret.reveal())):
        return (
            f"The username stored for {reg} is a token and the password is not: "
            "username and password look swapped.",
            Severity.ERROR,
        )
    return f"The username stored for {reg} is a token.", None


def malformed(cred: Credential, ctx: Context) -> list[Finding]:
    from hardoctor.tokens import index as token_store

    problems = _problems(cred)
    groups: dict[str, list[Problem]] = {}
    for p in problems:
        groups.setdefault(_rule_for(p), []).append(p)
    step = f"Replace the token in {token_store.where(cred, ctx.home)}."
    out: list[Finding] = []
    for rule, items in sorted(groups.items()):
        texts = "; ".join(dict.fromkeys(p.text for p in items))
        words = _data()["malformed"][rule]
        severity = None
        evidence: list[str] = []
        if rule == "TOK004":
            message, severity = _username_message(cred, problems)
        else:
            message = f"{_subject(cred)} {texts}."
        fp = token_store.token_fingerprint(cred)
        if fp and rule == "TOK001":
            evidence.append(f"cleaned of whitespace and quotes, the token has fingerprint #{fp}")
        out.append(
            ctx.finding(
                rule,
                message,
                severity=severity,
                why=words["why"],
                evidence=evidence,
                remediation=Remediation(words["todo"], (step,)),
                **_about(cred),
            )
        )
    return out


# ------------------------------------------------------------------ expiry


def _date(dt: datetime | None) -> str:
    return dt.date().isoformat() if dt else "an unknown date"


def in_days(dt: datetime, now: datetime) -> str:
    """``in 3 days``, ``in 5 hours``."""
    days = (dt - now).total_seconds() / 86400
    if days < 1:
        hours = max(1, round(days * 24))
        return f"in {hours} hour{'s' * (hours != 1)}"
    n = round(days)
    return f"in {n} day{'s' * (n != 1)}"


def expiry(cred: Credential, info: TokenInfo, ctx: Context) -> list[Finding]:
    """TOK005/TOK006: only the token's *own* expiry; an expiry a vendor
    plugin learned (its API, an estimate) is that plugin's finding."""
    from hardoctor.tokens import index as token_store

    if info.expiry_source != "token" or info.expires_at is None:
        return []
    if info.status not in ("expired", "expiring-soon"):
        return []
    others, evidence = token_store.also_stored(cred, ctx)
    issuer = info.details.get("iss")
    by = f" (issued by {issuer})" if isinstance(issuer, str) else ""
    when = _date(info.expires_at)
    if info.status == "expired":
        message = f"{_subject(cred)}{by} expired on {when} (from the token itself)."
        rule, why = "TOK005", "The registry refuses an expired token with 401."
    else:
        days = in_days(info.expires_at, ctx.now())
        message = f"{_subject(cred)}{by} expires on {when} ({days}, from the token itself)."
        rule, why = "TOK006", "On that date the client starts getting 401."
    also = tuple(f"Also update {token_store.where(o, ctx.home)}: it holds the same token." for o in others)
    rem = Remediation(
        "Get a fresh token from its issuer (log in again) and store it.",
        (f"Replace the token in {token_store.where(cred, ctx.home)}.", *also),
    )
    return [ctx.finding(rule, message, why=why, evidence=evidence, remediation=rem, **_about(cred))]


def skew(cred: Credential, info: TokenInfo, ctx: Context) -> list[Finding]:
    ahead = tokens.clock_skew(info, ctx.now())
    if ahead is None:
        return []
    minutes = ahead.total_seconds() / 60
    amount = f"{minutes:.0f} minutes" if minutes < 120 else f"{minutes / 60:.1f} hours"
    future_nbf = info.not_before is not None and info.not_before - ctx.now() == ahead
    what = "becomes valid" if future_nbf else "was issued"
    return [
        ctx.finding(
            "TOK007",
            f"{_subject(cred)} {what} {amount} in the future by this machine's clock: the local "
            "clock is probably behind.",
            why="Expiry computed here is off by the same amount, and tokens checked against the "
            "local clock are refused as not yet valid.",
            remediation=Remediation(
                "Synchronise the clock.",
                (
                    "Turn on time sync (timedatectl set-ntp true), or restart "
                    "it on WSL and VMs that were suspended.",
                ),
            ),
            **_about(cred),
        )
    ]
