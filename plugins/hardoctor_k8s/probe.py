"""Online and per-resolution checks of the kubelet's pulls: the advice for
a pull secret the registry refuses, and the stale pull secret next to a
newer local login.

The walk itself is the ``oci`` protocol plugin's: every kubelet resolution
says ``protocol="oci"``, its first matching credential and (as
``fallbacks``) every other one the kubelet tries, and that plugin probes and
diagnoses it.  This module only reads the walk's protocol-neutral facts
(``credential_refused``) and never imports another plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hardoctor.model import Credential, Finding, ProbeResult, Remediation, Resolution, Severity
from hardoctor.targets import normalize_host

from . import fixes
from .creds import secret_location
from .hub import HUB
from .resolve import Group, group_of, matched_credentials
from .state import State

if TYPE_CHECKING:
    from hardoctor.context import Context

ECO = "k8s"
#: Causes whose generic advice ("log in again") means "fix the Secret" here.
_CREDENTIAL_CAUSES = frozenset({"token-invalid", "token-malformed", "token-expired"})
_NO_CREDENTIAL_CAUSES = frozenset({"no-credentials", "credential-not-matched"})


def diagnose(resolution: Resolution, results: Sequence[ProbeResult], st: State,
             ctx: Context) -> list[Finding]:
    group = group_of(resolution)
    if group is None:
        return []
    out: list[Finding] = []
    creds = [c for c in matched_credentials(group, st.credentials) if c.secret is not None]
    if resolution.credential is None:
        st.bare_namespaces.setdefault(normalize_host(resolution.target.host, HUB), group.namespace)
    refused = {r.credential for r in results
               if r.credential and r.facts.get("credential_refused")}
    out += stale(resolution, group, creds, refused, st, ctx)
    return out


def remediation(finding: Finding, credential: Credential | None, st: State) -> Remediation | None:
    """Advice for a registry's verdict on a kubelet pull (another plugin's
    finding): a pull secret is fixed in the Secret, not with a login."""
    if finding.ecosystem != ECO or finding.rule.startswith("K8S"):
        return None
    if finding.cause in _CREDENTIAL_CAUSES and credential is not None:
        origin = st.cred_origin.get(credential.id)
        if origin is None:
            return None
        secret, _, registry = origin
        return Remediation(
            summary=f"Put a working token into Secret {secret.ref}.",
            steps=("Create a new token (for a cluster, a service account token or a "
                   "longer-lived one), then replace the secret; pods pick it up on their next "
                   "pull.",),
            commands=(
                "read -rs TOKEN   # paste the token (not echoed)",
                f"kubectl create secret docker-registry {secret.name} -n {secret.namespace} "
                f"--docker-server={registry} --docker-username={credential.username or 'USER'} "
                "--docker-password=\"$TOKEN\" --dry-run=client -o yaml | kubectl apply -f -",
            ),
        )
    if finding.cause in _NO_CREDENTIAL_CAUSES and credential is None and finding.registry:
        host = normalize_host(finding.registry, HUB)
        namespace = st.bare_namespaces.get(host)
        if namespace is None:
            return None
        return Remediation(
            summary=f"Give the pods a pull secret for {host}.",
            steps=("Create the secret in the pods' namespace and list it in the pod spec's "
                   "imagePullSecrets (or in the ServiceAccount's, for pods created afterwards).",),
            commands=(
                "read -rs TOKEN   # paste the token (not echoed)",
                f"kubectl create secret docker-registry regcred -n {namespace} "
                f"--docker-server={host} --docker-username=USER --docker-password=\"$TOKEN\"",
            ),
        )
    return None


# -- the pull secret the laptop has outgrown -------------------------------------------


_BAD = {"expired": "token-expired", "expiring-soon": "token-expiring-soon",
        "invalid": "token-invalid"}


def _token_fp(cred: Credential) -> str | None:
    if cred.token is not None and cred.token.fingerprint:
        return cred.token.fingerprint
    return cred.secret.fingerprint if cred.secret is not None else None


def _docker_by_host(st: State) -> dict[str, list[Credential]]:
    """The run's Docker credentials by normalised host, indexed once (not
    a scan of every credential per stale pull secret)."""
    size, index = st.docker_by_host
    if size != len(st.credentials):
        index = {}
        for other in st.credentials.values():
            if other.ecosystem == "docker" and other.secret is not None:
                index.setdefault(normalize_host(other.host, HUB), []).append(other)
        st.docker_by_host = (len(st.credentials), index)
    return index


def donors(st: State, cred: Credential) -> list[Credential]:
    """Docker credentials on this machine for the same registry host whose
    token differs and is not known to be bad, best first."""
    mine = _token_fp(cred)
    rank = {"valid": 0, "unknown": 1, "expiring-soon": 2}
    out = []
    for other in _docker_by_host(st).get(normalize_host(cred.host, HUB), ()):
        if _token_fp(other) == mine:
            continue
        status = other.token.status if other.token is not None else "unknown"
        if status in ("expired", "invalid"):
            continue
        out.append((rank.get(status, 1), other.id, other))
    return [c for _, _, c in sorted(out, key=lambda t: (t[0], t[1]))]


def stale(resolution: Resolution, group: Group, creds: Sequence[Credential], refused: set[str],
          st: State, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for cred in creds:
        status = cred.token.status if cred.token is not None else "unknown"
        if status not in _BAD and cred.id not in refused:
            continue
        candidates = donors(st, cred)
        origin = st.cred_origin.get(cred.id)
        if not candidates or origin is None or not st.once("K8S011", cred.id):
            continue
        donor = candidates[0]
        secret, value_key, registry = origin
        token = cred.token
        if status in _BAD:
            cause = _BAD[status]
            date = how = ""
            if token is not None and token.expires_at is not None:
                date = f"{token.expires_at:%Y-%m-%d}"
                how = {"estimated": "estimated", "harness-api": "from the Harness API",
                       "token": "from the token"}.get(token.expiry_source, token.expiry_source)
            if status == "expired":
                state_text = f"expired on {date} ({how})" if date else "is expired"
            elif status == "expiring-soon":
                state_text = f"expires on {date} ({how})" if date else "expires soon"
            else:
                state_text = "is rejected by the Harness API"
        else:
            cause, state_text = "token-invalid", "is refused by the registry"
        severity = Severity.WARNING if cause == "token-expiring-soon" else None
        here = secret_location(secret, cred.location.line).display(ctx.home)
        theirs = donor.location.display(ctx.home)
        if donor.location.path and donor.location.key:
            theirs += f" {donor.location.key}"
        fix = fixes.replace_token(ctx, st, secret, value_key, registry, donor)
        steps = []
        if fix is not None and not fix.edits:
            steps.append("The corrected Secret (its value shown as a fingerprint):\n"
                         + _shown_manifest(st, secret, value_key, registry, donor))
        message = (
            f"Secret {secret.ref} ({here}) holds the token #{_token_fp(cred)} for {registry}, "
            f"which {state_text}; this machine has another token #{_token_fp(donor)} for "
            f"{cred.host} in {theirs}: the pull secret was not updated when you logged in again."
        )
        out.append(ctx.finding(
            "K8S011", message, cause=cause, severity=severity, ecosystem=ECO,
            location=cred.location, credential=cred.id, registry=cred.host,
            why="The pull secret and the laptop's login are updated separately; pods keep "
                "pulling with the old token and get 401.",
            evidence=(f"pulled by {group.workloads_text()} (namespace {group.namespace})",)
            if group.uses else (),
            remediation=Remediation(
                summary=f"Put the working token from {theirs} into Secret {secret.ref}.",
                steps=tuple(steps) or (
                    "`hardoctor fix --unsafe --apply` writes it into the manifest"
                    + (" (add --kube to apply it to the cluster)" if not secret.where.path else "")
                    + ".",),
                commands=(
                    f"kubectl create secret docker-registry {secret.name} -n {secret.namespace} "
                    f"--docker-server={registry} --docker-username={donor.username or 'USER'} "
                    "--docker-password=\"$TOKEN\" --dry-run=client -o yaml | kubectl apply -f -",
                )),
            fix=fix))
    return out


def _shown_manifest(st: State, secret: Any, value_key: str, registry: str,
                    donor: Credential) -> str:
    from . import dockercfg

    dec = st.decoded(secret).get(value_key)
    base = (fixes.repaired_json(dec) or dec.json_text) if dec is not None else None
    assert donor.secret is not None
    new = dockercfg.replace_entry(value_key, base or "{}", registry, donor.username or "harness",
                                  donor.secret.reveal()) or "{}"
    return fixes.manifest(secret, value_key, new, shown=True)
