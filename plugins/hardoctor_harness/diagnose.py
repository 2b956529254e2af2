"""``hardoctor_diagnose`` for HAR targets: is the image path or package URL
a client will use laid out the way HAR needs, and is it in the token's
account?

What the registry *answered* (403 with the principal story, 404 codes,
quarantine, the ``Date`` header) is the protocol plugins' job: they probe
and classify, and the 403 text reaches their findings through
``hardoctor_remediation`` (:mod:`.vendor`).  Repeating it here would give
two findings per answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hardoctor.model import Finding, ProbeResult, Resolution, Severity
from hardoctor.tokens import clean_token

from .checks import mismatch_finding, url_finding
from .options import harness_options
from .pat import parse_harness_token
from .urls import OCI_ECOSYSTEMS, HarUrl, account_of, is_har_host, parse_har_url, url_issues

if TYPE_CHECKING:
    from hardoctor.context import Context


def target_url(res: Resolution) -> tuple[str, bool] | None:
    """(the value to check, whether it is an OCI image path)."""
    t = res.target
    if t.kind == "image" and t.name:
        return f"{t.host}/{t.name}", True
    url = t.url or (res.registry if "/" in (res.registry or "") else None)
    if url:
        return url, False
    return None


def diagnose(res: Resolution, results: Sequence[ProbeResult], ctx: Context) -> list[Finding]:
    if not is_har_host(res.target.host, harness_options(ctx).hosts):
        return []
    out: list[Finding] = []
    found = target_url(res)
    har: HarUrl | None = None
    if found is not None:
        value, oci = found
        har = parse_har_url(value, oci=oci)
        cred = res.credential
        already = cred is not None and not oci and _same(cred.registry, value)
        if har is not None and not already:
            out += _url_findings(har, res, results, ctx)
    out += _account(res, har, ctx)
    return out


def _same(a: str, b: str) -> bool:
    def norm(v: str) -> str:
        v = v.strip().rstrip("/").lower()
        for prefix in ("https://", "http://", "//"):
            v = v.removeprefix(prefix)
        return v

    return norm(a) == norm(b)


def _where(res: Resolution) -> dict[str, object]:
    return {
        "ecosystem": res.ecosystem,
        "credential": res.credential.id if res.credential else None,
        "registry": res.target.host,
        "location": None,
    }


def _url_findings(
    har: HarUrl, res: Resolution, results: Sequence[ProbeResult], ctx: Context
) -> list[Finding]:
    eco = "docker" if har.layout == "oci" else res.ecosystem
    got_404 = any(r.outcome == "not-found" for r in results)
    out = []
    for issue in url_issues(har, eco):
        severity = Severity.ERROR if issue.code == "HAR203" and got_404 else None
        out.append(url_finding(issue, ctx, severity=severity, **_where(res)))
    return out


def _account(res: Resolution, har: HarUrl | None, ctx: Context) -> list[Finding]:
    cred = res.credential
    if har is None or cred is None or cred.secret is None:
        return []
    token = parse_harness_token(clean_token(cred.secret.reveal()))
    if token is None or not token.account or token.legacy:
        return []
    # check_credential already compared the key of a package client (npm,
    # pip, Maven keys carry the account); Docker keys are bare hosts.
    if cred.ecosystem not in OCI_ECOSYSTEMS and cred.registry:
        cred_har = parse_har_url(cred.registry, oci=False)
        if cred_har is not None and account_of(cred_har) is not None:
            return []
    url_account = account_of(har)
    if url_account is None:
        return []
    finding = mismatch_finding(token, url_account, har.layout == "oci", har.raw, ctx, **_where(res))
    return [finding] if finding else []
