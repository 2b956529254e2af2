"""Credentials held by Docker-format files and by credential helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hardoctor import redact
from hardoctor.context import Context
from hardoctor.lazy import submodule
from hardoctor.model import Credential, Location, Secret, Source
from hardoctor.records import dataclass

from .config import (
    AuthEntry,
    DockerConfig,
    FilePayload,
    canonical_key,
    decode_auth,
    entry_location,
    host_of_key,
    stored_at,
)
from .state import HELPERS

if TYPE_CHECKING:
    from . import helpers
else:  # the helper runner (subprocess) loads when a helper is asked
    helpers = submodule(__package__, "helpers")

#: A store can hold hundreds of entries; asking each costs a process.
MAX_STORE_ENTRIES = 50


def entry_id(source: Source, key: str) -> str:
    return f"{source.id}#auths[{key}]"


def helper_id(source: Source, via: str, server: str) -> str:
    return f"{source.id}#{via}[{server}]"


@dataclass(frozen=True)
class EntryCredential:
    """What an ``auths`` entry gives each client (the CLI reads plaintext
    username/password fields; containers/image and docker-py do not)."""

    username: str | None
    secret: str | None
    scheme: str
    #: True when the secret came from `username`/`password` fields, not `auth`.
    plaintext_fields: bool = False


def entry_credential(entry: AuthEntry) -> EntryCredential | None:
    auth = entry.text("auth")
    user: str | None = None
    password: str | None = None
    plaintext = False
    if auth:
        redact.register(auth)
        decoded = decode_auth(auth)
        if decoded.problem:
            return None
        user, password = decoded.username, decoded.password
    elif entry.text("username") or entry.text("password"):
        user, password = entry.text("username"), entry.text("password")
        plaintext = True
    identity = entry.text("identitytoken")
    if identity:
        return EntryCredential(user or "<token>", identity, "identitytoken", plaintext)
    registry_token = entry.text("registrytoken")
    if registry_token:
        return EntryCredential(user, registry_token, "registrytoken", plaintext)
    if user is None and password is None:
        return None
    return EntryCredential(user, password or "", "basic", plaintext)


def file_credentials(source: Source, ctx: Context) -> list[Credential]:
    payload = source.payload
    if not isinstance(payload, FilePayload) or payload.config is None:
        return []
    doc = payload.config
    if doc.error is not None or doc.type_errors:
        return []
    out: list[Credential] = []
    for entry in doc.entries:
        ec = entry_credential(entry)
        if ec is None:
            continue
        out.append(
            Credential(
                id=entry_id(source, entry.key),
                ecosystem="docker",
                registry=entry.key,
                host=host_of_key(entry.key),
                source=source.id,
                location=entry_location(source, doc, entry.member.key_start, f'auths["{entry.key}"]'),
                username=ec.username,
                secret=Secret(ec.secret) if ec.secret is not None else None,
                scheme=ec.scheme,
                via="auths" if not ec.plaintext_fields else "auths (username/password fields)",
                clients=payload.clients,
                stored_at=stored_at(source),
            )
        )
    if payload.clients:  # a committed copy no client reads: its helpers are not asked
        out += helper_credentials(source, doc, ctx, payload.clients)
    return out


def helper_credentials(
    source: Source, doc: DockerConfig, ctx: Context, clients: tuple[str, ...]
) -> list[Credential]:
    """Ask the configured helpers for what they hold.  ``credHelpers``
    entries are asked for their own key; a ``credsStore`` is listed, and asked
    for each listed server plus every host named on the command line."""
    out: list[Credential] = []
    for key, member in doc.cred_helpers.items():
        name = member.value.value
        if not isinstance(name, str) or not name:
            continue
        answer = ask(ctx, name, key)
        loc = entry_location(source, doc, member.key_start, f'credHelpers["{key}"]')
        cred = _helper_credential(source, "credHelpers", key, name, answer, loc, clients)
        if cred is not None:
            out.append(cred)
    store = doc.store_name
    if store:
        listing = list_store(ctx, store)
        servers = list((listing.listing or {}).keys())[:MAX_STORE_ENTRIES]
        for host in requested_hosts(ctx):
            key = canonical_key(host)
            if key not in servers:
                servers.append(key)
        assert doc.creds_store is not None
        loc = entry_location(source, doc, doc.creds_store.key_start, "credsStore")
        for server in servers:
            answer = ask(ctx, store, server)
            cred = _helper_credential(source, "credsStore", server, store, answer, loc, clients)
            if cred is not None:
                out.append(cred)
    return out


def _helper_credential(
    source: Source,
    via: str,
    server: str,
    helper: str,
    answer: helpers.HelperAnswer,
    loc: Location,
    clients: tuple[str, ...],
) -> Credential | None:
    if answer.status != "ok" or answer.secret is None:
        return None
    scheme = "identitytoken" if answer.username == "<token>" else "basic"
    return Credential(
        id=helper_id(source, via, server),
        ecosystem="docker",
        registry=server,
        host=host_of_key(server),
        source=source.id,
        location=Location(loc.path, loc.line, loc.column, f"{loc.key} -> {helpers.binary_name(helper)}"),
        username=answer.username,
        secret=Secret(answer.secret),
        scheme=scheme,
        via=via,
        # Only the Docker CLI and Helm use credsStore; containers/image reads
        # credHelpers but ignores credsStore.
        clients=tuple(c for c in clients if via == "credHelpers" or c != "podman"),
        # An empty answer is "no credentials" to the Docker CLI, not an empty token.
        role="token" if answer.secret else "slot",
    )


def helper_env(ctx: Context) -> dict[str, str]:
    keep = ("PATH", "HOME", "USER", "LOGNAME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS",
            "DISPLAY", "LANG", "LC_ALL", "TMPDIR", "DOCKER_CONFIG")
    env = {k: v for k, v in ctx.env.environ.items() if k in keep or k.startswith("AWS_")}
    env.setdefault("HOME", ctx.home)
    env["HOME"] = ctx.home
    return env


def ask(ctx: Context, helper: str, server: str) -> helpers.HelperAnswer:
    cache = ctx.stash.setdefault(HELPERS, {})
    key = (helper, server)
    if key not in cache:
        answer = helpers.helper_get(helper, server, helper_env(ctx))
        if answer.secret:
            redact.register(answer.secret)
        cache[key] = answer
    return cache[key]


def list_store(ctx: Context, helper: str) -> helpers.HelperAnswer:
    cache = ctx.stash.setdefault(HELPERS, {})
    key = (helper, "\0list")
    if key not in cache:
        cache[key] = helpers.helper_list(helper, helper_env(ctx))
    return cache[key]


def requested_hosts(ctx: Context) -> list[str]:
    from hardoctor.targets import normalize_host, parse_image_reference, split_host_url

    from .hub import HUB

    hosts: list[str] = []
    for raw in (*ctx.options.targets, *ctx.options.registries):
        ref = parse_image_reference(raw, HUB)
        if ref is not None and ref.explicit_host:
            hosts.append(ref.host)
            continue
        split = split_host_url(raw)
        if split is not None:
            hosts.append(normalize_host(raw, HUB))
    return list(dict.fromkeys(hosts))
