"""npm's configuration layers, found and read the way ``@npmcli/config``
loads them, with the origin (file, line, env var) of every value.

Priority, highest first: ``npm_config_*`` environment variables, the project
``.npmrc`` (nearest ancestor of the working directory holding
``package.json`` or ``node_modules``; a workspace's own ``.npmrc`` is
ignored in favour of the workspace root's), the user config
(``$NPM_CONFIG_USERCONFIG`` or ``~/.npmrc``), the global config
(``$PREFIX/etc/npmrc``) and npm's builtin ``npmrc``.  Locations depend on
each other as in npm: the project file can move the user config
(``userconfig=``), and ``prefix``/``globalconfig`` in the environment, the
project or the user file move the global one.

The same files are read by pnpm, which expands ``${...}`` differently; a
:class:`Config` is therefore built per *flavor* (``npm`` or ``pnpm``) from
the same parsed layers.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from hardoctor import lazyre
from hardoctor.context import Context
from hardoctor.files import read_bounded, read_file
from hardoctor.model import Location, PluginData, Source
from hardoctor.records import dataclass, field

from . import envsubst, ini
from .nerf import split_key
from .version import NpmTool

ECO = "npm"
DEFAULT_REGISTRY = "https://registry.npmjs.org/"
AUTH_FIELDS = ("_authToken", "_auth", "username", "_password", "certfile", "keyfile")
SECRET_FIELDS = ("_authToken", "_auth", "_password")
UNSCOPED_AUTH = ("_auth", "_authToken", "username", "_password")
#: Keys whose npm type is a string or path (no true/false/null coercion).
_STRING_KEYS = frozenset({"_auth", "userconfig", "globalconfig", "prefix", "cafile", "cache",
                          "email", "username", "_password", "_authToken", "registry"})
_PATH_KEYS = frozenset({"userconfig", "globalconfig", "prefix", "cafile", "cache"})
_SCOPE_REGISTRY = lazyre.compile(r"^@.*:registry$", re.IGNORECASE)


@dataclass(frozen=True)
class Item:
    """One assignment of a config key in one layer."""

    layer: str
    #: The key after ``${}`` expansion (what npm looks up).
    key: str
    #: The value after ini decoding, type coercion and ``${}`` expansion.
    value: Any
    #: ``${}`` references in the key and in the value.
    key_refs: tuple[envsubst.EnvRef, ...] = ()
    value_refs: tuple[envsubst.EnvRef, ...] = ()
    entry: ini.Entry | None = None
    #: For the env layer: the variable's name.
    env_var: str | None = None
    path: str | None = None
    source_id: str = ""

    @property
    def location(self) -> Location:
        if self.env_var is not None:
            return Location(None, key=f"${self.env_var}")
        line = self.entry.line if self.entry else None
        return Location(self.path, line, key=self.entry.key if self.entry else self.key)

    @property
    def text(self) -> str | None:
        """The value as npm would use it in a string context, or None when
        npm treats it as unset (empty, false, null)."""
        if self.value is None or self.value is False or self.value == "":
            return None
        return ini.js_string(self.value)

    @property
    def raw_value(self) -> str | None:
        """The value exactly as written (before ``${}`` expansion)."""
        if self.entry is not None:
            return self.entry.text_value
        return self.value if isinstance(self.value, str) else None


@dataclass
class Layer(PluginData):
    """One configuration layer: a file (maybe missing) or the environment."""

    where: str
    source_id: str
    path: str | None = None
    exists: bool = False
    text: str | None = None
    error: str | None = None
    mode: int | None = None
    mtime: float | None = None
    parsed: ini.IniFile | None = None
    #: env layer: (variable, normalised key, value)
    env_items: list[tuple[str, str, str]] = field(default_factory=list)
    #: Why this file is not read by npm although it exists (workspace .npmrc).
    ignored: str | None = None

    def items(self, flavor: str, env: Mapping[str, str], home: str) -> list[Item]:
        if self.where == "env":
            out_env = []
            for var, key, value in self.env_items:
                parsed, refs = _coerce(key, value, env, home, flavor)
                out_env.append(Item("env", key, parsed, (), refs, None, var, None,
                                    self.source_id))
            return out_env
        if self.parsed is None or self.ignored:
            return []
        out: list[Item] = []
        for key_raw, entries in self.parsed.by_key.items():
            entry = entries[-1]
            exp_key = _expand(key_raw, env, flavor)
            raw_val = self.parsed.values.get(key_raw)
            parsed_value, vrefs = _coerce(exp_key.value, raw_val, env, home, flavor)
            out.append(Item(self.where, exp_key.value, parsed_value, exp_key.refs, vrefs,
                            entry, None, self.path, self.source_id))
        return out


def _expand(text: str, env: Mapping[str, str], flavor: str) -> envsubst.Expanded:
    return envsubst.pnpm(text, env) if flavor == "pnpm" else envsubst.npm(text, env)


def _coerce(key: str, value: Any, env: Mapping[str, str], home: str,
            flavor: str) -> tuple[Any, tuple[envsubst.EnvRef, ...]]:
    """npm's ``parseField`` for one value."""
    if isinstance(value, list):
        return [(_coerce(key, v, env, home, flavor)[0]) for v in value], ()
    if not isinstance(value, str):
        return value, ()
    f = ini.js_trim(value)
    base = key.rsplit(":", 1)[-1] if key.startswith("//") else key
    if (base not in _STRING_KEYS or key.startswith("//")) and \
            f in ("true", "false", "null", "undefined"):
            return {"true": True, "false": False, "null": None, "undefined": None}[f], ()
    exp = _expand(f, env, flavor)
    out = exp.value
    if key in _PATH_KEYS and out:
        out = home + out[1:] if out.startswith("~/") else os.path.abspath(out)
    return out, exp.refs


def load_env_layer(environ: Mapping[str, str]) -> Layer:
    layer = Layer("env", "npm:env", exists=True)
    for var, value in sorted(environ.items()):
        if not var.lower().startswith("npm_config_") or value == "":
            continue
        key = var[len("npm_config_"):]
        if not key.startswith("//"):
            key = (key[:1] + key[1:].replace("_", "-")).lower()
        layer.env_items.append((var, key, value))
    return layer


def read_layer(ctx: Context, where: str, path: str) -> Layer:
    layer = Layer(where, f"npm:{where}:{path}", path=path)
    data = read_file(ctx, path)
    if data is None:
        return layer
    layer.exists = True
    layer.mode, layer.mtime = data.mode, data.mtime
    if data.error is not None:
        layer.error = data.error
        return layer
    layer.text = data.text
    layer.parsed = ini.parse(data.text or "")
    return layer


def _first(layers: list[Layer], key: str, env: Mapping[str, str], home: str) -> Any:
    for layer in layers:
        for item in layer.items("npm", env, home):
            if item.key == key:
                return item.value
    return None


@dataclass
class Workspace:
    root: str
    member: str
    member_npmrc: str | None


def _dir_has(path: str, name: str, kind: str) -> bool:
    full = os.path.join(path, name)
    return os.path.isfile(full) if kind == "file" else os.path.isdir(full)


def _workspace_patterns(pkg_json: str) -> list[str]:
    raw = read_bounded(pkg_json)
    try:
        data = json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):
        return []
    ws = data.get("workspaces") if isinstance(data, dict) else None
    if isinstance(ws, dict):
        ws = ws.get("packages")
    return [p for p in ws if isinstance(p, str)] if isinstance(ws, list) else []


def local_prefix(cwd: str) -> tuple[str, Workspace | None]:
    """npm's ``loadLocalPrefix``: the nearest ancestor with ``package.json``
    or ``node_modules``; when a higher ``package.json`` lists it as a
    workspace, that root instead.  Falls back to ``cwd``."""
    found: str | None = None
    for p in _walk_up(cwd):
        has_pkg = _dir_has(p, "package.json", "file")
        if found is None:
            if has_pkg or _dir_has(p, "node_modules", "dir"):
                found = p
            continue
        if not has_pkg:
            continue
        for pattern in _workspace_patterns(os.path.join(p, "package.json")):
            full = os.path.normpath(os.path.join(p, pattern.rstrip("/")))
            if fnmatch.fnmatch(found, full) or found == full:
                npmrc = os.path.join(found, ".npmrc")
                return p, Workspace(p, found, npmrc if os.path.isfile(npmrc) else None)
    if found is not None:
        root = pnpm_workspace_root(found)
        if root is not None and root != found:
            npmrc = os.path.join(found, ".npmrc")
            return root, Workspace(root, found, npmrc if os.path.isfile(npmrc) else None)
    return found or cwd, None


def pnpm_workspace_root(start: str) -> str | None:
    """The nearest ancestor of ``start`` (itself included) with a
    ``pnpm-workspace.yaml`` whose ``packages`` globs take ``start`` in (any,
    when it lists none).  pnpm 12 reads that root's .npmrc and ignores a
    member's own (verified: tests/test_clients_node.py); npm is not judged in
    such a workspace, so the layers follow pnpm there."""
    for p in _walk_up(start):
        path = os.path.join(p, "pnpm-workspace.yaml")
        if not os.path.isfile(path):
            continue
        raw = (read_bounded(path, 1 << 16, head=True) or b"").decode("utf-8", "replace")
        globs = re.findall(r"^\s*-\s*['\"]?([^'\"#\s]+)", raw.split("packages:", 1)[-1], re.M) \
            if "packages:" in raw else []
        if not globs or p == start or any(
                fnmatch.fnmatch(start, os.path.normpath(os.path.join(p, g.rstrip("/"))))
                for g in globs if not g.startswith("!")):
            return p
    return None


def _walk_up(start: str) -> Iterator[str]:
    cur = os.path.abspath(start)
    while True:
        yield cur
        parent = os.path.dirname(cur)
        if parent == cur:
            return
        cur = parent


def global_prefix(ctx: Context) -> str:
    """npm's default global prefix: ``$PREFIX``, else two levels above the
    real ``node`` binary (``/usr/bin/node`` -> ``/usr``), else above ``npm``."""
    env_prefix = ctx.getenv("PREFIX")
    if env_prefix:
        return env_prefix
    import shutil

    if ctx.env.windows:
        # @npmcli/config: the directory of node.exe; the Node.js installer's
        # builtin npmrc (node_modules/npm/npmrc) then sets prefix=${APPDATA}\npm,
        # so the global npmrc is %APPDATA%\npm\etc\npmrc.
        return os.path.join(ctx.env.appdata(), "npm")
    path = ctx.getenv("PATH")
    node = shutil.which("node", path=path)
    if node:
        return os.path.dirname(os.path.dirname(os.path.realpath(node)))
    npm = shutil.which("npm", path=path)
    if npm:
        return os.path.dirname(os.path.dirname(npm))
    return "/usr/local"


@dataclass
class NpmFiles:
    """Every layer in priority order (highest first) plus how they were found."""

    layers: list[Layer]
    project_dir: str
    workspace: Workspace | None
    userconfig: str
    globalconfig: str
    global_mode: bool = False

    def layer(self, where: str) -> Layer | None:
        return next((la for la in self.layers if la.where == where), None)


def load_files(ctx: Context, tool: NpmTool) -> NpmFiles:
    env = ctx.env.environ
    home = ctx.home
    env_layer = load_env_layer(env)
    env_vals = {key: value for _, key, value in env_layer.env_items}
    global_mode = str(env_vals.get("global", "")).lower() == "true" or \
        env_vals.get("location") == "global"
    prefix_dir, workspace = local_prefix(ctx.project)
    default_user = os.path.join(home, ".npmrc")
    userconfig = _path_value(env_vals.get("userconfig"), env, home) or default_user
    project_path = os.path.join(prefix_dir, ".npmrc")
    project: Layer
    if global_mode:
        project = Layer("project", f"npm:project:{project_path}", path=project_path,
                        ignored="global mode (npm_config_global) ignores project config")
    elif os.path.abspath(project_path) == os.path.abspath(userconfig):
        project = Layer("project", f"npm:project:{project_path}", path=project_path,
                        ignored="same file as the user config")
    else:
        project = read_layer(ctx, "project", project_path)
    userconfig = _path_value(_first([env_layer, project], "userconfig", env, home), env, home) \
        or default_user
    user = read_layer(ctx, "user", userconfig)
    prefix = _first([env_layer, project, user], "prefix", env, home) or global_prefix(ctx)
    globalconfig = _first([env_layer, project, user], "globalconfig", env, home) or \
        os.path.join(str(prefix), "etc", "npmrc")
    glob = read_layer(ctx, "global", str(globalconfig))
    layers = [env_layer, project, user, glob]
    if tool.package_dir:
        layers.append(read_layer(ctx, "builtin", os.path.join(tool.package_dir, "npmrc")))
    ws_layers: list[Layer] = []
    if workspace and workspace.member_npmrc:
        wl = read_layer(ctx, "workspace", workspace.member_npmrc)
        wl.ignored = (f"npm and pnpm ignore a workspace member's own .npmrc; they read "
                      f"{project_path}")
        ws_layers.append(wl)
    return NpmFiles(layers + ws_layers, prefix_dir, workspace, userconfig, str(globalconfig),
                    global_mode)


def _path_value(value: Any, env: Mapping[str, str], home: str) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    if value.startswith("~/"):
        return home + value[1:]
    return os.path.abspath(value)


class Config:
    """The merged view of the layers for one client flavor."""

    def __init__(self, files: NpmFiles, flavor: str, env: Mapping[str, str], home: str) -> None:
        self.files = files
        self.flavor = flavor
        self.env = env
        self.home = home
        #: pnpm 12: auth settings of the project's .npmrc written with
        #: ``${VAR}`` -- pnpm ignores them ("environment variables are not
        #: expanded in repository-controlled registry credentials").
        self.ignored_auth: list[Item] = []
        self.by_layer: list[tuple[Layer, list[Item]]] = [
            (la, self._keep(la, la.items(flavor, env, home)))
            for la in files.layers if la.where != "workspace"
        ]
        self._index: dict[str, list[Item]] = {}
        for layer, items in self.by_layer:
            for item in items:
                self._index.setdefault(item.key, []).append(
                    item if item.path or layer.where == "env" else item
                )

    def _keep(self, layer: Layer, items: list[Item]) -> list[Item]:
        if self.flavor != "pnpm" or layer.where != "project":
            return items
        out = []
        for item in items:
            fld = item.key.rsplit(":", 1)[-1]
            if fld in AUTH_FIELDS and item.value_refs:
                self.ignored_auth.append(item)
            else:
                out.append(item)
        return out

    def chain(self, key: str) -> list[Item]:
        """Every assignment of ``key``, highest priority first."""
        return list(self._index.get(key, []))

    def item(self, key: str) -> Item | None:
        found = self._index.get(key)
        return found[0] if found else None

    def get(self, key: str) -> Any:
        item = self.item(key)
        return item.value if item else None

    def keys(self) -> list[str]:
        return list(self._index)

    @property
    def registry(self) -> str:
        value = self.get("registry")
        if isinstance(value, str) and value.strip() and _valid_registry(value):
            return value.strip()
        return DEFAULT_REGISTRY

    def registry_item(self) -> Item | None:
        for item in self.chain("registry"):
            if isinstance(item.value, str) and _valid_registry(item.value):
                return item
        return None

    def scope_registries(self) -> dict[str, Item]:
        """``@scope`` -> the winning ``@scope:registry`` assignment."""
        out: dict[str, Item] = {}
        for key in self.keys():
            if _SCOPE_REGISTRY.match(key):
                item = self.item(key)
                if item is not None and item.text:
                    out[key[: -len(":registry")]] = item
        return out

    def scope_registry(self, scope: str) -> Item | None:
        item = self.item(f"{scope}:registry")
        return item if item is not None and item.text else None

    def auth_items(self) -> Iterator[tuple[str, str, Item]]:
        """(nerf prefix, field, winning item) for every ``//...:field`` key."""
        for key in self.keys():
            split = split_key(key)
            if split is None or split[1] not in AUTH_FIELDS:
                continue
            item = self.item(key)
            if item is not None:
                yield split[0], split[1], item

    def has_auth_at(self, prefix: str) -> str | None:
        """npm-registry-fetch's ``hasAuth`` for one registry key."""
        def truthy(f: str) -> bool:
            item = self.item(f"{prefix}:{f}")
            return item is not None and bool(item.value)

        if truthy("_authToken"):
            return "_authToken"
        if truthy("_auth"):
            return "_auth"
        if truthy("username") and truthy("_password"):
            return "username"
        if truthy("certfile") and truthy("keyfile"):
            return "certfile"
        return None


def _valid_registry(value: str) -> bool:
    # nopt's url type: url.parse(value) must give a host.
    from .nerf import parse_url

    return parse_url(value.strip()) is not None


def stored_at(layer: Layer) -> datetime | None:
    if layer.mtime is None:
        return None
    return datetime.fromtimestamp(layer.mtime, tz=timezone.utc)


def source_for(layer: Layer, description: str) -> Source:
    return Source(
        id=layer.source_id,
        ecosystem=ECO,
        kind="env" if layer.where == "env" else "file",
        description=description,
        path=layer.path,
        exists=layer.exists,
        text=layer.text,
        mtime=layer.mtime,
        mode=layer.mode,
        error=layer.error,
        payload=layer,
    )
