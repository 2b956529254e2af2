"""The vendor hooks: what a HAR URL means (``hardoctor_registry_info``) and
Harness's own remediation for findings on HAR hosts
(``hardoctor_remediation``).  Client plugins reach this knowledge only
through these hooks, never by importing this plugin.

Harness wording (the ``-u`` value is your Harness login e-mail, Set up
client, API keys) appears only for registries on HAR hosts: on any other
registry both hooks answer ``None`` and the client plugin's own advice
stands.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hardoctor import lazyre
from hardoctor.model import Credential, Finding, RegistryInfo, Remediation
from hardoctor.tokens.index import token_index, where

from .options import harness_options, on_har_host
from .remediation import paste_instructions, permission_remediation, token_remediation
from .urls import (
    PACKAGE_TYPES,
    PYPI,
    HarUrl,
    account_of,
    is_har_host,
    parse_har_url,
    split_har,
    url_issues,
)

if TYPE_CHECKING:
    from hardoctor.context import Context

VENDOR = "harness"
DISPLAY = "Harness Artifact Registry"
#: The layout a client's package type needs (``url_issues`` speaks in
#: ecosystems: an OCI client or a package client).
_LAYOUT = {"oci": "oci", "docker": "oci", "helm-oci": "oci"}
_TOKEN_CAUSES = frozenset({"token-expired", "token-expiring-soon", "token-invalid"})
_WRITE = lazyre.compile(r"\b(push|pushes|upload|uploads|publish|deploy|write)\b", re.I)


def _oci(package_type: str | None) -> bool | None:
    if package_type is None:
        return None
    return _LAYOUT.get(package_type) == "oci"


def har_host_of(url: str, ctx: Context) -> str | None:
    """The host of ``url`` when it is a HAR host, else None."""
    split = split_har(url)
    if split is None or not is_har_host(split[0], harness_options(ctx).hosts):
        return None
    return split[0]


def registry_info(url: str, package_type: str | None, ctx: Context) -> RegistryInfo | None:
    host = har_host_of(url, ctx)
    if host is None:
        return None
    oci = _oci(package_type)
    har = parse_har_url(url, oci=oci)
    if har is None:
        return RegistryInfo(VENDOR, DISPLAY, host)
    issues = url_issues(har, "oci" if oci else package_type)
    problems = tuple(i.message for i in issues) or _other_type(har, package_type)
    suggested = next((i.suggestion for i in issues if i.suggestion), None)
    if not problems and package_type == "python":
        problems, suggested = _missing_simple(url, har)
    return RegistryInfo(
        vendor=VENDOR,
        display=DISPLAY,
        host=har.host,
        account=account_of(har),
        registry=har.registry,
        package_type=har.package_type,
        problems=problems,
        suggested_url=suggested,
    )


def _missing_simple(url: str, har: HarUrl) -> tuple[tuple[str, ...], str | None]:
    """A Python index URL that stops at the type segment: pip asks for
    ``<index>/<project>/``, which HAR serves only under ``.../simple/``."""
    served = (har.package_type or "").lower()
    segments = [s for s in har.segments if s]
    if har.layout != "pkg" or served not in ("python", PYPI) or len(segments) != 4:
        return (), None
    bare = url.strip().rstrip("/")
    return ((f"{bare} has no /simple: HAR serves the Python simple API under "
             f".../{served}/simple/",), bare + "/simple")


def _other_type(har: HarUrl, package_type: str | None) -> tuple[str, ...]:
    """A well-formed package URL of another type than the client needs (a
    Maven registry's URL in an npm config): HAR answers 404 for everything."""
    served = (har.package_type or "").lower()
    served = "python" if served == PYPI else served
    if har.layout != "pkg" or package_type not in PACKAGE_TYPES or served not in PACKAGE_TYPES:
        return ()
    if served == package_type:
        return ()
    return (
        f"{har.raw.strip()} is the URL of a HAR {served} registry; {package_type} needs a "
        f"{package_type} registry: https://{har.host}/pkg/ACCOUNT/REGISTRY/{package_type}/",
    )


def _registry_name(finding: Finding, credential: Credential | None) -> str | None:
    for value in (finding.registry, credential.registry if credential else None):
        har: HarUrl | None = parse_har_url(value) if value else None
        if har is not None and har.registry and har.layout in ("pkg", "oci"):
            return har.registry
    return None


def _token_story(finding: Finding, credential: Credential, ctx: Context) -> Remediation:
    """Regenerate, then replace the token everywhere it is stored."""
    info = credential.token
    email = info.details.get("email") if info is not None else None
    others = token_index(ctx).others(credential)
    summary = (
        finding.remediation.summary
        if finding.remediation is not None
        else "Create a new token and store it where this one is."
    )
    return token_remediation(
        summary,
        credential,
        where(credential, ctx.home),
        [(o, where(o, ctx.home)) for o in others],
        registry=_registry_name(finding, credential),
        email=email if isinstance(email, str) else None,
        home=ctx.home,
        on_har=on_har_host(ctx),
    )


def _paste(finding: Finding, credential: Credential, ctx: Context) -> Remediation:
    """Store the value again, the way Setup Client does for this client."""
    step, cmds = paste_instructions(credential, where(credential, ctx.home), home=ctx.home,
                                    on_har=on_har_host(ctx)(credential))
    summary = finding.remediation.summary if finding.remediation else "Store the token again."
    return Remediation(summary, (step,), tuple(cmds))


def remediation(finding: Finding, credential: Credential | None, ctx: Context) -> Remediation | None:
    """Harness's steps for another plugin's finding on a HAR host; None for
    this plugin's own findings (they carry them already) and for every
    registry that is not a HAR host."""
    if finding.rule.startswith("HAR") or not finding.registry:
        return None
    if har_host_of(finding.registry, ctx) is None:
        return None
    if finding.cause == "permission-denied":
        action = "push" if _WRITE.search(finding.message) else "pull"
        return permission_remediation(action, _registry_name(finding, credential))
    if credential is None or credential.secret is None:
        return None
    if finding.cause in _TOKEN_CAUSES:
        return _token_story(finding, credential, ctx)
    if finding.cause == "token-malformed":
        return _paste(finding, credential, ctx)
    return None
