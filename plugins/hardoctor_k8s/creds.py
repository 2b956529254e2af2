"""Pull-secret entries as :class:`~hardoctor.model.Credential` objects.

Every registry entry of a ``.dockerconfigjson``/``.dockercfg`` value is a
credential -- also the ones the kubelet cannot use (wrong layout, an
``Opaque`` secret), because their tokens still expire and still belong to an
account.  ``clients`` says whether the kubelet reads it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from hardoctor.context import Context
from hardoctor.model import Credential, Location, Secret
from hardoctor.targets import normalize_host

from .dockercfg import KEY_FOR_TYPE, KEY_JSON, Decoded, Entry
from .hub import HUB
from .objects import SecretObj
from .state import SourceData, State

ECO = "k8s"


def entry_key(value_key: str, registry: str) -> str:
    return f'auths["{registry}"]' if value_key == KEY_JSON else f'["{registry}"]'


def secret_location(secret: SecretObj, line: int | None, value_key: str | None = None,
                    registry: str | None = None) -> Location:
    key = f"Secret {secret.ref}"
    if value_key:
        key += f" {value_key}"
        if registry is not None:
            key += f" {entry_key(value_key, registry)}"
    return secret.where.at(line, key)


def credential_id(source_id: str, secret: SecretObj, value_key: str, registry: str) -> str:
    w = secret.where
    doc = f"@{w.doc}" + (f".{w.item}" if w.item is not None else "")
    return f"{source_id}#Secret/{secret.ref}{doc}/{value_key}[{registry}]"


def stored_at(secret: SecretObj, data: SourceData) -> datetime | None:
    """When the token was put there: for an object read from a cluster (or
    a dump of one), its last update or creation; for a manifest someone
    writes, when the file was last written (a creationTimestamp copied into
    it says nothing about when the token was pasted)."""
    mtime = (datetime.fromtimestamp(data.mtime, timezone.utc)
             if data.kind == "file" and data.mtime is not None else None)
    if data.kind == "cluster" or secret.from_cluster:
        return secret.stored_at or mtime
    return mtime or secret.stored_at


def credentials(data: SourceData, st: State, ctx: Context) -> list[Credential]:
    out: list[Credential] = []
    for secret in data.secrets:
        decoded = st.decoded(secret)
        usable_key = KEY_FOR_TYPE.get(secret.effective_type)
        for value_key, dec in decoded.items():
            value = secret.value(value_key)
            assert value is not None
            usable = {e.key for e in dec.entries} if value_key == usable_key else set()
            for entry in _entries(dec):
                cred = _credential(data, secret, value_key, entry, value.line, entry.key in usable)
                if cred is None:
                    continue
                st.cred_ids[(secret, value_key, entry.key)] = cred.id
                st.cred_origin[cred.id] = (secret, value_key, entry.key)
                out.append(cred)
    return out


def _entries(dec: Decoded) -> list[Entry]:
    seen = {e.key for e in dec.entries}
    return list(dec.entries) + [e for e in dec.intended if e.key not in seen]


def _credential(data: SourceData, secret: SecretObj, value_key: str, entry: Entry,
                line: int, usable: bool) -> Credential | None:
    if not entry.has_credentials:
        return None
    via = f"Secret {secret.ref} {value_key}"
    if not usable:
        via += " (not read by the kubelet)"
    return Credential(
        id=credential_id(data.id, secret, value_key, entry.key),
        ecosystem=ECO,
        registry=entry.key,
        host=normalize_host(entry.key, HUB),
        source=data.id,
        location=secret_location(secret, line, value_key, entry.key),
        username=entry.username,
        secret=Secret(entry.password) if entry.password else None,
        scheme="basic",
        via=via,
        clients=("kubelet",) if usable else (),
        stored_at=stored_at(secret, data),
        plugin=ECO,
    )
