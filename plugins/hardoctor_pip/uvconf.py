"""What uv reads: ``UV_CONFIG_FILE`` or the project's ``uv.toml`` /
``[tool.uv]``, the user's and the system's ``uv.toml``, and ``UV_*``
variables (``UV_INDEX``, ``UV_DEFAULT_INDEX``, ``UV_INDEX_<NAME>_*``)."""

from __future__ import annotations

import os
import re

from hardoctor.context import Context
from hardoctor.files import read_file
from hardoctor.model import Source

from . import tomlconf
from .model import ECO, EnvSource, IndexRef, Model, UvView
from .sources import (
    ETC_ENV,
    env,
    index_ref,
    toml_ref,
    toml_source,
    walk_up,
    xdg_config_dirs,
)


def uv_project_config(ctx: Context) -> tuple[str, str] | None:
    """(path, kind) of the project-level uv configuration: the nearest
    ``uv.toml``, or ``pyproject.toml`` with a ``[tool.uv]`` table."""
    for folder in walk_up(ctx.project, ctx.home):
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
    from .locations import uv_user_dir

    out.append((os.path.join(uv_user_dir(ctx), "uv.toml"), "uv"))
    # System level: the first of $XDG_CONFIG_DIRS/uv/uv.toml, /etc/uv/uv.toml
    # (the latter not while tests replace /etc with HARDOCTOR_PIP_ETC_CONFIG).
    system = [os.path.join(d, "uv", "uv.toml") for d in xdg_config_dirs(ctx)]
    if ctx.getenv(ETC_ENV) is None:
        system.append("/etc/uv/uv.toml")
    found = next((p for p in system if os.path.isfile(p)), None)
    if found:
        out.append((found, "uv"))
    return out


class _Found:
    """What uv's files and variables configure, before uv's order is applied."""

    def __init__(self) -> None:
        self.from_env: list[IndexRef] = []
        self.config_indexes: list[IndexRef] = []
        self.extras: list[IndexRef] = []
        self.default: IndexRef | None = None
        self.index_url: IndexRef | None = None


def read(ctx: Context, model: Model, sources: list[Source]) -> None:
    view = UvView()
    model.uv = view
    found = _Found()
    for path, kind in _uv_files(ctx):
        _read_file(ctx, model, sources, path, kind, found)
    if _read_env(ctx, model, found):
        view.active = True
        sources.append(Source(id="pip:env:UV", ecosystem=ECO, kind="env",
                              description="UV_* environment variables", path=None,
                              payload=EnvSource("uv-env")))
    default = found.default
    if default is None:
        default = next((r for r in found.config_indexes if r.default), None) or found.index_url
    view.indexes = [r for r in found.from_env + found.config_indexes if not r.default] + \
        found.extras
    view.default = default
    model.refs.extend(found.from_env + found.config_indexes + found.extras
                      + ([found.index_url] if found.index_url else []))
    if default is not None and default not in model.refs:
        model.refs.append(default)
    if not view.active and (os.path.exists(os.path.join(ctx.project, "uv.lock"))):
        view.active = True


def _read_file(ctx: Context, model: Model, sources: list[Source], path: str, kind: str,
               found: _Found) -> None:
    view = model.uv
    desc = "uv configuration" if kind == "uv" else "pyproject.toml"
    doc = toml_source(ctx, model, sources, path, desc, kind)
    if doc is None:
        return
    view.files.append((path, doc, kind))
    view.active = True
    if doc.data is None:
        return
    base = doc.data if kind == "uv" else tomlconf.get(doc.data, "tool", "uv")
    if not isinstance(base, dict):
        return
    view.config_path = view.config_path or path
    prefix = "" if kind == "uv" else "tool.uv."
    table = tomlconf.header_positions(doc.text, "tool.uv", array=False) if prefix else []
    after = table[0] if table else 0
    _indexes(ctx, base, path, doc.text, prefix, after, found)
    sid = f"pip:toml:{path}"
    if found.index_url is None and isinstance(base.get("index-url"), str):
        found.index_url = toml_ref(ctx, "uv", "index-url", base["index-url"], sid, path,
                                   doc.text, after, None, f"{prefix}index-url")
    extra = base.get("extra-index-url")
    for value in extra if isinstance(extra, list) else []:
        if isinstance(value, str):
            found.extras.append(toml_ref(ctx, "uv", "extra-index-url", value, sid, path,
                                         doc.text, after, None, f"{prefix}extra-index-url"))
    if isinstance(base.get("keyring-provider"), str) and view.keyring_provider == "disabled":
        view.keyring_provider = base["keyring-provider"]
    if isinstance(base.get("index-strategy"), str) and view.index_strategy == "first-index":
        view.index_strategy = base["index-strategy"]


def _indexes(ctx: Context, base: dict[str, object], path: str, text: str, prefix: str,
             after: int, found: _Found) -> None:
    """``[[index]]`` (``[[tool.uv.index]]``) tables, in file order."""
    entries = base.get("index")
    if not isinstance(entries, list):
        return
    heads = tomlconf.header_positions(text, prefix + "index", array=True)
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            continue
        lo = heads[i] if i < len(heads) else after
        hi = tomlconf.next_header(text, lo) if i < len(heads) else None
        name = entry.get("name")
        found.config_indexes.append(toml_ref(
            ctx, "uv", "uv-index", entry["url"], f"pip:toml:{path}", path, text, lo, hi,
            f"[[{prefix}index]] {name or i + 1}",
            name=name if isinstance(name, str) else None,
            default=entry.get("default") is True, explicit=entry.get("explicit") is True))


def _read_env(ctx: Context, model: Model, found: _Found) -> bool:
    """``UV_*`` index variables; True when any is set."""
    environ = env(ctx)
    view = model.uv
    seen = False
    for item in (environ.get("UV_INDEX") or "").split():
        name, url = _uv_named(item)
        found.from_env.append(index_ref("uv", "uv-index", url, "pip:env:UV", None, None,
                                        "$UV_INDEX", name=name, env="UV_INDEX"))
        seen = True
    for item in (environ.get("UV_EXTRA_INDEX_URL") or "").split():
        found.extras.insert(0, index_ref("uv", "extra-index-url", item, "pip:env:UV", None, None,
                                         "$UV_EXTRA_INDEX_URL", env="UV_EXTRA_INDEX_URL"))
        seen = True
    for var in ("UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        value = (environ.get(var) or "").strip()
        if value and found.default is None:
            name, url = _uv_named(value) if var == "UV_DEFAULT_INDEX" else (None, value)
            found.default = index_ref("uv", "uv-default", url, "pip:env:UV", None, None,
                                      f"${var}", name=name, env=var, default=True)
            seen = True
    if (environ.get("UV_KEYRING_PROVIDER") or "").strip():
        view.keyring_provider = environ["UV_KEYRING_PROVIDER"].strip()
    if (environ.get("UV_INDEX_STRATEGY") or "").strip():
        view.index_strategy = environ["UV_INDEX_STRATEGY"].strip()
    for var, value in environ.items():
        m = re.fullmatch(r"UV_INDEX_(.+)_(USERNAME|PASSWORD)", var)
        if m and value and m.group(1) not in ("URL",):
            user, pw = model.uv_env_names.get(m.group(1), (None, None))
            model.uv_env_names[m.group(1)] = (value, pw) if m.group(2) == "USERNAME" \
                else (user, value)
            seen = True
    return seen


def uv_env_name(name: str) -> str:
    """uv's ``IndexName::to_env_var``: upper-case, every other character ``_``."""
    return "".join(c.upper() if c.isascii() and c.isalnum() else "_" for c in name)


def _uv_named(item: str) -> tuple[str | None, str]:
    if "=" in item:
        name, url = item.split("=", 1)
        if name and ":" not in name:
            return name, url
    return None, item
