"""Finding and parsing the Docker-format auth files.

One parser serves every client that reads this format (Docker CLI,
podman/skopeo/buildah, Helm): they agree on the syntax and disagree on what
they do with it, which is :mod:`hardoctor_docker.resolve`'s business.  The
parse keeps character spans so findings can say file:line and fixes can edit
a key without touching any other byte.
"""

from __future__ import annotations

import base64
import binascii
import os
from datetime import datetime, timezone

from hardoctor import jsonspan, redact
from hardoctor.context import Context
from hardoctor.files import read_file
from hardoctor.model import Location, PluginData, Source
from hardoctor.records import dataclass, field
from hardoctor.targets import split_host_url

from .hub import HUB

#: The key `docker login` writes for Docker Hub (the CLI's legacy index URL).
DOCKER_HUB_KEY = "https://index.docker.io/v1/"

ECOSYSTEM = "docker"

#: Top-level keys Docker's ConfigFile knows (matched case-insensitively).
KNOWN_KEYS = (
    "auths",
    "credsStore",
    "credHelpers",
    "HttpHeaders",
    "psFormat",
    "imagesFormat",
    "networksFormat",
    "pluginsFormat",
    "volumesFormat",
    "statsFormat",
    "detachKeys",
    "serviceInspectFormat",
    "servicesFormat",
    "secretFormat",
    "configFormat",
    "nodesFormat",
    "tasksFormat",
    "stackOrchestrator",
    "experimental",
    "kubernetes",
    "currentContext",
    "cliPluginsExtraDirs",
    "plugins",
    "aliases",
    "features",
    "proxies",
    "orchestrator",
    "credentialSpecs",
)
#: Misspellings seen in the wild -> what was meant.  Docker silently ignores
#: unknown keys, so `credStore` quietly disables the store.
MISSPELLINGS = {
    "credstore": "credsStore",
    "credsstores": "credsStore",
    "credentialsstore": "credsStore",
    "credshelper": "credHelpers",
    "credhelper": "credHelpers",
    "credhelpers": "credHelpers",
    "credentialhelpers": "credHelpers",
    "auth": "auths",
    "auhts": "auths",
    "authes": "auths",
    "registry-auths": "auths",
}
SECRET_FIELDS = ("auth", "password", "identitytoken", "registrytoken")
ENTRY_FIELDS = ("auth", "username", "password", "email", "identitytoken", "registrytoken", "serveraddress")


@dataclass(frozen=True)
class AuthEntry:
    """One ``auths`` entry.  ``fields`` maps the lower-cased field name to its
    member (Docker matches field names case-insensitively; last one wins)."""

    key: str
    member: jsonspan.Member
    fields: dict[str, jsonspan.Member]
    line: int

    def text(self, name: str) -> str | None:
        m = self.fields.get(name)
        if m is None or m.value.kind != "string":
            return None
        value = m.value.value
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class DecodedAuth:
    username: str | None
    password: str | None
    #: Why the `auth` value is unusable (None when it decoded fine).
    problem: str | None = None
    #: True when the whole file fails to load in the Docker CLI because of it.
    breaks_file: bool = False


@dataclass
class DockerConfig:
    """A parsed Docker-format file (or the DOCKER_AUTH_CONFIG value)."""

    text: str
    legacy: bool = False
    root: jsonspan.Node | None = None
    error: jsonspan.JSONSpanError | None = None
    auths_member: jsonspan.Member | None = None
    entries: list[AuthEntry] = field(default_factory=list)
    creds_store: jsonspan.Member | None = None
    cred_helpers_member: jsonspan.Member | None = None
    cred_helpers: dict[str, jsonspan.Member] = field(default_factory=dict)
    #: Structural problems that make Docker refuse the file (wrong types).
    type_errors: list[tuple[str, int]] = field(default_factory=list)

    @property
    def store_name(self) -> str | None:
        if self.creds_store is None or self.creds_store.value.kind != "string":
            return None
        value = self.creds_store.value.value
        return value or None

    def line(self, pos: int) -> int:
        return jsonspan.line_col(self.text, pos)[0]


def parse_config(text: str, legacy: bool = False) -> DockerConfig:
    """Parse a Docker-format file.  ``legacy`` is ``~/.dockercfg``: the
    registry map sits at the top level, without the ``auths`` wrapper."""
    doc = DockerConfig(text=text, legacy=legacy)
    body = text[1:] if jsonspan.has_bom(text) else text
    try:
        root = jsonspan.parse(text)
    except jsonspan.JSONSpanError as exc:
        if body.strip() == "":
            # Docker treats an empty file as an empty config.
            return doc
        doc.error = exc
        return doc
    doc.root = root
    if root.kind != "object":
        doc.type_errors.append(("the file must hold a JSON object", root.start))
        return doc
    auths = jsonspan.member(root, "auths", casefold=True)
    doc.auths_member = auths
    if legacy and auths is None:
        auths = jsonspan.Member("", root.start, root.start, root)
    if auths is not None:
        _parse_auths(doc, auths, text)
    store = jsonspan.member(root, "credsStore", casefold=True)
    if store is not None:
        if store.value.kind == "string":
            doc.creds_store = store
        elif store.value.kind != "null":
            doc.type_errors.append(("credsStore must be a string", store.value.start))
    helpers = jsonspan.member(root, "credHelpers", casefold=True)
    doc.cred_helpers_member = helpers
    if helpers is not None:
        _parse_helpers(doc, helpers)
    return doc


def _parse_auths(doc: DockerConfig, auths: jsonspan.Member, text: str) -> None:
    if auths.value.kind != "object":
        if auths.value.kind != "null":
            doc.type_errors.append(("auths must be an object", auths.value.start))
        return
    for m in auths.value.members:
        if m.value.kind != "object":
            if m.value.kind != "null":
                doc.type_errors.append((f'auths["{m.key}"] must be an object', m.value.start))
            continue
        fields: dict[str, jsonspan.Member] = {}
        for fm in m.value.members:
            fields[fm.key.lower()] = fm
            if fm.key.lower() in SECRET_FIELDS and fm.value.kind == "string":
                _register_secret(text, fm.value)
            if fm.key.lower() in ENTRY_FIELDS and fm.value.kind not in ("string", "null"):
                doc.type_errors.append(
                    (f'auths["{m.key}"].{fm.key} must be a string', fm.value.start)
                )
        doc.entries.append(AuthEntry(m.key, m, fields, doc.line(m.key_start)))


def _parse_helpers(doc: DockerConfig, helpers: jsonspan.Member) -> None:
    if helpers.value.kind != "object":
        if helpers.value.kind != "null":
            doc.type_errors.append(("credHelpers must be an object", helpers.value.start))
        return
    for m in helpers.value.members:
        if m.value.kind == "string":
            doc.cred_helpers[m.key] = m
        else:
            doc.type_errors.append((f'credHelpers["{m.key}"] must be a string', m.value.start))


def _register_secret(text: str, node: jsonspan.Node) -> None:
    """Every secret-bearing value is scrubbed from output -- also fields the
    client ignores (a `password` next to an `auth`), and also as written in
    the file (JSON escapes such as \\u0065), which is what a fix diff shows."""
    if isinstance(node.value, str):
        redact.register(node.value)
    redact.register(text[node.start + 1 : node.end - 1])


def decode_auth(value: str) -> DecodedAuth:
    """Decode an ``auth`` value exactly as the Docker CLI does: standard
    base64 with padding, split at the first ``:``."""
    if value == "":
        return DecodedAuth(None, None)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        pos = _first_bad_b64(value)
        return DecodedAuth(None, None, f"is not valid base64 (illegal data at input byte {pos})", True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return DecodedAuth(None, None, "does not decode to UTF-8 text", True)
    if ":" not in text:
        return DecodedAuth(None, None, "decodes to a value without ':' (expected user:password)", True)
    user, password = text.split(":", 1)
    if user == "":
        return DecodedAuth(user, password, "decodes to an empty user name (expected user:password)", True)
    return DecodedAuth(user, password)


def _first_bad_b64(value: str) -> int:
    ok = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    for i, ch in enumerate(value):
        if ch not in ok and not (ch == "=" and i >= len(value) - 2):
            return i
    return len(value)


def key_host(key: str) -> str:
    """What Docker's ``ConvertToHostname`` makes of a key: scheme and path
    stripped.  Docker Hub aliases stay as written (the CLI does not alias)."""
    stripped = key
    for prefix in ("http://", "https://"):
        if stripped.startswith(prefix):
            stripped = stripped[len(prefix) :]
            break
    return stripped.split("/", 1)[0]


def canonical_key(host: str) -> str:
    """The key the Docker CLI looks up (and `docker login` writes)."""
    return DOCKER_HUB_KEY if HUB.owns(host) else host


def containers_key(key: str) -> str:
    """containers/image's normalisation of an auth-file key: URL keys become
    their host; plain keys keep their path (namespaced entries); Docker Hub
    aliases become ``docker.io``."""
    stripped = key
    was_url = False
    for prefix in ("http://", "https://"):
        if stripped.startswith(prefix):
            stripped = stripped[len(prefix) :]
            was_url = True
            break
    if was_url:
        stripped = stripped.split("/", 1)[0]
    head, _, rest = stripped.partition("/")
    if HUB.owns(head):
        head = "docker.io"
    return f"{head}/{rest}" if rest else head


# -- locating files -----------------------------------------------------------


@dataclass(frozen=True)
class FileRole:
    """A path some client reads, and how."""

    path: str
    clients: tuple[str, ...]
    description: str


def docker_config_dir(ctx: Context) -> tuple[str, bool]:
    """(directory, explicitly set by DOCKER_CONFIG)."""
    env = ctx.getenv("DOCKER_CONFIG")
    if env:
        return ctx.env.expand_home(env), True
    return os.path.join(ctx.home, ".docker"), False


def containers_primary(ctx: Context) -> tuple[str, bool]:
    """containers/image's primary auth file and whether it was chosen
    explicitly (REGISTRY_AUTH_FILE), which disables the fallbacks."""
    explicit = ctx.getenv("REGISTRY_AUTH_FILE")
    if explicit:
        return ctx.env.expand_home(explicit), True
    if ctx.getenv("DOCKER_CONFIG"):
        return os.path.join(docker_config_dir(ctx)[0], "config.json"), True
    if ctx.env.windows or ctx.env.macos:  # getPathToAuthWithOS: no runtime dir there
        return os.path.join(ctx.home, ".config", "containers", "auth.json"), False
    runtime = ctx.getenv("XDG_RUNTIME_DIR") or f"/run/containers/{ctx.env.uid}"
    if ctx.getenv("XDG_RUNTIME_DIR"):
        return os.path.join(runtime, "containers", "auth.json"), False
    return os.path.join(runtime, "auth.json"), False


def containers_chain(ctx: Context) -> list[str]:
    primary, explicit = containers_primary(ctx)
    chain = [primary]
    if not explicit:
        xdg = ctx.getenv("XDG_CONFIG_HOME") or os.path.join(ctx.home, ".config")
        chain.append(os.path.join(xdg, "containers", "auth.json"))
        chain.append(os.path.join(docker_config_dir(ctx)[0], "config.json"))
        chain.append(os.path.join(ctx.home, ".dockercfg"))
    return list(dict.fromkeys(chain))  # macOS/Windows: primary == the XDG fallback


def helm_registry_config(ctx: Context) -> str:
    explicit = ctx.getenv("HELM_REGISTRY_CONFIG")
    if explicit:
        return ctx.env.expand_home(explicit)
    base = ctx.getenv("HELM_CONFIG_HOME")
    if not base:
        # helmpath's lazypath: $XDG_CONFIG_HOME, else the platform's config home
        # (lazypath_darwin.go: ~/Library/Preferences; lazypath_windows.go: %APPDATA%).
        xdg = ctx.getenv("XDG_CONFIG_HOME")
        if not xdg and ctx.env.macos:
            xdg = os.path.join(ctx.home, "Library", "Preferences")
        elif not xdg and ctx.env.windows:
            xdg = ctx.env.appdata()
        base = os.path.join(xdg or os.path.join(ctx.home, ".config"), "helm")
    return os.path.join(base, "registry", "config.json")


def read_source(
    ctx: Context, path: str, clients: tuple[str, ...], description: str, legacy: bool = False
) -> Source | None:
    """Read one file into a Source (parsed payload attached), or None when it
    does not exist."""
    data = read_file(ctx, path)
    if data is None:
        return None
    if data.text is None:
        return _source(path, clients, description, error=data.error or "unreadable")
    return Source(
        id=f"docker:{path}",
        ecosystem=ECOSYSTEM,
        kind="file",
        description=description,
        path=path,
        text=data.text,
        mtime=data.mtime,
        mode=data.mode,
        payload=FilePayload(parse_config(data.text, legacy), clients),
    )


def _source(path: str, clients: tuple[str, ...], description: str, error: str) -> Source:
    return Source(
        id=f"docker:{path}",
        ecosystem=ECOSYSTEM,
        kind="file",
        description=description,
        path=path,
        error=error,
        payload=FilePayload(None, clients),
    )


@dataclass(frozen=True)
class FilePayload(PluginData):
    """A Docker-format file (or ``DOCKER_AUTH_CONFIG``), parsed, and the
    clients that read it."""

    config: DockerConfig | None
    clients: tuple[str, ...]


@dataclass(frozen=True)
class ConfigDirPayload(PluginData):
    """``DOCKER_CONFIG``: the directory it names, ``~`` expanded."""

    path: str


def stored_at(source: Source) -> datetime | None:
    if source.mtime is None:
        return None
    return datetime.fromtimestamp(source.mtime, timezone.utc)


def entry_location(source: Source, doc: DockerConfig, pos: int, key: str | None) -> Location:
    line, col = jsonspan.line_col(doc.text, pos)
    if source.kind != "file":
        return Location(None, None, None, key=f"${source.path or 'DOCKER_AUTH_CONFIG'} {key or ''}".strip())
    return Location(source.path, line, col, key)


def host_of_key(key: str) -> str:
    split = split_host_url(key_host(key))
    return split[0] if split else key_host(key).lower()
