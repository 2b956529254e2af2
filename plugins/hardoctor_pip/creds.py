"""Credentials held by pip/uv/Poetry configuration: URL userinfo, .netrc
entries, ``UV_INDEX_<NAME>_*`` variables and Poetry ``http-basic``."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from hardoctor import redact
from hardoctor.context import Context
from hardoctor.model import Credential, Location, Secret
from hardoctor.records import dataclass, field
from hardoctor.tokens import looks_like_token

from .config import poetry_env_name, uv_env_name
from .model import ECO, IndexRef, Model

CACHE = "pip.credentials"


@dataclass(frozen=True)
class Sent:
    """Exactly what the client puts in its Basic header.  The username may
    itself be a token (``https://TOKEN@host``): such a username is
    registered with :mod:`hardoctor.redact` (see :func:`_protect`), and it
    is kept out of ``repr`` either way."""

    username: str = field(repr=False)
    password: Secret = field(repr=False)


@dataclass
class Creds:
    all: list[Credential] = field(default_factory=list)
    #: credential id -> what goes into the Authorization header.
    sent: dict[str, Sent] = field(default_factory=dict)
    #: IndexRef -> credential id of its userinfo.
    by_ref: dict[IndexRef, str] = field(default_factory=dict)
    #: netrc entry (by its line: one netrc file per run) -> credential id.
    by_netrc: dict[int, str] = field(default_factory=dict)
    #: uv index env name -> credential id; Poetry source name -> id.
    uv_env: dict[str, str] = field(default_factory=dict)
    poetry: dict[str, str] = field(default_factory=dict)


def ref_id(ref: IndexRef) -> str:
    return f"{ref.source}#{ref.key}#{ref.bare}"


def _stored(ctx: Context, path: str | None) -> datetime | None:
    if not path:
        return None
    try:
        import os

        return datetime.fromtimestamp(os.stat(path).st_mtime, timezone.utc)
    except OSError:
        return None


def _protect(value: str | None) -> None:
    """A username that is really a token must never be shown either."""
    if value and looks_like_token(value):
        redact.register(value)


def build(ctx: Context, model: Model) -> Creds:
    out = Creds()
    seen: set[str] = set()
    for ref in model.refs:
        url = ref.url
        if url is None or not url.has_credentials:
            continue
        cid = ref_id(ref)
        if cid in seen:
            out.by_ref[ref] = cid
            continue
        seen.add(cid)
        _register_raw(ref.raw)
        user, password = url.username, url.password
        token_user = password is None and user is not None and looks_like_token(user)
        if password is None:
            # pip (and requests) send the username with an empty password.
            sent = Sent(user or "", Secret(""))
            secret = Secret(user or "") if token_user else Secret("")
            shown_user = None if token_user else user
            via = f"{ref.key} userinfo (username only)"
        else:
            _protect(user)
            sent = Sent(user or "", Secret(password))
            secret = Secret(password)
            shown_user = user
            via = f"{ref.key} userinfo"
        cred = Credential(
            id=cid, ecosystem=ECO, registry=url.bare, host=url.host, source=ref.source,
            location=ref.location, username=shown_user, secret=secret, scheme="basic", via=via,
            clients=(ref.client,), stored_at=_stored(ctx, ref.path),
            # A user name alone: pip completes it from .netrc or the keyring.
            role="slot" if password is None and not token_user else "token",
        )
        out.all.append(cred)
        out.sent[cid] = sent
        out.by_ref[ref] = cid
    _netrc(ctx, model, out)
    _uv_env(model, out)
    _poetry(model, out)
    return out


def _register_raw(raw: str) -> None:
    """The userinfo as written (percent-encoded) is a secret form too."""
    try:
        netloc = urlsplit(raw.strip()).netloc
    except ValueError:
        netloc = raw
    # Only what follows the first ':' is secret (a token-like username is
    # protected separately): registering a plain username would scrub an
    # e-mail address out of every report.
    for ui in (raw.strip().split("://", 1)[-1].rsplit("@", 1)[0] if "@" in raw else "",
               netloc.rsplit("@", 1)[0] if "@" in netloc else ""):
        if ":" in ui:
            redact.register(ui.split(":", 1)[1])


def _netrc(ctx: Context, model: Model, out: Creds) -> None:
    view = model.netrc
    doc = view.doc
    if doc is None or view.source_id is None:
        return
    counts: dict[str, int] = {}
    for entry in doc.entries:
        login, account, password = entry.values
        user = login or account
        _protect(user)
        n = counts[entry.name] = counts.get(entry.name, 0) + 1
        label = "default" if entry.kind == "default" else f"machine {entry.name}"
        cid = f"{view.source_id}#{label}" + (f"#{n}" if n > 1 else "")
        cred = Credential(
            id=cid, ecosystem=ECO, registry=entry.name if entry.kind == "machine" else "default",
            host=entry.name.lower() if entry.kind == "machine" else "default",
            source=view.source_id,
            location=Location(view.path, entry.line, None, key=label),
            username=None if looks_like_token(user) else (user or None),
            secret=Secret(password), scheme="basic",
            via="netrc default" if entry.kind == "default" else "netrc machine",
            clients=("pip", "uv", "poetry"), stored_at=_stored(ctx, view.path),
        )
        out.all.append(cred)
        out.sent[cid] = Sent(user, Secret(password))
        out.by_netrc[entry.line] = cid


def _uv_env(model: Model, out: Creds) -> None:
    names = {uv_env_name(r.name): r for r in model.uv.indexes + ([model.uv.default] if model.uv.default else [])
             if r.name}
    for envk, (user, password) in sorted(model.uv_env_names.items()):
        ref = names.get(envk)
        cid = f"pip:env:UV#UV_INDEX_{envk}"
        _protect(user)
        cred = Credential(
            id=cid, ecosystem=ECO,
            registry=ref.bare if ref is not None else f"uv index {envk}",
            host=ref.url.host if ref is not None and ref.url else "",
            source="pip:env:UV",
            location=Location(None, None, None, key=f"$UV_INDEX_{envk}_USERNAME/_PASSWORD"),
            username=None if looks_like_token(user or "") else user,
            secret=Secret(password or ""), scheme="basic", via="UV_INDEX_<NAME>_* variables",
            clients=("uv",),
        )
        out.all.append(cred)
        out.sent[cid] = Sent(user or "", Secret(password or ""))
        out.uv_env[envk] = cid


def _auth_location(loc: Location | None, line: int | None, name: str) -> Location:
    if loc is None:
        return Location(None, key=f"http-basic.{name}")
    if line is None or loc.path is None:
        return loc
    return Location(loc.path, line, None, key=loc.key)


def _poetry(model: Model, out: Creds) -> None:
    by_name = {s.name: s for s in model.poetry.sources if s.name}
    for name, auth in sorted(model.poetry.auth.items()):
        ref = by_name.get(name)
        if ref is None:
            ref = next((s for n, s in by_name.items() if poetry_env_name(n) == poetry_env_name(name)), None)
        cid = f"{auth.source_id}#http-basic.{name}"
        _protect(auth.username)
        cred = Credential(
            id=cid, ecosystem=ECO,
            registry=ref.bare if ref is not None else f"poetry source {name}",
            host=ref.url.host if ref is not None and ref.url else "",
            source=auth.source_id,
            location=_auth_location(auth.location, auth.password_line, name),
            username=None if looks_like_token(auth.username or "") else auth.username,
            secret=Secret(auth.password) if auth.password is not None else None,
            scheme="basic",
            via="POETRY_HTTP_BASIC_* variables" if auth.from_env else
            ("http-basic (password in the keyring)" if auth.keyring else "http-basic"),
            clients=("poetry",),
        )
        out.all.append(cred)
        if auth.password is not None:
            out.sent[cid] = Sent(auth.username or "", Secret(auth.password))
        out.poetry[name] = cid
