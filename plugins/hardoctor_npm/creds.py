"""Credentials held by ``.npmrc`` layers and ``.yarnrc.yml`` files.

Each registry key (``//host/path/``) of a layer gives one credential: the
one npm would take from that key (``_authToken``, else ``_auth``, else
``username`` + ``_password``).  Values are what npm *sends*: after ``${}``
expansion -- an unset variable stays as its literal text, which is exactly
the token npm puts in the header.  Every value becomes a
:class:`~hardoctor.model.Secret` (and its derived forms are registered for
scrubbing) the moment it is read.
"""

from __future__ import annotations

import base64
import binascii
import re

from hardoctor import lazyre, redact
from hardoctor.model import Credential, Location, Secret
from hardoctor.records import dataclass

from . import config, yarnrc
from .config import Config, Item, Layer
from .nerf import key_host, nerf_dart, split_key

UNSCOPED = "(unscoped)"
_PLACEHOLDER = lazyre.compile(r"^\$\{[^{}]*\}$")


def is_placeholder(value: str) -> bool:
    """A value that is only an unexpanded ``${VAR}``: npm sends it, but it is
    not a secret (and must not be scrubbed out of the messages naming it)."""
    return bool(_PLACEHOLDER.match(value.strip()))


def _register(value: str) -> None:
    if not is_placeholder(value):
        redact.register(value)


def quiet_secret(value: str) -> Secret:
    """A Secret for a placeholder value, not registered for scrubbing."""
    return Secret(value) if not is_placeholder(value) else unregistered(value)


def unregistered(value: str) -> Secret:
    return Secret(value, register=False)


def _cred_secret(value: str) -> Secret | None:
    return None if is_placeholder(value) else Secret(value)


def cred_id(source_id: str, prefix: str) -> str:
    return f"{source_id}#{prefix}"


def node_b64decode(value: str) -> bytes:
    """``Buffer.from(value, 'base64')``: lenient -- URL-safe characters are
    accepted, other characters skipped, padding optional, and decoding stops
    at the first ``=``."""
    text = value.split("=", 1)[0]
    text = re.sub(r"[^A-Za-z0-9+/_-]", "", text).replace("-", "+").replace("_", "/")
    rem = len(text) % 4
    if rem == 1:
        text = text[:-1]
    elif rem:
        text += "=" * (4 - rem)
    try:
        return base64.b64decode(text) if text else b""
    except (binascii.Error, ValueError):
        return b""


def strict_b64(value: str) -> bytes | None:
    """Standard base64 with correct padding, or None."""
    v = value.strip()
    if not v or len(v) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", v):
        return None
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        return None


def register_basic(user: str, password: str) -> None:
    _register(password)
    if len(password) >= 4:
        redact.register(f"{user}:{password}")


@dataclass(frozen=True)
class Picked:
    """What npm takes from one registry key: the field, username, secret."""

    field: str
    username: str | None
    secret: str
    scheme: str
    items: tuple[Item, ...]


def pick(cfg: Config, prefix: str, layer: str | None = None) -> Picked | None:
    """The credential npm builds from ``prefix`` (``getAuth``'s priority);
    ``layer`` restricts to one layer's own assignments."""
    def get(field: str) -> Item | None:
        for item in cfg.chain(f"{prefix}:{field}"):
            if layer is None or item.layer == layer:
                return item
        return None

    def val(item: Item | None) -> str | None:
        return item.text if item is not None else None

    tok = get("_authToken")
    if val(tok):
        assert tok is not None
        secret = val(tok) or ""
        _register(secret)
        return Picked("_authToken", None, secret, "bearer", (tok,))
    auth = get("_auth")
    if val(auth):
        assert auth is not None
        raw = val(auth) or ""
        _register(raw)
        decoded = node_b64decode(raw).decode("utf-8", "replace")
        user, sep, password = decoded.partition(":")
        if sep:
            register_basic(user, password)
            return Picked("_auth", user, password, "basic", (auth,))
        return Picked("_auth", None, raw, "basic", (auth,))
    user_i, pw_i = get("username"), get("_password")
    if val(user_i) and val(pw_i):
        assert user_i is not None and pw_i is not None
        raw = val(pw_i) or ""
        _register(raw)
        password = node_b64decode(raw).decode("utf-8", "replace")
        user = val(user_i) or ""
        register_basic(user, password)
        return Picked("username", user, password, "basic", (user_i, pw_i))
    return None


def _host(prefix: str) -> str:
    return key_host(prefix).lower()


def layer_credentials(layer: Layer, cfg: Config, clients: tuple[str, ...]) -> list[Credential]:
    """The credentials one layer holds (for the npm flavor)."""
    out: list[Credential] = []
    prefixes: list[str] = []
    for prefix, field, _item in _layer_auth_keys(cfg, layer.where):
        if prefix not in prefixes and field in ("_authToken", "_auth", "username", "_password"):
            prefixes.append(prefix)
    for prefix in prefixes:
        picked = pick(cfg, prefix, layer.where)
        if picked is None:
            continue
        first = picked.items[0]
        out.append(Credential(
            id=cred_id(layer.source_id, prefix),
            ecosystem="npm",
            registry=prefix,
            host=_host(prefix),
            source=layer.source_id,
            location=first.location,
            username=picked.username,
            secret=_cred_secret(picked.secret),
            scheme=picked.scheme,
            via=picked.field,
            clients=clients,
            stored_at=config.stored_at(layer),
        ))
    unscoped = unscoped_pick(cfg, layer.where)
    if unscoped is not None:
        nerf = nerf_dart(cfg.registry) or "//registry.npmjs.org/"
        out.append(Credential(
            id=cred_id(layer.source_id, UNSCOPED),
            ecosystem="npm",
            registry=nerf,
            host=_host(nerf),
            source=layer.source_id,
            location=unscoped.items[0].location,
            username=unscoped.username,
            secret=_cred_secret(unscoped.secret),
            scheme=unscoped.scheme,
            via=f"{unscoped.field} (unscoped)",
            clients=tuple(c for c in clients if c == "pnpm") or ("pnpm",),
            stored_at=config.stored_at(layer),
        ))
    return out


def _layer_auth_keys(cfg: Config, where: str) -> list[tuple[str, str, Item]]:
    out = []
    for key in cfg.keys():  # noqa: SIM118 - Config is not a dict
        split = split_key(key)
        if split is None:
            continue
        for item in cfg.chain(key):
            if item.layer == where:
                out.append((split[0], split[1], item))
    return out


def unscoped_pick(cfg: Config, where: str) -> Picked | None:
    """Top-level ``_authToken`` / ``_auth`` / ``username`` + ``_password`` of
    one layer (npm 9+ refuses them; pnpm and old npm send them to the
    default registry)."""
    def get(field: str) -> Item | None:
        return next((i for i in cfg.chain(field) if i.layer == where), None)

    tok = get("_authToken")
    if tok is not None and tok.text:
        _register(tok.text)
        return Picked("_authToken", None, tok.text, "bearer", (tok,))
    auth = get("_auth")
    if auth is not None and auth.text:
        _register(auth.text)
        decoded = node_b64decode(auth.text).decode("utf-8", "replace")
        user, sep, password = decoded.partition(":")
        if sep:
            register_basic(user, password)
            return Picked("_auth", user, password, "basic", (auth,))
        return Picked("_auth", None, auth.text, "basic", (auth,))
    user_i, pw_i = get("username"), get("_password")
    if user_i is not None and pw_i is not None and user_i.text and pw_i.text:
        _register(pw_i.text)
        password = node_b64decode(pw_i.text).decode("utf-8", "replace")
        register_basic(user_i.text, password)
        return Picked("username", user_i.text, password, "basic", (user_i, pw_i))
    return None


# -- Yarn ---------------------------------------------------------------------------


def yarn_id(path: str | None, env_var: str | None, scope_path: str) -> str:
    return f"yarn:{env_var or path}#{scope_path}"


def yarn_secret(scope: yarnrc.Scope) -> tuple[str, str | None, str, yarnrc.Setting] | None:
    """(secret, username, scheme, setting) of a Yarn auth scope."""
    tok = scope.get("npmAuthToken")
    if tok is not None and tok.value:
        _register(tok.value)
        return tok.value, None, "bearer", tok
    ident = scope.get("npmAuthIdent")
    if ident is not None and ident.value:
        _register(ident.value)
        text = ident.value
        if ":" not in text:
            raw = strict_b64(text)
            text = raw.decode("utf-8", "replace") if raw else text
        user, sep, password = text.partition(":")
        if sep:
            register_basic(user, password)
            return password, user, "basic", ident
        return ident.value, None, "basic", ident
    return None


def yarn_credential(scope: yarnrc.Scope, scope_path: str, registry: str,
                    clients: tuple[str, ...] = ("yarn",)) -> Credential | None:
    found = yarn_secret(scope)
    if found is None:
        return None
    secret, user, scheme, setting = found
    from .nerf import parse_url

    parsed = parse_url(registry if "://" in registry else "https:" + registry)
    host = parsed.host if parsed else registry
    return Credential(
        id=yarn_id(setting.path, setting.env_var, scope_path),
        ecosystem="npm",
        registry=registry,
        host=host.lower(),
        source=f"yarn:{setting.path}" if setting.path else "yarn:env",
        location=Location(setting.path, setting.line, key=scope_path)
        if setting.path else setting.location,
        username=user,
        secret=_cred_secret(secret),
        scheme=scheme,
        via=scope_path,
        clients=clients,
    )


def yarn_credentials(cfg: yarnrc.YarnConfig) -> list[Credential]:
    out: list[Credential] = []
    server, _ = cfg.registry_server()
    top = yarn_credential(cfg.top, "npmAuthToken" if cfg.top.get("npmAuthToken") else
                          "npmAuthIdent", server)
    if top is not None:
        out.append(top)
    for name, scope in cfg.scopes.items():
        reg, _ = cfg.registry_server(name)
        c = yarn_credential(scope, f"npmScopes.{name}", reg)
        if c is not None:
            out.append(c)
    for key, scope in cfg.registries.items():
        c = yarn_credential(scope, f"npmRegistries[{key}]", key)
        if c is not None:
            out.append(c)
    return out
