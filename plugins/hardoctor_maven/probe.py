"""Asking the repository, the way Maven does (the *probe* role).

Maven (wagon-http in 3.8, the native transport in 3.9) first sends a request
*without* credentials and only retries with the <server>'s username and
password after a ``401`` carrying ``WWW-Authenticate``.  The probe makes the
same two requests for a real path (``maven-metadata.xml`` of ``maven:G:A``,
the POM of ``maven:G:A:V``, else the repository root):

1. anonymous -- what Maven's first request gets;
2. with the credential sent preemptively -- what Maven's retry gets, and,
   when the server never challenges, whether ``preemptiveAuth`` would help.

Gradle behaves the same unless ``authentication { basic(BasicAuthentication) }``
is configured.  The credential goes only to the repository's own origin
(the probe session enforces it), never to a redirect elsewhere.  Maven and
Gradle resolutions sending the same credential to the same URL share one
walk (``ProbePlan.key``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hardoctor.model import ProbeResult, Resolution, Secret

if TYPE_CHECKING:
    from hardoctor.probe import ProbePlan
    from hardoctor.probe.session import Exchange, ProbeSession


def probe_path(res: Resolution) -> str:
    base = (res.registry or res.target.url or "").rstrip("/")
    t = res.target
    if t.kind == "package" and t.name and ":" in t.name:
        group, artifact = t.name.split(":", 1)
        gpath = group.replace(".", "/")
        if t.reference:
            return f"{base}/{gpath}/{artifact}/{t.reference}/{artifact}-{t.reference}.pom"
        return f"{base}/{gpath}/{artifact}/maven-metadata.xml"
    return base + "/"


@dataclass(frozen=True)
class Spec:
    url: str
    base: str
    username: str | None = None
    secret: Secret | None = field(default=None, repr=False)

    def key(self) -> tuple[str, str, str | None, str | None]:
        """Everything the walk depends on -- the secret only by fingerprint."""
        return ("repository", self.url, self.username,
                self.secret.fingerprint if self.secret else None)


def plan(res: Resolution) -> list[ProbePlan]:
    from hardoctor.probe import ProbePlan

    if not res.registry.startswith(("http://", "https://")):
        return []
    cred = res.credential
    secret = cred.secret if cred is not None and cred.secret is not None else None
    spec = Spec(probe_path(res), res.registry, cred.username if cred else None, secret)

    async def run(session: ProbeSession) -> list[ProbeResult]:
        return await walk(session, spec)

    return [ProbePlan(url=spec.url, credential=cred.id if cred else None, run=run,
                      description=f"Maven repository request {spec.url}", key=spec.key())]


async def walk(session: ProbeSession, spec: Spec) -> list[ProbeResult]:
    from hardoctor.probe.classify import TransportFailure
    from hardoctor.probe.session import BasicAuth, to_result

    results: list[ProbeResult] = []
    anon = await session.request("GET", spec.url)
    if isinstance(anon, TransportFailure):
        results.append(to_result(anon, credential=None, detail="GET",
                                 facts={"step": "anonymous"}))
        return results
    results.append(to_result(anon, credential=None,
                             detail="GET without credentials (Maven's first request)",
                             facts={"step": "anonymous", **_challenge(anon)}))
    if spec.secret is None:
        return results
    authed = await session.request(
        "GET", spec.url, auth=BasicAuth(spec.username or "", spec.secret),
        credential_origin=spec.base,
    )
    results.append(to_result(authed, credential=None,
                             detail="GET with the credential sent preemptively",
                             facts={"step": "credential", **_challenge(authed)}))
    return results


def _challenge(answer: Exchange) -> dict[str, str]:
    from hardoctor.probe.classify import TransportFailure

    if isinstance(answer, TransportFailure) or answer.status != 401:
        return {}
    challenges = answer.challenges()
    if not challenges:
        return {}
    facts = {"challenge": challenges[0].scheme}
    if challenges[0].realm:
        facts["realm"] = challenges[0].realm
    return facts
