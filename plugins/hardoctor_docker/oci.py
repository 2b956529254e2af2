"""The OCI distribution protocol: walk what ``docker pull`` does, then say why it fails.

:func:`plan` builds the probe (no I/O); the core runs it; :func:`diagnose`
turns the answers into findings with one cause each.  The walk mirrors the
Docker daemon (``distribution/registry/client/auth``):

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

Resolutions that would send the same credential for the same image (Docker,
podman and Helm often share ``~/.docker/config.json``) share one walk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from hardoctor.model import (
    Credential,
    Finding,
    ProbeResult,
    Remediation,
    Resolution,
    Rule,
    Secret,
    Severity,
)
from hardoctor.probe import ProbePlan
from hardoctor.probe.classify import CLOCK_SKEW_LIMIT_S, find_challenge, is_transport_outcome
from hardoctor.probe.rules import transport_finding
from hardoctor.targets import is_hub

if TYPE_CHECKING:
    from hardoctor.context import Context
    from hardoctor.probe.classify import Challenge
    from hardoctor.probe.session import Auth, Exchange, ProbeResponse, ProbeSession

CACHE_KEY = "hardoctor_docker.oci"

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

#: Docker Hub's API lives on another host than its image references.
_HUB_API = "registry-1.docker.io"

_CLIENT_NAMES = {
    "docker": "Docker",
    "podman": "podman",
    "helm": "Helm",
    "skopeo": "skopeo",
    "buildah": "buildah",
    "kubelet": "the kubelet",
}


# -- rules ---------------------------------------------------------------------------


def _rule(
    code: str, name: str, severity: Severity, cause: str | None, summary: str, explain: str
) -> Rule:
    return Rule(
        code=code,
        name=name,
        severity=severity,
        cause=cause,
        summary=summary,
        explain=explain,
        plugin="docker",
    )


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

OCI_RULES: tuple[Rule, ...] = (
    _rule(
        "DKR101",
        "registry-rejected-credential",
        _E,
        "token-invalid",
        "The registry (or its token endpoint) refuses the credential the client sends.",
        """\
What it does
  Walks the pull protocol with the credential the client would use and
  reports a 401 from the token endpoint (or, for Basic-auth registries, from
  the registry) for that credential, when the credential is not known to be
  expired.

Why it matters
  Every pull fails with `unauthorized: authentication required` or
  `invalid username or password`.  The registry does not say why: the token
  was revoked or deleted, mistyped, pasted with a stray character, or belongs
  to another account.

Example
  ~/.docker/config.json:4 holds a token that was deleted in the registry UI;
  https://pkg.harness.io/v2/token answers 401 for it.

Fix
  Create a new token and log in again:
    printf '%s' "$TOKEN" | docker login HOST -u USER --password-stdin
  Update every other copy of the old token (npm, pip, Kubernetes secrets).
  No automatic fix: a new secret has to come from you.
""",
    ),
    _rule(
        "DKR102",
        "registry-credential-expired",
        _E,
        "token-expired",
        "The registry refuses the credential, and the credential is expired.",
        """\
What it does
  Like DKR101, when the refused credential is known to be past its expiry
  (from the token itself, the vendor's API, or an estimate -- the finding
  says which).

Why it matters
  Tokens made for a client setup often live 30 days; pulls work for a month
  and then fail with 401 with nothing changed locally.

Example
  A Harness Setup Client token stored on 2026-01-02 and never renewed.

Fix
  Create a new token (a longer-lived one for machines) and log in again:
    printf '%s' "$TOKEN" | docker login HOST -u USER --password-stdin
  Every copy of a token expires on its own; update them all.
""",
    ),
    _rule(
        "DKR103",
        "registry-requires-login",
        _E,
        "no-credentials",
        "The registry requires authentication and the client has no credential for it.",
        """\
What it does
  Reports a registry that refuses anonymous access (401, or an empty
  anonymous token) while the client resolved no credential for it.  When a
  credential exists under a key the client does not look up, the cause is
  `credential-not-matched` instead.

Why it matters
  Docker prints `no basic auth credentials` or `pull access denied ... may
  require 'docker login'`; nothing is wrong with the image.

Example
  ~/.docker/config.json has `auths["https://pkg.harness.io/v2/"]` while the
  image is pkg.harness.io/acme/docker/web:1.4 (Docker looks up
  `pkg.harness.io`).

Fix
  Log in to exactly the host of the image reference:
    printf '%s' "$TOKEN" | docker login HOST -u USER --password-stdin
""",
    ),
    _rule(
        "DKR104",
        "registry-access-denied",
        _E,
        "permission-denied",
        "Authenticated, but the principal may not pull (or push) this repository.",
        """\
What it does
  Reports a credential the registry accepts whose token grants no access to
  the repository (an empty `access` claim), or that the registry refuses with
  401 `insufficient_scope` or 403 `DENIED`.

Why it matters
  The login works (`docker login` only checks /v2/), the pull does not:
  `denied: requested access to the resource is denied`.  Pipelines are the
  classic case: a manual run uses the triggering user's permissions, while
  webhook, schedule and IDP triggers run as a service account that may lack
  them.  Pulls need read, pushes need write.

Example
  A service account token with no role on registry docker-prod.

Fix
  Grant the principal read (pull) or write (push) on the registry, or use a
  credential of a principal that has it.  No automatic fix.
""",
    ),
    _rule(
        "DKR105",
        "image-not-found",
        _E,
        "not-found",
        "The registry answered 404: account, registry, repository or tag is wrong.",
        """\
What it does
  Reports a 404 for the manifest after authentication succeeded, naming the
  part that is wrong from the error code: ROOT_NOT_FOUND (account),
  REGISTRY_NOT_FOUND (registry), NAME_UNKNOWN (repository -- or the registry
  is not an OCI/Docker registry), MANIFEST_UNKNOWN (tag or digest).

Why it matters
  Docker prints `manifest unknown` or `not found`; with several path segments
  it is not obvious which one is wrong.

Example
  pkg.harness.io/acme/docker-prod/web:1.5 where only 1.4 was pushed.

Fix
  Correct the reference (check the tag list in the registry UI, or
  `skopeo list-tags docker://HOST/REPO`).  No automatic fix.
""",
    ),
    _rule(
        "DKR106",
        "image-blocked-by-policy",
        _E,
        "blocked-by-policy",
        "The registry refuses the image because of a policy (quarantine, firewall).",
        """\
What it does
  Reports a 403 whose message says a policy blocked the artifact
  ("Artifact is quarantined", "blocked due to policy violations").

Why it matters
  It looks like a permission problem, but no credential or role change helps:
  the artifact itself is blocked.

Example
  A base image with a critical CVE quarantined by the dependency firewall.

Fix
  Use an allowed version, or ask the registry's administrators to review the
  quarantine.  No automatic fix.
""",
    ),
    _rule(
        "DKR107",
        "registry-rate-limited",
        _E,
        "rate-limited",
        "The registry throttles requests (429 Too Many Requests).",
        """\
What it does
  Reports a 429 (or TOOMANYREQUESTS) from the registry or its token endpoint.

Why it matters
  Pulls fail intermittently.  Anonymous pulls have far lower limits, so a
  credential that is not sent (or not matched) often shows up as rate
  limiting.

Example
  toomanyrequests: You have reached your pull rate limit (Docker Hub,
  anonymous).

Fix
  Make sure the client sends a credential (docker login HOST), use a mirror,
  or wait.  No automatic fix.
""",
    ),
    _rule(
        "DKR108",
        "registry-clock-skew",
        _W,
        "clock-skew",
        "This machine's clock disagrees with the registry's.",
        """\
What it does
  Compares the registry's `Date` header with this machine's clock, and checks
  a freshly issued token's `nbf`/`exp` against it.

Why it matters
  Bearer tokens live minutes to hours; a clock several minutes off makes
  them "not valid yet" or "expired" on arrival, which the registry reports as
  a plain 401.

Example
  A VM resumed from suspend with its clock 2 hours behind.

Fix
  Synchronise the clock (`timedatectl set-ntp true`, `chronyc makestep`).
""",
    ),
    _rule(
        "DKR109",
        "registry-no-auth-challenge",
        _E,
        "no-credentials",
        "The registry answers 401 without a WWW-Authenticate challenge.",
        """\
What it does
  Reports a 401 from /v2/ that carries no challenge.

Why it matters
  Docker and the other OCI clients send credentials only in answer to a
  challenge, so they never send one here: the registry (or a reverse proxy
  in front of it that strips the header) wants preemptive authentication,
  which these clients do not do.

Example
  A reverse proxy that answers 401 itself instead of passing the registry's
  `WWW-Authenticate: Bearer ...` through.

Fix
  Have the operator return the registry's challenge header (or check that
  the host is the registry host, not a web UI or API host).  No automatic fix.
""",
    ),
    _rule(
        "DKR110",
        "not-a-registry",
        _E,
        "wrong-url",
        "The host does not serve the registry API (/v2/ answers 404).",
        """\
What it does
  Reports a host whose /v2/ endpoint does not exist.

Why it matters
  It is not an OCI registry host: a web UI, an API host, or a package
  endpoint meant for npm/pip/Maven.

Example
  app.harness.io/acme/docker-prod/web:1.4 instead of pkg.harness.io/...

Fix
  Use the registry host from the registry's "Set up client" page.
  No automatic fix.
""",
    ),
    _rule(
        "DKR111",
        "registry-server-error",
        _E,
        "connection-error",
        "The registry or its token endpoint answered with a server error.",
        """\
What it does
  Reports a 5xx, or an answer that makes no sense for the protocol (a token
  endpoint that returns no token, a redirect loop).

Why it matters
  The failure is on the registry side, not the credential's.

Example
  503 Service Unavailable from the token endpoint during an outage.

Fix
  Retry later; check the registry's status page.  No automatic fix.
""",
    ),
    _rule(
        "DKR112",
        "credential-sent-to-token-service",
        _I,
        None,
        "The client sends the registry credential to a token service on another origin.",
        """\
What it does
  Notes that the registry's challenge points at a token service (the realm)
  on another scheme, host or port, and that the client sends the registry
  credential there -- Docker does, as the token protocol requires.

Why it matters
  The credential's exposure is wider than the registry host; over plain http
  it travels unencrypted.  hardoctor sends it only where the client would.

Example
  registry.example.com challenging with realm="https://auth.example.com/token".

Fix
  Nothing to fix when the token service is the registry's own; make sure the
  realm uses https.
""",
    ),
    _rule(
        "DKR113",
        "registry-refuses-issued-token",
        _E,
        "token-invalid",
        "The registry refuses a token its own token endpoint just issued.",
        """\
What it does
  Reports a registry that answers 401 `invalid_token` for a token fresh from
  the token endpoint named in its own challenge.

Why it matters
  Every pull fails although the credential is fine: the token endpoint signs
  tokens the registry does not trust (issuer, key or audience mismatch), or
  issues them already expired.

Example
  A token service rotated its signing key and the registry still has the old
  certificate bundle.

Fix
  The registry's operator must fix the token configuration; when only this
  machine is affected, check its clock.  No automatic fix.
""",
    ),
)


# -- the walk --------------------------------------------------------------------


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

    @property
    def key(self) -> tuple[Any, ...]:
        return (
            self.secret.fingerprint if self.secret else None,
            self.username,
            self.scheme,
            self.api_host,
            self.repository,
            self.reference,
            self.push,
        )

    @property
    def has_secret(self) -> bool:
        return self.secret is not None and bool(self.secret) and self.scheme != "none"


def _auth_scheme(cred: Credential | None) -> str:
    if cred is None or cred.secret is None or not cred.secret:
        return "none"
    scheme = (cred.scheme or "basic").lower()
    if scheme in ("helper", "basic"):
        return "basic"
    if scheme in ("bearer", "registrytoken"):
        return "registrytoken"
    if scheme == "identitytoken":
        return "identitytoken"
    return "none" if scheme == "none" else "basic"


def spec_for(resolution: Resolution, ctx: Context) -> WalkSpec | None:
    target = resolution.target
    if target.kind not in ("image", "registry") or not target.host:
        return None
    cred = resolution.credential
    api_host = _HUB_API if is_hub(target.host) else target.host
    repository = target.name if target.kind == "image" else None
    reference = (target.reference or "latest") if repository else None
    scheme = _auth_scheme(cred)
    return WalkSpec(
        host=target.host,
        api_host=api_host,
        repository=repository,
        reference=reference,
        push=bool(ctx.options.push),
        username=cred.username if cred and scheme != "none" else None,
        secret=cred.secret if cred and scheme != "none" else None,
        scheme=scheme,
    )


class _SharedWalk:
    """One walk awaited by every resolution that shares its spec.  The task
    is tied to the event loop it started on, so a second ``run_plans`` (a new
    loop) walks again instead of awaiting a dead loop's task."""

    def __init__(self, spec: WalkSpec) -> None:
        self.spec = spec
        self._task: asyncio.Task[list[ProbeResult]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def results(self, session: ProbeSession) -> list[ProbeResult]:
        loop = asyncio.get_running_loop()
        if self._task is None or self._loop is not loop:
            self._loop = loop
            self._task = loop.create_task(walk(session, self.spec))
        # shield: one waiter cancelled by the deadline must not cancel the others'.
        return await asyncio.shield(self._task)


def plan(resolution: Resolution, ctx: Context) -> list[ProbePlan]:
    """The probe for one resolution: one plan running the pull walk."""
    spec = spec_for(resolution, ctx)
    if spec is None:
        return []
    walks: dict[tuple[Any, ...], _SharedWalk] = ctx.cache.setdefault(CACHE_KEY, {})
    shared = walks.get(spec.key)
    if shared is None:
        shared = walks[spec.key] = _SharedWalk(spec)
    cred_id = resolution.credential.id if resolution.credential else None

    async def run(session: ProbeSession) -> list[ProbeResult]:
        results = await shared.results(session)
        return [replace(r, credential=cred_id) for r in results]

    what = f"{spec.repository}:{spec.reference}" if spec.repository else "login"
    return [
        ProbePlan(
            url=f"https://{spec.api_host}/v2/",
            credential=cred_id,
            run=run,
            description=f"OCI pull walk for {spec.host} ({what})",
        )
    ]


def _scope(spec: WalkSpec) -> str | None:
    if not spec.repository:
        return None
    return f"repository:{spec.repository}:{'pull,push' if spec.push else 'pull'}"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def walk(session: ProbeSession, spec: WalkSpec) -> list[ProbeResult]:
    """Run the pull (or login) walk; one ProbeResult per request that matters."""
    from hardoctor.probe.classify import TransportFailure
    from hardoctor.probe.session import BearerAuth, to_result

    results: list[ProbeResult] = []
    tls = session.docker_tls(spec.host)
    insecure = session.docker_insecure(spec.host)
    base = f"https://{spec.api_host}"

    ping = await session.request("GET", base + "/v2/", tls=tls, fallback_http=insecure)
    if isinstance(ping, TransportFailure):
        results.append(to_result(ping, credential=None, detail="GET /v2/", facts={"step": "ping"}))
        return results
    if ping.fallback_http:
        base = f"http://{spec.api_host}"
    challenges = ping.challenges() if ping.status == 401 else []
    bearer = find_challenge(challenges, "bearer")
    basic = find_challenge(challenges, "basic")
    results.append(_ping_result(ping, challenges))
    if ping.status not in (200, 401):
        return results

    registry_auth: Auth | None = None
    if ping.status == 401:
        if bearer is not None and bearer.realm:
            if spec.scheme == "registrytoken" and spec.secret is not None:
                registry_auth = BearerAuth(spec.secret)  # Docker sends it as-is
            else:
                granted = await _token(session, spec, bearer, base, tls, results)
                if granted is None:
                    return results
                registry_auth = granted
        elif basic is not None:
            if not spec.has_secret:
                return results  # Docker: "no basic auth credentials", nothing sent
            registry_auth = _basic(spec)
        else:
            # No challenge: Docker sends nothing.  Learn whether the registry
            # would take the credential preemptively (same origin: safe).
            if spec.has_secret and spec.scheme == "basic":
                pre = await session.request(
                    "GET",
                    base + "/v2/",
                    auth=_basic(spec),
                    credential_origin=base,
                    tls=tls,
                    fallback_http=insecure,
                )
                results.append(
                    to_result(
                        pre,
                        credential=None,
                        detail="GET /v2/ with the credential sent unasked",
                        facts={"step": "preemptive"},
                    )
                )
            return results

    if spec.repository:
        manifest = await _manifest(session, spec, base, registry_auth, tls, insecure)
        results.append(manifest)
        if manifest.status == 404 and manifest.error_code in (None, "MANIFEST_UNKNOWN"):
            # distribution answers MANIFEST_UNKNOWN for a missing repository too;
            # the tag list (same pull scope, read-only) tells which part is wrong.
            results.append(await _tags(session, spec, base, registry_auth, tls, insecure))
    elif registry_auth is not None:
        login = await session.request(
            "GET",
            base + "/v2/",
            auth=registry_auth,
            credential_origin=base,
            tls=tls,
            fallback_http=insecure,
        )
        results.append(
            to_result(
                login,
                credential=None,
                detail=f"GET /v2/ with the {_auth_word(registry_auth)}",
                facts={"step": "login", **_challenge_facts(login)},
            )
        )
    return results


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


async def _token(
    session: ProbeSession,
    spec: WalkSpec,
    challenge: Challenge,
    base: str,
    tls: Any,
    results: list[ProbeResult],
) -> Auth | None:
    """Ask the realm for a token; append its result; return the token as
    registry auth, or None when the walk cannot go on."""
    from hardoctor.probe.session import (
        BasicAuth,
        BearerAuth,
        ProbeResponse,
        origin,
        origin_text,
        to_result,
    )
    from hardoctor.tokens import jwt_claims

    realm = challenge.realm or ""
    scope = _scope(spec)
    facts: dict[str, Any] = {"step": "token", "realm": realm}
    if challenge.service:
        facts["service"] = challenge.service
    if scope:
        facts["scope"] = scope
    if urlsplit(realm).scheme.lower() not in ("http", "https") or not urlsplit(realm).hostname:
        results.append(
            ProbeResult(
                url=realm or base + "/v2/",
                outcome="error",
                detail=f"the challenge's realm {realm!r} is not a usable URL",
                facts=facts,
            )
        )
        return None
    foreign = origin(realm) != origin(base)
    if foreign:
        facts["realm_origin"] = origin_text(origin(realm))
    if spec.has_secret:
        # Docker sends the registry credential to the realm wherever it is:
        # the token protocol has no other way.  We do the same, and say so.
        facts["credential_sent"] = True
        facts["credential_sent_to_other_origin"] = foreign
        if urlsplit(realm).scheme.lower() == "http":
            facts["realm_plaintext"] = True

    answer: Exchange
    if spec.scheme == "identitytoken" and spec.secret is not None:
        form: dict[str, str | Secret] = {
            "grant_type": "refresh_token",
            "refresh_token": spec.secret,
            "client_id": "docker",
        }
        if challenge.service:
            form["service"] = challenge.service
        if scope:
            form["scope"] = scope
        facts["grant"] = "refresh_token"
        answer = await session.request("POST", realm, form=form, credential_origin=realm, tls=tls)
        detail_what = "the identity (refresh) token"
    else:
        params: list[tuple[str, str]] = []
        if challenge.service:
            params.append(("service", challenge.service))
        if scope:
            params.append(("scope", scope))
        auth: Auth | None = None
        if spec.has_secret:
            auth = BasicAuth(spec.username or "", spec.secret)  # type: ignore[arg-type]
            if spec.username:
                params.append(("account", spec.username))
        url = realm + (("&" if "?" in realm else "?") + urlencode(params) if params else "")
        answer = await session.request("GET", url, auth=auth, credential_origin=realm, tls=tls)
        detail_what = "the credential" if auth else "no credential (anonymous)"

    if isinstance(answer, ProbeResponse) and answer.status == 200:
        data = answer.json()
        token = None
        if isinstance(data, dict):
            token = data.get("token") or data.get("access_token")
            if isinstance(data.get("expires_in"), (int, float)):
                facts["expires_in"] = data["expires_in"]
        if not isinstance(token, str) or not token:
            results.append(
                to_result(
                    answer,
                    credential=None,
                    outcome="error",
                    detail=f"the token endpoint {realm} answered 200 without a token",
                    facts={**facts, "no_token": True},
                )
            )
            return None
        secret = Secret(token)  # registers it with redact: never shown anywhere
        facts.update(_token_facts(jwt_claims(token), spec, answer))
        granted = facts.get("granted")
        what = (
            f"granted {','.join(granted) or 'nothing'} on {spec.repository}"
            if granted is not None and spec.repository
            else "issued a token"
        )
        results.append(
            to_result(
                answer,
                credential=None,
                detail=f"the token endpoint {realm} {what} for {detail_what}",
                facts=facts,
            )
        )
        return BearerAuth(secret)
    if isinstance(answer, ProbeResponse):
        detail = f"the token endpoint {realm} answered {answer.status} for {detail_what}"
    else:
        detail = f"the token endpoint {realm}"
    results.append(to_result(answer, credential=None, detail=detail, facts=facts))
    return None


def _token_facts(
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
            actions: list[str] = []
            for entry in access:
                if (
                    isinstance(entry, dict)
                    and entry.get("type") == "repository"
                    and entry.get("name") == spec.repository
                    and isinstance(entry.get("actions"), list)
                ):
                    actions += [a for a in entry["actions"] if isinstance(a, str)]
            facts["granted"] = sorted(set(actions))
    now = datetime.now(timezone.utc).timestamp()
    server_now = now + (answer.date_skew_s or 0.0) if answer.date_skew_s is not None else None
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if isinstance(exp, (int, float)) and not isinstance(exp, bool):
        facts["token_exp"] = int(exp)
        if exp <= now:
            facts["token_expired_on_arrival"] = True
        if server_now is not None and exp <= server_now:
            facts["token_expired_by_server_clock"] = True
    if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) and nbf > now + 60:
        facts["token_not_yet_valid"] = True
    return facts


async def _manifest(
    session: ProbeSession,
    spec: WalkSpec,
    base: str,
    auth: Auth | None,
    tls: Any,
    insecure: bool,
) -> ProbeResult:
    from hardoctor.probe.classify import TransportFailure
    from hardoctor.probe.session import to_result

    url = f"{base}/v2/{spec.repository}/manifests/{spec.reference}"
    kwargs: dict[str, Any] = {
        "auth": auth,
        "credential_origin": base,
        "headers": {"Accept": MANIFEST_ACCEPT},
        "tls": tls,
        "fallback_http": insecure,
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
    tls: Any,
    insecure: bool,
) -> ProbeResult:
    from hardoctor.probe.session import ProbeResponse, to_result

    url = f"{base}/v2/{spec.repository}/tags/list?n=100"
    answer = await session.request(
        "GET", url, auth=auth, credential_origin=base, tls=tls, fallback_http=insecure
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


# -- diagnosis --------------------------------------------------------------------


def diagnose(resolution: Resolution, results: Sequence[ProbeResult], ctx: Context) -> list[Finding]:
    """Findings for one resolution from its walk's results (none when the
    walk did not run, e.g. offline)."""
    if not results or spec_for(resolution, ctx) is None:
        return []
    return _Diagnosis(resolution, results, ctx).run()


def _steps(results: Sequence[ProbeResult]) -> dict[str, ProbeResult]:
    out: dict[str, ProbeResult] = {}
    for r in results:
        step = r.facts.get("step")
        if isinstance(step, str):
            out[step] = r
    return out


class _Diagnosis:
    def __init__(self, res: Resolution, results: Sequence[ProbeResult], ctx: Context) -> None:
        self.res = res
        self.results = list(results)
        self.ctx = ctx
        self.cred = res.credential
        self.target = res.target
        self.host = res.target.host
        self.steps = _steps(results)
        self.spec = spec_for(res, ctx)
        self.client = _CLIENT_NAMES.get(res.client, res.client or "the client")

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
        hub = is_hub(host)
        client = self.res.client
        if client == "helm":
            cmd = f"helm registry login {host}"
        elif client in ("podman", "skopeo", "buildah"):
            cmd = f"{client} login {host}"
        else:
            cmd = "docker login" if hub else f"docker login {host}"
        return f"printf '%s' \"$TOKEN\" | {cmd} -u {user} --password-stdin"

    # -- verdict -------------------------------------------------------------------

    def run(self) -> list[Finding]:
        out: list[Finding] = []
        transport = next(
            (r for r in self.results if is_transport_outcome(r.outcome) or r.status == 407), None
        )
        if transport is not None:
            f = transport_finding(
                self.ctx,
                transport,
                host=self.host,
                what="the registry's token service"
                if transport.facts.get("step") == "token"
                else "the registry",
                ecosystems=("docker",),
                ecosystem=self.res.ecosystem,
            )
            return [f] if f else []
        out += self.realm_notice()
        verdict = self.verdict()
        if verdict is not None:
            out.append(verdict)
        skew = self.clock_skew(verdict)
        if skew is not None:
            out.append(skew)
        return out

    def verdict(self) -> Finding | None:
        ping = self.steps.get("ping")
        if ping is None:
            return None
        if ping.outcome == "rate-limited":
            return self.rate_limited(ping)
        if ping.status == 404:
            return self.finding(
                "DKR110",
                f"{self.host} does not serve the registry API: GET {ping.url} answered 404.",
                why=f"{self.client} talks to /v2/ on the image's host; this host has no "
                "registry there.",
                remediation=Remediation(
                    summary="Use the registry host from the registry's set-up instructions.",
                    steps=("Check the host part of the image reference or registry URL.",),
                ),
            )
        if ping.status is not None and ping.status not in (200, 401):
            return self.server_error(ping)
        if ping.facts.get("no_challenge"):
            return self.no_challenge(ping)
        if ping.facts.get("challenge") == "basic" and not (self.spec and self.spec.has_secret):
            return self.no_credentials(ping)
        token = self.steps.get("token")
        if token is not None and token.outcome != "ok":
            return self.token_failed(token)
        final = self.steps.get("manifest") or self.steps.get("login")
        if final is None:
            return None
        if final.outcome == "ok":
            return self.push_check(token)
        return self.final_failed(final, token)

    # -- the pieces ------------------------------------------------------------------

    def realm_notice(self) -> list[Finding]:
        token = self.steps.get("token")
        if token is None or not token.facts.get("credential_sent_to_other_origin"):
            return []
        realm = str(token.facts.get("realm", ""))
        plain = " over plain http" if token.facts.get("realm_plaintext") else ""
        return [
            self.finding(
                "DKR112",
                # Client-neutral wording: every client of the registry does
                # this, and one finding per credential and realm is enough.
                f"Registry clients send {self.where()} to the token service "
                f"{token.facts.get('realm_origin', realm)}{plain}, not only to {self.host}: "
                "the registry's challenge names it as the realm.",
                why="The Docker token protocol sends the registry credential to the realm of "
                "the challenge, wherever it is.",
                evidence=[f"GET /v2/ on {self.host} challenged with realm {realm}"],
            )
        ]

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

    def token_failed(self, token: ProbeResult) -> Finding:
        realm = str(token.facts.get("realm") or token.url)
        if token.outcome == "rate-limited":
            return self.rate_limited(token)
        if token.status in (401, 403):
            if self.spec and self.spec.has_secret and self.cred is not None:
                return self.credential_refused(f"The token endpoint at {realm}", token.status)
            return self.no_credentials(token)
        return self.server_error(token)

    def final_failed(self, final: ProbeResult, token: ProbeResult | None) -> Finding | None:
        has_secret = bool(self.spec and self.spec.has_secret and self.cred is not None)
        anon_empty = token is not None and not has_secret and token.facts.get("granted") == []
        if final.outcome == "rate-limited":
            return self.rate_limited(final)
        if final.outcome == "not-found":
            return self.not_found(final)
        if final.outcome == "forbidden":
            if final.facts.get("policy"):
                msg = final.facts.get("server_message") or "blocked by policy"
                return self.finding(
                    "DKR106",
                    f'{self.image} is blocked by a registry policy: "{msg}" '
                    f"({final.status}{' ' + final.error_code if final.error_code else ''}).",
                    why="The artifact itself is refused; no credential or role change helps.",
                    remediation=Remediation(
                        summary="Use an allowed version, or ask the registry's administrators "
                        "to review the quarantine or policy.",
                    ),
                )
            if not has_secret:
                return self.no_credentials(final, anonymous_grant=anon_empty)
            return self.permission_denied(final)
        if final.outcome == "unauthorized":
            error = final.facts.get("challenge_error")
            if error == "insufficient_scope":
                if not has_secret:
                    return self.no_credentials(final, anonymous_grant=anon_empty)
                return self.permission_denied(
                    token if token is not None and _empty_grant(token) else final
                )
            if not has_secret:
                return self.no_credentials(final, anonymous_grant=anon_empty)
            if not final.facts.get("auth_sent"):
                # /v2/ let us in without a challenge, so (like Docker) nothing was sent.
                return self.no_challenge(final, open_ping=True)
            scheme = self.spec.scheme if self.spec else "basic"
            if token is not None and scheme != "registrytoken":
                return self.issued_token_refused(final, token)
            where = (
                f"{self.host} (the token sent as Bearer)"
                if scheme == "registrytoken"
                else f"{self.host}"
            )
            return self.credential_refused(f"The registry {where}", final.status)
        return self.server_error(final)

    def issued_token_refused(self, final: ProbeResult, token: ProbeResult) -> Finding:
        if token.facts.get("token_expired_on_arrival") and not token.facts.get(
            "token_expired_by_server_clock"
        ):
            return self.finding(
                "DKR108",
                f"The token {self.host}'s token service issued was already expired by this "
                "machine's clock, and the registry refused it: this machine's clock is wrong.",
                severity=Severity.ERROR,
                why="Bearer tokens live minutes; a clock that is off makes them invalid.",
                remediation=_clock_remediation(),
            )
        if token.facts.get("token_not_yet_valid"):
            return self.finding(
                "DKR108",
                f"The token {self.host}'s token service issued is not valid yet by this "
                "machine's clock: this machine's clock is behind.",
                severity=Severity.ERROR,
                why="Bearer tokens are refused before their `nbf` time.",
                remediation=_clock_remediation(),
            )
        why = (
            "the token service issues tokens that are already expired"
            if token.facts.get("token_expired_by_server_clock")
            else "the registry does not trust its token service's signature, issuer or audience"
        )
        return self.finding(
            "DKR113",
            f"{self.host} refused the token its own token service "
            f"{token.facts.get('realm', '')} had just issued for {self.where()} "
            f"({final.status} {final.facts.get('challenge_error') or ''}".rstrip()
            + f"): {why}.",
            why=f"{self.client} fails with 401 for every pull although the credential is "
            "accepted by the token service.",
            remediation=Remediation(
                summary="The registry's operator must fix the token configuration "
                "(signing certificate, issuer, service name, token lifetime).",
            ),
        )

    def push_check(self, token: ProbeResult | None) -> Finding | None:
        if not (self.spec and self.spec.push) or token is None:
            return None
        granted = token.facts.get("granted")
        if granted is None or "push" in granted:
            return None  # not a JWT with access claims: we never write to find out
        if not (self.spec.has_secret and self.cred is not None):
            return self.no_credentials(token, anonymous_grant=True)
        return self.permission_denied(token, action="push")

    def clock_skew(self, verdict: Finding | None) -> Finding | None:
        if verdict is not None and verdict.rule == "DKR108":
            return None
        skews = [
            float(r.facts["date_skew_s"])
            for r in self.results
            if isinstance(r.facts.get("date_skew_s"), (int, float))
        ]
        if not skews:
            return None
        worst = max(skews, key=abs)
        if abs(worst) <= CLOCK_SKEW_LIMIT_S:
            return None
        direction = "behind" if worst > 0 else "ahead of"
        return self.finding(
            "DKR108",
            f"This machine's clock is {_duration(abs(worst))} {direction} {self.host}'s "
            "(its Date header): tokens can look expired or not yet valid.",
            location=None,
            credential=None,
            why="Bearer tokens are checked against the clock; more than a few minutes of "
            "difference breaks them.",
            evidence=[f"{self.host} Date header differs by {worst:+.0f} s"],
            remediation=_clock_remediation(),
        )


def _empty_grant(token: ProbeResult | None) -> bool:
    return token is not None and token.facts.get("granted") == []


def _duration(seconds: float) -> str:
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 90:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"


def _clock_remediation() -> Remediation:
    return Remediation(
        summary="Synchronise this machine's clock.",
        steps=("Turn on time synchronisation (NTP) and check the time zone setting.",),
        commands=("timedatectl set-ntp true", "date -u"),
    )
