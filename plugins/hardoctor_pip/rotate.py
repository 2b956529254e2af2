"""``fix --token-stdin`` for pip, uv and Poetry.

Each credential gets the new token in the slot its client reads it from,
encoded the way that slot holds it:

* an index URL's userinfo (``pip.conf``, ``requirements*.txt``, ``uv.toml``
  / ``[tool.uv]``, ``[[tool.poetry.source]]``): the password -- or the
  username, when the old token sat there and pip sent it as the username --
  percent-encoded so that pip (and uv, and requests) decode exactly the new
  token; a URL with a username but no password gets ``:TOKEN`` added (that is
  what the new token was probed as);
* a ``.netrc`` entry: its ``password`` token (quoted when Python's netrc
  needs it), or a ``password`` added when the entry has none;
* Poetry's ``http-basic.NAME.password`` (``auth.toml``, ``config.toml``,
  ``poetry.toml``): the TOML string, escaped as its quotes need.

Only the value's characters change; every other byte of the file stays, and
the edited text is parsed again to prove the client reads exactly the new
token from it.  A value that comes from the environment -- ``PIP_INDEX_URL``,
``PIP_EXTRA_INDEX_URL``, ``UV_INDEX``/``UV_DEFAULT_INDEX``/``UV_INDEX_URL``/
``UV_EXTRA_INDEX_URL``, ``UV_INDEX_<NAME>_PASSWORD``,
``POETRY_HTTP_BASIC_<NAME>_PASSWORD``, ``${VAR}`` in a requirements file --
is never overwritten with the literal token: the Rotation carries the
``export`` to run (``"$TOKEN"`` stands for the new token, percent-encoded by
the command itself where a URL needs it) and names the CI secret.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from hardoctor import lazyre, redact
from hardoctor.context import Context
from hardoctor.fixes import digest
from hardoctor.model import Applicability, Credential, Edit, Fix, Rotation, Secret, Target
from hardoctor.records import dataclass
from hardoctor.stash import StashKey

from . import ini, netrcfile, requirements, tomlconf, urls
from .config import poetry_env_name
from .creds import Creds
from .model import ECO, IndexRef, Model, PoetryAuth

_SCHEME = lazyre.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_SHELL_NAME = lazyre.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Stands for the new token while a value is built (never in a real value).
_MARK = "\x00TOKEN\x00"
#: The new token, percent-encoded by the shell command itself (no token in
#: the printed text).
_PCT_EXPR = ("$(python3 -c 'import sys, urllib.parse; "
             "print(urllib.parse.quote(sys.argv[1], safe=\"\"))' \"$TOKEN\")")
#: Variables that hold whitespace-separated URL lists (uv's may be NAME=URL).
_LIST_VARS = frozenset({"PIP_EXTRA_INDEX_URL", "UV_INDEX", "UV_EXTRA_INDEX_URL"})
_NAMED_VARS = frozenset({"UV_INDEX", "UV_DEFAULT_INDEX"})
#: Ids of the credentials without a password that a client really sends.
_USED: StashKey[set[str]] = StashKey("pip.rotate.used")


def rotate(ctx: Context, model: Model, found: Creds, credential: Credential,
           new: Secret) -> Rotation | None:
    cid = credential.id
    if not any(c.id == cid for c in found.all):
        return None
    token = new.reveal()
    _register(token)
    if not credential.secret and not _sent_empty(ctx, model, found, credential):
        # An empty password "matches" every other empty one by fingerprint;
        # only the credential a client really sends to the registry gets
        # the token.
        return Rotation(cid, "holds no password that is sent to this registry: left as it is")
    entry = next((e for e in (model.netrc.doc.entries if model.netrc.doc else [])
                  if found.by_netrc.get(e.line) == cid), None)
    if entry is not None:
        return _netrc(credential, token, model, entry)
    envk = next((k for k, v in found.uv_env.items() if v == cid), None)
    if envk is not None:
        var = f"UV_INDEX_{envk}_PASSWORD"
        return _manual_var(credential, f"${var} is set in the environment: set it to the new "
                           "token where it is set", var, '"$TOKEN"')
    name = next((n for n, v in found.poetry.items() if v == cid), None)
    if name is not None:
        auth = model.poetry.auth.get(name)
        return _poetry(ctx, credential, token, model, auth) if auth is not None else None
    refs = [r for r in model.refs if found.by_ref.get(r) == cid]
    if not refs:
        return None
    return _url(ctx, credential, token, model, found, refs)


def _sent_empty(ctx: Context, model: Model, found: Creds, credential: Credential) -> bool:
    """Is this credential without a password the one a client really sends
    (with the empty password) to one of the indexes of this run?  Worked out
    by resolving those indexes again, exactly as ``check`` did."""
    from .resolve import client_indexes, resolve
    from .state import locations

    used = ctx.stash.get(_USED, None)
    if used is None:
        wanted = set(locations(ctx))
        target = Target(raw="pip:rotation", kind="package", host="", ecosystem=ECO,
                        name="rotation")
        used = set()
        if wanted and any(refs for refs in client_indexes(model).values()):
            for res in resolve(ctx, target, model, found):
                if (res.client, res.target.url or "") in wanted and res.credential is not None:
                    used.add(res.credential.id)
        ctx.stash[_USED] = used
    return credential.id in used


# -- secrets -------------------------------------------------------------------------


def pct(value: str) -> str:
    """``value`` percent-encoded for a URL's userinfo: everything but the
    unreserved characters, so no file format (ini, TOML, requirements, a
    shell) reads any of it differently, and pip decodes exactly ``value``."""
    return quote(value, safe="")


def _register_pair(user: str, password: str) -> None:
    """The Basic header's base64 of ``user:password`` (the pair itself is not
    registered: the username would vanish from every diff, and the password
    in it is scrubbed on its own)."""
    raw = f"{user}:{password}".encode()
    for form in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        redact.register(form)
        redact.register(form.rstrip("="))


def _register(token: str) -> None:
    """Every derived form of the new token is a secret too."""
    redact.register(pct(token))
    redact.register(_netrc_quote(token))
    redact.register(_toml_basic(token))


# -- index URLs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """Where the token goes in one URL value: ``value[start:end]`` becomes
    ``prefix + token`` (percent-encoded)."""

    start: int
    end: int
    prefix: str
    #: ``password``, ``username`` or ``add-password``.
    kind: str


def slot_for(value: str, credential: Credential) -> Slot | None:
    """The token's slot in ``value``, split the way pip splits it
    (``urlsplit`` netloc, userinfo up to the *last* ``@``, username up to the
    first ``:``)."""
    lead = len(value) - len(value.lstrip())
    m = _SCHEME.match(value, lead)
    if not m:
        return None
    s = m.end()
    stop = len(value.rstrip())
    ends = [i for i in (value.find(c, s, stop) for c in "/?#") if i >= 0]
    netloc_end = min(ends) if ends else stop
    at = value.rfind("@", s, netloc_end)
    if at < 0:
        return None
    colon = value.find(":", s, at)
    if colon >= 0:
        return Slot(colon + 1, at, "", "password")
    if credential.username is None:
        return Slot(s, at, "", "username")  # the token is the username pip sends
    return Slot(at, at, ":", "add-password")


def _apply_slots(value: str, slots: Sequence[Slot], fill: str) -> str:
    out, last = [], 0
    for sl in sorted(slots, key=lambda x: x.start):
        out += [value[last:sl.start], sl.prefix + fill]
        last = sl.end
    return "".join(out) + value[last:]


def _reads_new(value: str, old: urls.IndexUrl, kind: str, token: str) -> bool:
    """Does pip read exactly the new token, the same other part and the same
    index from ``value``?"""
    url = urls.parse_index_url(value)
    if url is None or url.bare != old.bare:
        return False
    if kind == "username":
        return url.username == token and url.password == old.password
    return url.password == token and url.username == old.username


def _url(ctx: Context, credential: Credential, token: str, model: Model, found: Creds,
         refs: list[IndexRef]) -> Rotation | None:
    ref = refs[0]
    if ref.url is None:
        return None
    slot = slot_for(ref.raw, credential)
    if slot is None:
        return None
    if slot.kind == "username":
        _register_pair(token, ref.url.password or "")
    else:
        _register_pair(ref.url.username or "", token)
        _register_pair(ref.url.username or "", ref.url.password or "")
    where = {
        "password": "the index URL's password",
        "username": "the index URL's username, where the old token was (pip sends it as the "
                    "username)",
        "add-password": "the index URL as its password",
    }[slot.kind]
    label = f"{ref.key}: put the new token in {where}, percent-encoded"
    if ref.env is not None:
        return _env_url(ctx, credential, token, model, found, ref)
    if ref.source.startswith("pip:req:") and ref.written is not None and (
            ref.written != ref.raw or requirements.ENV_VAR_RE.search(ref.written)):
        return _requirements(ctx, credential, token, model, ref, label, slot.kind)
    edits: list[Edit] = []
    for r in refs:
        e = _literal_edit(credential, token, model, r, slot.kind)
        if e is None:
            return Rotation(credential.id, f"{r.key}: the new token cannot be written into this "
                            "URL unchanged; set it by hand")
        edits.append(e)
    return Rotation(credential.id, label, fix=Fix(label, Applicability.SAFE, tuple(edits)))


def _literal_edit(credential: Credential, token: str, model: Model, ref: IndexRef,
                  kind: str) -> Edit | None:
    """The edit of a URL written literally in a file (no variables)."""
    text = model.texts.get(ref.source)
    if text is None or ref.path is None or ref.start is None or ref.end is None:
        return None
    raw = ref.raw
    if ref.url is None or text[ref.start:ref.end] != raw or (
            ref.written is not None and ref.written != raw):
        return None
    slot = slot_for(raw, credential)
    if slot is None or slot.kind != kind:
        return None
    new_raw = _apply_slots(raw, [slot], pct(token))
    if not _reads_new(new_raw, ref.url, kind, token):
        return None
    new_text = text[:ref.start] + new_raw + text[ref.end:]
    if not _still_parses(ref.source, new_text):
        return None
    return Edit(ref.path, ref.start + slot.start, ref.start + slot.end,
                slot.prefix + pct(token), expected=digest(text))


def _still_parses(source: str, new_text: str) -> bool:
    if source.startswith("pip:conf:"):
        return ini.parse(new_text).error is None
    if source.startswith("pip:toml:"):
        return tomlconf.load(new_text).data is not None
    return True


# -- requirements files with ${VAR} -----------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A piece of a requirements value: literal text or one ``${VAR}``."""

    var: str | None
    #: Span in the written value and in the expanded value.
    wstart: int
    wend: int
    estart: int
    eend: int
    #: The variable's value (expanded text).
    value: str
    #: An unset or empty ``${VAR}``: pip leaves the text as it is.
    unset: bool = False


def _segments(written: str, environ: Mapping[str, str]) -> tuple[str, list[Segment]]:
    out: list[Segment] = []
    expanded: list[str] = []
    pos = epos = 0

    def lit(a: int, b: int) -> None:
        nonlocal epos
        if b > a:
            out.append(Segment(None, a, b, epos, epos + b - a, written[a:b]))
            expanded.append(written[a:b])
            epos += b - a

    for m in requirements.ENV_VAR_RE.finditer(written):
        value = environ.get(m.group("name"))
        unset = not value
        if unset:
            value = m.group(0)  # pip leaves it as literal text
        assert value is not None
        lit(pos, m.start())
        out.append(Segment(m.group("name"), m.start(), m.end(), epos, epos + len(value), value,
                           unset))
        expanded.append(value)
        epos += len(value)
        pos = m.end()
    lit(pos, len(written))
    return "".join(expanded), out


def _requirements(ctx: Context, credential: Credential, token: str, model: Model,
                  ref: IndexRef, label: str, kind: str) -> Rotation | None:
    assert ref.written is not None
    environ = ctx.env.environ
    expanded, segs = _segments(ref.written, environ)
    if expanded != ref.raw:
        return None  # quoted on the line: pip's value is not the text as written
    slot = slot_for(expanded, credential)
    if slot is None:
        return None
    covering = _covering(segs, slot)
    if covering is None:
        names = tuple(dict.fromkeys(s.var for s in segs if s.var))
        return _manual_comment(credential, ref.key, names)
    seg = covering
    if seg.var is not None:
        rel = Slot(slot.start - seg.estart, slot.end - seg.estart, slot.prefix, slot.kind)
        if seg.unset and (rel.start, rel.end, rel.prefix) != (0, len(seg.value), ""):
            return _manual_comment(credential, ref.key, (seg.var,))
        template = _apply_slots(seg.value, [rel], _MARK)
        what = "token" if template == _MARK else "URL"
        # "$VAR", not "${VAR}": an unexpanded "${VAR}" is a registered
        # secret value (pip sends it as the password) and would be scrubbed.
        return _manual_var(credential, f"{_short(ref)} {ref.key}: the {what} comes from "
                           f"${seg.var}: set it to the new {what} where it is set", seg.var,
                           _shell_template(template, token))
    # The token's slot is literal text in the file: edit it there.
    opt = _req_option(model, ref)
    text = model.texts.get(ref.source)
    if opt is None or opt.start is None or text is None or ref.path is None:
        return None
    wslot = Slot(seg.wstart + slot.start - seg.estart, seg.wstart + slot.end - seg.estart,
                 slot.prefix, slot.kind)
    new_written = _apply_slots(ref.written, [wslot], pct(token))
    new_value, _ = _segments(new_written, environ)
    if ref.url is None or not _reads_new(new_value, ref.url, kind, token):
        return None
    edit = Edit(ref.path, opt.start + wslot.start, opt.start + wslot.end,
                wslot.prefix + pct(token), expected=digest(text))
    return Rotation(credential.id, label, fix=Fix(label, Applicability.SAFE, (edit,)))


def _covering(segs: Sequence[Segment], slot: Slot) -> Segment | None:
    """The one segment holding the whole slot (a literal one preferred at a
    boundary), or None when the slot spans several."""
    best = None
    for s in segs:
        if s.estart <= slot.start and slot.end <= s.eend:
            if s.var is None:
                return s
            best = best or s
    return best


def _req_option(model: Model, ref: IndexRef) -> requirements.ReqOption | None:
    rf = next((r for r in model.requirements if r.source_id == ref.source), None)
    if rf is None:
        return None
    return next((o for o in rf.doc.options
                 if o.line == ref.line and o.name == ref.role and o.raw == ref.written), None)


def _short(ref: IndexRef) -> str:
    return os.path.basename(ref.path or "") or ref.source


# -- values from the environment -----------------------------------------------------------


def _env_url(ctx: Context, credential: Credential, token: str, model: Model, found: Creds,
             ref: IndexRef) -> Rotation | None:
    """``PIP_INDEX_URL`` and friends: the export that puts the new token in
    the variable, every other character of its value kept."""
    var = ref.env
    assert var is not None
    value = ctx.getenv(var) or ""
    # Every URL of the variable holding the same old token gets it in one
    # export (two exports of one variable would undo each other).
    holders = [r for r in model.refs if r.env == var and _same_secret(found, r, credential)]
    if not any(h is ref for h in holders):
        holders.insert(0, ref)
    slots: list[Slot] = []
    for item_start, url in _items(var, value):
        r = next((h for h in holders if h.raw == url), None)
        if r is None:
            continue
        cred = next((c for c in found.all if c.id == found.by_ref.get(r)), credential)
        sl = slot_for(url, cred)
        if sl is None:
            return None
        slots.append(Slot(item_start + sl.start, item_start + sl.end, sl.prefix, sl.kind))
    if not slots:
        return None
    first = next((h for h in model.refs if any(h is x for x in holders)), ref)
    if found.by_ref.get(first) != credential.id:
        return Rotation(credential.id, f"{ref.key} comes from ${var}: the export shown for it "
                        "covers this URL too")
    template = _apply_slots(value, slots, _MARK)
    return _manual_var(credential, f"{ref.key} is set in the environment: set it to the URL "
                       "with the new token where it is set", var, _shell_template(template, token))


def _same_secret(found: Creds, ref: IndexRef, credential: Credential) -> bool:
    cid = found.by_ref.get(ref)
    if cid == credential.id:
        return True
    other = next((c for c in found.all if c.id == cid), None)
    return (other is not None and other.secret is not None and credential.secret is not None
            and bool(credential.secret) and other.secret == credential.secret)


def _items(var: str, value: str) -> list[tuple[int, str]]:
    """(offset, URL) of each URL in the variable's value, as the plugin read
    them (``NAME=URL`` items of uv's variables split)."""
    if var not in _LIST_VARS:
        stripped = value.strip()
        items = [(len(value) - len(value.lstrip()), stripped)] if stripped else []
    else:
        items = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", value)]
    out = []
    for start, item in items:
        if var in _NAMED_VARS and "=" in item:
            name, url = item.split("=", 1)
            if name and ":" not in name:
                out.append((start + len(name) + 1, url))
                continue
        out.append((start, item))
    return out


def _needs_pct(token: str) -> bool:
    return pct(token) != token


def _shell_template(template: str, token: str) -> str:
    """A double-quoted shell word for ``template`` with the mark replaced by
    the new token -- percent-encoded by the command itself when the token
    needs it (the text never holds the token)."""
    encode = _needs_pct(token)
    parts = template.split(_MARK)
    out = ['"']
    for i, part in enumerate(parts):
        out.append(re.sub(r'([\\"$`])', r"\\\1", part))
        if i < len(parts) - 1:
            if encode:
                out.append(_PCT_EXPR)
            else:
                nxt = parts[i + 1][:1]
                out.append("${TOKEN}" if re.match(r"[A-Za-z0-9_]", nxt) else "$TOKEN")
    out.append('"')
    return "".join(out)


def _manual_var(credential: Credential, desc: str, var: str, shell_value: str) -> Rotation:
    if _SHELL_NAME.fullmatch(var):
        step = f"export {var}={shell_value}   # and update the CI secret {var}"
    else:
        step = f"# set {var} to {shell_value} where it is defined (and its CI secret)"
    return Rotation(credential.id, desc, manual=(step,))


def _manual_comment(credential: Credential, key: str, names: Sequence[str]) -> Rotation:
    shown = ", ".join(f"${n}" for n in names) or "environment variables"
    step = (f"# {key} is built from {shown}: set them (and their CI secrets) so the URL carries "
            "the new token")
    return Rotation(credential.id, f"{key} is built from {shown}: update them by hand",
                    manual=(step,))


# -- .netrc ------------------------------------------------------------------------------


def _netrc_quote(value: str) -> str:
    """A netrc token Python's netrc reads back as ``value``."""
    if value and not re.search(r'[\s"\\]', value) and not value.startswith("#"):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _netrc(credential: Credential, token: str, model: Model,
           entry: netrcfile.Entry) -> Rotation | None:
    view = model.netrc
    text = model.texts.get(view.source_id or "")
    doc = view.doc
    if text is None or view.path is None or doc is None:
        return None
    index = next(i for i, e in enumerate(doc.entries) if e is entry)
    label = "default" if entry.kind == "default" else f"machine {entry.name}"
    value = _netrc_quote(token)
    if entry.password is not None:
        start, end, new = entry.password.start, entry.password.end, value
        what = f"{label}: store the new token as the password"
    else:
        start = end = entry.end
        new = f" password {value}"
        what = f"{label}: add the new token as the password"
    login = entry.values[0] or entry.values[1]
    _register_pair(login, token)
    _register_pair(login, entry.values[2])
    after = netrcfile.parse(text[:start] + new + text[end:])
    if after.error is not None or len(after.entries) != len(doc.entries):
        return Rotation(credential.id, f"{label}: the new token cannot be written here "
                        "unchanged; set it by hand")
    got = after.entries[index]
    if got.values != (entry.values[0], entry.values[1], token) or got.name != entry.name:
        return Rotation(credential.id, f"{label}: the new token cannot be written here "
                        "unchanged; set it by hand")
    edit = Edit(view.path, start, end, new, expected=digest(text))
    return Rotation(credential.id, what, fix=Fix(what, Applicability.SAFE, (edit,)))


# -- Poetry http-basic ---------------------------------------------------------------------


def _toml_basic(value: str) -> str:
    """The inside of a TOML basic string ("...") holding ``value``."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _poetry(ctx: Context, credential: Credential, token: str, model: Model,
            auth: PoetryAuth) -> Rotation | None:
    label = f"http-basic.{auth.name}.password"
    envk = poetry_env_name(auth.name)
    var = f"POETRY_HTTP_BASIC_{envk}_PASSWORD"
    if auth.from_env or ctx.getenv(var) is not None:
        return _manual_var(credential, f"{label} comes from ${var}: set it to the new token "
                           "where it is set", var, '"$TOKEN"')
    if auth.password_span is None:
        return None
    path, s, e = auth.password_span
    text = model.texts.get(auth.source_id)
    if text is None or s < 1:
        return None
    quote_char = text[s - 1]
    candidates: list[tuple[int, int, str]] = []
    plain = "'" not in token and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in token)
    if quote_char == "'" and plain:
        candidates.append((s, e, token))
    if quote_char == '"':
        candidates.append((s, e, _toml_basic(token)))
    candidates.append((s - 1, e + 1, '"' + _toml_basic(token) + '"'))
    for start, end, new in candidates:
        new_text = text[:start] + new + text[end:]
        doc = tomlconf.load(new_text)
        if doc.data is not None and tomlconf.get(doc.data, "http-basic", auth.name,
                                                 "password") == token:
            what = f"{label}: store the new token"
            edit = Edit(path, start, end, new, expected=digest(text))
            return Rotation(credential.id, what, fix=Fix(what, Applicability.SAFE, (edit,)))
    return Rotation(credential.id, f"{label}: the new token cannot be written here unchanged; "
                    "set it by hand")
