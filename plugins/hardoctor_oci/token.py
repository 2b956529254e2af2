"""The token-service step of the OCI walk: ask the challenge's realm for a
bearer token with the client's credential, and read what the token grants.

Docker sends the registry credential to the realm wherever it is -- the
token protocol has no other way; the walk does the same and records it
(``credential_sent_to_other_origin``, DKR112).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from hardoctor.model import ProbeResult, Secret

from .spec import WalkSpec

if TYPE_CHECKING:
    from hardoctor.probe.classify import Challenge
    from hardoctor.probe.session import Auth, Exchange, ProbeResponse, ProbeSession


async def ask_token(
    session: ProbeSession,
    spec: WalkSpec,
    challenge: Challenge,
    base: str,
    results: list[ProbeResult],
) -> Auth | None:
    """Ask the realm for a token; append its result; return the token as
    registry auth, or None when the walk cannot go on."""
    from hardoctor.probe.session import BearerAuth, ProbeResponse, to_result

    realm = challenge.realm or ""
    facts = _request_facts(spec, challenge, base)
    if facts is None:
        results.append(ProbeResult(
            url=realm or base + "/v2/",
            outcome="error",
            detail=f"the challenge's realm {realm!r} is not a usable URL",
            facts={"step": "token", "realm": realm},
        ))
        return None
    answer, what = await _request(session, spec, challenge)
    if not (isinstance(answer, ProbeResponse) and answer.status == 200):
        detail = f"the token endpoint {realm}"
        if isinstance(answer, ProbeResponse):
            detail += f" answered {answer.status} for {what}"
        results.append(to_result(answer, credential=None, detail=detail, facts=facts))
        return None
    token = _token_of(answer, facts)
    if token is None:
        results.append(to_result(
            answer, credential=None, outcome="error",
            detail=f"the token endpoint {realm} answered 200 without a token",
            facts={**facts, "no_token": True},
        ))
        return None
    secret = Secret(token)  # registers it with redact: never shown anywhere
    from hardoctor.tokens import jwt_claims

    facts.update(token_facts(jwt_claims(token), spec, answer))
    granted = facts.get("granted")
    got = (
        f"granted {','.join(granted) or 'nothing'} on {spec.repository}"
        if granted is not None and spec.repository
        else "issued a token"
    )
    results.append(to_result(answer, credential=None,
                             detail=f"the token endpoint {realm} {got} for {what}", facts=facts))
    return BearerAuth(secret)


def _request_facts(spec: WalkSpec, challenge: Challenge, base: str) -> dict[str, Any] | None:
    """Facts about the token request; ``None`` when the realm is no URL."""
    from hardoctor.probe.session import origin, origin_text

    realm = challenge.realm or ""
    parts = urlsplit(realm)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    facts: dict[str, Any] = {"step": "token", "realm": realm}
    if challenge.service:
        facts["service"] = challenge.service
    if spec.scope:
        facts["scope"] = spec.scope
    foreign = origin(realm) != origin(base)
    if foreign:
        facts["realm_origin"] = origin_text(origin(realm))
    if spec.has_secret:
        facts["credential_sent"] = True
        facts["credential_sent_to_other_origin"] = foreign
        if parts.scheme.lower() == "http":
            facts["realm_plaintext"] = True
    if spec.scheme == "identitytoken" and spec.secret is not None:
        facts["grant"] = "refresh_token"
    return facts


async def _request(
    session: ProbeSession, spec: WalkSpec, challenge: Challenge
) -> tuple[Exchange, str]:
    """Send the token request the client would; (answer, what was sent)."""
    from hardoctor.probe.session import BasicAuth

    realm = challenge.realm or ""
    if spec.scheme == "identitytoken" and spec.secret is not None:
        form: dict[str, str | Secret] = {
            "grant_type": "refresh_token",
            "refresh_token": spec.secret,
            "client_id": "docker",
        }
        if challenge.service:
            form["service"] = challenge.service
        if spec.scope:
            form["scope"] = spec.scope
        answer = await session.request("POST", realm, form=form, credential_origin=realm,
                                       tls=spec.tls)
        return answer, "the identity (refresh) token"
    params: list[tuple[str, str]] = []
    if challenge.service:
        params.append(("service", challenge.service))
    if spec.scope:
        params.append(("scope", spec.scope))
    auth: Auth | None = None
    if spec.has_secret and spec.secret is not None:
        auth = BasicAuth(spec.username or "", spec.secret)
        if spec.username:
            params.append(("account", spec.username))
    url = realm + (("&" if "?" in realm else "?") + urlencode(params) if params else "")
    answer = await session.request("GET", url, auth=auth, credential_origin=realm, tls=spec.tls)
    return answer, "the credential" if auth else "no credential (anonymous)"


def _token_of(answer: ProbeResponse, facts: dict[str, Any]) -> str | None:
    data = answer.json()
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("expires_in"), (int, float)):
        facts["expires_in"] = data["expires_in"]
    token = data.get("token") or data.get("access_token")
    return token if isinstance(token, str) and token else None


def _granted(access: list[Any], repository: str) -> list[str]:
    actions: list[str] = []
    for entry in access:
        if (
            isinstance(entry, dict)
            and entry.get("type") == "repository"
            and entry.get("name") == repository
            and isinstance(entry.get("actions"), list)
        ):
            actions += [a for a in entry["actions"] if isinstance(a, str)]
    return sorted(set(actions))


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def token_facts(
    parsed: tuple[dict[str, Any], dict[str, Any]] | None, spec: WalkSpec, answer: ProbeResponse
) -> dict[str, Any]:
    """Non-secret facts from a granted JWT: the access it grants on the
    repository and whether it was already expired (or not yet valid) when it
    arrived -- by this machine's clock and by the server's ``Date``."""
    if parsed is None:
        return {"token_kind": "opaque"}
    _, claims = parsed
    facts: dict[str, Any] = {"token_kind": "jwt"}
    access = claims.get("access")
    if isinstance(access, list):
        facts["access_claim"] = True
        if spec.repository:
            facts["granted"] = _granted(access, spec.repository)
    now = datetime.now(timezone.utc).timestamp()
    server_now = now + answer.date_skew_s if answer.date_skew_s is not None else None
    exp, nbf = _number(claims.get("exp")), _number(claims.get("nbf"))
    if exp is not None:
        facts["token_exp"] = int(exp)
        if exp <= now:
            facts["token_expired_on_arrival"] = True
        if server_now is not None and exp <= server_now:
            facts["token_expired_by_server_clock"] = True
    if nbf is not None and nbf > now + 60:
        facts["token_not_yet_valid"] = True
    return facts
