"""Google Artifact Registry (``LOCATION-FORMAT.pkg.dev``) and Container
Registry (``gcr.io``): hosts and URL layouts per package type, the
``oauth2accesstoken`` login with a ``ya29.`` access token (about an hour,
estimated from when it was written), ``_json_key``/``_json_key_base64``
service-account keys (account from ``client_email``; the private key is
never shown), ``docker-credential-gcloud``/``-gcr`` failures, gcloud
commands.

Facts and sources: docs/vendors/google-artifact-registry.md.
"""

from __future__ import annotations

import json
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

ACCESS_LIFETIME = timedelta(hours=1)
DOCS = "https://cloud.google.com/artifact-registry/docs/docker/authentication"
_PKG = lazyre.compile(r"^(?P<location>[a-z0-9-]+)-(?P<format>docker|npm|python|maven|apt|yum|go|"
                  r"kfp|generic)\.pkg\.dev(?::\d+)?$")
_GCR = lazyre.compile(r"^(?:(?P<multi>us|eu|asia)\.)?gcr\.io(?::\d+)?$")
#: The package type a client needs -> the host format serving it.
_FORMAT = {"oci": "docker", "docker": "docker", "helm-oci": "docker", "podman": "docker",
           "npm": "npm", "python": "python", "pip": "python", "maven": "maven",
           "gradle": "maven"}
#: Generic problems a JSON key file has by nature (it is pretty-printed).
_JSON_LAYOUT = frozenset({"inner-whitespace", "newline", "trailing-whitespace",
                          "leading-whitespace"})
_USERS = frozenset({"oauth2accesstoken", "_json_key", "_json_key_base64", "_token", "_dcgcloud_token"})


def owns_host(host: str) -> bool:
    low = host.lower()
    if "pkg.dev" not in low and "gcr.io" not in low:  # the patterns need not run
        return False
    return bool(_PKG.match(host) or _GCR.match(host) or host.split(":")[0] == "pkg.dev")


def login(cred: Credential | None, host: str) -> Remediation:
    bare = host.split(":")[0]
    user = (cred.username or "") if cred is not None else ""
    fmt = _PKG.match(bare)
    kind = fmt.group("format") if fmt else "docker"
    steps = ["Access tokens from `gcloud auth print-access-token` live about an hour: a "
             "token pasted into a config goes stale. Let the client ask gcloud instead."]
    if kind == "docker":
        cmds = [f"gcloud auth configure-docker {bare}",
                f"gcloud auth print-access-token | docker login -u oauth2accesstoken "
                f"--password-stdin https://{bare}"]
        steps.append(f"`gcloud auth configure-docker {bare}` makes Docker use "
                     "docker-credential-gcloud for this host (a fresh token per pull).")
    elif kind == "npm":
        cmds = ["npx google-artifactregistry-auth --repo-config=.npmrc "
                "--credential-config=~/.npmrc"]
        steps.append("Refresh the npm token (it is an access token too) before each install.")
    elif kind == "python":
        cmds = ["pip install keyring keyrings.google-artifactregistry-auth"]
        steps.append("With the Artifact Registry keyring backend pip gets a fresh token "
                     "from your gcloud credentials; remove the token from the index URL.")
    else:
        cmds = ["gcloud auth application-default login"]
        steps.append("The Artifact Registry Maven/Gradle wagon uses Application Default "
                     "Credentials.")
    if user.startswith("_json_key"):
        steps.append("A service-account key login: check the key still exists (keys can be "
                     "deleted or disabled) with `gcloud iam service-accounts keys list "
                     "--iam-account SA_EMAIL`.")
    steps.append("If gcloud itself says your credentials expired: `gcloud auth login`.")
    return Remediation("Get a fresh Google access token (or let gcloud supply one).",
                       tuple(steps), tuple(cmds), (DOCS,))


def permission(host: str) -> Remediation:
    return Remediation(
        "Grant the principal an Artifact Registry role on the repository.",
        ("Pulls need roles/artifactregistry.reader; pushes roles/artifactregistry.writer "
         "(on the repository or project).",
         "`gcloud auth list` shows which account gcloud uses; a service account key acts as "
         "its client_email."),
        ("gcloud artifacts repositories get-iam-policy REPOSITORY --location LOCATION",),
        ("https://cloud.google.com/artifact-registry/docs/access-control",))


_GCLOUD_MODES: dict[str, tuple[str, tuple[str, ...]]] = {
    "missing-config": ("The gcloud configuration the helper uses does not exist ({detail}).",
                       ("gcloud config configurations list",)),
    "no-account": ("gcloud has no account to get tokens for ({detail}).",
                   ("gcloud auth login",)),
    "no-adc": ("docker-credential-gcr finds no Google credentials ({detail}).",
               ("gcloud auth application-default login",)),
    "adc-missing": ("The service-account key file of GOOGLE_APPLICATION_CREDENTIALS is "
                    "missing ({detail}).", ("ls -l \"$GOOGLE_APPLICATION_CREDENTIALS\"",)),
}


def helper(finding: Finding, host: str, ctx: Context) -> Remediation | None:
    """Not installed, no account, a missing configuration or key file --
    read from the local gcloud configuration (:mod:`.cloudstate`)."""
    from .cloudstate import gcloud_state

    text = " ".join((finding.message, *finding.evidence))
    if "docker-credential-gcloud" not in text and "docker-credential-gcr" not in text:
        return None
    why = ("The helper asks Google for a fresh access token on every pull, as the gcloud "
           "account (docker-credential-gcloud) or Application Default Credentials "
           "(docker-credential-gcr).",)
    if re.search(r"not on PATH|executable file not found", text, re.I):
        return Remediation("The Google credential helper is not installed (it comes with the "
                           "gcloud CLI; docker-credential-gcr is the standalone one).", why,
                           ("gcloud components install docker-credential-gcr   # or install "
                            "the gcloud CLI",), (DOCS,))
    state = gcloud_state(ctx, adc="docker-credential-gcr" in text)
    if state.mode in _GCLOUD_MODES:
        summary, cmds = _GCLOUD_MODES[state.mode]
        return Remediation(summary.format(detail=state.detail), why, cmds, (DOCS,))
    return Remediation(f"Google credentials are configured ({state.detail}) but the helper "
                       "still fails: the login may have expired or been revoked.", why,
                       ("gcloud auth login", "gcloud auth print-access-token >/dev/null"),
                       (DOCS,))


VENDOR = Vendor(
    name="google-artifact-registry", display="Google Artifact Registry", prefix="GAR",
    plugin="gar", token_words="a Google access token or service-account key",
    lifetime="Google access tokens (ya29.…) live about an hour.",
    login_example="gcloud auth configure-docker LOCATION-docker.pkg.dev (or gcloud auth "
    "print-access-token | docker login -u oauth2accesstoken --password-stdin HOST)",
    owns_host=owns_host, login=login, permission=permission, helper=helper,
    answers=(
        Answer(frozenset({403}), lazyre.compile(r"Permission \S+ denied|"
                                            r"artifactregistry\.\w+\.\w+", re.I),
               "GAR106", "the principal lacks the Artifact Registry permission named in the "
               "answer."),
        Answer(frozenset({401}), lazyre.compile(r"Unauthenticated|invalid authentication "
                                            r"credentials|invalid_token", re.I),
               "GAR103", "Google does not accept the credential (an expired access token, a "
               "deleted key)."),
    ),
)


# ------------------------------------------------------------------ tokens


def _sa_key(value: str, username: str) -> dict[str, Any] | None:
    text = value
    if username == "_json_key_base64" or not value.lstrip().startswith("{"):
        text = common.b64_text(value) or ""
    if not text.lstrip().startswith("{") or len(text) > common.MAX_DECODE:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("type") == "service_account":
        return data
    return None


def decode(cred: Credential, ctx: Context) -> TokenInfo | None:
    if cred.secret is None:
        return None
    user = cred.username or ""
    value = common.clean(cred)
    on_host = bool(cred.host) and VENDOR.owns(cred.host, ctx)
    if value.startswith("ya29."):
        guess = common.estimate(cred, ACCESS_LIFETIME, "a Google access token")
        problems = () if len(value) > 40 else (("truncated", "looks cut off (too short for a "
                                                "Google access token)"),)
        return common.token_info(VENDOR, cred, ctx, "google-oauth-access-token",
                                 guess=guess, problems=problems, short=True)
    key = _sa_key(value, user) if (user.startswith("_json_key") or value.startswith(("{", "e"))
                                   ) else None
    if key is not None:
        email = key.get("client_email") if isinstance(key.get("client_email"), str) else None
        details = {"project": key.get("project_id")} if isinstance(key.get("project_id"),
                                                                     str) else {}
        if email:
            details["client_email"] = email
        key_id = key.get("private_key_id") if isinstance(key.get("private_key_id"), str) else None
        problems = () if key.get("private_key") else (("no-private-key",
                                                       "has no private_key field"),)
        return common.token_info(VENDOR, cred, ctx, "google-service-account-key",
                                 account=email, token_id=key_id, details=details,
                                 problems=problems, skip=_JSON_LAYOUT)
    if on_host and user in _USERS:
        return common.token_info(VENDOR, cred, ctx, "google-credential",
                                 guess=common.estimate(cred, ACCESS_LIFETIME,
                                                       "a Google access token")
                                 if user == "oauth2accesstoken" else None, short=True)
    return None


def registry_info(url: str, package_type: str | None, ctx: Context) -> RegistryInfo | None:
    host = common.host_of(url)
    if not VENDOR.owns(host, ctx):
        return None
    segments = [s for s in _path(url).split("/") if s]
    problems: list[str] = []
    suggested = None
    pkg = _PKG.match(host)
    gcr = _GCR.match(host)
    want = _FORMAT.get(package_type or "")
    if host.split(":")[0] == "pkg.dev":
        problems.append("pkg.dev needs a location and format: LOCATION-FORMAT.pkg.dev "
                        "(like us-central1-docker.pkg.dev).")
    if pkg:
        served = pkg.group("format")
        if want and served != want:
            suggested = f"https://{pkg.group('location')}-{want}.pkg.dev/PROJECT/REPOSITORY/"
            problems.append(f"{host} serves {served} repositories; {package_type} needs "
                            f"{pkg.group('location')}-{want}.pkg.dev.")
        elif len(segments) < 2:
            problems.append(f"An Artifact Registry URL names the project and the repository: "
                            f"{host}/PROJECT/REPOSITORY.")
        elif want == "python" and "simple" not in segments:
            suggested = f"https://{host}/{segments[0]}/{segments[1]}/simple/"
            problems.append(f"pip needs the /simple/ index of the repository: {suggested}")
    if gcr and want and want != "docker":
        problems.append(f"{host} is Container Registry (images only); {package_type} packages "
                        f"live at LOCATION-{want}.pkg.dev.")
    return RegistryInfo(
        vendor=VENDOR.name, display=VENDOR.display, host=host,
        account=segments[0] if segments else None,
        registry=segments[1] if pkg and len(segments) > 1 else None,
        package_type=pkg.group("format") if pkg else ("docker" if gcr else None),
        region=pkg.group("location") if pkg else (gcr.group("multi") if gcr else None),
        problems=tuple(problems), suggested_url=suggested)


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[1] if "/" in rest else ""


PLUGIN = VendorPlugin(VENDOR, decode, registry_info)
