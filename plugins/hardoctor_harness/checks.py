"""``hardoctor_check_credential`` for Harness: a cut-off PAT/SAT (HAR104),
its expiry (HAR101-103, :mod:`.expirycheck`), account mismatch, username
and URL layout on HAR hosts.  The generic token checks (TOK) are the
core's (:mod:`hardoctor.tokencheck`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hardoctor import lazyre
from hardoctor.model import Credential, Finding, Remediation, Severity, TokenInfo
from hardoctor.tokens import looks_like_token
from hardoctor.tokens.index import token_index, where

from .expiry import decode_harness, harness_token
from .expirycheck import harness_expiry
from .options import harness_options, on_har_host
from .pat import HarnessToken
from .remediation import paste_instructions
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
_EMAIL = lazyre.compile(r"^[^@\s:/]+@[^@\s:/]+\.[A-Za-z]{2,}$")


def check_credential(cred: Credential, ctx: Context) -> list[Finding]:
    token_index(ctx).add(cred)
    if cred.secret is None:
        return []
    token = harness_token(cred)
    info = cred.token
    if info is None and token is not None:
        info = decode_harness(cred, token, ctx)
    out: list[Finding] = []
    if token is not None:
        out += truncated(cred, token, ctx)
        if info is not None:
            out += harness_expiry(cred, token, info, ctx)
    if is_har_host(cred.host, harness_options(ctx).hosts):
        if token is not None:
            out += account_mismatch(cred, token, ctx)
        out += username(cred, info, ctx)
        out += credential_url(cred, ctx)
    return out


def truncated(cred: Credential, token: HarnessToken, ctx: Context) -> list[Finding]:
    """HAR104: the value starts like a Harness token but is cut off."""
    if token.complete:
        return []
    texts = "; ".join(dict.fromkeys(p.text for p in token.problems))
    step, cmds = paste_instructions(cred, where(cred, ctx.home), home=ctx.home,
                                    on_har=on_har_host(ctx)(cred))
    return [
        ctx.finding(
            "HAR104",
            f"The token stored for {cred.registry or cred.host} is a Harness token that {texts}.",
            why="A partial Harness token never authenticates: HAR answers 401.",
            remediation=Remediation(
                "Copy the whole token again -- it is shown only once, so create a new one if "
                "you no longer have it.",
                (step,),
                tuple(cmds),
            ),
            location=cred.location,
            ecosystem=cred.ecosystem,
            credential=cred.id,
            registry=cred.host,
            plugin=PLUGIN,
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


def username(cred: Credential, info: TokenInfo | None, ctx: Context) -> list[Finding]:
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
        cred, where(cred, ctx.home), owner if isinstance(owner, str) else None, ctx.home
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
