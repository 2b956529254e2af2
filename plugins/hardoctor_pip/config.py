"""Finding and reading everything pip, uv and Poetry read, in their order
(uv in :mod:`.uvconf`, Poetry in :mod:`.poetryconf`).

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
from dataclasses import replace

from hardoctor.context import Context
from hardoctor.model import Source

from . import ini, netrcfile, poetryconf, requirements, urls, uvconf
from .model import (
    ECO,
    EnvSource,
    IndexRef,
    Model,
    NetrcView,
    PipFile,
    PipView,
    ReqFile,
    Setting,
)
from .poetryconf import poetry_env_name
from .sources import env, file_source, index_ref
from .uvconf import uv_env_name

#: pip.conf options the plugin follows.
TRACKED = ("index-url", "extra-index-url", "trusted-host", "no-index", "no-input",
           "keyring-provider", "cert", "client-cert")
#: The command modelled: ``pip install`` reads ``[global]`` and ``[install]``.
COMMAND = "install"
SECTION_RANK = {"global": 0, COMMAND: 1}
ENV_RANK = 2
DEVNULL = os.devnull


def pip_file_paths(ctx: Context) -> list[tuple[str, str]]:
    """(variant, path) in pip's load order, on the run's platform."""
    from .locations import pip_file_paths as on_platform

    return on_platform(ctx)


_DESCRIPTIONS = {
    "global": "pip configuration (global)",
    "user": "pip configuration (user)",
    "site": "pip configuration (virtualenv site)",
    "env": "pip configuration (PIP_CONFIG_FILE)",
}


def _normalize(name: str) -> str:
    name = name.lower().replace("_", "-")
    return name[2:] if name.startswith("--") else name


def build(ctx: Context) -> tuple[Model, list[Source]]:
    model = Model()
    sources: list[Source] = []
    _pip(ctx, model, sources)
    _netrc(ctx, model, sources)
    _requirements(ctx, model, sources)
    uvconf.read(ctx, model, sources)
    poetryconf.read(ctx, model, sources)
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
        src, text = file_source(ctx, pf.source_id, path, _DESCRIPTIONS[variant])
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
            out.append(index_ref("pip", name, text, pf.source_id, pf.path, line, key, start, end,
                            section=section))
        else:
            out.append(index_ref("pip", name, opt.value, pf.source_id, pf.path, opt.line, key,
                            section=section))
        return out
    for text, line, start, _end in opt.pieces():
        for m in re.finditer(r"\S+", text):
            out.append(index_ref("pip", name, m.group(0), pf.source_id, pf.path, line, key,
                            start + m.start(), start + m.end(), section=section))
    return out


def _pip_env(ctx: Context, model: Model, sources: list[Source]) -> None:
    view = model.pip
    found = False
    for var, value in sorted(env(ctx).items()):
        if not var.startswith("PIP_") or not value:
            continue
        name = _normalize(var[4:])
        if name not in TRACKED:
            continue
        found = True
        setting = Setting(name=name, value=value, rank=(ENV_RANK, 0, 0), path=None, line=None,
                          key=f"${var}", source="pip:env:PIP")
        if name == "index-url":
            setting.refs = (index_ref("pip", name, value.strip(), "pip:env:PIP", None, None, f"${var}",
                                 env=var),)
        elif name == "extra-index-url":
            setting.refs = tuple(index_ref("pip", name, v, "pip:env:PIP", None, None, f"${var}", env=var)
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
    src, text = file_source(ctx, sid, path, "netrc (pip, uv, Poetry, curl)")
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
        src, text = file_source(ctx, sid, path, "requirements file (pip install -r)")
        if src is None:
            continue
        rel = os.path.relpath(path, ctx.project)
        doc = requirements.parse(text or "", env(ctx))
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




__all__ = ["build", "netrc_path", "pip_file_paths", "poetry_env_name", "uv_env_name"]
