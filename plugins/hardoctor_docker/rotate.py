"""``fix --token-stdin`` for Docker-format files and credential helpers."""

from __future__ import annotations

import base64
import json

from hardoctor import jsonspan, redact
from hardoctor.context import Context
from hardoctor.fixes import digest
from hardoctor.model import (
    Applicability,
    Credential,
    Edit,
    ExternalAction,
    Fix,
    Rotation,
    Secret,
    Source,
)

from . import helpers
from .config import AuthEntry, FilePayload
from .creds import helper_env
from .state import SOURCES


def rotate(credential: Credential, new: Secret, ctx: Context) -> Rotation | None:
    sources = ctx.stash.get(SOURCES, {})
    source = next((s for s in sources.values() if s.id == credential.source), None)
    if source is None:
        return None
    if source.kind == "env":
        return Rotation(
            credential.id,
            "DOCKER_AUTH_CONFIG comes from the environment: update it where it is set",
            manual=(
                "export DOCKER_AUTH_CONFIG=\"$(printf '{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}' "
                f"{credential.registry} \"$(printf '%s:%s' '{credential.username or 'USER'}' "
                "\"$TOKEN\" | base64 -w0)\")\"   # and the CI secret that sets it",
            ),
        )
    if credential.via in ("credHelpers", "credsStore"):
        return _helper_rotation(credential, new, source, ctx)
    payload = source.payload
    if not isinstance(payload, FilePayload) or payload.config is None or source.path is None:
        return None
    doc = payload.config
    entry = next((e for e in doc.entries if f"{source.id}#auths[{e.key}]" == credential.id), None)
    if entry is None:
        return None
    return _entry_rotation(credential, new, source.path, doc.text, entry)


def _entry_rotation(
    credential: Credential, new: Secret, path: str, text: str, entry: AuthEntry
) -> Rotation:
    expected = digest(text)
    user = credential.username if credential.username not in (None, "<token>") else None
    edits: list[Edit] = []
    auth = entry.fields.get("auth")
    password = entry.fields.get("password")
    identity = entry.fields.get("identitytoken") or entry.fields.get("registrytoken")
    if user is None:
        user = entry.text("username") or "token"
    encoded = base64.b64encode(f"{user}:{new.reveal()}".encode()).decode()
    redact.register(encoded)
    if auth is not None:
        edits.append(Edit(path, *jsonspan.replace_value(auth.value, encoded), expected=expected))
    if password is not None:
        edits.append(Edit(path, *jsonspan.replace_value(password.value, new.reveal()), expected=expected))
    new_member = f'"auth": {json.dumps(encoded)}'
    if auth is None and password is None and identity is not None:
        # The identity/registry token is replaced by `auth`, the form every
        # client reads (a token field would win over it otherwise).
        edits.append(Edit(path, identity.key_start, identity.value.end, new_member,
                          expected=expected))
    elif auth is None and password is None:
        first = entry.member.value.members[0] if entry.member.value.members else None
        if first is not None:
            edits.append(Edit(path, first.key_start, first.key_start, new_member + ", ",
                              expected=expected))
        else:
            obj = entry.member.value
            edits.append(Edit(path, obj.start, obj.end, "{" + new_member + "}", expected=expected))
    elif identity is not None:
        obj = entry.member.value
        edits.append(Edit(path, *jsonspan.remove_member(text, obj, identity), expected=expected))
    what = f'auths["{entry.key}"]: store the new token for user {user}'
    if identity is not None:
        what += f" (and drop the old {identity.key})"
    return Rotation(credential.id, what, fix=Fix(what, Applicability.SAFE, tuple(edits)))


def _helper_rotation(credential: Credential, new: Secret, source: Source, ctx: Context) -> Rotation:
    helper = credential.location.key or ""
    name = helper.rsplit("docker-credential-", 1)[-1] if "docker-credential-" in helper else None
    if name is None:
        return Rotation(credential.id, "the credential helper could not be identified")
    server = credential.registry
    user = credential.username or "token"
    env = helper_env(ctx)

    def run() -> str | None:
        return helpers.helper_store(name, server, user, new.reveal(), env)

    desc = f"{helpers.binary_name(name)} store {server} (user {user})"
    return Rotation(credential.id, f"store the new token in {helpers.binary_name(name)}",
                    actions=(ExternalAction(desc, run),))
