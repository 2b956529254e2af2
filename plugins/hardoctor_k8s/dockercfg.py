"""What the kubelet makes of a pull secret's value.

Follows ``pkg/credentialprovider/secrets/secrets.go`` (``MakeDockerKeyring``)
and ``pkg/credentialprovider/config.go``:

* ``kubernetes.io/dockerconfigjson`` + key ``.dockerconfigjson``: JSON
  ``{"auths": {KEY: ENTRY}}`` (Go struct: the field name ``auths`` matches
  case-insensitively; other top-level fields are ignored);
* ``kubernetes.io/dockercfg`` + key ``.dockercfg``: the flat map
  ``{KEY: ENTRY}``;
* an ENTRY has ``username``, ``password``, ``email`` and ``auth`` (matched
  case-insensitively); a non-empty ``auth`` is base64 of ``user:password``
  and replaces the other two.  ``identitytoken``, ``registrytoken`` and
  credential helpers are not read.

Any ``json.Unmarshal`` error -- invalid JSON, a wrong type, an ``auth`` that
is not base64 of ``user:password`` -- makes ``MakeDockerKeyring`` fail, and
the kubelet then fails *every* image pull of a pod that lists the secret,
whatever registry the image is on.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from hardoctor import jsonspan, redact
from hardoctor.lazy import submodule
from hardoctor.records import dataclass, field

if TYPE_CHECKING:
    from hardoctor import tokens
else:  # the token parsers load when a credential is read (start-up)
    tokens = submodule("hardoctor", "tokens")

TYPE_JSON = "kubernetes.io/dockerconfigjson"
TYPE_CFG = "kubernetes.io/dockercfg"
KEY_JSON = ".dockerconfigjson"
KEY_CFG = ".dockercfg"
KEY_FOR_TYPE = {TYPE_JSON: KEY_JSON, TYPE_CFG: KEY_CFG}
TYPE_FOR_KEY = {KEY_JSON: TYPE_JSON, KEY_CFG: TYPE_CFG}
PULL_TYPES = frozenset(KEY_FOR_TYPE)
ENTRY_FIELDS = ("username", "password", "email", "auth")
UNSUPPORTED_FIELDS = ("identitytoken", "registrytoken")
HELPER_FIELDS = ("credsstore", "credhelpers")


@dataclass(frozen=True)
class Problem:
    """Something wrong with the value.  ``code`` is stable; ``text`` never
    holds a secret."""

    code: str
    text: str
    #: The kubelet's keyring fails on it: every pull of the pod fails.
    breaks: bool = False
    #: The registry key the problem is about (entry-level problems).
    key: str | None = None


@dataclass(frozen=True)
class Entry:
    """One registry entry as the kubelet reads it."""

    key: str
    username: str | None = field(default=None)
    #: Registered with :mod:`hardoctor.redact`; wrap in ``Secret`` to pass on.
    password: str | None = field(default=None, repr=False)
    email: str | None = None
    #: Fields present that the kubelet does not read (identitytoken, ...).
    unsupported: tuple[str, ...] = ()
    #: The entry came from ``auth`` (else from username/password fields).
    from_auth: bool = False

    @property
    def has_credentials(self) -> bool:
        return bool(self.username) or bool(self.password)


@dataclass(frozen=True)
class Decoded:
    """A ``.dockerconfigjson`` / ``.dockercfg`` value, decoded."""

    key: str
    #: ``data`` (base64) or ``stringData`` (raw).
    section: str
    #: The JSON text the kubelet receives after the API server's decoding
    #: (None when it is not text).  Holds secrets: never shown.
    json_text: str | None = field(default=None, repr=False)
    #: The JSON text that was *meant* (one base64 layer peeled off a
    #: double-encoded value); equals ``json_text`` otherwise.
    intended_text: str | None = field(default=None, repr=False)
    problems: tuple[Problem, ...] = ()
    #: What the kubelet will use.
    entries: tuple[Entry, ...] = ()
    #: What was meant, when the shape is wrong (no ``auths`` wrapper, a
    #: wrapper in a ``.dockercfg``, double encoding): these entries would
    #: work after the fix.
    intended: tuple[Entry, ...] = ()
    #: Top-level keys of the JSON object (for messages).
    top_keys: tuple[str, ...] = ()

    @property
    def breaks(self) -> bool:
        return any(p.breaks for p in self.problems)

    def has(self, code: str) -> bool:
        return any(p.code == code for p in self.problems)


def _fold(node: jsonspan.Node, name: str) -> jsonspan.Member | None:
    """Go's encoding/json: an exact field name wins, else the last
    case-insensitive match (each member is assigned in order)."""
    return jsonspan.member(node, name, casefold=True)


def _entry(key: str, node: jsonspan.Node) -> tuple[Entry | None, list[Problem]]:
    problems: list[Problem] = []
    if node.kind == "null":
        return Entry(key), problems
    if node.kind != "object":
        return None, [Problem("entry-not-object", f'the entry for "{key}" is a JSON {node.kind}, '
                              "not an object", True, key)]
    values: dict[str, str] = {}
    for name in ENTRY_FIELDS:
        m = _fold(node, name)
        if m is None or m.value.kind == "null":
            continue
        if m.value.kind != "string":
            problems.append(Problem("field-type", f'"{key}".{m.key} is a JSON {m.value.kind}, '
                                    "not a string", True, key))
            continue
        values[name] = str(m.value.value)
    unsupported = []
    for name in UNSUPPORTED_FIELDS:
        m = _fold(node, name)
        if m is not None and m.value.kind == "string" and m.value.value:
            redact.register(str(m.value.value))
            unsupported.append(m.key)
    for name in ("password", "auth"):
        if values.get(name):
            redact.register(values[name])
    user, password = values.get("username"), values.get("password")
    from_auth = False
    auth = values.get("auth")
    if auth:
        try:
            peeled = tokens.peel_basic_auth(auth, strict=True)
        except tokens.PeelError as exc:
            if exc.code != "not-text":
                problems.append(Problem(f"auth-{exc.code}", f'"{key}".auth {exc}', True, key))
                return None, problems
            # Go decodes it anyway and sends the bytes: the registry refuses.
            problems.append(Problem("auth-not-text", f'"{key}".auth {exc}', False, key))
            return Entry(key, None, None, values.get("email"), tuple(unsupported)), problems
        user, password, from_auth = peeled.username, peeled.password.reveal(), True
    if problems:
        return None, problems
    return Entry(key, user, password, values.get("email"), tuple(unsupported), from_auth), problems


def _entries(obj: jsonspan.Node) -> tuple[list[Entry], list[Problem]]:
    entries: list[Entry] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for m in obj.members:
        entry, probs = _entry(m.key, m.value)
        problems += probs
        if entry is None:
            continue
        if m.key in seen:  # duplicate key: the last one wins, as in Go
            entries[seen[m.key]] = entry
            continue
        seen[m.key] = len(entries)
        entries.append(entry)
    return entries, problems


def parse_json(key: str, text: str) -> tuple[list[Entry], list[Entry], list[Problem], list[str]]:
    """(kubelet entries, intended entries, problems, top-level keys) of the
    decoded JSON of ``key``."""
    try:
        root = jsonspan.parse(text)
    except jsonspan.JSONSpanError as exc:
        return [], [], [Problem("bad-json", f"is not valid JSON ({exc.msg} at line {exc.line} "
                                "column {exc.column})", True)], []
    if root.kind != "object":
        return [], [], [Problem("not-object", f"holds a JSON {root.kind}, not an object", True)], []
    top = [m.key for m in root.members]
    problems: list[Problem] = []
    helpers = [m.key for m in root.members if m.key.lower() in HELPER_FIELDS]
    if helpers:
        problems.append(Problem(
            "helpers", f"names credential helpers ({', '.join(helpers)}): the kubelet never runs "
            "them"))
    auths = _fold(root, "auths")
    if key == KEY_JSON:
        if auths is None or auths.value.kind == "null":
            # Without the wrapper Go decodes nothing: no credentials at all.
            flat_like = [m for m in root.members if m.value.kind == "object"
                         and m.key.lower() not in HELPER_FIELDS and m.key.lower() != "httpheaders"]
            intended: list[Entry] = []
            if flat_like:
                fake = jsonspan.Node({}, root.start, root.end, "object", members=tuple(flat_like))
                intended, _ = _entries(fake)
                problems.append(Problem(
                    "no-auths", "has no \"auths\" wrapper: the kubelet reads only "
                    "{\"auths\": {...}} from .dockerconfigjson and finds no credentials "
                    "(this is the .dockercfg layout)"))
            elif auths is None:
                problems.append(Problem("no-auths", "has no \"auths\" object: no credentials"))
            return [], intended, problems, top
        if auths.value.kind != "object":
            problems.append(Problem("auths-type", f"\"auths\" is a JSON {auths.value.kind}, not "
                                    "an object", True))
            return [], [], problems, top
        entries, probs = _entries(auths.value)
        return entries, entries, problems + probs, top
    # .dockercfg: the flat map; an "auths" wrapper becomes a registry named "auths".
    if auths is not None and auths.value.kind == "object" and len(root.members) >= 1 and all(
        m.key.lower() in ("auths", *HELPER_FIELDS, "httpheaders") for m in root.members
    ):
        intended, _ = _entries(auths.value)
        entries, probs = _entries(root)
        # The inner registries are unknown fields of the "auths" entry: no error.
        problems.append(Problem(
            "has-auths", "has an \"auths\" wrapper: .dockercfg is the flat legacy map, so the "
            "kubelet sees one registry named \"auths\" and no credentials (this is the "
            ".dockerconfigjson layout)"))
        return [e for e in entries if e.key != auths.key], intended, problems + probs, top
    entries, probs = _entries(root)
    return entries, entries, problems + probs, top


def decode_value(key: str, field_name: str, raw: str) -> Decoded:
    """Decode a secret value as the API server and then the kubelet do."""
    redact.register(raw)
    text: str | None
    intended_text: str | None
    problems: list[Problem] = []
    if field_name == "data":
        stripped = raw.strip()
        if stripped.startswith(("{", "[")):
            problems.append(Problem(
                "raw-json", "holds raw JSON under data:, where the API server expects base64 "
                "(kubectl apply fails; put it under stringData: or base64-encode it)", True))
            text = intended_text = stripped
        else:
            try:
                text = tokens.b64decode_text(raw, strict=True)
            except tokens.PeelError as exc:
                return Decoded(key, field_name, problems=(Problem(
                    f"data-{exc.code}", f"is not valid base64 under data: ({exc}); the API server "
                    "refuses the Secret", True),))
            redact.register(text)
            intended_text = text
    else:
        text = intended_text = raw
    assert text is not None
    # Double encoding: what the kubelet gets is base64, and under it the JSON.
    if not text.lstrip().startswith("{"):
        try:
            inner = tokens.b64decode_text(text.strip(), strict=False)
        except tokens.PeelError:
            inner = None
        if inner is not None and inner.lstrip().startswith("{"):
            redact.register(inner)
            layer = "twice (base64 of base64)" if field_name == "data" else (
                "once although it is under stringData: (which takes the raw JSON)")
            problems.append(Problem(
                "double-encoded", f"is base64-encoded {layer}: the kubelet receives base64 text "
                "instead of JSON", True))
            intended_text = inner
    entries: list[Entry] = []
    intended: list[Entry] = []
    top: list[str] = []
    if problems and any(p.code == "double-encoded" for p in problems):
        assert intended_text is not None
        _, intended, probs, top = parse_json(key, intended_text)
        problems += [p for p in probs if p.code in ("no-auths", "has-auths", "helpers")]
    else:
        entries, intended, probs, top = parse_json(key, text)
        problems += probs
    return Decoded(key, field_name, text, intended_text, tuple(problems), tuple(entries),
                   tuple(intended), tuple(top))


# -- building values (fixes) ------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def auth_value(username: str, password: str) -> str:
    value = b64(f"{username}:{password}")
    redact.register(value)
    return value


def entry_json(username: str, password: str, email: str | None = None) -> dict[str, str]:
    """An entry the way ``kubectl create secret docker-registry`` writes it."""
    out = {"username": username, "password": password}
    if email:
        out["email"] = email
    out["auth"] = auth_value(username, password)
    return out


def dumps(obj: Any) -> str:
    """Compact JSON, as kubectl writes ``.dockerconfigjson``."""
    text = json.dumps(obj, separators=(",", ":"))
    redact.register(text)
    return text


def rewrap(key: str, intended_text: str) -> str | None:
    """The intended JSON in the layout ``key`` needs: add the ``auths``
    wrapper for ``.dockerconfigjson``, remove it for ``.dockercfg``."""
    try:
        obj = json.loads(intended_text)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    auths_key = next((k for k in obj if k.lower() == "auths"), None)
    if key == KEY_JSON:
        if auths_key is not None and isinstance(obj[auths_key], dict):
            return dumps(obj)
        flat = {k: v for k, v in obj.items() if isinstance(v, dict) and k.lower() != "httpheaders"}
        rest = {k: v for k, v in obj.items() if k not in flat}
        return dumps({"auths": flat, **rest})
    if auths_key is not None and isinstance(obj[auths_key], dict):
        return dumps(obj[auths_key])
    return dumps(obj)


def replace_entry(key: str, text: str, registry: str, username: str, password: str) -> str | None:
    """``text`` (a decoded value of ``key``) with the entry ``registry``
    holding new credentials; every other entry and field kept."""
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    if key == KEY_JSON:
        auths_key = next((k for k in obj if k.lower() == "auths"), "auths")
        auths = obj.get(auths_key)
        if not isinstance(auths, dict):
            auths = {}
        obj[auths_key] = auths
    else:
        auths = obj
    old = auths.get(registry)
    email = old.get("email") if isinstance(old, dict) and isinstance(old.get("email"), str) else None
    auths[registry] = entry_json(username, password, email)
    return dumps(obj)
