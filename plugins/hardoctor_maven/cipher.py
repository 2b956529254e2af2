"""Maven's encrypted passwords: plexus-cipher ``{...}`` values (Maven 3),
Maven 4's password-dispatcher form (recognised, not decrypted), and
``settings-security.xml``.  Errors are :class:`hardoctor.tokens.PeelError`
and never carry the value."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Literal

from hardoctor import lazyre
from hardoctor.model import Secret
from hardoctor.parsing import xml_problem
from hardoctor.records import dataclass, field
from hardoctor.tokens import PeelError

_B64_STRICT = lazyre.compile(r"^[A-Za-z0-9+/]*={0,2}$")


#: The fixed passphrase plexus-cipher uses for the master password in
#: ``settings-security.xml``.
MAVEN_MASTER_PASSPHRASE = "settings.security"


@dataclass(frozen=True)
class MavenEncrypted:
    """A Maven ``{...}`` encrypted value, recognised (not yet decrypted)."""

    format: Literal["plexus", "maven4"]
    payload: str = field(repr=False)
    #: Maven 4's ``[name=...,cipher=...,version=...]`` attributes.
    attributes: Mapping[str, str] = field(default_factory=dict)
    #: Text outside the braces (Maven allows a comment around the value).
    comment: str = ""

    @property
    def readable(self) -> bool:
        """Can hardoctor decrypt it (given the master password)?"""
        return self.format == "plexus"

    @property
    def why_unreadable(self) -> str:
        if self.readable:
            return ""
        cipher = self.attributes.get("cipher", "?")
        return (
            f"encrypted with Maven 4's password dispatcher ({cipher}); its master password "
            "comes from the master source configured for Maven 4, which hardoctor does not read"
        )


_MAVEN4 = lazyre.compile(r"^\[([^\]]*)\](.*)$", re.S)


def maven_encrypted(value: str) -> MavenEncrypted | None:
    """Recognise ``{BASE64}`` (plexus-cipher, Maven 3) and
    ``{[name=master,cipher=AES/GCM/NoPadding,version=4.0]BASE64}`` (Maven 4).

    Like plexus-cipher (its pattern is ``.*?[^\\]?\\{(.*?[^\\])\\}.*``), the
    payload is between the first unescaped ``{`` and the first unescaped
    ``}`` after it; text around it is a comment.
    """
    start = -1
    for i, c in enumerate(value):
        if c == "{" and (i == 0 or value[i - 1] != "\\"):
            start = i
            break
    end = -1
    for i in range(start + 2, len(value)):
        if value[i] == "}" and value[i - 1] != "\\":
            end = i
            break
    if start < 0 or end < 0:
        return None
    inner = value[start + 1 : end]
    comment = (value[:start] + value[end + 1 :]).strip()
    m = _MAVEN4.match(inner)
    if m:
        attrs = {}
        for item in m.group(1).split(","):
            k, _, v = item.partition("=")
            if k.strip():
                attrs[k.strip()] = v.strip()
        return MavenEncrypted("maven4", m.group(2).strip(), attrs, comment)
    payload = inner.strip()
    if not payload or not _B64_STRICT.match(payload.replace("\n", "")):
        return None
    return MavenEncrypted("plexus", payload, {}, comment)


def _plexus_key_iv(password: bytes, salt: bytes) -> tuple[bytes, bytes]:
    # plexus-cipher's PBECipher: SHA-256 over password + 8-byte salt gives
    # 32 bytes in one round; the first 16 are the AES-128 key, the rest the IV.
    import hashlib  # here: OpenSSL's start-up only when a password is decrypted

    digest = hashlib.sha256(password + salt[:8]).digest()
    return digest[:16], digest[16:32]


def maven_decrypt(value: str, master: str | Secret) -> Secret:
    """Decrypt a plexus-cipher ``{...}`` value with ``master``.

    Format (plexus-cipher 2.0 ``PBECipher``): base64 of salt (8 bytes) |
    padLen (1 byte) | ciphertext | padLen filler bytes; AES-128-CBC with
    PKCS#5 padding.  Raises :class:`PeelError`: ``not-encrypted``,
    ``unreadable`` (Maven 4), ``bad-base64``, ``wrong-master`` (the usual
    cause of a bad padding) -- never with the value in the message.
    """
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    enc = maven_encrypted(value)
    if enc is None:
        raise PeelError("not-encrypted", "is not a Maven {...} encrypted value")
    if not enc.readable:
        raise PeelError("unreadable", enc.why_unreadable)
    try:
        blob = base64.b64decode(enc.payload.replace("\n", ""), validate=True)
    except binascii.Error:
        raise PeelError("bad-base64", "has a payload that is not valid base64") from None
    if len(blob) < 8 + 1 + 16:
        raise PeelError("bad-length", "is too short to be a plexus-cipher value (truncated?)")
    salt, pad_len = blob[:8], blob[8]
    body = blob[9 : len(blob) - pad_len]
    if not body or len(body) % 16:
        raise PeelError("bad-length", "has a ciphertext that is not whole AES blocks (truncated?)")
    secret = master.reveal() if isinstance(master, Secret) else master
    key, iv = _plexus_key_iv(secret.encode("utf-8"), salt)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        clear = unpadder.update(padded) + unpadder.finalize()
        text = clear.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise PeelError(
            "wrong-master",
            "does not decrypt with this master password (wrong master, or the "
            "value was encrypted with another one)",
        ) from None
    return Secret(text)


def maven_encrypt(plaintext: str | Secret, master: str | Secret) -> str:
    """Encrypt ``plaintext`` with ``master`` as Maven 3's ``mvn
    --encrypt-password`` does: the ``{BASE64}`` value :func:`maven_decrypt`
    (and plexus-cipher) reads back.

    plexus-cipher 2.0 ``PBECipher.encrypt64``: a random 8-byte salt; key and
    IV from SHA-256(master + salt); AES-128-CBC with PKCS#5 padding over the
    UTF-8 text; then base64 of salt | padLen (1 byte) | ciphertext | padLen
    random filler bytes, where ``padLen = 16 - (8 + len(ciphertext) + 1) %
    16`` (always 7).  A fresh salt every call, so the same password never
    encrypts to the same value twice.  The result, its payload and the
    plaintext are registered with :mod:`hardoctor.redact`: the encrypted
    form is as good as the password to anyone holding the master.
    """
    import secrets as _random

    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from hardoctor import redact

    clear = plaintext.reveal() if isinstance(plaintext, Secret) else plaintext
    secret = master.reveal() if isinstance(master, Secret) else master
    salt = _random.token_bytes(8)
    key, iv = _plexus_key_iv(secret.encode("utf-8"), salt)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(clear.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    body = encryptor.update(padded) + encryptor.finalize()
    pad_len = 16 - (8 + len(body) + 1) % 16
    payload = base64.b64encode(salt + bytes([pad_len]) + body + _random.token_bytes(pad_len))
    value = "{" + payload.decode("ascii") + "}"
    for form in (clear, value, payload.decode("ascii")):
        redact.register(form)
    return value


def maven_decrypt_master(value: str) -> Secret:
    """The master password of ``settings-security.xml``: itself encrypted,
    with the fixed passphrase ``settings.security``."""
    return maven_decrypt(value, MAVEN_MASTER_PASSPHRASE)


@dataclass(frozen=True)
class MavenSecurity:
    """What ``settings-security.xml`` says: the encrypted master, or where
    the real file is (``<relocation>``)."""

    master: str | None = field(default=None, repr=False)
    relocation: str | None = None


def parse_settings_security(xml_text: str) -> MavenSecurity:
    """Read ``<settingsSecurity><master>`` / ``<relocation>``.  Raises
    :class:`PeelError` ``bad-xml`` on a file Maven cannot parse either."""
    import xml.etree.ElementTree as ET

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(xml_text)
    except ET.ParseError as exc:
        raise PeelError("bad-xml", f"is not well-formed XML ({xml_problem(exc)})") from None
    except DefusedXmlException:
        # Entities and DTDs are refused: a settings-security.xml never needs them.
        raise PeelError("bad-xml", "uses a DTD or entities, which are refused") from None

    def text_of(tag: str) -> str | None:
        for el in root.iter():
            if el.tag.rsplit("}", 1)[-1] == tag and el.text and el.text.strip():
                return str(el.text).strip()
        return None

    master = text_of("master")
    if master:
        Secret(master)
    return MavenSecurity(master=master, relocation=text_of("relocation"))


