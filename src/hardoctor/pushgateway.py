"""``check --push-gateway URL [--job NAME]``: push the report's metrics to a
Prometheus Pushgateway, for CI jobs and CronJobs that live too briefly to be
scraped.

The push is an HTTP ``PUT`` to ``URL/metrics/job/NAME`` (the Pushgateway
API: it replaces every metric of that group), under one deadline (the
``--timeout`` of the check).  A push that fails is a failure of the tool, not
a finding: the report is still written, then one line goes to stderr and the
exit status is 2 -- a CI job must not look green while the fleet dashboard
silently goes stale.
"""

from __future__ import annotations

import argparse
import base64
import threading
import urllib.parse
from typing import TYPE_CHECKING

from hardoctor import redact

if TYPE_CHECKING:  # urllib.request (http.client, ssl, email) only when pushing
    import urllib.request

    from hardoctor.context import Context
    from hardoctor.model import Report

DEFAULT_JOB = "hardoctor"
_MAX_BODY = 300


class PushError(Exception):
    """The push did not succeed (a secret-free, one-line reason)."""


def gateway_url(text: str) -> str:
    """argparse type of ``--push-gateway``: an http(s) URL with a host."""
    parts = urllib.parse.urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {safe_url(text)!r}")
    if parts.query or parts.fragment:
        raise argparse.ArgumentTypeError("the Pushgateway URL takes no query or fragment")
    if parts.password:
        redact.register(urllib.parse.unquote(parts.password))
    return text.strip()


def job_name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the job name must not be empty")
    return text


def add_push_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("fleet")
    g.add_argument("--push-gateway", type=gateway_url, default=None, metavar="URL",
                   help="also push the metrics (as --format openmetrics) to this Prometheus "
                   "Pushgateway; a failed push exits 2")
    g.add_argument("--job", type=job_name, default=None, metavar="NAME",
                   help=f"the Pushgateway job (grouping key; default {DEFAULT_JOB})")


def safe_url(url: str) -> str:
    """``url`` without user information (never print a password)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def push_url(base: str, job: str) -> str:
    """``BASE/metrics/job/JOB``; a job with a ``/`` uses the Pushgateway's
    ``job@base64`` form."""
    base = safe_url(base).rstrip("/")
    if "/" in job:
        encoded = base64.urlsafe_b64encode(job.encode("utf-8")).decode("ascii")
        return f"{base}/metrics/job@base64/{encoded}"
    return f"{base}/metrics/job/{urllib.parse.quote(job, safe='')}"


def _request(base: str, job: str, body: bytes) -> urllib.request.Request:
    import urllib.request

    from hardoctor.report.openmetrics import TEXT_CONTENT_TYPE

    headers = {"Content-Type": TEXT_CONTENT_TYPE}
    parts = urllib.parse.urlsplit(base)
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        redact.register(token)
        headers["Authorization"] = f"Basic {token}"
    return urllib.request.Request(push_url(base, job), data=body, method="PUT", headers=headers)


def _send(request: urllib.request.Request, deadline: float, outcome: list[str]) -> None:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(request, timeout=deadline) as resp:  # noqa: S310 (http(s) only)
            resp.read(_MAX_BODY)
        outcome.append("")
    except urllib.error.HTTPError as exc:
        text = exc.read(_MAX_BODY).decode("utf-8", "replace").strip().splitlines()
        outcome.append(f"the Pushgateway answered {exc.code}" + (f": {text[0]}" if text else ""))
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        outcome.append(f"no answer ({reason})")


def push(base: str, job: str, body: str, deadline: float) -> None:
    """PUT ``body`` to the group of ``job``; raise :class:`PushError` unless
    the Pushgateway accepted it within ``deadline`` seconds."""
    request = _request(base, job, body.encode("utf-8"))
    outcome: list[str] = []
    worker = threading.Thread(target=_send, args=(request, deadline, outcome),
                              name="hardoctor-push", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        raise PushError(f"no answer within {deadline:g} s")
    if not outcome or outcome[0]:
        raise PushError(outcome[0] if outcome else "the push failed")


def push_report(ctx: Context, report: Report, status: int) -> int:
    """Push after ``check`` wrote its report: ``status`` when the push
    succeeded, else one line on stderr and 2."""
    base = str(ctx.options.extra.get("push_gateway"))
    job = str(ctx.options.extra.get("job") or DEFAULT_JOB)
    try:
        from hardoctor.report.openmetrics import render_report  # only when pushing

        push(base, job, render_report(report, ctx.home), ctx.options.timeout)
    except PushError as exc:
        where = push_url(base, job)
        ctx.env.stderr.write(redact.scrub(f"hardoctor: error: cannot push the metrics to {where}: "
                                          f"{exc}") + "\n")
        return 2
    return status
