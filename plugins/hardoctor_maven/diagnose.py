"""What the repository's answers mean for Maven and Gradle (the *diagnose*
role): which of the stories that all end in Maven's ``401 Unauthorized``
this one is.

Remediations here are generic; when a vendor plugin owns the registry, the
engine replaces them with the vendor's own (``hardoctor_remediation``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hardoctor.context import Context
from hardoctor.model import (
    Finding,
    Fix,
    Location,
    ProbeResult,
    Remediation,
    Resolution,
    Severity,
    payload_of,
)

from . import analysis
from .fixes import (
    SETTINGS_DOCS,
    TOKEN_VAR,
    USER_VAR,
    add_server_fix,
    rename_server_fix,
    server_snippet,
)
from .state import ECO, WORLD, Endpoint, EndpointRef, GradleEndpoint, World, url_host

_PREEMPTIVE = Remediation(
    "Make Maven send the credential up front.",
    steps=("Maven 3.8: add to the <server>: <configuration><httpConfiguration>"
           "<all><usePreemptive>true</usePreemptive></all></httpConfiguration>"
           "</configuration>",
           "Maven 3.9+: run with -Daether.connector.http.preemptiveAuth=true "
           "(or put it in .mvn/maven.config)."),
    docs=("https://maven.apache.org/guides/mini/guide-resolver-transport.html",),
)


def _step(results: Sequence[ProbeResult], name: str) -> ProbeResult | None:
    return next((r for r in results if r.facts.get("step") == name), None)


def _evidence_line(r: ProbeResult) -> str:
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
    return f"GET {r.url} {what} -> {status}{extra}" + (f": {msg}" if msg else "")


def _vendor_registry(ctx: Context, url: str) -> bool:
    """Does a vendor plugin own this registry?  (Vendor registries are
    private: no credentials there is worth saying even offline.)"""
    return ctx.registry_info(url, ECO) is not None


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
        self.cred_id = res.credential.id if res.credential else None
        self.out: list[Finding] = []

    def add(self, code: str, message: str, *, credential: str | None = None,
            location: Location | None = None, severity: Severity | None = None,
            why: str = "", evidence: Sequence[str] | None = None,
            remediation: Remediation | None = None, fix: Fix | None = None) -> None:
        if evidence is None:
            evidence = [_evidence_line(r) for r in self.results]
        self.out.append(self.ctx.finding(
            code, message, ecosystem=ECO, registry=self.url, credential=credential,
            location=location, severity=severity, why=why, evidence=evidence,
            remediation=remediation, fix=fix))

    def transport(self) -> bool:
        from hardoctor.probe.classify import is_transport_outcome
        from hardoctor.probe.rules import transport_finding

        for r in self.results:
            if is_transport_outcome(r.outcome) or r.status == 407:
                f = transport_finding(self.ctx, r, host=url_host(self.url) or self.url,
                                      what="the Maven repository", ecosystems=(ECO,),
                                      ecosystem=ECO, credential=self.cred_id)
                if f is not None:
                    self.out.append(f)
                return True
        return False

    def answer(self, sent_credential: bool, who: str, where: str) -> None:
        """Findings about the answer Maven ends up with (after its retry)."""
        final = self.cred if sent_credential and self.cred is not None else self.anon
        if final is None or final.status is None:
            return
        if final.status == 401 and sent_credential:
            self._rejected(who, where)
        elif final.status == 403:
            self._forbidden(final, who)
        elif final.status == 404 and self.res.target.kind == "package":
            self.add("MVN104", f"{final.url} does not exist ({self.res.target.raw}): 404.",
                     credential=self.cred_id,
                     why="Maven reports `Could not find artifact`: wrong repository URL or "
                         "registry, or the artifact is not there.",
                     remediation=Remediation("Check the repository URL and the coordinates."))
        elif final.status == 429:
            self.add("MVN106", f"{self.url} throttles requests: 429.", credential=self.cred_id)
        elif final.status >= 500:
            self.add("MVN107", f"{self.url} answers {final.status}.", credential=self.cred_id)

    def _rejected(self, who: str, where: str) -> None:
        self.add(
            "MVN101",
            f"{self.url} rejects the credential {who} sends ({where}): 401.",
            credential=self.cred_id,
            location=self.res.credential.location if self.res.credential else None,
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

    def _forbidden(self, final: ProbeResult, who: str) -> None:
        if final.facts.get("policy"):
            self.add("MVN105", f"{self.url} refuses the request by policy: "
                     f"{final.facts.get('server_message', '403')}.", credential=self.cred_id)
            return
        self.add("MVN102", f"{self.url} accepts the credential {who} sends but refuses "
                 "access: 403.", credential=self.cred_id,
                 location=self.res.credential.location if self.res.credential else None,
                 why="Authenticated, but the principal may not read this registry.",
                 remediation=Remediation("Grant read permission to the token's owner."))


class MavenDiagnose(Diagnose):
    def __init__(self, w: World, res: Resolution, ep: Endpoint,
                 results: Sequence[ProbeResult], ctx: Context) -> None:
        super().__init__(w, res, results, ctx)
        self.ep = ep

    def run(self) -> list[Finding]:
        if self.results and self.transport():
            return self.out
        if self.ep.server is None:
            self.no_server()
        elif self.results:
            self.with_server()
        return self.out

    def with_server(self) -> None:
        anon, cred, view = self.anon, self.cred, self.ep.server
        assert anon is not None and view is not None
        where = f"<server> {view.id!r} in {self.ctx.display_path(view.entry.path)}"
        if anon.status == 401 or view.server.preemptive:
            # A value Maven cannot send as meant: the lint finding (MVN006/7/12/15)
            # already names why the registry refuses it.
            broken = view.password.state in ("no-master", "wrong-master", "maven4", "env-unset")
            if cred is None or (broken and cred.status == 401):
                return
            self.answer(True, "Maven", where)
            return
        if anon.status in (403, 404) and cred is not None and cred.status is not None and \
                200 <= cred.status < 300:
            self.add(
                "MVN103",
                f"{self.url} answers {anon.status} without a challenge, so Maven never sends "
                f"the credential of {where}; with it the request succeeds.",
                credential=view.cred_id, location=view.loc(),
                why="Maven sends credentials only after a 401 with WWW-Authenticate.",
                remediation=_PREEMPTIVE,
            )
            return
        self.answer(False, "Maven", where)

    def _mirror_text(self) -> str | None:
        m = self.ep.mirror
        return f"mirror {m.id!r} ({m.url})" if m is not None else None

    def no_server(self) -> None:
        ep = self.ep
        challenged = self.anon is not None and self.anon.status == 401
        if self.anon is not None and not challenged:
            self.answer(False, "Maven", "")
            return
        cands = analysis.candidates(self.w, ep)
        probe_txt = " The repository asks for credentials (401)." if challenged else ""
        if cands:
            self._meant_server(cands, probe_txt)
            return
        if not analysis.needs_server(ep) and not challenged:
            return
        if not challenged and self.results and not _vendor_registry(self.ctx, ep.url):
            return
        self._missing_server(challenged, probe_txt)

    def _meant_server(self, cands: list[analysis.Candidate], probe_txt: str) -> None:
        """MVN003/MVN004: a <server> exists but under another id."""
        ep = self.ep
        behind = [c for c in cands if c.kind == "behind-mirror"]
        c = behind[0] if behind else cands[0]
        fix = (rename_server_fix(c.view, ep.server_id) if len(cands) == 1
               and not analysis.claimed_elsewhere(self.w, ep, c.view) else None)
        if behind:
            self.add(
                "MVN003",
                f"<server> {c.view.id!r} has the id of repository {c.repo_id!r}, but "
                f"{self._mirror_text()} replaces that repository: Maven looks up <server> "
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
        target = self._mirror_text() or f"repository {ep.contacts[0].repo.id!r} ({ep.url})"
        self.add(
            "MVN004",
            f"Maven looks up <server> {ep.server_id!r} for {target}, but the server in "
            f"{self.ctx.display_path(c.view.entry.path)} has id {c.view.id!r}.{probe_txt}",
            location=c.view.loc(),
            why="Server ids are matched exactly; this server is never used, so Maven sends "
                "no credentials and gets 401.",
            evidence=[_evidence_line(r) for r in self.results] + [
                f"other server: {x.view.id!r}" for x in cands[1:]],
            remediation=Remediation(f"Rename the server id to {ep.server_id!r}.",
                                    docs=(SETTINGS_DOCS,)),
            fix=fix,
        )

    def _missing_server(self, challenged: bool, probe_txt: str) -> None:
        ep = self.ep
        what = self._mirror_text() or f"{ep.contacts[0].describe()} ({ep.url})"
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
                steps=(server_snippet(ep.server_id),
                       f"Set {USER_VAR} (your user name) and {TOKEN_VAR} in the environment, "
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
            if challenged or (not self.results and _vendor_registry(self.ctx, ge.url)):
                self._no_credentials(challenged)
            return self.out
        if not self.results or self.res.credential is None:
            return self.out  # MVN011 / MVN019 from the lint say why
        where = ge.password.description if ge.password else "the build"
        self.answer(challenged, "Gradle", where)
        return self.out

    def _no_credentials(self, challenged: bool) -> None:
        ge = self.ge
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


def diagnose(res: Resolution, results: Sequence[ProbeResult], ctx: Context) -> list[Finding]:
    w = ctx.stash.get(WORLD, None)
    ref = payload_of(res.payload, EndpointRef)
    ep = w.endpoint(ref) if w is not None and ref is not None else None
    skipped = next((r for r in results if r.facts.get("step") == "not-reached"), None)
    if skipped is not None:
        return [ctx.finding(
            "MVN108", f"Maven never asks {res.registry} for {res.target.raw}: it gets the "
            f"artifact from {skipped.facts.get('served_by')} first.",
            ecosystem=ECO, registry=res.registry, evidence=[skipped.detail])]
    later = next((r for r in results if r.facts.get("step") == "served-later"), None)
    results = [r for r in results if r.facts.get("step") != "served-later"]
    out: list[Finding] = []
    if isinstance(ep, Endpoint) and w is not None:
        out = MavenDiagnose(w, res, ep, results, ctx).run()
    elif isinstance(ep, GradleEndpoint) and w is not None:
        out = GradleDiagnose(w, res, ep, results, ctx).run()
    if later is None:
        return out
    return [_passed_on(f, later) for f in out if f.cause != "not-found"]


def _passed_on(f: Finding, later: ProbeResult) -> Finding:
    """Maven passes a failed request on to its next repository, and that one
    serves the artifact: the build succeeds, the problem stays a warning (a
    404 here is no problem at all)."""
    if f.severity is not Severity.ERROR:
        return f
    return replace(f, severity=Severity.WARNING, why=(
        f.why + f" For this request Maven also asks {later.facts.get('served_by')}, which "
        "serves it, so the build succeeds; artifacts only this repository has fail.").strip(),
        evidence=(*f.evidence, later.detail))
