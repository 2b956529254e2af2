"""JFrog Artifactory: ``*.jfrog.io`` and any ``/artifactory/`` URL, the
layouts per package type (``/artifactory/api/npm/REPO/``,
``/artifactory/api/pypi/REPO/simple``, ``/artifactory/REPO/`` for Maven,
``HOST/REPO/IMAGE`` for Docker); reference tokens (``cmVmdGtu…``, 64
characters, base64 of ``reftkn:01:EXPIRY:…``), access-token JWTs
(``jfrt@``/``jfac@`` issuers, ``…/users/NAME`` subjects), API keys
(``AKC…``, deprecated); ``Bad credentials`` versus a permission-target 403.

Facts and sources: docs/vendors/jfrog.md.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from hardoctor import lazyre
from hardoctor.model import Credential, RegistryInfo, Remediation, TokenInfo

from . import common
from .common import Answer, Vendor
from .plugin import VendorPlugin

if TYPE_CHECKING:
    from hardoctor.context import Context

DOCS = ("https://jfrog.com/help/r/jfrog-platform-administration-documentation/"
        "access-tokens")
REF_PREFIX = "cmVmdGtu"  # base64 of "reftkn"
_API_KEY = lazyre.compile(r"^AKC[A-Za-z0-9]{10,}$")
_ISSUER = lazyre.compile(r"^(?:jfrt|jfac|jfmc|jfxr)@")
_SUB_USER = lazyre.compile(r"/users/(?P<user>[^/]+)$")
_PATH = lazyre.compile(r"/artifactory/(?:api/(?P<api>[a-z]+)/)?(?P<repo>[^/]+)(?P<rest>/.*)?$")
_TYPES = {"npm": "npm", "pypi": "python", "docker": "oci", "maven": "maven", "helm": "helm"}


def owns_host(host: str) -> bool:
    return host.split(":")[0].endswith(".jfrog.io")


def login(cred: Credential | None, host: str) -> Remediation:
    user = (cred.username if cred is not None else None) or "USERNAME"
    eco = cred.ecosystem if cred is not None else "docker"
    steps = ["Create a token: your profile → Generate an Identity Token (a reference token), "
             "or Administration → User Management → Access Tokens; the JFrog CLI can do it "
             "too (`jf access-token-create`).",
             "Artifactory accepts it as the password with your username, or as a bearer "
             "token."]
    if eco == "npm":
        cmds = [f"npm config set //{host}/artifactory/api/npm/REPO/:_authToken \"$TOKEN\""]
    elif eco in ("pip", "python"):
        cmds = []
        steps.append(f"Index URL: https://{user}:TOKEN@{host}/artifactory/api/pypi/REPO/simple "
                     "(or keep the token in a keyring).")
    elif eco in ("maven", "gradle"):
        cmds = []
        steps.append("Put the token in <password> of the matching <server> in settings.xml.")
    else:
        cmds = [f"echo \"$TOKEN\" | docker login {host} -u {user} --password-stdin"]
    return Remediation("Log in again with a valid JFrog token.", tuple(steps), tuple(cmds),
                       (DOCS,))


def permission(host: str) -> Remediation:
    return Remediation(
        "Add the user (or a group of it) to a permission target that covers the repository.",
        ("Administration → User Management → Permissions: the permission target must include "
         "the repository (a virtual repository's members too) with Read (pull) or "
         "Deploy/Cache (push); anonymous access must be on for pulls without a token.",
         "A scoped access token never has more than its scope allows (applied-permissions/"
         "user acts as the user)."),
        (), (DOCS,))


VENDOR = Vendor(
    name="jfrog", display="JFrog Artifactory", prefix="JFR", plugin="jfrog",
    token_words="a JFrog reference or access token",
    lifetime="Access tokens expire as set when they were made (the identity-token default "
    "is a year); reference tokens carry their expiry.",
    login_example="echo \"$TOKEN\" | docker login ACME.jfrog.io -u USERNAME --password-stdin",
    owns_host=owns_host, login=login, permission=permission,
    answers=(
        Answer(frozenset({401}), lazyre.compile(r"Token failed verification: expired|token "
                                            r"(has )?expired", re.I),
               "JFR101", "Artifactory says the token has expired."),
        Answer(frozenset({401}), lazyre.compile(r"Bad credentials|Token failed verification", re.I),
               "JFR103", "Artifactory does not accept the username and token (wrong, revoked, "
               "or the token of another JFrog Platform)."),
        Answer(frozenset({403}), lazyre.compile(r"Forbidden|not permitted|permission|"
                                            r"not authorized", re.I),
               "JFR106", "the user is authenticated but no permission target gives it this "
               "action on the repository."),
    ),
)


def _reference(value: str) -> tuple[dict[str, Any], list[tuple[str, str]]] | None:
    if not value.startswith("cmVmd"):
        return None
    problems: list[tuple[str, str]] = []
    if len(value) < 64 or not value.isalnum():
        # JFrog documents 64 characters; longer ones exist, so only shorter is "cut off".
        problems.append(("truncated", f"is {len(value)} characters; a JFrog reference token "
                         "has at least 64 letters and digits"))
    text = common.b64_text(value) or ""
    details: dict[str, Any] = {}
    parts = text.split(":")
    if len(parts) >= 4 and parts[0] == "reftkn":
        details["reference_version"] = parts[1]
        if parts[2].isdigit():
            details["reference_expiry"] = int(parts[2])
    return details, problems


def decode(cred: Credential, ctx: Context) -> TokenInfo | None:
    if cred.secret is None:
        return None
    value = common.clean(cred)
    ref = _reference(value)
    if ref is not None:
        details, problems = ref
        raw = details.get("reference_expiry")
        expires = common.epoch(raw) if raw else None
        if raw == 0:
            details["no_expiry"] = True
        return common.token_info(VENDOR, cred, ctx, "jfrog-reference-token", expires=expires,
                                 details=details, problems=problems)
    parsed = common.jwt_of(cred)
    if parsed is not None:
        claims = parsed[1]
        iss, sub = claims.get("iss"), claims.get("sub")
        if not (isinstance(iss, str) and _ISSUER.match(iss)) and not (
                isinstance(sub, str) and _ISSUER.match(sub)):
            return None
        m = _SUB_USER.search(sub) if isinstance(sub, str) else None
        details = {k: claims[k] for k in ("iss", "sub", "scp", "aud")
                   if isinstance(claims.get(k), str)}
        return common.token_info(
            VENDOR, cred, ctx, "jfrog-access-token", account=m.group("user") if m else None,
            token_id=claims.get("jti") if isinstance(claims.get("jti"), str) else None,
            issued=common.epoch(claims.get("iat")), expires=common.epoch(claims.get("exp")),
            details=details)
    if _API_KEY.match(value) and (len(value) == 73 or (cred.host and VENDOR.owns(cred.host,
                                                                                  ctx))):
        return common.token_info(VENDOR, cred, ctx, "jfrog-api-key", details={
            "deprecated": "JFrog deprecated API keys: use an identity or reference token"})
    return None


def registry_info(url: str, package_type: str | None, ctx: Context) -> RegistryInfo | None:
    host = common.host_of(url)
    rest = url.split("://", 1)[-1]
    path = "/" + rest.split("/", 1)[1] if "/" in rest else ""
    m = _PATH.search(path)
    if not VENDOR.owns(host, ctx) and m is None:
        return None
    problems: list[str] = []
    suggested = None
    want = {"pip": "python", "gradle": "maven", "docker": "oci", "podman": "oci",
            "helm-oci": "oci"}.get(package_type or "", package_type)
    repo = m.group("repo") if m else None
    api = m.group("api") if m else None
    base = f"https://{host}/artifactory"
    if m is not None and repo:
        if want == "npm" and api != "npm":
            suggested = f"{base}/api/npm/{repo}/"
            problems.append(f"npm needs Artifactory's npm API: {suggested}")
        elif want == "python" and api != "pypi":
            suggested = f"{base}/api/pypi/{repo}/simple"
            problems.append(f"pip needs Artifactory's PyPI API: {suggested}")
        elif want == "python" and "simple" not in (m.group("rest") or ""):
            suggested = f"{base}/api/pypi/{repo}/simple"
            problems.append(f"pip needs the /simple index: {suggested}")
        elif want == "maven" and api is not None:
            suggested = f"{base}/{repo}/"
            problems.append(f"Maven reads the repository itself, not an API path: {suggested}")
        elif want == "oci":
            suggested = f"{host}/{repo}"
            problems.append(f"Docker pulls from {host}/{repo}/IMAGE (repository path), not from "
                            "an /artifactory/ URL.")
    return RegistryInfo(vendor=VENDOR.name, display=VENDOR.display, host=host,
                        account=host.split(".")[0] if owns_host(host) else None,
                        registry=repo, package_type=_TYPES.get(api or ""),
                        problems=tuple(problems), suggested_url=suggested)


PLUGIN = VendorPlugin(VENDOR, decode, registry_info)
