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

For an artifact (``maven:G:A:V``) Maven asks its repositories one after the
other -- active settings profiles, then the POM's, then the built-in
``central`` -- and stops at the first that serves it (maven-resolver's
order; a repository that fails or answers 404 passes the request on).  The
probe does the same: the walk of a later repository first awaits the walks
of the earlier ones (each walk runs once per run, :data:`WALKS`), and a
repository Maven would not reach is not contacted at all -- its result is
``not-probed`` with the repository that served the artifact.  So a
firewalled Maven Central never fails a build whose artifact comes from the
POM's repository, and never gives a false "not found" either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hardoctor.model import ProbeResult, Resolution, Secret, payload_of
from hardoctor.records import dataclass, field
from hardoctor.stash import StashKey

from .proxies import maven_proxy
from .state import WORLD, Endpoint, EndpointRef, World

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.probe import ProbePlan
    from hardoctor.probe.session import Exchange, ProbeSession
    from hardoctor.probe.tls import TLSOptions

#: One walk per (loop, Spec.key()) in a run: a later repository's probe
#: awaits the earlier repositories' walks instead of repeating them.
WALKS: StashKey[dict[tuple[Any, ...], asyncio.Future[list[ProbeResult]]]] = StashKey(
    "maven.walks")


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

    preemptive: bool = False
    #: Maven's ``<proxy>`` for this URL: (where it is set, the proxy URL).
    proxy: tuple[str, str] | None = field(default=None, repr=False)

    def key(self) -> tuple[str, str, str | None, str | None, str | None]:
        """Everything the walk depends on -- the secret only by fingerprint."""
        return ("repository", self.url, self.username,
                self.secret.fingerprint if self.secret else None,
                self.proxy[0] if self.proxy else None)

    def tls(self) -> TLSOptions:
        from hardoctor.probe.tls import TLSOptions

        # Maven reads no HTTPS_PROXY: its <proxies> or a direct connection.
        return TLSOptions(proxy=self.proxy, env_proxy=False)


def plan(res: Resolution, ctx: Context | None = None) -> list[ProbePlan]:
    from hardoctor.probe import ProbePlan

    if not res.registry.startswith(("http://", "https://")):
        return []
    cred = res.credential
    secret = cred.secret if cred is not None and cred.secret is not None else None
    w = ctx.stash.get(WORLD, None) if ctx is not None else None
    proxy = maven_proxy(w, res.registry, _displays(ctx, w)) if w is not None and ctx else None
    spec = Spec(probe_path(res), res.registry, cred.username if cred else None, secret,
                _preemptive(w, res), proxy)
    earlier, later = _around(w, res) if w is not None else ([], [])
    memo = ctx.stash.setdefault(WALKS, {}) if ctx is not None else {}

    async def run(session: ProbeSession) -> list[ProbeResult]:
        for prior in earlier:
            if served(await shared_walk(memo, session, prior)):
                return [not_reached(spec, prior, res)]
        mine = await shared_walk(memo, session, spec)
        if served(mine):
            return mine
        for after in later:  # Maven goes on to the next repository
            if served(await shared_walk(memo, session, after)):
                return [*mine, served_later(after, res)]
        return mine

    key: tuple[Any, ...] = spec.key()
    if earlier or later:
        key = ("in-order", tuple(p.key() for p in earlier), key,
               tuple(p.key() for p in later))
    return [ProbePlan(url=spec.url, credential=cred.id if cred else None, run=run,
                      description=f"Maven repository request {spec.url}", key=key)]


def _displays(ctx: Context, w: World) -> dict[str, str]:
    return {e.path: ctx.display_path(e.path) for e in (w.user, w.glob) if e is not None}


def _preemptive(w: World | None, res: Resolution) -> bool:
    ref = payload_of(res.payload, EndpointRef)
    ep = w.endpoint(ref) if w is not None and ref is not None else None
    return isinstance(ep, Endpoint) and ep.server is not None and ep.server.server.preemptive


def read_endpoints(w: World) -> list[Endpoint]:
    """The repositories Maven asks for a dependency, in maven-resolver's
    order (settings profiles, the POMs, the built-in central): plugin-only
    and deploy repositories are not asked for a dependency."""
    return [ep for ep in w.endpoints if not ep.deploy and not ep.blocked
            and any(c.repo.kind == "repository" for c in ep.contacts)]


def _around(w: World, res: Resolution) -> tuple[list[Spec], list[Spec]]:
    """(the repositories Maven asks before this one and that can spare it,
    the ones that can serve the request after it fails here).  For
    ``maven:G:A:V`` Maven stops at the first repository that serves the
    artifact; for ``maven:G:A`` it asks every repository and merges their
    metadata, so none is spared and any other one can serve it."""
    t = res.target
    ref = payload_of(res.payload, EndpointRef)
    if res.client != "maven" or t.kind != "package" or ref is None:
        return [], []
    by_id = {c.id: c for c in w.credentials}
    specs: list[Spec] = []
    mine: int | None = None
    for ep in read_endpoints(w):
        if ep.ref == ref:
            mine = len(specs)
        view = ep.server if ep.server is not None and ep.server.effective else None
        cred = by_id.get(view.cred_id) if view is not None else None
        secret = cred.secret if cred is not None else None
        sub = Resolution(target=t, ecosystem=res.ecosystem, client=res.client,
                         credential=None, registry=ep.url)
        specs.append(Spec(probe_path(sub), ep.url, cred.username if cred else None, secret,
                          bool(view is not None and view.server.preemptive)))
    if mine is None:  # not one of Maven's dependency repositories
        return [], []
    if not t.reference:
        return [], specs[:mine] + specs[mine + 1:]
    return specs[:mine], specs[mine + 1:]


async def shared_walk(memo: dict[tuple[Any, ...], asyncio.Future[list[ProbeResult]]],
                      session: ProbeSession, spec: Spec) -> list[ProbeResult]:
    loop = asyncio.get_running_loop()
    k = (id(loop), spec.key())
    fut = memo.get(k)
    if fut is None or fut.get_loop() is not loop:
        fut = memo[k] = asyncio.ensure_future(walk(session, spec))
    return list(await asyncio.shield(fut))


def served(results: Sequence[ProbeResult]) -> bool:
    """Did Maven get the artifact from this repository?"""
    anon = next((r for r in results if r.facts.get("step") == "anonymous"), None)
    cred = next((r for r in results if r.facts.get("step") == "credential"), None)
    if anon is not None and anon.status is not None and 200 <= anon.status < 300:
        return True
    if cred is None or cred.status is None or not 200 <= cred.status < 300:
        return False
    challenged = anon is not None and anon.status == 401 and bool(anon.facts.get("challenge"))
    return challenged or bool(cred.facts.get("preemptive"))


def served_later(after: Spec, res: Resolution) -> ProbeResult:
    what = "then gets" if res.target.reference else "also gets the metadata of"
    return ProbeResult(
        url=after.url, outcome="not-probed",
        detail=f"Maven {what} {res.target.raw} from {after.base}",
        facts={"step": "served-later", "served_by": after.base})


def not_reached(spec: Spec, prior: Spec, res: Resolution) -> ProbeResult:
    return ProbeResult(
        url=spec.url, outcome="not-probed",
        detail=f"not contacted: Maven gets {res.target.raw} from {prior.base} first",
        facts={"step": "not-reached", "served_by": prior.base})


async def walk(session: ProbeSession, spec: Spec) -> list[ProbeResult]:
    from hardoctor.probe.classify import TransportFailure
    from hardoctor.probe.session import BasicAuth, to_result

    results: list[ProbeResult] = []
    anon = await session.request("GET", spec.url, tls=spec.tls())
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
        credential_origin=spec.base, tls=spec.tls(),
    )
    extra = {"preemptive": "configured"} if spec.preemptive else {}
    results.append(to_result(authed, credential=None,
                             detail="GET with the credential sent preemptively",
                             facts={"step": "credential", **_challenge(authed), **extra}))
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
