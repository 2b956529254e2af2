"""Maven's files as Maven reads them: ``settings.xml``, ``settings-security.xml``
and ``pom.xml``.

Each parse keeps the :class:`~hardoctor_maven.xmlpos.XElem` of every value
so findings can say file:line and fixes can replace exactly one element's
text.  Values are trimmed, as Maven's XPP3 readers trim them.  Nothing is
interpolated here (see :mod:`hardoctor_maven.world`).
"""

from __future__ import annotations

from hardoctor.records import dataclass, field

from .xmlpos import XElem, XmlDoc, XmlError, parse

CENTRAL_ID = "central"
CENTRAL_URL = "https://repo.maven.apache.org/maven2"


@dataclass(eq=False)
class Header:
    """One ``<httpHeaders><property>`` of a server's configuration."""

    name: str
    value: str = field(repr=False)
    elem: XElem


@dataclass(eq=False)
class Server:
    id: str
    elem: XElem
    id_elem: XElem | None
    username: str | None = None
    username_elem: XElem | None = None
    password: str | None = field(default=None, repr=False)
    password_elem: XElem | None = None
    private_key: str | None = None
    passphrase: str | None = field(default=None, repr=False)
    headers: list[Header] = field(default_factory=list)
    #: ``usePreemptive``/``preemptiveAuth`` found in ``<configuration>``.
    preemptive: bool = False
    #: Set by the world: the file this server came from.
    path: str = ""


@dataclass(eq=False)
class Mirror:
    id: str
    elem: XElem
    id_elem: XElem | None
    #: As Maven reads it: trimmed at the ends, *not* around commas.
    mirror_of: str
    mirror_of_elem: XElem | None
    url: str
    url_elem: XElem | None
    layouts: str = ""
    blocked: bool = False
    path: str = ""


@dataclass(eq=False)
class Repo:
    """A ``<repository>``, ``<pluginRepository>`` or distribution target."""

    id: str
    url: str
    elem: XElem | None
    kind: str  # repository | pluginRepository | distribution | snapshotDistribution
    id_elem: XElem | None = None
    url_elem: XElem | None = None
    #: Where it was declared: a file path, or "" for Maven's built-in central.
    path: str = ""
    profile: str | None = None


@dataclass(eq=False)
class Profile:
    id: str
    elem: XElem
    active_by_default: bool
    #: Other activation conditions (jdk, os, property, file) hardoctor does
    #: not evaluate.
    conditional: bool
    repositories: list[Repo] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class SettingsFile:
    path: str
    role: str  # "user" | "global"
    doc: XmlDoc
    servers: list[Server] = field(default_factory=list)
    mirrors: list[Mirror] = field(default_factory=list)
    profiles: list[Profile] = field(default_factory=list)
    active_profiles: list[str] = field(default_factory=list)
    servers_elem: XElem | None = None


@dataclass(eq=False)
class Pom:
    path: str
    doc: XmlDoc
    group_id: str | None
    artifact_id: str | None
    repositories: list[Repo] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    profiles: list[Profile] = field(default_factory=list)
    parent_path: str | None = None
    parent_artifact: str | None = None
    modules: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SecurityFile:
    path: str
    master: str | None = field(default=None, repr=False)
    master_line: int | None = None
    relocation: str | None = None


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _repo(elem: XElem, kind: str, path: str, profile: str | None = None) -> Repo:
    id_elem = elem.child("id")
    url_elem = elem.child("url")
    return Repo(
        id=id_elem.text if id_elem is not None else "",
        url=url_elem.text if url_elem is not None else "",
        elem=elem,
        kind=kind,
        id_elem=id_elem,
        url_elem=url_elem,
        path=path,
        profile=profile,
    )


def _repos_of(container: XElem, path: str, profile: str | None = None) -> list[Repo]:
    out = [_repo(e, "repository", path, profile) for e in container.path("repositories", "repository")]
    out += [
        _repo(e, "pluginRepository", path, profile)
        for e in container.path("pluginRepositories", "pluginRepository")
    ]
    return out


def _properties(container: XElem) -> dict[str, str]:
    props: dict[str, str] = {}
    el = container.child("properties")
    if el is not None:
        for p in el.children:
            props[p.tag] = p.text
    return props


def _profile(elem: XElem, path: str) -> Profile:
    pid = elem.value("id") or "default"
    act = elem.child("activation")
    by_default = False
    conditional = False
    if act is not None:
        by_default = _bool(act.value("activeByDefault"))
        conditional = any(c.tag != "activeByDefault" for c in act.children)
    prof = Profile(pid, elem, by_default, conditional)
    prof.repositories = _repos_of(elem, path, pid)
    prof.properties = _properties(elem)
    return prof


def _server(elem: XElem, path: str) -> Server:
    id_elem = elem.child("id")
    srv = Server(id=id_elem.text if id_elem is not None else "", elem=elem, id_elem=id_elem,
                 path=path)
    user = elem.child("username")
    if user is not None:
        srv.username, srv.username_elem = user.text, user
    pw = elem.child("password")
    if pw is not None:
        srv.password, srv.password_elem = pw.text, pw
    srv.private_key = elem.value("privateKey")
    srv.passphrase = elem.value("passphrase")
    conf = elem.child("configuration")
    if conf is not None:
        for prop in conf.path("httpHeaders", "property"):
            srv.headers.append(Header(prop.value("name") or "", prop.value("value") or "", prop))
        # Maven 3.9's resolver transport and wagon's httpConfiguration.
        stack = [conf]
        while stack:
            e = stack.pop()
            if e.tag in ("usePreemptive", "preemptiveAuth", "preemptivePutAuth") and _bool(e.text):
                srv.preemptive = True
            stack.extend(e.children)
    return srv


def _mirror(elem: XElem, path: str) -> Mirror:
    id_elem = elem.child("id")
    of = elem.child("mirrorOf")
    url = elem.child("url")
    return Mirror(
        id=id_elem.text if id_elem is not None else "",
        elem=elem,
        id_elem=id_elem,
        mirror_of=of.text if of is not None else "",
        mirror_of_elem=of,
        url=url.text if url is not None else "",
        url_elem=url,
        layouts=elem.value("mirrorOfLayouts") or "",
        blocked=_bool(elem.value("blocked")),
        path=path,
    )


def parse_settings(text: str, path: str, role: str) -> SettingsFile:
    """Raise :class:`XmlError` when Maven could not read it either."""
    doc = parse(text)
    root = doc.root
    if root.tag != "settings":
        raise XmlError("has another root element, not <settings>", root.line, root.column)
    sf = SettingsFile(path, role, doc)
    sf.servers_elem = root.child("servers")
    sf.servers = [_server(e, path) for e in root.path("servers", "server")]
    sf.mirrors = [_mirror(e, path) for e in root.path("mirrors", "mirror")]
    sf.profiles = [_profile(e, path) for e in root.path("profiles", "profile")]
    sf.active_profiles = [e.text for e in root.path("activeProfiles", "activeProfile") if e.text]
    return sf


def parse_pom(text: str, path: str) -> Pom:
    doc = parse(text)
    root = doc.root
    if root.tag != "project":
        raise XmlError("has another root element, not <project>", root.line, root.column)
    pom = Pom(path, doc, root.value("groupId"), root.value("artifactId"))
    pom.repositories = _repos_of(root, path)
    dm = root.child("distributionManagement")
    if dm is not None:
        for tag, kind in (("repository", "distribution"), ("snapshotRepository", "snapshotDistribution")):
            e = dm.child(tag)
            if e is not None:
                pom.repositories.append(_repo(e, kind, path))
    pom.properties = _properties(root)
    pom.profiles = [_profile(e, path) for e in root.path("profiles", "profile")]
    parent = root.child("parent")
    if parent is not None:
        rel = parent.child("relativePath")
        # An empty <relativePath/> means "do not look on disk".
        pom.parent_path = rel.text if rel is not None else "../pom.xml"
        pom.parent_artifact = parent.value("artifactId")
    pom.modules = [e.text for e in root.path("modules", "module") if e.text]
    return pom


def parse_security(text: str, path: str) -> SecurityFile:
    doc = parse(text)
    root = doc.root
    master = root.child("master")
    return SecurityFile(
        path,
        master.text if master is not None and master.text else None,
        master.line if master is not None else None,
        root.value("relocation") or None,
    )
