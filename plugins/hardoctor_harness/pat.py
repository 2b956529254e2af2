"""Harness personal access tokens (``pat.``) and service account tokens (``sat.``).

Current format: ``pat.<accountId>.<tokenId>.<secret>`` -- four dot-separated
segments of ``[A-Za-z0-9_-]``.  Harness's gateway also still accepts a legacy
three-segment ``pat.<tokenId>.<secret>`` (no account), so three segments are
only "truncated" when the last one is a token ID (24 hex digits, a Mongo
ObjectId) -- i.e. the secret is what is missing.

The account ID and token ID are not secret and may be shown; the secret is
never kept outside the :class:`~hardoctor.model.Secret`.
"""

from __future__ import annotations

from typing import Literal

from hardoctor import lazyre
from hardoctor.records import dataclass
from hardoctor.tokens import Problem

_SEGMENT = lazyre.compile(r"^[A-Za-z0-9_-]+$")
_TOKEN_ID = lazyre.compile(r"^[0-9a-f]{24}$")
#: A secret shorter than this was cut off (Harness generates 20+ characters).
MIN_SECRET = 8


@dataclass(frozen=True)
class HarnessToken:
    kind: Literal["harness-pat", "harness-sat"]
    account: str | None
    token_id: str | None
    #: The three-segment format without an account.
    legacy: bool = False
    #: Structural problems (``truncated``, ``segments``, ``bad-chars``,
    #: ``prefix-case``): a token with any cannot authenticate.
    problems: tuple[Problem, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.problems

    @property
    def prefix(self) -> str:
        return "pat" if self.kind == "harness-pat" else "sat"

    def display(self) -> str:
        """``pat.ACCOUNT.TOKENID.…`` -- recognisable, never the secret."""
        parts = [self.prefix]
        if self.account:
            parts.append(self.account)
        if self.token_id:
            parts.append(self.token_id)
        return ".".join(parts) + ".…"


def parse_harness_token(value: str) -> HarnessToken | None:
    """Parse an already cleaned value (see :func:`hardoctor.tokens.clean_token`);
    None when it is not a Harness token at all."""
    head = value[:4]
    if head.lower() not in ("pat.", "sat."):
        return None
    kind: Literal["harness-pat", "harness-sat"] = (
        "harness-pat" if head.lower() == "pat." else "harness-sat"
    )
    problems: list[Problem] = []
    if head != head.lower():
        problems.append(
            Problem(
                "prefix-case",
                f"starts with {head[:3]!r}: Harness tokens start "
                f"with lower-case {head[:3].lower()!r}",
            )
        )
    parts = value.split(".")
    bad = [i for i, p in enumerate(parts[1:], 1) if p and not _SEGMENT.match(p)]
    if bad:
        problems.append(
            Problem(
                "bad-chars",
                "has characters a Harness token never contains (only letters, "
                "digits, '_' and '-' between the dots)",
            )
        )
    if any(not p for p in parts[1:]):
        problems.append(Problem("truncated", "has an empty part between dots (cut off or mangled)"))
    account: str | None = None
    token_id: str | None = None
    legacy = False
    if len(parts) == 4:
        account, token_id = parts[1] or None, parts[2] or None
        if parts[3] and len(parts[3]) < MIN_SECRET:
            problems.append(
                Problem(
                    "truncated",
                    f"looks cut off: its secret part has only {len(parts[3])} characters",
                )
            )
    elif len(parts) == 3 and _TOKEN_ID.match(parts[2]):
        account, token_id = parts[1] or None, parts[2]
        problems.append(
            Problem(
                "truncated", "ends after the token ID: the secret part (the 4th segment) is missing"
            )
        )
    elif len(parts) == 3:
        token_id, legacy = parts[1] or None, True
    else:
        account = parts[1] if len(parts) > 1 and parts[1] else None
        problems.append(
            Problem(
                "segments",
                f"has {len(parts)} dot-separated parts; a Harness token has 4 "
                f"({kind[8:]}.ACCOUNT.TOKEN_ID.SECRET)",
            )
        )
    if account and not _SEGMENT.match(account):
        account = None  # never show a mangled segment: it may hold secret bytes
    if token_id and not _SEGMENT.match(token_id):
        token_id = None
    return HarnessToken(kind, account, token_id, legacy, tuple(problems))
