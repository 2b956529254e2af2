"""Which credential pip, uv and Poetry send to an index -- the chain.

pip (``pip/_internal/network/auth.py``, ``MultiDomainBasicAuth``):

1. ``user:password@`` in the URL itself (percent-decoded);
2. the userinfo of the configured index URL that best matches the request
   (same host, longest common path);
3. ``.netrc`` through requests (``$NETRC`` or ``~/.netrc``/``~/_netrc``),
   looked up by ``netloc.split(":")[0]``: the port is dropped, but a
   username-only URL keeps ``user@`` in front and never matches;
4. the keyring -- only after a 401, and only when pip may prompt (not with
   ``--no-input``) or ``--keyring-provider import|subprocess`` is set.

With a username but no password, pip sends the username and an empty
password.

uv: ``UV_INDEX_<NAME>_USERNAME``/``_PASSWORD`` for a named index (they win
over the URL's own userinfo), the URL's userinfo, ``.netrc`` (by host),
uv's own credential store, then the keyring when
``keyring-provider = "subprocess"``.

Poetry: ``http-basic.<source>`` (auth.toml, poetry.toml,
``POETRY_HTTP_BASIC_<NAME>_*``; a missing password comes from the
keyring), the keyring by URL, ``.netrc`` (requests, only when no other
auth was given), then the URL's own userinfo.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from os.path import commonprefix
from urllib.parse import urlsplit

from hardoctor.context import Context
from hardoctor.model import ChainStep, Credential, Location, Resolution, Target

from . import keyringcli, pipversion, urls
from .config import uv_env_name
from .creds import Creds
from .model import ECO, IndexRef, Model

PYPI_KEY = "pip's default index (PyPI)"


def default_ref(client: str = "pip") -> IndexRef:
    return IndexRef(client=client, role="index-url", raw=urls.DEFAULT_INDEX,
                    url=urls.parse_index_url(urls.DEFAULT_INDEX), source="pip:default",
                    path=None, line=None, key=PYPI_KEY)


def pip_indexes(model: Model) -> list[IndexRef]:
    """The indexes ``pip install`` searches (index-url first)."""
    if model.pip.flag("no-index"):
        return []
    first = model.pip.index or default_ref()
    return [first, *model.pip.extras]


def requirement_indexes(model: Model) -> dict[str, list[IndexRef]]:
    """``pip install -r FILE``: the file's ``--index-url`` replaces the
    configured one; its ``--extra-index-url`` lines are added."""
    out: dict[str, list[IndexRef]] = {}
    base = pip_indexes(model)
    for rf in model.requirements:
        if not rf.refs:
            continue
        client = rf.refs[0].client
        index = [r for r in rf.refs if r.role == "index-url"]
        extra = [r for r in rf.refs if r.role == "extra-index-url"]
        first = index[-1] if index else (base[0] if base else default_ref())
        out[client] = [first, *base[1:], *extra]
    return out


def uv_indexes(model: Model, explicit: bool = False) -> list[IndexRef]:
    """uv's indexes in its order; ``explicit`` adds the ``explicit = true``
    ones (used only by the packages ``[tool.uv.sources]`` pins to them)."""
    if not model.uv.active:
        return []
    default = model.uv.default or default_ref("uv")
    return [*[r for r in model.uv.indexes if explicit or not r.explicit], default]


def poetry_indexes(model: Model, explicit: bool = False) -> list[IndexRef]:
    """Poetry's sources; ``explicit`` adds ``priority = "explicit"`` ones
    (used only by the dependencies that name them)."""
    if not model.poetry.active:
        return []
    out = [r for r in model.poetry.sources if explicit or not r.explicit]
    if model.poetry.pypi_is_primary():
        out.insert(0, default_ref("poetry"))
    return out


def client_indexes(model: Model, explicit: bool = False) -> dict[str, list[IndexRef]]:
    """Every client's indexes; ``explicit``: with the indexes only pinned
    packages use (checked as registries, never asked for another package)."""
    out: dict[str, list[IndexRef]] = {"pip": pip_indexes(model)}
    out.update(requirement_indexes(model))
    if model.uv.active:
        out["uv"] = uv_indexes(model, explicit)
    if model.poetry.active:
        out["poetry"] = poetry_indexes(model, explicit)
    return out


# -- pip -------------------------------------------------------------------------


def _best_index(request: str, indexes: Sequence[IndexRef]) -> IndexRef | None:
    """pip's ``MultiDomainBasicAuth._get_index_url``: the exact index, else
    the one on the same host with the longest common path."""
    parsed = urls.parse_index_url(request)
    try:
        req = urlsplit(parsed.bare if parsed is not None else request)
    except ValueError:
        return None
    req_path = req.path.rstrip("/") + "/"
    cands: list[tuple[int, IndexRef]] = []
    for ref in indexes:
        if ref.url is None:
            continue
        if ref.url.host == (req.netloc.lower()) and ref.url.path.rstrip("/") + "/" == req_path:
            return ref
        if ref.url.host != req.netloc.lower():
            continue
        cands.append((commonprefix([req_path, ref.url.path.rstrip("/") + "/"]).rfind("/"), ref))
    if not cands:
        return None
    cands.sort(key=lambda c: -c[0])
    return cands[0][1]


def _netrc_step(ctx: Context, model: Model, creds: Creds, lookup: str, used: bool,
                client: str) -> tuple[ChainStep, Credential | None]:
    view = model.netrc
    label = ".netrc"
    if view.path is None:
        return ChainStep(label, "missing", "no ~/.netrc (or $NETRC) file"), None
    shown = ctx.display_path(view.path)
    if view.doc is None:
        if view.from_env and not os.path.exists(view.path):
            return ChainStep(f"netrc {shown}", "missing",
                             "$NETRC names a file that does not exist, and requests then reads no "
                             "netrc at all", location=Location(view.path)), None
        return ChainStep(f"netrc {shown}", "failed", "cannot be read", location=Location(view.path)), None
    if view.doc.error is not None:
        return ChainStep(
            f"netrc {shown}", "failed",
            f"Python's netrc refuses the file (line {view.doc.error.line}: {view.doc.error.message}); "
            f"{client} silently uses no netrc entry at all",
            location=Location(view.path, view.doc.error.line)), None
    entry = view.doc.authenticators(lookup)
    if entry is None:
        why = f"no 'machine {lookup}' entry"
        if "@" in lookup:
            why = (f"looked up {lookup!r}: the username in the URL stays in front of the host, so no "
                   "netrc entry can match")
        return ChainStep(f"netrc {shown}", "missing", why, location=Location(view.path)), None
    cid = creds.by_netrc.get(entry.line)
    cred = next((c for c in creds.all if c.id == cid), None)
    label = "default" if entry.kind == "default" else f"machine {entry.name}"
    where = Location(view.path, entry.line, None, key=label)
    if used:
        return ChainStep(f"netrc {label}", "lost", "the URL's own credentials win", cid, where), None
    reason = ("the 'default' entry answers for every host" if entry.kind == "default"
              else f"matches {lookup!r} (requests drops the port)")
    return ChainStep(f"netrc {label}", "used", reason, cid, where), cred


def _keyring_step(ctx: Context, model: Model, ref: IndexRef, username: str | None,
                  used: bool) -> tuple[ChainStep, Credential | None]:
    view = model.pip
    if used:
        return ChainStep("keyring", "skipped", "not asked: a credential was already found"), None
    if not view.uses_keyring:
        why = ("not asked: with --no-input (PIP_NO_INPUT) and the default keyring provider pip "
               "never consults the keyring" if view.no_input else
               "not asked: keyring-provider is disabled")
        return ChainStep("keyring", "skipped", why), None
    provider = view.keyring_provider
    when = ("after a 401, pip asks the keyring (it may prompt too; in CI add --no-input, "
            "which turns this off)" if provider == "auto" else
            f"after a 401, pip asks the keyring (keyring-provider={provider})")
    if not keyringcli.enabled(ctx):
        return ChainStep("keyring", "skipped", when + "; not read by hardoctor (pass --keyring)"), None
    if not username:
        return ChainStep("keyring", "missing", when + "; no username in the URL to ask it for "
                         "(the subprocess provider needs one)"), None
    for service in (ref.bare, ref.url.host if ref.url else ""):
        if not service:
            continue
        answer = keyringcli.get(ctx, service, username)
        if answer.status == "ok" and answer.password is not None:
            cred = Credential(
                id=f"pip:keyring#{service}", ecosystem=ECO, registry=ref.bare,
                host=ref.url.host if ref.url else "", source="pip:keyring",
                location=Location(None, key=f"keyring {service}"), username=username,
                secret=answer.password, scheme="basic", via="keyring", clients=("pip",),
            )
            return ChainStep(f"keyring {service}", "used", when, cred.id), cred
        if answer.status in ("missing", "failed", "timeout"):
            return ChainStep("keyring", "failed", answer.detail), None
    return ChainStep("keyring", "missing", when + "; the keyring has nothing for this index"), None


def resolve_pip(ctx: Context, target: Target, ref: IndexRef, client: str, indexes: Sequence[IndexRef],
                model: Model, creds: Creds) -> Resolution:
    steps: list[ChainStep] = []
    by_id = {c.id: c for c in creds.all}
    chosen: Credential | None = None
    url = ref.url
    username: str | None = None
    if url is not None and url.username is not None and url.password is not None:
        cid = creds.by_ref.get(ref)
        chosen = by_id.get(cid or "")
        steps.append(ChainStep(f"{ref.key} userinfo", "used", "user:password in the index URL",
                               cid, ref.location))
    elif url is not None and url.username is not None:
        username = url.username
        steps.append(ChainStep(f"{ref.key} userinfo", "skipped",
                               "username only: pip looks for a password elsewhere",
                               creds.by_ref.get(ref), ref.location))
    else:
        steps.append(ChainStep(f"{ref.key}", "missing", "no user:password in the index URL",
                               location=ref.location))
    best = _best_index(ref.bare, indexes)
    if best is not None and best is not ref and best.url is not None and best.url.password is not None:
        cid = creds.by_ref.get(best)
        if chosen is None:
            chosen = by_id.get(cid or "")
            steps.append(ChainStep(f"{best.key} userinfo", "used",
                                   "the configured index URL that matches this request carries "
                                   "user:password", cid, best.location))
        else:
            steps.append(ChainStep(f"{best.key} userinfo", "lost", "the request's own URL wins",
                                   cid, best.location))
    modern = pipversion.netrc_by_hostname(ctx)
    lookup = url.netrc_lookup(modern is not False) if url is not None else ""
    step, cred = _netrc_step(ctx, model, creds, lookup, chosen is not None, "pip")
    if modern is None and url is not None and username is not None and step.outcome == "used":
        step = replace(step, reason=step.reason + f"; pip before 25.2 looks up "
                       f"{url.netrc_lookup(False)!r} instead and finds nothing")
    steps.append(step)
    chosen = chosen or cred
    step, cred = _keyring_step(ctx, model, ref, username, chosen is not None)
    steps.append(step)
    chosen = chosen or cred
    if chosen is None and username is not None:
        cid = creds.by_ref.get(ref)
        chosen = by_id.get(cid or "")
        steps.append(ChainStep("username only", "used",
                               "pip sends the username from the URL with an empty password", cid,
                               ref.location))
    return _resolution(target, client, chosen, steps, ref)


# -- uv --------------------------------------------------------------------------


def resolve_uv(ctx: Context, target: Target, ref: IndexRef, model: Model, creds: Creds) -> Resolution:
    steps: list[ChainStep] = []
    by_id = {c.id: c for c in creds.all}
    chosen: Credential | None = None
    if ref.name:
        envk = uv_env_name(ref.name)
        cid = creds.uv_env.get(envk)
        if cid:
            chosen = by_id.get(cid)
            steps.append(ChainStep(f"$UV_INDEX_{envk}_USERNAME/_PASSWORD", "used",
                                   f"credentials for the index named {ref.name!r}", cid))
        else:
            steps.append(ChainStep(f"$UV_INDEX_{envk}_USERNAME/_PASSWORD", "missing",
                                   "not set"))
    url = ref.url
    if url is not None and url.has_credentials:
        cid = creds.by_ref.get(ref)
        if chosen is None:
            chosen = by_id.get(cid or "")
            steps.append(ChainStep(f"{ref.key} userinfo", "used", "credentials in the index URL",
                                   cid, ref.location))
        else:
            steps.append(ChainStep(f"{ref.key} userinfo", "lost",
                                   "the UV_INDEX_<NAME>_* variables win over the URL's own",
                                   cid, ref.location))
    else:
        steps.append(ChainStep(ref.key, "missing", "no credentials in the index URL",
                               location=ref.location))
    lookup = url.hostname if url is not None else ""
    step, cred = _netrc_step(ctx, model, creds, lookup, chosen is not None, "uv")
    steps.append(step)
    chosen = chosen or cred
    steps.append(ChainStep("uv credentials store", "skipped",
                           "`uv auth login` credentials are not read by hardoctor"))
    if model.uv.keyring_provider == "subprocess":
        steps.append(ChainStep("keyring", "skipped" if chosen else "missing",
                               "keyring-provider = subprocess: uv asks `keyring get` (needs a "
                               "username in the URL)"))
    else:
        steps.append(ChainStep("keyring", "skipped",
                               "uv asks no keyring unless keyring-provider = \"subprocess\""))
    return _resolution(target, "uv", chosen, steps, ref)


# -- Poetry ------------------------------------------------------------------------


def resolve_poetry(ctx: Context, target: Target, ref: IndexRef, model: Model, creds: Creds) -> Resolution:
    steps: list[ChainStep] = []
    by_id = {c.id: c for c in creds.all}
    chosen: Credential | None = None
    if ref.name:
        auth = model.poetry.auth.get(ref.name)
        cid = creds.poetry.get(ref.name)
        if auth is not None and auth.password is not None:
            chosen = by_id.get(cid or "")
            steps.append(ChainStep(f"http-basic.{ref.name}", "used",
                                   "Poetry's credentials for this source", cid, auth.location))
        elif auth is not None:
            steps.append(ChainStep(f"http-basic.{ref.name}", "skipped",
                                   "username only: Poetry takes the password from the keyring "
                                   "(not read by hardoctor)", cid, auth.location))
        else:
            steps.append(ChainStep(f"http-basic.{ref.name}", "missing",
                                   f"no `poetry config http-basic.{ref.name}` and no "
                                   f"POETRY_HTTP_BASIC_{ref.name.upper().replace('-', '_')}_* "
                                   "variables"))
    url = ref.url
    lookup = url.hostname if url is not None else ""
    step, cred = _netrc_step(ctx, model, creds, lookup, chosen is not None, "Poetry")
    steps.append(step)
    chosen = chosen or cred
    if url is not None and url.has_credentials:
        cid = creds.by_ref.get(ref)
        if chosen is None:
            chosen = by_id.get(cid or "")
            steps.append(ChainStep(f"{ref.key} userinfo", "used", "credentials in the source URL",
                                   cid, ref.location))
        else:
            steps.append(ChainStep(f"{ref.key} userinfo", "lost", "an earlier credential wins",
                                   cid, ref.location))
    return _resolution(target, "poetry", chosen, steps, ref)


def _resolution(target: Target, client: str, cred: Credential | None, steps: list[ChainStep],
                ref: IndexRef) -> Resolution:
    # Grouped by host like every other registry; the index itself is the
    # target's URL (a vendor plugin may judge its layout).
    url = ref.url
    t = target
    if url is not None:
        t = replace(target, host=url.host, url=ref.bare)
    return Resolution(target=t, ecosystem=ECO, client=client, credential=cred, chain=tuple(steps),
                      registry=url.host if url is not None else target.host)


# -- targets ----------------------------------------------------------------------


def resolve(ctx: Context, target: Target, model: Model, creds: Creds) -> list[Resolution]:
    per_client = client_indexes(model, explicit=target.kind != "package")
    out: list[Resolution] = []
    if target.kind == "package":
        for client, refs in per_client.items():
            for ref in refs:
                out.append(_one(ctx, target, ref, client, refs, model, creds))
        return out
    matched = False
    for client, refs in per_client.items():
        for ref in refs:
            if _matches(target, ref):
                matched = True
                out.append(_one(ctx, target, ref, client, refs, model, creds))
    if not matched and target.ecosystem == ECO and target.url:
        ref = IndexRef(client="pip", role="index-url", raw=target.url,
                       url=urls.parse_index_url(target.url), source="pip:target", path=None,
                       line=None, key="the command line")
        if ref.url is not None:
            out.append(resolve_pip(ctx, target, ref, "pip", [ref, *pip_indexes(model)], model, creds))
    return out


def _one(ctx: Context, target: Target, ref: IndexRef, client: str, refs: Sequence[IndexRef],
         model: Model, creds: Creds) -> Resolution:
    if client == "uv":
        return resolve_uv(ctx, target, ref, model, creds)
    if client == "poetry":
        return resolve_poetry(ctx, target, ref, model, creds)
    return resolve_pip(ctx, target, ref, client, refs, model, creds)


def _matches(target: Target, ref: IndexRef) -> bool:
    if ref.url is None:
        return False
    if target.url:
        return urls.same_index(target.url, ref.bare)
    return target.host.lower() == ref.url.host


def targets(model: Model) -> list[Target]:
    out: list[Target] = []
    seen: set[str] = set()
    for refs in client_indexes(model, explicit=True).values():
        for ref in refs:
            if ref.url is None or ref.source == "pip:default":
                continue
            key = ref.bare.rstrip("/")
            if key in seen:
                continue
            seen.add(key)
            out.append(Target(raw=ref.bare, kind="registry", host=ref.url.host, ecosystem=ECO,
                              url=ref.bare))
    return out
