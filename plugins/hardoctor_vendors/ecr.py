"""Amazon ECR (private registries and ECR Public): hosts, the 12-hour
authorization token and the expiry it carries, ECR's own error answers,
``docker-credential-ecr-login`` failures and the AWS CLI login commands.

Facts and sources: docs/vendors/aws-ecr.md.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hardoctor import lazyre
from hardoctor.model import Credential, Finding, RegistryInfo, Remediation, TokenInfo

from . import common
from .common import Answer, Vendor
from .plugin import VendorPlugin

if TYPE_CHECKING:
    from hardoctor.context import Context

LIFETIME = timedelta(hours=12)
PUBLIC_HOST = "public.ecr.aws"
DOCS = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html"
_HOST = lazyre.compile(
    r"^(?P<account>[^.]+)\.(?P<dkr>dkr\.ecr|dkr-ecr)(?P<fips>-fips)?\.(?P<region>[^.]+)\."
    r"(?P<domain>amazonaws\.com(?:\.cn)?|on\.aws)(?::\d+)?$")
_API = lazyre.compile(r"^(?:api\.)?ecr(?:-fips)?\.(?P<region>[^.]+)\.amazonaws\.com(?:\.cn)?$")
_REGION = lazyre.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$")
_OCI = frozenset({"oci", "docker", "helm-oci", "podman"})


def owns_host(host: str) -> bool:
    bare = host.split(":")[0]
    if "ecr" not in bare.lower():  # every ECR host names it (the patterns need not run)
        return False
    return bool(bare == PUBLIC_HOST or _HOST.match(host) or _API.match(bare))


def region_of(host: str) -> str | None:
    m = _HOST.match(host)
    return m.group("region") if m else None


def _tool(cred: Credential | None) -> str:
    if cred is not None and "podman" in cred.clients and "docker" not in cred.clients:
        return "podman login"
    if cred is not None and cred.clients == ("helm",):
        return "helm registry login"
    return "docker login"


def login(cred: Credential | None, host: str) -> Remediation:
    tool = _tool(cred)
    if host.split(":")[0] == PUBLIC_HOST:
        cmd = (f"aws ecr-public get-login-password --region us-east-1 | {tool} --username AWS "
               f"--password-stdin {PUBLIC_HOST}")
    else:
        region = region_of(host) or "REGION"
        cmd = (f"aws ecr get-login-password --region {region} | {tool} --username AWS "
               f"--password-stdin {host}")
    steps = [
        "ECR authorization tokens live 12 hours and cannot be renewed: get a new one with the "
        "AWS CLI (the region must be the registry's own).",
        "If the AWS CLI says your SSO session expired, run `aws sso login` (with --profile "
        "PROFILE for a named profile) first; `aws sts get-caller-identity` shows which "
        "identity it uses.",
        "To stop this for good, let docker ask AWS every time: set \"credHelpers\": "
        f"{{\"{host}\": \"ecr-login\"}} in ~/.docker/config.json (amazon-ecr-credential-helper).",
    ]
    if cred is not None and cred.ecosystem in ("k8s", "kubernetes"):
        steps.append("A pull secret made from this token stops working after 12 hours: refresh "
                     "it on a schedule, or use the kubelet ECR credential provider or an IAM "
                     "role for the nodes.")
    return Remediation("Get a new ECR authorization token and log in with it.",
                       tuple(steps), (cmd,), (DOCS,))


def permission(host: str) -> Remediation:
    return Remediation(
        "Give the IAM principal the ECR permissions for this repository.",
        ("Every login needs ecr:GetAuthorizationToken (resource \"*\").",
         "Pulls need ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and "
         "ecr:BatchCheckLayerAvailability on the repository; pushes also "
         "ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload and "
         "ecr:PutImage.",
         "Another account's repository also needs a repository policy that allows your "
         "principal."),
        ("aws sts get-caller-identity",),
        ("https://docs.aws.amazon.com/AmazonECR/latest/userguide/security-iam.html",))


_INSTALL = ("sudo apt-get install amazon-ecr-credential-helper   # or: brew install "
            "docker-credential-helper-ecr",)
#: AwsState.mode -> (summary, commands)
_MODES: dict[str, tuple[str, tuple[str, ...]]] = {
    "missing-profile": ("The AWS profile the helper is told to use does not exist ({detail}).",
                        ("aws configure list-profiles",)),
    "sso-expired": ("The AWS SSO session the helper uses has expired ({detail}).",
                    ("aws sso login --profile {profile}",)),
    "no-credentials": ("The helper finds no AWS credentials ({detail}).",
                       ("aws configure   # or: aws configure sso; aws sso login",)),
}


def helper(finding: Finding, host: str, ctx: Context) -> Remediation | None:
    """Say which of the helper's failure modes it is: not installed, no
    AWS credentials, a missing profile, an expired SSO session -- read from
    the local AWS configuration (:mod:`.awsstate`)."""
    from .awsstate import aws_state

    text = " ".join((finding.message, *finding.evidence))
    if "ecr-login" not in text:
        return None
    why = ("docker-credential-ecr-login gets a fresh token from AWS for every pull; it needs "
           "AWS credentials for an identity allowed ecr:GetAuthorizationToken, and takes the "
           "region from the registry host.",)
    check = f"echo {host} | docker-credential-ecr-login get >/dev/null && echo OK"
    if re.search(r"not on PATH|executable file not found", text, re.I):
        return Remediation("docker-credential-ecr-login is not installed.", why,
                           (*_INSTALL, check), (DOCS,))
    state = aws_state(ctx)
    if state.mode in _MODES:
        summary, cmds = _MODES[state.mode]
        return Remediation(summary.format(detail=state.detail), why,
                           tuple(c.format(profile=state.profile) for c in cmds) + (check,),
                           (DOCS,))
    return Remediation(
        f"AWS credentials are configured ({state.detail}) but the helper still fails: the "
        "temporary keys may have expired, or the identity may not call "
        "ecr:GetAuthorizationToken.", why,
        ("aws sts get-caller-identity",
         f"aws ecr get-login-password --region {region_of(host) or 'REGION'} >/dev/null",
         check), (DOCS,))


VENDOR = Vendor(
    name="aws-ecr", display="Amazon ECR", prefix="ECR", plugin="ecr",
    token_words="an ECR authorization token",
    lifetime="ECR authorization tokens live 12 hours; a token from another region is "
    "refused the same way.",
    login_example="aws ecr get-login-password --region REGION | docker login --username AWS "
    "--password-stdin ACCOUNT.dkr.ecr.REGION.amazonaws.com",
    owns_host=owns_host, login=login, permission=permission, helper=helper,
    answers=(
        Answer(frozenset({401, 403}), lazyre.compile(r"authorization token has expired", re.I),
               "ECR101", "the ECR authorization token has expired (or was issued for another "
               "region)."),
        Answer(frozenset({401, 403}), lazyre.compile(r"not authorized to perform|is not authorized "
                                                 r"to perform", re.I),
               "ECR106", "the IAM principal lacks the ECR permission named in the answer."),
        Answer(frozenset({401, 403}), lazyre.compile(r"(authorization|security) token .*"
                                                 r"(invalid|not valid|malformed)", re.I),
               "ECR103", "ECR does not accept the authorization token."),
    ),
)


# ------------------------------------------------------------------ tokens


def _ecr_payload(value: str) -> dict[str, Any] | None:
    """The JSON an ECR password is base64 of (``payload``, ``datakey``,
    ``version``, ``type``, ``expiration``); also inside a pasted
    ``authorizationToken`` (base64 of ``AWS:<password>``)."""
    data = common.b64_json(value)
    if data is None:
        text = common.b64_text(value)
        if text is not None and text.startswith("AWS:"):
            data = common.b64_json(text[4:])
    keys = set(data or ())
    if data is not None and "payload" in keys and keys & {"datakey", "expiration"}:
        return data
    return None


def decode(cred: Credential, ctx: Context) -> TokenInfo | None:
    if cred.secret is None:
        return None
    value = common.clean(cred)
    data = _ecr_payload(value)
    on_ecr = VENDOR.owns(cred.host, ctx) if cred.host else False
    if data is None and not (on_ecr and (cred.username or "") == "AWS"):
        return None
    details: dict[str, Any] = {}
    expires = None
    if data is not None:
        expires = next((common.epoch(data[k]) for k in ("expiration", "expiresAt", "expires_at")
                        if data.get(k) is not None), None)
        for key in ("version", "type"):
            if isinstance(data.get(key), (str, int)):
                details[f"ecr_{key}"] = str(data[key])
    issued = expires - LIFETIME if expires is not None else None
    guess = common.estimate(cred, LIFETIME, "an ECR authorization token")
    region = region_of(cred.host) if cred.host else None
    if region:
        details["region"] = region
    return common.token_info(VENDOR, cred, ctx, "aws-ecr-token", issued=issued,
                             expires=expires, guess=guess, details=details, short=True,
                             account=_account(cred.host))


def _account(host: str) -> str | None:
    m = _HOST.match(host or "")
    return m.group("account") if m else None


def registry_info(url: str, package_type: str | None, ctx: Context) -> RegistryInfo | None:
    host = common.host_of(url)
    if not VENDOR.owns(host, ctx):
        return None
    path = _path(url)
    problems: list[str] = []
    suggested = None
    m = _HOST.match(host)
    api = _API.match(host.split(":")[0])
    if api:
        region = api.group("region")
        problems.append(f"{host} is the ECR API endpoint, not a registry: images are at "
                        f"ACCOUNT.dkr.ecr.{region}.amazonaws.com.")
        suggested = f"ACCOUNT.dkr.ecr.{region}.amazonaws.com"
    elif m:
        if not re.fullmatch(r"\d{12}", m.group("account")):
            problems.append(f"{m.group('account')!r} is not an AWS account ID (12 digits) in "
                            f"{host}.")
        if not _REGION.match(m.group("region")):
            problems.append(f"{m.group('region')!r} is not an AWS region name (like "
                            f"us-east-1) in {host}.")
    if package_type is not None and package_type not in _OCI:
        problems.append(f"ECR serves container images and OCI artifacts only; {package_type} "
                        "packages live in AWS CodeArtifact "
                        "(DOMAIN-ACCOUNT.d.codeartifact.REGION.amazonaws.com).")
    return RegistryInfo(
        vendor=VENDOR.name, display=VENDOR.display, host=host,
        account=m.group("account") if m else None,
        registry=path or None, package_type="oci",
        region=m.group("region") if m else (api.group("region") if api else None),
        problems=tuple(problems), suggested_url=suggested)


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[1].strip("/") if "/" in rest else ""


PLUGIN = VendorPlugin(VENDOR, decode, registry_info)
