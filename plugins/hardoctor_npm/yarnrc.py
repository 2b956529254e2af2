"""Yarn Berry's ``.yarnrc.yml`` files and ``YARN_*`` variables.

Yarn (``Configuration.find``) reads ``.yarnrc.yml`` in the working directory
and every parent, then ``~/.yarnrc.yml``; ``YARN_*`` variables win over all
files, a closer file over a farther one.  Values are read with js-yaml's
FAILSAFE schema: every scalar is a string, and Yarn converts it by the
setting's type.  ``${VAR}`` in a string setting is expanded when the file is
loaded -- an unset variable without a default aborts every command.

Parsing uses ``yaml.compose`` (the safe composer) so every key keeps its line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

from hardoctor.context import Context
from hardoctor.files import read_file
from hardoctor.model import Location, PluginData
from hardoctor.parsing import generic_problem, yaml_problem
from hardoctor.records import dataclass, field

from . import envsubst

DEFAULT_REGISTRY = "https://registry.yarnpkg.com"
MAX_NODES = 20000
AUTH_SETTINGS = ("npmAuthToken", "npmAuthIdent", "npmAlwaysAuth")
REGISTRY_SETTINGS = ("npmRegistryServer", "npmPublishRegistry")
NPM_SETTINGS = frozenset({*AUTH_SETTINGS, *REGISTRY_SETTINGS, "npmScopes", "npmRegistries",
                          "npmAuditRegistry", "npmAuditIgnoreAdvisories",
                          "npmAuditExcludePackages", "npmMinimalAgeGate",
                          "npmPreapprovedPackages"})
#: Settings that look npm/auth related and are not Yarn's: Yarn refuses a
#: project file holding them (``Unrecognized or legacy configuration
#: settings found``).  Mapped to what was meant.
MISSPELLINGS = {
    "_authtoken": "npmAuthToken", "authtoken": "npmAuthToken", "npmtoken": "npmAuthToken",
    "npmauthtoken": "npmAuthToken", "token": "npmAuthToken", "_auth": "npmAuthIdent",
    "npmauthident": "npmAuthIdent", "npmauth": "npmAuthIdent", "registry": "npmRegistryServer",
    "npmregistry": "npmRegistryServer", "npmregistryurl": "npmRegistryServer",
    "npmregistryserver": "npmRegistryServer", "always-auth": "npmAlwaysAuth",
    "alwaysauth": "npmAlwaysAuth", "npmalwaysauth": "npmAlwaysAuth", "npmscope": "npmScopes",
    "npmscopes": "npmScopes", "scopes": "npmScopes", "npmregistries": "npmRegistries",
    "registries": "npmRegistries",
}


@dataclass(frozen=True)
class YNode:
    """A composed YAML node, reduced: scalars are strings (FAILSAFE)."""

    kind: str  # scalar | map | seq
    value: Any  # str | list[tuple[YNode, YNode]] | list[YNode]
    line: int
    column: int
    start: int
    end: int

    def get(self, key: str) -> tuple[YNode, YNode] | None:
        if self.kind != "map":
            return None
        found = None
        for k, v in self.value:
            if k.kind == "scalar" and k.value == key:
                found = (k, v)  # js-yaml json mode: the last duplicate wins
        return found

    def pairs(self) -> Iterator[tuple[YNode, YNode]]:
        if self.kind == "map":
            yield from self.value


@dataclass
class YarnFile(PluginData):
    path: str
    source_id: str
    where: str  # project | parent | home
    exists: bool = False
    text: str | None = None
    error: str | None = None
    mode: int | None = None
    mtime: float | None = None
    root: YNode | None = None
    #: YAML error (message, line) -- Yarn aborts every command.
    syntax: tuple[str, int | None] | None = None


class _Budget(Exception):
    pass


def compose(text: str) -> tuple[YNode | None, tuple[str, int | None] | None]:
    import yaml

    try:
        # libyaml when its marks index exactly these characters (ASCII text):
        # the pure-Python scanner spends seconds on a multi-megabyte token.
        fast = getattr(yaml, "CSafeLoader", None) if text.isascii() else None
        node = yaml.compose(text, Loader=fast or yaml.SafeLoader)
    except yaml.YAMLError as exc:
        # A category and a line, never PyYAML's text (it quotes aliases and anchors).
        problem = yaml_problem(exc)
        return None, (problem.category, problem.line)
    except (RecursionError, ValueError, TypeError) as exc:
        return None, (generic_problem(exc).category, None)
    if node is None:
        return None, None
    count = [0]
    try:
        return _reduce(node, count, set()), None
    except (_Budget, RecursionError):
        return None, ("too deeply nested or too large to read", None)


def _reduce(node: Any, count: list[int], active: set[int]) -> YNode:
    import yaml

    count[0] += 1
    if count[0] > MAX_NODES or id(node) in active:
        raise _Budget()
    mark, end = node.start_mark, node.end_mark
    base = dict(line=mark.line + 1, column=mark.column + 1, start=mark.index, end=end.index)
    if isinstance(node, yaml.ScalarNode):
        return YNode("scalar", str(node.value), **base)
    active.add(id(node))
    try:
        if isinstance(node, yaml.MappingNode):
            pairs = [(_reduce(k, count, active), _reduce(v, count, active)) for k, v in node.value]
            return YNode("map", pairs, **base)
        items = [_reduce(v, count, active) for v in node.value]
        return YNode("seq", items, **base)
    finally:
        active.discard(id(node))


def rc_filename(env: Mapping[str, str]) -> str:
    return env.get("YARN_RC_FILENAME") or ".yarnrc.yml"


def find_files(ctx: Context) -> list[YarnFile]:
    """Closest first; the home file last (unless it is also on the path)."""
    name = rc_filename(ctx.env.environ)
    out: list[YarnFile] = []
    seen: set[str] = set()
    cur = os.path.abspath(ctx.project)
    first = True
    while True:
        path = os.path.join(cur, name)
        out.append(_read(ctx, path, "project" if first else "parent"))
        seen.add(os.path.abspath(path))
        first = False
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
    home = os.path.join(ctx.home, name)
    if os.path.abspath(home) not in seen:
        out.append(_read(ctx, home, "home"))
    else:
        for f in out:
            if os.path.abspath(f.path) == os.path.abspath(home):
                f.where = "home"
    return [f for f in out if f.exists]


def _read(ctx: Context, path: str, where: str) -> YarnFile:
    f = YarnFile(path, f"yarn:{path}", where)
    data = read_file(ctx, path)
    if data is None:
        return f
    f.exists = True
    f.mode, f.mtime = data.mode, data.mtime
    if data.error is not None:
        f.error = data.error
        return f
    f.text = data.text or ""
    f.root, f.syntax = compose(f.text)
    if f.root is not None and f.root.kind != "map":
        f.syntax = ("the top level is not a mapping of settings", f.root.line)
        f.root = None
    return f


@dataclass(frozen=True)
class Setting:
    """One resolved setting value and where it came from."""

    value: str
    path: str | None
    line: int | None
    #: ``YARN_NPM_AUTH_TOKEN`` when from the environment.
    env_var: str | None = None
    refs: tuple[envsubst.EnvRef, ...] = ()
    raw: str = ""
    start: int = 0
    end: int = 0

    @property
    def location(self) -> Location:
        if self.env_var:
            return Location(None, key=f"${self.env_var}")
        return Location(self.path, self.line)


@dataclass
class Scope:
    """Settings of one level: top, ``npmScopes[x]`` or ``npmRegistries[x]``."""

    values: dict[str, list[Setting]] = field(default_factory=dict)

    def add(self, name: str, setting: Setting) -> None:
        self.values.setdefault(name, []).append(setting)

    def get(self, name: str) -> Setting | None:
        found = self.values.get(name)
        return found[0] if found else None

    def chain(self, name: str) -> list[Setting]:
        return list(self.values.get(name, []))


def _camel(name: str) -> str:
    parts = name.lower().split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def normalize_registry(url: str) -> str:
    return re.sub(r"/$", "", url)


@dataclass
class YarnConfig:
    files: list[YarnFile]
    top: Scope = field(default_factory=Scope)
    scopes: dict[str, Scope] = field(default_factory=dict)
    #: normalised key -> (scope, [(file, raw key, key node)])
    registries: dict[str, Scope] = field(default_factory=dict)
    registry_keys: list[tuple[YarnFile, str, YNode]] = field(default_factory=list)

    @property
    def in_use(self) -> bool:
        return bool(self.files)

    def registry_server(self, scope: str | None = None) -> tuple[str, Setting | None]:
        if scope is not None:
            sc = self.scopes.get(scope.lstrip("@"))
            if sc is not None:
                s = sc.get("npmRegistryServer")
                if s is not None:
                    return normalize_registry(s.value), s
        s = self.top.get("npmRegistryServer")
        if s is not None:
            return normalize_registry(s.value), s
        return DEFAULT_REGISTRY, None

    def registry_scope(self, registry: str) -> tuple[str, Scope] | None:
        """``getRegistryConfiguration``: exact (normalised) key, else without
        the protocol."""
        if registry in self.registries:
            return registry, self.registries[registry]
        bare = re.sub(r"^[a-z]+:", "", registry)
        if bare in self.registries:
            return bare, self.registries[bare]
        return None


def load(ctx: Context, files: list[YarnFile]) -> YarnConfig:
    env = ctx.env.environ
    cfg = YarnConfig(files)
    for var, value in sorted(env.items()):
        if not var.upper().startswith("YARN_") or var.upper() in ("YARN_RC_FILENAME",):
            continue
        name = _camel(var[5:])
        if name in NPM_SETTINGS:
            cfg.top.add(name, Setting(value, None, None, env_var=var, raw=value))
    for f in files:  # closest first: earlier entries win
        if f.root is None:
            continue
        for k, v in f.root.pairs():
            if k.kind != "scalar":
                continue
            name = k.value
            if name == "npmScopes" and v.kind == "map":
                for sk, sv in v.pairs():
                    if sk.kind == "scalar" and sv.kind == "map":
                        scope = cfg.scopes.setdefault(sk.value.lstrip("@"), Scope())
                        _fill(scope, sv, f, env)
            elif name == "npmRegistries" and v.kind == "map":
                for rk, rv in v.pairs():
                    if rk.kind == "scalar" and rv.kind == "map":
                        norm = normalize_registry(rk.value)
                        cfg.registry_keys.append((f, rk.value, rk))
                        scope = cfg.registries.setdefault(norm, Scope())
                        _fill(scope, rv, f, env)
            elif v.kind == "scalar" and name in NPM_SETTINGS:
                cfg.top.add(name, _setting(v, f, env))
    return cfg


def _fill(scope: Scope, node: YNode, f: YarnFile, env: Mapping[str, str]) -> None:
    for k, v in node.pairs():
        if k.kind == "scalar" and v.kind == "scalar":
            scope.add(k.value, _setting(v, f, env))


def _setting(v: YNode, f: YarnFile, env: Mapping[str, str]) -> Setting:
    exp = envsubst.yarn(v.value, env)
    return Setting(exp.value, f.path, v.line, refs=exp.refs, raw=v.value, start=v.start,
                   end=v.end)


def walk_scalars(node: YNode | None) -> Iterator[tuple[list[str], YNode, YNode]]:
    """(key path, key node, value node) of every scalar value in the file."""
    if node is None:
        return
    stack: list[tuple[list[str], YNode]] = [([], node)]
    while stack:
        path, cur = stack.pop()
        for k, v in cur.pairs():
            key = k.value if k.kind == "scalar" else "?"
            if v.kind == "scalar":
                yield [*path, key], k, v
            elif v.kind == "map":
                stack.append(([*path, key], v))
