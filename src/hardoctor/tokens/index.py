"""Where else is this token stored?  An index of every credential of the
run by the fingerprint of its token.

The core fills it from ``hardoctor_prefetch``, which sees every credential
of the run at once, before any check: so by the time a check asks "where
else?", the index is complete.  ``hardoctor_check_credential`` adds the
credential it is given too (a credential a caller checks directly).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from hardoctor.model import Credential, fingerprint
from hardoctor.stash import StashKey
from hardoctor.tokens.values import clean_token

if TYPE_CHECKING:
    from hardoctor.context import Context


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

    def add_all(self, creds: Iterable[Credential]) -> None:
        for cred in creds:
            self.add(cred)

    def others(self, cred: Credential) -> list[Credential]:
        """Other credentials holding the same token, one per storage place,
        in a stable order."""
        fp = token_fingerprint(cred)
        if fp is None:
            return []
        seen = {_place(cred)}
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


INDEX: StashKey[TokenIndex] = StashKey("tokens.index")


def token_index(ctx: Context) -> TokenIndex:
    """The run's index (created empty on first use)."""
    return ctx.stash.compute(INDEX, TokenIndex)


def where(cred: Credential, home: str | None) -> str:
    """``~/.config/x.conf:2 (eco)``, ``manifests/app.yaml:7 Secret ns/name (eco)``."""
    loc = cred.location
    text = loc.display(home)
    if loc.key and loc.path is not None:
        text += f" {loc.key}"
    return f"{text} ({cred.ecosystem})"


def also_stored(cred: Credential, ctx: Context) -> tuple[list[Credential], list[str]]:
    """(the other places, the evidence line naming them)."""
    others = token_index(ctx).others(cred)
    if not others:
        return others, []
    shown = [where(o, ctx.home) for o in others]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return others, [f"the same token (#{token_fingerprint(cred)}) is also stored in {listed}"]
