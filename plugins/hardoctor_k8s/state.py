"""Per-run state: what every source held, indexed for lookups across
sources (a Deployment in one file, its Secret in another, its
ServiceAccount in the cluster)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hardoctor.model import PluginData
from hardoctor.records import dataclass, field
from hardoctor.stash import StashKey
from hardoctor.targets import ImageRef, parse_image_reference

from .dockercfg import KEY_FOR_TYPE, Decoded, decode_value
from .hub import HUB
from .objects import SecretObj, ServiceAccountObj, Workload
from .state_keys import STATE as STATE  # fresh each engine pass

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hardoctor.context import Context
    from hardoctor.model import Credential, Resolution



@dataclass
class StreamProblem:
    message: str
    line: int | None
    column: int | None = None
    #: "syntax", "helm-template", "missing", "kubectl", "too-large"
    kind: str = "syntax"
    cause: str = "config-invalid"
    detail: str = ""


@dataclass
class SourceData(PluginData):
    """Everything read from one source (the Source payload).  Mutable: a
    live cluster is read lazily, when its credentials are first asked for."""

    id: str
    kind: str  # file | stdin | cluster
    path: str | None
    display: str
    mtime: float | None = None
    #: Characters before the first one the parser indexes (a BOM).
    offset: int = 0
    secrets: list[SecretObj] = field(default_factory=list)
    service_accounts: list[ServiceAccountObj] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    problems: list[StreamProblem] = field(default_factory=list)
    loaded: bool = False
    #: Live cluster: how it was read.
    context: str | None = None
    objects: int = 0

    def add(self, record: Any) -> None:
        self.objects += 1
        if isinstance(record, SecretObj):
            self.secrets.append(record)
        elif isinstance(record, ServiceAccountObj):
            self.service_accounts.append(record)
        elif isinstance(record, Workload):
            self.workloads.append(record)


class State:
    def __init__(self) -> None:
        self.sources: dict[str, SourceData] = {}
        self._indexed = False
        self.secrets: dict[tuple[str, str], list[SecretObj]] = {}
        self.secrets_by_name: dict[str, list[SecretObj]] = {}
        self.service_accounts: dict[tuple[str, str], list[ServiceAccountObj]] = {}
        self.workloads: list[Workload] = []
        self.by_name: dict[tuple[str, str, str], Workload] = {}
        self._decoded: dict[SecretObj, dict[str, Decoded]] = {}
        self._images: dict[str, ImageRef | None] = {}
        #: (secret, value key, registry key) -> credential id
        self.cred_ids: dict[tuple[SecretObj, str, str], str] = {}
        #: credential id -> (secret, value key, registry key)
        self.cred_origin: dict[str, tuple[SecretObj, str, str]] = {}
        #: Every credential of the run (from resolve/targets), by id.
        self.credentials: dict[str, Credential] = {}
        self.reported: set[tuple[Any, ...]] = set()
        #: Manifest texts read for fixes (path -> text), once per run.
        self.texts: dict[str, str | None] = {}
        self.digests: dict[str, str] = {}
        #: workload -> which pull secrets apply (resolve.Applies).
        self.applies: dict[Workload, Any] = {}
        self._listers: dict[tuple[str, str], list[str]] | None = None
        #: Targets this plugin made up for secrets no workload uses.
        self.auto_targets: set[str] = set()
        self.unused_probes = 0
        #: host -> the namespace of pods that pull from it with no credential
        #: (for the "give the pods a pull secret" advice).
        self.bare_namespaces: dict[str, str] = {}
        #: Every kubelet resolution made this pass (rotation looks at them).
        self.resolutions: list[Resolution] = []
        #: repository -> the workloads and images that pull it (computed once).
        self.uses_by_repository: dict[str, list[tuple[Workload, Any]]] | None = None
        #: The sequence of credentials last passed to resolve (the engine
        #: passes one list to every call) and its index by id.
        self._creds_seq: Sequence[Credential] | None = None
        self._creds_len = -1
        self._creds_map: dict[str, Credential] = {}
        #: normalised host -> this run's Docker credentials for it, built
        #: when ``len(credentials)`` was the key (donor lookups).
        self.docker_by_host: tuple[int, dict[str, list[Credential]]] = (-1, {})

    def credentials_of(self, credentials: Sequence[Credential]) -> dict[str, Credential]:
        """``credentials`` by id, merged into :attr:`credentials`: built once
        per sequence, not once per target (O(targets x credentials) on a
        cluster dump otherwise)."""
        if credentials is not self._creds_seq or len(credentials) != self._creds_len:
            self._creds_map = {c.id: c for c in credentials}
            self.credentials.update(self._creds_map)
            self._creds_seq, self._creds_len = credentials, len(credentials)
        return self._creds_map

    # -- building ------------------------------------------------------------------

    def add_source(self, data: SourceData) -> None:
        self.sources[data.id] = data
        self._indexed = False

    def index(self) -> None:
        if self._indexed:
            return
        self.secrets.clear()
        self.secrets_by_name.clear()
        self.service_accounts.clear()
        self.workloads = []
        self.by_name.clear()
        for data in self.sources.values():
            for s in data.secrets:
                self.secrets.setdefault((s.namespace, s.name), []).append(s)
                self.secrets_by_name.setdefault(s.name, []).append(s)
            for sa in data.service_accounts:
                self.service_accounts.setdefault((sa.namespace, sa.name), []).append(sa)
            for w in data.workloads:
                self.workloads.append(w)
                self.by_name[(w.kind, w.namespace, w.name)] = w
        self._indexed = True
        self._listers = None
        self.applies.clear()

    @property
    def has_cluster(self) -> bool:
        return any(d.kind == "cluster" for d in self.sources.values())

    def source_kind(self, source_id: str) -> str:
        data = self.sources.get(source_id)
        return data.kind if data else "file"

    # -- lookups -------------------------------------------------------------------

    def _prefer(self, items: list[Any], source: str) -> Any:
        """The same source's object first (a manifest set is applied
        together), then the last manifest, then the cluster's."""
        same = [x for x in items if x.where.source == source]
        if same:
            return same[-1]
        files = [x for x in items if self.source_kind(x.where.source) != "cluster"]
        if files and self.source_kind(source) != "cluster":
            return files[-1]
        cluster = [x for x in items if self.source_kind(x.where.source) == "cluster"]
        return (cluster or items)[-1]

    def find_secret(self, namespace: str, name: str, source: str) -> SecretObj | None:
        self.index()
        items = self.secrets.get((namespace, name))
        return self._prefer(items, source) if items else None

    def other_namespaces(self, namespace: str, name: str) -> list[str]:
        self.index()
        return sorted({s.namespace for s in self.secrets_by_name.get(name, [])
                       if s.namespace != namespace})

    def find_sa(self, namespace: str, name: str, source: str) -> ServiceAccountObj | None:
        self.index()
        items = self.service_accounts.get((namespace, name))
        return self._prefer(items, source) if items else None

    def image(self, value: str) -> ImageRef | None:
        if value not in self._images:
            self._images[value] = parse_image_reference(value, HUB)
        return self._images[value]

    def decoded(self, secret: SecretObj) -> dict[str, Decoded]:
        """Every docker-format value of ``secret`` (the one the API server
        keeps per key), decoded."""
        key = secret
        if key not in self._decoded:
            out: dict[str, Decoded] = {}
            for k in dict.fromkeys(v.key for v in secret.values):
                value = secret.value(k)
                if value is not None:
                    out[k] = decode_value(k, value.section, value.raw)
            self._decoded[key] = out
        return self._decoded[key]

    def pull_value(self, secret: SecretObj) -> Decoded | None:
        """The value the kubelet reads: the type's own key, else None."""
        key = KEY_FOR_TYPE.get(secret.effective_type)
        return self.decoded(secret).get(key) if key else None

    def listed_by(self, namespace: str, name: str) -> list[str]:
        """The workloads whose pods get Secret ``namespace/name`` as a pull
        secret (computed once for all secrets)."""
        if self._listers is None:
            from .resolve import applies

            self.index()
            self._listers = {}
            for w in self.workloads:
                for ref in applies(self, w).refs:
                    names = self._listers.setdefault((w.namespace, ref.name), [])
                    if w.ref not in names:
                        names.append(w.ref)
        return self._listers.get((namespace, name), [])

    def once(self, *key: Any) -> bool:
        """True the first time ``key`` is seen this run (deduplication)."""
        if key in self.reported:
            return False
        self.reported.add(key)
        return True


@dataclass
class Persistent:
    """What survives the passes of ``fix`` (stdin can be read only once; a
    Secret applied to the cluster is applied once)."""

    stdin: SourceData | None = None
    #: (secret ref, fingerprint of the new value) -> what ``kubectl apply`` said.
    applied: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Secrets (ref and value fingerprint) already rotated this run.
    rotated: set[str] = field(default_factory=set)


#: Kept across the passes of ``fix`` (never reset).
PERSISTENT: StashKey[Persistent] = StashKey("k8s.persistent")


def state(ctx: Context) -> State:
    return ctx.stash.compute(STATE, State)


def persistent(ctx: Context) -> Persistent:
    return ctx.stash.compute(PERSISTENT, Persistent)
