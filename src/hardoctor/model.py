"""The data passed between hooks: small, frozen, typed.

Plugins build these and the core reads them; nothing between hooks is a loose
dict.  The only type here that holds a secret is :class:`Secret`, and it never
shows its value in ``repr``, ``str`` or ``format`` -- a stray ``print`` or an
exception message cannot leak a token.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from hardoctor import redact
from hardoctor.records import dataclass, field

if TYPE_CHECKING:  # the probe package imports this module: no cycle at run time
    from hardoctor.probe.tls import TLSOptions

P = TypeVar("P", bound="PluginData")


class PluginData:
    """Base class of the typed data a plugin hangs on a model object
    (``Source.payload``, ``Resolution.payload``).

    The object belongs to the plugin that made it; any other reader (the
    core, another plugin) sees only this base class.  Subclass it with a
    frozen dataclass and read it back with :func:`payload_of`, which checks
    the type instead of trusting it.
    """


def payload_of(payload: PluginData | None, cls: type[P]) -> P | None:
    """``payload`` if it is a ``cls``, else ``None``."""
    return payload if isinstance(payload, cls) else None

#: The causes (README: The JSON report).  Scripts key on these strings; never change one.
CAUSES: frozenset[str] = frozenset(
    {
        "no-credentials",
        "credential-not-matched",
        "credential-shadowed",
        "token-expired",
        "token-expiring-soon",
        "token-invalid",
        "token-malformed",
        "env-unset",
        "account-mismatch",
        "permission-denied",
        "blocked-by-policy",
        "not-found",
        "wrong-url",
        "helper-failure",
        "config-invalid",
        "insecure-storage",
        "tls-error",
        "dns-error",
        "connection-error",
        "timeout",
        "proxy-error",
        "clock-skew",
        "rate-limited",
    }
)

PROBE_OUTCOMES: frozenset[str] = frozenset(
    {
        "ok",
        "unauthorized",
        "forbidden",
        "not-found",
        "tls-error",
        "dns-error",
        "connection-error",
        "timeout",
        "proxy-error",
        "rate-limited",
        "error",
        "not-probed",
    }
)


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Applicability(str, enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


class Secret:
    """A secret value that refuses to be shown.

    ``repr``/``str``/``format`` give ``Secret(#fingerprint)``.  The value is
    only reachable through :meth:`reveal`, which makes every place that needs
    the real value easy to find with grep.  Every secret is also registered
    with :mod:`hardoctor.redact`, so output written by any path is scrubbed of
    it as a second line of defence.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str, *, register: bool = True) -> None:
        object.__setattr__(self, "_value", value)
        if register:
            # ``register=False`` only for values that are sent like a secret
            # but are known not to be one (an unexpanded ``${NPM_TOKEN}``):
            # scrubbing them would blank every message that names them.
            redact.register(value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def reveal(self) -> str:
        return self._value

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret(#{self.fingerprint})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> Any:  # pickling would bypass the guard
        raise TypeError("Secret cannot be pickled")


def fingerprint(value: str) -> str:
    """Stable short hash of a secret: the same token gives the same value in
    every run and on every machine, so two reports can be compared by eye."""
    return redact.fingerprint(value)


@dataclass(frozen=True)
class Location:
    """Where something lives: a file (with 1-based line/column), an
    environment variable, a helper, or a Kubernetes object."""

    path: str | None = None
    line: int | None = None
    column: int | None = None
    #: Human pointer inside the file, e.g. ``auths["pkg.harness.io"]``.
    key: str | None = None

    def display(self, home: str | None = None) -> str:
        if self.path is None:
            return self.key or "?"
        path = self.path
        if home and (path == home or path.startswith(home.rstrip("/") + "/")):
            path = "~" + path[len(home.rstrip("/")) :]
        text = path if self.line is None else f"{path}:{self.line}"
        return text


@dataclass(frozen=True)
class Source:
    """One place a client reads configuration from.

    ``kind`` is ``file``, ``env``, ``helper``, ``stdin`` or a plugin's own
    word (a live API, say).  ``text`` is the raw content when it was read
    (files are read once, by the plugin that discovered them).  ``payload`` is
    the owning plugin's typed data (parsed content); the core never looks
    inside.  ``explicit`` marks a source the person named on the command line
    (a manifest, stdin, a live cluster): it is always in scope, also with
    ``--scope project``.
    """

    id: str
    ecosystem: str
    kind: str
    description: str
    path: str | None = None
    exists: bool = True
    text: str | None = field(default=None, repr=False)
    mtime: float | None = None
    mode: int | None = None
    error: str | None = None
    plugin: str | None = None
    payload: PluginData | None = field(default=None, repr=False, compare=False)
    explicit: bool = False


@dataclass(frozen=True)
class TokenInfo:
    """What decoding a secret told us.  Never holds the value itself.

    ``kind`` is ``jwt``, ``basic``, ``opaque``, ``none`` or a vendor plugin's
    own token format (its ``hardoctor_decode_secret`` names it).
    ``expiry_source`` is ``token``, ``estimated``, ``unknown`` or the name of
    the vendor API a plugin asked.
    """

    kind: str
    fingerprint: str | None
    account_id: str | None = None
    token_id: str | None = None
    issued_at: datetime | None = None
    not_before: datetime | None = None
    expires_at: datetime | None = None
    expiry_source: str = "unknown"
    status: Literal["valid", "expired", "expiring-soon", "invalid", "unknown"] = "unknown"
    #: Why the value cannot be a valid token (``token-malformed`` evidence).
    problems: tuple[str, ...] = ()
    #: Non-secret facts (JWT issuer, audience, granted access, ...).
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Credential:
    """A credential some client would send to ``registry``.

    ``registry`` is the key as the client keys it (a host, ``host/path`` or a
    URL); ``host`` is the normalised host[:port] used for grouping.
    """

    id: str
    ecosystem: str
    registry: str
    host: str
    source: str
    location: Location
    username: str | None = None
    secret: Secret | None = None
    #: How the secret is presented: ``basic``, ``bearer``, ``identitytoken``,
    #: ``registrytoken``, ``helper`` (value fetched from a helper), ``none``.
    scheme: str = "basic"
    #: Where inside the source it came from (``auths``, ``credHelpers``, ...).
    via: str = ""
    #: Which clients read it (``docker``, ``podman``, ``skopeo``, ``helm``...).
    clients: tuple[str, ...] = ()
    token: TokenInfo | None = None
    #: When the credential was stored (file mtime, secret creation); used
    #: only for honest *estimates* of expiry.
    stored_at: datetime | None = None
    plugin: str | None = None
    #: ``token``: a value a person stored for the client to send.  ``slot``:
    #: an empty or partial entry the client completes from another source
    #: or skips (a URL's user name without a password, a credential helper
    #: that answered with nothing): the generic token checks do not judge
    #: it as a token; the client plugin says what the client makes of it.
    role: str = "token"


@dataclass(frozen=True)
class Target:
    """What to check: an image, a package, or a registry."""

    raw: str
    kind: Literal["image", "registry", "package"]
    #: host[:port] the client will contact.
    host: str
    ecosystem: str | None = None
    #: Repository path / package name, when known.
    name: str | None = None
    #: Tag, digest or version.
    reference: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ChainStep:
    """One candidate a client considered, in the client's own order."""

    description: str
    outcome: Literal["used", "lost", "skipped", "missing", "failed"]
    reason: str = ""
    credential: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class Resolution:
    """Which credential one client will send for one target, and why."""

    target: Target
    ecosystem: str
    client: str
    credential: Credential | None
    chain: tuple[ChainStep, ...] = ()
    #: Registry key / URL the resolution matched (for display).
    registry: str = ""
    plugin: str | None = None
    #: The wire protocol the client speaks (``oci``, a package manager's
    #: HTTP API, ...).  A protocol plugin probes every resolution of its
    #: protocol, whichever client plugin produced it.
    protocol: str = ""
    #: Typed data of the plugin that made the resolution (see PluginData).
    payload: PluginData | None = field(default=None, repr=False, compare=False)
    #: What the client trusts when it talks to the target (CAs, client
    #: certificates, no verification / plain-http fallback for a registry
    #: the client treats as insecure), filled by the client plugin, which
    #: knows its client's settings.  ``None``: the environment's trust store
    #: (the protocol plugin may apply its protocol's defaults).
    tls: TLSOptions | None = None
    #: Credentials the client tries next, in order, when ``credential`` is
    #: refused (a client that tries every matching entry until one works).
    #: A protocol plugin probes each; a refusal is then only as bad as the
    #: last candidate's.
    fallbacks: tuple[Credential, ...] = field(default=(), repr=False)
    #: Whether this client is judged: the person uses it (the project's lock
    #: file or manifest names it, it is configured, ``--client`` names it).
    #: A client that is not judged is neither probed nor diagnosed; the
    #: report says so, with ``judged_because``.
    judged: bool = True
    #: Why the client is (or is not) judged, for the report
    #: ("uv.lock", "--client", "the project uses uv (uv.lock)").
    judged_because: str = ""


@dataclass(frozen=True)
class ProbeResult:
    url: str
    outcome: str
    credential: str | None = None
    status: int | None = None
    error_code: str | None = None
    elapsed_ms: float | None = None
    #: Short, secret-free evidence ("token endpoint answered 401").
    detail: str = ""
    #: Non-secret response facts (selected headers, granted access, ...).
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RegistryInfo:
    """What a vendor plugin knows about a registry URL or host
    (``hardoctor_registry_info``).  Never holds a secret."""

    #: The vendor's short name (``harness``, ``aws-ecr``, ...): the plugin's word.
    vendor: str
    #: A name for people ("Harness Artifact Registry").
    display: str = ""
    host: str = ""
    account: str | None = None
    registry: str | None = None
    #: ``docker``, ``npm``, ``python``, ``maven``, ... when the URL says so.
    package_type: str | None = None
    region: str | None = None
    #: What is wrong with the URL as written (each a sentence).
    problems: tuple[str, ...] = ()
    #: The URL as the vendor documents it, when the given one is wrong.
    suggested_url: str | None = None


@dataclass(frozen=True)
class Ecosystem:
    """An ecosystem a plugin serves (``hardoctor_ecosystems``): the name
    ``--ecosystem`` accepts and how its targets are spelled."""

    name: str
    #: For ``--help``: ``npm:PKG``, ``image (HOST/PATH:TAG)``, ...
    target_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Remediation:
    summary: str
    steps: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` of the file at ``path`` with ``new_text``.

    Offsets are in characters of the file's text as it was read; ``expected``
    is the SHA-256 of that text so a file changed in between is refused.
    ``mode`` (optional) is a new permission mode for the file.
    """

    path: str
    start: int
    end: int
    #: May hold a secret (a re-encoded ``auth``): kept out of ``repr``.
    new_text: str = field(repr=False)
    expected: str = ""
    mode: int | None = None


@dataclass(frozen=True)
class Fix:
    description: str
    applicability: Applicability
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class ExternalAction:
    """A change that is not a file edit: storing a token in a credential
    helper, ``kubectl apply`` of a Secret.  ``run`` performs it and returns a
    secret-free error text, or None on success."""

    description: str
    run: Callable[[], str | None] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Rotation:
    """How one stored credential takes a new token (``fix --token-stdin``).

    ``fix`` edits files; ``actions`` change things outside files; ``manual``
    are steps hardoctor must not do itself (a value that comes from an
    environment variable: print the ``export`` / CI-secret update instead).
    """

    credential: str
    description: str
    fix: Fix | None = None
    actions: tuple[ExternalAction, ...] = ()
    manual: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    #: The rule page: what / why / example / fix (markdown-ish text).
    explain: str
    cause: str | None = None
    fix: Applicability | None = None
    plugin: str = ""
    #: When several findings tell the same (cause, credential) story, the
    #: one whose rule ranks highest leads and the others become evidence.
    #: 0 for what a client or probe saw; 1 for rules that know *why* (a
    #: decoded token, a vendor's own answer).
    rank: int = 0
    #: Codes this rule had before it moved (``hardoctor explain OLD``).
    replaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    rule: str
    name: str
    severity: Severity
    cause: str | None
    message: str
    ecosystem: str | None = None
    location: Location | None = None
    credential: str | None = None
    #: host[:port] or URL the finding is about; groups findings per registry.
    registry: str | None = None
    #: Why the client fails, in plain words.
    why: str = ""
    #: Evidence lines (probe answers, the chain) -- secret-free.
    evidence: tuple[str, ...] = ()
    remediation: Remediation | None = None
    fix: Fix | None = None
    plugin: str | None = None
    #: Other credentials this one story is about (the same token stored in
    #: several places, told once): the report counts it against every
    #: client that sends one of them.
    credentials: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    started_at: datetime
    duration_ms: float
    sources: tuple[Source, ...]
    credentials: tuple[Credential, ...]
    resolutions: tuple[Resolution, ...]
    probes: tuple[ProbeResult, ...]
    findings: tuple[Finding, ...]
    offline: bool = False

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0}
        for f in self.findings:
            out[f.severity.value] += 1
        return out

    @property
    def status(self) -> str:
        c = self.counts()
        return "fail" if c["error"] else "warn" if c["warning"] else "ok"


@dataclass(frozen=True)
class SetupRequest:
    """``hardoctor setup``: configure one client for one registry URL with
    a token that already passed its checks (``hardoctor_setup_plan``)."""

    #: The URL as the person gave it (as the registry's set-up page shows it).
    url: str
    #: ``--client`` (a client id), or ``None``: the plugins judge by
    #: ``package_type``.
    client: str | None
    #: What the vendor that owns the URL says it serves (``docker``,
    #: ``npm``, ``python``, ``maven``, ...), or ``None``.
    package_type: str | None
    #: The login name (``--user``); ``None`` when not given.
    user: str | None
    secret: Secret = field(repr=False)
    #: ``project``: write the project's files with ``${VAR}`` references
    #: only (``env_var``, else the client's usual variable); ``user``: the
    #: person's own files.
    scope: Literal["user", "project"] = "user"
    env_var: str | None = None


@dataclass(frozen=True)
class SetupPlan:
    """One client's configuration for a :class:`SetupRequest`: file edits
    (diff first), other changes (a credential helper's ``store``), and what
    to tell the person.  Never holds the secret in any text."""

    #: Client id (``hardoctor_client_names``).
    client: str
    #: The registry as the client will address it.
    registry: str
    description: str
    #: A TARGET ``hardoctor check`` understands that proves this client.
    check_target: str
    fix: Fix | None = None
    actions: tuple[ExternalAction, ...] = ()
    #: The credential the client will send (for the token's probe).
    username: str | None = None
    scheme: str = "basic"
    pull: tuple[str, ...] = ()
    push: tuple[str, ...] = ()
    #: Steps for the person (the CI secret for a ``${VAR}`` reference, ...).
    notes: tuple[str, ...] = ()
    #: The variable the written configuration reads the token from
    #: (``--scope project``): the re-check sets it, as CI will.
    env_var: str | None = None
    #: Check the token against the planned files (staged in memory, nothing
    #: written) instead of with the token in place of the client's current
    #: credential: for a client whose diagnosis reads its configuration.
    check_staged: bool = False
