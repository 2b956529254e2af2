"""``fix --token-stdin`` for ``.npmrc`` layers and Yarn Berry's ``.yarnrc.yml``.

Each credential is updated in the field npm (or Yarn) takes it from, encoded
the way that field holds it:

* ``:_authToken`` / ``npmAuthToken`` -- the token itself;
* ``:_auth`` -- ``base64(user:token)``, the user kept;
* ``:username`` + ``:_password`` -- ``base64(token)`` in ``_password``;
* ``npmAuthIdent`` -- ``user:token``, or its base64 when it was stored so.

Only the value's characters change: its quoting style, inline comments, the
other lines and the line endings are kept, and the edited text is parsed
again to prove the client reads exactly the new token from it.  A value that
comes from the environment -- ``${NPM_TOKEN}`` in a file, an
``npm_config_*`` or ``YARN_*`` variable -- is never overwritten with the
literal token: the Rotation carries the ``export`` to run instead (with
``"$TOKEN"`` standing for the new token) and names the CI secret.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Callable, Sequence

from hardoctor import lazyre, redact
from hardoctor.context import Context
from hardoctor.fixes import digest
from hardoctor.model import Applicability, Credential, Edit, Fix, Rotation, Secret

from . import config, envsubst, ini, state, yarnrc
from .config import Item, Layer
from .creds import UNSCOPED, pick, unscoped_pick, yarn_secret

#: Values written without quotes: nothing ini or YAML would read differently.
_PLAIN = lazyre.compile(r"[A-Za-z0-9_][A-Za-z0-9._~+/=:-]*")
_SHELL_NAME = lazyre.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: What the new value is, as a shell expression of ``$TOKEN`` (manual steps).
_B64 = "base64 | tr -d '\\n'"


def rotate(credential: Credential, new: Secret, ctx: Context) -> Rotation | None:
    st = state.get(ctx)
    if st is None:
        return None
    if credential.source.startswith("yarn:"):
        return _yarn(credential, new, st, ctx)
    layer = st.sources.get(credential.source)
    if not isinstance(layer, Layer) or not credential.id.startswith(layer.source_id + "#"):
        return None
    return _npm(credential, new, layer, st, ctx)


# -- .npmrc and npm_config_* ---------------------------------------------------------


def _npm(credential: Credential, new: Secret, layer: Layer, st: state.State,
         ctx: Context) -> Rotation | None:
    prefix = credential.id[len(layer.source_id) + 1:]
    cfg = st.npm
    picked = unscoped_pick(cfg, layer.where) if prefix == UNSCOPED else \
        pick(cfg, prefix, layer.where)
    if picked is None:
        return None
    item = picked.items[-1]  # the _authToken / _auth / _password assignment
    field = "_password" if picked.field == "username" else picked.field
    label = field if prefix == UNSCOPED else f"{prefix}:{field}"
    user = picked.username
    if field == "_auth" and user is None:
        return None  # not base64 user:password (NPM008): no user to keep
    token = new.reveal()
    if field == "_authToken":
        value = token
    elif field == "_auth":
        value = _b64(f"{user}:{token}")
    else:
        value = _b64(token)
    redact.register(value)
    if user is not None:
        redact.register(f"{user}:{token}")

    from_env = _npm_env_source(item, layer)
    if from_env is not None:
        return _manual(credential, label, from_env, _shell_value(field, user))
    if layer.path is None or layer.text is None or layer.parsed is None or item.entry is None:
        return None
    return _npm_edit(credential, label, field, user, value, item, layer, st)


def _npm_env_source(item: Item, layer: Layer) -> tuple[str, ...] | None:
    """The variable(s) the value comes from, or None for a literal value."""
    if item.env_var is not None:
        raw = next((v for var, _, v in layer.env_items if var == item.env_var), "")
        whole = _whole_ref(ini.js_trim(raw), item.value_refs)
        return (whole,) if whole else tuple(r.name for r in item.value_refs) or (item.env_var,)
    written = item.raw_value or ""
    if not item.value_refs and "${" not in written:
        return None
    whole = _whole_ref(ini.js_trim(written), item.value_refs)
    if whole:
        return (whole,)
    return tuple(dict.fromkeys(r.name for r in item.value_refs)) or ("?",)


def _whole_ref(raw: str, refs: Sequence[envsubst.EnvRef]) -> str | None:
    """The variable's name when the value is exactly one ``${VAR}``."""
    if len(refs) == 1 and refs[0].start == 0 and refs[0].end == len(raw):
        name = refs[0].name.split(":-", 1)[0]  # pnpm's ${VAR:-default}
        return name if _SHELL_NAME.fullmatch(name) else None
    return None


def _npm_edit(credential: Credential, label: str, field: str, user: str | None, value: str,
              item: Item, layer: Layer, st: state.State) -> Rotation | None:
    assert layer.path is not None and layer.text is not None and layer.parsed is not None
    assert item.entry is not None
    text, entry = layer.text, item.entry
    # Earlier assignments of the same key holding the same old value (quotes
    # aside) are copies of the old token too (npm reads only the last one).
    entries = [e for e in layer.parsed.by_key.get(entry.key, [entry])
               if e is entry or _same(e.text_value, entry.text_value)]

    def check(new_text: str) -> bool:
        doc = ini.parse(new_text)
        raw = doc.values.get(entry.key)
        if isinstance(raw, list):
            return False
        parsed, refs = config._coerce(item.key, raw, st.npm.env, st.npm.home, "npm")
        return not refs and isinstance(parsed, str) and parsed == value

    styles = [lambda old: _ini_styled(old, value), lambda old: _ini_plain(value),
              lambda old: json.dumps(value)]
    spans = [(e.value_start, e.value_end) for e in entries]
    edits = _first_valid(text, spans, value, styles, check, layer.path)
    if edits is None:
        return Rotation(credential.id, f"{label}: the new token cannot be written here "
                        "unchanged; set it by hand")
    what = {
        "_authToken": f"{label}: store the new token",
        "_auth": f"{label}: store base64(user:token) for user {user} with the new token",
        "_password": f"{label}: store the new token (base64) for user {user}",
    }[field]
    if len(entries) > 1:
        n = len(entries) - 1
        what += f" (and in {n} earlier assignment{'s' * (n > 1)} of the key)"
    return Rotation(credential.id, what, fix=Fix(what, Applicability.SAFE, edits))


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip("\"' ") == b.strip("\"' ")


def _ini_plain(value: str) -> str:
    """``value`` unquoted, with what ini's ``unsafe`` would take as a comment
    or an escape escaped."""
    return re.sub(r"([\\;#])", r"\\\1", value)


def _ini_styled(old: str, value: str) -> str:
    """``value`` as an ini value written like ``old`` (quoted or not)."""
    if old.startswith('"'):
        return json.dumps(value)
    if old.startswith("'") and "'" not in value:
        return f"'{value}'"
    if _PLAIN.fullmatch(value) and value not in ("true", "false", "null", "undefined"):
        return value
    return json.dumps(value)


def _first_valid(text: str, spans: list[tuple[int, int]], value: str,
                 styles: list[Callable[[str], str]], check: Callable[[str], bool],
                 path: str) -> tuple[Edit, ...] | None:
    """Edits writing ``value`` over every span, in the first style whose
    result passes ``check``; None when none does."""
    expected = digest(text)
    for style in styles:
        replaced = [(s, e, style(text[s:e])) for s, e in spans]
        for _, _, new_text in replaced:
            if value not in new_text:  # escaped: scrub this form too
                redact.register(new_text)
        out, last = [], 0
        for s, e, new_text in sorted(replaced):
            out += [text[last:s], new_text]
            last = e
        if check("".join(out) + text[last:]):
            return tuple(Edit(path, s, e, new_text, expected=expected) for s, e, new_text in replaced)
    return None


# -- Yarn Berry ----------------------------------------------------------------------


def _yarn_scope(cfg: yarnrc.YarnConfig, via: str) -> yarnrc.Scope | None:
    if via in ("npmAuthToken", "npmAuthIdent"):
        return cfg.top
    if via.startswith("npmScopes."):
        return cfg.scopes.get(via[len("npmScopes."):])
    m = re.fullmatch(r"npmRegistries\[(.*)\]", via, re.DOTALL)
    return cfg.registries.get(m.group(1)) if m else None


def _yarn(credential: Credential, new: Secret, st: state.State, ctx: Context) -> Rotation | None:
    if st.yarn is None:
        return None
    scope = _yarn_scope(st.yarn, credential.via)
    found = yarn_secret(scope) if scope is not None else None
    if found is None:
        return None
    _, user, scheme, setting = found
    if setting.path != credential.location.path:
        return None
    field = "npmAuthToken" if scheme == "bearer" else "npmAuthIdent"
    label = field if credential.via in ("npmAuthToken", "npmAuthIdent") else \
        f"{credential.via}.{field}"
    token = new.reveal()
    plain_ident = ":" in setting.value
    if field == "npmAuthIdent":
        if user is None:
            return None  # not user:password (NPM035): no user to keep
        redact.register(f"{user}:{token}")
        value = f"{user}:{token}" if plain_ident else _b64(f"{user}:{token}")
    else:
        value = token
    redact.register(value)

    if setting.env_var is not None:
        whole = _whole_ref(setting.raw, setting.refs)
        names = (whole,) if whole else tuple(r.name for r in setting.refs) or (setting.env_var,)
        return _manual(credential, label, names,
                       _shell_value(field, user, plain_ident=plain_ident))
    if setting.refs or "${" in setting.raw:
        whole = _whole_ref(setting.raw, setting.refs)
        names = (whole,) if whole else tuple(dict.fromkeys(r.name for r in setting.refs)) or ("?",)
        return _manual(credential, label, names,
                       _shell_value(field, user, plain_ident=plain_ident))

    yf = st.sources.get(credential.source)
    if not isinstance(yf, yarnrc.YarnFile) or yf.text is None or setting.path is None:
        return None
    text = yf.text
    start = setting.start
    env = ctx.env.environ

    def check(new_text: str) -> bool:
        root, problem = yarnrc.compose(new_text)
        if root is None or problem is not None:
            return False
        node = _scalar_at(root, start)
        return node is not None and node.value == value and not envsubst.yarn(value, env).refs

    styles = [lambda old: _yaml_styled(old, value), lambda old: json.dumps(value)]
    edits = _first_valid(text, [(setting.start, setting.end)], value, styles, check,
                         setting.path)
    if edits is None:
        return Rotation(credential.id, f"{label}: the new token cannot be written here "
                        "unchanged; set it by hand")
    what = f"{label}: store the new token" if field == "npmAuthToken" else \
        f"{label}: store {'user:token' if plain_ident else 'base64(user:token)'} for user " \
        f"{user} with the new token"
    return Rotation(credential.id, what, fix=Fix(what, Applicability.SAFE, edits))


def _yaml_styled(old: str, value: str) -> str:
    if old.startswith('"'):
        return json.dumps(value)
    if old.startswith("'"):
        return "'" + value.replace("'", "''") + "'"
    if _PLAIN.fullmatch(value) and not value.endswith(":"):
        return value
    return json.dumps(value)


def _scalar_at(node: yarnrc.YNode, start: int) -> yarnrc.YNode | None:
    for _, _key, value in yarnrc.walk_scalars(node):
        if value.start == start:
            return value
    return None


# -- values from the environment -------------------------------------------------------


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _shell_value(field: str, user: str | None, *, plain_ident: bool = False) -> str:
    """The new value as a shell word built from ``$TOKEN`` (never the token)."""
    if field in ("_authToken", "npmAuthToken"):
        return '"$TOKEN"'
    if field == "_password":
        return f"\"$(printf '%s' \"$TOKEN\" | {_B64})\""
    who = shlex.quote(user or "USER")
    if field == "npmAuthIdent" and plain_ident:
        return shlex.quote(f"{user or 'USER'}:") + '"$TOKEN"'
    return f"\"$(printf '%s:%s' {who} \"$TOKEN\" | {_B64})\""


def _manual(credential: Credential, label: str, names: tuple[str, ...],
            shell_value: str) -> Rotation:
    if len(names) == 1 and names[0] != "?" and _SHELL_NAME.fullmatch(names[0]):
        var = names[0]
        step = f"export {var}={shell_value}   # and update the CI secret {var}"
        desc = f"{label} comes from ${var}: set it to the new token where it is set"
    elif len(names) == 1 and names[0] != "?":
        # npm_config_//host/:_authToken: no shell can `export` that name.
        var = names[0]
        step = (f"env {shlex.quote(var + '=')}{shell_value} npm install   "
                f"# and update the CI variable {var}")
        desc = f"{label} comes from the variable {var}: set it to the new token where it is set"
    else:
        shown = ", ".join(f"${n}" for n in names if n != "?") or "environment variables"
        step = (f"# {label} is built from {shown}: set them (and their CI secrets) so it reads "
                "the new token")
        desc = f"{label} is built from {shown}: update them by hand"
    return Rotation(credential.id, desc, manual=(step,))
