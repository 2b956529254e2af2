"""Finding builders of the OCI diagnosis: the wording shared by every
verdict (the image, which credential, the client's login command) and the
findings about the credential, the principal and the reference.

:class:`Verdicts` is the base of :class:`hardoctor_oci.diagnosis.Diagnosis`,
which decides *which* of these a walk's results call for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hardoctor.model import Credential, Finding, ProbeResult, Remediation, Resolution

from .hub import HUB
from .spec import spec_for

if TYPE_CHECKING:
    from hardoctor.context import Context

#: How findings name the client (sentences start with it).
CLIENT_NAMES = {
    "docker": "Docker",
    "podman": "podman",
    "helm": "Helm",
    "skopeo": "skopeo",
    "buildah": "buildah",
    "kubelet": "the kubelet",
}

#: Where a refused credential's expiry date came from, for the message.
_EXPIRY_SOURCES = {
    "token": "from the token itself",
    "harness-api": "from the Harness API",
    "estimated": "estimated from when it was stored",
}


def steps_of(results: Sequence[ProbeResult]) -> dict[str, ProbeResult]:
    """The last result of each walk step (``facts["step"]``)."""
    out: dict[str, ProbeResult] = {}
    for r in results:
        step = r.facts.get("step")
        if isinstance(step, str):
            out[step] = r
    return out


class Verdicts:
    """One resolution (with one candidate credential) and its walk's results."""

    def __init__(
        self, res: Resolution, results: Sequence[ProbeResult], ctx: Context,
        cred: Credential | None = None,
    ) -> None:
        self.res = res
        self.results = list(results)
        self.ctx = ctx
        self.cred = cred if cred is not None else res.credential
        self.target = res.target
        self.host = res.target.host
        self.steps = steps_of(results)
        self.spec = spec_for(res, ctx, self.cred)
        self.client = CLIENT_NAMES.get(res.client, res.client or "the client")

    # -- shared wording ---------------------------------------------------------

    @property
    def image(self) -> str:
        t = self.target
        if t.kind != "image" or not t.name:
            return self.host
        ref = t.reference or "latest"
        sep = "@" if ":" in ref and ref.split(":", 1)[0].isalnum() and len(ref) > 40 else ":"
        return f"{self.host}/{t.name}{sep}{ref}"

    def where(self) -> str:
        """``the credential from ~/.docker/config.json:4`` or a stand-in."""
        c = self.cred
        if c is None:
            return "no credential"
        loc = c.location.display(self.ctx.home)
        if c.location.path and c.location.key:
            loc += f" {c.location.key}"
        user = f" (user {c.username})" if c.username else ""
        return f"the credential from {loc}{user}"

    def finding(self, code: str, message: str, **kw: Any) -> Finding:
        kw.setdefault("credential", self.cred.id if self.cred else None)
        kw.setdefault("location", self.cred.location if self.cred else None)
        kw.setdefault("registry", self.host)
        kw.setdefault("ecosystem", self.res.ecosystem)
        kw.setdefault("evidence", self.evidence())
        return self.ctx.finding(code, message, **kw)

    def evidence(self) -> list[str]:
        out: list[str] = []
        for r in self.results:
            status = f"{r.status}" if r.status is not None else r.outcome
            code = f" {r.error_code}" if r.error_code else ""
            line = r.detail or f"{r.url} -> {status}"
            if r.status is not None and str(r.status) not in line:
                line += f" ({status}{code})"
            elif code and code.strip() not in line:
                line += f" ({code.strip()})"
            msg = r.facts.get("server_message")
            routine = r.facts.get("step") == "ping" and r.facts.get("challenge")
            if msg and r.outcome != "ok" and not routine:
                line += f': "{msg}"'
            out.append(line)
        return out

    def login_command(self) -> str:
        user = (self.cred.username if self.cred else None) or "USER"
        host = self.host
        hub = HUB.owns(host)
        client = self.res.client
        if client == "helm":
            cmd = f"helm registry login {host}"
        elif client in ("podman", "skopeo", "buildah"):
            cmd = f"{client} login {host}"
        else:
            cmd = "docker login" if hub else f"docker login {host}"
        return f"printf '%s' \"$TOKEN\" | {cmd} -u {user} --password-stdin"

    # -- findings about the credential, the principal, the reference ---------------

    def credential_refused(self, where_text: str, status: int | None) -> Finding:
        c = self.cred
        assert c is not None
        token = c.token
        expired = token is not None and token.status == "expired"
        code = "DKR102" if expired else "DKR101"
        if expired and token is not None and token.expires_at is not None:
            source = {
                "token": "from the token itself",
                "harness-api": "from the Harness API",
                "estimated": "estimated from when it was stored",
            }.get(token.expiry_source, "")
            why_exp = f" It expired on {token.expires_at:%Y-%m-%d}" + (
                f" ({source})." if source else "."
            )
        elif expired:
            why_exp = " It is expired."
        else:
            why_exp = ""
        kind = {
            "identitytoken": "identity token",
            "registrytoken": "registry token",
        }.get(self.spec.scheme if self.spec else "", "credential")
        problems = tuple(token.problems) if token is not None and not expired else ()
        if problems:
            # The value cannot be right as stored (a newline from `echo | base64`,
            # quotes, a placeholder): that, not revocation, is the cause.
            reason = f" The stored value is malformed: {'; '.join(problems)}."
        elif expired:
            reason = ""
        else:
            reason = f" The {kind} is wrong, revoked or deleted."
        message = f"{where_text} refused {self.where()} with {status or 'an error'}." + why_exp + reason
        return self.finding(
            code,
            message,
            cause="token-malformed" if problems else None,
            why=f"{self.client} gets a 401 for {self.image} with this credential "
            '("unauthorized: authentication required").',
            remediation=Remediation(
                summary="Create a new token and log in again with it.",
                steps=(
                    "Create a new access token for the registry (a longer-lived one for "
                    "machines and pipelines).",
                    f"Log in again: this replaces the entry at {c.location.display(self.ctx.home)}.",
                    "Update every other copy of the old token (npm, pip, Maven, Kubernetes "
                    "secrets): each one is checked on its own.",
                ),
                commands=(self.login_command(),),
            ),
        )

    def no_credentials(self, result: ProbeResult, anonymous_grant: bool = False) -> Finding:
        near = [
            s
            for s in self.res.chain
            if s.credential is not None and s.outcome in ("skipped", "lost")
        ]
        how = (
            "handed out an anonymous token that grants nothing"
            if anonymous_grant
            else f"answered {result.status}"
        )
        evidence_head = f"{self.host} {how} without a credential"
        if near:
            step = near[0]
            loc = step.location.display(self.ctx.home) if step.location else "a config file"
            message = (
                f"{self.client} sends no credential to {self.host}, and the registry requires "
                f"one: the credential at {loc} ({step.description}) is not picked"
                + (f" -- {step.reason}" if step.reason else "")
                + "."
            )
            return self.finding(
                "DKR103",
                message,
                cause="credential-not-matched",
                location=step.location,
                credential=step.credential,
                why=f"{evidence_head}; {self.client} looks the credential up under the "
                f"image's host {self.host}.",
                remediation=Remediation(
                    summary=f"Store the credential under the key {self.client} looks up "
                    f"({self.host}).",
                    commands=(self.login_command(),),
                ),
            )
        return self.finding(
            "DKR103",
            f"{self.host} requires authentication and {self.client} has no credential for it "
            f"({evidence_head}).",
            why=f'{self.client} pulls anonymously and is refused ("no basic auth credentials" '
            'or "pull access denied").',
            remediation=Remediation(
                summary=f"Log in to {self.host}.",
                commands=(self.login_command(),),
            ),
        )

    def permission_denied(self, result: ProbeResult, action: str = "pull") -> Finding:
        repo = self.target.name or self.host
        right = "write" if action == "push" else "read"
        granted = None
        token = self.steps.get("token")
        if token is not None and "granted" in token.facts:
            granted = token.facts["granted"]
        if result.facts.get("step") == "token":
            how = f"its token grants {','.join(granted) if granted else 'nothing'} on {repo}"
        elif result.status == 401:
            how = f"the registry refuses the token for {repo} with 401 insufficient_scope"
        else:
            code = f" {result.error_code}" if result.error_code else ""
            how = f"the registry answers {result.status}{code} for {repo}"
        who = self.cred.username if self.cred and self.cred.username else "this principal"
        return self.finding(
            "DKR104",
            f"{self.where().capitalize()} is accepted by {self.host}, but {who} may not "
            f"{action} {repo}: {how}.",
            why=(
                f"Authentication works (docker login succeeds) but the principal lacks {right} "
                f"permission on {repo}. In pipelines, a manual run uses the triggering user's "
                "permissions while webhook, schedule and IDP triggers run as a service "
                f"account: the same pipeline can pass by hand and fail when triggered. "
                f"{action.capitalize()} needs {right}."
            ),
            remediation=Remediation(
                summary=f"Give {who} {right} access to {repo}, or use a credential of a "
                "principal that has it.",
                steps=(
                    f"In the registry's access control, grant {right} ({action}) on the "
                    "registry/repository to the user or service account.",
                    "For pipelines, check which principal the trigger runs as.",
                ),
            ),
        )

    def not_found(self, result: ProbeResult) -> Finding:
        t = self.target
        name = t.name or ""
        segments = name.split("/")
        ref = t.reference or "latest"
        code = result.error_code
        tags = self.steps.get("tags")
        if code == "ROOT_NOT_FOUND":
            part = f"the account `{segments[0]}` (first path segment) does not exist"
            fix = "Use the account ID from the registry's set-up page, lower-cased."
        elif code == "REGISTRY_NOT_FOUND":
            reg = segments[1] if len(segments) > 1 else name
            part = f"the registry `{reg}` does not exist in account `{segments[0]}`"
            fix = "Use the registry name exactly as shown in the registry list."
        elif (
            code in ("MANIFEST_UNKNOWN", None)
            and tags is not None
            and tags.facts.get("repository_exists")
        ):
            known = tags.facts.get("tags") or []
            part = f"the repository {name} exists but has no tag or digest `{ref}`"
            if known:
                part += (
                    f" (tags: {', '.join(known)}"
                    + (", ..." if tags.facts.get("tag_count", 0) > len(known) else "")
                    + ")"
                )
            fix = f"Use a tag that was pushed (skopeo list-tags docker://{self.host}/{name})."
        elif code == "NAME_UNKNOWN" or (
            tags is not None and tags.facts.get("repository_exists") is False
        ):
            part = (
                f"the repository {name} does not exist (or the registry is not a Docker/OCI "
                "registry)"
            )
            fix = "Check the image path, and that the registry's package type is Docker."
        elif code == "MANIFEST_UNKNOWN":
            part = f"the repository {name} has no tag or digest `{ref}`"
            fix = f"Use a tag that was pushed (skopeo list-tags docker://{self.host}/{name})."
        else:
            part = f"the repository {name} or its tag `{ref}` does not exist"
            fix = "Check the image path and tag."
        return self.finding(
            "DKR105",
            f"{self.image}: {part} ({result.status}{' ' + code if code else ''}).",
            why=f'{self.client} fails with "manifest unknown" / "not found"; the credential '
            "itself was accepted.",
            remediation=Remediation(
                summary=fix,
                commands=(f"skopeo list-tags docker://{self.host}/{name}",) if name else (),
            ),
        )

    def rate_limited(self, result: ProbeResult) -> Finding:
        anon = not (self.spec and self.spec.has_secret)
        extra = (
            " The requests are anonymous: anonymous limits are the lowest, log in to get yours."
            if anon
            else ""
        )
        return self.finding(
            "DKR107",
            f"{self.host} throttles requests: {result.url} answered 429.{extra}",
            why=f'{self.client} fails with "toomanyrequests" until the limit resets.',
            remediation=Remediation(
                summary="Send a credential, use a mirror or cache, or wait for the limit to reset.",
                commands=(self.login_command(),) if anon else (),
            ),
        )

    def server_error(self, result: ProbeResult) -> Finding:
        what = "token endpoint" if result.facts.get("step") == "token" else "registry"
        return self.finding(
            "DKR111",
            f"The {what} at {result.url} answered {result.status or result.outcome}"
            + (f": {result.detail}" if result.detail and result.status is None else "")
            + ".",
            why="The registry side fails; no credential change helps.",
            remediation=Remediation(
                summary="Retry later, or report it to the registry's operator.",
            ),
        )

    def no_challenge(self, result: ProbeResult, open_ping: bool = False) -> Finding:
        pre = self.steps.get("preemptive")
        extra = ""
        if pre is not None and pre.outcome == "ok":
            extra = (
                " It does accept the credential when sent unasked, but OCI clients only send "
                "credentials in answer to a challenge."
            )
        if open_ping:
            message = (
                f"{self.host} answers GET /v2/ with 200, so {self.client} never sends a "
                f"credential -- and then {result.url} answers 401."
            )
        else:
            message = (
                f"{self.host} answers GET /v2/ with 401 but no WWW-Authenticate challenge, so "
                f"{self.client} never sends a credential.{extra}"
            )
        return self.finding(
            "DKR109",
            message,
            why="Docker, podman and Helm authenticate only when challenged.",
            remediation=Remediation(
                summary="The registry (or a proxy in front of it) must send its "
                "WWW-Authenticate challenge; check that this is the registry host.",
            ),
        )
