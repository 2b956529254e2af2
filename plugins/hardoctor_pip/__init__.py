"""pip, uv and Poetry: pip.conf, netrc, index URLs and their credentials.

Sources (see :mod:`.config`): pip's configuration files in pip's order,
``PIP_*`` variables, ``~/.netrc`` (or ``$NETRC``), ``requirements*.txt``
index options in the project, uv's ``uv.toml`` / ``[tool.uv]`` /
``UV_*`` variables, and Poetry's ``[[tool.poetry.source]]``,
``auth.toml``/``config.toml``/``poetry.toml`` and
``POETRY_HTTP_BASIC_*``.  Everything is read once in
``hardoctor_discover``; the parsed model rides in ``ctx.cache``.

The keyring is never read unless ``--keyring`` is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TC

if _TC:
    from hardoctor.model import Ecosystem

import argparse
import re
import shutil
from collections.abc import Callable, Sequence
from typing import Any

from hardoctor import hookimpl
from hardoctor.context import Context
from hardoctor.model import (
    Applicability,
    Credential,
    Edit,
    Finding,
    Fix,
    Location,
    ProbeResult,
    Remediation,
    Resolution,
    Rotation,
    Rule,
    Secret,
    Source,
    Target,
)

from . import config, creds, keyringcli, lint, resolve, urls
from .model import CACHE, ECO, Model
from .rules import RULES

CREDS = "pip.creds"
LOCS = "pip.reslocs"
_PREFIX = re.compile(r"^(pip|pypi|python|uv|poetry):(.+)$", re.I)


def _model(ctx: Context) -> Model | None:
    found = ctx.cache.get(CACHE)
    return found if isinstance(found, Model) else None


def _creds(ctx: Context) -> creds.Creds | None:
    found = ctx.cache.get(CREDS)
    return found if isinstance(found, creds.Creds) else None


@hookimpl
def hardoctor_addoption(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keyring", dest=keyringcli.OPTION, action="store_true",
        help="pip: ask the keyring (`keyring get URL USER`) the way pip would; off by default",
    )


@hookimpl
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    for rule in RULES:
        register(rule)


@hookimpl
def hardoctor_discover(ctx: Context) -> Sequence[Source] | None:
    if not ctx.wants_ecosystem(ECO):
        ctx.cache.pop(CACHE, None)
        return None
    model, sources = config.build(ctx)
    ctx.cache[CACHE] = model
    ctx.cache[CREDS] = creds.build(ctx, model)
    return sources


@hookimpl
def hardoctor_credentials(source: Source, ctx: Context) -> Sequence[Credential] | None:
    found = _creds(ctx)
    if source.ecosystem != ECO or found is None:
        return None
    return [c for c in found.all if c.source == source.id]


@hookimpl
def hardoctor_lint(source: Source, ctx: Context) -> Sequence[Finding] | None:
    model, found = _model(ctx), _creds(ctx)
    if source.ecosystem != ECO or model is None or found is None:
        return None
    return lint.Linter(ctx, model, found).run(source)


@hookimpl
def hardoctor_parse_target(value: str, ctx: Context) -> Target | None:
    m = _PREFIX.match(value.strip())
    if not m:
        return None
    name = m.group(2).strip()
    name = re.split(r"[<>=!~;\[ @]", name, maxsplit=1)[0]
    if not name or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        return None
    model = _model(ctx)
    first = None
    if model is not None:
        indexes = resolve.pip_indexes(model)
        first = indexes[0] if indexes else None
    url = first.url if first is not None and first.url is not None else urls.parse_index_url(
        urls.DEFAULT_INDEX)
    assert url is not None
    return Target(raw=value, kind="package", host=url.host, ecosystem=ECO, name=name,
                  url=url.bare)


@hookimpl
def hardoctor_targets(ctx: Context, credentials: Sequence[Credential]) -> Sequence[Target] | None:
    model = _model(ctx)
    if model is None or not ctx.wants_ecosystem(ECO):
        return None
    return resolve.targets(model)


@hookimpl
def hardoctor_resolve(target: Target, credentials: Sequence[Credential], ctx: Context) -> Sequence[Resolution] | None:
    model, found = _model(ctx), _creds(ctx)
    if model is None or found is None or not ctx.wants_ecosystem(ECO):
        return None
    if target.ecosystem not in (None, ECO) and target.kind != "registry":
        return None
    out = resolve.resolve(ctx, target, model, found)
    locs: dict[tuple[str, str], Location] = ctx.cache.setdefault(LOCS, {})
    per_client = resolve.client_indexes(model)
    for res in out:
        for ref in per_client.get(res.client, []):
            key = (res.client, res.target.url or "")
            if ref.bare == res.target.url and key not in locs:
                locs[key] = ref.location
    return out


@hookimpl
def hardoctor_rotate(credential: Credential, new_secret: Secret, ctx: Context) -> Rotation | None:
    model, found = _model(ctx), _creds(ctx)
    if credential.ecosystem != ECO or model is None or found is None:
        return None
    from .rotate import rotate

    return rotate(ctx, model, found, credential, new_secret)


@hookimpl
def hardoctor_probe(resolution: Resolution, ctx: Context) -> Any:
    model, found = _model(ctx), _creds(ctx)
    if resolution.ecosystem != ECO or model is None or found is None:
        return None
    from . import probe

    return probe.plan(ctx, model, found, resolution)


@hookimpl
def hardoctor_diagnose(resolution: Resolution, results: Sequence[ProbeResult], ctx: Context) -> Sequence[Finding] | None:
    model = _model(ctx)
    if resolution.ecosystem != ECO or model is None:
        return None
    loc = ctx.cache.get(LOCS, {}).get((resolution.client, resolution.target.url or ""))
    out: list[Finding] = []
    if results:
        from . import probe

        out += probe.diagnose(ctx, model, resolution, results, loc)
    elif resolution.credential is None:
        out += _offline_no_credentials(ctx, model, resolution, loc)
    if resolution.credential is None and resolution.client.startswith("pip"):
        out += _keyring_note(ctx, model, resolution, results, loc)
    return out


def _offline_no_credentials(ctx: Context, model: Model, res: Resolution, loc: Location | None) -> list[Finding]:
    if not lint.is_har(ctx, res.target.host):
        return []
    if any(s.outcome == "failed" for s in res.chain):
        return []  # the lint finding about the broken file says it better
    from .probe import _store_remediation

    return [ctx.finding(
        "PIP054",
        f"{res.client} has no credentials for the HAR index {urls.display(res.target.url or res.registry)}.",
        ecosystem=ECO, registry=res.target.host, location=loc,
        why="HAR answers 401 to anonymous requests; pip shows `No matching distribution found`.",
        evidence=tuple(f"{s.description}: {s.reason}" for s in res.chain if s.reason),
        remediation=_store_remediation(res, True),
    )]


def _keyring_note(ctx: Context, model: Model, res: Resolution, results: Sequence[ProbeResult],
                  loc: Location | None) -> list[Finding]:
    installed = shutil.which("keyring", path=ctx.getenv("PATH")) is not None
    provider = model.pip.keyring_provider
    if not installed and provider in ("auto", "disabled"):
        return []
    needs = lint.is_har(ctx, res.target.host) or any(r.status in (401, 403) for r in results)
    if not needs:
        return []
    index = urls.display(res.target.url or res.registry)
    if model.pip.no_input and provider in ("auto", "disabled"):
        msg = (f"pip will not ask the keyring for {index}: --no-input "
               "(PIP_NO_INPUT) turns the default keyring lookup off.")
    elif provider == "disabled":
        msg = f"keyring-provider is disabled: pip will not ask the keyring for {index}."
    else:
        msg = (f"pip will ask the keyring for {index} only after a 401, and "
               "only interactively (not with --no-input, as in CI).")
    return [ctx.finding(
        "PIP040", msg, ecosystem=ECO, registry=res.target.host, location=loc,
        why="A token kept only in the keyring works on a laptop and fails in CI.",
        remediation=Remediation(
            "For non-interactive runs use ~/.netrc, or the subprocess provider with a username "
            "in the URL.",
            commands=("pip config set global.keyring-provider subprocess",
                      f"keyring set {index} USER"),
            docs=(lint.KEYRING_DOC,)),
    )]


# -- fixes for the harness plugin's URL findings ---------------------------------------

_HAR_URL_RULES = frozenset({"HAR201", "HAR202", "HAR203", "HAR204"})


@hookimpl
def hardoctor_fix(finding: Finding, ctx: Context) -> Fix | None:
    """The HAR plugin knows what is wrong with a HAR URL; this plugin knows
    where the URL sits in pip/uv/Poetry files, so it offers the edit."""
    model = _model(ctx)
    if model is None or finding.rule not in _HAR_URL_RULES or finding.ecosystem != ECO:
        return None
    for ref in model.refs:
        at_loc = finding.location is not None and finding.location.path == ref.path and \
            finding.location.line == ref.line
        if at_loc or (ref.url is not None and ref.bare in finding.message):
            fix = har_path_fix(model, ref, finding.rule)
            if fix is not None:
                return fix
    return None


def har_path_fix(model: Model, ref: Any, code: str | None = None) -> Fix | None:
    """The edit that gives ``ref``'s URL the path the HAR plugin suggests
    (for rule ``code``, or the first suggestion it has)."""
    try:
        from hardoctor_harness import parse_har_url, url_issues
    except ImportError:  # pragma: no cover
        return None
    from urllib.parse import urlsplit

    from hardoctor import fixes

    if ref.url is None or ref.start is None or ref.end is None or ref.path is None:
        return None
    har = parse_har_url(ref.bare, oci=False)
    if har is None:
        return None
    issue = next((i for i in url_issues(har, "pip")
                  if i.suggestion and (code is None or i.code == code)), None)
    if issue is None or issue.suggestion is None:
        return None
    text = model.texts.get(ref.source)
    written = ref.written if ref.written is not None else ref.raw
    if text is None or text[ref.start:ref.end] != written:
        return None
    new_path = urlsplit(issue.suggestion).path
    start = lint._netloc_end(written, written.index("://") + 3)
    end = lint._path_end(written)
    return Fix(f"use the HAR path {new_path}", Applicability.SAFE,
               (Edit(ref.path, ref.start + start, ref.start + end, new_path, fixes.digest(text)),))


@hookimpl
def hardoctor_transport_advice(
    outcome: str, kind: str, host: str, ecosystems: Sequence[str]
) -> Remediation | None:
    from .advice import transport_advice

    return transport_advice(outcome, kind, ecosystems)


@hookimpl
def hardoctor_ecosystems() -> Sequence[Ecosystem]:
    from hardoctor.model import Ecosystem

    return (Ecosystem("pip", ("pip:NAME",)),)
