"""``fix --token-stdin`` for Kubernetes pull secrets.

Only the token changes.  The entry's ``password`` and ``auth`` are replaced
*inside* the decoded ``.dockerconfigjson`` / ``.dockercfg`` (every other
entry, field and byte of that JSON kept, :mod:`hardoctor.jsonspan`), and the
JSON is stored back the way it was stored:

* a manifest file: base64 under ``data:``, raw JSON under ``stringData:``
  (where possible only the token's characters inside the scalar change; else
  the scalar is rewritten in its own quoting style), a double-encoded value
  stays double-encoded -- exactly that value's span of the file changes
  (other documents, fields and comments stay), and the edited object is
  parsed again to prove the kubelet reads the new token from it;
* a Secret read with ``--kube``: an :class:`~hardoctor.model.ExternalAction`
  running ``kubectl apply --server-side -f -`` with the corrected Secret on
  stdin (never on the command line), with the run's ``--context`` and the
  Secret's namespace;
* manifests read from stdin cannot be edited: a manual step (the
  ``kubectl create secret docker-registry ... | kubectl apply -f -`` command,
  ``"$TOKEN"`` standing for the token).

Entries of the same value that hold the same old token are rotated together
(so two credentials of one value propose one identical edit).
"""

from __future__ import annotations

import json
import shlex
import subprocess

from hardoctor import fixes as core_fixes
from hardoctor import jsonspan, redact
from hardoctor.context import Context
from hardoctor.model import (
    Applicability,
    Credential,
    Edit,
    ExternalAction,
    Fix,
    Rotation,
    Secret,
    fingerprint,
)
from hardoctor.records import dataclass
from hardoctor.tokens import PeelError, peel_basic_auth

from . import dockercfg
from .creds import entry_key
from .dockercfg import HELPER_FIELDS, KEY_JSON, Decoded, Entry
from .fixes import _file, _new_scalar, _text
from .objects import SecretObj, Value, read_object
from .options import kube_options
from .state import State, persistent, state
from .yamlstream import StreamError, parse_fragment


@dataclass(frozen=True)
class NewValue:
    """The decoded value with the new token, and how it is stored."""

    #: The JSON the kubelet reads, with the new token.
    json_text: str
    #: What the API server keeps (``json_text``, or its base64 when the
    #: value was double-encoded).
    stored: str
    #: The registry keys whose entries now hold the new token, and their users.
    keys: tuple[tuple[str, str | None], ...]
    #: Edits of the JSON text (start, end, new) -- for in-place scalar edits.
    edits: tuple[tuple[int, int, str], ...]
    #: The JSON text the edits apply to.
    base: str


def rotate(credential: Credential, new: Secret, ctx: Context) -> Rotation | None:
    st = state(ctx)
    origin = st.cred_origin.get(credential.id)
    if origin is None:
        return None
    secret, value_key, registry = origin
    data = st.sources.get(secret.where.source)
    value = secret.value(value_key)
    dec = st.decoded(secret).get(value_key)
    if data is None or value is None or dec is None:
        return None
    where = f"Secret {secret.ref} {value_key} {entry_key(value_key, registry)}"
    if data.kind == "stdin":
        return _manual(credential, secret, value_key, registry, dec, ctx, where)
    new_value = new_json(dec, value_key, registry, credential, new,
                         _used_alongside(st, credential, secret, value_key))
    if new_value is None:
        return Rotation(credential.id, f"{where}: the value cannot be rewritten (it does not "
                        "parse as the kubelet reads it): change it by hand")
    users = sorted({u for _, u in new_value.keys if u})
    what = (f"{_keys_text(value_key, new_value)}: store the new token"
            + (f" for user {', '.join(users)}" if users else ""))
    if data.kind == "cluster":
        return _live(credential, secret, value_key, new_value, what, ctx, new)
    fix = _file_fix(ctx, st, secret, value, dec, new_value, f"Secret {secret.ref} {what}",
                    new)
    if fix is None:
        return Rotation(credential.id, f"{where}: the new value could not be written in place "
                        "(unusual YAML): change it by hand")
    return Rotation(credential.id, fix.description, fix=fix)


def _used_alongside(st: State, credential: Credential, secret: SecretObj,
                    value_key: str) -> tuple[str, ...]:
    """The other entries of the same value that the kubelet uses for the
    registry ``credential`` is used for: the rotation asks about each of them
    too (with another old token, maybe), and one value takes one edit --
    so each of their rotations proposes the same edit, updating all."""
    resolutions = st.resolutions
    hosts = {res.target.host for res in resolutions
             if res.credential is not None and res.credential.id == credential.id}
    out: list[str] = []
    for res in resolutions:
        if res.target.host not in hosts or res.credential is None:
            continue
        origin = st.cred_origin.get(res.credential.id)
        if origin is not None and origin[0] is secret and origin[1] == value_key:
            out.append(origin[2])
    return tuple(sorted(set(out)))


def _keys_text(value_key: str, nv: NewValue) -> str:
    return f"{value_key} " + ", ".join(entry_key(value_key, k) for k, _ in nv.keys)


# -- the decoded JSON ------------------------------------------------------------------


def _all_entries(dec: Decoded) -> list[Entry]:
    seen = {e.key for e in dec.entries}
    return list(dec.entries) + [e for e in dec.intended if e.key not in seen]


def _container(root: jsonspan.Node, value_key: str) -> jsonspan.Node | None:
    """The JSON object holding the registry entries, as the kubelet (or,
    for a value of the wrong layout, the fix that repairs it) reads it."""
    if root.kind != "object":
        return None
    auths = dockercfg._fold(root, "auths")
    wrapped = auths is not None and auths.value.kind == "object"
    if value_key == KEY_JSON:
        return auths.value if wrapped and auths is not None else root
    if wrapped and auths is not None and all(
        m.key.lower() in ("auths", *HELPER_FIELDS, "httpheaders") for m in root.members
    ):
        return auths.value  # .dockercfg with the .dockerconfigjson wrapper
    return root


def new_json(dec: Decoded, value_key: str, registry: str, credential: Credential,
             new: Secret, also: tuple[str, ...] = ()) -> NewValue | None:
    """``dec``'s JSON with the new token in ``registry``'s entry, in every
    other entry holding the same old token, and in the entries ``also``;
    None when it cannot be done exactly."""
    double = dec.has("double-encoded")
    base = dec.intended_text if double else dec.json_text
    if base is None:
        return None
    try:
        root = jsonspan.parse(base)
    except jsonspan.JSONSpanError:
        return None
    container = _container(root, value_key)
    if container is None:
        return None
    old = credential.secret.reveal() if credential.secret else None
    wanted = [registry] + [e.key for e in _all_entries(dec)
                           if old and e.password == old and e.key != registry] + list(also)
    token = new.reveal()
    edits: list[tuple[int, int, str]] = []
    keys: list[tuple[str, str | None]] = []
    for key in dict.fromkeys(wanted):
        member = jsonspan.member(container, key)
        if member is None or member.value.kind != "object":
            return None
        found = _entry_edits(member.value, token, credential.username)
        if found is None:
            return None
        entry_edits, user = found
        edits += entry_edits
        keys.append((key, user))
    text = _apply(base, edits)
    redact.register(text, alias_of=token)
    # Read back exactly as the kubelet would: each entry now holds the new token.
    entries, intended, problems, _ = dockercfg.parse_json(value_key, text)
    if any(p.breaks for p in problems):
        return None
    got = {e.key: e for e in (entries or intended)}
    for key, user in keys:
        entry = got.get(key)
        if entry is None or entry.password != token or (user and entry.username != user):
            return None
    stored = dockercfg.b64(text) if double else text
    redact.register(stored, alias_of=token)
    return NewValue(text, stored, tuple(keys), tuple(edits), base)


def _entry_edits(node: jsonspan.Node, token: str, fallback_user: str | None
                 ) -> tuple[list[tuple[int, int, str]], str | None] | None:
    """Edits putting ``token`` into one entry object: ``password`` (when
    present), ``auth`` re-encoded for the same user (when present); an entry
    with neither gets a ``password``."""
    fold = dockercfg._fold
    edits: list[tuple[int, int, str]] = []
    auth = fold(node, "auth")
    password = fold(node, "password")
    username = fold(node, "username")
    user = str(username.value.value) if username and username.value.kind == "string" else None
    if auth is not None and auth.value.kind == "string" and auth.value.value:
        try:
            peeled = peel_basic_auth(str(auth.value.value), strict=True)
        except PeelError:
            return None
        user = peeled.username
        encoded = dockercfg.auth_value(user, token)
        redact.register(encoded, alias_of=token)
        edits.append(jsonspan.replace_value(auth.value, encoded))
    if password is not None and password.value.kind in ("string", "null"):
        edits.append(jsonspan.replace_value(password.value, token))
    elif password is not None:
        return None  # a wrong type: the kubelet fails on it (K8S007)
    if not edits:
        user = user or fallback_user
        if not user:
            return None
        first = node.members[0] if node.members else None
        member = f'"password": {json.dumps(token)}'
        if first is None:
            edits.append((node.start, node.end, "{" + member + "}"))
        else:
            edits.append((first.key_start, first.key_start, member + ", "))
    return edits, user


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    out = text
    for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
        out = out[:start] + new + out[end:]
    return out


# -- a manifest file ---------------------------------------------------------------------


def _styled(style: str | None, text: str) -> str:
    """``text`` as it appears inside a YAML scalar of ``style``."""
    if style == "'":
        return text.replace("'", "''")
    if style == '"':
        return json.dumps(text)[1:-1]
    return text


def _in_place(src: str, value: Value, nv: NewValue) -> str | None:
    """The scalar's source with only the token strings replaced (raw JSON
    under ``stringData:``), or None when they cannot be found one by one."""
    if value.style not in (None, "'", '"', "|", ">"):
        return None
    out: list[str] = []
    cursor = 0
    for start, end, new in sorted(nv.edits, key=lambda e: e[0]):
        if start == end:
            return None  # an inserted member: no anchor in the source
        old_lit = _styled(value.style, nv.base[start:end])
        new_lit = _styled(value.style, new)
        at = src.find(old_lit, cursor)
        if at < 0:
            return None
        out += [src[cursor:at], new_lit]
        cursor = at + len(old_lit)
    out.append(src[cursor:])
    return "".join(out)


def _reads_back(secret: SecretObj, text: str, span: tuple[int, int, str], value_key: str,
                section: str, nv: NewValue, double: bool) -> bool:
    """Parse the edited object again (only it) and check that its value
    decodes to exactly the new JSON, in the same section and encoding."""
    if secret.span is None:
        return False
    start, end, column = secret.span
    e_start, e_end, new = span
    if not start <= e_start <= e_end <= end:
        return False
    region = " " * (column - 1) + text[start:e_start] + new + text[e_end:end]
    for item in parse_fragment(region):
        if isinstance(item, StreamError):
            return False
        rec = read_object(item, secret.where.source, secret.where.path, secret.namespace)
        if not isinstance(rec, SecretObj) or (rec.namespace, rec.name) != (
                secret.namespace, secret.name):
            return False
        value = rec.value(value_key)
        if value is None or value.section != section:
            return False
        dec = dockercfg.decode_value(value_key, value.section, value.raw)
        got = dec.intended_text if double else dec.json_text
        return got == nv.json_text and dec.has("double-encoded") == double
    return False


def _file_fix(ctx: Context, st: State, secret: SecretObj, value: Value, dec: Decoded,
              nv: NewValue, description: str, new: Secret) -> Fix | None:
    path = _file(st, secret)
    if path is None:
        return None
    text = _text(ctx, st, path)
    if text is None or not 0 <= value.start <= value.end <= len(text):
        return None
    double = dec.has("double-encoded")
    base64_layer = value.section == "data" and not dec.has("raw-json")
    stored = dockercfg.b64(nv.stored) if base64_layer else nv.stored
    redact.register(stored, alias_of=new.reveal())
    spans: list[tuple[int, int, str]] = []
    src = text[value.start:value.end]
    if not base64_layer and not double:
        in_place = _in_place(src, value, nv)
        if in_place is not None:
            spans.append((value.start, value.end, in_place))
    elif "\n" not in value.raw.strip() and src.count(value.raw.strip()) == 1:
        # One line of base64 (plain, quoted or in a block scalar): swap the
        # line, keeping the scalar's style and indentation.
        spans.append((value.start, value.end, src.replace(value.raw.strip(), stored)))
    whole = _new_scalar(text, value, stored, value.section == "stringData" and value.style is None)
    if whole is not None:
        spans.append(whole)
    for span in spans:
        if _reads_back(secret, text, span, value.key, value.section, nv, double):
            if path not in st.digests:
                st.digests[path] = core_fixes.digest(text)
            start, end, new_text = span
            how = ("base64 under data:" if base64_layer else
                   "raw JSON under " + value.section + ":")
            if double:
                how += ", encoded twice as before"
            return Fix(f"{description} ({how})", Applicability.SAFE,
                       (Edit(path, start, end, new_text, expected=st.digests[path]),))
    return None


# -- the live cluster --------------------------------------------------------------------


def secret_manifest(secret: SecretObj, value_key: str, stored: str) -> str:
    """The Secret to apply: its type as it is (a Secret's type is
    immutable), the one value replaced."""
    return (
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        f"  name: {json.dumps(secret.name)}\n"
        f"  namespace: {json.dumps(secret.namespace)}\n"
        f"type: {json.dumps(secret.effective_type)}\n"
        "data:\n"
        f"  {json.dumps(value_key)}: {dockercfg.b64(stored)}\n"
    )


def kubectl_argv(ctx: Context, secret: SecretObj) -> list[str] | None:
    from .sources import kube_timeout, kubectl_binary

    binary = kubectl_binary(ctx)
    if binary is None:
        return None
    argv = [binary, "apply", "--server-side", "--force-conflicts", "--field-manager=hardoctor",
            f"--request-timeout={max(1, int(kube_timeout(ctx)))}s"]
    kube_context = kube_options(ctx).context
    if kube_context:
        argv += ["--context", kube_context]
    return [*argv, "--namespace", secret.namespace, "-f", "-"]


def _live(credential: Credential, secret: SecretObj, value_key: str, nv: NewValue, what: str,
          ctx: Context, new: Secret) -> Rotation:
    manifest = secret_manifest(secret, value_key, nv.stored)
    redact.register(dockercfg.b64(nv.stored), alias_of=new.reveal())
    scope = f", context {kube_options(ctx).context}" if kube_options(ctx).context else ""
    desc = (f"kubectl apply --server-side -f - (Secret {secret.ref} {_keys_text(value_key, nv)}"
            f"{scope})")

    def run() -> str | None:
        from .sources import kube_env, kube_timeout

        # Two entries of one value: both rotations apply the same Secret.
        done = persistent(ctx).rotated
        key = f"{secret.ref}\0{fingerprint(manifest)}"
        if key in done:
            return None
        argv = kubectl_argv(ctx, secret)
        if argv is None:
            return "kubectl is not installed (or not on PATH)"
        try:
            proc = subprocess.run(argv, input=manifest, text=True, capture_output=True,
                                  env=kube_env(ctx), cwd=ctx.project,
                                  timeout=kube_timeout(ctx) + 5, check=False)
        except subprocess.TimeoutExpired:
            return "kubectl apply did not finish in time"
        except OSError as exc:
            return f"kubectl cannot be started ({exc.strerror or exc.__class__.__name__})"
        if proc.returncode == 0:
            done.add(key)
            return None
        lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        return redact.scrub(f"kubectl apply failed (exit {proc.returncode})"
                            + (f": {lines[-1][:300]}" if lines else ""))

    return Rotation(credential.id, f"Secret {secret.ref} {what} (kubectl apply)",
                    actions=(ExternalAction(desc, run),))


# -- manifests on stdin ------------------------------------------------------------------


def _manual(credential: Credential, secret: SecretObj, value_key: str, registry: str,
            dec: Decoded, ctx: Context, where: str) -> Rotation:
    user = credential.username or "USER"
    argv = ["kubectl", "create", "secret", "docker-registry", secret.name,
            "--namespace", secret.namespace, f"--docker-server={registry}",
            f"--docker-username={user}"]
    kube_context = kube_options(ctx).context
    context = ["--context", kube_context] if kube_context else []
    command = (" ".join(shlex.quote(a) for a in [*argv, *context])
               + ' --docker-password="$TOKEN" --dry-run=client -o yaml | '
               + " ".join(shlex.quote(a) for a in ["kubectl", *context, "apply", "-f", "-"]))
    notes = []
    if len(_all_entries(dec)) > 1:
        notes.append("it writes a Secret with only this entry: add the others back")
    if value_key != KEY_JSON:
        notes.append("it writes a kubernetes.io/dockerconfigjson Secret, and a Secret's type "
                     "cannot change: delete the .dockercfg one first")
    note = f" ({'; '.join(notes)})" if notes else ""
    return Rotation(credential.id,
                    f"{where}: manifests read from stdin cannot be edited; apply the Secret "
                    f"with the new token{note}", manual=(command,))
