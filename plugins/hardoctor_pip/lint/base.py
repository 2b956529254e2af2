"""What every pip/uv/Poetry check needs: the model, the credentials,
helpers to build findings and edits, and the advice several checks share."""

from __future__ import annotations

import os
import re

from hardoctor import fixes, lazyre, redact
from hardoctor.context import Context
from hardoctor.model import (
    Edit,
    Finding,
    Remediation,
)
from hardoctor.tokens import looks_like_token

from .. import urls
from ..creds import Creds
from ..model import (
    ECO,
    IndexRef,
    Model,
    Setting,
)

NETRC_DOC = "https://pip.pypa.io/en/stable/topics/authentication/#netrc-support"
KEYRING_DOC = "https://pip.pypa.io/en/stable/topics/authentication/#keyring-support"
CONFUSION_DOC = "https://pip.pypa.io/en/stable/cli/pip_install/#options"
_EMAIL = lazyre.compile(r"^[^@\s:/]+@[^@\s:/]+\.[A-Za-z]{2,}$")


class Base:
    """The checks of one source; the check classes add methods."""

    def __init__(self, ctx: Context, model: Model, creds: Creds) -> None:
        self.ctx = ctx
        self.model = model
        self.creds = creds
        self.out: list[Finding] = []

    def add(self, code: str, message: str, **kw: object) -> None:
        kw.setdefault("ecosystem", ECO)
        self.out.append(self.ctx.finding(code, message, **kw))  # type: ignore[arg-type]

    def text(self, source_id: str) -> str | None:
        return self.model.texts.get(source_id)

    def edit(self, source_id: str, path: str, start: int, end: int, new: str,
             mode: int | None = None) -> Edit | None:
        text = self.text(source_id)
        if text is None:
            return None
        return Edit(path, start, end, new, fixes.digest(text), mode)

    def refs_of(self, source_id: str) -> list[IndexRef]:
        return list(dict.fromkeys(r for r in self.model.refs if r.source == source_id))


def _same_value(a: Setting, b: Setting) -> bool:
    return [r.bare for r in a.refs] == [r.bare for r in b.refs] and a.value.split() == b.value.split()


def _secretish(text: str) -> bool:
    return "@" in text and "://" in text


def _clip(text: str, n: int = 40) -> str:
    text = urls.display(text) if "://" in text else text
    return text if len(text) <= n else text[: n - 1] + "…"


def _quote_netrc(value: str) -> str:
    if value and not re.search(r'[\s"\\#]', value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def netrc_append(ctx: Context, model: Model, host: str, user: str, password: str) -> Edit | None:
    """An edit adding ``machine HOST`` to the netrc file requests reads (or
    None when that is not possible: an entry exists, the file does not
    parse, or the file would have to be created and the core cannot)."""
    view = model.netrc
    text = model.texts.get(view.source_id or "")
    entry = f"machine {host}\n  login {_quote_netrc(user)}\n  password {_quote_netrc(password)}\n"
    redact.register(_quote_netrc(password))
    if view.path is None or text is None:
        create = getattr(fixes, "ABSENT", None)
        if create is None:
            return None  # needs core support for creating a file (see docs/pip.md)
        path = view.path or os.path.join(ctx.home, ".netrc")
        return Edit(path, 0, 0, entry, create, 0o600)
    doc = view.doc
    if doc is None or doc.error is not None or doc.hosts.get(host) is not None:
        return None
    sep = "" if not text or text.endswith("\n") else "\n"
    mode = view.mode & ~0o077 if view.mode is not None and view.mode & 0o077 else None
    return Edit(view.path, len(text), len(text), sep + entry, fixes.digest(text), mode)


def _move_remediation(ref: IndexRef, url: urls.IndexUrl) -> Remediation:
    user = url.username or "USER"
    shown_user = user if not looks_like_token(user) else "USER"
    return Remediation(
        "Keep the index URL bare and the credentials in ~/.netrc (or a keyring); revoke the "
        "token if this file was ever shared.",
        steps=(
            f"~/.netrc (mode 0600): machine {url.hostname} / login {shown_user} / password TOKEN "
            "-- pip, uv and Poetry all read it.",
            "Or a keyring: store the token, keep the username in the URL, and let pip ask it "
            "(in CI: keyring-provider = subprocess).",
            "In a committed requirements file write ${INDEX_USER}:${INDEX_TOKEN}@ -- pip expands "
            "${VAR} there.",
        ),
        commands=(
            "read -rs TOKEN   # paste the token, then Enter",
            f"printf 'machine {url.hostname}\\n  login {shown_user}\\n  password %s\\n' \"$TOKEN\" "
            ">> ~/.netrc && chmod 600 ~/.netrc",
            f"keyring set {url.bare} {shown_user}",
            "pip config set global.keyring-provider subprocess",
        ),
        docs=(NETRC_DOC, KEYRING_DOC),
    )


def _confusion_remediation() -> Remediation:
    return Remediation(
        "Use one private index that proxies PyPI, or pin private packages to their index.",
        steps=(
            "A private registry: add PyPI as an upstream proxy of the Python registry and make "
            "it the only index-url (drop extra-index-url).",
            "uv: [[tool.uv.index]] with explicit = true plus [tool.uv.sources] NAME = { index = "
            "\"...\" }; Poetry: priority = \"explicit\" and `source = \"...\"` per dependency.",
            "pip: --require-hashes with a lock file makes a substituted package fail to install.",
        ),
        docs=(CONFUSION_DOC,),
    )

