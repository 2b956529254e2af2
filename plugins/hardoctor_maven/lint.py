"""Offline findings, per source, with their fixes."""

from __future__ import annotations

import re
import stat

from hardoctor.context import Context
from hardoctor.fixes import digest
from hardoctor.model import Applicability, Edit, Finding, Fix, Location, Remediation, Severity
from hardoctor.tokens import looks_like_token, maven_encrypted

from . import analysis, gradle, mirrors
from .mvnfiles import Pom, SecurityFile, SettingsFile
from .world import ECO, Contact, FileEntry, MirrorView, ServerView, World
from .xmlpos import XElem, escape_text, text_span

ENCRYPT_DOCS = "https://maven.apache.org/guides/mini/guide-encryption.html"
SETTINGS_DOCS = "https://maven.apache.org/settings.html#servers"
_HARNESS_TOKEN = re.compile(r"\b(?:pat|sat)\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def text_edit(entry: FileEntry, elem: XElem, new_value: str) -> Edit:
    """Replace the trimmed text of ``elem`` (whitespace around it kept)."""
    assert entry.text is not None
    start, end = text_span(entry.text, elem)
    return Edit(entry.path, start, end, escape_text(new_value), digest(entry.text))


def rename_server_fix(view: ServerView, new_id: str) -> Fix | None:
    """Rename a server's id -- in the user's own settings only (a global
    file is shared and usually not the user's to edit)."""
    elem = view.server.id_elem
    if elem is None or view.entry.text is None or view.entry.role != "user":
        return None
    return Fix(f"rename <server> id {view.id!r} to {new_id!r} in "
               f"{view.entry.path}:{elem.line}", Applicability.SAFE,
               (text_edit(view.entry, elem, new_id),))


class _Lint:
    def __init__(self, w: World, entry: FileEntry, ctx: Context) -> None:
        self.w = w
        self.entry = entry
        self.ctx = ctx
        self.out: list[Finding] = []
        self.name = ctx.display_path(entry.path)

    def add(self, code: str, message: str, **kw: object) -> None:
        kw.setdefault("ecosystem", ECO)
        self.out.append(self.ctx.finding(code, message, **kw))  # type: ignore[arg-type]

    def run(self) -> list[Finding]:
        e = self.entry
        if e.text is None:
            return self.out  # unreadable: HD003 from the core
        if e.error is not None:
            self._xml_error()
            return self.out
        if e.kind == "settings" and isinstance(e.parsed, SettingsFile):
            self._settings(e.parsed)
        elif e.kind == "pom" and isinstance(e.parsed, Pom):
            self._pom()
        elif e.kind == "maven-config":
            self._maven_config()
        elif e.kind == "gradle-properties":
            self._gradle_properties()
        elif e.kind == "gradle-script":
            self._gradle_script()
        elif e.kind == "security" and isinstance(e.parsed, SecurityFile):
            self._security()
        return self.out

    # -- XML ------------------------------------------------------------------------

    def _xml_error(self) -> None:
        err = self.entry.error
        assert err is not None
        what = {"settings": "settings", "pom": "POM", "security": "settings-security"}.get(
            self.entry.kind, "XML")
        if self.entry.kind == "security":
            why = ("Maven cannot read the master password, so every encrypted <password> is "
                   "sent as the encrypted text and refused.")
        elif self.entry.kind == "pom":
            why = "Maven stops with `Non-parseable POM` before contacting any repository."
        else:
            why = ("Maven stops with `Non-parseable settings` before contacting any repository "
                   "(or, for a problem it tolerates, ignores the file's servers).")
        self.add(
            "MVN001", f"{self.name} is not a {what} file Maven can read: {err.message}.",
            location=Location(self.entry.path, err.line, err.column), why=why,
            remediation=Remediation(
                "Correct the XML at that line." + (
                    " Remove the <!DOCTYPE> and entity declarations: Maven files never need "
                    "them." if err.hostile else " Write `&` in a value as `&amp;`."),
            ),
        )

    # -- settings.xml ---------------------------------------------------------------------

    def _settings(self, sf: SettingsFile) -> None:
        views = [v for v in self.w.servers if v.entry is self.entry]
        for v in views:
            self._password(v)
            self._not_decrypted(v)
            if v.lost_to is not None and v.lost_to.entry is self.entry:
                self._duplicate(v)
        for m in self.w.mirrors:
            if m.entry is self.entry:
                self._mirror(m)
        plaintext = [v for v in views if v.password.sent and not v.password.encrypted]
        if plaintext:
            self._committed_settings(plaintext)
            self._mode(plaintext)
        for v in views:
            if v.effective and not self.w.endpoint_for_server(v.id) and \
                    not analysis.explained(self.w, v) and self.entry.role == "user":
                self.add(
                    "MVN018",
                    f"<server> {v.id!r} in {self.name} is not used by any repository or mirror "
                    "this build contacts.",
                    location=v.loc(), credential=v.cred_id,
                    why="Maven looks servers up by the id of the repository or mirror it "
                        "contacts; nothing here has this id.",
                )

    def _password(self, v: ServerView) -> None:
        pw = v.password
        srv = v.server
        loc = self.entry.loc(srv.password_elem or srv.elem, f"<server> {v.id} <password>")
        reg = v.registry or None
        common = dict(location=loc, credential=v.cred_id, registry=reg)
        master = self.w.master
        mdisp = self.ctx.display_path(master.path)
        if v.username_unset or pw.unset_env:
            names = ", ".join(f"${n}" for n in (*v.username_unset, *pw.unset_env))
            self.add(
                "MVN012",
                f"<server> {v.id!r} uses {names}, which is not set: Maven sends the text "
                f"`${{env.{(pw.unset_env or v.username_unset)[0]}}}` literally.",
                why="Maven leaves an unknown ${...} expression as it is, so the registry gets the "
                    "expression instead of the token and answers 401.",
                remediation=Remediation(
                    "Set the variable in the environment Maven runs in.",
                    commands=tuple(f'export {n}="..."' for n in
                                   dict.fromkeys((*v.username_unset, *pw.unset_env))),
                ),
                **common,
            )
            return
        if pw.state == "no-master" and master.state == "undecryptable":
            return  # the settings-security.xml finding names the real culprit
        if pw.state == "no-master":
            self.add(
                "MVN006",
                f"The password of <server> {v.id!r} is encrypted, but {master.detail}: Maven "
                "sends the encrypted text as the password.",
                why="Maven decrypts {...} passwords with the master password from "
                    "settings-security.xml; without it the decryption fails (logged only with "
                    "-X) and the literal {...} goes to the registry, which answers 401.",
                remediation=Remediation(
                    "Recreate the master password and encrypt the token again, or store the "
                    "token without encryption.",
                    steps=(f"Create {mdisp} with the output of the first command inside "
                           "<settingsSecurity><master>...</master></settingsSecurity>.",
                           "Encrypt the token and put the output in <password>."),
                    commands=("mvn --encrypt-master-password", "mvn --encrypt-password"),
                    docs=(ENCRYPT_DOCS,),
                ),
                **common,
            )
        elif pw.state == "wrong-master":
            self.add(
                "MVN007",
                f"The password of <server> {v.id!r} does not decrypt with the master password "
                f"in {mdisp}: Maven sends the encrypted text.",
                why="The value was encrypted with another master password (a recreated "
                    "settings-security.xml, another machine); Maven's decryption fails silently "
                    "and the registry gets the literal {...} and answers 401.",
                remediation=Remediation(
                    "Encrypt the token again with the current master password.",
                    commands=("mvn --encrypt-password",), docs=(ENCRYPT_DOCS,)),
                **common,
            )
        elif pw.state == "maven4":
            v3 = (self.w.maven_version or "").startswith("3.")
            self.add(
                "MVN015",
                f"The password of <server> {v.id!r} uses Maven 4's encryption format"
                + (f"; the Maven here is {self.w.maven_version}, which cannot decrypt it."
                   if v3 else "; hardoctor cannot decrypt it to check the token."),
                severity=Severity.ERROR if v3 else None,
                why="Maven 3 sends the text as written (401); hardoctor cannot read Maven 4's "
                    "master source, so the token itself is not checked.",
                remediation=Remediation(
                    "With Maven 3, encrypt the token with `mvn --encrypt-password`.",
                    docs=(ENCRYPT_DOCS,)),
                **common,
            )
        elif pw.state == "braces":
            self.add(
                "MVN008",
                f"The plaintext password of <server> {v.id!r} contains {{...}}, which Maven "
                "takes for an encrypted value.",
                why="Maven tries to decrypt it; when that fails it sends the value as written "
                    "(it works by luck, and -X logs 'Failed to decrypt password'); a value "
                    "between the braces that does decrypt would be replaced by garbage.",
                remediation=Remediation(
                    "Encrypt the password so it is unambiguous.",
                    commands=("mvn --encrypt-password",), docs=(ENCRYPT_DOCS,)),
                **common,
            )

    def _not_decrypted(self, v: ServerView) -> None:
        srv = v.server
        if v.username and maven_encrypted(v.username) is not None and srv.username_elem is not None:
            self.add(
                "MVN009",
                f"The username of <server> {v.id!r} is an encrypted {{...}} value; Maven never "
                "decrypts usernames.",
                location=self.entry.loc(srv.username_elem, f"<server> {v.id} <username>"),
                credential=v.cred_id, registry=v.registry or None,
                why="Maven sends the encrypted text as the username.",
                remediation=Remediation("Write the username in plain text."),
            )
        for h in srv.headers:
            if maven_encrypted(h.value) is not None:
                self.add(
                    "MVN009",
                    f"The HTTP header {h.name!r} of <server> {v.id!r} holds an encrypted "
                    "{...} value; Maven never decrypts httpHeaders.",
                    location=self.entry.loc(h.elem, f"<server> {v.id} httpHeaders {h.name}"),
                    credential=v.cred_id, registry=v.registry or None,
                    why="The header goes out with the literal {...} text and the registry "
                        "rejects it.",
                    remediation=Remediation(
                        "Put the token in <password> (which Maven decrypts) or use "
                        "${env.VAR} in the header value."),
                )

    def _duplicate(self, v: ServerView) -> None:
        winner = v.lost_to
        assert winner is not None
        line = winner.server.elem.line
        self.add(
            "MVN013",
            f"<server> {v.id!r} appears more than once in {self.name}; Maven uses the one at "
            f"line {line}.",
            location=v.loc(), credential=v.cred_id,
            why="An edit to this copy has no effect.",
            remediation=Remediation("Delete the copy you do not want."),
        )

    def _mirror(self, m: MirrorView) -> None:
        pieces = mirrors.untrimmed_pieces(m.mirror_of)
        elem = m.mirror.mirror_of_elem
        if pieces and elem is not None:
            escaped = [c for c in self.w.contacts if not c.deploy and
                       mirrors.would_match_trimmed(c.repo.id, c.url, m.mirror_of) and
                       (c.mirror is None or c.mirror is not m)]
            leaked = [c for c in self.w.contacts if not c.deploy and c.mirror is m and
                      not mirrors.would_match_trimmed(c.repo.id, c.url, m.mirror_of)]
            fixed = ",".join(p.strip() for p in m.mirror_of.split(","))
            shown = ", ".join(repr(p) for p in pieces)
            effect = ""
            if escaped:
                effect = (" Because of it " + ", ".join(repr(c.repo.id) for c in escaped)
                          + " bypass" + ("es" if len(escaped) == 1 else "") + " this mirror.")
            elif leaked:
                effect = (" Because of it " + ", ".join(repr(c.repo.id) for c in leaked)
                          + " still go" + ("es" if len(leaked) == 1 else "")
                          + " through it although excluded.")
            fix = Fix(f"trim mirrorOf of mirror {m.id!r} to {fixed!r}", Applicability.SAFE,
                      (text_edit(self.entry, elem, fixed),))
            self.add(
                "MVN005",
                f"<mirrorOf>{m.mirror_of}</mirrorOf> of mirror {m.id!r} has whitespace around a "
                f"comma ({shown} never matches)." + effect,
                location=self.entry.loc(elem, f"<mirror> {m.id} <mirrorOf>"),
                registry=m.url or None,
                why="Maven splits mirrorOf on commas and does not trim the pieces, so a piece "
                    "with a space matches no repository id.",
                evidence=tuple(f"{c.describe()} goes to {c.effective_url} (server id "
                               f"{c.server_id!r})" for c in escaped + leaked),
                remediation=Remediation(f"Write <mirrorOf>{fixed}</mirrorOf>."),
                fix=fix,
            )
        self._url_checks(m.url, m.entry.loc(m.mirror.url_elem or m.mirror.elem,
                                            f"<mirror> {m.id} <url>"), f"mirror {m.id!r}")

    def _url_checks(self, url: str, loc: Location, what: str) -> None:
        if "${env." in url:
            for var in re.findall(r"\$\{env\.([^}]+)\}", url):
                if self.ctx.getenv(var) is None:
                    self.add(
                        "MVN012",
                        f"The URL of {what} uses ${{env.{var}}}, which is not set.",
                        location=loc, registry=None,
                        why="Maven keeps the expression in the URL and cannot connect.",
                        remediation=Remediation("Set the variable.",
                                                commands=(f'export {var}="..."',)),
                    )
        self._har_type(url, loc, what)

    def _har_type(self, url: str, loc: Location, what: str) -> None:
        try:
            from hardoctor_harness import is_har_host, parse_har_url
        except ImportError:  # pragma: no cover - the harness plugin ships with us
            return
        from .world import url_host

        if not is_har_host(url_host(url), self.ctx.options.harness_hosts):
            return
        har = parse_har_url(url, oci=False)
        if har is None or har.layout != "pkg" or not har.package_type:
            return
        ptype = har.package_type.lower()
        from hardoctor_harness.urls import PACKAGE_TYPES, TYPE_ALIASES

        if ptype == "maven" or ptype not in PACKAGE_TYPES or ptype in TYPE_ALIASES:
            return  # right, or the harness plugin's HAR2xx rules say it better
        fixed = url.replace(f"/{har.package_type}", "/maven", 1) if har.account else None
        self.add(
            "MVN017",
            f"The URL of {what} is a HAR {ptype} registry URL; Maven needs "
            f".../pkg/{har.account}/{har.registry}/maven.",
            location=loc, registry=url,
            why="HAR routes by the package-type segment: Maven requests to a non-Maven route "
                "get 404 or 401.",
            remediation=Remediation("Use the registry's Maven URL from Set up client.",
                                    steps=(f"Use {fixed}",) if fixed else ()),
        )

    def _committed_settings(self, plaintext: list[ServerView]) -> None:
        if not self.entry.tracked:
            return
        for v in plaintext:
            if v.password.state == "env-unset" or "${" in (v.server.password or ""):
                continue
            self._committed(v.loc(), f"the password of <server> {v.id!r}", v.cred_id)

    def _committed(self, loc: Location, what: str, cred: str | None = None) -> None:
        self.add(
            "MVN010",
            f"{self.name} is tracked by git and holds {what} in plain text.",
            location=loc, credential=cred,
            why="Everyone who can read the repository, including its history, has the token.",
            remediation=Remediation(
                "Move the secret out of the repository and revoke it.",
                steps=("Put it in ~/.m2/settings.xml or ~/.gradle/gradle.properties, or in an "
                       "environment variable (${env.X} in Maven, ORG_GRADLE_PROJECT_x in Gradle).",
                       "Create a new token: the old one stays in the git history."),
            ),
        )

    def _mode(self, plaintext: list[ServerView]) -> None:
        mode = self.entry.source.mode
        if mode is None or not mode & (stat.S_IRWXG | stat.S_IRWXO) or self.entry.role != "user":
            return
        assert self.entry.text is not None
        new = mode & ~(stat.S_IRWXG | stat.S_IRWXO)
        fix = Fix(f"chmod {new:o} {self.name}", Applicability.SAFE,
                  (Edit(self.entry.path, 0, 0, "", digest(self.entry.text), mode=new),))
        self.add(
            "MVN020",
            f"{self.name} holds plaintext passwords ({', '.join(repr(v.id) for v in plaintext)}) "
            f"and has mode {mode:04o}: other users can read it.",
            location=Location(self.entry.path), fix=fix,
            why="Anyone on the machine can copy the tokens.",
            remediation=Remediation(f"chmod 600 {self.name}", docs=(ENCRYPT_DOCS,)),
        )

    # -- settings-security.xml ------------------------------------------------------------

    def _security(self) -> None:
        master = self.w.master
        users = [v for v in self.w.servers if v.password.encrypted and v.effective]
        if master.state == "undecryptable" and users:
            self.add(
                "MVN007",
                f"The <master> in {self.name} cannot be decrypted; Maven can decrypt none of "
                f"the {len(users)} encrypted password(s).",
                location=Location(self.entry.path, master.line),
                why="The master password must itself be encrypted with `mvn "
                    "--encrypt-master-password` (key `settings.security`); a plaintext or "
                    "damaged <master> makes every encrypted <password> unusable.",
                remediation=Remediation(
                    "Encrypt the master password again, then every server password with it.",
                    commands=("mvn --encrypt-master-password", "mvn --encrypt-password"),
                    docs=(ENCRYPT_DOCS,)),
            )

    # -- POMs -----------------------------------------------------------------------------

    def _pom(self) -> None:
        for c in self.w.contacts:
            if c.entry is not self.entry:
                continue
            loc = c.loc() or Location(self.entry.path)
            if c.url_unset:
                for var in c.url_unset:
                    self.add(
                        "MVN012",
                        f"The URL of {c.describe()} uses ${{env.{var}}}, which is not set.",
                        location=loc, registry=None,
                        why="Maven keeps the expression in the URL and the repository cannot be "
                            "reached.",
                        remediation=Remediation("Set the variable.",
                                                commands=(f'export {var}="..."',)),
                    )
            self._har_type(c.url, loc, c.describe())
            if c.mirror is not None and c.mirror.blocked:
                self._blocked(c, loc)
        if self.entry.tracked:
            self._pom_secrets()

    def _blocked(self, c: Contact, loc: Location) -> None:
        m = c.mirror
        assert m is not None
        self.add(
            "MVN014",
            f"{c.describe()} ({c.url}) is blocked by mirror {m.id!r} "
            f"(mirrorOf {m.mirror_of!r} in {self.ctx.display_path(m.entry.path)}).",
            location=loc, registry=c.url,
            why="Maven 3.8.1+ refuses plain-http repositories outside localhost: the build fails "
                "with `Blocked mirror for repositories` before any credential is sent.",
            remediation=Remediation("Use the https:// URL of the repository.",
                                    docs=("https://maven.apache.org/docs/3.8.1/release-notes.html",)),
        )

    def _pom_secrets(self) -> None:
        pom = self.entry.parsed
        assert isinstance(pom, Pom)
        root = pom.doc.root
        stack = [root]
        while stack:
            e = stack.pop()
            stack.extend(e.children)
            text = e.text
            if not text or e.children:
                continue
            secretish = bool(gradle.SECRET_KEY.search(e.tag)) and not text.startswith("${")
            if secretish or _HARNESS_TOKEN.search(text) or _url_password(text):
                from hardoctor.model import Secret

                Secret(text)
                self._committed(self.entry.loc(e, f"<{e.tag}>"), f"a secret in <{e.tag}>")

    # -- .mvn/maven.config ----------------------------------------------------------------

    def _maven_config(self) -> None:
        for opt, path in self.w.args.missing:
            self.add(
                "MVN016",
                f"{self.name} passes {opt} {self.ctx.display_path(path)}, which does not exist.",
                location=Location(self.entry.path),
                why="Maven stops with 'The specified settings file does not exist'.",
                remediation=Remediation("Create the file or correct the path."),
            )

    # -- Gradle -----------------------------------------------------------------------------

    def _gradle_properties(self) -> None:
        if not self.entry.tracked or not isinstance(self.entry.parsed, list):
            return
        for p in self.entry.parsed:
            if not p.value or p.value.startswith("${"):
                continue
            if gradle.SECRET_KEY.search(p.key) or _HARNESS_TOKEN.search(p.value) or (
                    looks_like_token(p.value) and "user" not in p.key.lower()):
                self._committed(Location(self.entry.path, p.line, None, p.key),
                                f"{p.key!r}")

    def _gradle_script(self) -> None:
        for ge in self.w.gradle_endpoints:
            if ge.entry is not self.entry:
                continue
            repo = ge.repo
            loc = ge.loc()
            self._har_type(ge.url, loc, f'Gradle repository "{repo.name}"')
            if repo.creds and ge.password is None and ge.missing:
                self._gradle_missing(ge, loc)
            elif repo.creds and ge.unknown and ge.password is None:
                self.add(
                    "MVN019",
                    f'The credentials of Gradle repository "{repo.name}" are computed in code '
                    "hardoctor does not run.",
                    location=loc, registry=ge.url,
                    why="Only literals, Gradle properties and environment variables can be "
                        "read without running the build.",
                )
            if (self.entry.tracked and ge.password is not None
                    and ge.password.source_id == self.entry.source.id):
                self._committed(ge.password.where, f'the password of Gradle repository "{repo.name}"')

    def _gradle_missing(self, ge: object, loc: Location) -> None:
        from .world import GradleEndpoint

        assert isinstance(ge, GradleEndpoint)
        repo = ge.repo
        names = ", ".join(n.lstrip("$") for n in ge.missing)
        if repo.creds == "properties":
            cmds: tuple[str, ...]
            how = (f"credentials(PasswordCredentials) on the repository named {repo.name!r} "
                   f"reads the Gradle properties {repo.name}Username and {repo.name}Password")
            cmds = (f"echo '{repo.name}Username=you@example.com' >> ~/.gradle/gradle.properties",
                    f"echo '{repo.name}Password=TOKEN' >> ~/.gradle/gradle.properties",
                    f'export ORG_GRADLE_PROJECT_{repo.name}Password="$TOKEN"   # CI')
            why = (f"Gradle stops with \"The following Gradle properties are missing for "
                   f"'{repo.name}' credentials\".")
        else:
            how = f"its credentials {{ }} block reads {names}"
            cmds = tuple(f'export {n.lstrip("$")}="..."' if n.startswith("$") else
                         f"echo '{n}=...' >> ~/.gradle/gradle.properties" for n in ge.missing)
            why = "Gradle sends no (or null) credentials and the repository answers 401."
        unnamed = "" if repo.named else (
            f' (the repository has no name, so Gradle calls it "{repo.name}")')
        self.add(
            "MVN011",
            f"Gradle repository {repo.name!r}{unnamed}: {names} not set -- {how}.",
            location=loc, registry=ge.url, why=why,
            evidence=(f"looked in ORG_GRADLE_PROJECT_*, "
                      f"{self.ctx.display_path(_gradle_user_props(self.w))} and the project's "
                      "gradle.properties",),
            remediation=Remediation(
                "Define them outside the project (never in the committed gradle.properties).",
                commands=cmds),
        )


def _gradle_user_props(w: World) -> str:
    for e in w.entries:
        if e.kind == "gradle-properties" and e.role == "user":
            return e.path
    return "~/.gradle/gradle.properties"


def _url_password(text: str) -> bool:
    m = re.match(r"^[a-z][a-z0-9+.-]*://([^/@\s]+)@", text, re.I)
    return bool(m and ":" in m.group(1) and not m.group(1).endswith(":"))


def lint(w: World, entry: FileEntry, ctx: Context) -> list[Finding]:
    return _Lint(w, entry, ctx).run()
