"""Which credential npm, pnpm and Yarn Berry send to a registry -- the chain.

npm (``npm-registry-fetch/lib/auth.js``): the registry for a package is
``@scope:registry`` (or ``registry``); the request goes to
``<registry without trailing slash>/<escaped name>``; the auth is found by
walking that request URL's ``//host/path`` up one segment (or one slash) at
a time until a key with auth exists; when none does and the registry is on
the same host, the registry URL itself is walked.

pnpm reads the same files, also honours an unscoped ``_authToken`` for the
default registry, and expands ``${VAR:-default}``.

Yarn Berry ignores ``.npmrc``: ``npmScopes`` auth, else ``npmRegistries``,
else the top-level settings; unscoped packages get auth only with
``npmAlwaysAuth``.
"""

from __future__ import annotations

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

from . import creds, yarnrc
from .config import DEFAULT_REGISTRY, Config, Item
from .nerf import key_host, nerf_dart, packument_url, parse_url, walk
from .state import State


@dataclass(frozen=True)
class NearMiss:
    """An auth key for the registry's host that the client never matches."""

    prefix: str
    field: str
    item: Item
    reason: str
    kind: str  # host-case | default-port | path | trailing-slash


@dataclass
class Details(PluginData):
    """What the probe and diagnose hooks need beyond the Resolution (its
    ``payload``).  Built while resolving, never changed afterwards."""

    client: str
    registry: str
    registry_item: Item | None
    scope: str | None
    package: str | None
    request_url: str
    prefix: str | None = None
    picked: creds.Picked | None = None
    near: list[NearMiss] = field(default_factory=list)
    #: Yarn: a token exists but is not sent (npmAlwaysAuth missing).
    withheld: str | None = None
    #: Yarn: the token's setting, for messages.
    yarn_setting: yarnrc.Setting | None = None
    #: Credentials the chain shows as lost to the winner.
    lost: list[tuple[Item, str]] = field(default_factory=list)
    #: npm's exact nerf dart of the registry (what whoami/publish look up).
    exact_prefix: str | None = None
    #: pnpm: the project-level ``${VAR}`` auth key pnpm 12 ignores.
    pnpm_ignored: Item | None = None
    #: Auth keys that match no registry npm uses (keyed for another host).
    orphans: list[tuple[str, str, Item]] = field(default_factory=list)


def scope_of(name: str | None) -> str | None:
    if name and name.startswith("@") and "/" in name:
        return name.split("/", 1)[0]
    return None


def registry_for(cfg: Config, scope: str | None) -> tuple[str, Item | None, str | None]:
    """(registry URL, the item that set it, the scope whose registry it is)."""
    if scope:
        item = cfg.scope_registry(scope)
        if item is not None and item.text:
            return item.text, item, scope
    default_scope = cfg.get("scope")
    if not scope and isinstance(default_scope, str) and default_scope:
        sc = default_scope if default_scope.startswith("@") else "@" + default_scope
        item = cfg.scope_registry(sc)
        if item is not None and item.text:
            return item.text, item, sc
    return cfg.registry, cfg.registry_item(), None


def _host_norm(prefix_host: str) -> tuple[str, int | None]:
    host = prefix_host.lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        port = rest.lstrip(":")
        return name + "]", int(port) if port.isdigit() else None
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit():
        return name, int(port)
    return host, None


def near_misses(cfg: Config, registry: str, request: str, pnpm: bool = False) -> list[NearMiss]:
    """Auth keys on the registry's host that the walk does not reach, and why."""
    reg = parse_url(registry)
    if reg is None:
        return []
    tried = set(walk(request)) | set(walk(registry))
    exact = nerf_dart(registry)
    default_port = 443 if reg.scheme == "https" else 80
    out: list[NearMiss] = []
    for prefix, fld, item in cfg.auth_items():
        if fld not in ("_authToken", "_auth", "username"):
            continue
        raw_host = key_host(prefix)
        name, port = _host_norm(raw_host)
        if name != reg.hostname or (port or None) not in (reg.port, default_port if reg.port is None else None):
            continue
        if prefix in tried:
            if exact and prefix != exact:
                out.append(NearMiss(prefix, fld, item,
                                    f"it matches package requests, but `npm whoami` and "
                                    f"`npm publish` look up exactly {exact}", "whoami"))
            continue
        if raw_host != raw_host.lower():
            out.append(NearMiss(prefix, fld, item,
                                "its host has upper-case letters; npm compares keys as exact "
                                "strings against the lower-cased host", "host-case"))
        elif port is not None and port == default_port and reg.port is None:
            out.append(NearMiss(prefix, fld, item,
                                f"it names the default port :{port}, which npm drops from "
                                "request URLs before comparing", "default-port"))
        else:
            out.append(NearMiss(prefix, fld, item,
                                f"its path is not a prefix of the request path (the registry's "
                                f"key is {exact})", "path"))
    return out


def orphans(cfg: Config, skip: list[str]) -> list[tuple[str, str, Item]]:
    """Auth keys on no registry's path at all."""
    urls = [cfg.registry] + [i.text or "" for i in cfg.scope_registries().values()]
    paths: set[str] = set()
    for url in urls:
        paths |= set(walk(url.rstrip("/") + "/x")) | set(walk(url))
    out = []
    for prefix, fld, item in cfg.auth_items():
        if fld in ("_authToken", "_auth", "username") and prefix not in paths and \
                prefix not in skip and item.text:
            out.append((prefix, fld, item))
    return out


def _cred_for(item: Item, prefix: str, by_id: dict[str, Credential]) -> Credential | None:
    return by_id.get(creds.cred_id(item.source_id or "npm:env", prefix))


def _registry_step(ctx: Context, cfg: Config, registry: str, item: Item | None,
                   scope: str | None) -> list[ChainStep]:
    steps: list[ChainStep] = []
    key = f"{scope}:registry" if scope else "registry"
    if item is None:
        steps.append(ChainStep(f"{key} (default)", "used", f"npm's default {DEFAULT_REGISTRY}"))
        return steps
    steps.append(ChainStep(f"{key}={registry}", "used", f"from the {item.layer} config",
                           location=item.location))
    for other in cfg.chain(key)[1:]:
        if other.text and other.text != registry:
            steps.append(ChainStep(f"{key}={other.text}", "lost",
                                   f"the {item.layer} config overrides the {other.layer} one",
                                   location=other.location))
    return steps


def resolve_npm(ctx: Context, st: State, target: Target, cfg: Config, client: str,
                by_id: dict[str, Credential]) -> tuple[Resolution, Details]:
    package = target.name if target.kind == "package" else None
    scope = scope_of(package) or (target.name if target.name and target.name.startswith("@")
                                  and "/" not in target.name else None)
    if target.url and target.kind == "registry" and not scope:
        registry, reg_item, scope_used = target.url, _matching_registry_item(cfg, target.url), None
    else:
        registry, reg_item, scope_used = registry_for(cfg, scope)
    request = packument_url(registry, package) if package else registry
    det = Details(client, registry, reg_item, scope_used, package, request,
                  exact_prefix=nerf_dart(registry))
    steps = _registry_step(ctx, cfg, registry, reg_item, scope_used)
    tried = walk(request)
    prefix = next((p for p in tried if _has_auth(cfg, p, client)), None)
    how = "on the request path"
    if prefix is None and request != registry and parse_url(registry) and \
            (parse_url(registry).host == parse_url(request).host):  # type: ignore[union-attr]
        prefix = next((p for p in walk(registry) if _has_auth(cfg, p, client)), None)
        how = "on the registry URL"
    unscoped = None
    if prefix is None and client == "pnpm" and (nerf_dart(registry) == nerf_dart(cfg.registry)):
        unscoped = next((creds.unscoped_pick(cfg, la.where) for la, _ in cfg.by_layer
                         if creds.unscoped_pick(cfg, la.where) is not None), None)
    credential: Credential | None = None
    if prefix is not None:
        picked = creds.pick(cfg, prefix)
        det.prefix, det.picked = prefix, picked
        if picked is not None:
            main = picked.items[0]
            credential = _cred_for(main, prefix, by_id)
            steps.append(ChainStep(f"{prefix}:{picked.field}", "used",
                                   f"the first key with auth {how} ({request})",
                                   credential.id if credential else None, main.location))
            for field_ in ("_authToken", "_auth", "username", "_password"):
                for other in cfg.chain(prefix + ":" + field_)[1:]:
                    if other.layer != main.layer:
                        det.lost.append((other, main.layer))
                        oc = _cred_for(other, prefix, by_id)
                        steps.append(ChainStep(
                            f"{prefix}:{field_}", "lost",
                            f"the {main.layer} config overrides it",
                            oc.id if oc else None, other.location))
        else:
            steps.append(ChainStep(f"{prefix}:certfile", "used",
                                   "client certificate only: no Authorization header"))
        for p in tried[tried.index(prefix) + 1:] if prefix in tried else []:
            if _has_auth(cfg, p, client):
                item = cfg.item(f"{p}:{cfg.has_auth_at(p)}")
                oc = _cred_for(item, p, by_id) if item else None
                steps.append(ChainStep(f"{p}:{cfg.has_auth_at(p)}", "lost",
                                       f"{prefix} is more specific and is found first",
                                       oc.id if oc else None, item.location if item else None))
    elif unscoped is not None:
        main = unscoped.items[0]
        credential = by_id.get(creds.cred_id(main.source_id or "npm:env", creds.UNSCOPED))
        det.picked = unscoped
        steps.append(ChainStep(f"{unscoped.field} (unscoped)", "used",
                               "pnpm sends an unscoped token to the default registry",
                               credential.id if credential else None, main.location))
    else:
        steps.append(ChainStep("auth", "missing",
                               f"no key with auth on the path of {request}"))
        steps += _pnpm_ignored(cfg, det, set(tried) | set(walk(registry)))
    steps += _unused_keys(st, cfg, det, client, credential is None)
    res = Resolution(target=target, ecosystem="npm", client=client, credential=credential,
                     chain=tuple(steps), registry=registry, protocol="npm", payload=det)
    return res, det


def _pnpm_ignored(cfg: Config, det: Details, tried: set[str]) -> list[ChainStep]:
    """pnpm 12 drops ``${VAR}`` auth settings of the project's .npmrc."""
    for item in cfg.ignored_auth:
        if item.key.rsplit(":", 1)[0] in tried:
            det.pnpm_ignored = item
            return [ChainStep(item.key, "skipped",
                              "pnpm 12 ignores registry credentials written with ${VAR} in the "
                              "project's .npmrc", location=item.location)]
    return []


def _unused_keys(st: State, cfg: Config, det: Details, client: str,
                 anonymous: bool) -> list[ChainStep]:
    """Chain steps for the auth keys the client never sends (near misses,
    and unscoped keys npm 9+ refuses); fills ``det.near`` and ``det.orphans``."""
    registry, request = det.registry, det.request_url
    steps: list[ChainStep] = []
    det.near = near_misses(cfg, registry, request, pnpm=client == "pnpm")
    if anonymous and det.picked is None:
        det.orphans = orphans(cfg, [n.prefix for n in det.near])
    for nm in det.near:
        if nm.kind in ("whoami",):
            continue
        steps.append(ChainStep(f"{nm.prefix}:{nm.field}", "skipped", f"never matches: {nm.reason}",
                               None, nm.item.location))
    if client == "npm" and st.tool.at_least("9") is not False:
        for la, _ in cfg.by_layer:
            up = creds.unscoped_pick(cfg, la.where)
            if up is not None:
                steps.append(ChainStep(f"{up.field} (unscoped)", "failed",
                                       "npm 9+ refuses to run with an unscoped auth key "
                                       "(ERR_INVALID_AUTH)", None, up.items[0].location))
    return steps


def _has_auth(cfg: Config, prefix: str, client: str) -> bool:
    """npm and pnpm look keys up the same way here; pnpm's stricter handling of
    keys without a trailing slash is reported as a near miss (NPM005)."""
    return cfg.has_auth_at(prefix) is not None


def _matching_registry_item(cfg: Config, url: str) -> Item | None:
    want = nerf_dart(url)
    item = cfg.registry_item()
    if item is not None and nerf_dart(item.text or "") == want:
        return item
    for _, it in cfg.scope_registries().items():
        if nerf_dart(it.text or "") == want:
            return it
    return None


def resolve_yarn(ctx: Context, st: State, target: Target, by_id: dict[str, Credential]
                 ) -> tuple[Resolution, Details]:
    ycfg = st.yarn
    assert ycfg is not None
    package = target.name if target.kind == "package" else None
    scope = scope_of(package) or (target.name if target.name and target.name.startswith("@")
                                  and "/" not in target.name else None)
    registry, server_setting = ycfg.registry_server(scope.lstrip("@") if scope else None)
    if target.url and target.kind == "registry" and not scope:
        registry = yarnrc.normalize_registry(target.url)
    request = packument_url(registry, package) if package else registry
    det = Details("yarn", registry, None, scope, package, request)
    steps: list[ChainStep] = []
    if server_setting is not None:
        steps.append(ChainStep(f"npmRegistryServer={registry}", "used",
                               "from " + (server_setting.env_var or "the config file"),
                               location=server_setting.location))
    else:
        steps.append(ChainStep("npmRegistryServer (default)", "used",
                               f"Yarn's default {yarnrc.DEFAULT_REGISTRY}"))
    auth_scope: yarnrc.Scope = ycfg.top
    where = "top level"
    sc = ycfg.scopes.get(scope.lstrip("@")) if scope else None
    if sc is not None and (sc.get("npmAuthToken") or sc.get("npmAuthIdent")):
        auth_scope, where = sc, f"npmScopes.{scope.lstrip('@')}"  # type: ignore[union-attr]
    else:
        found = ycfg.registry_scope(registry)
        if found is not None:
            auth_scope, where = found[1], f"npmRegistries[{found[0]}]"
    secret = creds.yarn_secret(auth_scope)
    always = auth_scope.get("npmAlwaysAuth")
    always_on = always is not None and always.value.strip().lower() in ("true", "1")
    scoped = scope is not None
    credential: Credential | None = None
    if secret is None:
        steps.append(ChainStep(f"{where}: npmAuthToken/npmAuthIdent", "missing",
                               "no Yarn auth setting applies (Yarn never reads .npmrc)"))
    else:
        setting = secret[3]
        det.yarn_setting = setting
        cid = creds.yarn_id(setting.path, setting.env_var, where if where != "top level"
                            else ("npmAuthToken" if auth_scope.get("npmAuthToken")
                                  else "npmAuthIdent"))
        credential = by_id.get(cid) or creds.yarn_credential(
            auth_scope, where if where != "top level" else "npmAuthToken", registry)
        if not scoped and not always_on and package is not None:
            det.withheld = where
            steps.append(ChainStep(f"{where}: npmAuthToken", "skipped",
                                   "unscoped packages get auth only with npmAlwaysAuth: true",
                                   credential.id if credential else None, setting.location))
            credential = None
        elif not scoped and not always_on and package is None:
            det.withheld = where
            steps.append(ChainStep(f"{where}: npmAuthToken", "skipped",
                                   "without npmAlwaysAuth: true Yarn sends it only for scoped "
                                   "packages", credential.id if credential else None,
                                   setting.location))
            credential = None
        else:
            steps.append(ChainStep(f"{where}: {'npmAuthToken' if secret[2] == 'bearer' else 'npmAuthIdent'}",
                                   "used", "scoped package: best effort" if scoped and not always_on
                                   else "npmAlwaysAuth: true",
                                   credential.id if credential else None, setting.location))
            det.picked = creds.Picked("npmAuthToken" if secret[2] == "bearer" else "npmAuthIdent",
                                      secret[1], secret[0], secret[2], ())
    res = Resolution(target=target, ecosystem="npm", client="yarn", credential=credential,
                     chain=tuple(steps), registry=registry, protocol="npm", payload=det)
    return res, det


def details(res: Resolution) -> Details | None:
    return payload_of(res.payload, Details)


def location_of(item: Item | None) -> Location | None:
    return item.location if item is not None else None
