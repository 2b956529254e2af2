"""The few things hardoctor keeps of each Kubernetes object.

An object is read as a :class:`~hardoctor_k8s.yamlstream.Node` tree, turned
into one of the small records below, and dropped: a dump of 20,000 pods is
held as 20,000 short records, never as parsed YAML.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from hardoctor import redact
from hardoctor.model import Location
from hardoctor.records import dataclass, field

from .dockercfg import KEY_CFG, KEY_JSON

if TYPE_CHECKING:  # the YAML machinery is imported only when manifests are read
    from .yamlstream import Node, Obj

#: Workload kinds and the path from the object to its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "PodTemplate": ("template", "spec"),
}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
DOCKER_KEYS = (KEY_JSON, KEY_CFG)


@dataclass(frozen=True)
class Where:
    """Where an object lives: a file (with the line of the object) or the
    cluster.  ``source`` is the Source id."""

    source: str
    path: str | None
    line: int | None
    #: For fixes: which document / List item of the stream.
    doc: int = 0
    item: int | None = None

    def at(self, line: int | None, key: str | None = None) -> Location:
        if self.path is None:
            return Location(None, None, None, key)
        return Location(self.path, line, None, key)


@dataclass(frozen=True)
class Ref:
    """A secret name listed in ``imagePullSecrets`` and its line."""

    name: str
    line: int | None


@dataclass(frozen=True)
class Value:
    """One ``data``/``stringData`` value of a Secret, with its span."""

    key: str
    section: str
    raw: str = field(repr=False)
    line: int
    key_line: int
    #: Character offsets of the value node and of its key node in the
    #: stream, and the node's style (None plain, '"', "'", '|', '>').
    start: int
    end: int
    key_start: int
    key_end: int
    style: str | None
    key_style: str | None


@dataclass(frozen=True)
class SecretObj:
    namespace: str
    name: str
    #: As written; None when the field is absent (the API server's default
    #: is ``Opaque``).
    type: str | None
    where: Where
    values: tuple[Value, ...] = ()
    #: Keys set in both data and stringData (stringData wins).
    overridden: tuple[str, ...] = ()
    created: datetime | None = None
    updated: datetime | None = None
    namespace_explicit: bool = True
    #: Line of ``type:`` (value span for fixes) or None.
    type_span: tuple[int, int, str | None] | None = None
    kind_start: int | None = None
    kind_column: int | None = None
    #: The object is a block mapping (a ``type:`` line can be inserted).
    block: bool = True
    #: Every key under data/stringData (names only).
    keys: tuple[str, ...] = ()
    #: Read back from a cluster (uid/resourceVersion/managedFields): its
    #: timestamps say when the value was stored.
    from_cluster: bool = False
    #: The object's own text: (start, end) offsets and its 1-based column
    #: (to check an edit by parsing just this object again).
    span: tuple[int, int, int] | None = None

    @property
    def effective_type(self) -> str:
        return self.type or "Opaque"

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def value(self, key: str) -> Value | None:
        """The value the API server keeps for ``key`` (stringData wins)."""
        found = None
        for v in self.values:
            if v.key == key and (found is None or v.section == "stringData"):
                found = v
        return found

    @property
    def stored_at(self) -> datetime | None:
        return self.updated or self.created


@dataclass(frozen=True)
class ServiceAccountObj:
    namespace: str
    name: str
    where: Where
    pull_secrets: tuple[Ref, ...] = ()
    created: datetime | None = None
    updated: datetime | None = None

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class ImageUse:
    image: str
    container: str
    list_name: str
    line: int | None


@dataclass(frozen=True)
class Workload:
    kind: str
    namespace: str
    name: str
    where: Where
    service_account: str = "default"
    #: None: the pod spec has no imagePullSecrets field (the ServiceAccount's
    #: apply); a tuple (maybe empty) when it has one.
    pull_secrets: tuple[Ref, ...] | None = None
    pull_secrets_line: int | None = None
    images: tuple[ImageUse, ...] = ()
    owner: tuple[str, str] | None = None
    created: datetime | None = None
    namespace_explicit: bool = True

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass
class Problem:
    """An object that is not what it claims (e.g. a Secret without a name)."""

    message: str
    where: Where


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _from_cluster(node: Node) -> bool:
    meta = node.get("metadata")
    return meta is not None and any(meta.get(k) is not None
                                    for k in ("uid", "resourceVersion", "managedFields"))


def _meta(node: Node) -> tuple[str | None, str | None, datetime | None, datetime | None]:
    meta = node.get("metadata")
    if meta is None or meta.kind != "map":
        return None, None, None, None
    created = parse_time(meta.text("creationTimestamp"))
    updated = None
    for mf in meta.seq("managedFields"):
        t = parse_time(mf.text("time"))
        if t is not None and (updated is None or t > updated):
            updated = t
    return meta.text("name"), meta.text("namespace"), created, updated


def _refs(nodes: list[Node]) -> tuple[Ref, ...]:
    out = []
    for n in nodes:
        name = n.text("name") if n.kind == "map" else None
        if name:
            out.append(Ref(name, n.line))
    return tuple(out)


def _dig(node: Node | None, path: tuple[str, ...]) -> Node | None:
    cur = node
    for part in path:
        if cur is None:
            return None
        cur = cur.get(part)
    return cur


def read_object(
    obj: Obj, source: str, path: str | None, default_ns: str, offset: int = 0
) -> SecretObj | ServiceAccountObj | Workload | None:
    """The record for one object, or None when hardoctor does not care
    about its kind.  ``offset`` is added to character offsets (a BOM)."""
    node = obj.node
    kind = node.text("kind")
    if kind is None or kind not in ("Secret", "ServiceAccount", *POD_SPEC_PATHS):
        return None
    api = node.text("apiVersion") or ""
    if kind in ("Secret", "ServiceAccount", "Pod", "ReplicationController", "PodTemplate") and \
            api not in ("v1", ""):
        return None
    name, ns, created, updated = _meta(node)
    where = Where(source, path, node.line, obj.doc, obj.item)
    namespace = ns or default_ns
    if name is None:
        name = "(unnamed)"
    if kind == "Secret":
        return _secret(node, namespace, name, where, created, updated, ns is not None, offset)
    if kind == "ServiceAccount":
        return ServiceAccountObj(namespace, name, where, _refs(node.seq("imagePullSecrets")),
                                 created, updated)
    spec = _dig(node, POD_SPEC_PATHS[kind])
    if spec is None or spec.kind != "map":
        return Workload(kind, namespace, name, where, created=created,
                        namespace_explicit=ns is not None)
    sa = spec.text("serviceAccountName") or spec.text("serviceAccount") or "default"
    ips = spec.get("imagePullSecrets")
    pull: tuple[Ref, ...] | None = None
    if ips is not None and not ips.is_null():
        pull = _refs(ips.value if ips.kind == "seq" else [])
    images: list[ImageUse] = []
    for list_name in CONTAINER_LISTS:
        for c in spec.seq(list_name):
            image_node = c.get("image")
            image = c.text("image")
            if image:
                images.append(ImageUse(image, c.text("name") or "?", list_name,
                                       image_node.line if image_node else c.line))
    owner = None
    meta = node.get("metadata")
    if meta is not None:
        for o in meta.seq("ownerReferences"):
            okind, oname = o.text("kind"), o.text("name")
            if okind and oname and (owner is None or o.text("controller") == "true"):
                owner = (okind, oname)
    return Workload(kind, namespace, name, where, sa, pull,
                    ips.line if ips is not None else None, tuple(images), owner, created,
                    ns is not None)


def _secret(
    node: Node,
    namespace: str,
    name: str,
    where: Where,
    created: datetime | None,
    updated: datetime | None,
    explicit: bool,
    offset: int,
) -> SecretObj:
    values: list[Value] = []
    keys: list[str] = []
    seen: dict[str, set[str]] = {}
    for field_name in ("data", "stringData"):
        section = node.get(field_name)
        if section is None:
            continue
        for key, knode, vnode in section.items():
            keys.append(key)
            seen.setdefault(key, set()).add(field_name)
            if key not in DOCKER_KEYS or vnode.kind != "scalar":
                continue
            raw = str(vnode.value)
            redact.register(raw)
            values.append(Value(key, field_name, raw, vnode.line, knode.line,
                                vnode.start + offset, vnode.end + offset,
                                knode.start + offset, knode.end + offset,
                                vnode.style, knode.style))
    tnode = node.get("type")
    type_text = node.text("type")
    type_span = (tnode.start + offset, tnode.end + offset, tnode.style) if tnode is not None else None
    kind_key = node.key_node("kind")
    return SecretObj(
        namespace, name, type_text, where, tuple(values),
        tuple(k for k, fields in seen.items() if len(fields) > 1),
        created, updated, explicit, type_span,
        kind_key.start + offset if kind_key is not None else None,
        kind_key.column if kind_key is not None else None,
        node.style is None and kind_key is not None,
        tuple(dict.fromkeys(keys)),
        _from_cluster(node),
        (node.start + offset, node.end + offset, node.column),
    )
