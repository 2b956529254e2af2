"""Where else is this token stored?  An index of every credential by the
fingerprint of its token.

The engine hands credentials to plugins one at a time, so the index is
filled as they pass: ``hardoctor_decode_secret`` (tryfirst, so this plugin
sees every credential the engine decodes) and ``hardoctor_check_credential``
both add to it.  The engine decodes *all* credentials before it checks the
first one, so by the time any check asks "where else?", the index is
complete -- no second pass, no reliance on hook order within a stage.
(A credential a plugin decoded itself skips the decode hook; it joins at its
own check, and is still listed by every check that comes after it.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hardoctor.model import Credential, fingerprint
from hardoctor.tokens import clean_token

if TYPE_CHECKING:
    from hardoctor.context import Context

CACHE_KEY = "harness.index"


def token_fingerprint(cred: Credential) -> str | None:
    """Fingerprint of the token as intended (whitespace and quotes removed),
    so a copy with a stray newline still counts as the same token."""
    if cred.secret is None or not cred.secret.reveal().strip():
        return None
    return fingerprint(clean_token(cred.secret.reveal()))


class TokenIndex:
    def __init__(self) -> None:
        self._by_fp: dict[str, dict[str, Credential]] = {}

    def add(self, cred: Credential) -> None:
        fp = token_fingerprint(cred)
        if fp is not None:
            self._by_fp.setdefault(fp, {})[cred.id] = cred

    def others(self, cred: Credential) -> list[Credential]:
        """Other credentials holding the same token, one per storage place,
        in a stable order."""
        fp = token_fingerprint(cred)
        if fp is None:
            return []
        mine = _place(cred)
        seen = {mine}
        out: list[Credential] = []
        for other in sorted(self._by_fp.get(fp, {}).values(), key=_order):
            place = _place(other)
            if other.id == cred.id or place in seen:
                continue
            seen.add(place)
            out.append(other)
        return out


def _place(cred: Credential) -> tuple[str, int, str]:
    loc = cred.location
    return (loc.path or "", loc.line or 0, loc.key or "")


def _order(cred: Credential) -> tuple[str, int, str, str]:
    return (*_place(cred), cred.id)


def index(ctx: Context) -> TokenIndex:
    idx = ctx.cache.get(CACHE_KEY)
    if not isinstance(idx, TokenIndex):
        idx = ctx.cache[CACHE_KEY] = TokenIndex()
    return idx


def where(cred: Credential, home: str | None) -> str:
    """``~/.npmrc:2 (npm)``, ``manifests/app.yaml:7 Secret shop/har-pull (k8s)``."""
    loc = cred.location
    text = loc.display(home)
    if loc.key and loc.path is not None:
        text += f" {loc.key}"
    return f"{text} ({cred.ecosystem})"
