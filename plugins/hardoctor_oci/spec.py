"""What one OCI walk depends on (:class:`WalkSpec`) and the probe plans for
a resolution.

A resolution says which credential its client sends (``credential``, then
``fallbacks`` for a client that tries every matching entry) and what the
client trusts (``tls``).  Each candidate credential becomes one
:class:`~hardoctor.probe.ProbePlan`; plans with the same spec share one
walk through ``ProbePlan.key`` (Docker, podman and Helm often send the same
``~/.docker/config.json`` entry; a pull secret used by 5,000 pods is walked
once).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from hardoctor.model import Credential, ProbeResult, Resolution, Secret
from hardoctor.probe import ProbePlan
from hardoctor.probe.tls import TLSOptions, is_loopback
from hardoctor.records import dataclass

from . import PROTOCOL
from .hub import HUB

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.probe.session import ProbeSession


#: Docker Hub's API lives on another host than its image references.
HUB_API = "registry-1.docker.io"


@dataclass(frozen=True)
class WalkSpec:
    """Everything the network walk depends on (and nothing it does not, so
    equal specs can share one walk)."""

    host: str
    api_host: str
    repository: str | None
    reference: str | None
    push: bool
    username: str | None
    secret: Secret | None
    scheme: str
    tls: TLSOptions

    @property
    def key(self) -> Hashable:
        return (
            self.secret.fingerprint if self.secret else None,
            self.username,
            self.scheme,
            self.api_host,
            self.repository,
            self.reference,
            self.push,
            self.tls,
        )

    @property
    def has_secret(self) -> bool:
        return self.secret is not None and bool(self.secret) and self.scheme != "none"

    @property
    def scope(self) -> str | None:
        """The token scope a pull (or push) asks for."""
        if not self.repository:
            return None
        return f"repository:{self.repository}:{'pull,push' if self.push else 'pull'}"


def auth_scheme(cred: Credential | None) -> str:
    """How the client presents ``cred``: ``basic``, ``identitytoken``
    (OAuth refresh grant), ``registrytoken`` (sent as Bearer) or ``none``."""
    if cred is None or cred.secret is None or not cred.secret:
        return "none"
    scheme = (cred.scheme or "basic").lower()
    if scheme in ("bearer", "registrytoken"):
        return "registrytoken"
    if scheme == "identitytoken":
        return "identitytoken"
    return "none" if scheme == "none" else "basic"


def default_tls(host: str) -> TLSOptions:
    """The protocol's default when the client plugin describes no TLS:
    the environment's trust store; loopback registries are insecure (every
    OCI engine lets a local registry speak plain http)."""
    if is_loopback(host):
        return TLSOptions(verify=False, plain_http=True)
    return TLSOptions()


def spec_for(resolution: Resolution, ctx: Context, cred: Credential | None = None) -> WalkSpec | None:
    """The walk for ``resolution`` with ``cred`` (default: its credential);
    ``None`` when the target is not a registry or image."""
    target = resolution.target
    if target.kind not in ("image", "registry") or not target.host:
        return None
    if cred is None:
        cred = resolution.credential
    repository = target.name if target.kind == "image" else None
    scheme = auth_scheme(cred)
    return WalkSpec(
        host=target.host,
        api_host=HUB_API if HUB.owns(target.host) else target.host,
        repository=repository,
        reference=(target.reference or "latest") if repository else None,
        push=bool(ctx.options.push),
        username=cred.username if cred and scheme != "none" else None,
        secret=cred.secret if cred and scheme != "none" else None,
        scheme=scheme,
        tls=resolution.tls or default_tls(target.host),
    )


def candidates(resolution: Resolution) -> list[Credential | None]:
    """The credentials the client tries, in order (``[None]``: none at all)."""
    out: list[Credential | None] = []
    for cred in (resolution.credential, *resolution.fallbacks):
        if cred is not None and cred not in out:
            out.append(cred)
    return out or [None]


def plan(resolution: Resolution, ctx: Context) -> list[ProbePlan]:
    """One pull (or login) walk per credential the client would try."""
    out: list[ProbePlan] = []
    for cred in candidates(resolution):
        spec = spec_for(resolution, ctx, cred)
        if spec is None:
            return []
        out.append(_plan(spec, cred.id if cred else None))
    return out


def _plan(spec: WalkSpec, cred_id: str | None) -> ProbePlan:
    from .walk import walk

    async def run(session: ProbeSession) -> list[ProbeResult]:
        return await walk(session, spec)

    what = f"{spec.repository}:{spec.reference}" if spec.repository else "login"
    return ProbePlan(
        url=f"https://{spec.api_host}/v2/",
        credential=cred_id,
        run=run,
        description=f"OCI pull walk for {spec.host} ({what})",
        key=(PROTOCOL, spec.key),
    )
