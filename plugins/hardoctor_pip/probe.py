"""The probe: ``GET <index>/<project>/`` (or the index root) with exactly
the Basic credentials the client sends, and what the answer means.

pip sends the credential it found (URL, matching index, netrc) up front,
follows redirects, and drops the Authorization header when a redirect
leaves the host -- the shared :class:`~hardoctor.probe.session.ProbeSession`
does the same.  A 404 for a project is checked against the index root, to
tell a wrong index URL from a missing project.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from hardoctor.context import Context
from hardoctor.model import (
    Finding,
    Location,
    ProbeResult,
    Remediation,
    Resolution,
    Secret,
    fingerprint,
)
from hardoctor.probe import ProbePlan

from . import urls
from .creds import Creds
from .lint import is_har
from .model import ECO, Model

if TYPE_CHECKING:
    from hardoctor.probe.session import ProbeSession
    from hardoctor.probe.tls import TLSOptions

CACHE = "pip.probes"


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
    def key(self) -> tuple[Any, ...]:
        return (self.url, self.root, fingerprint(self.username) if self.username is not None else None,
                self.password.fingerprint if self.password else None, self.verify, self.cafile,
                self.requests_tls)


class _Shared:
    """One request chain awaited by every resolution with the same spec."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._task: asyncio.Task[list[ProbeResult]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def results(self, session: ProbeSession) -> list[ProbeResult]:
        loop = asyncio.get_running_loop()
        if self._task is None or self._loop is not loop:
            self._loop = loop
            self._task = loop.create_task(walk(session, self.spec))
        return await asyncio.shield(self._task)


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
    shared_map: dict[tuple[Any, ...], _Shared] = ctx.cache.setdefault(CACHE, {})
    shared = shared_map.get(spec.key)
    if shared is None:
        shared = shared_map[spec.key] = _Shared(spec)
    cred_id = resolution.credential.id if resolution.credential else None

    async def run(session: ProbeSession) -> list[ProbeResult]:
        results = await shared.results(session)
        return [replace(r, credential=cred_id) for r in results]

    return [ProbePlan(url=spec.url, credential=cred_id, run=run,
                      description=f"{resolution.client} index GET {spec.url}")]


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


# -- diagnosis -----------------------------------------------------------------------


_CLIENT = {"pip": "pip", "uv": "uv", "poetry": "Poetry"}


def diagnose(ctx: Context, model: Model, res: Resolution, results: Sequence[ProbeResult],
             location: Location | None) -> list[Finding]:
    from hardoctor.probe.classify import is_transport_outcome
    from hardoctor.probe.rules import transport_finding

    host = res.target.host
    client = _CLIENT.get(res.client, res.client)
    cred = res.credential
    where = location if cred is None else cred.location
    transport = next((r for r in results if is_transport_outcome(r.outcome) or r.status == 407), None)
    if transport is not None:
        f = transport_finding(ctx, transport, host=host, what="the index", ecosystems=("pip",),
                              ecosystem=ECO, credential=cred.id if cred else None)
        return [f] if f else []
    steps = {str(r.facts.get("step")): r for r in results}
    first = results[0]
    evidence = [_evidence(r) for r in results]
    common: dict[str, Any] = dict(ecosystem=ECO, registry=host, evidence=evidence,
                                  credential=cred.id if cred else None, location=where)
    index = res.target.url or res.registry
    shown_index = urls.display(index)
    har = is_har(ctx, host)
    using = _using(ctx, res)
    status = first.status
    if status is not None and 200 <= status < 300:
        return []
    if first.outcome == "rate-limited":
        return [ctx.finding("PIP107", f"{shown_index} throttles requests (429).",
                            why="Often because requests go out without credentials.", **common)]
    if status == 401:
        if cred is None:
            common["evidence"] = evidence + _near_misses(ctx, model, index)
            return [ctx.finding(
                "PIP101", f"{client} sends no credentials to {shown_index}, and it answered 401.",
                why=f"{client} finds nothing to send (see the chain), so the index refuses it; "
                    "pip reports only `No matching distribution found`.",
                remediation=_store_remediation(res, har), **common)]
        return [ctx.finding(
            "PIP102", f"{shown_index} rejects {using} (401).",
            why="The password or token is wrong, expired or revoked"
                + (" -- or the token is in the username slot: HAR reads only the password"
                   if har else "") + ".",
            remediation=_token_remediation(ctx, res, har), **common)]
    if status == 403:
        if first.facts.get("policy"):
            return [ctx.finding(
                "PIP108", f"{shown_index} refused {res.target.name or 'the request'} by policy: "
                f"{first.facts.get('server_message', 'forbidden')}.",
                why="Not an authentication problem: the artifact is quarantined or blocked.",
                **common)]
        if har:
            from hardoctor_harness import permission_remediation

            har_url = _har_registry(index)
            return [ctx.finding(
                "PIP103", f"{shown_index} answered 403 to {using}: authenticated, but not allowed "
                "to read this registry.",
                why="HAR answers 401 for a bad token and 403 when the token's principal lacks read "
                    "permission (a pipeline triggered by a webhook or schedule runs as a service "
                    "principal).",
                remediation=permission_remediation("pull", har_url), **common)]
        if cred is None:
            return [ctx.finding(
                "PIP103", f"{shown_index} answered 403 to an anonymous request from {client}.",
                cause="no-credentials", why="The index does not allow anonymous reads.",
                remediation=_store_remediation(res, har), **common)]
        return [ctx.finding(
            "PIP103", f"{shown_index} answered 403 to {using}: a wrong password (pypiserver and "
            "others answer 403, not 401, for one) or no permission.",
            cause="token-invalid",
            why="pypiserver, devpi and some proxies refuse a wrong password with 403 and no "
                "challenge, so pip never prompts -- it only says `No matching distribution found`.",
            remediation=_token_remediation(ctx, res, har), **common)]
    if status == 404:
        root = steps.get("index") if res.target.kind == "package" else first
        if res.target.kind == "package" and root is not None and root.status is not None \
                and 200 <= root.status < 300:
            name = res.target.name or "?"
            return [ctx.finding(
                "PIP105", f"{shown_index} has no project {urls.normalize_project(name)!r} (404; the "
                "index itself answers).",
                why=f"{client} reports `No matching distribution found for {name}`.",
                remediation=Remediation("Check the project name, or upload it to this registry."),
                **common)]
        return [ctx.finding(
            "PIP104", f"{shown_index} answers 404: it is not an index.",
            why="Every project is `not found`: the path (registry name, /simple) is wrong.",
            remediation=Remediation("Copy the index URL from the registry's set-up page"
                                    + (" (HAR: .../pkg/ACCOUNT/REGISTRY/python/simple)." if har else ".")),
            fix=_har_fix(model, res) if har else None, **common)]
    return [ctx.finding(
        "PIP106", f"{shown_index} answered {status if status is not None else first.outcome}.",
        why="A server-side problem: nothing about the credential can be learned.", **common)]


def _har_fix(model: Model, res: Resolution) -> Any:
    """The HAR plugin's URL correction, as an edit of the file the index
    URL is in (the 404 finding is the one a person reads: it carries it)."""
    from . import har_path_fix

    for ref in model.refs:
        if ref.url is not None and ref.bare == res.target.url:
            fix = har_path_fix(model, ref)
            if fix is not None:
                return fix
    return None


def _near_misses(ctx: Context, model: Model, index: str) -> list[str]:
    """netrc entries meant for this host that the client never matches."""
    url = urls.parse_index_url(index)
    doc = model.netrc.doc
    if url is None or doc is None or doc.error is not None:
        return []
    out = []
    for e in doc.entries:
        name = e.name.lower().split("://", 1)[-1].split("/", 1)[0]
        bare = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        if e.kind == "machine" and bare == url.hostname and e.name != url.hostname:
            out.append(f"{ctx.display_path(model.netrc.path)}:{e.line} has 'machine {e.name}', "
                       f"which is never matched: the lookup is {url.hostname!r}")
    return out


def _using(ctx: Context, res: Resolution) -> str:
    cred = res.credential
    if cred is None:
        return "no credentials"
    user = f" (user {cred.username})" if cred.username else ""
    fp = f" #{cred.secret.fingerprint}" if cred.secret else ""
    return f"the credential from {cred.location.display(ctx.home)}{user}{fp}"


def _evidence(r: ProbeResult) -> str:
    line = r.detail or r.url
    status = f"{r.status}" if r.status is not None else r.outcome
    line += f" -> {status}"
    if r.facts.get("challenge"):
        line += f" (challenge {r.facts['challenge']} realm={r.facts.get('realm', '')!r})"
    elif r.status in (401, 403) and "challenge" in r.facts:
        line += " (no challenge)"
    if r.facts.get("auth_withheld"):
        line += f"; credential not sent to {', '.join(r.facts['auth_withheld'])} after a redirect"
    msg = r.facts.get("server_message")
    if msg and r.outcome != "ok":
        line += f': "{msg}"'
    return line


def _har_registry(index: str) -> str | None:
    try:
        from hardoctor_harness import parse_har_url
    except ImportError:  # pragma: no cover
        return None
    har = parse_har_url(index, oci=False)
    return har.registry if har is not None else None


def _store_remediation(res: Resolution, har: bool) -> Remediation:
    url = urls.parse_index_url(res.target.url or "")
    host = url.hostname if url else "HOST"
    user = "EMAIL" if har else "USER"
    if res.client == "uv":
        return Remediation("Give uv credentials for this index.", steps=(
            "Name the index ([[tool.uv.index]] name = \"...\") and set UV_INDEX_<NAME>_USERNAME and "
            "UV_INDEX_<NAME>_PASSWORD, or use ~/.netrc.",),
            commands=("read -rs TOKEN",
                      f"printf 'machine {host}\\n  login {user}\\n  password %s\\n' \"$TOKEN\" >> "
                      "~/.netrc && chmod 600 ~/.netrc"))
    if res.client == "poetry":
        name = res.target.name or "SOURCE"
        return Remediation("Give Poetry credentials for this source.",
                           commands=("read -rs TOKEN",
                                     f"poetry config http-basic.{name} {user} \"$TOKEN\""))
    return Remediation(
        "Store the credentials where pip finds them: ~/.netrc (all tools), or a keyring.",
        steps=("pip sends ~/.netrc credentials up front; a keyring is asked only after a 401 and "
               "only when pip may prompt (not with --no-input).",),
        commands=("read -rs TOKEN",
                  f"printf 'machine {host}\\n  login {user}\\n  password %s\\n' \"$TOKEN\" >> "
                  "~/.netrc && chmod 600 ~/.netrc"),
    )


def _token_remediation(ctx: Context, res: Resolution, har: bool) -> Remediation:
    cred = res.credential
    where = cred.location.display(ctx.home) if cred else "the configuration"
    if har and cred is not None:
        from hardoctor_harness import token_remediation

        return token_remediation("Create a new token and store it where the client reads it.",
                                 cred, where, registry=_har_registry(res.target.url or ""), home=ctx.home)
    return Remediation(
        f"Check the username and password stored in {where}.",
        steps=("Run the same request by hand: curl -u USER -o /dev/null -w '%{http_code}' "
               f"{urls.display(res.target.url or res.registry)}/",
               "If the password is right, ask the index's admin whether the account may read it."),
    )
