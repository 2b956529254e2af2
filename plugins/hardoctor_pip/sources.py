"""Reading one configuration source: files, TOML documents, index URL
references and the directories pip, uv and Poetry look in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from hardoctor.context import Context
from hardoctor.files import read_file
from hardoctor.model import Source

from . import ini, tomlconf, urls
from .model import ECO, IndexRef, Model, TomlSource

#: Replaces /etc/pip.conf (and keeps /etc/uv away) in tests; empty: none.
ETC_ENV = "HARDOCTOR_PIP_ETC_CONFIG"
MAX_WALK = 30


def env(ctx: Context) -> Mapping[str, str]:
    return ctx.env.environ


def xdg_config_home(ctx: Context) -> str:
    value = ctx.getenv("XDG_CONFIG_HOME") or ""
    return value if value.strip() else os.path.join(ctx.home, ".config")


def xdg_config_dirs(ctx: Context) -> list[str]:
    value = ctx.getenv("XDG_CONFIG_DIRS") or ""
    dirs = [ctx.env.expand_home(d) for d in value.split(os.pathsep) if d] if value.strip() else []
    return dirs or ["/etc/xdg"]


def file_source(ctx: Context, sid: str, path: str, description: str) -> tuple[Source | None, str | None]:
    """(source, text) of a file; (None, None) when it does not exist."""
    data = read_file(ctx, path)
    if data is None:
        return None, None
    if data.text is None:
        return Source(id=sid, ecosystem=ECO, kind="file", description=description, path=path,
                      error=data.error or "unreadable"), None
    return Source(id=sid, ecosystem=ECO, kind="file", description=description, path=path,
                  text=data.text, mtime=data.mtime, mode=data.mode), data.text


def index_ref(client: str, role: str, raw: str, source: str, path: str | None, line: int | None,
         key: str, start: int | None = None, end: int | None = None, **kw: object) -> IndexRef:
    return IndexRef(client=client, role=role, raw=raw, url=urls.parse_index_url(raw),
                    source=source, path=path, line=line, key=key, start=start, end=end,
                    **kw)  # type: ignore[arg-type]


def walk_up(start: str, home: str) -> list[str]:
    out = []
    cur = os.path.abspath(start)
    for _ in range(MAX_WALK):
        out.append(cur)
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
    return out


def toml_source(ctx: Context, model: Model, sources: list[Source], path: str, description: str,
                 payload_kind: str) -> tomlconf.TomlDoc | None:
    sid = f"pip:toml:{path}"
    existing = next((s for s in sources if s.id == sid), None)
    if existing is not None:
        known = model.texts.get(sid)
        return tomlconf.load(known) if known is not None else None
    src, text = file_source(ctx, sid, path, description)
    if src is None:
        return None
    doc = tomlconf.load(text) if text is not None else None
    if text is not None:
        model.texts[sid] = text
    sources.append(replace(src, payload=TomlSource(payload_kind, doc)))
    return doc


def toml_ref(ctx: Context, client: str, role: str, value: str, sid: str, path: str, text: str,
              lo: int, hi: int | None, key: str, **kw: object) -> IndexRef:
    span = tomlconf.find_string(text, value, lo, hi) or tomlconf.find_string(text, value)
    line = ini.line_of(text, span[0]) if span else (ini.line_of(text, lo) if lo else None)
    return index_ref(client, role, value, sid, path, line, key,
                span[0] if span else None, span[1] if span else None, **kw)
