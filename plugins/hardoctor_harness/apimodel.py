"""What the Harness token API answered: the frozen values that travel from
the HTTP client (:mod:`.apihttp`) to the decoder.  Secret-free, except
:class:`LookupRequest` and :class:`CallerKey`, whose secrets are
:class:`~hardoctor.model.Secret`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from hardoctor.model import Secret
from hardoctor.records import dataclass

Outcome = Literal[
    "ok",  # the API answered with the token's data
    "expired",  # the API says the token expired (date unknown)
    "rejected",  # 401 / INVALID_TOKEN: revoked, deleted, mistyped -- or expired
    "denied",  # 403: the caller may not look tokens up
    "error",  # an unexpected answer (5xx, redirect, not JSON)
    "unreachable",  # DNS, connection, TLS
    "timeout",  # the shared deadline passed
    "refused",  # hardoctor refused to send the token there (http, bad URL)
]


@dataclass(frozen=True)
class CallerKey:
    """A working Harness API key used as the caller (``x-api-key``)."""

    secret: Secret
    #: Where it came from, for messages: ``HARNESS_API_KEY``, ...
    origin: str


@dataclass(frozen=True)
class TokenAnswer:
    """What the token API said about one token.  Secret-free."""

    outcome: Outcome
    url: str
    status: int | None = None
    #: ``the token itself`` or the caller key's origin.
    caller: str = "the token itself"
    detail: str = ""
    valid: bool | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    no_expiry: bool = False
    name: str | None = None
    identifier: str | None = None
    account: str | None = None
    email: str | None = None
    username: str | None = None
    api_key_type: str | None = None
    api_key_identifier: str | None = None
    #: The caller key was rejected and the token authenticated itself.
    caller_rejected: bool = False

    def facts(self) -> dict[str, Any]:
        """Plain, secret-free facts for ``TokenInfo.details['api']``."""
        return {
            "outcome": self.outcome,
            "url": self.url,
            "status": self.status,
            "caller": self.caller,
            "detail": self.detail,
        }


# ------------------------------------------------------------- configuration


@dataclass(frozen=True)
class LookupRequest:
    """One token to look up, in one account."""

    token: Secret
    account: str
