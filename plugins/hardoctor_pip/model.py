"""The plugin's own data: where an index URL is configured, and what each
client (pip, uv, Poetry) ends up using.  Built once per pass in
``hardoctor_discover`` (see :mod:`.config`) and kept in ``ctx.stash``
(:mod:`.state`).  The ``Source.payload`` types are here too."""

from __future__ import annotations

from hardoctor.model import Location, PluginData
from hardoctor.records import dataclass, field

from . import urls
from .ini import IniFile
from .netrcfile import NetrcFile
from .requirements import Requirements
from .rules import ECO as ECO  # defined there: the plugin registers without the model
from .tomlconf import TomlDoc


@dataclass(frozen=True)
class IndexRef:
    """One place an index URL is configured, for one client."""

    #: ``pip``, ``pip -r FILE``, ``uv`` or ``poetry``.
    client: str
    #: ``index-url``, ``extra-index-url``, ``uv-index``, ``uv-default``,
    #: ``uv-extra``, ``poetry-source``.
    role: str
    #: The value as written (may hold userinfo: never show it).
    raw: str = field(repr=False)
    url: urls.IndexUrl | None = field(repr=False)
    source: str
    path: str | None
    line: int | None
    #: Human pointer: ``[global] index-url``, ``$PIP_INDEX_URL`` ...
    key: str
    #: Span of ``raw`` in the source's text (None: not editable in place).
    start: int | None = None
    end: int | None = None
    #: uv index / Poetry source name.
    name: str | None = None
    #: pip.conf section the value came from.
    section: str | None = None
    #: uv ``default``/``explicit``; Poetry ``priority``.
    default: bool = False
    explicit: bool = False
    priority: str | None = None
    #: Environment variable it came from.
    env: str | None = None
    #: Requirements files: ``${NAME}`` left unexpanded, ``$NAME`` never expanded.
    unset_vars: tuple[str, ...] = ()
    unexpanded: tuple[str, ...] = ()
    #: Requirements files: the value as written, before ``${VAR}`` expansion.
    written: str | None = field(default=None, repr=False)

    @property
    def location(self) -> Location:
        if self.path is None:
            return Location(None, None, None, key=self.key)
        return Location(self.path, self.line, None, key=self.key)

    @property
    def shown(self) -> str:
        """The URL for messages, userinfo masked."""
        return urls.display(self.raw)

    @property
    def bare(self) -> str:
        return self.url.bare if self.url else urls.display(self.raw)

    @property
    def problem(self) -> urls.UserinfoProblem | None:
        return urls.userinfo_problem(self.raw)


@dataclass
class PipFile(PluginData):
    """One pip configuration file pip would try to load."""

    path: str
    #: ``global``, ``user``, ``site`` or ``env`` (PIP_CONFIG_FILE).
    variant: str
    #: Position in pip's load order (later wins within a section).
    rank: int
    ini: IniFile | None = None
    exists: bool = False
    #: Why pip does not read it even though it exists (or None).
    skipped: str | None = None
    source_id: str = ""


@dataclass
class Setting:
    """A pip option value from one place, with its precedence."""

    name: str
    value: str = field(repr=False)
    #: (section rank, file rank, line): global < COMMAND < env; later files win.
    rank: tuple[int, int, int]
    path: str | None
    line: int | None
    key: str
    source: str
    refs: tuple[IndexRef, ...] = ()

    @property
    def location(self) -> Location:
        if self.path is None:
            return Location(None, None, None, key=self.key)
        return Location(self.path, self.line, None, key=self.key)


@dataclass
class PipView:
    """What ``pip install`` uses: every candidate of every option, the winner last."""

    candidates: dict[str, list[Setting]] = field(default_factory=dict)
    #: Settings in files pip skips (PIP_CONFIG_FILE rules).
    ignored: list[Setting] = field(default_factory=list)
    files: list[PipFile] = field(default_factory=list)
    config_file_env: str | None = None
    devnull: bool = False

    def winner(self, name: str) -> Setting | None:
        cands = self.candidates.get(name) or []
        return max(cands, key=lambda s: s.rank) if cands else None

    def losers(self, name: str) -> list[Setting]:
        win = self.winner(name)
        return [s for s in self.candidates.get(name, []) if s is not win]

    def flag(self, name: str) -> bool:
        win = self.winner(name)
        return win is not None and win.value.strip().lower() in ("1", "true", "yes", "on", "y", "t")

    def value(self, name: str, default: str = "") -> str:
        win = self.winner(name)
        return win.value.strip() if win is not None else default

    @property
    def index(self) -> IndexRef | None:
        win = self.winner("index-url")
        return win.refs[0] if win is not None and win.refs else None

    @property
    def extras(self) -> tuple[IndexRef, ...]:
        win = self.winner("extra-index-url")
        return win.refs if win is not None else ()

    @property
    def trusted_hosts(self) -> list[str]:
        return self.value("trusted-host").split()

    @property
    def no_input(self) -> bool:
        return self.flag("no-input")

    @property
    def keyring_provider(self) -> str:
        return self.value("keyring-provider", "auto").lower() or "auto"

    @property
    def uses_keyring(self) -> bool:
        """pip's ``MultiDomainBasicAuth.use_keyring``: prompting allowed, or
        an explicit import/subprocess provider."""
        return (not self.no_input and self.keyring_provider != "disabled") or \
            self.keyring_provider in ("import", "subprocess")


@dataclass
class NetrcView(PluginData):
    path: str | None
    doc: NetrcFile | None = None
    source_id: str | None = None
    #: NETRC is set (only that file is read).
    from_env: bool = False
    mode: int | None = None


@dataclass
class ReqFile(PluginData):
    path: str
    doc: Requirements
    source_id: str
    refs: list[IndexRef] = field(default_factory=list)


@dataclass
class UvView:
    files: list[tuple[str, TomlDoc | None, str]] = field(default_factory=list)
    #: Indexes in uv's priority order (first wins with first-index).
    indexes: list[IndexRef] = field(default_factory=list)
    default: IndexRef | None = None
    keyring_provider: str = "disabled"
    index_strategy: str = "first-index"
    #: Where uv's settings came from (display).
    config_path: str | None = None
    active: bool = False


@dataclass
class PoetryAuth:
    """``http-basic.NAME`` as Poetry's PasswordManager reads it."""

    name: str
    username: str | None = field(repr=False)
    password: str | None = field(repr=False)
    #: Where each part came from (Location) and whether the password is
    #: left to the keyring.
    location: Location | None = None
    from_env: bool = False
    keyring: bool = False
    source_id: str = ""
    password_span: tuple[str, int, int] | None = None
    #: Line of the password value (the credential's location).
    password_line: int | None = None


@dataclass
class PoetryView:
    project: str | None = None
    sources: list[IndexRef] = field(default_factory=list)
    auth: dict[str, PoetryAuth] = field(default_factory=dict)
    config_dir: str = ""
    active: bool = False

    def pypi_is_primary(self) -> bool:
        """Poetry keeps PyPI as the primary source unless a primary (or
        legacy default) source is configured."""
        return not any(s.priority in ("primary", "default") for s in self.sources)


@dataclass
class Model:
    pip: PipView = field(default_factory=PipView)
    netrc: NetrcView = field(default_factory=lambda: NetrcView(None))
    requirements: list[ReqFile] = field(default_factory=list)
    uv: UvView = field(default_factory=UvView)
    poetry: PoetryView = field(default_factory=PoetryView)
    #: Every configured index URL, every client.
    refs: list[IndexRef] = field(default_factory=list)
    #: source id -> text as read (for fixes).
    texts: dict[str, str] = field(default_factory=dict)
    #: UV_INDEX_<NAME>_USERNAME/PASSWORD and POETRY_HTTP_BASIC_<NAME>_* seen.
    uv_env_names: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class TomlSource(PluginData):
    """The payload of a uv/Poetry TOML file: which tool reads it
    (``uv``, ``poetry``, ``pyproject``) and the parsed document."""

    kind: str
    doc: TomlDoc | None


@dataclass(frozen=True)
class EnvSource(PluginData):
    """The payload of a set of environment variables: ``pip-env``,
    ``uv-env`` or ``poetry-env``."""

    kind: str
