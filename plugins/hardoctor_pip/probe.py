"""The probe: ``GET <index>/<project>/`` (or the index root) with exactly
the Basic credentials the client sends (:mod:`.diagnose` says what the
answer means).

pip sends the credential it found (URL, matching index, netrc) up front,
follows redirects, and drops the Authorization header when a redirect
leaves the host -- the shared :class:`~hardoctor.probe.session.ProbeSession`
does the same.  A 404 for a project is checked against the index root, to
tell a wrong index URL from a missing project.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hardoctor.context import Context
from hardoctor.model import (
    ProbeResult,
    Resolution,
    Secret,
    fingerprint,
)
from hardoctor.probe import ProbePlan
from hardoctor.records import dataclass, field

from . import urls
from .creds import Creds
from .model import Model

if TYPE_CHECKING:
    from hardoctor.probe.session import ProbeSession
    from hardoctor.probe.tls import TLSOptions

@dataclass(frozen=True)
class Spec:
    url: str
    root: str | None
    username: str | None = field(repr=False)
    password: Secret | None = field(repr=False)
    verify: bool
    cafile: str | None
    #: Which client's trust rules (pip/Poetry: requests; uv: the system's).
    requests_tls: bool

    @property
    def key(self) -> tuple[str | bool | None, ...]:
        """Everything the walk depends on; secrets only by fingerprint."""
        return (self.url, self.root, fingerprint(self.username) if self.username is not None else None,
                self.password.fingerprint if self.password else None, self.verify, self.cafile,
                self.requests_tls)


def _tls(ctx: Context, model: Model, resolution: Resolution, url: urls.IndexUrl) -> tuple[bool, str | None]:
    """(verify, CA file) the way requests inside pip decides it:
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE beat pip's own ``cert`` (requests
    merges the environment over the session); ``trusted-host`` turns
    verification off."""
    if resolution.client == "uv":
        return True, ctx.getenv("SSL_CERT_FILE") or None
    if url.hostname in model.pip.trusted_hosts or url.host in model.pip.trusted_hosts:
        return False, None
    env_ca = ctx.getenv("REQUESTS_CA_BUNDLE") or ctx.getenv("CURL_CA_BUNDLE")
    cert = model.pip.value("cert") if resolution.client.startswith("pip") else ""
    return True, env_ca or cert or None


def spec_for(ctx: Context, model: Model, creds: Creds, resolution: Resolution) -> Spec | None:
    index = resolution.target.url or ""
    url = urls.parse_index_url(index)
    if url is None:
        return None
    target = resolution.target
    if target.kind == "package" and target.name:
        request, root = urls.project_url(url.bare, target.name), url.bare.rstrip("/") + "/"
    else:
        request, root = url.bare.rstrip("/") + "/", None
    user = password = None
    cred = resolution.credential
    if cred is not None:
        sent = creds.sent.get(cred.id)
        if sent is not None:
            user, password = sent.username, sent.password
        elif cred.secret is not None:
            user, password = cred.username or "", cred.secret
    verify, cafile = _tls(ctx, model, resolution, url)
    return Spec(request, root, user, password, verify, cafile, resolution.client != "uv")


def plan(ctx: Context, model: Model, creds: Creds, resolution: Resolution) -> list[ProbePlan]:
    spec = spec_for(ctx, model, creds, resolution)
    if spec is None:
        return []
    cred_id = resolution.credential.id if resolution.credential else None
    # pip, uv and Poetry sending the same credential to the same index share
    # one walk (the core runs plans with equal keys once).
    return [ProbePlan(url=spec.url, credential=cred_id, run=lambda session: walk(session, spec),
                      description=f"{resolution.client} index GET {spec.url}", key=spec.key)]


async def walk(session: ProbeSession, spec: Spec) -> list[ProbeResult]:
    from hardoctor.probe.session import BasicAuth, to_result

    tls = _options(spec)
    auth = None
    if spec.username is not None and spec.password is not None:
        auth = BasicAuth(spec.username, spec.password)
    what = "with the credential" if auth else "without credentials"
    first = await session.request("GET", spec.url, auth=auth, credential_origin=spec.url,
                                  headers={"Accept": "text/html"}, tls=tls)
    step = "project" if spec.root else "index"
    results = [to_result(first, credential=None, detail=f"GET {spec.url} {what}",
                         facts={"step": step, **_challenge(first)})]
    if spec.root and getattr(first, "status", None) == 404:
        root = await session.request("GET", spec.root, auth=auth, credential_origin=spec.url,
                                     headers={"Accept": "text/html"}, tls=tls)
        results.append(to_result(root, credential=None, detail=f"GET {spec.root} {what}",
                                 facts={"step": "index", **_challenge(root)}))
    return results


def _options(spec: Spec) -> TLSOptions:
    from hardoctor.probe.tls import TLSOptions

    if not spec.verify:
        return TLSOptions(verify=False)
    return TLSOptions(cafile=spec.cafile, ignore_env=spec.requests_tls and spec.cafile is None)


def _challenge(answer: object) -> dict[str, Any]:
    from hardoctor.probe.session import ProbeResponse

    if not isinstance(answer, ProbeResponse) or answer.status != 401:
        return {}
    ch = answer.challenges()
    if not ch:
        return {"challenge": None}
    return {"challenge": ch[0].scheme, "realm": ch[0].realm or ""}
