"""pip, uv and Poetry: pip.conf, netrc, index URLs and their credentials.

Sources (see :mod:`.config`): pip's configuration files in pip's order,
``PIP_*`` variables, ``~/.netrc`` (or ``$NETRC``), ``requirements*.txt``
index options in the project, uv's ``uv.toml`` / ``[tool.uv]`` /
``UV_*`` variables, and Poetry's ``[[tool.poetry.source]]``,
``auth.toml``/``config.toml``/``poetry.toml`` and
``POETRY_HTTP_BASIC_*``.  Everything is read once per pass in
``hardoctor_discover``; the parsed model rides in ``ctx.stash``
(:mod:`.state`).  The modules, in the shape every client plugin has:

* :mod:`.config` (with :mod:`.ini`, :mod:`.netrcfile`, :mod:`.requirements`,
  :mod:`.tomlconf`, :mod:`.urls`) -- the files and what each client reads;
* :mod:`.creds`, :mod:`.resolve` -- what each client sends, and why;
* :mod:`.lint`, :mod:`.probe`, :mod:`.diagnose` -- findings and probes;
* :mod:`.vendor` -- what a registry's vendor says about an index URL;
* :mod:`.rules`, :mod:`.rotate`, :mod:`.state`.

The keyring is never read unless ``--keyring`` is given.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from hardoctor import hookimpl, lazyre
from hardoctor.context import Context
from hardoctor.lazy import submodules
from hardoctor.model import (
    Credential,
    Ecosystem,
    Finding,
    Fix,
    ProbeResult,
    Remediation,
    Resolution,
    Rotation,
    Rule,
    Secret,
    SetupPlan,
    SetupRequest,
    Source,
    Target,
)
from hardoctor.tokencheck import reported_by_owner

from .rules import CLIENT, ECO, KEYRING_OPTION, RULES

if TYPE_CHECKING:
    from . import (
        committed,
        config,
        creds,
        diagnose,
        inuse,
        keyringcli,
        lint,
        resolve,
        state,
        twine,
        twineconf,
        urls,
        vendor,
    )
else:  # imported when a hook first needs them (docs/ARCHITECTURE.md, start-up)
    (committed, config, creds, diagnose, inuse, keyringcli, lint, resolve, state, twine,
     twineconf, urls, vendor) = submodules(
        __name__, "committed", "config", "creds", "diagnose", "inuse", "keyringcli", "lint",
        "resolve", "state", "twine", "twineconf", "urls", "vendor")

if TYPE_CHECKING:
    from hardoctor.probe import ProbePlan

_PREFIX = lazyre.compile(r"^(pip|pypi|python|uv|poetry):(.+)$", re.I)
# pip expands ${VAR} in requirements files (via "--index-url userinfo"...): an
# unset one is PIP015 (env-unset), not the core's literal-placeholder TOK002.
reported_by_owner("pip", "--", ("env-literal",))


@hookimpl
def hardoctor_addoption(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keyring", dest=KEYRING_OPTION, action="store_true",
        help="pip: ask the keyring (`keyring get URL USER`) the way pip would; off by default",
    )


@hookimpl
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    for rule in RULES:
        register(rule)


@hookimpl
def hardoctor_discover(ctx: Context) -> Sequence[Source] | None:
    if not ctx.wants_ecosystem(ECO):
        state.forget(ctx)
        return None
    model, sources = config.build(ctx)
    ctx.stash[state.MODEL] = model
    ctx.stash[state.CREDS] = creds.build(ctx, model)
    ctx.stash[state.CREDS].all.extend(twineconf.read(ctx, sources).creds)  # the upload client
    return sources + committed.discover(ctx, sources)


@hookimpl
def hardoctor_credentials(source: Source, ctx: Context) -> Sequence[Credential] | None:
    found = state.creds(ctx)
    if source.ecosystem != ECO or found is None:
        return None
    return [c for c in found.all if c.source == source.id]


@hookimpl
def hardoctor_lint(source: Source, ctx: Context) -> Sequence[Finding] | None:
    model, found = state.model(ctx), state.creds(ctx)
    if source.ecosystem != ECO or model is None or found is None:
        return None
    if isinstance(source.payload, committed.Committed):
        return committed.lint(ctx, source, source.payload)
    if isinstance(source.payload, twineconf.PypircPayload):
        tw = twine.view(ctx)
        return twine.lint(ctx, tw) if tw is not None else None
    return lint.Linter(ctx, model, found).run(source)


@hookimpl
def hardoctor_setup_plan(request: SetupRequest, ctx: Context) -> SetupPlan | None:
    from .setup import plan

    return plan(request, ctx)


def _index_target(value: str, ctx: Context) -> Target | None:
    """A bare URL that is a Python index: its vendor says so, or it ends in
    the simple API's ``/simple``."""
    raw = value.strip()
    if not raw.startswith(("https://", "http://")):
        return None
    info = ctx.registry_info(raw, "python")
    vendor_says = info is not None and info.package_type == "python" and not info.problems
    url = urls.parse_index_url(raw)
    if url is None or not (vendor_says or raw.rstrip("/").endswith("/simple")):
        return None
    return Target(raw=value, kind="registry", host=url.host, ecosystem=ECO, url=raw)


@hookimpl
def hardoctor_parse_target(value: str, ctx: Context) -> Target | None:
    m = _PREFIX.match(value.strip())
    if not m:
        return twine.parse_target(ctx, value.strip()) or _index_target(value, ctx)
    name = m.group(2).strip()
    name = re.split(r"[<>=!~;\[ @]", name, maxsplit=1)[0]
    if not name or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        return None
    model = state.model(ctx)
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
    model = state.model(ctx)
    if model is None or not ctx.wants_ecosystem(ECO):
        return None
    return resolve.targets(model) + twine.targets(ctx)


@hookimpl
def hardoctor_resolve(target: Target, credentials: Sequence[Credential], ctx: Context) -> Sequence[Resolution] | None:
    model, found = state.model(ctx), state.creds(ctx)
    if model is None or found is None or not ctx.wants_ecosystem(ECO):
        return None
    if target.ecosystem not in (None, ECO) and target.kind != "registry":
        return None
    if target.raw.lower().startswith(twine.PREFIX):  # an upload: twine alone
        res = twine.resolve(ctx, target)
        return [res] if res is not None else []
    out = inuse.judge(ctx, model, target, resolve.resolve(ctx, target, model, found))
    locs = state.locations(ctx)
    per_client = resolve.client_indexes(model, explicit=True)
    for res in out:
        for ref in per_client.get(res.client, []):
            key = (res.client, res.target.url or "")
            if ref.bare == res.target.url and key not in locs:
                locs[key] = ref.location
    return out


@hookimpl
def hardoctor_rotate(credential: Credential, new_secret: Secret, ctx: Context) -> Rotation | None:
    model, found = state.model(ctx), state.creds(ctx)
    if credential.ecosystem != ECO or model is None or found is None:
        return None
    from .rotate import rotate

    return rotate(ctx, model, found, credential, new_secret)


@hookimpl
def hardoctor_probe(resolution: Resolution, ctx: Context) -> Sequence[ProbePlan] | None:
    model, found = state.model(ctx), state.creds(ctx)
    if resolution.ecosystem != ECO or model is None or found is None:
        return None
    from . import probe

    if resolution.client == "twine":
        return twine.plan(resolution)
    return probe.plan(ctx, model, found, resolution)


@hookimpl
def hardoctor_diagnose(resolution: Resolution, results: Sequence[ProbeResult],
                       ctx: Context) -> Sequence[Finding] | None:
    model = state.model(ctx)
    if resolution.ecosystem != ECO or model is None:
        return None
    if resolution.client == "twine":
        return twine.diagnose(ctx, resolution, results)
    loc = state.locations(ctx).get((resolution.client, resolution.target.url or ""))
    return diagnose.diagnose(ctx, model, resolution, results, loc)


@hookimpl
def hardoctor_fix(finding: Finding, ctx: Context) -> Fix | None:
    """A finding about a wrong URL (``wrong-url``; any plugin's, e.g. a
    vendor's layout finding) at a line where this plugin reads an index URL:
    this plugin knows where the URL sits, the vendor which path it needs."""
    model = state.model(ctx)
    if model is None or finding.cause != "wrong-url" or finding.location is None:
        return None
    return vendor.fix_at(ctx, model, finding.location.path, finding.location.line)


@hookimpl
def hardoctor_client_names() -> Mapping[str, str]:
    return CLIENT


@hookimpl
def hardoctor_transport_advice(
    outcome: str, kind: str, host: str, ecosystems: Sequence[str]
) -> Remediation | None:
    from .advice import transport_advice

    return transport_advice(outcome, kind, ecosystems)


@hookimpl
def hardoctor_ecosystems() -> Sequence[Ecosystem]:
    return (Ecosystem("pip", ("pip:NAME",)),)
