"""Pacing the requests of many walks against one registry.

A dozen walks of one registry start at the same instant.  Two things then
go wrong with small servers (a registry on a laptop, a test server with
Python's default listen backlog of five) that never happen one walk at a
time:

* every walk of an *insecure* registry (Docker's https-then-http) tries
  https beside http: twice the connections in the first burst.  Walks wait
  briefly for the first one's https verdict instead (:func:`scheme_known`);
* a burst of connections overflows the listen backlog and the kernel drops
  a SYN, which it retries only after a second.  On loopback the kernel
  answers a SYN in well under a millisecond, so a connection not made within
  :data:`LOOPBACK_CONNECT_S` is made again at once (:func:`send_paced`); the
  last attempt waits as long as the deadline allows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from hardoctor.probe.tls import is_loopback

#: How long a request waits for another walk's https verdict on the same
#: origin before going ahead on its own.
SCHEME_WAIT_S = 0.25
#: A loopback connection not made within this time had its SYN dropped.
LOOPBACK_CONNECT_S = 0.05
#: ... and is made again at most this many times.
LOOPBACK_RETRIES = 4


K = TypeVar("K", bound=Hashable)


async def scheme_known(deciding: Mapping[K, asyncio.Event], where: K) -> None:
    """Wait (at most :data:`SCHEME_WAIT_S`) while another walk learns
    whether ``where`` speaks https."""
    event = deciding.get(where)
    if event is not None and not event.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=SCHEME_WAIT_S)


async def send_paced(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str],
    data: dict[str, str] | None,
    remaining: float,
    left: Callable[[], float],
    *,
    proxied: bool,
) -> httpx.Response:
    """Send one request (streamed); on loopback without a proxy, connect
    again at once when a connection is not made in time.  Nothing was sent
    on a connection never made, so any method may be retried."""
    quick = not proxied and is_loopback(urlsplit(url).hostname or "")
    for attempt in range(LOOPBACK_RETRIES + 1):
        budget = max(0.01, left()) if attempt else remaining
        short = quick and attempt < LOOPBACK_RETRIES
        timeout = httpx.Timeout(budget, connect=min(budget, LOOPBACK_CONNECT_S)) if short \
            else httpx.Timeout(budget)
        request = client.build_request(method, url, headers=headers, data=data, timeout=timeout)
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectTimeout:
            if not quick or attempt == LOOPBACK_RETRIES or left() <= 0.05:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
