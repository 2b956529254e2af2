"""Finding and reading everything pip, uv and Poetry read, in their order.

pip (``pip/_internal/configuration.py``):

* files, loaded in this order (a later file wins for the same
  ``section.option``): global (``$XDG_CONFIG_DIRS``/pip/pip.conf, default
  ``/etc/xdg``, then ``/etc/pip.conf``), user (``~/.pip/pip.conf``, then
  ``$XDG_CONFIG_HOME/pip/pip.conf``), site (``$VIRTUAL_ENV/pip.conf``), then
  ``PIP_CONFIG_FILE``.  ``PIP_CONFIG_FILE=/dev/null`` loads no file at all;
  a ``PIP_CONFIG_FILE`` that exists makes pip skip the *user* files.
* sections: ``[global]`` < ``[install]`` (the command's own section) <
  ``PIP_*`` environment variables -- whichever file they are in.
* empty values are ignored; option names are lower-cased, ``_`` -> ``-``.

``/etc/pip.conf`` can be replaced for tests with
``HARDOCTOR_PIP_ETC_CONFIG=PATH`` (empty: none), the way the Docker plugin
takes ``HARDOCTOR_DOCKER_CERTS_D``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace

from hardoctor.context import Context
from hardoctor.files import read_file
from hardoctor.model import Location, Source

from . import ini, netrcfile, requirements, tomlconf, urls
from .model import (
    ECO,
    EnvSource,
    IndexRef,
    Model,
    NetrcView,
    PipFile,
    PipView,
    PoetryAuth,
    PoetryView,
    ReqFile,
    Setting,
    TomlSource,
    UvView,
)

#: pip.conf options the plugin follows.
TRACKED = ("index-url", "extra-index-url", "trusted-host", "no-index", "no-input",
           "keyring-provider", "cert", "client-cert")
#: The command modelled: ``pip install`` reads ``[global]`` and ``[install]``.
COMMAND = "install"
SECTION_RANK = {"global": 0, COMMAND: 1}
ENV_RANK = 2
ETC_ENV = "HARDOCTOR_PIP_ETC_CONFIG"
DEVNULL = os.devnull
MAX_WALK = 30


def _env(ctx: Context) -> Mapping[str, str]:
    return ctx.env.environ


def _xdg_config_home(ctx: Context) -> str:
    value = ctx.getenv("XDG_CONFIG_HOME") or ""
    return value if value.strip() else os.path.join(ctx.home, ".config")


def _xdg_config_dirs(ctx: Context) -> list[str]:
    value = ctx.getenv("XDG_CONFIG_DIRS") or ""
    dirs = [ctx.env.expand_home(d) for d in value.split(os.pathsep) if d] if value.strip() else []
    return dirs or ["/etc/xdg"]


def pip_file_paths(ctx: Context) -> list[tuple[str, str]]:
    """(variant, path) in pip's load order."""
    out = [("global", os.path.join(d, "pip", "pip.conf")) for d in _xdg_config_dirs(ctx)]
    etc = ctx.getenv(ETC_ENV)
    etc = "/etc/pip.conf" if etc is None else etc
    if etc:
        out.append(("global", etc))
    out.append(("user", os.path.join(ctx.home, ".pip", "pip.conf")))
    out.append(("user", os.path.join(_xdg_config_home(ctx), "pip", "pip.conf")))
    venv = ctx.getenv("VIRTUAL_ENV")
    if venv:
        out.append(("site", os.path.join(ctx.env.expand_home(venv), "pip.conf")))
    env_file = ctx.getenv("PIP_CONFIG_FILE")
    if env_file is not None and env_file != DEVNULL:
        out.append(("env", ctx.env.expand_home(env_file)))
    return out


_DESCRIPTIONS = {
    "global": "pip configuration (global)",
    "user": "pip configuration (user)",
    "site": "pip configuration (virtualenv site)",
    "env": "pip configuration (PIP_CONFIG_FILE)",
}


def _normalize(name: str) -> str:
    name = name.lower().replace("_", "-")
    return name[2:] if name.startswith("--") else name


def _file_source(ctx: Context, sid: str, path: str, description: str) -> tuple[Source | None, str | None]:
    """(source, text) of a file; (None, None) when it does not exist."""
    data = read_file(ctx, path)
    if data is None:
        return None, None
    if data.text is None:
        return Source(id=sid, ecosystem=ECO, kind="file", description=description, path=path,
                      error=data.error or "unreadable"), None
    return Source(id=sid, ecosystem=ECO, kind="file", description=description, path=path,
                  text=data.text, mtime=data.mtime, mode=data.mode), data.text


def build(ctx: Context) -> tuple[Model, list[Source]]:
    model = Model()
    sources: list[Source] = []
    _pip(ctx, model, sources)
    _netrc(ctx, model, sources)
    _requirements(ctx, model, sources)
    _uv(ctx, model, sources)
    _poetry(ctx, model, sources)
    return model, sources


# -- pip ----------------------------------------------------------------------


def _pip(ctx: Context, model: Model, sources: list[Source]) -> None:
    view = PipView()
    model.pip = view
    env_file = ctx.getenv("PIP_CONFIG_FILE")
    view.config_file_env = env_file
    view.devnull = env_file == DEVNULL
    env_file_exists = bool(env_file) and not view.devnull and os.path.exists(ctx.env.expand_home(env_file or ""))
    for rank, (variant, path) in enumerate(pip_file_paths(ctx)):
        pf = PipFile(path=path, variant=variant, rank=rank, source_id=f"pip:conf:{path}")
        view.files.append(pf)
        src, text = _file_source(ctx, pf.source_id, path, _DESCRIPTIONS[variant])
        if src is None:
            continue
        pf.exists = True
        if view.devnull:
            pf.skipped = "PIP_CONFIG_FILE is os.devnull: pip reads no configuration file at all"
        elif variant == "user" and env_file_exists:
            pf.skipped = "PIP_CONFIG_FILE is set and exists: pip skips the per-user files"
        if text is not None:
            pf.ini = ini.parse(text)
            model.texts[pf.source_id] = text
        sources.append(replace(src, payload=pf))
        if pf.ini is None or pf.ini.error is not None:
            continue
        for section, options in pf.ini.effective().items():
            if section not in SECTION_RANK:
                continue
            for opt in options.values():
                name = _normalize(opt.name)
                if name not in TRACKED or not opt.value:
                    continue
                setting = Setting(
                    name=name,
                    value=opt.value,
                    rank=(SECTION_RANK[section], rank, opt.line),
                    path=path,
                    line=opt.line,
                    key=f"[{section}] {opt.raw_name}",
                    source=pf.source_id,
                )
                if name in ("index-url", "extra-index-url"):
                    setting.refs = tuple(_conf_refs(pf, section, opt, name))
                    model.refs.extend(setting.refs)
                if pf.skipped:
                    view.ignored.append(setting)
                else:
                    view.candidates.setdefault(name, []).append(setting)
    _pip_env(ctx, model, sources)


def _conf_refs(pf: PipFile, section: str, opt: ini.Option, name: str) -> list[IndexRef]:
    out: list[IndexRef] = []
    key = f"[{section}] {opt.raw_name}"
    if name == "index-url":
        pieces = opt.pieces()
        if len(pieces) == 1:
            text, line, start, end = pieces[0]
            out.append(_ref("pip", name, text, pf.source_id, pf.path, line, key, start, end,
                            section=section))
        else:
            out.append(_ref("pip", name, opt.value, pf.source_id, pf.path, opt.line, key,
                            section=section))
        return out
    for text, line, start, _end in opt.pieces():
        for m in re.finditer(r"\S+", text):
            out.append(_ref("pip", name, m.group(0), pf.source_id, pf.path, line, key,
                            start + m.start(), start + m.end(), section=section))
    return out


def _ref(client: str, role: str, raw: str, source: str, path: str | None, line: int | None,
         key: str, start: int | None = None, end: int | None = None, **kw: object) -> IndexRef:
    return IndexRef(client=client, role=role, raw=raw, url=urls.parse_index_url(raw),
                    source=source, path=path, line=line, key=key, start=start, end=end,
                    **kw)  # type: ignore[arg-type]


def _pip_env(ctx: Context, model: Model, sources: list[Source]) -> None:
    view = model.pip
    found = False
    for var, value in sorted(_env(ctx).items()):
        if not var.startswith("PIP_") or not value:
            continue
        name = _normalize(var[4:])
        if name not in TRACKED:
            continue
        found = True
        setting = Setting(name=name, value=value, rank=(ENV_RANK, 0, 0), path=None, line=None,
                          key=f"${var}", source="pip:env:PIP")
        if name == "index-url":
            setting.refs = (_ref("pip", name, value.strip(), "pip:env:PIP", None, None, f"${var}",
                                 env=var),)
        elif name == "extra-index-url":
            setting.refs = tuple(_ref("pip", name, v, "pip:env:PIP", None, None, f"${var}", env=var)
                                 for v in value.split())
        view.candidates.setdefault(name, []).append(setting)
        model.refs.extend(setting.refs)
    if found or view.config_file_env is not None:
        sources.append(Source(id="pip:env:PIP", ecosystem=ECO, kind="env",
                              description="PIP_* environment variables", path=None,
                              payload=EnvSource("pip-env")))


# -- netrc --------------------------------------------------------------------


def netrc_path(ctx: Context) -> tuple[str | None, bool]:
    """The file requests reads: ``$NETRC`` (only it), else ``~/.netrc``,
    else ``~/_netrc`` -- the first that exists."""
    explicit = ctx.getenv("NETRC")
    if explicit is not None:
        return ctx.env.expand_home(explicit), True
    for name in (".netrc", "_netrc"):
        path = os.path.join(ctx.home, name)
        if os.path.exists(path):
            return path, False
    return None, False


def _netrc(ctx: Context, model: Model, sources: list[Source]) -> None:
    path, from_env = netrc_path(ctx)
    view = NetrcView(path=path, from_env=from_env)
    model.netrc = view
    if path is None:
        return
    sid = f"pip:netrc:{path}"
    src, text = _file_source(ctx, sid, path, "netrc (pip, uv, Poetry, curl)")
    if src is None:
        if from_env:
            sources.append(Source(id=sid, ecosystem=ECO, kind="file", description="netrc ($NETRC)",
                                  path=path, exists=False, payload=view))
        return
    view.source_id = sid
    view.mode = src.mode
    if text is not None:
        view.doc = netrcfile.parse(text)
        model.texts[sid] = text
    sources.append(replace(src, payload=view))


# -- requirements files ----------------------------------------------------------


def _requirements(ctx: Context, model: Model, sources: list[Source]) -> None:
    todo = requirements.find_files(ctx.project)
    seen: set[str] = set()
    while todo and len(seen) < 40:
        path = todo.pop(0)
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        sid = f"pip:req:{path}"
        src, text = _file_source(ctx, sid, path, "requirements file (pip install -r)")
        if src is None:
            continue
        rel = os.path.relpath(path, ctx.project)
        doc = requirements.parse(text or "", _env(ctx))
        rf = ReqFile(path=path, doc=doc, source_id=sid)
        client = f"pip -r {rel}"
        for opt in doc.options:
            if opt.name in ("index-url", "extra-index-url"):
                key = f"--{opt.name}"
                rf.refs.append(IndexRef(
                    client=client, role=opt.name, raw=opt.value, url=urls.parse_index_url(opt.value),
                    source=sid, path=path, line=opt.line, key=key,
                    start=opt.start if opt.raw == opt.value else None,
                    end=opt.end if opt.raw == opt.value else None,
                    unset_vars=opt.unset_vars, unexpanded=opt.unexpanded, written=opt.raw,
                ))
            elif opt.name in ("requirement", "constraint") and opt.value and "://" not in opt.value:
                nested = os.path.normpath(os.path.join(os.path.dirname(path), opt.value))
                if nested.startswith(ctx.project.rstrip("/") + "/"):
                    todo.append(nested)
        if text is not None:
            model.texts[sid] = text
        model.requirements.append(rf)
        model.refs.extend(rf.refs)
        sources.append(replace(src, payload=rf))


# -- uv -----------------------------------------------------------------------------


def _walk_up(start: str, home: str) -> list[str]:
    out = []
    cur = os.path.abspath(start)
    for _ in range(MAX_WALK):
        out.append(cur)
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
    return out


def uv_project_config(ctx: Context) -> tuple[str, str] | None:
    """(path, kind) of the project-level uv configuration: the nearest
    ``uv.toml``, or ``pyproject.toml`` with a ``[tool.uv]`` table."""
    for folder in _walk_up(ctx.project, ctx.home):
        path = os.path.join(folder, "uv.toml")
        if os.path.isfile(path):
            return path, "uv"
        pp = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(pp):
            data = read_file(ctx, pp)
            if data is not None and data.text is not None and re.search(
                r"^\s*\[\[?\s*tool\s*\.\s*uv\b", data.text, re.M
            ):
                return pp, "pyproject"
    return None


def _uv_files(ctx: Context) -> list[tuple[str, str]]:
    explicit = ctx.getenv("UV_CONFIG_FILE")
    if explicit:
        return [(ctx.env.expand_home(explicit), "uv")]
    if (ctx.getenv("UV_NO_CONFIG") or "").lower() in ("1", "true", "yes", "on"):
        return []
    out: list[tuple[str, str]] = []
    proj = uv_project_config(ctx)
    if proj is not None:
        out.append(proj)
    out.append((os.path.join(_xdg_config_home(ctx), "uv", "uv.toml"), "uv"))
    # System level: the first of $XDG_CONFIG_DIRS/uv/uv.toml, /etc/uv/uv.toml
    # (the latter not while tests replace /etc with HARDOCTOR_PIP_ETC_CONFIG).
    system = [os.path.join(d, "uv", "uv.toml") for d in _xdg_config_dirs(ctx)]
    if ctx.getenv(ETC_ENV) is None:
        system.append("/etc/uv/uv.toml")
    found = next((p for p in system if os.path.isfile(p)), None)
    if found:
        out.append((found, "uv"))
    return out


def _toml_source(ctx: Context, model: Model, sources: list[Source], path: str, description: str,
                 payload_kind: str) -> tomlconf.TomlDoc | None:
    sid = f"pip:toml:{path}"
    existing = next((s for s in sources if s.id == sid), None)
    if existing is not None:
        known = model.texts.get(sid)
        return tomlconf.load(known) if known is not None else None
    src, text = _file_source(ctx, sid, path, description)
    if src is None:
        return None
    doc = tomlconf.load(text) if text is not None else None
    if text is not None:
        model.texts[sid] = text
    sources.append(replace(src, payload=TomlSource(payload_kind, doc)))
    return doc


def _uv(ctx: Context, model: Model, sources: list[Source]) -> None:
    view = UvView()
    model.uv = view
    from_env: list[IndexRef] = []
    config_indexes: list[IndexRef] = []
    extras: list[IndexRef] = []
    default: IndexRef | None = None
    index_url: IndexRef | None = None
    for path, kind in _uv_files(ctx):
        desc = "uv configuration" if kind == "uv" else "pyproject.toml"
        doc = _toml_source(ctx, model, sources, path, desc, kind)
        if doc is None:
            continue
        view.files.append((path, doc, kind))
        view.active = True
        if doc.data is None:
            continue
        base = doc.data if kind == "uv" else tomlconf.get(doc.data, "tool", "uv")
        if not isinstance(base, dict):
            continue
        view.config_path = view.config_path or path
        prefix = "" if kind == "uv" else "tool.uv."
        sid = f"pip:toml:{path}"
        text = doc.text
        heads = tomlconf.header_positions(text, prefix + "index", array=True)
        table = tomlconf.header_positions(text, "tool.uv", array=False) if prefix else []
        after = table[0] if table else 0
        entries = base.get("index")
        if isinstance(entries, list):
            for i, entry in enumerate(entries):
                if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                    continue
                lo = heads[i] if i < len(heads) else after
                hi = tomlconf.next_header(text, lo) if i < len(heads) else None
                ref = _toml_ref(ctx, "uv", "uv-index", entry["url"], sid, path, text, lo, hi,
                                f"[[{prefix}index]] {entry.get('name') or i + 1}",
                                name=entry.get("name") if isinstance(entry.get("name"), str) else None,
                                default=entry.get("default") is True,
                                explicit=entry.get("explicit") is True)
                config_indexes.append(ref)
        if index_url is None and isinstance(base.get("index-url"), str):
            index_url = _toml_ref(ctx, "uv", "index-url", base["index-url"], sid, path, text,
                                  after, None, f"{prefix}index-url")
        extra = base.get("extra-index-url")
        if isinstance(extra, list):
            for value in extra:
                if isinstance(value, str):
                    extras.append(_toml_ref(ctx, "uv", "extra-index-url", value, sid, path, text,
                                            after, None, f"{prefix}extra-index-url"))
        if isinstance(base.get("keyring-provider"), str) and view.keyring_provider == "disabled":
            view.keyring_provider = base["keyring-provider"]
        if isinstance(base.get("index-strategy"), str) and view.index_strategy == "first-index":
            view.index_strategy = base["index-strategy"]
    env = _env(ctx)
    env_seen = False
    for var in ("UV_INDEX",):
        for item in (env.get(var) or "").split():
            name, url = _uv_named(item)
            from_env.append(_ref("uv", "uv-index", url, "pip:env:UV", None, None, f"${var}",
                                 name=name, env=var))
            env_seen = True
    for var in ("UV_EXTRA_INDEX_URL",):
        for item in (env.get(var) or "").split():
            extras.insert(0, _ref("uv", "extra-index-url", item, "pip:env:UV", None, None,
                                  f"${var}", env=var))
            env_seen = True
    for var in ("UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        value = (env.get(var) or "").strip()
        if value and default is None:
            name, url = _uv_named(value) if var == "UV_DEFAULT_INDEX" else (None, value)
            default = _ref("uv", "uv-default", url, "pip:env:UV", None, None, f"${var}",
                           name=name, env=var, default=True)
            env_seen = True
    if (env.get("UV_KEYRING_PROVIDER") or "").strip():
        view.keyring_provider = env["UV_KEYRING_PROVIDER"].strip()
    if (env.get("UV_INDEX_STRATEGY") or "").strip():
        view.index_strategy = env["UV_INDEX_STRATEGY"].strip()
    for var, value in env.items():
        m = re.fullmatch(r"UV_INDEX_(.+)_(USERNAME|PASSWORD)", var)
        if m and value and m.group(1) not in ("URL",):
            user, pw = model.uv_env_names.get(m.group(1), (None, None))
            model.uv_env_names[m.group(1)] = (value, pw) if m.group(2) == "USERNAME" else (user, value)
            env_seen = True
    if env_seen:
        view.active = True
        sources.append(Source(id="pip:env:UV", ecosystem=ECO, kind="env",
                              description="UV_* environment variables", path=None, payload=EnvSource("uv-env")))
    if default is None:
        default = next((r for r in config_indexes if r.default), None) or index_url
    ordered = [r for r in from_env + config_indexes if not r.default] + extras
    view.indexes = ordered
    view.default = default
    model.refs.extend(from_env + config_indexes + extras + ([index_url] if index_url else []))
    if default is not None and default not in model.refs:
        model.refs.append(default)
    if not view.active and (os.path.exists(os.path.join(ctx.project, "uv.lock"))):
        view.active = True


def uv_env_name(name: str) -> str:
    """uv's ``IndexName::to_env_var``: upper-case, every other character ``_``."""
    return "".join(c.upper() if c.isascii() and c.isalnum() else "_" for c in name)


def _uv_named(item: str) -> tuple[str | None, str]:
    if "=" in item:
        name, url = item.split("=", 1)
        if name and ":" not in name:
            return name, url
    return None, item


def _toml_ref(ctx: Context, client: str, role: str, value: str, sid: str, path: str, text: str,
              lo: int, hi: int | None, key: str, **kw: object) -> IndexRef:
    span = tomlconf.find_string(text, value, lo, hi) or tomlconf.find_string(text, value)
    line = ini.line_of(text, span[0]) if span else (ini.line_of(text, lo) if lo else None)
    return _ref(client, role, value, sid, path, line, key,
                span[0] if span else None, span[1] if span else None, **kw)


# -- Poetry ---------------------------------------------------------------------------


def poetry_config_dir(ctx: Context) -> str:
    explicit = ctx.getenv("POETRY_CONFIG_DIR")
    if explicit:
        return ctx.env.expand_home(explicit)
    return os.path.join(_xdg_config_home(ctx), "pypoetry")


def _nearest(ctx: Context, name: str) -> str | None:
    for folder in _walk_up(ctx.project, ctx.home):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def _poetry(ctx: Context, model: Model, sources: list[Source]) -> None:
    view = PoetryView(config_dir=poetry_config_dir(ctx))
    model.poetry = view
    pyproject = _nearest(ctx, "pyproject.toml")
    if pyproject is not None:
        doc = _toml_source(ctx, model, sources, pyproject, "pyproject.toml", "pyproject")
        data = doc.data if doc is not None else None
        if data is not None and isinstance(tomlconf.get(data, "tool", "poetry"), dict):
            view.active = True
            view.project = pyproject
            entries = tomlconf.get(data, "tool", "poetry", "source")
            assert doc is not None
            heads = tomlconf.header_positions(doc.text, "tool.poetry.source", array=True)
            if isinstance(entries, list):
                for i, entry in enumerate(entries):
                    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                        continue
                    lo = heads[i] if i < len(heads) else 0
                    hi = tomlconf.next_header(doc.text, lo) if i < len(heads) else None
                    name = entry.get("name") if isinstance(entry.get("name"), str) else None
                    priority = entry.get("priority")
                    if not isinstance(priority, str):
                        priority = ("default" if entry.get("default") is True else
                                    "supplemental" if entry.get("secondary") is True else "primary")
                    ref = _toml_ref(ctx, "poetry", "poetry-source", entry["url"],
                                    f"pip:toml:{pyproject}", pyproject, doc.text, lo, hi,
                                    f"[[tool.poetry.source]] {name or i + 1}",
                                    name=name, priority=priority.lower(),
                                    explicit=priority.lower() == "explicit")
                    view.sources.append(ref)
                    model.refs.append(ref)
    if os.path.exists(os.path.join(ctx.project, "poetry.lock")):
        view.active = True
    # Configuration: config.toml, auth.toml, then the project's poetry.toml.
    files = [os.path.join(view.config_dir, "config.toml"), os.path.join(view.config_dir, "auth.toml")]
    local = os.path.join(os.path.dirname(view.project), "poetry.toml") if view.project else None
    if local:
        files.append(local)
    merged: dict[str, tuple[dict[str, object], str, tomlconf.TomlDoc]] = {}
    for path in files:
        desc = "Poetry " + os.path.basename(path)
        doc = _toml_source(ctx, model, sources, path, desc, "poetry")
        if doc is None or doc.data is None:
            continue
        basic = doc.data.get("http-basic")
        if isinstance(basic, dict):
            for name, table in basic.items():
                if isinstance(table, dict):
                    merged[name] = (table, path, doc)
    env = _env(ctx)
    env_names: dict[str, dict[str, str]] = {}
    for var, value in env.items():
        m = re.fullmatch(r"POETRY_HTTP_BASIC_(.+)_(USERNAME|PASSWORD)", var)
        if m:
            env_names.setdefault(m.group(1), {})[m.group(2).lower()] = value
    if env_names:
        sources.append(Source(id="pip:env:POETRY", ecosystem=ECO, kind="env",
                              description="POETRY_HTTP_BASIC_* environment variables", path=None,
                              payload=EnvSource("poetry-env")))
    for name, (table, path, doc) in merged.items():
        envk = poetry_env_name(name)
        overrides = env_names.get(envk, {})
        user = table.get("username")
        pw = table.get("password")
        # Poetry's Config.get: a table found in a file is re-read key by key,
        # each key overridable by its POETRY_HTTP_BASIC_<NAME>_<KEY> variable.
        if "username" in overrides and "username" in table:
            user = overrides["username"]
        if "password" in overrides and "password" in table:
            pw = overrides["password"]
        lo = (tomlconf.header_positions(doc.text, f"http-basic.{name}", array=False) or [0])[0]
        hi = tomlconf.next_header(doc.text, lo)
        span = (tomlconf.find_string(doc.text, pw, lo, hi) if isinstance(pw, str) else None)
        view.auth[name] = PoetryAuth(
            name=name,
            username=user if isinstance(user, str) else None,
            password=pw if isinstance(pw, str) else None,
            location=Location(path, ini.line_of(doc.text, lo), None, key=f"[http-basic.{name}]"),
            password_line=ini.line_of(doc.text, span[0]) if span else None,
            keyring=not isinstance(pw, str),
            source_id=f"pip:toml:{path}",
            password_span=(path, span[0], span[1]) if span else None,
        )
    for envk, parts in env_names.items():
        name = next((n for n in [s.name for s in view.sources if s.name] if poetry_env_name(n) == envk),
                    envk.lower().replace("_", "-"))
        if name in view.auth:
            continue
        view.auth[name] = PoetryAuth(
            name=name, username=parts.get("username"), password=parts.get("password"),
            location=Location(None, None, None, key=f"$POETRY_HTTP_BASIC_{envk}_*"),
            from_env=True, source_id="pip:env:POETRY",
        )
    if merged or env_names:
        view.active = True


def poetry_env_name(name: str) -> str:
    """Poetry's environment key for a repository name (``Config.get``)."""
    return name.upper().replace("-", "_")
