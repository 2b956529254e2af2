"""Which credentials the kubelet sends for a container image, and why.

For each pod (or pod template): the pull secrets that apply -- the pod's own
``imagePullSecrets``, else its ServiceAccount's, which admission copies into
a pod only when it is created -- then the kubelet's keyring over their
entries (:mod:`.keyring`).  Pods that share namespace, pull-secret list and
image share one :class:`~hardoctor.model.Resolution`; its chain names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hardoctor.context import Context
from hardoctor.model import (
    ChainStep,
    Credential,
    Location,
    PluginData,
    Resolution,
    Target,
    payload_of,
)
from hardoctor.records import dataclass, field

from . import keyring
from .creds import entry_key, secret_location
from .dockercfg import KEY_FOR_TYPE, PULL_TYPES, Decoded
from .objects import ImageUse, Ref, SecretObj, ServiceAccountObj, Workload
from .state import State

ECO = "k8s"
CLIENT = "kubelet"
#: The kubelet (through the container runtime) speaks the OCI distribution
#: protocol; the ``oci`` plugin probes every resolution that says so.
PROTOCOL = "oci"
#: Unmatched entries shown in a chain before "... and N more".
MAX_UNMATCHED_STEPS = 12
#: Pull secrets no workload uses are probed (a login walk each) up to this
#: many per run: a cluster can hold thousands, and the registry would
#: throttle a flood of logins.
MAX_UNUSED_PROBES = 100


@dataclass(frozen=True)
class PullItem:
    """One registry entry offered to the kubelet's keyring."""

    secret: SecretObj
    value_key: str
    registry: str
    cred_id: str | None
    has_credentials: bool


@dataclass
class SecretState:
    """One listed secret, as the kubelet finds it."""

    ref: Ref
    secret: SecretObj | None
    #: ok | missing | wrong-type | broken | empty
    status: str
    decoded: Decoded | None = None
    other_namespaces: tuple[str, ...] = ()


@dataclass
class Applies:
    origin: str  # pod | serviceaccount | none
    refs: tuple[Ref, ...]
    sa_name: str
    sa: ServiceAccountObj | None


@dataclass
class Group:
    namespace: str
    applies: Applies
    source: str
    repository: str
    uses: list[tuple[Workload, ImageUse]] = field(default_factory=list)
    secrets: list[SecretState] = field(default_factory=list)
    verdicts: list[keyring.Verdict[PullItem]] = field(default_factory=list)

    @property
    def matched(self) -> list[PullItem]:
        return [v.candidate.item for v in self.verdicts if v.matched]

    @property
    def broken(self) -> list[SecretState]:
        return [s for s in self.secrets if s.status == "broken"]

    def workloads_text(self, limit: int = 3) -> str:
        names = list(dict.fromkeys(w.ref for w, _ in self.uses))
        text = ", ".join(names[:limit])
        if len(names) > limit:
            text += f" and {len(names) - limit} more"
        return text


def applies(st: State, w: Workload) -> Applies:
    """The pull secrets admission gives a pod of ``w``."""
    cached = st.applies.get(w)
    if isinstance(cached, Applies):
        return cached
    found = _applies(st, w)
    st.applies[w] = found
    return found


def _applies(st: State, w: Workload) -> Applies:
    sa = st.find_sa(w.namespace, w.service_account, w.where.source)
    if w.pull_secrets:
        return Applies("pod", w.pull_secrets, w.service_account, sa)
    if sa is not None and sa.pull_secrets:
        return Applies("serviceaccount", sa.pull_secrets, w.service_account, sa)
    return Applies("none", (), w.service_account, sa)


def secret_states(st: State, namespace: str, refs: Sequence[Ref], source: str) -> list[SecretState]:
    out: list[SecretState] = []
    for ref in refs:
        secret = st.find_secret(namespace, ref.name, source)
        if secret is None:
            out.append(SecretState(ref, None, "missing",
                                   other_namespaces=tuple(st.other_namespaces(namespace, ref.name))))
            continue
        if secret.effective_type not in PULL_TYPES:
            out.append(SecretState(ref, secret, "wrong-type"))
            continue
        dec = st.pull_value(secret)
        if dec is None:
            out.append(SecretState(ref, secret, "empty"))
        elif dec.breaks:
            out.append(SecretState(ref, secret, "broken", dec))
        else:
            out.append(SecretState(ref, secret, "ok", dec))
    return out


def candidates(st: State, secrets: Sequence[SecretState]) -> list[keyring.Candidate[PullItem]]:
    out: list[keyring.Candidate[PullItem]] = []
    for s in secrets:
        if s.status != "ok" or s.secret is None or s.decoded is None:
            continue
        key = KEY_FOR_TYPE[s.secret.effective_type]
        for e in s.decoded.entries:
            cid = st.cred_ids.get((s.secret, key, e.key))
            out.append(keyring.Candidate(e.key, PullItem(s.secret, key, e.key, cid,
                                                         e.has_credentials)))
    return out


def uses_by_repository(st: State) -> dict[str, list[tuple[Workload, ImageUse]]]:
    st.index()
    if st.uses_by_repository is not None:
        return st.uses_by_repository
    out: dict[str, list[tuple[Workload, ImageUse]]] = {}
    for w in st.workloads:
        for use in w.images:
            ref = st.image(use.image)
            if ref is None:
                continue
            out.setdefault(keyring.image_repository(ref), []).append((w, use))
    st.uses_by_repository = out
    return out


def groups_for(st: State, repository: str) -> list[Group]:
    groups: dict[tuple[object, ...], Group] = {}
    for w, use in uses_by_repository(st).get(repository, []):
        app = applies(st, w)
        key = (w.namespace, app.origin, app.sa_name if app.origin != "pod" else "",
               tuple(r.name for r in app.refs), st.source_kind(w.where.source) == "cluster")
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(w.namespace, app, w.where.source, repository)
            group.secrets = secret_states(st, w.namespace, app.refs, w.where.source)
            group.verdicts = keyring.lookup(candidates(st, group.secrets), repository)
        group.uses.append((w, use))
    return list(groups.values())


# -- the chain ------------------------------------------------------------------------


def _ws_location(w: Workload, line: int | None) -> Location:
    return w.where.at(line, w.ref)


def chain(st: State, group: Group, creds: dict[str, Credential], ctx: Context) -> list[ChainStep]:
    """The kubelet's chain: which pull-secret list applies, each listed
    secret as the kubelet finds it, then each entry of its keyring."""
    w, _ = group.uses[0]
    return [*_list_steps(st, group, w), *_secret_steps(group, w),
            *_keyring_steps(group, creds)]


def _list_steps(st: State, group: Group, w: Workload) -> list[ChainStep]:
    """The pod's own imagePullSecrets, else its ServiceAccount's."""
    steps: list[ChainStep] = []
    who = group.workloads_text()
    app = group.applies
    sa_ref = f"ServiceAccount {group.namespace}/{app.sa_name}"
    if app.origin == "pod":
        steps.append(ChainStep(
            f"imagePullSecrets of {who}", "used",
            f"the pod spec lists {', '.join(r.name for r in app.refs)}",
            location=_ws_location(w, w.pull_secrets_line)))
        if app.sa is not None and app.sa.pull_secrets:
            steps.append(ChainStep(
                f"{sa_ref} imagePullSecrets", "lost",
                "ignored: admission copies the ServiceAccount's pull secrets only into pods that "
                "list none", location=app.sa.where.at(app.sa.where.line, f"ServiceAccount {app.sa.ref}")))
    else:
        steps.append(ChainStep(f"imagePullSecrets of {who}", "missing",
                               "the pod spec lists none", location=_ws_location(w, w.where.line)))
        if app.origin == "serviceaccount":
            assert app.sa is not None
            steps.append(ChainStep(
                sa_ref, "used",
                f"its imagePullSecrets ({', '.join(r.name for r in app.refs)}) are copied into "
                "pods created after they were set -- not into pods that already run",
                location=app.sa.where.at(app.sa.where.line, f"ServiceAccount {app.sa.ref}")))
        elif app.sa is None:
            where = "in the cluster" if st.has_cluster else "in the manifests read"
            steps.append(ChainStep(sa_ref, "missing",
                                   f"not found {where}: no pull secrets from it"))
        else:
            steps.append(ChainStep(sa_ref, "missing", "it lists no imagePullSecrets",
                                   location=app.sa.where.at(app.sa.where.line,
                                                            f"ServiceAccount {app.sa.ref}")))
    return steps


def _secret_steps(group: Group, w: Workload) -> list[ChainStep]:
    """Each listed secret: missing, of a type the kubelet skips, empty, broken."""
    steps: list[ChainStep] = []
    for s in group.secrets:
        name = f"Secret {group.namespace}/{s.ref.name}"
        if s.status == "missing":
            extra = (f"; a Secret of that name exists in namespace {', '.join(s.other_namespaces)}, "
                     "but pull secrets must be in the pod's namespace") if s.other_namespaces else ""
            steps.append(ChainStep(name, "missing", f"not found in namespace {group.namespace}"
                                   f"{extra} (event FailedToRetrieveImagePullSecret)",
                                   location=_ws_location(w, s.ref.line)))
        elif s.status == "wrong-type":
            assert s.secret is not None
            steps.append(ChainStep(name, "skipped",
                                   f"type {s.secret.effective_type}: the kubelet reads only "
                                   "kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg",
                                   location=secret_location(s.secret, s.secret.where.line)))
        elif s.status == "empty":
            assert s.secret is not None
            key = KEY_FOR_TYPE[s.secret.effective_type]
            steps.append(ChainStep(name, "skipped", f"has no {key} value",
                                   location=secret_location(s.secret, s.secret.where.line)))
        elif s.status == "broken":
            assert s.secret is not None and s.decoded is not None
            why = "; ".join(p.text for p in s.decoded.problems if p.breaks)
            value = s.secret.value(s.decoded.key)
            steps.append(ChainStep(
                name, "failed",
                f"{s.decoded.key} {why}: the kubelet cannot build its keyring, so every pull of "
                "this pod fails", location=secret_location(s.secret, value.line if value else None,
                                                           s.decoded.key)))
    return steps


def _keyring_steps(group: Group, creds: dict[str, Credential]) -> list[ChainStep]:
    """Each keyring entry: matched (in the kubelet's order) or not."""
    steps: list[ChainStep] = []
    unmatched = 0
    for v in group.verdicts:
        item = v.candidate.item
        loc = secret_location(item.secret, _value_line(item), item.value_key, item.registry)
        desc = f"Secret {item.secret.ref} {entry_key(item.value_key, item.registry)}"
        cred = creds.get(item.cred_id) if item.cred_id else None
        if v.matched:
            if not item.has_credentials:
                steps.append(ChainStep(desc, "skipped", "matches, but the entry holds no "
                                       "username or password", location=loc))
                continue
            first = v.order == 0
            how = (f"key {item.registry!r} matches {group.repository}"
                   + (" (Docker Hub fallback to index.docker.io)" if v.via_default else ""))
            if first:
                steps.append(ChainStep(desc, "used", how + "; tried first",
                                       cred.id if cred else item.cred_id, loc))
            else:
                steps.append(ChainStep(desc, "lost", how + f"; tried #{(v.order or 0) + 1} if "
                                       "the ones before fail", cred.id if cred else item.cred_id,
                                       loc))
        else:
            unmatched += 1
            if unmatched > MAX_UNMATCHED_STEPS:
                continue
            steps.append(ChainStep(desc, "skipped", f"does not match: {v.why}",
                                   item.cred_id, loc))
    if unmatched > MAX_UNMATCHED_STEPS:
        steps.append(ChainStep(f"{unmatched - MAX_UNMATCHED_STEPS} more entries", "skipped",
                               "do not match"))
    if not group.matched:
        steps.append(ChainStep(
            "the node's own credentials", "skipped",
            "the kubelet then tries the node's config.json and credential provider plugins, "
            "which hardoctor cannot see; without them it pulls anonymously"))
    return steps


def _value_line(item: PullItem) -> int | None:
    value = item.secret.value(item.value_key)
    return value.line if value else item.secret.where.line


def first_credential(group: Group, creds: dict[str, Credential]) -> Credential | None:
    for item in group.matched:
        if item.cred_id and item.cred_id in creds:
            return creds[item.cred_id]
    return None


def matched_credentials(group: Group, creds: dict[str, Credential]) -> list[Credential]:
    out: list[Credential] = []
    for item in group.matched:
        if item.cred_id and item.cred_id in creds and creds[item.cred_id] not in out:
            out.append(creds[item.cred_id])
    return out


@dataclass(frozen=True)
class GroupPayload(PluginData):
    """The pods (or the unused secret) a kubelet resolution stands for."""

    group: Group


def _resolution(target: Target, group: Group, creds: dict[str, Credential],
                chain_: Sequence[ChainStep], registry: str) -> Resolution:
    """What the kubelet sends: the first matching credential, then every
    other matching one (it tries them in order until one works)."""
    first = first_credential(group, creds)
    others = tuple(c for c in matched_credentials(group, creds)
                   if c.secret is not None and c is not first)
    res = Resolution(target=target, ecosystem=ECO, client=CLIENT, credential=first,
                     chain=tuple(chain_), registry=registry, protocol=PROTOCOL,
                     payload=GroupPayload(group), fallbacks=others)
    return res


def _image_resolutions(ctx: Context, st: State, target: Target, repository: str,
                       creds: dict[str, Credential]) -> list[Resolution]:
    return [
        _resolution(target, group, creds, chain(st, group, creds, ctx),
                    group.matched[0].registry if group.matched else target.host)
        for group in groups_for(st, repository)
    ]


def resolve(ctx: Context, st: State, target: Target,
            credentials: Sequence[Credential]) -> list[Resolution]:
    """An image target: one resolution per group of pods pulling it; when
    no workload read pulls it, what each matching pull secret would give."""
    creds = st.credentials_of(credentials)
    if target.kind != "image" or not target.name:
        return []
    repository = f"{target.host}/{target.name}"
    out = _image_resolutions(ctx, st, target, repository, creds)
    if not out:
        out = _secret_only(ctx, st, target, creds, repository, skip_used=False)
    return out


def resolve_registry(ctx: Context, st: State, target: Target,
                     credentials: Sequence[Credential]) -> list[Resolution]:
    """A registry target: every image on that host pulled by a workload
    read, plus the pull secrets for it that no workload uses (a login walk
    tests those)."""
    creds = st.credentials_of(credentials)
    out: list[Resolution] = []
    auto = target.raw in st.auto_targets
    if not auto:
        for repository in sorted(uses_by_repository(st)):
            host = repository.split("/", 1)[0]
            if host.lower() != target.host.lower():
                continue
            w, use = uses_by_repository(st)[repository][0]
            ref = st.image(use.image)
            assert ref is not None
            image = Target(raw=use.image, kind="image", host=ref.host, ecosystem=ECO,
                           name=ref.path, reference=ref.digest or ref.tag or "latest")
            out += _image_resolutions(ctx, st, image, repository, creds)
    out += _secret_only(ctx, st, target, creds, target.host, skip_used=True)
    return out


def _used_secrets(st: State) -> set[tuple[str, str]]:
    st.index()
    used: set[tuple[str, str]] = set()
    for w in st.workloads:
        for ref in applies(st, w).refs:
            used.add((w.namespace, ref.name))
    return used


def _secret_only(ctx: Context, st: State, target: Target, creds: dict[str, Credential],
                 repository: str, skip_used: bool) -> list[Resolution]:
    """What each pull secret matching ``repository`` would give a pod that
    lists it (for secrets no workload read uses)."""
    out: list[Resolution] = []
    st.index()
    used = _used_secrets(st) if skip_used else set()
    for items in st.secrets.values():
        for secret in items:
            if secret.effective_type not in PULL_TYPES or (secret.namespace, secret.name) in used:
                continue
            ss = secret_states(st, secret.namespace, (Ref(secret.name, None),),
                               secret.where.source)
            verdicts = keyring.lookup(candidates(st, ss), repository)
            matched = [v for v in verdicts if v.matched]
            if not matched:
                continue
            group = Group(secret.namespace, Applies("pod", (Ref(secret.name, None),), "", None),
                          secret.where.source, repository, [], ss, verdicts)
            steps = [ChainStep(f"a pod in {secret.namespace} listing {secret.name}", "used",
                               "no workload read uses this secret; this is what a pod listing "
                               "it would get")]
            steps += _entry_steps(group, creds)
            res = _resolution(target, group, creds, steps, matched[0].candidate.item.registry)
            if skip_used and target.raw in st.auto_targets:
                st.unused_probes += 1
                if st.unused_probes > MAX_UNUSED_PROBES:
                    res = replace(res, protocol="")  # shown, not probed
            out.append(res)
    return out


def _entry_steps(group: Group, creds: dict[str, Credential]) -> list[ChainStep]:
    steps = []
    for v in group.verdicts:
        if not v.matched:
            continue
        item = v.candidate.item
        loc = secret_location(item.secret, _value_line(item), item.value_key, item.registry)
        desc = f"Secret {item.secret.ref} {entry_key(item.value_key, item.registry)}"
        steps.append(ChainStep(desc, "used" if v.order == 0 else "lost",
                               f"key {item.registry!r} matches {group.repository}",
                               item.cred_id, loc))
    return steps


def group_of(res: Resolution) -> Group | None:
    payload = payload_of(res.payload, GroupPayload)
    return payload.group if payload is not None else None
