"""Repairs of pull secrets: in place in manifest files, or a corrected
Secret applied to the cluster with ``kubectl apply``.

A manifest edit replaces exactly one YAML value (or key, or the ``type``),
by its character span, keeping every other byte of the file: comments,
other documents, the value's quoting style.  Before a fix is offered the
edited text is parsed again and the object checked to hold what was meant.

The live cluster cannot be edited as a file: the core's fixes are file edits.
For a Secret read with ``--kube`` the fix carries no edit; the corrected
Secret is shown (its value as a fingerprint), and ``hardoctor fix --apply
--kube`` (with ``--unsafe`` where the fix is unsafe) applies it with ``kubectl
apply --server-side``, once per run.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import TYPE_CHECKING

from hardoctor import fixes as core_fixes
from hardoctor import redact
from hardoctor.files import read_file
from hardoctor.model import Applicability, Credential, Edit, Fix, fingerprint

from . import dockercfg
from .dockercfg import KEY_FOR_TYPE, KEY_JSON, Decoded
from .objects import SecretObj, Value
from .options import kube_options
from .state import State, persistent
from .yamlstream import StreamError, parse_fragment

if TYPE_CHECKING:
    from hardoctor.context import Context

READ_LIMIT = 1024 * 1024 * 1024
SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE


def _text(ctx: Context, st: State, path: str) -> str | None:
    cache = st.texts
    if path not in cache:
        # read_file reads max_bytes + 1 at once, and Python allocates that
        # much up front: ask for the file's own size, not a huge limit.
        try:
            size = os.stat(path).st_size
        except OSError:
            size = 0
        data = read_file(ctx, path, max_bytes=min(READ_LIMIT, max(size, 1024 * 1024)))
        cache[path] = data.text if data is not None else None
    return cache[path]


def _file(st: State, secret: SecretObj) -> str | None:
    data = st.sources.get(secret.where.source)
    if data is None or data.kind != "file" or secret.where.path is None:
        return None
    return secret.where.path


def _quoted(style: str | None, value: str, json_value: bool) -> str:
    """``value`` written in the style of the scalar it replaces."""
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or (json_value and style != "'"):
        return json.dumps(value)
    return value


def _new_scalar(text: str, value: Value, new: str, json_value: bool) -> tuple[int, int, str] | None:
    old = text[value.start:value.end]
    style = value.style
    if style in ("|", ">"):
        if not old.startswith(("|", ">")):
            return None
        tail = old[len(old.rstrip("\n")):]
        return value.start, value.end, json.dumps(new) + tail
    if style in ('"', "'"):
        if not old.startswith(style) or not old.endswith(style):
            return None
    elif old.strip() != value.raw.strip() and "\n" not in old:
        return None
    return value.start, value.end, _quoted(style, new, json_value)


def _verify(secret: SecretObj, text: str, edit: tuple[int, int, str], check: str,
            expected: str) -> bool:
    """Parse the edited object again (only it: a dump can be huge) and check
    it holds what the fix meant."""
    from .objects import read_object

    if secret.span is None:
        return False
    start, end, column = secret.span
    e_start, e_end, new = edit
    if not start <= e_start <= e_end <= end and not (e_start == e_end == start):
        return False
    region = " " * (column - 1) + text[start:e_start] + new + text[e_end:end]
    for item in parse_fragment(region):
        if isinstance(item, StreamError):
            return False
        rec = read_object(item, secret.where.source, secret.where.path, secret.namespace)
        if not isinstance(rec, SecretObj):
            return False
        if check == "type":
            return rec.type == expected
        if check.startswith("key:"):
            return rec.value(expected) is not None
        value = rec.value(check)
        if value is None:
            return False
        dec = dockercfg.decode_value(check, value.section, value.raw)
        return dec.json_text == expected and not dec.breaks
    return False


def _edit_fix(ctx: Context, st: State, secret: SecretObj, span: tuple[int, int, str],
              description: str, applicability: Applicability, check: str,
              expected: str) -> Fix | None:
    path = _file(st, secret)
    if path is None:
        return None
    text = _text(ctx, st, path)
    if text is None:
        return None
    start, end, new = span
    if not 0 <= start <= end <= len(text):
        return None
    if not _verify(secret, text, span, check, expected):
        return None
    digests = st.digests
    if path not in digests:
        digests[path] = core_fixes.digest(text)
    return Fix(description, applicability, (Edit(path, start, end, new, expected=digests[path]),))


def _value_fix(ctx: Context, st: State, secret: SecretObj, value: Value, new_json: str,
               description: str, code: str, applicability: Applicability = SAFE) -> Fix | None:
    """Replace ``value`` with ``new_json`` (base64 under data:)."""
    redact.register(new_json)
    if _file(st, secret) is None:
        return live_fix(ctx, st, secret, value.key, new_json, description, applicability, code)
    path = _file(st, secret)
    assert path is not None
    text = _text(ctx, st, path)
    if text is None:
        return None
    new_value = dockercfg.b64(new_json) if value.section == "data" else new_json
    redact.register(new_value)
    json_value = value.section == "stringData" and value.style is None
    span = _new_scalar(text, value, new_value, json_value)
    if span is None:
        return None
    return _edit_fix(ctx, st, secret, span, description, applicability, value.key, new_json)


def repaired_json(dec: Decoded) -> str | None:
    """The value as it was meant: one encoding layer, the right wrapper."""
    if dec.intended_text is None:
        return None
    return dockercfg.rewrap(dec.key, dec.intended_text)


def single_encoding(ctx: Context, st: State, secret: SecretObj, value: Value,
                    dec: Decoded) -> Fix | None:
    new = repaired_json(dec)
    if new is None:
        return None
    return _value_fix(ctx, st, secret, value, new,
                      f"store Secret {secret.ref} {value.key} encoded once", "K8S006")


def rewrap(ctx: Context, st: State, secret: SecretObj, value: Value, dec: Decoded) -> Fix | None:
    new = repaired_json(dec)
    if new is None:
        return None
    what = "add the auths wrapper to" if dec.key == KEY_JSON else "remove the auths wrapper from"
    return _value_fix(ctx, st, secret, value, new, f"{what} Secret {secret.ref} {value.key}",
                      "K8S005")


def encode_raw(ctx: Context, st: State, secret: SecretObj, value: Value,
               dec: Decoded) -> Fix | None:
    new = repaired_json(dec)
    if new is None or _file(st, secret) is None:
        return None
    return _value_fix(ctx, st, secret, value, new,
                      f"base64-encode Secret {secret.ref} {value.key}", "K8S007")


def rename_key(ctx: Context, st: State, secret: SecretObj, value: Value,
               new_key: str) -> Fix | None:
    path = _file(st, secret)
    if path is None:
        return None
    text = _text(ctx, st, path)
    if text is None:
        return None
    old = text[value.key_start:value.key_end]
    if old.strip("'\"") != value.key:
        return None
    new = _quoted(value.key_style, new_key, False)
    return _edit_fix(ctx, st, secret, (value.key_start, value.key_end, new),
                     f"rename {value.key} to {new_key} in Secret {secret.ref}", SAFE,
                     "key:", new_key)


def set_type(ctx: Context, st: State, secret: SecretObj, new_type: str) -> Fix | None:
    path = _file(st, secret)
    if path is None:
        return None
    text = _text(ctx, st, path)
    if text is None:
        return None
    description = f"set type {new_type} on Secret {secret.ref}"
    if secret.type_span is not None:
        start, end, style = secret.type_span
        old = text[start:end]
        if secret.type is not None and old.strip("'\"") != secret.type:
            return None
        span = (start, end, _quoted(style, new_type, False))
    elif secret.kind_start is not None and secret.kind_column is not None and secret.block:
        start = secret.kind_start
        line_start = text.rfind("\n", 0, start) + 1
        if text[line_start:start].strip(" ") != "":
            return None
        indent = text[line_start:start]
        newline = "\r\n" if text[start:].split("\n", 1)[0].endswith("\r") else "\n"
        span = (line_start, line_start, f"{indent}type: {new_type}{newline}")
    else:
        return None
    return _edit_fix(ctx, st, secret, span, description, SAFE, "type", new_type)


# -- a new token ----------------------------------------------------------------------


def replace_token(ctx: Context, st: State, secret: SecretObj, value_key: str, registry: str,
                  donor: Credential) -> Fix | None:
    """Put ``donor``'s username and token into ``registry``'s entry."""
    if donor.secret is None:
        return None
    value = secret.value(value_key)
    dec = st.decoded(secret).get(value_key)
    if value is None or dec is None:
        return None
    base = repaired_json(dec) or dec.json_text
    if base is None:
        return None
    user = donor.username or "harness"
    new = dockercfg.replace_entry(value_key, base, registry, user, donor.secret.reveal())
    if new is None:
        return None
    where = donor.location.display(ctx.home)
    description = (f"put the token #{donor.secret.fingerprint} from {where} into Secret "
                   f"{secret.ref} {value_key} for {registry}")
    return _value_fix(ctx, st, secret, value, new, description, "K8S011", UNSAFE)


# -- the live cluster -------------------------------------------------------------------


def manifest(secret: SecretObj, value_key: str, new_json: str, shown: bool = False) -> str:
    """The corrected Secret.  ``shown``: the value replaced by a fingerprint,
    for printing."""
    secret_type = dockercfg.TYPE_FOR_KEY.get(value_key, secret.effective_type)
    data = (f"<base64 of the corrected {value_key}, #{fingerprint(new_json)}>" if shown
            else dockercfg.b64(new_json))
    return (
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        f"  name: {json.dumps(secret.name)}\n"
        f"  namespace: {json.dumps(secret.namespace)}\n"
        f"type: {secret_type}\n"
        "data:\n"
        f"  {value_key}: {data}\n"
    )


def _selected(ctx: Context, code: str, applicability: Applicability) -> bool:
    if ctx.options.command != "fix" or not ctx.options.apply or not kube_options(ctx).kube:
        return False
    if applicability is UNSAFE and not ctx.options.unsafe:
        return False
    if ctx.options.only:
        try:
            return code in ctx.rules.select(ctx.options.only)
        except ValueError:
            return False
    return True


def live_fix(ctx: Context, st: State, secret: SecretObj, value_key: str, new_json: str,
             description: str, applicability: Applicability, code: str = "") -> Fix | None:
    data = st.sources.get(secret.where.source)
    if data is None or data.kind != "cluster":
        return None  # stdin: nothing to edit; the remediation shows the manifest
    if KEY_FOR_TYPE.get(secret.effective_type) != value_key:
        return None  # a type change needs delete + create: not done automatically
    fix = Fix(f"kubectl apply a corrected Secret {secret.ref}: {description}", applicability, ())
    if code and _selected(ctx, code, applicability):
        apply_secret(ctx, secret, value_key, new_json)
    return fix


def apply_secret(ctx: Context, secret: SecretObj, value_key: str, new_json: str) -> str:
    """``kubectl apply`` the corrected Secret (once per run and content)."""
    from .sources import kube_env, kube_timeout, kubectl_binary, scope_args

    done = persistent(ctx).applied
    key = (secret.ref, fingerprint(new_json))
    if key in done:
        return done[key]
    binary = kubectl_binary(ctx)
    if binary is None:
        done[key] = "not applied: kubectl is not installed"
        return done[key]
    args = [a for a in scope_args(ctx) if a not in ("--all-namespaces",)]
    if "--namespace" in args:
        i = args.index("--namespace")
        del args[i:i + 2]
    argv = [binary, "apply", "--server-side", "--force-conflicts", "--field-manager=hardoctor",
            f"--request-timeout={max(1, int(kube_timeout(ctx)))}s", "-f", "-", *args]
    try:
        proc = subprocess.run(argv, input=manifest(secret, value_key, new_json), text=True,
                              capture_output=True, env=kube_env(ctx), timeout=kube_timeout(ctx) + 5,
                              check=False)
        ok = proc.returncode == 0
        detail = redact.scrub((proc.stdout if ok else proc.stderr).strip().splitlines()[-1:][0]
                              if (proc.stdout if ok else proc.stderr).strip() else "")
    except (OSError, subprocess.TimeoutExpired) as exc:
        ok, detail = False, exc.__class__.__name__
    done[key] = (f"applied Secret {secret.ref} with kubectl apply ({detail})" if ok
                 else f"kubectl apply of Secret {secret.ref} failed: {detail}")
    ctx.env.stderr.write(f"hardoctor: {done[key]}\n")
    return done[key]
