"""Turn what the network said into hardoctor's vocabulary.

Protocol-neutral helpers every probing plugin shares (OCI, npm, pip, Maven):

* a transport exception -> a probe outcome (``dns-error``, ``tls-error`` ...)
  with a sub-kind precise enough to pick the remedy;
* an HTTP status and body -> an outcome, the registry's error code and
  message, and whether the refusal is a policy block rather than an auth one;
* ``WWW-Authenticate`` parsing (RFC 7235, with quoted strings holding commas);
* ``Date`` header skew;
* the cause (one of the fixed list in the README) and a remediation for each transport outcome.

Nothing here does I/O, and nothing here ever sees a header *value* that could
carry a credential: callers pass response headers only.
"""

from __future__ import annotations

import errno
import json
import re
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

from hardoctor import lazyre, redact

# Re-exported (``X as X``): callers import these from here.
from hardoctor.probe.remedy import TRANSPORT_CAUSES as TRANSPORT_CAUSES
from hardoctor.probe.remedy import ca_commands as ca_commands
from hardoctor.probe.remedy import is_transport_outcome as is_transport_outcome
from hardoctor.probe.remedy import transport_cause as transport_cause
from hardoctor.probe.remedy import transport_remediation as transport_remediation
from hardoctor.records import dataclass, field

# -- WWW-Authenticate ---------------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header (scheme lower-cased,
    parameter names lower-cased, values unquoted)."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)
    token68: str | None = None

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")

    @property
    def error(self) -> str | None:
        return self.params.get("error")


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN_RE = lazyre.compile(_TOKEN)
_PARAM_RE = lazyre.compile(rf"\s*({_TOKEN})\s*=\s*")
_TOKEN68_RE = lazyre.compile(r"[A-Za-z0-9\-._~+/]+=*")


def _quoted(text: str, i: int) -> tuple[str, int]:
    """Read a quoted-string starting at ``text[i] == '"'``; returns (value, end)."""
    out: list[str] = []
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), i  # unterminated: be lenient, take the rest


def _skip(text: str, i: int, chars: str = " \t,") -> int:
    while i < len(text) and text[i] in chars:
        i += 1
    return i


def parse_www_authenticate(values: str | Iterable[str] | None) -> list[Challenge]:
    """Parse one or more ``WWW-Authenticate`` header values into challenges.

    Handles several challenges in one header (``Bearer realm="a", Basic
    realm="b"``), quoted values with commas and escaped quotes
    (``scope="repository:a:pull,push"``), unquoted values and token68.
    Garbage yields whatever could be read, never an exception.
    """
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[Challenge] = []
    for text in values:
        i = _skip(text, 0)
        while i < len(text):
            m = _TOKEN_RE.match(text, i)
            if not m:
                i += 1  # junk: step over it
                continue
            scheme = m.group(0).lower()
            i = m.end()
            params: dict[str, str] = {}
            token68: str | None = None
            j = _skip(text, i, " \t")
            # token68 form ("Negotiate abc==") when the run of token68 characters
            # stands alone; "realm=x" continues after the "=", so it is a parameter.
            t68 = _TOKEN68_RE.match(text, j)
            if t68 and t68.group(0):
                after = _skip(text, t68.end(), " \t")
                if after >= len(text) or text[after] == ",":
                    token68 = t68.group(0)
                    i = after
            while token68 is None:
                i = _skip(text, i)
                pm = _PARAM_RE.match(text, i)
                if not pm:
                    break  # the next challenge starts here (or the end)
                name = pm.group(1).lower()
                i = pm.end()
                if i < len(text) and text[i] == '"':
                    value, i = _quoted(text, i)
                else:
                    vm = re.compile(r"[^,\s]*").match(text, i)
                    value = vm.group(0) if vm else ""
                    i = vm.end() if vm else i
                params.setdefault(name, value)
            out.append(Challenge(scheme=scheme, params=params, token68=token68))
            i = _skip(text, i)
    return out


def find_challenge(challenges: Sequence[Challenge], scheme: str) -> Challenge | None:
    scheme = scheme.lower()
    return next((c for c in challenges if c.scheme == scheme), None)


# -- HTTP answers -------------------------------------------------------------

#: Text a registry uses when a policy, not authentication, refused the request
#: (HAR quarantine and dependency firewall; Artifactory/Nexus use the same words).
_POLICY_RE = lazyre.compile(
    r"quarantin|blocked due to polic|blocked by polic|policy violation|"
    r"dependency firewall|curation|blocked by (?:xray|the firewall)",
    re.IGNORECASE,
)


def is_policy_block(text: str | None) -> bool:
    """Does a refusal message say a policy (quarantine, firewall) blocked it?"""
    return bool(text) and bool(_POLICY_RE.search(text or ""))


@dataclass(frozen=True)
class HttpClass:
    """What an HTTP answer means, independent of the protocol."""

    outcome: str
    error_code: str | None = None
    #: The server's own message (trimmed, scrubbed of known secrets).
    message: str | None = None
    #: Refused by policy (quarantine, firewall), not by authentication.
    policy: bool = False


def _clip(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    text = redact.scrub(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_error_body(body: bytes | str | None) -> tuple[str | None, str | None]:
    """(code, message) from a registry error body.

    Understands the OCI/distribution shape ``{"errors":[{"code","message"}]}``,
    HAR's and npm's ``{"message": ...}`` / ``{"error": ...}`` and, failing
    JSON, a short plain-text body as the message.
    """
    if not body:
        return None, None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data: Any = json.loads(text)
    except ValueError:
        stripped = text.strip()
        if stripped and not stripped.startswith("<") and len(stripped) <= 500:
            return None, _clip(stripped)
        return None, None
    if not isinstance(data, dict):
        return None, None
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code")
        msg = first.get("message")
        return (
            code.upper() if isinstance(code, str) and code else None,
            _clip(msg) if isinstance(msg, str) and msg else None,
        )
    for key in ("message", "error", "detail", "reason"):
        value = data.get(key)
        if isinstance(value, str) and value:
            code = data.get("code")
            return (code if isinstance(code, str) and code else None), _clip(value)
    return None, None


def outcome_for_status(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    return {
        401: "unauthorized",
        403: "forbidden",
        404: "not-found",
        407: "proxy-error",
        410: "not-found",
        429: "rate-limited",
    }.get(status, "error")


def classify_response(status: int, body: bytes | str | None = None) -> HttpClass:
    """Outcome, registry error code and message, and the policy flag."""
    code, message = parse_error_body(body)
    outcome = outcome_for_status(status)
    if code == "TOOMANYREQUESTS":
        outcome = "rate-limited"
    policy = status in (403, 451) and is_policy_block(message)
    return HttpClass(outcome=outcome, error_code=code, message=message, policy=policy)


def date_skew(date_header: str | None, now: float) -> float | None:
    """Seconds the server's ``Date`` is ahead of ``now`` (negative: behind),
    or None without a usable header.  The header has one-second resolution,
    so anything under a few seconds is noise."""
    if not date_header:
        return None
    try:
        when = parsedate_to_datetime(date_header)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return when.timestamp() - now


#: Beyond this a token's ``nbf``/``exp`` checks break (distribution allows 60 s,
#: most JWT libraries a few minutes); the clock-skew threshold of the clock-skew cause.
CLOCK_SKEW_LIMIT_S = 300.0


# -- transport failures -------------------------------------------------------


@dataclass(frozen=True)
class TransportFailure:
    """A request that got no HTTP answer.  ``kind`` refines the outcome:

    * ``tls-error``: ``untrusted-issuer``, ``hostname-mismatch``,
      ``expired-certificate``, ``not-yet-valid``, ``handshake`` (protocol
      errors, e.g. a plain-http server on an https URL);
    * ``connection-error``: ``refused``, ``reset``, ``unreachable``,
      ``protocol``;
    * ``dns-error``: ``no-such-host``, ``temporary``;
    * ``timeout``: ``connect``, ``read``, ``deadline``;
    * ``proxy-error``: ``proxy-auth-required``, ``proxy-refused``,
      ``proxy-unreachable``, ``proxy-unresolvable``, ``proxy-timeout``,
      ``proxy-malformed``, ``proxy-unsupported``.
    """

    outcome: str
    kind: str
    detail: str
    url: str = ""
    elapsed_ms: float | None = None
    #: The proxy variable and its value, credentials redacted
    #: (``HTTPS_PROXY=http://***@proxy:3128``), when a proxy was in the way.
    proxy: str | None = None


# OpenSSL X509_V_ERR_* codes we tell apart.
_X509_EXPIRED = {10}  # CERT_HAS_EXPIRED
_X509_NOT_YET = {9}  # CERT_NOT_YET_VALID
_X509_HOSTNAME = {62, 64}  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
_X509_UNTRUSTED = {2, 18, 19, 20, 21, 27}  # issuer unknown / self-signed / not trusted


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _tls_failure(err: ssl.SSLError) -> tuple[str, str]:
    if isinstance(err, ssl.SSLCertVerificationError):
        code = getattr(err, "verify_code", None)
        message = str(getattr(err, "verify_message", "") or "").lower()
        if code in _X509_HOSTNAME or "mismatch" in message or "doesn't match" in message:
            return "hostname-mismatch", "the certificate is for another host name"
        if code in _X509_EXPIRED or "expired" in message:
            return "expired-certificate", "the server's certificate has expired"
        if code in _X509_NOT_YET or "not yet valid" in message:
            return "not-yet-valid", "the server's certificate is not valid yet"
        if (
            code in _X509_UNTRUSTED
            or "issuer" in message
            or "self-signed" in message
            or ("self signed" in message)
        ):
            return (
                "untrusted-issuer",
                "the certificate is signed by an issuer this machine does not trust"
                + (f" ({message})" if message else ""),
            )
        return "untrusted-issuer", f"certificate verification failed ({message or 'unknown'})"
    reason = (getattr(err, "reason", None) or "").lower()
    if reason in ("wrong_version_number", "http_request", "record_layer_failure") or (
        "wrong version number" in str(err).lower()
    ):
        return "handshake", "the server does not speak TLS on this port (plain http?)"
    return "handshake", f"the TLS handshake failed ({reason or type(err).__name__})"


def classify_exception(exc: BaseException, url: str = "") -> TransportFailure:
    """Map an exception from httpx / the socket layer to a transport outcome.

    The detail never repeats ``str(exc)`` of the outer exception wholesale:
    httpx messages can embed URLs, and a URL can embed userinfo.

    The matchers run in order over the whole exception chain, the first
    that recognises a link wins: proxy first (a failure inside CONNECT is
    about the proxy, whatever the cause), then TLS, DNS, timeouts, the
    connection, the protocol.
    """
    chain = _chain(exc)
    for match in _MATCHERS:
        for e in chain:
            found = match(e, url)
            if found is not None:
                return found
    return TransportFailure(
        "connection-error", "other", f"the request failed ({type(exc).__name__})", url
    )


def _proxy(e: BaseException, url: str) -> TransportFailure | None:
    import httpx  # local: keep this module importable without httpx

    if not isinstance(e, httpx.ProxyError):
        return None
    text = str(e)
    if "407" in text:
        return TransportFailure(
            "proxy-error",
            "proxy-auth-required",
            "the proxy asked for proxy credentials (407 Proxy Authentication Required)",
            url,
        )
    status = re.search(r"\b([1-5][0-9]{2})\b", text)
    return TransportFailure(
        "proxy-error",
        "proxy-refused",
        "the proxy refused the tunnel" + (f" (HTTP {status.group(1)})" if status else ""),
        url,
    )


def _tls(e: BaseException, url: str) -> TransportFailure | None:
    if not isinstance(e, ssl.SSLError):
        return None
    kind, detail = _tls_failure(e)
    return TransportFailure("tls-error", kind, detail, url)


def _dns(e: BaseException, url: str) -> TransportFailure | None:
    if not isinstance(e, socket.gaierror):
        return None
    temporary = e.errno in (socket.EAI_AGAIN,)
    return TransportFailure(
        "dns-error",
        "temporary" if temporary else "no-such-host",
        "the host name could not be resolved" + (" (temporary DNS failure)" if temporary else ""),
        url,
    )


def _timeout(e: BaseException, url: str) -> TransportFailure | None:
    import httpx

    if not isinstance(e, (httpx.TimeoutException, TimeoutError)):
        return None
    kind = "connect" if isinstance(e, httpx.ConnectTimeout) else "read"
    if isinstance(e, httpx.PoolTimeout):
        kind = "deadline"
    return TransportFailure(
        "timeout",
        kind,
        "the connection could not be opened in time"
        if kind == "connect"
        else "the server accepted the connection but did not answer in time",
        url,
    )


_UNREACHABLE = (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN)


def _connection(e: BaseException, url: str) -> TransportFailure | None:
    if isinstance(e, ConnectionRefusedError) or (
        isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
    ):
        return TransportFailure(
            "connection-error", "refused", "the connection was refused (nothing listens)", url
        )
    if isinstance(e, ConnectionResetError):
        return TransportFailure(
            "connection-error", "reset", "the connection was reset by the server", url
        )
    if isinstance(e, OSError) and e.errno in _UNREACHABLE:
        return TransportFailure(
            "connection-error", "unreachable", "the network or host is unreachable", url
        )
    return None


def _protocol(e: BaseException, url: str) -> TransportFailure | None:
    import httpx

    if isinstance(e, (httpx.RemoteProtocolError, httpx.LocalProtocolError)):
        return TransportFailure(
            "connection-error",
            "protocol",
            "the server closed the connection or answered something that is not HTTP",
            url,
        )
    if isinstance(e, httpx.UnsupportedProtocol):
        return TransportFailure("error", "unsupported", "the URL scheme is not http(s)", url)
    return None


_MATCHERS: tuple[Callable[[BaseException, str], TransportFailure | None], ...] = (
    _proxy, _tls, _dns, _timeout, _connection, _protocol,
)
