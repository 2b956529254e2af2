"""The OCI pull walk: what ``docker pull`` (and every OCI client) does on the wire.

The walk mirrors the Docker daemon (``distribution/registry/client/auth``):

1. ``GET /v2/`` unauthenticated -- the "ping" that collects the challenge;
2. ``Bearer`` challenge: ask the token endpoint (the challenge's realm) with
   the credential -- Basic, or the OAuth refresh-token grant for an
   ``identitytoken`` -- for ``repository:NAME:pull`` (``pull,push`` with
   ``--push``); a ``registrytoken`` skips this and is sent as-is;
   ``Basic`` challenge: send the credential on each request;
3. ``HEAD /v2/NAME/manifests/REF`` with the manifest media types (``GET``
   when HEAD is not allowed, or to read the error code HEAD cannot carry).

Without an image the walk is ``docker login``'s: ``/v2/``, the token
endpoint without scope, and ``/v2/`` again with the token.

Every result carries ``facts["step"]`` (``ping``, ``token``, ``manifest``,
``tags``, ``login``, ``preemptive``); a result where the registry refused
the credential itself carries ``facts["credential_refused"] = True`` -- the
fact a client plugin may read to know a credential is bad without knowing
the protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hardoctor.model import ProbeResult
from hardoctor.probe.classify import find_challenge

from .spec import WalkSpec
from .token import ask_token

if TYPE_CHECKING:
    from hardoctor.probe.classify import Challenge
    from hardoctor.probe.session import Auth, Exchange, ProbeResponse, ProbeSession

#: What Docker 24+ sends: every manifest and index type it can pull.
MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    )
)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class _Stop:
    """The walk cannot go on (the client gives up here too)."""


_STOP = _Stop()


async def walk(session: ProbeSession, spec: WalkSpec) -> list[ProbeResult]:
    """Run the pull (or login) walk; one ProbeResult per request that matters."""
    results: list[ProbeResult] = []
    pinged = await _ping(session, spec, results)
    if pinged is None:
        return results
    base, challenges = pinged
    auth = await _registry_auth(session, spec, base, challenges, results) if challenges is not None \
        else None
    if not isinstance(auth, _Stop):
        await _final(session, spec, base, auth, results)
    via_token = any(r.facts.get("step") == "token" for r in results)
    return [_mark_refused(spec, r, via_token) for r in results]


async def _ping(
    session: ProbeSession, spec: WalkSpec, results: list[ProbeResult]
) -> tuple[str, list[Challenge] | None] | None:
    """``GET /v2/``: (base URL, the challenges of a 401 -- ``None`` for an
    open registry), or ``None`` when the walk ends here."""
    from hardoctor.probe.classify import TransportFailure
    from hardoctor.probe.session import to_result

    base = f"https://{spec.api_host}"
    ping = await session.request("GET", base + "/v2/", tls=spec.tls,
                                 fallback_http=spec.tls.plain_http)
    if isinstance(ping, TransportFailure):
        results.append(to_result(ping, credential=None, detail="GET /v2/", facts={"step": "ping"}))
        return None
    if ping.fallback_http:
        base = f"http://{spec.api_host}"
    challenges = ping.challenges() if ping.status == 401 else []
    results.append(_ping_result(ping, challenges))
    if ping.status not in (200, 401):
        return None
    return base, (challenges if ping.status == 401 else None)


async def _registry_auth(
    session: ProbeSession,
    spec: WalkSpec,
    base: str,
    challenges: Sequence[Challenge],
    results: list[ProbeResult],
) -> Auth | _Stop:
    """What the client sends to the registry after a 401 challenge."""
    from hardoctor.probe.session import BearerAuth

    bearer = find_challenge(challenges, "bearer")
    if bearer is not None and bearer.realm:
        if spec.scheme == "registrytoken" and spec.secret is not None:
            return BearerAuth(spec.secret)  # Docker sends it as-is
        granted = await ask_token(session, spec, bearer, base, results)
        return _STOP if granted is None else granted
    if find_challenge(challenges, "basic") is not None:
        # Without a secret Docker says "no basic auth credentials" and sends nothing.
        return _basic(spec) if spec.has_secret else _STOP
    # No challenge: Docker sends nothing.  Learn whether the registry
    # would take the credential preemptively (same origin: safe).
    if spec.has_secret and spec.scheme == "basic":
        results.append(await _get_v2(session, spec, base, _basic(spec), "preemptive",
                                     "GET /v2/ with the credential sent unasked"))
    return _STOP


async def _final(
    session: ProbeSession, spec: WalkSpec, base: str, auth: Auth | None,
    results: list[ProbeResult],
) -> None:
    """The manifest (a pull) or ``/v2/`` again with the token (a login)."""
    if spec.repository:
        manifest = await _manifest(session, spec, base, auth)
        results.append(manifest)
        if manifest.status == 404 and manifest.error_code in (None, "MANIFEST_UNKNOWN"):
            # distribution answers MANIFEST_UNKNOWN for a missing repository too;
            # the tag list (same pull scope, read-only) tells which part is wrong.
            results.append(await _tags(session, spec, base, auth))
    elif auth is not None:
        results.append(await _get_v2(session, spec, base, auth, "login",
                                     f"GET /v2/ with the {_auth_word(auth)}"))


async def _get_v2(
    session: ProbeSession, spec: WalkSpec, base: str, auth: Auth, step: str, detail: str
) -> ProbeResult:
    from hardoctor.probe.session import to_result

    answer = await session.request("GET", base + "/v2/", auth=auth, credential_origin=base,
                                   tls=spec.tls, fallback_http=spec.tls.plain_http)
    facts: dict[str, Any] = {"step": step}
    if step == "login":
        facts.update(_challenge_facts(answer))
    return to_result(answer, credential=None, detail=detail, facts=facts)


def _mark_refused(spec: WalkSpec, r: ProbeResult, via_token: bool) -> ProbeResult:
    """Mark the answer in which the registry refused the credential itself
    (not the principal's rights): the token endpoint's 401/403, or the
    registry's plain 401 for a credential it got directly."""
    if not spec.has_secret:
        return r
    step = r.facts.get("step")
    refused = (step == "token" and r.status in (401, 403)) or (
        step in ("manifest", "login")
        and not via_token  # a refused fresh token is the token service's fault (DKR113)
        and r.status == 401
        and spec.scheme in ("basic", "registrytoken")
        and bool(r.facts.get("auth_sent"))
        and r.facts.get("challenge_error") != "insufficient_scope"
    )
    return replace(r, facts={**r.facts, "credential_refused": True}) if refused else r


def _basic(spec: WalkSpec) -> Auth:
    from hardoctor.probe.session import BasicAuth

    assert spec.secret is not None
    return BasicAuth(spec.username or "", spec.secret)


def _auth_word(auth: Auth | None) -> str:
    from hardoctor.probe.session import BasicAuth

    if auth is None:
        return "no credential"
    return "Basic credential" if isinstance(auth, BasicAuth) else "bearer token"


def _challenge_facts(answer: Exchange) -> dict[str, Any]:
    from hardoctor.probe.session import ProbeResponse

    if not isinstance(answer, ProbeResponse) or answer.status != 401:
        return {}
    challenges = answer.challenges()
    if not challenges:
        return {"challenge": None}
    first = challenges[0]
    facts: dict[str, Any] = {"challenge": first.scheme}
    if first.error:
        facts["challenge_error"] = first.error
    if first.scope:
        facts["challenge_scope"] = first.scope
    return facts


def _ping_result(ping: ProbeResponse, challenges: Sequence[Challenge]) -> ProbeResult:
    from hardoctor.probe.session import to_result

    facts: dict[str, Any] = {"step": "ping"}
    api = ping.header("docker-distribution-api-version")
    if api:
        facts["api_version"] = api
    if ping.status == 200:
        detail = "GET /v2/ answered 200: the registry lets anyone in"
    elif ping.status == 401 and challenges:
        first = challenges[0]
        facts["challenge"] = first.scheme
        if first.realm:
            facts["realm"] = first.realm
        if first.service:
            facts["service"] = first.service
        where = f" from {first.realm}" if first.scheme == "bearer" and first.realm else ""
        detail = f"GET /v2/ answered 401 and asked for {first.scheme.capitalize()} auth{where}"
    elif ping.status == 401:
        facts["no_challenge"] = True
        detail = "GET /v2/ answered 401 without any WWW-Authenticate challenge"
    else:
        detail = f"GET /v2/ answered {ping.status}"
    return to_result(ping, credential=None, detail=detail, facts=facts)


async def _manifest(
    session: ProbeSession,
    spec: WalkSpec,
    base: str,
    auth: Auth | None,
) -> ProbeResult:
    from hardoctor.probe.classify import TransportFailure
    from hardoctor.probe.session import to_result

    url = f"{base}/v2/{spec.repository}/manifests/{spec.reference}"
    kwargs: dict[str, Any] = {
        "auth": auth,
        "credential_origin": base,
        "headers": {"Accept": MANIFEST_ACCEPT},
        "tls": spec.tls,
        "fallback_http": spec.tls.plain_http,
    }
    head = await session.request("HEAD", url, **kwargs)
    final: Exchange = head
    facts: dict[str, Any] = {"step": "manifest", "reference": spec.reference}
    if not isinstance(head, TransportFailure) and (
        head.status == 405 or (head.status >= 400 and head.status != 429)
    ):
        # HEAD carries no body, so no error code: ask again with GET, as a pull does.
        facts["head_status"] = head.status
        again = await session.request("GET", url, **kwargs)
        if not isinstance(again, TransportFailure):
            final = again
    if isinstance(final, TransportFailure):
        return to_result(final, credential=None, detail=f"HEAD {_path(url)}", facts=facts)
    facts.update(_challenge_facts(final))
    digest = final.header("docker-content-digest")
    if final.status == 200:
        if digest:
            facts["digest"] = digest
        ctype = final.header("content-type")
        if ctype:
            facts["media_type"] = ctype.split(";")[0].strip()
    detail = f"{final.method} {_path(url)} with the {_auth_word(auth)} answered {final.status}"
    return to_result(final, credential=None, detail=detail, facts=facts)


async def _tags(
    session: ProbeSession,
    spec: WalkSpec,
    base: str,
    auth: Auth | None,
) -> ProbeResult:
    from hardoctor.probe.session import ProbeResponse, to_result

    url = f"{base}/v2/{spec.repository}/tags/list?n=100"
    answer = await session.request(
        "GET", url, auth=auth, credential_origin=base, tls=spec.tls,
        fallback_http=spec.tls.plain_http,
    )
    facts: dict[str, Any] = {"step": "tags"}
    if isinstance(answer, ProbeResponse):
        data = answer.json()
        if answer.status == 200 and isinstance(data, dict):
            tags = data.get("tags")
            tags = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
            facts["repository_exists"] = True
            facts["tags"] = sorted(tags)[-10:]
            facts["tag_count"] = len(tags)
        elif answer.status == 404:
            facts["repository_exists"] = False
        status = f"answered {answer.status}"
    else:
        status = "failed"
    detail = f"GET {_path(url)} (which tags exist) {status}"
    return to_result(answer, credential=None, detail=detail, facts=facts)

