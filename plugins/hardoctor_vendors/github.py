"""GitHub Packages: ``ghcr.io`` (and the retired ``docker.pkg.github.com``),
``npm.pkg.github.com``, ``maven.pkg.github.com/OWNER/REPOSITORY``; token
formats by prefix (classic ``ghp_``, fine-grained ``github_pat_``,
installation ``ghs_``, OAuth ``gho_``, user-to-server ``ghu_``, refresh
``ghr_``); the ``denied`` answer of a token without ``read:packages``.

Facts and sources: docs/vendors/github.md.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from hardoctor import lazyre
from hardoctor.model import Credential, RegistryInfo, Remediation, TokenInfo

from . import common
from .common import Answer, Vendor
from .plugin import VendorPlugin

if TYPE_CHECKING:
    from hardoctor.context import Context

DOCS = ("https://docs.github.com/en/packages/working-with-a-github-packages-registry/"
        "working-with-the-container-registry")
HOSTS = frozenset({"ghcr.io", "docker.pkg.github.com", "npm.pkg.github.com",
                   "maven.pkg.github.com", "nuget.pkg.github.com", "rubygems.pkg.github.com"})
#: prefix -> (format, minimum length, lifetime when GitHub documents one)
FORMATS: tuple[tuple[str, str, int, timedelta | None], ...] = (
    ("github_pat_", "github-pat-fine-grained", 93, None),
    ("ghp_", "github-pat-classic", 40, None),
    ("gho_", "github-oauth-token", 40, None),
    ("ghu_", "github-user-to-server-token", 40, timedelta(hours=8)),
    ("ghs_", "github-installation-token", 40, timedelta(hours=1)),
    ("ghr_", "github-refresh-token", 40, None),
)
_OCI = frozenset({"oci", "docker", "helm-oci", "podman"})
_BODY = lazyre.compile(r"^[A-Za-z0-9_]+$")


def owns_host(host: str) -> bool:
    return host.split(":")[0] in HOSTS


def login(cred: Credential | None, host: str) -> Remediation:
    bare = host.split(":")[0]
    user = (cred.username if cred is not None else None) or "USERNAME"
    eco = cred.ecosystem if cred is not None else "docker"
    steps = ["Create a personal access token (classic) with read:packages (and "
             "write:packages to publish) at https://github.com/settings/tokens; in Actions use "
             "GITHUB_TOKEN with `permissions: packages: read` (or write).",
             "An organization with SAML SSO also needs the token authorized for it "
             "(Configure SSO next to the token)."]
    if eco == "npm" or bare == "npm.pkg.github.com":
        cmds = ["npm config set //npm.pkg.github.com/:_authToken \"$CR_PAT\"",
                "npm config set @OWNER:registry https://npm.pkg.github.com"]
    elif eco in ("maven", "gradle") or bare == "maven.pkg.github.com":
        cmds = []
        steps.append("Put the token in <password> of the <server> whose <id> matches the "
                     "repository (settings.xml), with your GitHub username as <username>.")
    else:
        cmds = [f"echo $CR_PAT | docker login ghcr.io -u {user} --password-stdin"]
    return Remediation("Log in again with a GitHub token that has the packages scopes.",
                       tuple(steps), tuple(cmds), (DOCS,))


def permission(host: str) -> Remediation:
    return Remediation(
        "Give the token the packages scope and the package access it needs.",
        ("A classic PAT needs read:packages to pull and write:packages to push.",
         "GITHUB_TOKEN needs `permissions: packages: read|write` in the workflow, and the "
         "package must grant the repository access (package settings → Manage Actions "
         "access).",
         "A private package of another owner must list you (or your team) under "
         "Manage access."),
        (), (DOCS,))


VENDOR = Vendor(
    name="github", display="GitHub Packages", prefix="GHP", plugin="github",
    token_words="a GitHub token (ghp_, github_pat_, ghs_, ...)",
    lifetime="Installation tokens (ghs_, GITHUB_TOKEN) live one hour; PATs expire on the date "
    "chosen when they were made.",
    login_example="echo $CR_PAT | docker login ghcr.io -u USERNAME --password-stdin",
    owns_host=owns_host, login=login, permission=permission,
    answers=(
        Answer(frozenset({403}), lazyre.compile(r"denied|does not match expected scopes|"
                                            r"permission_denied", re.I),
               "GHP106", "the token lacks read:packages (write:packages to push) or access "
               "to this package."),
        Answer(frozenset({401}), lazyre.compile(r"could not be authenticated by the GitHub "
                                            r"Packages service|Bad credentials", re.I),
               "GHP103", "GitHub does not accept the token (expired, revoked, or without "
               "the packages scopes)."),
    ),
)


def decode(cred: Credential, ctx: Context) -> TokenInfo | None:
    if cred.secret is None:
        return None
    value = common.clean(cred)
    for prefix, fmt, minimum, lifetime in FORMATS:
        if not value.startswith(prefix):
            continue
        problems: list[tuple[str, str]] = []
        if len(value) < minimum:
            problems.append(("truncated", f"looks cut off: {len(value)} characters, a {fmt} "
                             f"has at least {minimum}"))
        elif not _BODY.match(value):
            problems.append(("bad-chars", "has characters a GitHub token never contains"))
        if fmt == "github-refresh-token":
            problems.append(("refresh-token", "is a refresh token, which only renews a "
                             "user-to-server token and authenticates nowhere"))
        guess = common.estimate(cred, lifetime, f"a {fmt}") if lifetime else None
        return common.token_info(VENDOR, cred, ctx, fmt, guess=guess, problems=problems,
                                 short=lifetime is not None)
    return None


def registry_info(url: str, package_type: str | None, ctx: Context) -> RegistryInfo | None:
    host = common.host_of(url)
    if not VENDOR.owns(host, ctx):
        return None
    bare = host.split(":")[0]
    rest = url.split("://", 1)[-1]
    segments = [s for s in (rest.split("/", 1)[1] if "/" in rest else "").split("/") if s]
    problems: list[str] = []
    suggested = None
    if bare == "docker.pkg.github.com":
        suggested = "ghcr.io/" + "/".join(segments).lower() if segments else "ghcr.io"
        problems.append("docker.pkg.github.com was retired: images moved to ghcr.io "
                        f"({suggested}).")
    elif bare == "ghcr.io" and segments and "/".join(segments) != "/".join(segments).lower():
        suggested = "ghcr.io/" + "/".join(segments).lower()
        problems.append(f"ghcr.io image names are lower-case: {suggested}.")
    elif bare == "maven.pkg.github.com" and len(segments) < 2:
        problems.append("A GitHub Packages Maven URL names the owner and repository: "
                        "https://maven.pkg.github.com/OWNER/REPOSITORY.")
        suggested = "https://maven.pkg.github.com/OWNER/REPOSITORY"
    if package_type in ("python", "pip"):
        problems.append("GitHub Packages has no Python (PyPI) registry.")
    elif package_type in _OCI and bare not in ("ghcr.io", "docker.pkg.github.com"):
        problems.append(f"Container images live at ghcr.io, not {bare}.")
        suggested = "ghcr.io"
    elif package_type == "npm" and bare != "npm.pkg.github.com":
        problems.append("npm packages live at https://npm.pkg.github.com.")
        suggested = "https://npm.pkg.github.com"
    return RegistryInfo(vendor=VENDOR.name, display=VENDOR.display, host=host,
                        account=segments[0].lower() if segments else None,
                        # Only Maven URLs name a repository; ghcr.io/OWNER/IMAGE is an image.
                        registry=segments[1] if bare == "maven.pkg.github.com"
                        and len(segments) > 1 else None,
                        package_type=bare.split(".")[0] if bare != "ghcr.io" else "oci",
                        problems=tuple(problems), suggested_url=suggested)


PLUGIN = VendorPlugin(VENDOR, decode, registry_info)
