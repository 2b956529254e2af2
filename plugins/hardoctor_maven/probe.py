"""Asking the repository, the way Maven does.

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
(the probe session enforces it), never to a redirect elsewhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from hardoctor.context import Context
from hardoctor.model import (
    Applicability,
    Edit,
    Finding,
    Fix,
    ProbeResult,
    Remediation,
    Resolution,
    Secret,
)

from . import analysis
from .lint import SETTINGS_DOCS, rename_server_fix
from .world import ECO, Endpoint, GradleEndpoint, World, url_host

if TYPE_CHECKING:
    from hardoctor.probe import ProbePlan
    from hardoctor.probe.session import ProbeSession

CACHE = "maven.probes"
LINKS = "maven.resolutions"


def remember(ctx: Context, res: Resolution, ep: Endpoint | GradleEndpoint) -> None:
    """Tie a resolution to its endpoint (kept alive with it, so ids stay unique)."""
    ctx.cache.setdefault(LINKS, {})[id(res)] = (res, ep)


def endpoint_of(ctx: Context, res: Resolution) -> Endpoint | GradleEndpoint | None:
    links = ctx.cache.get(LINKS, {})
    found = links.get(id(res))
    if found is not None and found[0] is res:
        return found[1]
    # The same resolution with another credential (``fix --token-stdin``
    # probes the new token in the old one's place): the same endpoint.
    for known, ep in links.values():
        if replace(known, credential=res.credential) == res:
            return ep
    return None


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

    def key(self) -> tuple[Any, ...]:
        return (self.url, self.username, self.secret.fingerprint if self.secret else None)


class _Shared:
    """One walk awaited by every resolution with the same spec (see the
    Docker plugin's OCI walk for why the task is tied to its loop)."""

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


def plan(res: Resolution, ctx: Context) -> list[ProbePlan]:
    from hardoctor.probe import ProbePlan

    if not res.registry.startswith(("http://", "https://")):
        return []
    cred = res.credential
    secret = cred.secret if cred is not None and cred.secret is not None else None
    spec = Spec(probe_path(res), res.registry, cred.username if cred else None, secret)
    walks: dict[tuple[Any, ...], _Shared] = ctx.cache.setdefault(CACHE, {})
    shared = walks.get(spec.key())
    if shared is None:
        shared = walks[spec.key()] = _Shared(spec)
    cred_id = cred.id if cred else None

    async def run(session: ProbeSession) -> list[ProbeResult]:
        results = await shared.results(session)
        return [replace(r, credential=cred_id if r.facts.get("step") == "credential" else None)
                for r in results]

    return [ProbePlan(url=spec.url, credential=cred_id, run=run,
                      description=f"Maven repository request {spec.url}")]


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


def _challenge(answer: Any) -> dict[str, Any]:
    from hardoctor.probe.classify import TransportFailure

    if isinstance(answer, TransportFailure) or answer.status != 401:
        return {}
    challenges = answer.challenges()
    if not challenges:
        return {}
    facts: dict[str, Any] = {"challenge": challenges[0].scheme}
    if challenges[0].realm:
        facts["realm"] = challenges[0].realm
    return facts


# -- diagnose --------------------------------------------------------------------------


def _step(results: Sequence[ProbeResult], name: str) -> ProbeResult | None:
    return next((r for r in results if r.facts.get("step") == name), None)


def _evidence(results: Sequence[ProbeResult]) -> list[str]:
    out = []
    for r in results:
        what = ("without credentials" if r.facts.get("step") == "anonymous"
                else "with the credential (sent preemptively, as Maven's retry sends it)")
        status = r.status if r.status is not None else r.outcome
        extra = ""
        if r.facts.get("challenge"):
            extra = f" (challenge: {r.facts['challenge']}"
            extra += f' realm="{r.facts["realm"]}")' if r.facts.get("realm") else ")"
        elif r.status == 401:
            extra = " (no WWW-Authenticate challenge)"
        msg = r.facts.get("server_message")
        out.append(f"GET {r.url} {what} -> {status}{extra}" + (f": {msg}" if msg else ""))
    return out


def _har(ctx: Context, host: str) -> bool:
    try:
        from hardoctor_harness import is_har_host
    except ImportError:  # pragma: no cover
        return False
    return is_har_host(host, ctx.options.harness_hosts)


def _server_snippet(server_id: str) -> str:
    return (f"<server><id>{server_id}</id><username>${{env.HARNESS_USERNAME}}</username>"
            f"<password>${{env.HARNESS_TOKEN}}</password></server>")


class Diagnose:
    def __init__(self, w: World, res: Resolution, results: Sequence[ProbeResult],
                 ctx: Context) -> None:
        self.w = w
        self.res = res
        self.results = results
        self.ctx = ctx
        self.anon = _step(results, "anonymous")
        self.cred = _step(results, "credential")
        self.url = res.registry
        self.out: list[Finding] = []

    def add(self, code: str, message: str, **kw: Any) -> None:
        kw.setdefault("ecosystem", ECO)
        kw.setdefault("registry", self.url)
        if self.results:
            kw.setdefault("evidence", _evidence(self.results))
        self.out.append(self.ctx.finding(code, message, **kw))

    # -- common ------------------------------------------------------------------------

    def transport(self) -> bool:
        from hardoctor.probe.classify import is_transport_outcome
        from hardoctor.probe.rules import transport_finding

        for r in self.results:
            if is_transport_outcome(r.outcome) or r.status == 407:
                f = transport_finding(self.ctx, r, host=url_host(self.url) or self.url,
                                      what="the Maven repository", ecosystems=("maven",),
                                      ecosystem=ECO, credential=self.res.credential.id
                                      if self.res.credential else None)
                if f is not None:
                    self.out.append(f)
                return True
        return False

    def answer(self, sent_credential: bool, who: str, where: str) -> None:
        """Findings about the answer Maven ends up with (after its retry)."""
        final = self.cred if sent_credential and self.cred is not None else self.anon
        if final is None or final.status is None:
            return
        cred_id = self.res.credential.id if self.res.credential else None
        loc = self.res.credential.location if self.res.credential else None
        if final.status == 401 and sent_credential:
            self.add(
                "MVN101",
                f"{self.url} rejects the credential {who} sends ({where}): 401.",
                credential=cred_id, location=loc,
                why="Maven's retry with the username and password fails the same way as no "
                    "credentials at all (`status: 401 Unauthorized`): the password is wrong, "
                    "revoked or expired.",
                remediation=Remediation(
                    "Put a valid token in the password.",
                    steps=("Create a new token for the registry.",
                           f"Replace the password in {where} (encrypt it with "
                           "`mvn --encrypt-password` if you use settings-security.xml)."),
                ),
            )
        elif final.status == 403:
            if final.facts.get("policy"):
                self.add("MVN105", f"{self.url} refuses the request by policy: "
                         f"{final.facts.get('server_message', '403')}.", credential=cred_id)
                return
            rem = Remediation("Grant read permission to the token's owner.")
            if _har(self.ctx, url_host(self.url)):
                from hardoctor_harness import parse_har_url, permission_remediation

                har = parse_har_url(self.url, oci=False)
                rem = permission_remediation("pull", har.registry if har else None)
            self.add("MVN102", f"{self.url} accepts the credential {who} sends but refuses "
                     "access: 403.", credential=cred_id, location=loc,
                     why="Authenticated, but the principal may not read this registry.",
                     remediation=rem)
        elif final.status == 404 and self.res.target.kind == "package":
            self.add("MVN104", f"{final.url} does not exist ({self.res.target.raw}): 404.",
                     credential=cred_id,
                     why="Maven reports `Could not find artifact`: wrong repository URL or "
                         "registry, or the artifact is not there.",
                     remediation=Remediation("Check the repository URL and the coordinates."))
        elif final.status == 429:
            self.add("MVN106", f"{self.url} throttles requests: 429.", credential=cred_id)
        elif final.status >= 500:
            self.add("MVN107", f"{self.url} answers {final.status}.", credential=cred_id)


class MavenDiagnose(Diagnose):
    def __init__(self, w: World, res: Resolution, ep: Endpoint,
                 results: Sequence[ProbeResult], ctx: Context) -> None:
        super().__init__(w, res, results, ctx)
        self.ep = ep

    def run(self) -> list[Finding]:
        ep = self.ep
        if self.results and self.transport():
            return self.out
        if ep.server is None:
            self.no_server()
            return self.out
        if not self.results:
            return self.out
        anon, cred = self.anon, self.cred
        assert anon is not None
        view = ep.server
        where = f"<server> {view.id!r} in {self.ctx.display_path(view.entry.path)}"
        if anon.status == 401 or view.server.preemptive:
            # A value Maven cannot send as meant: the lint finding (MVN006/7/12/15)
            # already names why the registry refuses it.
            broken = view.password.state in ("no-master", "wrong-master", "maven4", "env-unset")
            if cred is None or (broken and cred.status == 401):
                return self.out  # no password, or the lint finding names why it fails
            self.answer(True, "Maven", where)
            return self.out
        if anon.status in (403, 404) and cred is not None and cred.status is not None and \
                200 <= cred.status < 300:
            self.add(
                "MVN103",
                f"{self.url} answers {anon.status} without a challenge, so Maven never sends "
                f"the credential of {where}; with it the request succeeds.",
                credential=view.cred_id, location=view.loc(),
                why="Maven sends credentials only after a 401 with WWW-Authenticate.",
                remediation=Remediation(
                    "Make Maven send the credential up front.",
                    steps=("Maven 3.8: add to the <server>: <configuration><httpConfiguration>"
                           "<all><usePreemptive>true</usePreemptive></all></httpConfiguration>"
                           "</configuration>",
                           "Maven 3.9+: run with -Daether.connector.http.preemptiveAuth=true "
                           "(or put it in .mvn/maven.config)."),
                    docs=("https://maven.apache.org/guides/mini/guide-resolver-transport.html",),
                ),
            )
            return self.out
        self.answer(False, "Maven", where)
        return self.out

    def no_server(self) -> None:
        ep = self.ep
        anon = self.anon
        challenged = anon is not None and anon.status == 401
        if anon is not None and not challenged:
            self.answer(False, "Maven", "")
            return
        cands = analysis.candidates(self.w, ep)
        behind = [c for c in cands if c.kind == "behind-mirror"]
        mirror_txt = (f"mirror {ep.mirror.id!r} ({ep.mirror.url})" if ep.mirror is not None
                      else None)
        probe_txt = " The repository asks for credentials (401)." if challenged else ""
        if behind:
            c = behind[0]
            fix = (rename_server_fix(c.view, ep.server_id) if len(cands) == 1
                   and not analysis.claimed_elsewhere(self.w, ep, c.view) else None)
            self.add(
                "MVN003",
                f"<server> {c.view.id!r} has the id of repository {c.repo_id!r}, but "
                f"{mirror_txt} replaces that repository: Maven looks up <server> "
                f"{ep.server_id!r} and finds none.{probe_txt}",
                location=c.view.loc(),
                why="With a mirror in front, Maven authenticates with the mirror's id; the server "
                    "for the repository behind it is never used, and Maven gets 401.",
                remediation=Remediation(
                    f"Rename the server id to {ep.server_id!r} (the mirror's id).",
                    docs=(SETTINGS_DOCS,)),
                fix=fix,
            )
            return
        if cands:
            c = cands[0]
            fix = (rename_server_fix(c.view, ep.server_id) if len(cands) == 1
                   and not analysis.claimed_elsewhere(self.w, ep, c.view) else None)
            target = mirror_txt or f"repository {ep.contacts[0].repo.id!r} ({ep.url})"
            self.add(
                "MVN004",
                f"Maven looks up <server> {ep.server_id!r} for {target}, but the server in "
                f"{self.ctx.display_path(c.view.entry.path)} has id {c.view.id!r}.{probe_txt}",
                location=c.view.loc(),
                why="Server ids are matched exactly; this server is never used, so Maven sends "
                    "no credentials and gets 401.",
                evidence=tuple(_evidence(self.results)) + tuple(
                    f"other server: {x.view.id!r}" for x in cands[1:]),
                remediation=Remediation(f"Rename the server id to {ep.server_id!r}.",
                                        docs=(SETTINGS_DOCS,)),
                fix=fix,
            )
            return
        if not analysis.needs_server(ep) and not challenged:
            return
        har = _har(self.ctx, ep.host)
        if not challenged and not har and self.results:
            return
        what = mirror_txt or f"{ep.contacts[0].describe()} ({ep.url})"
        from hardoctor.model import Severity

        self.add(
            "MVN002",
            f"No <server> with id {ep.server_id!r} for {what}: Maven sends no credentials."
            + probe_txt,
            severity=Severity.ERROR if challenged else None,
            location=(ep.mirror.loc() if ep.mirror is not None else ep.contacts[0].loc()),
            why="Maven looks credentials up by the id of the repository it contacts -- the "
                "mirror's id when a mirror is in front -- and sends none when no <server> has "
                "it; the registry answers `401 Unauthorized`.",
            remediation=Remediation(
                f"Add a <server> with id {ep.server_id!r} to "
                f"{self.ctx.display_path(self.w.user_settings_path)}.",
                steps=(_server_snippet(ep.server_id),
                       "Set HARNESS_USERNAME (your e-mail) and HARNESS_TOKEN in the environment, "
                       "or write the values in directly."),
                docs=(SETTINGS_DOCS,),
            ),
            fix=add_server_fix(self.w, ep.server_id),
        )


class GradleDiagnose(Diagnose):
    def __init__(self, w: World, res: Resolution, ge: GradleEndpoint,
                 results: Sequence[ProbeResult], ctx: Context) -> None:
        super().__init__(w, res, results, ctx)
        self.ge = ge

    def run(self) -> list[Finding]:
        ge = self.ge
        if self.results and self.transport():
            return self.out
        challenged = self.anon is not None and self.anon.status == 401
        if ge.repo.creds is None:
            if challenged or (not self.results and _har(self.ctx, ge.host)):
                from hardoctor.model import Severity

                self.add(
                    "MVN021",
                    f'Gradle repository "{ge.repo.name}" ({ge.url}) declares no credentials.'
                    + (" The repository asks for them (401)." if challenged else ""),
                    severity=Severity.ERROR if challenged else None, location=ge.loc(),
                    why="Gradle requests anonymously and fails with `Received status code 401`.",
                    remediation=Remediation(
                        "Name the repository and let Gradle read its credentials from properties.",
                        steps=(f'maven {{ name = "har"; url = uri("{ge.url}"); '
                               "credentials(PasswordCredentials::class) }",
                               "harUsername=... and harPassword=... in "
                               "~/.gradle/gradle.properties"),
                    ),
                )
            return self.out
        if not self.results or self.res.credential is None:
            return self.out  # MVN011 / MVN019 from the lint say why
        where = ge.password.description if ge.password else "the build"
        if self.anon is not None and self.anon.status == 401:
            self.answer(True, "Gradle", where)
        else:
            self.answer(False, "Gradle", where)
        return self.out


def diagnose(w: World, res: Resolution, results: Sequence[ProbeResult],
             ctx: Context) -> list[Finding]:
    ep = endpoint_of(ctx, res)
    if isinstance(ep, Endpoint):
        return MavenDiagnose(w, res, ep, results, ctx).run()
    if isinstance(ep, GradleEndpoint):
        return GradleDiagnose(w, res, ep, results, ctx).run()
    return []


# -- the unsafe fix: a <server> skeleton --------------------------------------------------


def add_server_fix(w: World, server_id: str) -> Fix | None:
    from hardoctor.fixes import digest

    from .mvnfiles import SettingsFile
    from .xmlpos import escape_text, indent_of, newline_of

    entry = w.user
    if entry is None:
        # No user settings yet: create the file (undo deletes it again).
        from hardoctor.fixes import ABSENT

        text = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<settings xmlns=\"http://maven.apache.org/SETTINGS/1.0.0\">\n  <servers>\n"
                + _skeleton(server_id, "    ", "\n", escape_text) + "  </servers>\n</settings>\n")
        return Fix(
            f"create {w.user_settings_path} with <server> {server_id!r} reading "
            "${env.HARNESS_USERNAME} and ${env.HARNESS_TOKEN} (set them before running Maven)",
            Applicability.UNSAFE, (Edit(w.user_settings_path, 0, 0, text, ABSENT, 0o600),))
    if entry.text is None or not isinstance(entry.parsed, SettingsFile):
        return None
    text = entry.text
    nl = newline_of(text)
    sf = entry.parsed
    root = sf.doc.root
    servers = sf.servers_elem
    if servers is not None and not servers.self_closing:
        first = servers.children[0] if servers.children else None
        close_indent = indent_of(text, servers.inner_end)
        child = indent_of(text, first.start) if first is not None else close_indent + "  "
        pos = servers.inner_end - len(close_indent)
        lead = "" if text[:pos].endswith(("\n",)) else nl
        block = _skeleton(server_id, child, nl, escape_text)
        edit = Edit(entry.path, pos, pos, lead + block, digest(text))
    else:
        first = root.children[0] if root.children else None
        indent = indent_of(text, first.start) if first is not None else "  "
        block = (f"{indent}<servers>{nl}" + _skeleton(server_id, indent + "  ", nl, escape_text)
                 + f"{indent}</servers>")
        if servers is not None:  # <servers/>
            edit = Edit(entry.path, servers.start, servers.end, block.lstrip(), digest(text))
        else:
            edit = Edit(entry.path, root.inner_start, root.inner_start, nl + block, digest(text))
    return Fix(
        f"add <server> {server_id!r} to {entry.path} reading ${{env.HARNESS_USERNAME}} and "
        "${env.HARNESS_TOKEN} (set them before running Maven)",
        Applicability.UNSAFE, (edit,))


def _skeleton(server_id: str, indent: str, nl: str, esc: Any) -> str:
    inner = indent + "  "
    return (f"{indent}<server>{nl}"
            f"{inner}<id>{esc(server_id)}</id>{nl}"
            f"{inner}<username>${{env.HARNESS_USERNAME}}</username>{nl}"
            f"{inner}<password>${{env.HARNESS_TOKEN}}</password>{nl}"
            f"{indent}</server>{nl}")
