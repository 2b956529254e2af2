"""One shared HTTP session for every probe of a run.

:class:`ProbeSession` owns one ``httpx.AsyncClient`` per (TLS configuration,
proxy) so connections are reused across plugins, limits concurrency per host,
and bounds every request by what is left of the run's deadline.

Credential safety is enforced here rather than trusted to each plugin:

* credentials are passed as :data:`Auth` objects, never as headers (a
  ``headers`` mapping holding ``Authorization`` is refused), and are turned
  into a header only for requests whose origin (scheme, host, port) is the
  ``credential_origin`` they belong to;
* redirects are followed by hand, hop by hop, so a redirect to another origin
  (or from https to http) goes out without them;
* a form holding a :class:`~hardoctor.model.Secret` (OAuth refresh token) is
  guarded the same way;
* no header value is ever logged, put in a result, or put in an exception.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from hardoctor.model import Secret
from hardoctor.probe import PER_HOST_LIMIT, http2_available
from hardoctor.probe.classify import (
    Challenge,
    HttpClass,
    TransportFailure,
    classify_exception,
    classify_response,
    date_skew,
    parse_www_authenticate,
)
from hardoctor.probe.pacing import scheme_known, send_paced
from hardoctor.probe.proxy import (
    blame_proxy,
    describe_proxy,
    proxy_problem,
    proxy_setting,
    sent_in_clear,
)
from hardoctor.probe.results import to_result as to_result  # re-exported
from hardoctor.probe.tls import (
    ResolvedTLS,
    TLSOptions,
    build_ssl_context,
    is_loopback,
    no_tls_context,
    plain_http,
    resolve_tls,
)
from hardoctor.records import dataclass, field

if TYPE_CHECKING:
    from hardoctor.context import Context

#: (scheme, host, port) -- what a credential is bound to.
Origin = tuple[str, str, int]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Headers whose value is a credential; refused in ``headers=``.
_CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-nuget-apikey"}
)


def origin(url: str) -> Origin:
    """(scheme, host, port) of ``url``, lower-cased, with default ports filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if scheme == "https" else 80
    return scheme, host, port


def origin_text(o: Origin) -> str:
    scheme, host, port = o
    if ":" in host:
        host = f"[{host}]"
    default = (scheme == "https" and port == 443) or (scheme == "http" and port == 80)
    return f"{scheme}://{host}" if default else f"{scheme}://{host}:{port}"


def _with_scheme(url: str, scheme: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def _netloc(url: str) -> str:
    return urlsplit(url).netloc.rsplit("@", 1)[-1].lower()


# -- credentials ------------------------------------------------------------------


@dataclass(frozen=True)
class BasicAuth:
    username: str
    password: Secret

    def header(self) -> tuple[str, str]:
        raw = f"{self.username}:{self.password.reveal()}".encode()
        return "Authorization", "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class BearerAuth:
    token: Secret

    def header(self) -> tuple[str, str]:
        return "Authorization", "Bearer " + self.token.reveal()


@dataclass(frozen=True)
class HeaderAuth:
    """A credential in a custom header (``x-api-key``, ``X-NuGet-ApiKey``)."""

    name: str
    value: Secret

    def header(self) -> tuple[str, str]:
        return self.name, self.value.reveal()


Auth = BasicAuth | BearerAuth | HeaderAuth


# -- answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeResponse:
    """An HTTP answer.  ``headers`` are the *response* headers (names
    lower-cased); request headers are never kept."""

    method: str
    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = field(repr=False)
    elapsed_ms: float
    #: Every URL redirected to, in order.
    redirects: tuple[str, ...] = ()
    #: A credential went out with the final request.
    auth_sent: bool = False
    #: Origins a credential was withheld from (redirects, foreign hosts).
    auth_withheld: tuple[str, ...] = ()
    #: Origins a credential went to over plain http (non-loopback hosts, and
    #: loopback hosts reached by an https -> http downgrade).
    auth_in_clear: tuple[str, ...] = ()
    #: https failed and the request was retried over plain http (insecure registry).
    fallback_http: bool = False
    #: Server ``Date`` minus this machine's clock, seconds.
    date_skew_s: float | None = None
    #: The proxy used (no userinfo), or None.
    proxy: str | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8", "replace"))
        except ValueError:
            return None

    def classify(self) -> HttpClass:
        return classify_response(self.status, self.body)

    def challenges(self) -> list[Challenge]:
        return parse_www_authenticate(self.header_all("www-authenticate"))


Exchange = ProbeResponse | TransportFailure


# -- the session ----------------------------------------------------------------------


class ProbeSession:
    """Shared HTTP machinery for one run; ``async with ProbeSession(ctx, deadline=5)``."""

    def __init__(
        self,
        ctx: Context,
        *,
        deadline: float,
        per_host_limit: int | None = None,
        body_limit: int = 64 * 1024,
    ) -> None:
        self.ctx = ctx
        self.environ: Mapping[str, str] = ctx.env.environ
        self.deadline = deadline
        self.per_host_limit = per_host_limit or PER_HOST_LIMIT
        self.body_limit = body_limit
        self._deadline_at = time.monotonic() + deadline
        self._clients: dict[tuple[ResolvedTLS, str | None, bool], httpx.AsyncClient] = {}
        self._client_errors: dict[tuple[ResolvedTLS, str | None, bool], TransportFailure] = {}
        self._host_limits: dict[str, asyncio.Semaphore] = {}
        #: Origins (https) that answered only over http: skip https next time.
        self._http_only: set[Origin] = set()
        #: Origins whose https is being tried now; set once the verdict is in.
        self._deciding: dict[Origin, asyncio.Event] = {}
        self.requests_sent = 0

    async def __aenter__(self) -> ProbeSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            # A server that never answers must not hold up the end of the run.
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(client.aclose(), timeout=0.5)

    # -- environment -----------------------------------------------------------

    def remaining(self) -> float:
        return self._deadline_at - time.monotonic()

    def _client(self, url: str, tls: TLSOptions | None) -> httpx.AsyncClient | TransportFailure:
        resolved = resolve_tls(tls, self.environ)
        setting = self._proxy_of(url, tls)
        proxy = setting[1] if setting is not None else None
        plain = plain_http(url, proxy)  # a client of its own: it never verifies a certificate
        key = (resolved, proxy, plain)
        client = self._clients.get(key)
        if client is not None:
            return client
        if key in self._client_errors:
            return self._client_errors[key]
        if setting is not None and (bad := proxy_problem(setting[1])) is not None:
            failure = TransportFailure(
                "proxy-error", "proxy-malformed",
                f"{describe_proxy(*setting)} is not a usable proxy URL ({bad})", url,
                proxy=describe_proxy(*setting))
            self._client_errors[key] = failure
            return failure
        try:
            context = no_tls_context() if plain else build_ssl_context(resolved)
        except (OSError, ValueError) as exc:
            failure = TransportFailure(
                "tls-error",
                "bad-ca-file",
                "a configured CA or client certificate file cannot be used "
                f"({type(exc).__name__}: {getattr(exc, 'strerror', None) or 'unreadable'})",
                url,
            )
            self._client_errors[key] = failure
            return failure
        try:
            client = httpx.AsyncClient(
                verify=context,
                proxy=proxy,
                trust_env=False,  # the injected environment decides, not os.environ
                follow_redirects=False,  # done by hand: credentials must not follow
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                # One connection, many streams; over TLS only (httpx negotiates
                # HTTP/2 by ALPN), so a plain-http client need not import h2.
                http2=http2_available() and not plain,
                headers={"User-Agent": "hardoctor-probe"},
            )
        except (ImportError, ValueError, httpx.InvalidURL) as exc:  # socks:// without socksio
            shown = describe_proxy(*setting) if setting is not None else "the proxy"
            failure = TransportFailure(
                "proxy-error",
                "proxy-unsupported",
                f"{shown} cannot be used ({type(exc).__name__})",
                url,
                proxy=shown,
            )
            self._client_errors[key] = failure
            return failure
        self._clients[key] = client
        return client

    def _proxy_of(self, url: str, tls: TLSOptions | None) -> tuple[str, str] | None:
        """(where it is set, the proxy URL) for ``url``: the client's own
        setting when its plugin gave one, else the environment's."""
        if tls is not None and tls.proxy is not None:
            if is_loopback(urlsplit(url).netloc.rpartition("@")[2]):
                return None
            name, value = tls.proxy
            return name, value if "://" in value else "http://" + value
        if tls is not None and not tls.env_proxy:
            return None
        return proxy_setting(url, self.environ)

    def _limit(self, url: str) -> asyncio.Semaphore:
        host = _netloc(url)
        sem = self._host_limits.get(host)
        if sem is None:
            sem = self._host_limits[host] = asyncio.Semaphore(self.per_host_limit)
        return sem

    # -- requests --------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str,
        *,
        credential_origin: str | None = None,
        auth: Auth | None = None,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str | Secret] | None = None,
        follow_redirects: bool = True,
        max_redirects: int = 5,
        tls: TLSOptions | None = None,
        fallback_http: bool = False,
    ) -> Exchange:
        """Send one request (following redirects by hand) and return the
        answer or the classified transport failure.  Never raises for network
        trouble.

        ``credential_origin`` is the URL (or origin) ``auth`` and any Secret
        in ``form`` belong to; default: ``url``'s own origin.  They go only to
        requests whose origin equals it.  ``fallback_http`` retries an https
        URL over http when https fails (Docker's insecure registries).
        """
        for name in headers or {}:
            if name.lower() in _CREDENTIAL_HEADERS:
                raise ValueError(f"pass credentials as auth=, not as a {name!r} header")
        method = method.upper()
        cred_origin = origin(credential_origin or url)
        allowed = {cred_origin}
        scheme = urlsplit(url).scheme.lower()
        target = url
        fell_back = False
        if fallback_http and scheme == "https":
            await scheme_known(self._deciding, origin(url))
        if fallback_http and scheme == "https" and origin(url) in self._http_only:
            target, fell_back = _with_scheme(url, "http"), True
        if fell_back or fallback_http:
            # The same server over http is the same registry to Docker.
            allowed |= {("http", cred_origin[1], cred_origin[2])}
        if fallback_http and not fell_back and scheme == "https" and auth is None and not form:
            # Docker tries https, then http.  With nothing secret to send, ask
            # both at once and keep the answer Docker would act on: the https
            # one unless https fails.  Saves a round trip per loopback
            # registry without changing the verdict.
            decided = self._deciding.setdefault(origin(url), asyncio.Event())
            plain_task = asyncio.ensure_future(self._follow(
                method, _with_scheme(url, "http"), allowed, None, headers, None,
                follow_redirects, max_redirects, tls))
            secure = await self._follow(method, target, allowed, None, headers, None,
                                        follow_redirects, max_redirects, tls)
            refused = isinstance(secure, TransportFailure) and secure.outcome in (
                "tls-error", "connection-error")
            if refused:
                self._http_only.add(origin(url))
            decided.set()
            plain = await plain_task
            if refused:
                return _replace(plain, fallback_http=True) if isinstance(plain, ProbeResponse) else plain
            return secure
        result = await self._follow(
            method, target, allowed, auth, headers, form, follow_redirects, max_redirects, tls
        )
        if (
            fallback_http
            and not fell_back
            and scheme == "https"
            and isinstance(result, TransportFailure)
            and result.outcome in ("tls-error", "connection-error")
        ):
            self._http_only.add(origin(url))
            target, fell_back = _with_scheme(url, "http"), True
            result = await self._follow(
                method, target, allowed, auth, headers, form, follow_redirects, max_redirects, tls
            )
        if fell_back and isinstance(result, ProbeResponse):
            result = _replace(result, fallback_http=True)
        return result

    async def _follow(
        self,
        method: str,
        url: str,
        allowed: set[Origin],
        auth: Auth | None,
        headers: Mapping[str, str] | None,
        form: Mapping[str, str | Secret] | None,
        follow: bool,
        max_redirects: int,
        tls: TLSOptions | None,
    ) -> Exchange:
        redirects: list[str] = []
        withheld: list[str] = []
        clear: list[str] = []
        began_https = urlsplit(url).scheme.lower() == "https"
        started = time.perf_counter()
        secret_form = bool(form) and any(isinstance(v, Secret) for v in (form or {}).values())
        while True:
            here = origin(url)
            trusted = here in allowed
            send_auth = auth is not None and trusted
            if auth is not None and not trusted:
                withheld.append(origin_text(here))
            if (send_auth or (secret_form and trusted)) and sent_in_clear(url, began_https):
                clear.append(origin_text(here))
            if secret_form and not trusted:
                # A refresh token must not go to a foreign origin even in a body.
                return TransportFailure(
                    "error",
                    "credential-origin",
                    "refused to send a credential in a request body to another origin",
                    url,
                    (time.perf_counter() - started) * 1000.0,
                )
            answer = await self._send_once(
                method, url, headers, auth if send_auth else None, form, tls
            )
            if isinstance(answer, TransportFailure):
                return _fail_at(answer, url, started)
            location = answer.header("location")
            if not follow or answer.status not in _REDIRECTS or not location:
                return _replace(
                    answer,
                    redirects=tuple(redirects),
                    auth_sent=send_auth,
                    auth_withheld=tuple(dict.fromkeys(withheld)),
                    auth_in_clear=tuple(dict.fromkeys(clear)),
                    elapsed_ms=(time.perf_counter() - started) * 1000.0,
                )
            nxt = urljoin(url, location)
            if (
                urlsplit(nxt).scheme.lower() not in ("http", "https")
                or len(redirects) >= max_redirects
            ):
                return _replace(
                    answer,
                    redirects=tuple(redirects),
                    auth_sent=send_auth,
                    auth_withheld=tuple(dict.fromkeys(withheld)),
                    auth_in_clear=tuple(dict.fromkeys(clear)),
                    elapsed_ms=(time.perf_counter() - started) * 1000.0,
                )
            if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                method, form, secret_form = "GET" if method != "HEAD" else "HEAD", None, False
            redirects.append(nxt)
            url = nxt

    async def _send_once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        auth: Auth | None,
        form: Mapping[str, str | Secret] | None,
        tls: TLSOptions | None,
    ) -> Exchange:
        t0 = time.perf_counter()
        remaining = self.remaining()
        if remaining <= 0.0:
            return TransportFailure(
                "timeout",
                "deadline",
                f"not sent: the {self.deadline:g} s deadline had passed",
                url,
                0.0,
            )
        client = self._client(url, tls)
        if isinstance(client, TransportFailure):
            return client
        send_headers: dict[str, str] = dict(headers or {})
        if auth is not None:
            name, value = auth.header()
            send_headers[name] = value
        data = None
        if form is not None:
            data = {k: (v.reveal() if isinstance(v, Secret) else v) for k, v in form.items()}
        setting = self._proxy_of(url, tls)
        proxy = describe_proxy(*setting) if setting is not None else None
        try:
            status, resp_headers, body = await asyncio.wait_for(
                self._exchange(client, method, url, send_headers, data, remaining),
                timeout=remaining,
            )
        except (asyncio.TimeoutError, TimeoutError):
            return TransportFailure(
                "timeout",
                "deadline",
                f"no answer within the {self.deadline:g} s deadline",
                url,
                (time.perf_counter() - t0) * 1000.0,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every network failure becomes a result
            failure = blame_proxy(classify_exception(exc, url), proxy)
            return _fail_at(failure, url, t0)
        finally:
            # Drop our references to the credential as early as possible.
            send_headers.clear()
            data = None
        elapsed = (time.perf_counter() - t0) * 1000.0
        skew = date_skew(dict(resp_headers).get("date"), time.time())
        return ProbeResponse(
            method=method,
            url=url,
            status=status,
            headers=resp_headers,
            body=body,
            elapsed_ms=elapsed,
            date_skew_s=skew,
            proxy=proxy,
        )

    async def _exchange(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        headers: dict[str, str],
        data: dict[str, str] | None,
        remaining: float,
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        async with self._limit(url):
            self.requests_sent += 1
            response = await send_paced(client, method, url, headers, data, remaining,
                                        self.remaining, proxied=proxy_setting(url, self.environ)
                                        is not None)
            try:
                body = b""
                if method != "HEAD":
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) >= self.body_limit:
                            body = body[: self.body_limit]
                            break
            finally:
                await response.aclose()
            resp_headers = tuple((k.lower(), v) for k, v in response.headers.multi_items())
            return response.status_code, resp_headers, body


def _replace(resp: ProbeResponse, **changes: Any) -> ProbeResponse:
    from dataclasses import replace

    return replace(resp, **changes)


def _fail_at(failure: TransportFailure, url: str, started: float) -> TransportFailure:
    from dataclasses import replace

    return replace(
        failure,
        url=failure.url or url,
        elapsed_ms=failure.elapsed_ms
        if failure.elapsed_ms is not None
        else (time.perf_counter() - started) * 1000.0,
    )
