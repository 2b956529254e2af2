"""Docker Hub: its hosts (``docker.io``, ``index.docker.io``,
``registry-1.docker.io``; the web site ``hub.docker.com`` is not a
registry), personal access tokens ``dckr_pat_`` and organization access
tokens ``dckr_oat_`` (the username is then the organization), and its
``incorrect username or password`` / ``insufficient_scope`` answers.

Docker keeps Hub credentials under the key ``https://index.docker.io/v1/``
(what ``docker login`` with no server writes); the Docker plugin judges
the keys, this one the tokens.  Facts and sources: docs/vendors/docker-hub.md.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hardoctor import lazyre
from hardoctor.model import Credential, Finding, RegistryInfo, Remediation, TokenInfo

from . import common, findings
from .common import Answer, Vendor
from .plugin import VendorPlugin

if TYPE_CHECKING:
    from hardoctor.context import Context

DOCS = "https://docs.docker.com/security/access-tokens/"
HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io",
                   "registry.hub.docker.com", "hub.docker.com", "auth.docker.io"})
FORMATS = (("dckr_pat_", "docker-hub-pat"), ("dckr_oat_", "docker-hub-oat"))
_BODY = lazyre.compile(r"^[A-Za-z0-9_-]+$")
_OCI = frozenset({"oci", "docker", "helm-oci", "podman"})


def owns_host(host: str) -> bool:
    return host.split(":")[0] in HOSTS


def login(cred: Credential | None, host: str) -> Remediation:
    info = cred.token if cred is not None else None
    oat = info is not None and info.details.get("format") == "docker-hub-oat"
    user = (cred.username if cred is not None else None) or ("ORGANIZATION" if oat else
                                                             "USERNAME")
    steps = ["Create a personal access token at https://app.docker.com/settings/"
             "personal-access-tokens (Read-only is enough to pull), or an organization access "
             "token in the organization's settings (then the username is the organization).",
             "`docker login` without a server stores it under https://index.docker.io/v1/, "
             "the key Docker looks up for Hub images."]
    if oat:
        steps.append("Organization access tokens do not work with Docker Desktop sign-in; use "
                     "a personal access token there.")
    return Remediation("Log in to Docker Hub again with a valid access token.", tuple(steps),
                       (f"echo \"$TOKEN\" | docker login -u {user} --password-stdin",), (DOCS,))


def permission(host: str) -> Remediation:
    return Remediation(
        "Use a token whose access (scope) covers this repository and action.",
        ("Read-only tokens cannot push; Public Repo Read-only tokens cannot pull private "
         "repositories; an organization access token reaches only the repositories it lists.",),
        (), (DOCS,))


VENDOR = Vendor(
    name="docker-hub", display="Docker Hub", prefix="DHB", plugin="dockerhub",
    token_words="a Docker Hub access token (dckr_pat_ or dckr_oat_)",
    lifetime="Access tokens expire on the date chosen when they were made (or never).",
    login_example="echo \"$TOKEN\" | docker login -u USERNAME --password-stdin",
    owns_host=owns_host, login=login, permission=permission,
    answers=(
        Answer(frozenset({401}), lazyre.compile(r"incorrect username or password", re.I),
               "DHB103", "Docker Hub does not accept the username and token (wrong pair, "
               "expired or revoked token)."),
        Answer(frozenset({401, 403}), lazyre.compile(r"insufficient.scope|access token has "
                                                 r"insufficient scopes", re.I),
               "DHB106", "the token's access level does not cover this repository or action."),
    ),
)


def decode(cred: Credential, ctx: Context) -> TokenInfo | None:
    if cred.secret is None:
        return None
    value = common.clean(cred)
    for prefix, fmt in FORMATS:
        if value.startswith(prefix):
            problems: list[tuple[str, str]] = []
            if len(value) < len(prefix) + 20:
                problems.append(("truncated", f"looks cut off: {len(value)} characters"))
            elif not _BODY.match(value):
                problems.append(("bad-chars", "has characters a Docker Hub token never "
                                 "contains"))
            account = cred.username if fmt == "docker-hub-oat" else None
            return common.token_info(VENDOR, cred, ctx, fmt, account=account,
                                     problems=problems)
    return None


def registry_info(url: str, package_type: str | None, ctx: Context) -> RegistryInfo | None:
    host = common.host_of(url)
    if not VENDOR.owns(host, ctx):
        return None
    bare = host.split(":")[0]
    problems: list[str] = []
    suggested = None
    if bare in ("hub.docker.com", "auth.docker.io"):
        suggested = "docker.io"
        problems.append(f"{bare} is not the registry: images are pulled from docker.io "
                        "(Docker stores the login under https://index.docker.io/v1/).")
    if package_type is not None and package_type not in _OCI:
        problems.append(f"Docker Hub serves images and OCI artifacts, not {package_type} "
                        "packages.")
    return RegistryInfo(vendor=VENDOR.name, display=VENDOR.display, host=host,
                        package_type="oci", problems=tuple(problems), suggested_url=suggested)


def remediation(finding: Finding, cred: Credential | None, ctx: Context) -> Remediation | None:
    """Only for findings about a Docker Hub token: the Docker and OCI
    plugins already speak Docker Hub's language for everything else."""
    if cred is None or common.token_vendor(cred.token) != VENDOR.name:
        return None
    return findings.remediation(VENDOR, finding, cred, ctx)


PLUGIN = VendorPlugin(VENDOR, decode, registry_info, remediation)
