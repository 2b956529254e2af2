"""What every vendor plugin of this package does the same way.

* :class:`Vendor` -- a vendor's name, rule prefix and the functions that
  hold its knowledge (hosts, login, permission story, documented answers);
* :func:`token_info` -- a :class:`TokenInfo` for one of the vendor's token
  formats, never holding the value (``details["vendor"]`` names the vendor,
  ``details["format"]`` the format);
* :func:`vendor_rules` -- the rule pages every vendor has (``P101``
  expired, ``P102`` expiring, ``P103`` rejected, ``P104`` another vendor's
  token, ``P105`` malformed, ``P106`` permission denied, ``P201`` URL);
* :func:`check_credential`, :func:`diagnose`, :func:`remediation` -- the
  hook bodies, parameterised by the :class:`Vendor`.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from hardoctor.lazy import submodule
from hardoctor.model import (
    Credential,
    Finding,
    Remediation,
    Severity,
    TokenInfo,
    fingerprint,
)
from hardoctor.records import dataclass, field
from hardoctor.stash import StashKey
from hardoctor.targets import split_host_url

if TYPE_CHECKING:
    from hardoctor import tokens
else:  # the token parsers load when a credential is read (start-up)
    tokens = submodule("hardoctor", "tokens")

if TYPE_CHECKING:
    from hardoctor.context import Context

E, W = Severity.ERROR, Severity.WARNING
TOKEN_CAUSES = frozenset({"token-expired", "token-expiring-soon", "token-invalid",
                          "token-malformed", "no-credentials", "credential-not-matched"})
#: Token kinds of the core's generic decoder: they name no vendor.
GENERIC_KINDS = frozenset({"jwt", "basic", "opaque", "none", "uuid"})
READ_TOKEN = "read -rs TOKEN   # paste the new token, then Enter (not echoed, not in history)"
#: A decoded value bigger than this is not a token we read.
MAX_DECODE = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """One of the vendor's documented error answers: the HTTP statuses it
    comes with, a pattern of its message (or error code), the rule it
    means and a sentence saying why."""

    statuses: frozenset[int]
    pattern: re.Pattern[str]
    code: str
    why: str
    cause: str | None = None


@dataclass(frozen=True)
class Vendor:
    #: ``RegistryInfo.vendor`` and ``TokenInfo.details["vendor"]``.
    name: str
    display: str
    #: Rule code prefix (``ECR``).
    prefix: str
    #: The plugin (entry point) name; also the ``--NAME-host`` option.
    plugin: str
    #: "an ECR authorization token" -- for rule pages.
    token_words: str
    #: One sentence about how long its tokens live (rule pages).
    lifetime: str
    #: The login command for rule pages.
    login_example: str
    #: Is this host the vendor's own (built-in patterns only)?
    owns_host: Callable[[str], bool]
    #: Its login steps for a registry host (credential when known).
    login: Callable[[Credential | None, str], Remediation]
    #: Its permission story for a registry host.
    permission: Callable[[str], Remediation]
    answers: tuple[Answer, ...] = ()
    #: Advice for a credential-helper finding on its hosts (or None).
    helper: Callable[[Finding, str, Context], Remediation | None] | None = None
    hosts_key: StashKey[frozenset[str]] = field(default_factory=StashKey)

    def owns(self, host: str, ctx: Context | None) -> bool:
        host = host.lower()
        if self.owns_host(host):
            return True
        extra = ctx.stash.get(self.hosts_key, frozenset()) if ctx is not None else frozenset()
        return host in extra or host.split(":")[0] in extra


# ------------------------------------------------------------------ options


def add_host_option(v: Vendor, parser: argparse.ArgumentParser, command: str) -> None:
    if command not in ("check", "fix", "serve"):
        return
    env = f"HARDOCTOR_{v.plugin.upper()}_HOSTS"
    parser.add_argument(
        f"--{v.plugin}-host", action="append", default=[], metavar="HOST[:PORT]",
        help=f"treat HOST as a {v.display} host (a private endpoint, a self-hosted "
        f"instance, a mirror); {env} takes a comma-separated list")


def configure_hosts(v: Vendor, ctx: Context) -> None:
    from hardoctor.errors import UsageError

    dest = f"{v.plugin}_host"
    env = ctx.getenv(f"HARDOCTOR_{v.plugin.upper()}_HOSTS") or ""
    hosts: set[str] = set()
    for value in [*env.split(","), *ctx.options.strings(dest)]:
        value = value.strip()
        if not value:
            continue
        split = split_host_url(value)
        if split is None:
            raise UsageError(f"--{v.plugin}-host: expected HOST[:PORT], got {value!r}")
        hosts.add(split[0])
    ctx.stash[v.hosts_key] = frozenset(hosts)


# ------------------------------------------------------------------ tokens


def host_of(value: str) -> str:
    split = split_host_url(value)
    return split[0] if split else value.strip().lower()


def b64_json(value: str) -> dict[str, Any] | None:
    """``value`` as base64 (standard or URL-safe) of a JSON object."""
    v = value.strip()
    if not v or len(v) > MAX_DECODE or not re.fullmatch(r"[A-Za-z0-9+/_=-]+", v):
        return None
    try:
        raw = base64.b64decode(v.replace("-", "+").replace("_", "/") + "=" * (-len(v) % 4))
        data = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def b64_text(value: str) -> str | None:
    v = value.strip()
    if not v or len(v) > MAX_DECODE or not re.fullmatch(r"[A-Za-z0-9+/=]+", v):
        return None
    try:
        return base64.b64decode(v + "=" * (-len(v) % 4), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def epoch(value: Any) -> datetime | None:
    """A time a token carries: epoch seconds (or milliseconds), as a number
    or a string, or an ISO 8601 date."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, str) and not re.fullmatch(r"\d+(?:\.\d+)?", value.strip()):
        try:
            at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    try:
        number = float(value)
        if number > 1e11:  # milliseconds
            number /= 1000
        return datetime.fromtimestamp(number, timezone.utc) if number > 0 else None
    except (OverflowError, OSError, ValueError):
        return None


def stored(cred: Credential) -> datetime | None:
    at = cred.stored_at
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at


@dataclass(frozen=True)
class Estimate:
    expires_at: datetime
    basis: str


def estimate(cred: Credential, lifetime: timedelta, what: str) -> Estimate | None:
    """Expiry estimated from when the credential was written."""
    at = stored(cred)
    if at is None:
        return None
    hours = lifetime.total_seconds() / 3600
    span = f"{hours:g} hour{'s' * (hours != 1)}"
    return Estimate(at + lifetime, f"written at {stamp(at)} + {span}, the lifetime of {what}")


def stamp(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def token_info(
    v: Vendor,
    cred: Credential,
    ctx: Context,
    fmt: str,
    *,
    account: str | None = None,
    token_id: str | None = None,
    issued: datetime | None = None,
    expires: datetime | None = None,
    guess: Estimate | None = None,
    details: Mapping[str, Any] | None = None,
    problems: Sequence[tuple[str, str]] = (),
    skip: frozenset[str] = frozenset(),
    short: bool = False,
) -> TokenInfo:
    """The :class:`TokenInfo` of a vendor token.  ``expires`` is what the
    token itself says; ``guess`` an estimate used only when it says
    nothing.  ``problems`` are (code, text) the vendor's format shows;
    ``skip`` drops generic problem codes the format allows (whitespace
    inside a JSON key file).  ``short``: a token that lives hours, renewed
    by logging in again -- never "expiring soon" (always within the warning
    window), only valid or expired."""
    assert cred.secret is not None
    raw = cred.secret.reveal()
    clean = tokens.clean_token(raw)
    generic = [p for p in tokens.problems_for(raw, cred.username) if p.code not in skip]
    texts = [p.text for p in generic] + [t for _, t in problems]
    codes = [p.code for p in generic] + [c for c, _ in problems]
    out: dict[str, Any] = {"format": fmt, "vendor": v.name, **(details or {})}
    source = "token" if expires is not None else "unknown"
    if expires is None and guess is not None:
        expires, source = guess.expires_at, "estimated"
        out["estimate"] = guess.basis
    if cred.stored_at is not None:
        out["stored_at"] = cred.stored_at.isoformat()
    if codes:
        out["problem_codes"] = tuple(codes)
    if problems:
        out["vendor_problems"] = tuple(c for c, _ in problems)
    if skip:
        out["format_allows"] = tuple(sorted(skip))  # the core's TOK checks honour it
    parsed = tokens.jwt_claims(clean)
    kind = "jwt" if parsed else ("basic" if cred.scheme == "basic" else "opaque")
    status = tokens.status_for(expires, ctx.now(), ctx.options.expiry_warning_days)
    if short and status == "expiring-soon":
        status = "valid"
    return TokenInfo(
        kind=kind,
        fingerprint=fingerprint(clean),
        account_id=account,
        token_id=token_id,
        issued_at=issued,
        expires_at=expires,
        expiry_source=source,
        status=status,
        problems=tuple(texts),
        details=out,
    )


def jwt_of(cred: Credential) -> tuple[dict[str, Any], dict[str, Any]] | None:
    return tokens.jwt_claims(tokens.clean_token(cred.secret.reveal())) if cred.secret is not None else None


def clean(cred: Credential) -> str:
    return tokens.clean_token(cred.secret.reveal()) if cred.secret is not None else ""


def token_vendor(info: TokenInfo | None) -> str | None:
    """The vendor a decoded token belongs to (its plugin said so), if any."""
    if info is None:
        return None
    named = info.details.get("vendor")
    if isinstance(named, str) and named:
        return named
    return None if info.kind in GENERIC_KINDS else info.kind


#: How a sentence names each format this package decodes.
LABELS = {
    "aws-ecr-token": "ECR authorization token",
    "google-oauth-access-token": "Google access token",
    "google-service-account-key": "Google service-account key",
    "google-credential": "Google credential",
    "acr-refresh-token": "ACR refresh token",
    "acr-access-token": "ACR access token",
    "acr-admin-password": "ACR admin password",
    "acr-token-password": "ACR token password",
    "azure-service-principal-secret": "Azure service principal secret",
    "github-pat-classic": "GitHub personal access token (classic)",
    "github-pat-fine-grained": "GitHub fine-grained personal access token",
    "github-installation-token": "GitHub installation token",
    "github-oauth-token": "GitHub OAuth token",
    "github-user-to-server-token": "GitHub user-to-server token",
    "github-refresh-token": "GitHub refresh token",
    "gitlab-pat": "GitLab access token",
    "gitlab-deploy-token": "GitLab deploy token",
    "gitlab-ci-job-token": "GitLab CI job token",
    "docker-hub-pat": "Docker Hub personal access token",
    "docker-hub-oat": "Docker Hub organization access token",
    "jfrog-reference-token": "JFrog reference token",
    "jfrog-access-token": "JFrog access token",
    "jfrog-api-key": "JFrog API key",
}


def token_label(info: TokenInfo) -> str:
    fmt = info.details.get("format")
    if isinstance(fmt, str) and fmt:
        return LABELS.get(fmt, fmt)
    return info.kind
