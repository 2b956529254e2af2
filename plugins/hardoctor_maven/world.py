"""Everything Maven and Gradle will do with credentials on this machine,
worked out once per run in ``hardoctor_discover``.

Maven's side, in the order Maven itself does it:

1. user settings (``-s`` or ``~/.m2/settings.xml``) merged over global
   settings (``-gs`` or ``${maven.home}/conf/settings.xml``): servers,
   mirrors and profiles by id, the user's winning (``MavenSettingsMerger``);
   ``${env.X}``, ``${user.home}`` ... interpolated, unknown expressions left
   as they are -- and then sent literally;
2. passwords decrypted with the master password of ``settings-security.xml``
   (``DefaultSettingsDecrypter``: on failure the value is kept and sent as
   written, and the failure is logged only with ``-X``);
3. the repositories the build contacts: active settings profiles, the
   project's POMs (parents on disk, modules), Maven's built-in ``central``,
   ``distributionManagement``;
4. the mirror for each (:mod:`~hardoctor_maven.mirrors`; never for
   ``distributionManagement``), and so the server id credentials are looked
   up by.

Gradle's side is in :mod:`~hardoctor_maven.gradle`.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from hardoctor.context import Context
from hardoctor.files import read_file
from hardoctor.model import Credential, Location, Secret, Source
from hardoctor.tokens import PeelError, maven_decrypt, maven_decrypt_master, maven_encrypted

from . import gradle, locate, mirrors
from .mvnfiles import (
    CENTRAL_ID,
    CENTRAL_URL,
    Mirror,
    Pom,
    Profile,
    Repo,
    SecurityFile,
    Server,
    SettingsFile,
    parse_pom,
    parse_security,
    parse_settings,
)
from .names import ECO
from .xmlpos import XElem, XmlError

MAX_POMS = 50
#: Public repositories that never need credentials: not probed unless a
#: server is configured for them.
PUBLIC_HOSTS = frozenset({
    "repo.maven.apache.org", "repo1.maven.org", "repo.maven.org", "central.maven.org",
    "plugins.gradle.org", "maven.google.com", "dl.google.com", "jcenter.bintray.com",
    "jitpack.io",
})


# -- files -------------------------------------------------------------------------


@dataclass(eq=False)
class FileEntry:
    path: str
    kind: str  # settings | security | pom | maven-config | gradle-properties | gradle-script
    role: str  # user | global | project | parent | module
    source: Source
    parsed: Any = None
    error: XmlError | None = None
    text: str | None = None
    #: Tracked by git (None: not in a git work tree, or git unavailable).
    tracked: bool | None = None

    @property
    def display(self) -> str:
        return self.path

    def loc(self, elem: XElem | None = None, key: str | None = None) -> Location:
        if elem is None:
            return Location(self.path, key=key)
        return Location(self.path, elem.line, elem.column, key)


# -- interpolation ---------------------------------------------------------------

_EXPR = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Interp:
    value: str = field(repr=False)
    unset_env: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()


def interpolate(value: str, ctx: Context, props: dict[str, str]) -> Interp:
    """Maven's settings/model interpolation: ``${env.X}`` from the
    environment, then properties; anything unknown stays literally."""
    unset: list[str] = []
    unresolved: list[str] = []

    def sub(m: re.Match[str]) -> str:
        name = m.group(1).strip()
        if name.startswith("env."):
            var = name[4:]
            got = ctx.getenv(var)
            if got is None:
                unset.append(var)
                return m.group(0)
            return got
        if name in props:
            return props[name]
        unresolved.append(name)
        return m.group(0)

    out = value
    for _ in range(5):  # nested references, bounded
        new = _EXPR.sub(sub, out)
        if new == out:
            break
        out = new
    return Interp(out, tuple(dict.fromkeys(unset)), tuple(dict.fromkeys(unresolved)))


# -- passwords -----------------------------------------------------------------------


@dataclass(frozen=True)
class Master:
    """The master password: ``state`` is ``ok``, ``missing`` (no file),
    ``unreadable``, ``invalid`` (bad XML), ``empty`` (no <master>),
    ``undecryptable`` (the master itself does not decrypt)."""

    state: str
    path: str
    secret: Secret | None = None
    line: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Password:
    """What Maven sends as a server's password, and why.

    ``state``: ``plain``, ``decrypted``, ``no-master`` (encrypted, master not
    readable), ``wrong-master``, ``maven4`` (Maven 4 format), ``braces``
    (plaintext with ``{...}`` that Maven tries to decrypt and then sends as
    written), ``env-unset``."""

    sent: str | None = field(repr=False)
    state: str
    encrypted: bool = False
    detail: str = ""
    unset_env: tuple[str, ...] = ()


def _plexus_shape(payload: str) -> bool:
    """Is this a well-formed plexus-cipher payload (so Maven will try to
    decrypt it and may succeed)?"""
    try:
        blob = base64.b64decode(payload.replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(blob) < 8 + 1 + 16:
        return False
    body = len(blob) - 9 - blob[8]
    return body > 0 and body % 16 == 0


_BRACES = re.compile(r"\{.*?[^\\]\}", re.S)


def maven_sees_braces(value: str) -> bool:
    """plexus-cipher's ``isEncryptedString``: a ``{...}`` with content."""
    return bool(_BRACES.search(value))


def decrypt_password(value: str | None, master: Master) -> Password:
    if value is None:
        return Password(None, "plain")
    enc = maven_encrypted(value)
    if enc is not None and enc.format == "maven4":
        return Password(value, "maven4", True, enc.why_unreadable)
    if enc is not None and _plexus_shape(enc.payload):
        if master.secret is None:
            return Password(value, "no-master", True, master.detail)
        try:
            clear = maven_decrypt(value, master.secret)
        except PeelError as exc:
            return Password(value, "wrong-master", True, str(exc))
        return Password(clear.reveal(), "decrypted", True)
    if maven_sees_braces(value):
        return Password(value, "braces")
    return Password(value, "plain")


# -- the merged view ----------------------------------------------------------------


@dataclass(eq=False)
class ServerView:
    server: Server
    entry: FileEntry
    id: str
    username: str | None
    password: Password
    cred_id: str
    username_unset: tuple[str, ...] = ()
    effective: bool = False
    #: Why this one is not used (shadowed by a later duplicate or the user file).
    lost_to: ServerView | None = None
    #: The URL it is used for (or would be, by id), for Credential.registry.
    registry: str = ""

    def loc(self) -> Location:
        return self.entry.loc(self.server.id_elem or self.server.elem, f"<server> {self.id}")


@dataclass(eq=False)
class MirrorView:
    mirror: Mirror
    entry: FileEntry
    id: str
    mirror_of: str
    url: str
    layouts: str
    blocked: bool

    def loc(self, elem: XElem | None = None) -> Location:
        return self.entry.loc(elem or self.mirror.id_elem or self.mirror.elem,
                              f"<mirror> {self.id}")


@dataclass(eq=False)
class Contact:
    """A repository the build contacts."""

    repo: Repo
    url: str
    entry: FileEntry | None
    mirror: MirrorView | None = None
    match: str | None = None
    url_unset: tuple[str, ...] = ()

    @property
    def deploy(self) -> bool:
        return self.repo.kind in ("distribution", "snapshotDistribution")

    @property
    def server_id(self) -> str:
        return self.mirror.id if self.mirror is not None else self.repo.id

    @property
    def effective_url(self) -> str:
        return self.mirror.url if self.mirror is not None else self.url

    @property
    def builtin(self) -> bool:
        return self.entry is None

    def loc(self) -> Location | None:
        if self.entry is None:
            return None
        tag = {"distribution": "<distributionManagement><repository>",
               "snapshotDistribution": "<distributionManagement><snapshotRepository>"}.get(
            self.repo.kind, f"<{self.repo.kind}>")
        return self.entry.loc(self.repo.id_elem or self.repo.elem, f"{tag} {self.repo.id}")

    def describe(self) -> str:
        kind = {"repository": "repository", "pluginRepository": "plugin repository",
                "distribution": "deploy repository",
                "snapshotDistribution": "snapshot deploy repository"}[self.repo.kind]
        where = "Maven's built-in" if self.builtin else ("profile " + self.repo.profile
                                                         if self.repo.profile else "")
        return f"{kind} {self.repo.id!r}" + (f" ({where})" if where else "")


@dataclass(eq=False)
class Endpoint:
    """One URL Maven sends requests to, with the server id it authenticates
    with: what hardoctor resolves and probes."""

    url: str
    server_id: str
    deploy: bool
    contacts: list[Contact]
    mirror: MirrorView | None
    server: ServerView | None

    @property
    def host(self) -> str:
        return url_host(self.url)

    @property
    def public(self) -> bool:
        return self.host.split(":")[0] in PUBLIC_HOSTS

    @property
    def blocked(self) -> bool:
        return self.mirror is not None and self.mirror.blocked


@dataclass(eq=False)
class GradleValue:
    value: str = field(repr=False)
    where: Location
    source_id: str
    description: str


@dataclass(eq=False)
class GradleEndpoint:
    repo: gradle.GradleRepo
    entry: FileEntry
    url: str
    credential: Credential | None = None
    #: (property or variable names tried, what was found) for the chain.
    username: GradleValue | None = None
    password: GradleValue | None = None
    missing: list[str] = field(default_factory=list)
    #: Values of the credentials block that cannot be read without running Gradle.
    unknown: list[str] = field(default_factory=list)
    #: Every place that holds the password property, first one wins.
    candidates: list[GradleValue] = field(default_factory=list)

    @property
    def host(self) -> str:
        return url_host(self.url)

    def loc(self) -> Location:
        return Location(self.entry.path, self.repo.line, None, f'maven repository "{self.repo.name}"')


def url_host(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return ""
    return host if port is None else f"{host}:{port}"


@dataclass(eq=False)
class World:
    ctx_home: str
    project: str
    maven_home: str | None = None
    maven_home_how: str = ""
    maven_version: str | None = None
    args: locate.MavenArgs = field(default_factory=locate.MavenArgs)
    args_entry: FileEntry | None = None
    entries: list[FileEntry] = field(default_factory=list)
    user_settings_path: str = ""
    global_settings_path: str | None = None
    user: FileEntry | None = None
    glob: FileEntry | None = None
    master: Master = field(default_factory=lambda: Master("missing", ""))
    security_entry: FileEntry | None = None
    servers: list[ServerView] = field(default_factory=list)
    server_by_id: dict[str, ServerView] = field(default_factory=dict)
    mirrors: list[MirrorView] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    poms: list[FileEntry] = field(default_factory=list)
    gradle_endpoints: list[GradleEndpoint] = field(default_factory=list)
    gradle_props: dict[str, list[GradleValue]] = field(default_factory=dict)
    credentials: list[Credential] = field(default_factory=list)
    env_source: Source | None = None

    @property
    def sources(self) -> list[Source]:
        out = [e.source for e in self.entries]
        if self.env_source is not None:
            out.append(self.env_source)
        return out

    def entry_for(self, source_id: str) -> FileEntry | None:
        return next((e for e in self.entries if e.source.id == source_id), None)

    def endpoint_for_server(self, server_id: str) -> list[Endpoint]:
        return [e for e in self.endpoints if e.server_id == server_id]


# -- building it -----------------------------------------------------------------------


def _source(path: str, description: str, data: Any, payload: Any = None) -> Source:
    if data.text is None:
        return Source(id=f"maven:{path}", ecosystem=ECO, kind="file", description=description,
                      path=path, error=data.error or "unreadable", payload=payload)
    return Source(id=f"maven:{path}", ecosystem=ECO, kind="file", description=description,
                  path=path, text=data.text, mtime=data.mtime, mode=data.mode, payload=payload)


def _read(ctx: Context, w: World, path: str, kind: str, role: str, description: str) -> FileEntry | None:
    path = os.path.abspath(path)
    if any(e.path == path for e in w.entries):
        return next(e for e in w.entries if e.path == path)
    data = read_file(ctx, path)
    if data is None:
        return None
    entry = FileEntry(path, kind, role, _source(path, description, data), text=data.text)
    entry.source = replace(entry.source, payload=entry)
    w.entries.append(entry)
    if data.text is None:
        return entry
    try:
        if kind == "settings":
            entry.parsed = parse_settings(data.text, path, role)
        elif kind == "security":
            entry.parsed = parse_security(data.text, path)
        elif kind == "pom":
            entry.parsed = parse_pom(data.text, path)
        elif kind == "gradle-properties":
            entry.parsed = gradle.parse_properties(data.text)
        elif kind == "gradle-script":
            entry.parsed = gradle.scan_script(data.text, path)
        elif kind == "maven-config":
            entry.parsed = locate.parse_maven_args(data.text, ctx.project)
    except XmlError as exc:
        entry.error = exc
    return entry


def build(ctx: Context) -> World:
    w = World(ctx.home, ctx.project)
    w.maven_home, w.maven_home_how = locate.maven_home(ctx)
    w.maven_version = locate.maven_version(w.maven_home)
    basedir = locate.maven_basedir(ctx.project)
    cfg = _read(ctx, w, os.path.join(basedir, ".mvn", "maven.config"), "maven-config", "project",
                "Maven command-line defaults (.mvn/maven.config)")
    if cfg is not None and isinstance(cfg.parsed, locate.MavenArgs):
        w.args = cfg.parsed
        w.args_entry = cfg
    props = dict(locate.opts_properties(ctx.getenv("MAVEN_OPTS")))
    props.update(w.args.properties)
    w.args.properties = props

    w.user_settings_path = w.args.user_settings or os.path.join(ctx.home, ".m2", "settings.xml")
    if w.args.global_settings:
        w.global_settings_path = w.args.global_settings
    elif w.maven_home:
        w.global_settings_path = os.path.join(w.maven_home, "conf", "settings.xml")
    for opt, path in (("-s", w.args.user_settings), ("-gs", w.args.global_settings)):
        if path and not os.path.exists(path):
            w.args.missing.append((opt, path))
    w.user = _read(ctx, w, w.user_settings_path, "settings", "user", "Maven user settings")
    if w.global_settings_path:
        w.glob = _read(ctx, w, w.global_settings_path, "settings", "global",
                       "Maven global settings")
        if w.glob is w.user:
            w.glob = None  # -s and -gs name the same file: read it once
    _master(ctx, w)
    _poms(ctx, w)
    _servers(ctx, w)
    _mirrors(ctx, w)
    _contacts(ctx, w)
    _endpoints(w)
    _gradle(ctx, w)
    _tracked(ctx, w)
    w.credentials = _credentials(w)
    return w


def _settings_props(ctx: Context, w: World) -> dict[str, str]:
    props = {"user.home": ctx.home, "user.name": ctx.getenv("USER") or ""}
    if w.maven_home:
        props["maven.home"] = w.maven_home
    props.update(w.args.properties)
    return props


def _settings_files(w: World) -> list[tuple[FileEntry, SettingsFile]]:
    out = []
    for e in (w.user, w.glob):
        if e is not None and isinstance(e.parsed, SettingsFile):
            out.append((e, e.parsed))
    return out


def _master(ctx: Context, w: World) -> None:
    path = w.args.properties.get("settings.security") or os.path.join(
        ctx.home, ".m2", "settings-security.xml")
    path = ctx.env.expand_home(path)
    entry = _read(ctx, w, path, "security", "user", "Maven settings-security.xml (master password)")
    for _ in range(3):  # <relocation> chains, bounded
        if entry is None or not isinstance(entry.parsed, SecurityFile) or not entry.parsed.relocation:
            break
        target = ctx.env.expand_home(entry.parsed.relocation)
        if not os.path.isabs(target):
            target = os.path.join(os.path.dirname(path), target)
        path = target
        entry = _read(ctx, w, target, "security", "user",
                      "Maven settings-security.xml (relocated master password)")
    w.security_entry = entry
    if entry is None:
        w.master = Master("missing", path, detail=f"{ctx.display_path(path)} does not exist")
        return
    if entry.text is None:
        w.master = Master("unreadable", path, detail=f"{ctx.display_path(path)} cannot be read")
        return
    if entry.error is not None or not isinstance(entry.parsed, SecurityFile):
        w.master = Master("invalid", path, detail=f"{ctx.display_path(path)} is not valid XML")
        return
    sec = entry.parsed
    if not sec.master:
        w.master = Master("empty", path, line=None,
                          detail=f"{ctx.display_path(path)} has no <master>")
        return
    Secret(sec.master)  # registered for redaction
    try:
        secret = maven_decrypt_master(sec.master)
    except PeelError as exc:
        w.master = Master("undecryptable", path, line=sec.master_line,
                          detail=f"the <master> in {ctx.display_path(path)} {exc}")
        return
    w.master = Master("ok", path, secret, sec.master_line)


def _servers(ctx: Context, w: World) -> None:
    props = _settings_props(ctx, w)
    by_id: dict[str, ServerView] = {}
    for entry, sf in _settings_files(w):
        seen: dict[str, int] = {}
        file_ids: dict[str, ServerView] = {}
        for srv in sf.servers:
            sid = interpolate(srv.id, ctx, props).value
            n = seen.get(sid, 0) + 1
            seen[sid] = n
            cred_id = f"maven:{entry.path}#server[{sid}]" + (f"#{n}" if n > 1 else "")
            user = interpolate(srv.username, ctx, props) if srv.username is not None else None
            raw_pw = interpolate(srv.password, ctx, props) if srv.password is not None else None
            # Everything secret in the block is registered for redaction at once,
            # also what is never sent (header values, passphrase, the
            # encrypted form): a fix's diff may show those lines.
            for value in (srv.password, raw_pw.value if raw_pw else None, srv.passphrase,
                          *(h.value for h in srv.headers)):
                if value:
                    Secret(value)
            pw = decrypt_password(raw_pw.value if raw_pw else None, w.master)
            if raw_pw is not None and raw_pw.unset_env:
                pw = Password(pw.sent, "env-unset", pw.encrypted, pw.detail, raw_pw.unset_env)
            view = ServerView(srv, entry, sid, user.value if user else None, pw, cred_id,
                              user.unset_env if user else ())
            w.servers.append(view)
            # Within one file the last duplicate wins (a map put); a user
            # file's id hides the global file's (MavenSettingsMerger).
            if sid in file_ids:
                file_ids[sid].lost_to = view
            file_ids[sid] = view
        for sid, view in file_ids.items():
            if sid in by_id:
                view.lost_to = by_id[sid]
                continue
            by_id[sid] = view
    for view in by_id.values():
        view.effective = True
    w.server_by_id = by_id


def _mirrors(ctx: Context, w: World) -> None:
    props = _settings_props(ctx, w)
    user_ids: set[str] = set()
    for entry, sf in _settings_files(w):
        ids: set[str] = set()
        for m in sf.mirrors:
            mid = interpolate(m.id, ctx, props).value
            if entry.role == "global" and mid in user_ids:
                continue  # shallowMergeById: the user's mirror with this id wins
            ids.add(mid)
            w.mirrors.append(MirrorView(
                m, entry, mid, interpolate(m.mirror_of, ctx, props).value,
                strip_userinfo(interpolate(m.url, ctx, props).value).rstrip("/"), m.layouts,
                m.blocked))
        user_ids |= ids if entry.role == "user" else set()


def _poms(ctx: Context, w: World) -> None:
    root = os.path.join(ctx.project, "pom.xml")
    queue: list[tuple[str, str]] = [(root, "project")]
    while queue and len(w.poms) < MAX_POMS:
        path, role = queue.pop(0)
        if any(p.path == os.path.abspath(path) for p in w.poms):
            continue
        entry = _read(ctx, w, path, "pom", role, "Maven project POM" if role == "project"
                      else f"Maven {role} POM")
        if entry is None:
            continue
        w.poms.append(entry)
        pom = entry.parsed
        if not isinstance(pom, Pom):
            continue
        here = os.path.dirname(entry.path)
        if pom.parent_path:
            ppath = os.path.normpath(os.path.join(here, pom.parent_path))
            if os.path.isdir(ppath):
                ppath = os.path.join(ppath, "pom.xml")
            queue.append((ppath, "parent"))
        for mod in pom.modules:
            mpath = os.path.normpath(os.path.join(here, mod))
            if os.path.isdir(mpath):
                mpath = os.path.join(mpath, "pom.xml")
            # Modules inside the project tree only.
            if mpath.startswith(os.path.abspath(ctx.project) + os.sep):
                queue.append((mpath, "module"))


def _pom_parent(w: World, entry: FileEntry) -> FileEntry | None:
    pom = entry.parsed
    if not isinstance(pom, Pom) or not pom.parent_path:
        return None
    here = os.path.dirname(entry.path)
    ppath = os.path.normpath(os.path.join(here, pom.parent_path))
    if os.path.isdir(ppath):
        ppath = os.path.join(ppath, "pom.xml")
    parent = next((p for p in w.poms if p.path == ppath), None)
    if parent is None or not isinstance(parent.parsed, Pom):
        return None
    # Maven uses the file only when it is the declared parent.
    if pom.parent_artifact and parent.parsed.artifact_id != pom.parent_artifact:
        return None
    return parent


def _pom_props(w: World, entry: FileEntry, depth: int = 0) -> dict[str, str]:
    pom = entry.parsed
    if not isinstance(pom, Pom) or depth > 10:
        return {}
    parent = _pom_parent(w, entry)
    props = _pom_props(w, parent, depth + 1) if parent is not None else {}
    props.update(pom.properties)
    props["project.basedir"] = os.path.dirname(entry.path)
    props["basedir"] = os.path.dirname(entry.path)
    return props


def _active(profiles: list[Profile], explicit: dict[str, bool]) -> list[Profile]:
    """``DefaultProfileSelector``: explicitly activated ones; when none is,
    the ``activeByDefault`` ones.  Deactivated ids never."""
    on = [p for p in profiles if explicit.get(p.id) is True]
    if not on:
        on = [p for p in profiles if p.active_by_default and explicit.get(p.id) is not False]
    return on


def _contacts(ctx: Context, w: World) -> None:
    explicit: dict[str, bool] = {}
    settings_profiles: list[tuple[FileEntry, Profile]] = []
    user_profile_ids: set[str] = set()
    for entry, sf in _settings_files(w):
        for pid in sf.active_profiles:
            explicit.setdefault(pid, True)
        for p in sf.profiles:
            if entry.role == "global" and p.id in user_profile_ids:
                continue
            settings_profiles.append((entry, p))
        if entry.role == "user":
            user_profile_ids = {p.id for p in sf.profiles}
    for pid, on in w.args.profiles:
        explicit[pid] = on
    active = _active([p for _, p in settings_profiles], explicit)
    sprops = _settings_props(ctx, w)
    for p in active:
        sprops.update(p.properties)

    found: list[Contact] = []
    for entry, p in settings_profiles:
        if p in active:
            for r in p.repositories:
                found.append(_contact(ctx, r, entry, sprops))
    for entry in w.poms:
        pom = entry.parsed
        if not isinstance(pom, Pom):
            continue
        props = dict(sprops)
        props.update(_pom_props(w, entry))
        for prop, value in pom.properties.items():
            if value and gradle.SECRET_KEY.search(prop):
                Secret(value)
        for r in pom.repositories:
            found.append(_contact(ctx, r, entry, props))
        for p in _active(pom.profiles, explicit):
            for r in p.repositories:
                found.append(_contact(ctx, r, entry, props))
    for kind in ("repository", "pluginRepository"):
        if not any(c.repo.kind == kind and c.repo.id == CENTRAL_ID for c in found):
            found.append(Contact(Repo(CENTRAL_ID, CENTRAL_URL, None, kind), CENTRAL_URL, None))
    seen: set[tuple[str, str, str]] = set()
    for c in found:
        if not c.repo.id or not c.url:
            continue  # Maven refuses such a POM before contacting anything
        key = ("deploy" if c.deploy else "read", c.repo.id, c.url)
        if key in seen:
            continue
        seen.add(key)
        if not c.deploy:
            picked = mirrors.select_mirror(c.repo.id, c.url, w.mirrors)
            if picked is not None:
                c.mirror, c.match = w.mirrors[picked[0]], picked[1]
        w.contacts.append(c)


def strip_userinfo(url: str) -> str:
    """The URL without ``user:password@`` (the password is registered as a
    secret, so it is scrubbed wherever it might still appear)."""
    m = re.match(r"^([a-z][a-z0-9+.-]*://)([^/@]*)@(.*)$", url, re.I | re.S)
    if not m:
        return url
    _, _, password = m.group(2).partition(":")
    if password:
        Secret(password)
    return m.group(1) + m.group(3)


def _contact(ctx: Context, r: Repo, entry: FileEntry, props: dict[str, str]) -> Contact:
    rid = interpolate(r.id, ctx, props).value
    url = interpolate(r.url, ctx, props)
    url = Interp(strip_userinfo(url.value), url.unset_env, url.unresolved)
    repo = Repo(rid, url.value, r.elem, r.kind, r.id_elem, r.url_elem, r.path, r.profile)
    return Contact(repo, url.value.rstrip("/") if url.value != "/" else url.value, entry,
                   url_unset=url.unset_env)


def _endpoints(w: World) -> None:
    groups: dict[tuple[str, str, bool], Endpoint] = {}
    for c in w.contacts:
        key = (c.effective_url.rstrip("/"), c.server_id, c.deploy)
        ep = groups.get(key)
        if ep is None:
            ep = groups[key] = Endpoint(c.effective_url.rstrip("/"), c.server_id, c.deploy, [],
                                        c.mirror, w.server_by_id.get(c.server_id))
        ep.contacts.append(c)
    w.endpoints = list(groups.values())
    for view in w.servers:
        eps = w.endpoint_for_server(view.id) if view.effective else []
        if eps:
            view.registry = eps[0].url
            continue
        # Not used: the URL of whatever carries its id, for display and
        # for the HAR URL checks.
        for c in w.contacts:
            if c.repo.id == view.id:
                view.registry = c.url
                break
        else:
            for m in w.mirrors:
                if m.id == view.id:
                    view.registry = m.url
                    break


# -- Gradle ------------------------------------------------------------------------


def _gradle(ctx: Context, w: World) -> None:
    user_props = _read(ctx, w, os.path.join(locate.gradle_user_home(ctx), "gradle.properties"),
                       "gradle-properties", "user", "Gradle user properties")
    project_props = _read(ctx, w, os.path.join(ctx.project, "gradle.properties"),
                          "gradle-properties", "project", "Gradle project properties")
    env_names = sorted(k for k in ctx.env.environ if k.startswith("ORG_GRADLE_PROJECT_"))
    if env_names:
        w.env_source = Source(
            id="maven:env:ORG_GRADLE_PROJECT_", ecosystem=ECO, kind="env",
            description="ORG_GRADLE_PROJECT_* environment variables (Gradle project properties)",
            path=None,
        )
    props: dict[str, list[GradleValue]] = {}
    for name in env_names:
        value = ctx.getenv(name) or ""
        key = name[len("ORG_GRADLE_PROJECT_"):]
        props.setdefault(key, []).append(GradleValue(
            value, Location(None, key=f"${name}"), "maven:env:ORG_GRADLE_PROJECT_",
            f"environment variable {name}"))
    for entry in (user_props, project_props):
        if entry is None or not isinstance(entry.parsed, list):
            continue
        last: dict[str, gradle.Prop] = {}
        for p in entry.parsed:
            last[p.key] = p
        for key, prop in last.items():
            props.setdefault(key, []).append(GradleValue(
                prop.value, Location(entry.path, prop.line, None, key), entry.source.id,
                f"{ctx.display_path(entry.path)}:{prop.line}"))
    w.gradle_props = props
    for gv in (v for vs in props.values() for v in vs):
        if gradle.SECRET_KEY.search(gv.where.key or "") and gv.value:
            Secret(gv.value)
    for path in locate.gradle_scripts(ctx.project):
        entry = _read(ctx, w, path, "gradle-script", "project", "Gradle build script")
        if entry is None or not isinstance(entry.parsed, list):
            continue
        for repo in entry.parsed:
            if not repo.url:
                continue
            ge = GradleEndpoint(repo, entry, strip_userinfo(repo.url).rstrip("/"))
            _gradle_creds(ctx, w, ge)
            w.gradle_endpoints.append(ge)


def _gradle_lookup(ctx: Context, w: World, kind: str, name: str, entry: FileEntry,
                   line: int) -> list[GradleValue]:
    if kind == "property":
        return list(w.gradle_props.get(name, []))
    if kind == "env":
        value = ctx.getenv(name)
        if value is None:
            return []
        return [GradleValue(value, Location(None, key=f"${name}"), "", f"environment variable {name}")]
    return []


def _gradle_expr(ctx: Context, w: World, ge: GradleEndpoint, expr: gradle.Expr | None,
                 ) -> tuple[GradleValue | None, list[GradleValue], list[str], list[str]]:
    """(value, all candidates, missing names, unknown expressions)."""
    if expr is None:
        return None, [], [], []
    missing: list[str] = []
    unknown: list[str] = []
    for e in (expr, *expr.fallbacks):
        if e.kind == "literal":
            v = GradleValue(e.value, Location(ge.entry.path, e.line), ge.entry.source.id,
                            f"a literal in {ctx.display_path(ge.entry.path)}:{e.line}")
            return v, [v], missing, unknown
        if e.kind == "unknown":
            unknown.append(e.value)
            continue
        found = _gradle_lookup(ctx, w, e.kind, e.value, ge.entry, e.line)
        if found:
            return found[0], found, missing, unknown
        missing.append(("$" if e.kind == "env" else "") + e.value)
    return None, [], missing, unknown


def _gradle_creds(ctx: Context, w: World, ge: GradleEndpoint) -> None:
    repo = ge.repo
    user_e: gradle.Expr | None
    pw_e: gradle.Expr | None
    if repo.creds == "properties":
        user_e = gradle.Expr("property", f"{repo.name}Username", repo.line)
        pw_e = gradle.Expr("property", f"{repo.name}Password", repo.line)
    elif repo.creds == "block":
        user_e, pw_e = repo.username, repo.password
    else:
        return
    user, _, m1, u1 = _gradle_expr(ctx, w, ge, user_e)
    pw, cands, m2, u2 = _gradle_expr(ctx, w, ge, pw_e)
    ge.username, ge.password, ge.candidates = user, pw, cands
    ge.missing = m1 + m2
    ge.unknown = u1 + u2
    if pw is None:
        return
    Secret(pw.value)
    cid = f"gradle:{repo.path}:{repo.line}#{repo.name}"
    ge.credential = Credential(
        id=cid, ecosystem=ECO, registry=ge.url, host=ge.host,
        source=pw.source_id or ge.entry.source.id,
        location=pw.where if pw.where.path or pw.where.key else ge.loc(),
        username=user.value if user else None, secret=Secret(pw.value), scheme="basic",
        via=f"gradle {repo.creds}", clients=("gradle",),
    )


# -- git ---------------------------------------------------------------------------


def _tracked(ctx: Context, w: World) -> None:
    """Which project files git tracks (a secret there is committed)."""
    from hardoctor.vcs import tracked

    for e in w.entries:
        # Not the global settings: an /etc kept in git (etckeeper) is no leak.
        if e.role != "global" and e.text is not None and e.kind != "security":
            e.tracked = tracked(ctx, e.path)


# -- credentials -------------------------------------------------------------------------


def _stored_at(entry: FileEntry) -> datetime | None:
    mtime = entry.source.mtime
    return datetime.fromtimestamp(mtime, timezone.utc) if mtime is not None else None


def _credentials(w: World) -> list[Credential]:
    out: list[Credential] = []
    for view in w.servers:
        pw = view.password
        if pw.sent is None and view.username is None:
            continue
        out.append(Credential(
            id=view.cred_id,
            ecosystem=ECO,
            registry=view.registry or view.id,
            host=url_host(view.registry) if view.registry else "",
            source=view.entry.source.id,
            location=view.loc(),
            username=view.username,
            secret=Secret(pw.sent) if pw.sent is not None else None,
            scheme="basic" if pw.sent is not None else "none",
            via="server" + (" (decrypted)" if pw.state == "decrypted" else ""),
            clients=("maven",),
            stored_at=_stored_at(view.entry),
        ))
    for ge in w.gradle_endpoints:
        if ge.credential is not None and all(c.id != ge.credential.id for c in out):
            out.append(ge.credential)
    return out
