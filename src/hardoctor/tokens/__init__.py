"""Token toolkit of the core: vendor-neutral, shared by every plugin.

* :mod:`.claims` -- JWT claims and expiry, clock skew, the generic decoder;
* :mod:`.values` -- cleaning, format names, malformed values
  (:func:`problems_for`);
* :mod:`.peel` -- encoding layers (base64 ``user:pass``, base64 password,
  URL userinfo);
* :mod:`.index` -- where else the same token is stored;
* :mod:`.stdin`, :mod:`.inspection` -- ``hardoctor token inspect``.

Vendor token formats are plugins implementing ``hardoctor_decode_secret``;
ecosystem-specific encodings (an encrypted password format, a cluster
secret's layout) live in the plugin of that ecosystem.
"""

from hardoctor.tokens.claims import (
    CLOCK_LEEWAY,
    clock_skew,
    decode_generic,
    decode_jwt,
    jwt_claims,
    status_for,
)
from hardoctor.tokens.inspection import inspect_command, inspect_dict, inspect_text, inspect_token
from hardoctor.tokens.peel import (
    PeelError,
    UrlCredentials,
    UserPass,
    b64decode_text,
    peel_base64_password,
    peel_basic_auth,
    peel_url_userinfo,
)
from hardoctor.tokens.stdin import TokenInputError, read_one_token
from hardoctor.tokens.values import (
    Problem,
    clean_token,
    looks_like_token,
    problems_for,
    token_format,
    username_problems,
    value_problems,
)

__all__ = [
    "CLOCK_LEEWAY",
    "PeelError",
    "Problem",
    "TokenInputError",
    "UrlCredentials",
    "UserPass",
    "b64decode_text",
    "clean_token",
    "clock_skew",
    "decode_generic",
    "decode_jwt",
    "inspect_command",
    "inspect_dict",
    "inspect_text",
    "inspect_token",
    "jwt_claims",
    "looks_like_token",
    "peel_base64_password",
    "peel_basic_auth",
    "peel_url_userinfo",
    "problems_for",
    "read_one_token",
    "status_for",
    "token_format",
    "username_problems",
    "value_problems",
]
