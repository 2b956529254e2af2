"""Passwords and credentials (the *creds* role): what Maven sends as each
server's password -- decrypted with the master password exactly as Maven 3's
``DefaultSettingsDecrypter`` does, or kept as written when that fails -- and
the :class:`~hardoctor.model.Credential` objects of the run."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timezone

from hardoctor import lazyre
from hardoctor.model import Credential, Secret
from hardoctor.tokens import PeelError

from .cipher import maven_decrypt, maven_encrypted
from .state import ECO, FileEntry, Master, Password, World, url_host


def _plexus_shape(payload: str) -> bool:
    """Is this a well-formed plexus-cipher payload (so Maven will try to
    decrypt it and may succeed)?"""
    try:
        blob = base64.b64decode(payload.replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(blob) < 8 + 1 + 16:
        return False
    body = len(blob) - 9 - blob[8]
    return body > 0 and body % 16 == 0


_BRACES = lazyre.compile(r"\{.*?[^\\]\}", re.S)


def maven_sees_braces(value: str) -> bool:
    """plexus-cipher's ``isEncryptedString``: a ``{...}`` with content."""
    return bool(_BRACES.search(value))


def decrypt_password(value: str | None, master: Master) -> Password:
    if value is None:
        return Password(None, "plain")
    enc = maven_encrypted(value)
    if enc is not None and enc.format == "maven4":
        return Password(value, "maven4", True, enc.why_unreadable)
    if enc is not None and _plexus_shape(enc.payload):
        if master.secret is None:
            return Password(value, "no-master", True, master.detail)
        try:
            clear = maven_decrypt(value, master.secret)
        except PeelError as exc:
            return Password(value, "wrong-master", True, str(exc))
        return Password(clear.reveal(), "decrypted", True)
    if maven_sees_braces(value):
        return Password(value, "braces")
    return Password(value, "plain")


def _stored_at(entry: FileEntry) -> datetime | None:
    mtime = entry.source.mtime
    return datetime.fromtimestamp(mtime, timezone.utc) if mtime is not None else None


def credentials(w: World) -> list[Credential]:
    out: list[Credential] = []
    for view in w.servers:
        pw = view.password
        if pw.sent is None and view.username is None:
            continue
        out.append(Credential(
            id=view.cred_id,
            ecosystem=ECO,
            registry=view.registry or view.id,
            host=url_host(view.registry) if view.registry else "",
            source=view.entry.source.id,
            location=view.loc(),
            username=view.username,
            secret=Secret(pw.sent) if pw.sent is not None else None,
            scheme="basic" if pw.sent is not None else "none",
            via="server" + (" (decrypted)" if pw.state == "decrypted" else ""),
            clients=("maven",),
            stored_at=_stored_at(view.entry),
        ))
    for ge in w.gradle_endpoints:
        if ge.credential is not None and all(c.id != ge.credential.id for c in out):
            out.append(ge.credential)
    return out
