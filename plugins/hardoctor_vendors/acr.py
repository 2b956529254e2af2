"""Azure Container Registry (``NAME.azurecr.io``): the all-zero GUID user
with an ACR refresh token (a JWT whose ``exp`` we read), the admin user,
service principals, repository-scoped tokens; ACR's own answers (the
``aka.ms/acr/authorization`` 401, the firewall 403), the
``docker-credential-acr-*`` helper and ``az acr login``.

Facts and sources: docs/vendors/azure-acr.md.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from hardoctor import lazyre
from hardoctor.model import Credential, Finding, RegistryInfo, Remediation, TokenInfo

from . import common
from .common import Answer, Vendor
from .plugin import VendorPlugin

if TYPE_CHECKING:
    from hardoctor.context import Context

ZERO_GUID = "00000000-0000-0000-0000-000000000000"
ISSUER = "Azure Container Registry"
DOCS = "https://learn.microsoft.com/azure/container-registry/container-registry-authentication"
_HOST = lazyre.compile(r"^(?P<name>[^.]+)\.(?:(?P<region>[a-z0-9]+)\.data\.)?"
                   r"azurecr\.(?P<cloud>io|cn|us|de)(?::\d+)?$")
_NAME = lazyre.compile(r"^[a-z0-9]{5,50}$")
_GUID = lazyre.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_OCI = frozenset({"oci", "docker", "helm-oci", "podman"})


def owns_host(host: str) -> bool:
    # The substring test first: every host of a run is asked, and most are
    # not Azure's (the pattern then need not even be compiled).
    return "azurecr." in host.lower() and bool(_HOST.match(host))


def name_of(host: str) -> str:
    m = _HOST.match(host)
    return m.group("name").lower() if m else "NAME"


def login(cred: Credential | None, host: str) -> Remediation:
    name = name_of(host)
    user = (cred.username or "") if cred is not None else ""
    steps = ["`az acr login` signs in with your Microsoft Entra identity and stores an ACR "
             "refresh token (valid about 3 hours) for the registry; run it again when it "
             "expires.",
             "If `az` says your Azure login expired, run `az login` first."]
    cmds = [f"az acr login --name {name}"]
    if cred is not None and cred.ecosystem in ("k8s", "kubernetes", "helm-oci") or not user:
        steps.append("Where Docker is not available (a pipeline, a pull secret), get a token "
                     "to pass with the all-zero user: az acr login --name NAME --expose-token.")
        cmds.append(f"az acr login --name {name} --expose-token --output tsv --query "
                    f"accessToken | docker login {name}.azurecr.io --username {ZERO_GUID} "
                    "--password-stdin")
    if user and user != ZERO_GUID and not _GUID.match(user):
        steps.append(f"{user!r} is an admin user or a repository-scoped token: regenerate its "
                     "password in the portal (Access keys / Tokens) or with "
                     "`az acr credential renew` / `az acr token credential generate`.")
    return Remediation("Log in to the registry again with the Azure CLI.", tuple(steps),
                       tuple(cmds), (DOCS,))


def permission(host: str) -> Remediation:
    name = name_of(host)
    return Remediation(
        "Give the identity an ACR role on the registry (or fix the token's scope map).",
        ("Pulls need the AcrPull role, pushes AcrPush (or the Container Registry Repository "
         "Reader/Writer roles on ABAC-enabled registries).",
         "A repository-scoped token only reaches the repositories and actions of its scope "
         "map."),
        (f"az role assignment list --scope $(az acr show --name {name} --query id -o tsv)",),
        ("https://learn.microsoft.com/azure/container-registry/container-registry-roles",))


def helper(finding: Finding, host: str, ctx: Context) -> Remediation | None:
    """Not installed, or no Azure identity for it (an az CLI not logged in,
    the acr-env helper's service-principal variables unset): :mod:`.cloudstate`."""
    from .cloudstate import azure_state

    text = " ".join((finding.message, *finding.evidence))
    binary = re.search(r"docker-credential-(acr[\w-]*)", text)
    if binary is None:
        return None
    login = f"az acr login --name {name_of(host)}"
    if re.search(r"not on PATH|executable file not found", text, re.I):
        return Remediation(f"docker-credential-{binary.group(1)} is not installed; "
                           "`az acr login` needs no helper.", commands=(login,), docs=(DOCS,))
    state = azure_state(ctx, helper_env=binary.group(1) == "acr-env")
    if state.mode == "no-env":
        return Remediation(f"The helper finds no service principal ({state.detail}).",
                           ("docker-credential-acr-env reads the service principal from "
                            "AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET.",),
                           (), (DOCS,))
    if state.mode == "no-login":
        return Remediation(f"The helper has no Azure sign-in ({state.detail}).",
                           commands=("az login", login), docs=(DOCS,))
    return Remediation(f"An Azure identity is configured ({state.detail}) but the helper still "
                       "fails: the sign-in may have expired, or the identity lacks AcrPull.",
                       commands=("az login", login), docs=(DOCS,))


VENDOR = Vendor(
    name="azure-acr", display="Azure Container Registry", prefix="ACR", plugin="acr",
    token_words="an ACR refresh token (the all-zero GUID user) or token password",
    lifetime="`az acr login` stores a refresh token that lives about 3 hours.",
    login_example="az acr login --name NAME",
    owns_host=owns_host, login=login, permission=permission, helper=helper,
    answers=(
        Answer(frozenset({403}), lazyre.compile(r"client with IP .* is not allowed access|"
                                            r"aka\.ms/acr/firewall", re.I),
               "ACR106", "the registry's firewall does not allow this network.",
               cause="blocked-by-policy"),
        Answer(frozenset({401, 403}), lazyre.compile(r"aka\.ms/acr/authorization|"
                                                 r"authentication required", re.I),
               "ACR103", "ACR does not accept the credential (expired, regenerated, or "
               "the admin user is disabled)."),
    ),
)


# ------------------------------------------------------------------ tokens


def _jwt_info(cred: Credential, ctx: Context, claims: dict[str, Any]) -> TokenInfo:
    grant = claims.get("grant_type")
    fmt = "acr-access-token" if grant == "access_token" else "acr-refresh-token"
    aud = claims.get("aud") if isinstance(claims.get("aud"), str) else None
    details: dict[str, Any] = {"iss": claims["iss"]} if isinstance(claims.get("iss"), str) else {}
    if aud:
        details["aud"] = aud
    if isinstance(claims.get("tenant"), str):
        details["tenant"] = claims["tenant"]
    problems: list[tuple[str, str]] = []
    if aud and cred.host and owns_host(cred.host) and aud.lower() != cred.host.lower():
        problems.append(("audience", f"was issued for {aud}, not for {cred.host}"))
    return common.token_info(
        VENDOR, cred, ctx, fmt, account=name_of(aud) if aud else None,
        issued=common.epoch(claims.get("iat")), expires=common.epoch(claims.get("exp")),
        details=details, problems=problems, short=True)


def decode(cred: Credential, ctx: Context) -> TokenInfo | None:
    if cred.secret is None:
        return None
    parsed = common.jwt_of(cred)
    if parsed is not None and parsed[1].get("iss") == ISSUER:
        return _jwt_info(cred, ctx, parsed[1])
    if not cred.host or not VENDOR.owns(cred.host, ctx):
        return None
    user = cred.username or ""
    if parsed is not None and user in (ZERO_GUID, ""):
        # The all-zero user's password is an ACR token whatever its issuer says.
        return _jwt_info(cred, ctx, parsed[1])
    if user == ZERO_GUID:
        return common.token_info(VENDOR, cred, ctx, "acr-refresh-token", problems=(
            ("not-a-refresh-token", "is not an ACR refresh token (a JWT), which the "
             f"{ZERO_GUID} user requires"),))
    if user.lower() == name_of(cred.host):
        return common.token_info(VENDOR, cred, ctx, "acr-admin-password",
                                 account=name_of(cred.host))
    if _GUID.match(user):
        return common.token_info(VENDOR, cred, ctx, "azure-service-principal-secret",
                                 account=user)
    return common.token_info(VENDOR, cred, ctx, "acr-token-password",
                             account=name_of(cred.host), token_id=user or None)


def registry_info(url: str, package_type: str | None, ctx: Context) -> RegistryInfo | None:
    host = common.host_of(url)
    if not VENDOR.owns(host, ctx):
        return None
    m = _HOST.match(host)
    problems: list[str] = []
    suggested = None
    name = m.group("name") if m else None
    if m and m.group("region"):
        suggested = f"{name}.azurecr.{m.group('cloud')}"
        problems.append(f"{host} is a data endpoint of the registry; clients log in to and pull "
                        f"from its login server {suggested}.")
    if name and not _NAME.match(name.lower()):
        problems.append(f"{name!r} cannot be an ACR registry name (5-50 letters and digits, "
                        "no dashes).")
    if package_type is not None and package_type not in _OCI:
        problems.append(f"ACR serves container images, Helm charts and OCI artifacts only, "
                        f"not {package_type} packages.")
    return RegistryInfo(vendor=VENDOR.name, display=VENDOR.display, host=host,
                        account=name.lower() if name else None, package_type="oci",
                        region=m.group("region") if m else None, problems=tuple(problems),
                        suggested_url=suggested)


PLUGIN = VendorPlugin(VENDOR, decode, registry_info)
