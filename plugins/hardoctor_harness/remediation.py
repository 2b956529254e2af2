"""What to tell the person: regenerate, paste per client, and the 403 story.

The wording follows the seed (Harness "Client Setup" page): Setup Client
tokens last 30 days; longer-lived ones come from account settings; a new
token does not revoke old ones -- each expires on its own clock; manual
pipeline runs use the triggering user's permissions, webhook/schedule/IDP
runs a service principal's; pulls need read, uploads need write.

Commands never contain a secret: the new token is read into ``$TOKEN``
first (``read -rs TOKEN`` does not echo and keeps it out of history).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from hardoctor import lazyre
from hardoctor.model import Credential, Remediation

from .urls import SAAS_HOST

API_KEYS_DOC = "https://developer.harness.io/docs/platform/automation/api/add-and-manage-api-keys"
READ_TOKEN = "read -rs TOKEN   # paste the new token, then Enter (not echoed, not in history)"

_EMAIL = lazyre.compile(r"^[^@\s:/]+@[^@\s:/]+\.[A-Za-z]{2,}$")


def regenerate_step(registry: str | None = None) -> str:
    where = (
        f"Registries → {registry} → Set up client"
        if registry
        else "Registries → (your registry) → Set up client"
    )
    return (
        f"Create a new token: {where} (valid 30 days), or Account settings → API keys → "
        "+ Token for a longer-lived one (you pick its expiry)."
    )


OLD_TOKENS_STEP = (
    "Old tokens keep working until their own expiry: making a new token revokes nothing. "
    "Delete ones you no longer use under Profile → My API Keys."
)


def login_name(cred: Credential, email: str | None = None) -> str:
    """The ``-u`` value for commands: the stored username when it is an
    e-mail (what Setup Client uses), else the e-mail the API reported."""
    if cred.username and _EMAIL.match(cred.username):
        return cred.username
    if email and _EMAIL.match(email):
        return email
    return "EMAIL"


def k8s_secret_ref(cred: Credential) -> tuple[str, str]:
    """(namespace, name) of a pull secret from the credential's location
    key (``Secret NS/NAME`` or ``NS/NAME``), placeholders otherwise."""
    key = cred.location.key or ""
    m = re.search(r"(?:Secret\s+)?([a-z0-9][a-z0-9.-]*)/([a-z0-9][a-z0-9.-]*)", key)
    if m:
        return m.group(1), m.group(2)
    return "NAMESPACE", "SECRET_NAME"


def docker_server(cred: Credential) -> str:
    host = cred.host or SAAS_HOST
    return host


def paste_instructions(
    cred: Credential, where: str, email: str | None = None, home: str | None = None,
    on_har: bool = True,
) -> tuple[str, tuple[str, ...]]:
    """(step, commands) to put a new token where ``cred`` lives.  Harness
    wording (the login e-mail as ``-u``, '@' as %40) only when ``on_har``:
    a HAR host stores it; elsewhere the stored user name, generic words."""
    eco = cred.ecosystem
    user = login_name(cred, email) if on_har else (cred.username or "USER")
    server = docker_server(cred)
    if eco in ("docker", "podman", "helm-oci", "oci"):
        tool = "podman" if "podman" in cred.clients and "docker" not in cred.clients else "docker"
        note = (" (the -u value is your Harness login e-mail; HAR checks only the token)"
                if on_har else "")
        return (
            f"Log in again so {where} gets the new token{note}.",
            (f"printf '%s' \"$TOKEN\" | {tool} login {server} -u {user} --password-stdin",),
        )
    if eco == "npm":
        key = re.sub(r"^https?:", "", cred.registry)
        if not key.startswith("//"):
            key = f"//{server}/pkg/ACCOUNT/REGISTRY/npm/"
        key = key.split(":_", 1)[0]
        if not key.endswith("/"):
            key += "/"
        flag, note = _npm_location(cred, home)
        return (
            f"Replace the _authToken in {where}.",
            (f'npm config set{flag} {key}:_authToken "$TOKEN"{note}',),
        )
    if eco in ("pip", "python"):
        user_note = ("the username is your e-mail with '@' written as %40; " if on_har
                     else "percent-encode reserved characters; ")
        return (
            f"Replace the password part of the index URL in {where} ({user_note}or keep the "
            "token in a keyring instead).",
            (),
        )
    if eco in ("maven", "gradle"):
        return (
            f"Put the new token in <password> of the matching <server> in {where} (encrypt it "
            "with `mvn --encrypt-password` if you use settings-security.xml).",
            (),
        )
    if eco in ("k8s", "kubernetes"):
        ns, name = k8s_secret_ref(cred)
        return (
            f"Recreate the pull secret {ns}/{name} ({where}) with the new token; pods pick it up "
            "on their next pull.",
            (
                f"kubectl create secret docker-registry {name} --docker-server={server} "
                f'--docker-username={user} --docker-password="$TOKEN" -n {ns} '
                "--dry-run=client -o yaml | kubectl apply -f -",
            ),
        )
    return (f"Replace the token in {where}.", ())


def _npm_location(cred: Credential, home: str | None) -> tuple[str, str]:
    """(flag, trailing comment): ``npm config set`` writes the user's
    ~/.npmrc unless told otherwise."""
    path = cred.location.path or ""
    if not path or (home and path == home.rstrip("/") + "/.npmrc"):
        return "", ""
    if path.startswith(("/etc/", "/usr/")):
        return " --location=global", ""
    import os

    return " --location=project", f"   # run in {os.path.dirname(path)}"


def token_remediation(
    summary: str,
    cred: Credential,
    where: str,
    others: Sequence[tuple[Credential, str]] = (),
    registry: str | None = None,
    email: str | None = None,
    home: str | None = None,
    on_har: Callable[[Credential], bool] = lambda c: True,
) -> Remediation:
    """Regenerate, then replace the token in ``cred`` and in every other
    place (``others``: credential and its display) the same token sits;
    ``on_har`` says which places are on a HAR host (Harness wording)."""
    steps = [regenerate_step(registry)]
    commands: list[str] = [READ_TOKEN]
    step, cmds = paste_instructions(cred, where, email, home, on_har(cred))
    steps.append(step)
    commands += cmds
    for other, other_where in others:
        step, cmds = paste_instructions(other, other_where, email, home, on_har(other))
        steps.append(step + " It holds the same token.")
        commands += [c for c in cmds if c not in commands]
    steps.append(OLD_TOKENS_STEP)
    return Remediation(
        summary=summary, steps=tuple(steps), commands=tuple(commands), docs=(API_KEYS_DOC,)
    )


def permission_remediation(
    action: str = "pull",
    registry: str | None = None,
    principal: str | None = None,
    host: str | None = None,
) -> Remediation:
    """The 403 story: who the principal is and what it needs.

    ``action`` is ``pull``/``read`` or ``push``/``upload``/``write``;
    ``registry`` names the HAR registry; ``principal`` describes the token's
    owner when known (``user dev@acme.io``, ``service account ci-bot``).
    Other plugins import this for their own 403 findings on HAR hosts.
    """
    write = action.lower() in ("push", "upload", "write", "publish", "deploy")
    need = "write (upload)" if write else "read (view/pull)"
    reg = f"registry {registry}" if registry else "the registry"
    who = (
        f"The token belongs to {principal}; it never has more rights than its owner. "
        if principal
        else ""
    )
    steps = (
        f"{who}A personal access token acts as its user; a service account token as that "
        "service account.",
        "In a pipeline, the principal depends on the trigger: a manual run uses the permissions "
        "of the user who started it; webhook, schedule (cron) and IDP triggers run as the "
        "pipeline's service/bot principal. The same pipeline can pass when run by hand and get "
        "403 from a trigger.",
        f"Pulls need read permission on {reg}; pushes and the 'Upload Artifacts to HAR' step "
        "need write permission.",
        f"Grant {need} permission on {reg} to that principal: Account/Org/Project settings → "
        "Access Control → its role bindings → a role with Artifact Registry permissions, "
        "scoped to the resource group that contains the registry.",
    )
    return Remediation(
        summary=f"Give the principal behind the token {need} permission on {reg}.",
        steps=steps,
        docs=(),
    )
