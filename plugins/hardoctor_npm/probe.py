"""Ask the registry what npm would ask, with exactly the header npm sends.

For a package: ``GET <registry without trailing slash>/<escaped name>``
(pacote's packument URL) with npm's install ``Accept`` header.  For a
registry without a package name: ``GET <registry>/-/whoami`` when a token is
sent -- a 200 *with a username* proves the token works; verdaccio answers
200 ``{}`` to an unknown token, so a 200 without a user means the token was
not accepted -- otherwise the registry root.

Runs on the shared :class:`~hardoctor.probe.session.ProbeSession` (imported
only when probing: ``--offline`` never loads httpx).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hardoctor.model import ProbeResult, Resolution, Secret
from hardoctor.records import dataclass

from .creds import is_placeholder, quiet_secret, unregistered
from .resolve import Details, details
from .state import State

if TYPE_CHECKING:
    from hardoctor.probe import ProbePlan
    from hardoctor.probe.session import Auth, ProbeSession
    from hardoctor.probe.tls import TLSOptions

ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"


@dataclass(frozen=True)
class Spec:
    url: str
    registry: str
    kind: str  # package | whoami
    scheme: str  # bearer | basic | raw-basic | none
    username: str | None
    secret: Secret | None
    cafile: str | None
    verify: bool
    extra_ca: str | None
    #: npm's ``https-proxy``/``proxy`` (Yarn's ``httpsProxy``/``httpProxy``):
    #: (where it is set, the URL), used instead of HTTPS_PROXY.
    proxy: tuple[str, str] | None = None

    @property
    def key(self) -> tuple[str | bool | None, ...]:
        """Everything the walk depends on; the secret only by fingerprint."""
        return (self.url, self.kind, self.scheme, self.username,
                self.secret.fingerprint if self.secret else None, self.cafile, self.verify,
                self.extra_ca, self.proxy[1] if self.proxy else None)


def _yarn_setting(st: State, name: str) -> tuple[str, str | None] | None:
    """(value, folder of the file) of a top-level Yarn setting: ``YARN_*``
    first, then the closest .yarnrc.yml."""
    env_name = "YARN_" + "".join("_" + c if c.isupper() else c.upper() for c in name)
    if st.npm.env.get(env_name):
        return st.npm.env[env_name], None
    for f in st.yarn_files:
        found = f.root.get(name) if f.root is not None else None
        if found is not None and found[1].kind == "scalar" and isinstance(found[1].value, str):
            return found[1].value, os.path.dirname(os.path.abspath(f.path))
    return None


def _yarn_tls(st: State) -> tuple[str | None, bool, str | None]:
    """Yarn Berry: ``httpsCaFilePath`` (relative to its .yarnrc.yml; 2.x/3.x
    ``caFilePath``) replaces Node's CAs; without it Node's own CAs plus
    ``NODE_EXTRA_CA_CERTS`` apply.  ``enableStrictSsl: false`` turns
    verification off."""
    cafile = None
    for name in ("httpsCaFilePath", "caFilePath"):
        found = _yarn_setting(st, name)
        if found is not None and found[0].strip():
            path = os.path.expanduser(found[0].strip())
            cafile = os.path.join(found[1], path) if found[1] and not os.path.isabs(path) else path
            break
    strict = _yarn_setting(st, "enableStrictSsl")
    verify = strict is None or strict[0].strip().lower() not in ("false", "0")
    extra = st.npm.env.get("NODE_EXTRA_CA_CERTS") or None
    return cafile, verify, extra


def _tls_settings(st: State, client: str) -> tuple[str | None, bool, str | None]:
    if client == "yarn":
        return _yarn_tls(st)
    cfg = st.npm
    cafile = cfg.get("cafile")
    strict = cfg.get("strict-ssl")
    verify = not (strict is False or (isinstance(strict, str) and strict.lower() == "false"))
    extra = cfg.env.get("NODE_EXTRA_CA_CERTS") or None
    if client == "pnpm":
        # pnpm 12 (verified 12.23): NODE_EXTRA_CA_CERTS is added to the system
        # roots; `cafile` reaches the metadata request but not the tarball
        # download, so an install with only `cafile` still fails.
        return None, verify, extra
    # npm 11 (verified 11.19): only `cafile` -- NODE_EXTRA_CA_CERTS is ignored.
    return (cafile if isinstance(cafile, str) and cafile else None), verify, None


def spec_for(res: Resolution, det: Details, st: State) -> Spec:
    cafile, verify, extra = _tls_settings(st, res.client)
    picked = det.picked
    scheme, user, secret = "none", None, None
    if picked is not None and picked.secret:
        if picked.field in ("_auth",) and picked.items:
            raw = picked.items[0].text or ""
            scheme, secret = "raw-basic", quiet_secret(raw)
        elif picked.field == "npmAuthIdent" and det.yarn_setting is not None and \
                ":" not in det.yarn_setting.value:
            scheme, secret = "raw-basic", Secret(det.yarn_setting.value)
        elif picked.scheme == "basic":
            scheme, user, secret = "basic", picked.username or "", quiet_secret(picked.secret)
        else:
            scheme, secret = "bearer", quiet_secret(picked.secret)
    cred = res.credential
    if cred is not None and cred.secret is not None and (
            picked is None or cred.secret.reveal() != picked.secret):
        # Not the configured credential (``fix --token-stdin`` probes the new
        # token in the old one's place): send that one, the way npm would.
        if cred.scheme == "basic":
            scheme, user, secret = "basic", cred.username or "", cred.secret
        else:
            scheme, user, secret = "bearer", None, cred.secret
    proxy = _proxy_setting(st, res.client, det.registry)
    if det.package:
        return Spec(det.request_url, det.registry, "package", scheme, user, secret, cafile,
                    verify, extra, proxy)
    url = det.registry.rstrip("/") + "/-/whoami"
    return Spec(url, det.registry, "whoami", scheme, user, secret, cafile, verify, extra, proxy)


def _proxy_setting(st: State, client: str, registry: str) -> tuple[str, str] | None:
    """The proxy the client's own configuration names for ``registry``
    (npm: ``https-proxy``, falling back to ``proxy``, for https; ``proxy``
    for http.  Yarn Berry: ``httpsProxy`` / ``httpProxy``)."""
    https = registry.lower().startswith("https:")
    if client == "yarn":
        name = "httpsProxy" if https else "httpProxy"
        found = _yarn_setting(st, name)
        value = found[0].strip() if found is not None else ""
        return (f".yarnrc.yml {name}", value) if value else None
    for key in (("https-proxy", "proxy") if https else ("proxy",)):
        value = st.npm.get(key)
        if isinstance(value, str) and value.strip():
            return f"npm config {key}", value.strip()
    return None


def _auth(spec: Spec) -> Auth | None:
    from hardoctor.probe.session import BasicAuth, BearerAuth, HeaderAuth

    if spec.secret is None or spec.scheme == "none":
        return None
    if spec.scheme == "bearer":
        return BearerAuth(spec.secret)
    if spec.scheme == "raw-basic":
        raw = spec.secret.reveal()
        value = "Basic " + raw
        return HeaderAuth("Authorization", unregistered(value) if is_placeholder(raw)
                          else Secret(value))
    return BasicAuth(spec.username or "", spec.secret)


def _tls(spec: Spec) -> TLSOptions:
    from hardoctor.probe.tls import TLSOptions

    if not spec.verify:
        return TLSOptions(verify=False, proxy=spec.proxy)
    if spec.cafile:
        return TLSOptions(cafile=spec.cafile, ignore_env=True, proxy=spec.proxy)
    return TLSOptions(ignore_env=True, extra_cafiles=(spec.extra_ca,) if spec.extra_ca else (),
                      proxy=spec.proxy)


async def run_spec(session: ProbeSession, spec: Spec) -> list[ProbeResult]:
    from hardoctor.probe.classify import TransportFailure
    from hardoctor.probe.session import to_result

    auth = _auth(spec)
    tls = _tls(spec)
    headers = {"Accept": ACCEPT if spec.kind == "package" else "application/json",
               "npm-command": "install" if spec.kind == "package" else "whoami"}
    answer = await session.request("GET", spec.url, auth=auth, headers=headers, tls=tls)
    how = "with " + {"bearer": "a Bearer token", "basic": "Basic auth",
                     "raw-basic": "Basic auth", "none": "no credential"}[spec.scheme]
    if isinstance(answer, TransportFailure):
        return [to_result(answer, credential=None, detail=f"GET {spec.url}",
                          facts={"step": spec.kind})]
    facts: dict[str, Any] = {"step": spec.kind, "sent": spec.scheme}
    outcome = None
    detail = f"GET {spec.url} {how} -> {answer.status}"
    if spec.kind == "whoami" and answer.status == 200:
        data = answer.json()
        user = data.get("username") if isinstance(data, dict) else None
        if isinstance(user, str) and user:
            facts["username"] = user
        elif auth is not None:
            outcome = "unauthorized"
            facts["anonymous_whoami"] = True
            detail += " without a username: the token was not accepted"
    results = [to_result(answer, credential=None, detail=detail, facts=facts, outcome=outcome)]
    if spec.kind == "whoami" and answer.status in (404, 405, 501):
        # No whoami endpoint: the registry root is the next best question.
        root = spec.registry if spec.registry.endswith("/") else spec.registry + "/"
        again = await session.request("GET", root, auth=auth, headers={"Accept": ACCEPT}, tls=tls)
        if isinstance(again, TransportFailure):
            results.append(to_result(again, credential=None, detail=f"GET {root}",
                                      facts={"step": "root"}))
        else:
            results.append(to_result(again, credential=None,
                                      detail=f"GET {root} {how} -> {again.status}",
                                      facts={"step": "root", "sent": spec.scheme}))
    return results


def plan(res: Resolution, st: State) -> Sequence[ProbePlan]:
    from hardoctor.probe import ProbePlan

    det = details(res)
    if det is None:
        return []
    spec = spec_for(res, det, st)
    cred_id = res.credential.id if res.credential else None
    # npm, pnpm and Yarn sending the same credential to the same URL share
    # one walk (the core runs plans with equal keys once).
    return [ProbePlan(url=spec.url, credential=cred_id, run=lambda session: run_spec(session, spec),
                      description=f"{res.client}: GET {spec.url}", key=spec.key)]
