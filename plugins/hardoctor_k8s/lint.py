"""Offline findings about one source: its Secrets, ServiceAccounts and
workloads, looked up against everything read (a Deployment in one file may
list a Secret from another, or from the cluster).

Problems shared by many pods (a dump of 20,000 pods all listing a missing
secret) are reported once per namespace and secret / image, naming the first
few workloads."""

from __future__ import annotations

from typing import Any

from hardoctor.context import Context
from hardoctor.model import Finding, Location, Remediation, Severity, Source
from hardoctor.records import dataclass, field

from . import fixes, keyring
from .creds import entry_key, secret_location
from .dockercfg import KEY_FOR_TYPE, PULL_TYPES, TYPE_FOR_KEY, Decoded
from .objects import ImageUse, Ref, SecretObj, Workload
from .resolve import applies, candidates, secret_states
from .state import SourceData, State

ECO = "k8s"


@dataclass
class _Bucket:
    """Workloads sharing one problem."""

    first: Workload
    line: int | None
    names: list[str] = field(default_factory=list)

    def add(self, w: Workload) -> None:
        if w.ref not in self.names:
            self.names.append(w.ref)

    def text(self, limit: int = 3) -> str:
        shown = ", ".join(self.names[:limit])
        if len(self.names) > limit:
            shown += f" and {len(self.names) - limit} more"
        return shown


def lint(source: Source, data: SourceData, st: State, ctx: Context) -> list[Finding]:
    out = stream_problems(source, data, ctx)
    for secret in data.secrets:
        out += secret_findings(secret, st, ctx)
    if data.kind == "file" and data.path:
        from .committed import findings

        out += findings(ctx, data.path, data.secrets)
    out += workload_findings(data, st, ctx)
    for sa in data.service_accounts:
        for ref in sa.pull_secrets:
            if st.find_secret(sa.namespace, ref.name, sa.where.source) is None:
                out.append(_missing(ctx, st, sa.namespace, ref, sa.where.at(ref.line,
                           f"ServiceAccount {sa.ref}"), f"ServiceAccount {sa.ref}", data,
                           severity=Severity.WARNING))
    return out


def stream_problems(source: Source, data: SourceData, ctx: Context) -> list[Finding]:
    out = []
    for p in data.problems:
        if p.kind == "kubectl":
            out.append(ctx.finding(
                "K8S015", f"{data.display}: {p.message}.", cause=p.cause, ecosystem=ECO,
                location=Location(None, key=source.description),
                why="Without the cluster's objects the pull secrets pods use cannot be checked.",
                evidence=(f"kubectl: {p.detail}",) if p.detail else (),
                remediation=Remediation(
                    "Make `kubectl get secrets,pods` work for this context first.",
                    commands=("kubectl auth can-i list secrets" + _scope_hint(ctx),
                              "kubectl get secrets,pods" + _scope_hint(ctx)))))
        elif p.kind == "too-large":
            out.append(ctx.finding(
                "K8S001", f"{data.display} {p.message}.", ecosystem=ECO,
                location=Location(data.path if data.kind == "file" else "<stdin>"),
                why="An input over the cap is refused at once rather than read into memory; "
                    "nothing in it is checked."))
        elif p.kind == "helm-template":
            out.append(ctx.finding(
                "K8S001", f"{data.display} is a Helm chart template, not YAML: render it first.",
                ecosystem=ECO, severity=Severity.WARNING,
                location=Location(data.path if data.kind == "file" else "<stdin>", p.line),
                why="`{{ ... }}` is filled in by `helm template`/`helm install`; the file itself "
                    "cannot be applied or checked.",
                remediation=Remediation("Check the rendered manifests instead.",
                                        commands=("helm template RELEASE CHART | hardoctor check "
                                                  "--manifests -",))))
        else:
            where = f" at line {p.line}" if p.line else ""
            out.append(ctx.finding(
                "K8S001", f"{data.display} is not valid YAML{where}: {p.message}.",
                ecosystem=ECO, location=Location(data.path if data.kind == "file" else "<stdin>",
                                                 p.line, p.column),
                why="`kubectl apply` refuses the whole file; objects after the error are not "
                    "checked either."))
    return out


def _scope_hint(ctx: Context) -> str:
    from .sources import scope_args

    args = scope_args(ctx)
    return (" " + " ".join(args)) if args else ""


# -- secrets ------------------------------------------------------------------------------


def _is_pull_like(secret: SecretObj) -> bool:
    return secret.effective_type in PULL_TYPES or bool(secret.values)


def secret_findings(secret: SecretObj, st: State, ctx: Context) -> list[Finding]:
    if not _is_pull_like(secret):
        return []
    out: list[Finding] = []
    type_key = KEY_FOR_TYPE.get(secret.effective_type)
    decoded = st.decoded(secret)
    loc = secret_location(secret, secret.where.line)
    if type_key is not None and type_key not in decoded and type_key not in secret.keys:
        others = [k for k in decoded if k != type_key]
        if others:
            other = others[0]
            dec = decoded[other]
            value = secret.value(other)
            assert value is not None
            ok_layout = not dec.has("no-auths") and not dec.has("has-auths")
            out.append(ctx.finding(
                "K8S003",
                f"Secret {secret.ref} is of type {secret.effective_type} but holds {other} "
                f"instead of {type_key}.",
                ecosystem=ECO, location=secret.where.at(value.key_line, f"Secret {secret.ref}"),
                registry=_registry(dec),
                why=f"The API server refuses it ({type_key} is required), and the kubelet reads "
                    f"only {type_key} from this type.",
                remediation=Remediation(
                    f"Rename the key to {type_key}" + ("" if ok_layout else
                                                       " and fix the layout of the value") + "."),
                fix=fixes.rename_key(ctx, st, secret, value, type_key) if ok_layout else None))
        else:
            out.append(ctx.finding(
                "K8S003", f"Secret {secret.ref} is of type {secret.effective_type} but has no "
                f"{type_key} key.", ecosystem=ECO, location=loc,
                why=f"The API server refuses it ({type_key} is required).",
                remediation=Remediation("Re-create it with `kubectl create secret docker-registry`.")))
    if secret.effective_type in PULL_TYPES:
        wrong = [k for k in decoded if k != type_key and type_key in decoded]
        for k in wrong:
            value = secret.value(k)
            out.append(ctx.finding(
                "K8S003", f"Secret {secret.ref} of type {secret.effective_type} also holds {k}, "
                f"which the kubelet ignores for this type.", severity=Severity.WARNING,
                ecosystem=ECO, location=secret.where.at(value.key_line if value else None,
                                                        f"Secret {secret.ref}"),
                why=f"Only {type_key} is read; a token updated in {k} has no effect."))
    for k in secret.overridden:
        if k not in decoded:
            continue
        value = secret.value(k)
        out.append(ctx.finding(
            "K8S014", f"Secret {secret.ref} sets {k} in both data and stringData: the API server "
            "keeps the stringData one.", ecosystem=ECO,
            location=secret.where.at(value.key_line if value else None, f"Secret {secret.ref}"),
            registry=_registry(decoded[k]),
            why="A token pasted under data: is silently dropped when the Secret is applied.",
            remediation=Remediation(f"Keep {k} under one of data: or stringData: only.")))
    for k, dec in decoded.items():
        if secret.effective_type in PULL_TYPES and k != type_key and type_key in decoded:
            continue
        out += value_findings(secret, k, dec, st, ctx)
    return out


def _registry(dec: Decoded) -> str | None:
    entries = dec.entries or dec.intended
    return keyring_host(entries[0].key) if entries else None


def keyring_host(key: str) -> str:
    from hardoctor.targets import normalize_host

    from .hub import HUB

    return normalize_host(key, HUB)


def value_findings(secret: SecretObj, key: str, dec: Decoded, st: State,
                   ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    value = secret.value(key)
    assert value is not None
    loc = secret_location(secret, value.line, key)
    reg = _registry(dec)
    listed_by = _listed_by(st, secret)
    blast = (f" {listed_by} list it." if listed_by else "")
    for p in dec.problems:
        if p.code == "double-encoded":
            out.append(ctx.finding(
                "K8S006", f"Secret {secret.ref} {key} {p.text}.", ecosystem=ECO, location=loc,
                registry=reg,
                why="The kubelet's keyring cannot parse it, so every image pull of every pod that "
                    "lists this secret fails." + blast,
                remediation=Remediation("Store the value encoded once (base64 of the JSON under "
                                        "data:, the raw JSON under stringData:)."),
                fix=fixes.single_encoding(ctx, st, secret, value, dec)))
        elif p.code in ("no-auths", "has-auths"):
            out.append(ctx.finding(
                "K8S005", f"Secret {secret.ref} {key} {p.text}.", ecosystem=ECO, location=loc,
                registry=reg,
                why="The API server accepts any JSON here; the kubelet then finds no registry "
                    "entry and pulls without credentials (401).",
                remediation=Remediation(
                    "Add the {\"auths\": ...} wrapper." if p.code == "no-auths" else
                    "Remove the \"auths\" wrapper, or change the type to "
                    "kubernetes.io/dockerconfigjson with key .dockerconfigjson."),
                fix=fixes.rewrap(ctx, st, secret, value, dec) if dec.intended else None))
        elif p.code == "raw-json":
            out.append(ctx.finding(
                "K8S007", f"Secret {secret.ref} {key} {p.text}.", ecosystem=ECO, location=loc,
                registry=reg, why="`kubectl apply` fails with an illegal base64 error.",
                remediation=Remediation("Base64-encode the value, or move it under stringData:."),
                fix=fixes.encode_raw(ctx, st, secret, value, dec)))
        elif p.code.startswith("auth-"):
            if p.code == "auth-not-text":
                continue  # the registry refuses it; TOK/DKR probe findings say so
            out.append(ctx.finding(
                "K8S008", f"Secret {secret.ref} {key} {entry_key(key, p.key or '?')}: {p.text}.",
                ecosystem=ECO, location=secret_location(secret, value.line, key, p.key),
                registry=keyring_host(p.key) if p.key else reg,
                why="The kubelet cannot build its keyring from this secret: every image pull of "
                    "every pod that lists it fails, whatever registry the image is on." + blast,
                remediation=Remediation(
                    "Re-create the secret from the token.",
                    commands=(_create_command(secret, p.key or "REGISTRY"),))))
        elif p.code == "helpers":
            out.append(ctx.finding(
                "K8S009", f"Secret {secret.ref} {key} {p.text}.", ecosystem=ECO, location=loc,
                registry=reg, severity=Severity.WARNING if dec.entries else None,
                why="This is a copy of a Docker config that keeps its tokens in a credential "
                    "store; the kubelet reads only username/password/auth.",
                remediation=Remediation("Re-create the secret from the token itself.",
                                        commands=(_create_command(secret, "REGISTRY"),))))
        elif p.breaks:
            out.append(ctx.finding(
                "K8S007", f"Secret {secret.ref} {key} {p.text}.", ecosystem=ECO, location=loc,
                registry=reg,
                why=("The API server refuses the Secret." if p.code.startswith("data-") or
                     p.code in ("bad-json", "not-object") and secret.effective_type in PULL_TYPES
                     else "The kubelet's keyring fails: every image pull of every pod that lists "
                     "this secret fails." + blast),
                remediation=Remediation("Re-create the secret.",
                                        commands=(_create_command(secret, reg or "REGISTRY"),))))
    for e in dec.entries or dec.intended:
        if e.unsupported:
            usable = bool(e.password)
            out.append(ctx.finding(
                "K8S009",
                f"Secret {secret.ref} {key} {entry_key(key, e.key)} relies on "
                f"{', '.join(e.unsupported)}, which the kubelet does not read"
                + ("." if usable else ": it sends no password."),
                ecosystem=ECO, location=secret_location(secret, value.line, key, e.key),
                registry=keyring_host(e.key),
                severity=Severity.WARNING if usable else None,
                why="`docker login` against a token server stores a refresh token as "
                    "identitytoken and drops the password; the kubelet needs the password.",
                remediation=Remediation("Re-create the secret with the token as password.",
                                        commands=(_create_command(secret, e.key),))))
    return out


def _create_command(secret: SecretObj, registry: str) -> str:
    return (f"kubectl create secret docker-registry {secret.name} -n {secret.namespace} "
            f"--docker-server={registry} --docker-username=USER --docker-password=\"$TOKEN\" "
            "--dry-run=client -o yaml | kubectl apply -f -")


def _listed_by(st: State, secret: SecretObj) -> str:
    names = st.listed_by(secret.namespace, secret.name)
    if not names:
        return ""
    return ", ".join(names[:3]) + (" and more" if len(names) > 3 else "")


# -- workloads ----------------------------------------------------------------------------


def workload_findings(data: SourceData, st: State, ctx: Context) -> list[Finding]:
    scan = _WorkloadScan(st)
    for w in data.workloads:
        scan.add(w)
    return scan.findings(data, ctx)


class _WorkloadScan:
    """Workloads bucketed by what is wrong with their pull secrets: one
    finding per bucket names every workload in it."""

    def __init__(self, st: State) -> None:
        self.st = st
        self.missing: dict[tuple[str, str], _Bucket] = {}
        self.wrong: dict[tuple[str, str], _Bucket] = {}
        self.nomatch: dict[tuple[str, str, tuple[str, ...]], tuple[_Bucket, ImageUse]] = {}
        self.override: dict[tuple[str, str, str], _Bucket] = {}
        self.predates: dict[tuple[str, str, tuple[str, ...]], _Bucket] = {}
        # Pods of one controller share their list: decide once per list and image.
        self.lists: dict[tuple[str, tuple[str, ...], str], tuple[list[Any], list[Any]]] = {}
        self.matched: dict[tuple[str, tuple[str, ...], str, str], bool] = {}

    def add(self, w: Workload) -> None:
        st = self.st
        app = applies(st, w)
        lkey = (w.namespace, tuple(r.name for r in app.refs), w.where.source)
        if lkey not in self.lists:
            states = secret_states(st, w.namespace, app.refs, w.where.source)
            self.lists[lkey] = (states, candidates(st, states))
        states, cands = self.lists[lkey]
        for s in states:
            key = (w.namespace, s.ref.name)
            if s.status == "missing":
                self.missing.setdefault(key, _Bucket(w, _line(app.refs, s.ref.name))).add(w)
            elif s.status == "wrong-type":
                self.wrong.setdefault(key, _Bucket(w, _line(app.refs, s.ref.name))).add(w)
        for use in w.images:
            self._image(w, app, lkey, cands, use)
        self._service_account(w, app)

    def _image(self, w: Workload, app: Any, lkey: tuple[str, tuple[str, ...], str],
               cands: list[Any], use: ImageUse) -> None:
        ref = self.st.image(use.image)
        if ref is None:
            return
        repo = keyring.image_repository(ref)
        mkey = (*lkey, repo)
        if mkey not in self.matched:
            self.matched[mkey] = any(v.matched and v.candidate.item.has_credentials
                                     for v in keyring.lookup(cands, repo))
        if self.matched[mkey]:
            return
        nkey = (w.namespace, repo, tuple(r.name for r in app.refs))
        if nkey in self.nomatch:
            self.nomatch[nkey][0].add(w)
        else:
            b = _Bucket(w, use.line)
            b.add(w)
            self.nomatch[nkey] = (b, use)

    def _service_account(self, w: Workload, app: Any) -> None:
        if app.origin != "pod" or app.sa is None or \
                not {r.name for r in app.sa.pull_secrets} - {r.name for r in app.refs}:
            return
        if not _copied_from_sa(self.st, w):
            okey = (w.namespace, app.sa_name, ",".join(r.name for r in app.refs))
            self.override.setdefault(okey, _Bucket(w, w.pull_secrets_line)).add(w)
        else:
            pkey = (w.namespace, app.sa_name, tuple(r.name for r in app.refs))
            self.predates.setdefault(pkey, _Bucket(w, w.pull_secrets_line)).add(w)

    def findings(self, data: SourceData, ctx: Context) -> list[Finding]:
        st, out = self.st, []
        for (ns, name), b in self.missing.items():
            out.append(_missing(ctx, st, ns, Ref(name, b.line),
                                b.first.where.at(b.line, b.first.ref), b.text(), data))
        for (ns, name), b in self.wrong.items():
            secret = st.find_secret(ns, name, b.first.where.source)
            assert secret is not None
            out.append(_wrong_type(ctx, st, secret, b))
        for (ns, repo, refs), (b, use) in self.nomatch.items():
            f = _no_match(ctx, st, ns, repo, refs, b, use)
            if f is not None:
                out.append(f)
        for (ns, sa_name, _), b in self.override.items():
            out.append(_override(ctx, st, ns, sa_name, b))
        for (ns, sa_name, refs), b in self.predates.items():
            out.append(_predates(ctx, st, ns, sa_name, refs, b))
        return out


def _line(refs: tuple[Ref, ...], name: str) -> int | None:
    return next((r.line for r in refs if r.name == name), None)


def _missing(ctx: Context, st: State, ns: str, ref: Ref, loc: Location, who: str,
             data: SourceData, severity: Severity | None = None) -> Finding:
    others = st.other_namespaces(ns, ref.name)
    live = data.kind == "cluster"
    lists = "list" if " and " in who or ", " in who else "lists"
    if others:
        message = (f"{who} {lists} pull secret {ref.name!r}, which is not in namespace {ns} but "
                   f"in {', '.join(others)}.")
        cause = "credential-not-matched"
        why = ("imagePullSecrets name Secrets in the pod's own namespace only: the kubelet "
               "reports FailedToRetrieveImagePullSecret and pulls without credentials.")
        commands = (f"kubectl get secret {ref.name} -n {others[0]} -o yaml | sed "
                    f"'s/namespace: {others[0]}/namespace: {ns}/' | kubectl apply -n {ns} -f -",)
    else:
        message = f"{who} {lists} pull secret {ref.name!r}, which does not exist in namespace {ns}."
        cause = None
        why = ("The kubelet reports FailedToRetrieveImagePullSecret and pulls without "
               "credentials (ErrImagePull, `no basic auth credentials`).")
        commands = (f"kubectl create secret docker-registry {ref.name} -n {ns} "
                    "--docker-server=REGISTRY --docker-username=USER --docker-password=\"$TOKEN\"",)
        if not live and not st.has_cluster:
            severity = severity or Severity.WARNING
            why += (" It is not in the manifests read; if it is created some other way, check "
                    "the cluster with --kube.")
    return ctx.finding("K8S002", message, cause=cause, severity=severity, ecosystem=ECO,
                       location=loc, why=why,
                       remediation=Remediation(f"Create the Secret in namespace {ns}.",
                                               commands=commands))


def _wrong_type(ctx: Context, st: State, secret: SecretObj, b: _Bucket) -> Finding:
    dec_keys = list(st.decoded(secret))
    declared = f"type {secret.type}" if secret.type else "no type (so Opaque)"
    fix = None
    if dec_keys:
        value = secret.value(dec_keys[0])
        assert value is not None
        fix = fixes.set_type(ctx, st, secret, TYPE_FOR_KEY[dec_keys[0]])
    reg = _registry(st.decoded(secret)[dec_keys[0]]) if dec_keys else None
    return ctx.finding(
        "K8S004", f"{b.text()} list{'' if len(b.names) > 1 else 's'} pull secret "
        f"{secret.ref}, which has {declared}: the kubelet ignores it.",
        ecosystem=ECO, location=secret_location(secret, secret.where.line), registry=reg,
        why="Only kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg secrets are used for "
            "pulls; the image is pulled without credentials.",
        evidence=(f"listed at {ctx.display_path(b.first.where.path)}:{b.line}"
                  if b.first.where.path and b.line else f"listed by {b.first.ref}",),
        remediation=Remediation(
            "Give the Secret the docker-registry type" + (f" ({TYPE_FOR_KEY[dec_keys[0]]})"
                                                          if dec_keys else "") + ".",
            steps=("A Secret's type cannot change in the cluster: delete it and apply it again.",),
            commands=(f"kubectl delete secret {secret.name} -n {secret.namespace}",
                      "kubectl apply -f FILE")),
        fix=fix)


def _no_match(ctx: Context, st: State, ns: str, repo: str, refs: tuple[str, ...], b: _Bucket,
              use: ImageUse) -> Finding | None:
    host = repo.split("/", 1)[0]
    app = applies(st, b.first)
    states = secret_states(st, ns, app.refs, b.first.where.source)
    if any(s.status in ("missing", "wrong-type", "broken", "empty") or
           (s.decoded is not None and (s.decoded.has("no-auths") or s.decoded.has("has-auths")))
           for s in states):
        return None  # K8S002-K8S008 name the cause
    verdicts = keyring.lookup(candidates(st, states), repo)
    near = [v for v in verdicts if keyring.near_miss(v, repo)]
    # A vendor registry (one a vendor plugin owns) never serves anonymous pulls.
    vendor = ctx.registry_info(host, "oci")
    har = vendor is not None
    vendor_name = (vendor.display or vendor.vendor) if vendor is not None else ""
    loc = b.first.where.at(b.line, b.first.ref)
    evidence = tuple(
        f"Secret {v.candidate.item.secret.ref} "
        f"{entry_key(v.candidate.item.value_key, v.candidate.item.registry)}: {v.why}"
        for v in verdicts if not v.matched)[:6]
    if near:
        v = near[0]
        item = v.candidate.item
        return ctx.finding(
            "K8S010", f"{b.text()}: no pull-secret entry matches {repo} (image {use.image}); "
            f"Secret {item.secret.ref} has {item.registry!r}, which the kubelet does not match: "
            f"{v.why}.", ecosystem=ECO, location=loc, registry=host, evidence=evidence,
            why="The kubelet pulls without credentials and the registry answers 401.",
            remediation=Remediation(f"Key the entry by the image's host {host}.",
                                    commands=(_create_command(item.secret, host),)))
    if not refs:
        if not har:
            return None  # maybe public; the probe tells (online)
        return ctx.finding(
            "K8S010", f"{b.text()} pull{'s' if len(b.names) == 1 else ''} {use.image} from "
            f"{vendor_name} without any pull secret.", cause="no-credentials",
            ecosystem=ECO,
            location=loc, registry=host,
            why=f"{vendor_name} refuses anonymous pulls: `no basic auth credentials` / 401.",
            remediation=Remediation(
                "Create a pull secret and list it in the pod spec (or the ServiceAccount).",
                commands=(f"kubectl create secret docker-registry har-pull -n {ns} "
                          f"--docker-server={host} --docker-username=USER "
                          "--docker-password=\"$TOKEN\"",)))
    if host == "docker.io" and not har:
        return None  # public images are the common case; online, the probe tells
    severity = None if har else Severity.INFO
    return ctx.finding(
        "K8S010", f"{b.text()}: none of the pull secrets ({', '.join(refs)}) has an entry for "
        f"{host} (image {use.image}); the kubelet pulls it anonymously.",
        severity=severity, cause=None if har else "no-credentials", ecosystem=ECO, location=loc,
        registry=host, evidence=evidence,
        why="A private registry answers 401; a public one works." if not har else
            f"{vendor_name} refuses anonymous pulls: 401.",
        remediation=Remediation(f"Add an entry for {host} to a listed pull secret, if the image "
                                "is private."))


def _copied_from_sa(st: State, w: Workload) -> bool:
    """A live pod (from the cluster or a dump) whose list came from its
    ServiceAccount: its controller's template lists no pull secrets."""
    if w.kind != "Pod" or w.owner is None:
        return False
    owner = st.by_name.get((w.owner[0], w.namespace, w.owner[1]))
    return owner is not None and not owner.pull_secrets


def _override(ctx: Context, st: State, ns: str, sa_name: str, b: _Bucket) -> Finding:
    w = b.first
    app = applies(st, w)
    assert app.sa is not None
    own = ", ".join(r.name for r in app.refs)
    sas = ", ".join(r.name for r in app.sa.pull_secrets)
    return ctx.finding(
        "K8S012", f"{b.text()} list{'s' if len(b.names) == 1 else ''} its own pull secrets "
        f"({own}), so ServiceAccount {ns}/{sa_name}'s ({sas}) are never used.",
        ecosystem=ECO, location=w.where.at(b.line, w.ref),
        evidence=(f"ServiceAccount {app.sa.ref}"
                  + (f" at {ctx.display_path(app.sa.where.path)}:{app.sa.where.line}"
                     if app.sa.where.path else " in the cluster"),),
        why="Admission copies a ServiceAccount's pull secrets only into pods that list none: "
            "updating the ServiceAccount does not change these pods.",
        remediation=Remediation("Remove the pod's imagePullSecrets to inherit the "
                                "ServiceAccount's, or list the same secrets."))


def _predates(ctx: Context, st: State, ns: str, sa_name: str, refs: tuple[str, ...],
              b: _Bucket) -> Finding:
    w = b.first
    app = applies(st, w)
    assert app.sa is not None
    now = ", ".join(r.name for r in app.sa.pull_secrets) or "none"
    restart = f"kubectl delete pod {w.name} -n {ns}   # its controller creates a new one"
    owner = w.owner
    top = st.by_name.get((owner[0], ns, owner[1])) if owner else None
    if top is not None and top.owner is not None:
        owner = top.owner
    if owner is not None and owner[0] in ("Deployment", "StatefulSet", "DaemonSet"):
        restart = f"kubectl rollout restart {owner[0].lower()}/{owner[1]} -n {ns}"
    return ctx.finding(
        "K8S013", f"{b.text()} got pull secrets {', '.join(refs)} from ServiceAccount "
        f"{ns}/{sa_name} when created; the ServiceAccount now lists {now}.",
        ecosystem=ECO, location=w.where.at(b.line, w.ref),
        why="ServiceAccount pull secrets reach only pods created afterwards; these pods keep the "
            "old list for every re-pull.",
        remediation=Remediation("Recreate the pods.", commands=(restart,)))
