"""``hardoctor_check_credential``: offline findings about one decoded
credential, from any ecosystem -- malformed values (TOK), expiry (TOK for
JWTs, HAR for Harness tokens), account mismatch, username and URL layout
on HAR hosts."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hardoctor.model import Credential, Finding, Remediation, Severity, TokenInfo
from hardoctor.tokens import Problem, clean_token, clock_skew, looks_like_token, problems_for

from .index import index, token_fingerprint, where
from .pat import HarnessToken, parse_harness_token
from .remediation import paste_instructions, token_remediation
from .urls import (
    OCI_ECOSYSTEMS,
    PKG_ECOSYSTEMS,
    UrlIssue,
    account_of,
    is_har_host,
    parse_har_url,
    url_issues,
)

if TYPE_CHECKING:
    from hardoctor.context import Context

PLUGIN = "harness"
PLACEHOLDER_CODES = frozenset({"placeholder", "env-literal", "template-literal"})
STRUCTURE_CODES = frozenset({"truncated", "segments", "bad-chars", "prefix-case"})
#: Problems a credential's own plugin already reports, with a fix that edits
#: the file (the Docker plugin's DKR004 for a password ending in whitespace):
#: saying it twice is noise.  Keyed by (plugin, via prefix).
OWNER_REPORTED: dict[tuple[str, str], frozenset[str]] = {
    ("docker", "auths"): frozenset({"newline", "trailing-whitespace"}),
    # MVN012 (env-unset) reports an unset ${env.X} with Maven's own words.
    ("maven", "server"): frozenset({"env-literal"}),
}
_EMAIL = re.compile(r"^[^@\s:/]+@[^@\s:/]+\.[A-Za-z]{2,}$")


def check_credential(cred: Credential, ctx: Context) -> list[Finding]:
    index(ctx).add(cred)
    if cred.secret is None:
        return []
    token = parse_harness_token(clean_token(cred.secret.reveal()))
    info = cred.token
    if info is None and token is not None:
        from .expiry import decode_harness

        info = decode_harness(cred, token, ctx)
    har_host = is_har_host(cred.host, ctx.options.harness_hosts)
    out = malformed(cred, token, ctx)
    if info is not None:
        if token is not None:
            out += harness_expiry(cred, token, info, ctx)
        else:
            out += generic_expiry(cred, info, ctx)
        out += skew(cred, info, ctx)
    if har_host:
        if token is not None:
            out += account_mismatch(cred, token, ctx)
        out += username(cred, token, info, ctx)
        out += credential_url(cred, ctx)
    return out


# --------------------------------------------------------------- malformed


def _about(cred: Credential) -> dict[str, Any]:
    """The ``ctx.finding`` arguments that tie a finding to ``cred``."""
    return {
        "location": cred.location,
        "ecosystem": cred.ecosystem,
        "credential": cred.id,
        "registry": cred.host,
        "plugin": PLUGIN,
    }


def _where(cred: Credential, ctx: Context) -> str:
    return where(cred, ctx.home)


def _subject(cred: Credential) -> str:
    return f"The token stored for {cred.registry or cred.host}"


#: (why the client fails, what to do) per malformed-value rule.
_MALFORMED: dict[str, tuple[str, str]] = {
    "TOK001": (
        "The client sends the value byte for byte, so the registry sees another token and "
        "answers 401 -- the token itself may be fine.",
        "Store the token again without the extra characters (printf '%s' \"$TOKEN\", not "
        "echo; no quotes around it).",
    ),
    "TOK002": (
        "The client sends this text as the password, and the registry answers 401. Docker's "
        "config.json, pip.conf and Kubernetes secrets never expand environment variables.",
        "Store the real token there (or use the client's own variable syntax where it has one).",
    ),
    "TOK003": (
        "An e-mail never authenticates as a password: every request gets 401.",
        "Put the token in the password field and your e-mail in the username field.",
    ),
    "TOK004": (
        "Registries authenticate with the password; a token in the username is ignored, and "
        "it shows up in logs where passwords are hidden.",
        "Store your login name as username and the token as password.",
    ),
    "HAR104": (
        "A partial Harness token never authenticates: HAR answers 401.",
        "Copy the whole token again -- it is shown only once, so create a new one if you no "
        "longer have it.",
    ),
}


def _rule_for(problem: Problem) -> str:
    if problem.code in PLACEHOLDER_CODES:
        return "TOK002"
    if problem.code == "email":
        return "TOK003"
    if problem.code == "token-as-username":
        return "TOK004"
    return "HAR104" if problem.code in STRUCTURE_CODES else "TOK001"


def malformed(cred: Credential, token: HarnessToken | None, ctx: Context) -> list[Finding]:
    assert cred.secret is not None
    value = cred.secret.reveal()
    problems = problems_for(value, cred.username)
    if token is not None:
        problems += list(token.problems)
    for (plugin, via), codes in OWNER_REPORTED.items():
        if cred.plugin == plugin and cred.via.startswith(via):
            problems = [p for p in problems if p.code not in codes]
    groups: dict[str, list[Problem]] = {}
    for p in problems:
        groups.setdefault(_rule_for(p), []).append(p)
    step, cmds = paste_instructions(cred, _where(cred, ctx), home=ctx.home)
    reg = cred.registry or cred.host
    out: list[Finding] = []
    for rule, items in sorted(groups.items()):
        texts = "; ".join(dict.fromkeys(p.text for p in items))
        why, todo = _MALFORMED[rule]
        severity = None
        evidence: list[str] = []
        if rule == "TOK004":
            message = f"The username stored for {reg} is a token."
            swapped = any(
                p.code in ("email", "empty") or p.code in PLACEHOLDER_CODES for p in problems
            )
            if swapped or not looks_like_token(clean_token(value)):
                severity = Severity.ERROR
                message = (
                    f"The username stored for {reg} is a token and the password is not: "
                    "username and password look swapped."
                )
        elif rule == "HAR104":
            message = f"{_subject(cred)} is a Harness token that {texts}."
        else:
            message = f"{_subject(cred)} {texts}."
        fp = token_fingerprint(cred)
        if fp and rule == "TOK001":
            evidence.append(f"cleaned of whitespace and quotes, the token has fingerprint #{fp}")
        rem = Remediation(todo, (step,), tuple(cmds))
        out.append(
            ctx.finding(
                rule,
                message,
                severity=severity,
                why=why,
                evidence=evidence,
                remediation=rem,
                **_about(cred),
            )
        )
    return out


# ------------------------------------------------------------------ expiry


def _date(dt: datetime | None) -> str:
    return dt.date().isoformat() if dt else "an unknown date"


def _days(dt: datetime, now: datetime) -> str:
    days = (dt - now).total_seconds() / 86400
    if days < 1:
        hours = max(1, round(days * 24))
        return f"in {hours} hour{'s' * (hours != 1)}"
    n = round(days)
    return f"in {n} day{'s' * (n != 1)}"


def _api_detail(info: TokenInfo) -> str | None:
    """What the API answered, as evidence (None when it was not asked)."""
    api = info.details.get("api")
    if isinstance(api, dict) and api.get("detail") and api.get("outcome") not in ("off", "skipped"):
        return str(api["detail"])
    return None


def _api_phrase(info: TokenInfo) -> str:
    api = info.details.get("api")
    outcome = api.get("outcome") if isinstance(api, dict) else None
    return {
        "rejected": "the Harness API rejected the token",
        "off": "the Harness API was not asked",
        "refused": "the Harness API URL was refused",
        "timeout": "the Harness API did not answer in time",
        "unreachable": "the Harness API could not be reached",
        "denied": "the Harness API refused the lookup",
        "error": "the Harness API gave no usable answer",
        "skipped": "the Harness API was not asked",
    }.get(str(outcome), "the Harness API was not asked")


def _source(info: TokenInfo) -> str:
    if info.expiry_source == "harness-api":
        return "from the Harness API"
    if info.expiry_source == "token":
        return "from the token itself"
    if info.expiry_source == "estimated":
        return f"estimated: {info.details.get('estimate', 'stored time + 30 days')}"
    return "source unknown"


def _places(cred: Credential, ctx: Context) -> tuple[list[Credential], list[str]]:
    others = index(ctx).others(cred)
    if not others:
        return others, []
    shown = [where(o, ctx.home) for o in others]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    fp = token_fingerprint(cred)
    return others, [f"the same token (#{fp}) is also stored in {listed}"]


def _registry_name(cred: Credential) -> str | None:
    har = parse_har_url(cred.registry) if cred.registry else None
    return har.registry if har and har.layout in ("pkg", "oci") else None


def harness_expiry(
    cred: Credential, token: HarnessToken, info: TokenInfo, ctx: Context
) -> list[Finding]:
    if info.status not in ("expired", "expiring-soon", "invalid"):
        return []
    now = ctx.now()
    shown = token.display()
    reg = cred.registry or cred.host
    others, evidence = _places(cred, ctx)
    api = _api_detail(info)
    if api:
        evidence.append(f"Harness API: {api}")
    here = _where(cred, ctx)
    email = info.details.get("email") if isinstance(info.details.get("email"), str) else None
    common = _about(cred)
    copies = (
        f" {len(others)} other cop{'ies' if len(others) != 1 else 'y'} expire with it."
        if others
        else ""
    )
    severity = None
    if info.status == "expired":
        code = "HAR101"
        summary = "Create a new token and store it in every place this one is."
        if info.expiry_source == "estimated":
            rejected = "rejected" in _api_phrase(info)
            message = (
                f"The Harness token {shown} stored for {reg} has probably expired on "
                f"{_date(info.expires_at)} (estimated: {info.details.get('estimate')}; "
                f"{_api_phrase(info)})."
            )
            severity = None if rejected else Severity.WARNING
        elif info.expires_at is None:
            message = (
                f"The Harness token {shown} stored for {reg} has expired (the Harness API says "
                "so; to learn the date, set HARNESS_API_KEY to another working key)."
            )
        else:
            message = (
                f"The Harness token {shown} stored for {reg} expired on "
                f"{_date(info.expires_at)} ({_source(info)})."
            )
        why = "HAR answers 401 Unauthorized for an expired token, without saying why." + copies
    elif info.status == "expiring-soon":
        code = "HAR102"
        assert info.expires_at is not None
        summary = "Create a new token before then and store it in every place this one is."
        message = (
            f"The Harness token {shown} stored for {reg} expires on {_date(info.expires_at)} "
            f"({_days(info.expires_at, now)}, {_source(info)})."
        )
        why = "On that date every client using it starts getting 401." + copies
    else:
        code = "HAR103"
        summary = "Create a new token and store it where this one is."
        message = (
            f"The Harness API rejects the token {shown} stored for {reg}: it was revoked, deleted "
            "or mistyped, or belongs to another Harness cluster (it is not known to have expired)."
        )
        why = "HAR refuses it the same way: 401 on every pull and push."
    rem = token_remediation(
        summary,
        cred,
        here,
        [(o, where(o, ctx.home)) for o in others],
        registry=_registry_name(cred),
        email=email,
        home=ctx.home,
    )
    return [
        ctx.finding(
            code, message, severity=severity, why=why, evidence=evidence, remediation=rem, **common
        )
    ]


def generic_expiry(cred: Credential, info: TokenInfo, ctx: Context) -> list[Finding]:
    if info.expires_at is None or info.status not in ("expired", "expiring-soon"):
        return []
    now = ctx.now()
    others, evidence = _places(cred, ctx)
    step, cmds = paste_instructions(cred, _where(cred, ctx), home=ctx.home)
    common = _about(cred)
    issuer = info.details.get("iss")
    by = f" (issued by {issuer})" if isinstance(issuer, str) else ""
    if info.status == "expired":
        message = f"{_subject(cred)}{by} expired on {_date(info.expires_at)} ({_source(info)})."
        rule, why = "TOK005", "The registry refuses an expired token with 401."
    else:
        message = (
            f"{_subject(cred)}{by} expires on {_date(info.expires_at)} "
            f"({_days(info.expires_at, now)}, {_source(info)})."
        )
        rule, why = "TOK006", "On that date the client starts getting 401."
    rem = Remediation(
        "Get a fresh token from its issuer (log in again) and store it.",
        (step, *(f"Also update {where(o, ctx.home)}: it holds the same token." for o in others)),
        tuple(cmds),
    )
    return [ctx.finding(rule, message, why=why, evidence=evidence, remediation=rem, **common)]


def skew(cred: Credential, info: TokenInfo, ctx: Context) -> list[Finding]:
    ahead = clock_skew(info, ctx.now())
    if ahead is None:
        return []
    minutes = ahead.total_seconds() / 60
    amount = f"{minutes:.0f} minutes" if minutes < 120 else f"{minutes / 60:.1f} hours"
    what = (
        "becomes valid"
        if info.not_before and info.not_before - ctx.now() == ahead
        else "was issued"
    )
    return [
        ctx.finding(
            "TOK007",
            f"{_subject(cred)} {what} {amount} in the future by this machine's clock: the local "
            "clock is probably behind.",
            location=cred.location,
            ecosystem=cred.ecosystem,
            credential=cred.id,
            registry=cred.host,
            plugin=PLUGIN,
            why="Expiry computed here is off by the same amount, and tokens checked against the "
            "local clock are refused as not yet valid.",
            remediation=Remediation(
                "Synchronise the clock.",
                (
                    "Turn on time sync (timedatectl set-ntp true), or restart "
                    "it on WSL and VMs that were suspended.",
                ),
            ),
        )
    ]


# -------------------------------------------------- account, username, URL


def _layout_oci(cred: Credential) -> bool | None:
    if cred.ecosystem in OCI_ECOSYSTEMS:
        return True
    if cred.ecosystem in PKG_ECOSYSTEMS:
        return False
    return None


def account_mismatch(cred: Credential, token: HarnessToken, ctx: Context) -> list[Finding]:
    # Docker keys are host-based (a path in them is ignored by Docker):
    # image paths are compared per target in diagnose instead.
    if not token.account or token.legacy or not cred.registry or _layout_oci(cred) is True:
        return []
    har = parse_har_url(cred.registry, oci=_layout_oci(cred))
    url_account = account_of(har) if har else None
    if har is None or url_account is None:
        return []
    finding = mismatch_finding(
        token,
        url_account,
        har.layout == "oci",
        cred.registry,
        ctx,
        location=cred.location,
        ecosystem=cred.ecosystem,
        credential=cred.id,
        registry=cred.host,
    )
    return [finding] if finding else []


def mismatch_finding(
    token: HarnessToken, url_account: str, oci: bool, url: str, ctx: Context, **where_: Any
) -> Finding | None:
    assert token.account is not None
    if token.account == url_account or (oci and token.account.lower() == url_account.lower()):
        return None
    severity = None
    if token.account.lower() == url_account.lower():
        severity = Severity.WARNING
        message = (
            f"{url} names account {url_account}, the token's account is {token.account}: they "
            "differ only in letter case, and /pkg/ URLs need the account ID exactly as Harness "
            "shows it."
        )
    else:
        message = (
            f"The token {token.display()} belongs to account {token.account}, but {url} is in "
            f"account {url_account}."
        )
    return ctx.finding(
        "HAR105",
        message,
        severity=severity,
        plugin=PLUGIN,
        why="A Harness token works only in its own account: HAR answers 401 (or 404 "
        "ROOT_NOT_FOUND) although the token is valid.",
        remediation=Remediation(
            f"Use a token created in account {url_account}, or fix the account in the URL.",
            (
                "Tokens are created per account: switch to the right account in the Harness UI "
                "before Set up client / API keys.",
            ),
        ),
        **where_,
    )


_USERNAME_OK = frozenset({"harness"})


def username(
    cred: Credential, token: HarnessToken | None, info: TokenInfo | None, ctx: Context
) -> list[Finding]:
    user = cred.username
    if not user or cred.scheme != "basic" or cred.ecosystem == "npm":
        return []
    if looks_like_token(user) or user.lower() in _USERNAME_OK:
        return []  # TOK004 covers a token in the username
    owner = info.details.get("email") if info is not None else None
    if _EMAIL.match(user):
        if not isinstance(owner, str) or owner.lower() == user.lower():
            return []
        message = (
            f"The username for {cred.registry or cred.host} is {user}, but the token "
            f"belongs to {owner}."
        )
    else:
        message = (
            f"The username for {cred.registry or cred.host} is {user!r}, not the account "
            "e-mail that HAR's Setup Client uses."
        )
    step, cmds = paste_instructions(
        cred, _where(cred, ctx), owner if isinstance(owner, str) else None, ctx.home
    )
    return [
        ctx.finding(
            "HAR106",
            message,
            location=cred.location,
            ecosystem=cred.ecosystem,
            credential=cred.id,
            registry=cred.host,
            plugin=PLUGIN,
            why="HAR authenticates with the token and may ignore the username, so this alone "
            "does not cause a 401 -- but Setup Client writes your e-mail there.",
            remediation=Remediation(
                "Use your Harness login e-mail as the username.", (step,), cmds
            ),
        )
    ]


def credential_url(cred: Credential, ctx: Context) -> list[Finding]:
    """Layout checks of the registry key of package-type clients (Docker
    keys are bare hosts; image paths are checked per target in diagnose)."""
    if not cred.registry:
        return []
    oci = _layout_oci(cred)
    if oci is True or (oci is None and "/pkg/" not in cred.registry):
        return []
    har = parse_har_url(cred.registry, oci=False)
    if har is None:
        return []
    return [
        url_finding(
            issue,
            ctx,
            location=cred.location,
            ecosystem=cred.ecosystem,
            credential=cred.id,
            registry=cred.host,
        )
        for issue in url_issues(har, cred.ecosystem)
    ]


def url_finding(
    issue: UrlIssue, ctx: Context, severity: Severity | None = None, **where_: Any
) -> Finding:
    steps = (
        (
            f"Use {issue.suggestion}"
            + (" (and the matching auth key)" if where_.get("ecosystem") == "npm" else "")
            + ".",
        )
        if issue.suggestion
        else ()
    )
    return ctx.finding(
        issue.code,
        issue.message,
        severity=severity,
        plugin=PLUGIN,
        why="HAR routes requests by this path; with the wrong layout it finds no registry and "
        "answers 404 or 401.",
        remediation=Remediation("Use the URL from the registry's Set up client page.", steps),
        **where_,
    )
