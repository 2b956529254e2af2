"""``fix --token-stdin`` for Maven's ``settings.xml`` and Gradle's properties.

Each credential is updated where Maven (or Gradle) takes it from, in the
form that place holds it:

* ``settings.xml`` ``<server><password>`` in plaintext -- the token, XML-escaped
  (or in its ``CDATA`` section when it had one);
* ``<password>{...}</password>`` encrypted with the master password of
  ``settings-security.xml`` -- the token encrypted again with that master
  (:func:`hardoctor.tokens.maven_encrypt`, what ``mvn --encrypt-password``
  writes), any comment around the braces kept;
* a ``<server>`` with a ``<username>`` but no ``<password>`` -- a
  ``<password>`` line added after the username (encrypted when a master
  password is set up);
* ``gradle.properties`` ``XPassword`` -- the token, escaped for Java's
  properties syntax; every other copy of the same property holding the old
  token (the other ``gradle.properties``, earlier assignments) as well.

Only the value's characters change: comments, indentation, the other lines
and the line endings stay byte for byte, and the edited text is parsed again
to prove the client reads exactly the new token from it (decrypting it with
the master, for an encrypted value).  A value that comes from the environment
-- ``${env.HARNESS_TOKEN}`` in ``settings.xml``, ``ORG_GRADLE_PROJECT_XPassword``,
``System.getenv("X")`` in a build script -- is never overwritten with the
literal token: the Rotation carries the ``export`` to run instead (with
``"$TOKEN"`` standing for the new token) and names the CI secret.  Every form
of the new token written to a file (escaped, encrypted) is registered with
:mod:`hardoctor.redact`, so the diff shows fingerprints only.
"""

from __future__ import annotations

import re

from hardoctor import lazyre, redact
from hardoctor.context import Context
from hardoctor.fixes import digest
from hardoctor.model import Applicability, Credential, Edit, Fix, Rotation, Secret
from hardoctor.records import dataclass

from . import gradle
from .cipher import maven_encrypt
from .creds import decrypt_password
from .mvnfiles import SettingsFile, parse_settings
from .state import (
    WORLD,
    FileEntry,
    GradleEndpoint,
    GradleValue,
    Master,
    ServerView,
    World,
)
from .xmlpos import XElem, XmlError, escape_text, indent_of, newline_of, text_span

_EXPR = lazyre.compile(r"\$\{([^}]+)\}")
_SHELL_NAME = lazyre.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: ``mvn --encrypt-password`` prints the value amid colour codes: keep the braces.
_MVN_ENCRYPT = "\"$(mvn --encrypt-password \"$TOKEN\" | grep -o '{[^}]*}')\""
_BY_HAND = "set it by hand"


def rotate(credential: Credential, new: Secret, ctx: Context) -> Rotation | None:
    w = ctx.stash.get(WORLD, None)
    if w is None:
        return None
    view = next((v for v in w.servers if v.cred_id == credential.id), None)
    if view is not None:
        return _server(credential, new, view, w)
    ge = next((g for g in w.gradle_endpoints
               if g.credential is not None and g.credential.id == credential.id), None)
    if ge is not None:
        return _gradle(credential, new, ge, w, ctx)
    return None


# -- settings.xml ------------------------------------------------------------------------


def _server(credential: Credential, new: Secret, view: ServerView, w: World) -> Rotation:
    srv, entry = view.server, view.entry
    label = f"<server> {view.id}"
    raw = srv.password
    if raw is not None and _EXPR.search(raw):
        return _server_from_env(credential, label, raw, view)
    if entry.text is None or not isinstance(entry.parsed, SettingsFile):
        return Rotation(credential.id, f"{label}: the file cannot be read; {_BY_HAND}")
    if srv.password_elem is None:
        return _add_password(credential, new, view, w, label)
    pw = view.password
    if pw.state == "maven4":
        return Rotation(credential.id, f"{label}: the password is encrypted in Maven 4's format, "
                        "which hardoctor does not write: encrypt the new token with Maven 4 "
                        f"(mvn --encrypt-password) and {_BY_HAND}")
    token = new.reveal()
    if pw.encrypted:
        if w.master.secret is None:
            return Rotation(credential.id, f"{label}: the password is encrypted, but the master "
                            f"password cannot be read ({w.master.detail}); encrypt the new token "
                            f"with mvn --encrypt-password and {_BY_HAND}")
        encrypted = maven_encrypt(token, w.master.secret)
        inner = _with_braces(srv.password_elem, entry.text, encrypted)
        what = f"{label}: store the new token encrypted with the master password"
        what += " (as the old one was)" if pw.state == "decrypted" else \
            " (the old value did not decrypt with it: Maven sent it as written)"
    else:
        inner = _as_xml_text(srv.password_elem, entry.text, token)
        what = f"{label}: store the new token"
    if inner is None:
        return Rotation(credential.id, f"{label}: the <password> holds XML comments or markup "
                        f"that a rewrite would lose; {_BY_HAND}")
    start, end = text_span(entry.text, srv.password_elem)
    edit = Edit(entry.path, start, end, inner, digest(entry.text))
    return _checked_server(credential, view, w, edit, token, pw.encrypted, what, label)


def _with_braces(elem: XElem, text: str, encrypted: str) -> str | None:
    """The element's new content: the ``{...}`` replaced by ``encrypted``,
    any comment around it kept as written."""
    start, end = text_span(text, elem)
    inner = text[start:end]
    if "&" not in inner and "<" not in inner:  # the raw text is the value itself
        span = _brace_span(inner)
        if span is not None:
            return inner[: span[0]] + encrypted + inner[span[1]:]
    value = elem.text
    span = _brace_span(value)
    if span is None:
        return None
    return _as_xml_text(elem, text, value[: span[0]] + encrypted + value[span[1]:])


def _brace_span(value: str) -> tuple[int, int] | None:
    """``value[start:end]`` is the ``{...}`` plexus-cipher decrypts: from the
    first unescaped ``{`` to the first unescaped ``}`` after it (as
    :func:`hardoctor.tokens.maven_encrypted` reads it)."""
    start = next((i for i, c in enumerate(value)
                  if c == "{" and (i == 0 or value[i - 1] != "\\")), -1)
    if start < 0:
        return None
    end = next((i for i in range(start + 2, len(value))
                if value[i] == "}" and value[i - 1] != "\\"), -1)
    return None if end < 0 else (start, end + 1)


def _as_xml_text(elem: XElem, text: str, value: str) -> str | None:
    """``value`` as the element's content: in the CDATA section it was
    written in, else XML-escaped.  None when the old content mixes in
    comments or markup (rewriting it would lose them)."""
    start, end = text_span(text, elem)
    inner = text[start:end]
    cdata = inner.startswith("<![CDATA[") and inner.endswith("]]>") \
        and inner.count("<![CDATA[") == 1 and inner.count("]]>") == 1
    if cdata and "]]>" not in value:
        new_inner = f"<![CDATA[{value}]]>"
    elif "<" in inner and not cdata:
        return None
    else:
        new_inner = escape_text(value)
    if value not in new_inner:  # escaped: scrub this form too
        redact.register(new_inner)
    return new_inner


def _checked_server(credential: Credential, view: ServerView, w: World, edit: Edit, token: str,
                    encrypted: bool, what: str, label: str) -> Rotation:
    """The Rotation, once the edited file is proven to give Maven the token."""
    entry = view.entry
    assert entry.text is not None
    new_text = entry.text[: edit.start] + edit.new_text + entry.text[edit.end:]
    if not _maven_reads(new_text, entry, view, w.master, token, encrypted):
        return Rotation(credential.id, f"{label}: the new token cannot be written here "
                        f"unchanged; {_BY_HAND}")
    return Rotation(credential.id, what, fix=Fix(what, Applicability.SAFE, (edit,)))


def _maven_reads(new_text: str, entry: FileEntry, view: ServerView, master: Master, token: str,
                 encrypted: bool) -> bool:
    sf = entry.parsed
    assert isinstance(sf, SettingsFile)
    index = sf.servers.index(view.server)
    try:
        again = parse_settings(new_text, entry.path, entry.role)
    except XmlError:
        return False
    if len(again.servers) != len(sf.servers):
        return False
    raw = again.servers[index].password
    if raw is None or _EXPR.search(raw):
        return False  # Maven would interpolate it
    pw = decrypt_password(raw, master)
    if encrypted:
        return pw.state == "decrypted" and pw.sent == token
    return pw.state in ("plain", "braces") and pw.sent == token


def _add_password(credential: Credential, new: Secret, view: ServerView, w: World,
                  label: str) -> Rotation:
    srv, entry = view.server, view.entry
    assert entry.text is not None
    if srv.private_key or srv.username_elem is None:
        return Rotation(credential.id, f"{label}: no <password> (a key or no user): {_BY_HAND}")
    token = new.reveal()
    encrypted = w.master.secret is not None
    value = maven_encrypt(token, w.master.secret) if w.master.secret is not None else token
    text = entry.text
    user = srv.username_elem
    indent = indent_of(text, user.start)
    escaped = escape_text(value)
    if escaped != value:
        redact.register(escaped)
    # On a line of its own like the <username>, or right after it when the
    # server is written on one line.
    line = (f"{newline_of(text)}{indent}" if indent else "") + f"<password>{escaped}</password>"
    edit = Edit(entry.path, user.end, user.end, line, digest(text))
    what = f"{label}: add a <password> with the new token" + (
        " encrypted with the master password" if encrypted else "")
    return _checked_server(credential, view, w, edit, token, encrypted, what, label)


def _server_from_env(credential: Credential, label: str, raw: str, view: ServerView) -> Rotation:
    """The password is ``${...}``: the step to run, never the literal token.
    (The reference itself is registered as a secret, so it is never quoted.)"""
    names = [m.group(1).strip() for m in _EXPR.finditer(raw)]
    whole = _EXPR.fullmatch(raw.strip()) is not None and len(names) == 1
    enc = view.password.encrypted
    if whole and names[0].startswith("env.") and _SHELL_NAME.fullmatch(names[0][4:]):
        var = names[0][4:]
        value = _MVN_ENCRYPT if enc else '"$TOKEN"'
        step = f"export {var}={value}   # and update the CI secret {var}"
        desc = f"{label}: the password comes from ${var}: set it to the new token where it is set"
        if enc:
            desc += " (encrypted with the master password, as it is now)"
        return Rotation(credential.id, desc, manual=(step,))
    envs = [f"${n[4:]}" for n in names if n.startswith("env.")]
    props = [n for n in names if not n.startswith("env.")]
    shown = ", ".join(envs + [f"the property {p}" for p in props])
    if whole and props:
        step = (f"# {label}: pass the new token as -D{props[0]}=... where Maven is started "
                "(MAVEN_OPTS, .mvn/maven.config, the CI job and its secret)")
    else:
        step = (f"# {label}: the password is built from {shown}: set them (and their CI "
                "secrets) so it reads the new token")
    return Rotation(credential.id, f"{label}: the password comes from {shown}: update it by hand",
                    manual=(step,))


# -- Gradle --------------------------------------------------------------------------------


def _gradle(credential: Credential, new: Secret, ge: GradleEndpoint, w: World,
            ctx: Context) -> Rotation:
    pw = ge.password
    assert pw is not None
    label = f'Gradle repository "{ge.repo.name}"'
    token = new.reveal()
    old = pw.value
    edits: list[Edit] = []
    failed: list[str] = []
    copies = [c for c in ge.candidates if c.value == old and _props_entry(w, c) is not None]
    for cand in copies:
        entry = _props_entry(w, cand)
        assert entry is not None and cand.where.key is not None
        found = _props_edits(entry, cand.where.key, old, token)
        if found is None:
            failed.append(ctx.display_path(entry.path))
        else:
            edits += found
    manual: tuple[str, ...] = ()
    key = pw.where.key or ""
    env = key[1:] if pw.where.path is None and key.startswith("$") else None
    if env is not None:
        step = f"export {env}=\"$TOKEN\"   # and update the CI secret {env}"
        if not _SHELL_NAME.fullmatch(env):
            step = f"# set {env} to the new token where it is set (and its CI secret)"
        manual = (step,)
        what = f"{label}: the password comes from ${env}: set it to the new token where it is set"
        if edits:
            what += "; the copies in gradle.properties are updated"
    elif _props_entry(w, pw) is not None:
        what = f"{label}: store the new token in {pw.where.key}"
        if len(copies) > 1:
            n = len(copies) - 1
            what += f" (and {n} other cop{'ies' if n > 1 else 'y'})"
    else:
        what = (f"{label}: the password is {pw.description}: {_BY_HAND} (better: "
                f"credentials(PasswordCredentials::class) and {ge.repo.name}Password in "
                "~/.gradle/gradle.properties)")
    if failed:
        what += f"; cannot rewrite it in {', '.join(failed)}: {_BY_HAND}"
    fix = Fix(what, Applicability.SAFE, tuple(edits)) if edits else None
    return Rotation(credential.id, what, fix=fix, manual=manual)


def _props_entry(w: World, value: GradleValue) -> FileEntry | None:
    entry = w.entry_for(value.source_id) if value.source_id else None
    if entry is None or entry.kind != "gradle-properties" or entry.text is None:
        return None
    return entry if value.where.path == entry.path and value.where.key else None


@dataclass(frozen=True)
class _Assignment:
    key: str
    value: str
    #: ``text[start:end]`` is the value as written (continuation lines included).
    start: int
    end: int


_NEWLINE = lazyre.compile(r"\r\n|\r|\n")
_KEY_SEP = lazyre.compile(r"((?:\\.|[^=:\s\\])*)\s*[=:]?\s*", re.S)


def _assignments(text: str) -> list[_Assignment]:
    """Every ``key=value`` of a properties file with the span of its value
    (Java's ``Properties.load``, as :func:`gradle.parse_properties` reads it)."""
    lines: list[tuple[int, int]] = []
    pos = 0
    for m in _NEWLINE.finditer(text):
        lines.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        lines.append((pos, len(text)))
    out: list[_Assignment] = []
    i = 0
    while i < len(lines):
        start, end = lines[i]
        i += 1
        line = text[start:end]
        body = line.lstrip(" \t\f")
        if not body or body[0] in "#!":
            continue
        joined, last = body, end
        while (len(joined) - len(joined.rstrip("\\"))) % 2 == 1 and i < len(lines):
            s2, e2 = lines[i]
            i += 1
            joined = joined[:-1] + text[s2:e2].lstrip(" \t\f")
            last = e2
        whole = _KEY_SEP.match(joined)
        first = _KEY_SEP.match(body)
        if whole is None or first is None or first.group(1) != whole.group(1):
            continue  # a key split over lines: not rewritten
        out.append(_Assignment(gradle._unescape(whole.group(1)),
                               gradle._unescape(joined[whole.end():]),
                               start + len(line) - len(body) + first.end(), last))
    return out


_PROP_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}


def _prop_escape(value: str) -> str:
    """``value`` as a properties value: Gradle reads the file as ISO-8859-1,
    so anything outside printable ASCII is a ``\\uXXXX`` escape."""
    out: list[str] = []
    for i, c in enumerate(value):
        if c in _PROP_ESCAPES:
            out.append(_PROP_ESCAPES[c])
        elif i == 0 and c in " =:":
            out.append("\\" + c)
        elif " " <= c <= "~":
            out.append(c)
        else:
            units = c.encode("utf-16-be")
            out += [f"\\u{units[j]:02x}{units[j + 1]:02x}" for j in range(0, len(units), 2)]
    return "".join(out)


def _props_edits(entry: FileEntry, key: str, old: str, token: str) -> list[Edit] | None:
    """Edits writing ``token`` over every assignment of ``key`` that holds
    ``old`` (None when the result would not read back as the token)."""
    text = entry.text
    assert text is not None
    value = _prop_escape(token)
    if value != token:
        redact.register(value)
    spans = [(a.start, a.end) for a in _assignments(text) if a.key == key and a.value == old]
    if not spans:
        return None
    pieces: list[str] = []
    cursor = 0
    for s, e in spans:
        pieces += [text[cursor:s], value]
        cursor = e
    pieces.append(text[cursor:])
    got = [p.value for p in gradle.parse_properties("".join(pieces)) if p.key == key]
    if not got or got[-1] != token:
        return None
    expected = digest(text)
    return [Edit(entry.path, s, e, value, expected) for s, e in spans]
