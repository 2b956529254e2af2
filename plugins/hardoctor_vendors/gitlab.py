"""GitLab: the container registry (``registry.gitlab.com``, a self-managed
instance's registry host) and the package registries under
``/api/v4/projects|groups/ID/packages/TYPE/``; token prefixes (``glpat-``
personal/project/group access tokens, ``gldt-`` deploy tokens, ``glcbt-``
CI job tokens, ...), the ``gitlab-ci-token`` and ``gitlab+deploy-token-N``
users, GitLab's ``HTTP Basic: Access denied`` and ``insufficient_scope``.

Facts and sources: docs/vendors/gitlab.md.
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

DOCS = "https://docs.gitlab.com/user/packages/container_registry/authenticate_with_container_registry/"
HOSTS = frozenset({"gitlab.com", "registry.gitlab.com"})
CI_USER = "gitlab-ci-token"
#: A job token dies with its job; GitLab's default job timeout.
JOB_LIFETIME = timedelta(hours=1)
FORMATS: tuple[tuple[str, str, int], ...] = (
    ("glpat-", "gitlab-pat", 26),
    ("gldt-", "gitlab-deploy-token", 25),
    ("glcbt-", "gitlab-ci-job-token", 20),
    ("glptt-", "gitlab-pipeline-trigger-token", 20),
    ("glrt-", "gitlab-runner-token", 20),
    ("gloas-", "gitlab-oauth-app-secret", 20),
    ("glft-", "gitlab-feed-token", 20),
)
_API = lazyre.compile(r"/api/v4/(?P<scope>projects|groups)/(?P<id>[^/]+)/(?P<dash>-/)?packages/"
                  r"(?P<type>[a-z_]+)(?P<rest>/.*)?$")
_API_LOOSE = lazyre.compile(r"/api/v4/(?P<scope>projects|groups)/(?P<path>.+?)/(?:-/)?packages/"
                        r"(?P<type>[a-z_]+)")
_TYPES = {"npm": "npm", "pypi": "python", "maven": "maven"}
_OCI = frozenset({"oci", "docker", "helm-oci", "podman"})


def owns_host(host: str) -> bool:
    return host.split(":")[0] in HOSTS


def login(cred: Credential | None, host: str) -> Remediation:
    user = (cred.username if cred is not None else None) or "USERNAME"
    eco = cred.ecosystem if cred is not None else "docker"
    steps = ["Create a personal, project or group access token with read_registry "
             "(write_registry to push) for the container registry, or read_api / api for the "
             "package registries; a deploy token needs read_registry or "
             "read_package_registry.",
             "In CI, use the job token: it is valid only while the job runs."]
    if eco == "npm":
        cmds = [f"npm config set //{host}/api/v4/projects/PROJECT_ID/packages/npm/:_authToken "
                "\"$TOKEN\""]
    elif eco in ("pip", "python", "maven", "gradle"):
        cmds = []
        steps.append("Use your username (or the deploy token's username) with the token as "
                     "password; Maven needs a Private-Token (or Deploy-Token / Job-Token) "
                     "HTTP header in settings.xml.")
    else:
        cmds = [f"echo \"$TOKEN\" | docker login {host} -u {user} --password-stdin",
                "echo \"$CI_JOB_TOKEN\" | docker login $CI_REGISTRY -u gitlab-ci-token "
                "--password-stdin   # inside a CI job"]
    return Remediation("Log in again with a GitLab token that has the registry scopes.",
                       tuple(steps), tuple(cmds), (DOCS,))


def permission(host: str) -> Remediation:
    return Remediation(
        "Give the token the scope and the user the role this needs.",
        ("Pulling needs read_registry and at least the Reporter role (Guest on public or "
         "internal projects); pushing needs write_registry and the Developer role.",
         "A CI job token reaches other projects only when they allow it (Settings → CI/CD → "
         "Job token permissions)."),
        (), (DOCS,))


VENDOR = Vendor(
    name="gitlab", display="GitLab", prefix="GLB", plugin="gitlab",
    token_words="a GitLab token (glpat-, gldt-, glcbt-, ...)",
    lifetime="Access tokens expire on their chosen date (at most a year by default); a CI job "
    "token dies with its job.",
    login_example="echo \"$TOKEN\" | docker login registry.gitlab.com -u USERNAME "
    "--password-stdin",
    owns_host=owns_host, login=login, permission=permission,
    answers=(
        Answer(frozenset({401}), lazyre.compile(r"HTTP Basic: Access denied", re.I),
               "GLB103", "GitLab does not accept the username and token (wrong, expired or "
               "revoked token, or a password where a token is required)."),
        Answer(frozenset({401, 403}), lazyre.compile(r"insufficient_scope|access forbidden", re.I),
               "GLB106", "the token lacks the scope, or the user the role, this needs."),
    ),
)


def decode(cred: Credential, ctx: Context) -> TokenInfo | None:
    if cred.secret is None:
        return None
    value = common.clean(cred)
    user = cred.username or ""
    for prefix, fmt, minimum in FORMATS:
        if value.startswith(prefix):
            problems: list[tuple[str, str]] = []
            if len(value) < minimum:
                problems.append(("truncated", f"looks cut off: {len(value)} characters, a "
                                 f"{fmt} has at least {minimum}"))
            guess = (common.estimate(cred, JOB_LIFETIME, "a CI job token (its job's timeout)")
                     if fmt == "gitlab-ci-job-token" else None)
            return common.token_info(VENDOR, cred, ctx, fmt, guess=guess, problems=problems,
                                     short=guess is not None)
    if user == CI_USER and cred.host and VENDOR.owns(cred.host, ctx):
        return common.token_info(VENDOR, cred, ctx, "gitlab-ci-job-token", guess=common.estimate(
            cred, JOB_LIFETIME, "a CI job token (its job's timeout)"), short=True)
    if user.startswith("gitlab+deploy-token") and cred.host and VENDOR.owns(cred.host, ctx):
        return common.token_info(VENDOR, cred, ctx, "gitlab-deploy-token", token_id=user)
    return None


def registry_info(url: str, package_type: str | None, ctx: Context) -> RegistryInfo | None:
    host = common.host_of(url)
    path = "/" + url.split("://", 1)[-1].split("/", 1)[1] if "/" in url.split("://", 1)[-1] else ""
    # Both patterns start with /api/v4/: most URLs are not GitLab API URLs.
    api = _API.search(path) if "/api/v4/" in path else None
    loose = _API_LOOSE.search(path) if api is not None or "/api/v4/" in path else None
    if not VENDOR.owns(host, ctx) and loose is None:
        return None
    problems: list[str] = []
    suggested = None
    served = None
    if loose is not None and api is None:
        problems.append("A project in a GitLab package URL is its numeric ID or its URL-encoded "
                        f"path (group%2Fproject), not {loose.group('path')!r}.")
    if api is not None:
        served = _TYPES.get(api.group("type"), api.group("type"))
        want = {"pip": "python", "gradle": "maven"}.get(package_type or "", package_type)
        if want in _TYPES.values() and served != want:
            problems.append(f"This is a GitLab {api.group('type')} package URL; {package_type} "
                            f"needs .../packages/{_key(want)}/.")
        elif served == "python" and "simple" not in (api.group("rest") or ""):
            base = path[: api.end("type")]
            suggested = f"https://{host}{base}/simple"
            problems.append(f"pip needs the /simple index: {suggested}")
        elif (served == "npm" and api.group("scope") == "groups" and not api.group("dash")):
            problems.append("The group-level npm endpoint is /api/v4/groups/ID/-/packages/npm/.")
    if host.split(":")[0] == "registry.gitlab.com" and package_type not in (None, *_OCI):
        problems.append("registry.gitlab.com is the container registry; packages live under "
                        "https://gitlab.com/api/v4/projects/ID/packages/TYPE/.")
    return RegistryInfo(vendor=VENDOR.name, display=VENDOR.display, host=host,
                        account=api.group("id") if api else None,
                        package_type=served or ("oci" if "registry" in host else None),
                        problems=tuple(problems), suggested_url=suggested)


def _key(want: str | None) -> str:
    return next((k for k, v in _TYPES.items() if v == want), want or "TYPE")


PLUGIN = VendorPlugin(VENDOR, decode, registry_info)
