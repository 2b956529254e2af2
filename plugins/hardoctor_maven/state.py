"""Typed run state of the Maven/Gradle plugin (the *state* role).

The :class:`World` -- everything Maven and Gradle will do with credentials on
this machine -- is built once per run in ``hardoctor_discover`` and kept in
``ctx.stash[WORLD]``; every other hook reads it.  A :class:`Resolution` this
plugin makes carries an :class:`EndpointRef` payload: a value (URL, server
id, ...) that finds its endpoint in the World again, also on a copy of the
resolution with another credential (``fix --token-stdin``).

This module is imported when the plugin loads, so it imports nothing heavy:
the XML parser and the rest load on the first hook that needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union
from urllib.parse import urlsplit

from hardoctor.model import Credential, Location, PluginData, Secret, Source
from hardoctor.records import dataclass, field
from hardoctor.stash import StashKey

from .locate import MavenArgs

if TYPE_CHECKING:
    from .gradle import GradleRepo, Prop
    from .mvnfiles import Mirror, Pom, Repo, SecurityFile, Server, SettingsFile
    from .xmlpos import XElem, XmlError

ECO = "maven"
#: The run's :class:`World` (absent when the ecosystem is not wanted).
WORLD: StashKey[World] = StashKey("maven.world")
#: Public repositories that never need credentials: not probed unless a
#: server is configured for them.
PUBLIC_HOSTS = frozenset({
    "repo.maven.apache.org", "repo1.maven.org", "repo.maven.org", "central.maven.org",
    "plugins.gradle.org", "maven.google.com", "dl.google.com", "jcenter.bintray.com",
    "jitpack.io",
})


#: What a file parses to, by ``FileEntry.kind``.
Parsed = Union["SettingsFile", "SecurityFile", "Pom", MavenArgs, "list[Prop]",
               "list[GradleRepo]", None]


@dataclass(frozen=True)
class EndpointRef(PluginData):
    """Which endpoint a :class:`~hardoctor.model.Resolution` is about:
    ``client`` ``maven`` with (URL, server id, deploy), or ``gradle`` with
    (build file, line, repository name)."""

    client: str
    key: tuple[str, str, str]


# -- files -------------------------------------------------------------------------


@dataclass(eq=False)
class FileEntry:
    path: str
    kind: str  # settings | security | pom | maven-config | gradle-properties | gradle-script
    role: str  # user | global | project | parent | module
    source: Source
    parsed: Parsed = None
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

    @property
    def ref(self) -> EndpointRef:
        return EndpointRef("maven", (self.url, self.server_id, "deploy" if self.deploy else ""))


@dataclass(eq=False)
class GradleValue:
    value: str = field(repr=False)
    where: Location
    source_id: str
    description: str


@dataclass(eq=False)
class GradleEndpoint:
    repo: GradleRepo
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

    @property
    def ref(self) -> EndpointRef:
        return EndpointRef("gradle", (self.entry.path, str(self.repo.line), self.repo.name))


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
    args: MavenArgs = field(default_factory=MavenArgs)
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



    def endpoint(self, ref: EndpointRef) -> Endpoint | GradleEndpoint | None:
        """The endpoint a resolution's payload names."""
        eps: list[Endpoint] | list[GradleEndpoint] = (
            self.endpoints if ref.client == "maven" else self.gradle_endpoints)
        return next((e for e in eps if e.ref == ref), None)
