"""What Poetry reads: ``[[tool.poetry.source]]`` of the nearest
pyproject.toml, ``http-basic.NAME`` of config.toml, auth.toml and the
project's poetry.toml, and ``POETRY_HTTP_BASIC_<NAME>_*`` variables."""

from __future__ import annotations

import os
import re

from hardoctor.context import Context
from hardoctor.model import Location, Source

from . import ini, tomlconf
from .model import ECO, EnvSource, Model, PoetryAuth, PoetryView
from .sources import env, toml_ref, toml_source, walk_up


def poetry_config_dir(ctx: Context) -> str:
    explicit = ctx.getenv("POETRY_CONFIG_DIR")
    if explicit:
        return ctx.env.expand_home(explicit)
    from .locations import poetry_config_dir as platform_dir

    return platform_dir(ctx)


def _nearest(ctx: Context, name: str) -> str | None:
    for folder in walk_up(ctx.project, ctx.home):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def read(ctx: Context, model: Model, sources: list[Source]) -> None:
    view = PoetryView(config_dir=poetry_config_dir(ctx))
    model.poetry = view
    _project_sources(ctx, model, sources)
    if os.path.exists(os.path.join(ctx.project, "poetry.lock")):
        view.active = True
    merged = _http_basic(ctx, model, sources)
    env_names = _env_names(ctx)
    if env_names:
        sources.append(Source(id="pip:env:POETRY", ecosystem=ECO, kind="env",
                              description="POETRY_HTTP_BASIC_* environment variables", path=None,
                              payload=EnvSource("poetry-env")))
    for name, (table, path, doc) in merged.items():
        view.auth[name] = _file_auth(name, table, path, doc,
                                     env_names.get(poetry_env_name(name), {}))
    for envk, parts in env_names.items():
        name = next((n for n in [s.name for s in view.sources if s.name]
                     if poetry_env_name(n) == envk), envk.lower().replace("_", "-"))
        if name in view.auth:
            continue
        view.auth[name] = PoetryAuth(
            name=name, username=parts.get("username"), password=parts.get("password"),
            location=Location(None, None, None, key=f"$POETRY_HTTP_BASIC_{envk}_*"),
            from_env=True, source_id="pip:env:POETRY",
        )
    if merged or env_names:
        view.active = True


def _project_sources(ctx: Context, model: Model, sources: list[Source]) -> None:
    """``[[tool.poetry.source]]`` of the nearest pyproject.toml."""
    view = model.poetry
    pyproject = _nearest(ctx, "pyproject.toml")
    if pyproject is None:
        return
    doc = toml_source(ctx, model, sources, pyproject, "pyproject.toml", "pyproject")
    data = doc.data if doc is not None else None
    if doc is None or data is None or not isinstance(tomlconf.get(data, "tool", "poetry"), dict):
        return
    view.active = True
    view.project = pyproject
    entries = tomlconf.get(data, "tool", "poetry", "source")
    heads = tomlconf.header_positions(doc.text, "tool.poetry.source", array=True)
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            continue
        lo = heads[i] if i < len(heads) else 0
        hi = tomlconf.next_header(doc.text, lo) if i < len(heads) else None
        name = entry.get("name") if isinstance(entry.get("name"), str) else None
        priority = entry.get("priority")
        if not isinstance(priority, str):
            priority = ("default" if entry.get("default") is True else
                        "supplemental" if entry.get("secondary") is True else "primary")
        ref = toml_ref(ctx, "poetry", "poetry-source", entry["url"],
                       f"pip:toml:{pyproject}", pyproject, doc.text, lo, hi,
                       f"[[tool.poetry.source]] {name or i + 1}",
                       name=name, priority=priority.lower(),
                       explicit=priority.lower() == "explicit")
        view.sources.append(ref)
        model.refs.append(ref)


_Table = tuple[dict[str, object], str, tomlconf.TomlDoc]


def _http_basic(ctx: Context, model: Model, sources: list[Source]) -> dict[str, _Table]:
    """``http-basic.NAME`` tables of config.toml, auth.toml, then the
    project's poetry.toml (a later file wins)."""
    view = model.poetry
    files = [os.path.join(view.config_dir, "config.toml"),
             os.path.join(view.config_dir, "auth.toml")]
    if view.project:
        files.append(os.path.join(os.path.dirname(view.project), "poetry.toml"))
    merged: dict[str, _Table] = {}
    for path in files:
        desc = "Poetry " + os.path.basename(path)
        doc = toml_source(ctx, model, sources, path, desc, "poetry")
        if doc is None or doc.data is None:
            continue
        basic = doc.data.get("http-basic")
        if isinstance(basic, dict):
            for name, table in basic.items():
                if isinstance(table, dict):
                    merged[name] = (table, path, doc)
    return merged


def _env_names(ctx: Context) -> dict[str, dict[str, str]]:
    """``POETRY_HTTP_BASIC_<NAME>_USERNAME/PASSWORD``: NAME -> key -> value."""
    out: dict[str, dict[str, str]] = {}
    for var, value in env(ctx).items():
        m = re.fullmatch(r"POETRY_HTTP_BASIC_(.+)_(USERNAME|PASSWORD)", var)
        if m:
            out.setdefault(m.group(1), {})[m.group(2).lower()] = value
    return out


def _file_auth(name: str, table: dict[str, object], path: str, doc: tomlconf.TomlDoc,
               overrides: dict[str, str]) -> PoetryAuth:
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
    return PoetryAuth(
        name=name,
        username=user if isinstance(user, str) else None,
        password=pw if isinstance(pw, str) else None,
        location=Location(path, ini.line_of(doc.text, lo), None, key=f"[http-basic.{name}]"),
        password_line=ini.line_of(doc.text, span[0]) if span else None,
        keyring=not isinstance(pw, str),
        source_id=f"pip:toml:{path}",
        password_span=(path, span[0], span[1]) if span else None,
    )


def poetry_env_name(name: str) -> str:
    """Poetry's environment key for a repository name (``Config.get``)."""
    return name.upper().replace("-", "_")
