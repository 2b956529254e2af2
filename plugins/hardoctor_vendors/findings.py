"""The findings every vendor plugin of this package makes the same way:
the rule pages (``P101`` expired, ``P102`` expiring, ``P103`` rejected,
``P104`` another vendor's token, ``P105`` malformed, ``P106`` permission
denied, ``P201`` URL), the credential checks, the vendor's documented
answers among probe results, and its remediation for other plugins'
findings on its registries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hardoctor.model import (
    Credential,
    Finding,
    ProbeResult,
    Remediation,
    Resolution,
    Rule,
    Severity,
    TokenInfo,
)
from hardoctor.rules import rule

from .common import Answer, Vendor, host_of, stamp, token_label, token_vendor

if TYPE_CHECKING:
    from hardoctor.context import Context

E, W = Severity.ERROR, Severity.WARNING
TOKEN_CAUSES = frozenset({"token-expired", "token-expiring-soon", "token-invalid",
                          "token-malformed", "no-credentials", "credential-not-matched"})


# ------------------------------------------------------------------ rules


def vendor_rules(v: Vendor) -> tuple[Rule, ...]:
    p, d, tw = v.prefix, v.display, v.token_words
    slug = v.plugin
    return (
        rule(f"{p}101", f"{slug}-token-expired", E, "token-expired",
             f"The {d} token has expired.",
             what=f"Reads when {tw} stored for a registry of {d} expires: from the token itself "
             "where it carries its expiry, else estimated from when it was written.",
             why=f"{d} refuses an expired token. {v.lifetime}",
             example=f"~/.docker/config.json holds {tw} that expired two hours ago.",
             fix=f"Log in again: {v.login_example}", rank=1),
        rule(f"{p}102", f"{slug}-token-expiring-soon", W, "token-expiring-soon",
             f"The {d} token expires within the warning window.",
             what=f"Warns when {tw} expires within --expiry-warning days.",
             why="On that date every client using it starts failing.",
             example=f"{tw} that expires in 3 days.",
             fix=f"Renew it before then: {v.login_example}", rank=1),
        rule(f"{p}103", f"{slug}-token-rejected", E, "token-invalid",
             f"{d} rejects the credential with its own 'bad credentials' answer.",
             what=f"Reads {d}'s documented answer to a credential it does not accept.",
             why="The token is wrong, revoked or deleted, or belongs to another account.",
             example=f"{d} answers 401 to the stored credential.",
             fix=f"Create a new token and log in again: {v.login_example}", rank=1),
        rule(f"{p}104", f"{slug}-wrong-vendor-token", E, "token-malformed",
             f"A token of another vendor is stored for a registry of {d}.",
             what=f"Recognises the token stored for a host of {d} as another vendor's token "
             "(a GitHub PAT for an ECR host, a Docker Hub PAT for ghcr.io, ...).",
             why=f"{d} accepts only its own credentials: every request gets 401.",
             example=f"A token another vendor issued (its prefix says which), stored for a registry of {d}.",
             fix=f"Store a credential of {d} there: {v.login_example}", rank=1),
        rule(f"{p}105", f"{slug}-token-malformed", E, "token-malformed",
             f"The {d} token does not have its documented shape (cut off, wrong length).",
             what=f"Checks {tw} against its documented prefix and length.",
             why="A token cut off when copied never authenticates.",
             example=f"{tw} missing its last characters.",
             fix=f"Copy the whole token again: {v.login_example}", rank=1),
        rule(f"{p}106", f"{slug}-permission-denied", E, "permission-denied",
             f"{d} accepts the credential but its principal may not do this.",
             what=f"Reads {d}'s documented permission answer (403 and its message).",
             why="Authentication works; the principal lacks the permission or scope.",
             example=f"{d} answers 403 with its permission message.",
             fix="Grant the permission (or scope) named in the finding to the principal.",
             rank=1),
        rule(f"{p}201", f"{slug}-url-layout", W, "wrong-url",
             f"A URL of {d} is not laid out the way {d} serves this package type.",
             what=f"Parses {d} URLs (host, region/location, account/project, repository, "
             "package type) and reports the mistakes people make with them.",
             why=f"{d} answers 404 (or 401) for a URL it does not serve.",
             example=f"A URL of {d} for another package type, or missing a path segment.",
             fix="Use the URL the finding suggests (the one the vendor documents)."),
    )


# ------------------------------------------------------------------ checks


def _where_args(cred: Credential) -> dict[str, Any]:
    return {"location": cred.location, "ecosystem": cred.ecosystem,
            "credential": cred.id, "registry": cred.host}


def check_credential(v: Vendor, cred: Credential, ctx: Context) -> list[Finding]:
    info = cred.token
    if cred.secret is None or info is None:
        return []
    out: list[Finding] = []
    owner = token_vendor(info)
    if v.owns(cred.host, ctx) and owner is not None and owner != v.name:
        out.append(_wrong_vendor(v, cred, info, owner, ctx))
        return out
    if owner != v.name:
        return out
    out += _expiry(v, cred, info, ctx)
    codes = info.details.get("vendor_problems")
    if codes:
        texts = [t for t in info.problems][-len(codes):]
        out.append(ctx.finding(
            f"{v.prefix}105",
            f"The {token_label(info)} stored for {cred.registry or cred.host} {'; '.join(texts)}.",
            why=f"{v.display} refuses a token that is not whole.",
            remediation=v.login(cred, cred.host),
            plugin=v.plugin, **_where_args(cred)))
    return out


def _wrong_vendor(v: Vendor, cred: Credential, info: TokenInfo, owner: str,
                  ctx: Context) -> Finding:
    return ctx.finding(
        f"{v.prefix}104",
        f"The token stored for {cred.registry or cred.host} is a {token_label(info)} "
        f"({owner}), not a {v.display} credential.",
        why=f"{v.display} accepts only its own credentials: every request gets 401. "
        "The token was probably pasted into the wrong login.",
        remediation=v.login(cred, cred.host),
        plugin=v.plugin, **_where_args(cred))


def _expiry(v: Vendor, cred: Credential, info: TokenInfo, ctx: Context) -> list[Finding]:
    from hardoctor.tokens import index as token_store  # the token store loads with a credential

    if info.status not in ("expired", "expiring-soon") or info.expires_at is None:
        return []
    others, evidence = token_store.also_stored(cred, ctx)
    label = token_label(info)
    reg = cred.registry or cred.host
    if info.expiry_source == "estimated":
        src = f"estimated: {info.details.get('estimate')}"
    else:
        src = "from the token itself"
    when = stamp(info.expires_at)
    rem = v.login(cred, cred.host)
    if others:
        also = tuple(f"Also update {token_store.where(o, ctx.home)}: it holds the same token." for o in others)
        rem = Remediation(rem.summary, rem.steps + also, rem.commands, rem.docs)
    if info.status == "expired":
        return [ctx.finding(
            f"{v.prefix}101", f"The {label} stored for {reg} expired at {when} ({src}).",
            why=f"{v.display} refuses an expired token. {v.lifetime}",
            evidence=evidence, remediation=rem, plugin=v.plugin, **_where_args(cred))]
    return [ctx.finding(
        f"{v.prefix}102", f"The {label} stored for {reg} expires at {when} ({src}).",
        why=f"On that date every client using it starts failing. {v.lifetime}",
        evidence=evidence, remediation=rem, plugin=v.plugin, **_where_args(cred))]


def diagnose(v: Vendor, res: Resolution, results: Sequence[ProbeResult],
             ctx: Context) -> list[Finding]:
    """The vendor's own answers among the probe results, each mapped to
    the rule that knows why."""
    host = res.target.host
    if not v.owns(host, ctx):
        return []
    out: list[Finding] = image_url(v, res, ctx)
    seen: set[str] = set()
    for r in results:
        said = " ".join(str(x) for x in (r.error_code, r.facts.get("server_message")) if x)
        for a in v.answers:
            if r.status not in a.statuses or a.code in seen:
                continue
            if not a.pattern.search(said or ""):
                continue
            seen.add(a.code)
            out.append(_answer_finding(v, a, r, res, ctx))
    return out


def _answer_finding(v: Vendor, a: Answer, r: ProbeResult, res: Resolution,
                    ctx: Context) -> Finding:
    host = res.target.host
    msg = r.facts.get("server_message") or r.error_code or ""
    cred = res.credential
    rem = v.permission(host) if a.code.endswith("106") else v.login(cred, host)
    return ctx.finding(
        a.code,
        f"{host} answered {r.status}: \"{msg}\" -- {a.why}",
        cause=a.cause,
        why=f"This is {v.display}'s own answer; it names the cause.",
        evidence=[f"{r.url} -> {r.status}"],
        remediation=rem,
        ecosystem=res.ecosystem,
        credential=cred.id if cred else None,
        registry=host,
        location=cred.location if cred else None,
        plugin=v.plugin,
    )


def remediation(v: Vendor, finding: Finding, cred: Credential | None,
                ctx: Context) -> Remediation | None:
    """The vendor's steps for another plugin's finding on its registries."""
    if finding.rule.startswith(v.prefix) or not finding.registry:
        return None
    host = host_of(finding.registry)
    if not v.owns(host, ctx):
        return None
    if finding.cause == "helper-failure" and v.helper is not None:
        return v.helper(finding, host, ctx)
    if finding.cause == "permission-denied":
        return v.permission(host)
    if finding.cause in TOKEN_CAUSES:
        return v.login(cred, host)
    return None


def image_url(v: Vendor, res: Resolution, ctx: Context) -> list[Finding]:
    """P201: the image path a client will pull, judged by the vendor's URL
    rules (other clients' URLs reach their own plugins' findings through
    ``registry_info``)."""
    t = res.target
    if t.kind != "image" or not t.name or not v.owns(t.host, ctx):
        return []
    info = ctx.registry_info(f"{t.host}/{t.name}", "oci")
    if info is None or info.vendor != v.name or not info.problems:
        return []
    suggested = info.suggested_url
    rem = Remediation(f"Use {suggested}" if suggested else "Use the URL the vendor documents.")
    cred = res.credential
    return [ctx.finding(f"{v.prefix}201", " ".join(info.problems),
                        why=f"{v.display} answers 404 or 401 for a path it does not serve.",
                        remediation=rem, plugin=v.plugin, ecosystem=res.ecosystem,
                        credential=cred.id if cred else None, registry=t.host)]


