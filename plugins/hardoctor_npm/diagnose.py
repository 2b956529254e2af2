"""Findings for one resolution: offline from the chain alone, online from
what the registry answered."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hardoctor.context import Context
from hardoctor.model import Credential, Finding, ProbeResult, Remediation, Resolution, Severity

from . import yarnkeys
from .nerf import nerf_dart, parse_url
from .resolve import Details, details
from .rules import CLIENT
from .state import State

ECO = "npm"
#: Display names of the clients (``hardoctor_client_names``).


def _host(url: str) -> str:
    u = parse_url(url)
    return u.host if u else url


def _what(det: Details) -> str:
    return det.package or det.registry


def _set_cmd(det: Details, client: str) -> str:
    if client == "yarn":
        scope = (det.scope or "").lstrip("@")
        if scope:
            return f"yarn config set 'npmScopes.{scope}.npmAuthToken' \"$TOKEN\""
        return "yarn config set npmAuthToken \"$TOKEN\" && yarn config set npmAlwaysAuth true"
    nerf = nerf_dart(det.registry) or "//HOST/PATH/"
    return f"npm config set \"{nerf}:_authToken\" \"$TOKEN\""


def diagnose(res: Resolution, results: Sequence[ProbeResult], st: State,
             ctx: Context) -> list[Finding]:
    det = details(res)
    if det is None:
        return []
    st.resolutions.setdefault(res.target.raw, {})[res.client] = res
    out: list[Finding] = []
    if results:
        out += _online(res, det, results, st, ctx)
        out += _alias_unproven(res, det, out, ctx)
    else:
        out += _offline(res, det, st, ctx)
    out += _yarn_vs_npm(res, det, st, ctx, bool(results))
    order = st.order.get(res.target.raw, [])
    if order and res.client == order[-1]:
        out += disagreement(ctx, st, res.target.raw)
    return out


def _common(res: Resolution, det: Details, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ecosystem": ECO,
        "registry": det.registry,
        "credential": res.credential.id if res.credential else None,
        "location": res.credential.location if res.credential else None,
    }
    base.update(kw)
    return base


def _offline(res: Resolution, det: Details, st: State, ctx: Context) -> list[Finding]:
    if res.credential is not None or res.client == "yarn":
        return []
    if det.registry in st.explained or any(n.kind != "whoami" for n in det.near):
        return []
    if res.client != "npm":
        return []
    if det.orphans and (det.scope or det.registry_item is not None):
        return [_orphan_finding(res, det, ctx, Severity.WARNING, ())]
    if det.scope:
        return [ctx.finding(
            "NPM009",
            f"{det.scope}:registry is {det.registry}, and npm sends no credential to it.",
            why="A private scoped registry answers 401 (or 404) for anonymous requests; the "
                "default registry's token is not sent to it.",
            remediation=Remediation("Add an auth key for that registry URL.",
                                    commands=("read -rs TOKEN", _set_cmd(det, "npm"))),
            **_common(res, det, location=det.registry_item.location if det.registry_item
                      else None))]
    vendor = ctx.registry_info(det.registry, "npm")
    if vendor is not None:
        # A vendor's hosted registry (not a public mirror) refuses anonymous reads.
        name = vendor.display or vendor.vendor
        return [ctx.finding(
            "NPM014",
            f"npm sends no credential to the {name} registry {det.registry}.",
            why=f"{name} package routes answer 401 to anonymous requests.",
            remediation=Remediation("Add a token for the registry.",
                                    commands=("read -rs TOKEN", _set_cmd(det, "npm"))),
            **_common(res, det, location=det.registry_item.location if det.registry_item
                      else None))]
    return []


def _alias_unproven(res: Resolution, det: Details, found: list[Finding],
                    ctx: Context) -> list[Finding]:
    """The probe passed without a credential (a registry check: verdaccio's
    ``/-/whoami`` answers 200 to anyone) while an auth key names the same
    registry by another name: npm sends nothing, private packages fail."""
    from .alias import alias_key

    if res.credential is not None or res.client != "npm" or alias_key(det) is None or any(
            f.cause == "credential-not-matched" for f in found):
        return []
    return [_orphan_finding(res, det, ctx, Severity.WARNING, ())]


def _orphan_finding(res: Resolution, det: Details, ctx: Context, severity: Severity | None,
                    evidence: tuple[str, ...]) -> Finding:
    from .alias import alias_key, copy_fix

    near = alias_key(det)
    if near is not None and det.exact_prefix:
        prefix, fld, item, how = near
        new_key = f"{det.exact_prefix}:{fld}"
        return ctx.finding(
            "NPM013",
            f"npm sends no credential to {det.registry}: the {fld} at "
            f"{item.location.display(ctx.home)} is keyed `{prefix}`, another name of the same "
            f"registry ({how.describe()}), and npm looks up `{det.exact_prefix}`.",
            severity=severity,
            why="npm compares the request's //host:port/path/ with each auth key as text, "
                "so a key for another name of the same server is never used: the request "
                "goes out anonymous and the registry answers 401.",
            evidence=(*evidence, f"npm looks for keys on the path of {det.request_url}"),
            remediation=Remediation(
                f"Key the credential as `{new_key}` (add it; keep `{prefix}` if something "
                "still uses that name).",
                commands=("read -rs TOKEN", f"npm config set \"{det.exact_prefix}:_authToken\" "
                          "\"$TOKEN\"")),
            fix=copy_fix(item, new_key, ctx),
            **_common(res, det, location=item.location))
    prefix, fld, item = det.orphans[0]
    others = ", ".join(f"`{p}`" for p, _, _ in det.orphans[:3])
    exact = det.exact_prefix or "//HOST/PATH/"
    return ctx.finding(
        "NPM013",
        f"npm sends no credential to {det.registry}: the only auth keys are for other "
        f"registries ({others}; first at {item.location.display(ctx.home)}). npm compares host "
        "names as text, so another name or address of the same server never matches.",
        severity=severity,
        why="The request goes out anonymous and a private registry answers 401.",
        evidence=(*evidence, f"npm looks for keys on the path of {det.request_url}"),
        remediation=Remediation(
            f"Key the credential as `{exact}:{fld}`.",
            commands=("read -rs TOKEN", f"npm config set \"{exact}:_authToken\" \"$TOKEN\"")),
        **_common(res, det, location=item.location))


def _online(res: Resolution, det: Details, results: Sequence[ProbeResult], st: State,
            ctx: Context) -> list[Finding]:
    from hardoctor.probe.classify import is_transport_outcome
    from hardoctor.probe.rules import transport_finding

    transport = next((r for r in results if is_transport_outcome(r.outcome) or r.status == 407),
                     None)
    if transport is not None:
        f = transport_finding(ctx, transport, host=_host(det.registry), ecosystems=("npm",),
                              ecosystem=ECO, credential=res.credential.id if res.credential
                              else None)
        return [f] if f else []
    main = results[-1] if results[0].facts.get("step") == "whoami" and results[0].status in (
        404, 405, 501) else results[0]
    evidence = tuple(r.detail + (f': "{r.facts["server_message"]}"'
                                 if r.facts.get("server_message") else "") for r in results)
    if main.outcome == "unauthorized":
        if res.credential is None:
            return _anonymous_401(res, det, main, evidence, st, ctx)
        return _refused(res, det, main, evidence, ctx)
    verdict = _VERDICTS.get(main.outcome)
    if verdict is not None:
        return verdict(res, det, main, evidence, ctx)
    if main.outcome != "ok" and main.status is not None and main.status >= 500:
        return [ctx.finding("NPM107", f"{det.registry} answered {main.status}.",
                            evidence=evidence, **_common(res, det))]
    return []


def _anonymous_401(res: Resolution, det: Details, main: ProbeResult, evidence: tuple[str, ...],
                   st: State, ctx: Context) -> list[Finding]:
    if det.pnpm_ignored is not None:
        return [_pnpm_ignored(res, det, evidence, ctx)]
    if det.registry in st.explained or any(n.kind != "whoami" for n in det.near):
        return []  # the lint finding at the key's line says why
    if res.client == "yarn" and det.withheld:
        return []  # _yarn_vs_npm reports NPM032
    if res.client == "yarn" and st.yarn is not None:
        missed = yarnkeys.near_miss(st.yarn, det.registry)
        if missed is not None:
            return [yarnkeys.finding(ctx, res, det.registry, missed, evidence,
                                     _common(res, det))]
    if det.orphans:
        return [_orphan_finding(res, det, ctx, None, evidence)]
    client = CLIENT.get(res.client, res.client)
    what = (f"{det.scope}:registry {det.registry}" if det.scope else det.registry)
    return [ctx.finding(
        "NPM102",
        f"{what} requires authentication and {client} sends no credential "
        f"({main.status} for {_what(det)}).",
        why=f"{client} fails with E401 (\"Unable to authenticate\") or E404 for "
            "private packages.",
        evidence=evidence,
        remediation=Remediation("Add an auth key for the registry URL.",
                                commands=("read -rs TOKEN", _set_cmd(det, res.client))),
        **_common(res, det, location=det.registry_item.location if det.registry_item
                  else None))]


def _pnpm_ignored(res: Resolution, det: Details, evidence: tuple[str, ...],
                  ctx: Context) -> Finding:
    item = det.pnpm_ignored
    assert item is not None
    where = item.location.display(ctx.home)
    user_npmrc = "~/.npmrc"
    return ctx.finding(
        "NPM024",
        f"pnpm ignores `{item.key}` at {where}: pnpm 12 does not expand environment variables "
        f"in registry credentials of the project's .npmrc, so it sends nothing to {det.registry} "
        "(401).",
        why="pnpm 12 warns `Ignored project-level auth setting ... environment variables are not "
            "expanded in repository-controlled registry credentials` and the install fails with "
            "ERR_PNPM_FETCH_401; npm still expands the same line.",
        evidence=evidence,
        remediation=Remediation(
            f"Move the credential line to {user_npmrc} (pnpm expands ${{VAR}} there), or "
            "write it with `pnpm config set` where pnpm runs.",
            commands=(f"echo '{item.key}=${{{(item.value_refs[0].name if item.value_refs else 'NPM_TOKEN')}}}' "
                      f">> {user_npmrc}",)),
        **_common(res, det, location=item.location))


def _refused(res: Resolution, det: Details, main: ProbeResult, evidence: tuple[str, ...],
             ctx: Context) -> list[Finding]:
    cred = res.credential
    assert cred is not None
    if cred.secret is None or "${" in cred.secret.reveal():
        return []  # NPM006 at the line: the placeholder was sent
    cause, why_extra = _why_refused(cred, det, ctx)
    client = CLIENT.get(res.client, res.client)
    code = "NPM105" if main.facts.get("anonymous_whoami") else "NPM101"
    where = cred.location.display(ctx.home)
    return [ctx.finding(
        code,
        f"{det.registry} refuses the {cred.via} that {client} sends from {where} "
        f"({main.status} for {_what(det)}).{why_extra}",
        cause=cause,
        why=f"{client} fails with E401 for every package from this registry.",
        evidence=evidence,
        remediation=Remediation(
            "Create a new token and store it where the client reads it.",
            steps=(f"Replace the value at {where}.",),
            commands=("read -rs TOKEN", _set_cmd(det, res.client))),
        **_common(res, det))]


def _why_refused(cred: Credential, det: Details, ctx: Context) -> tuple[str, str]:
    """(cause, sentence) of a 401 for a credential that was sent: what the
    decoded token (``Credential.token``) and the registry's vendor say."""
    acct = _account_mismatch(cred, det, ctx)
    info = cred.token
    if acct:
        return "account-mismatch", (f" The token belongs to account {acct[0]}, the URL is in "
                                    f"{acct[1]}.")
    if info is not None and info.status == "expired":
        when = f" on {info.expires_at:%Y-%m-%d}" if info.expires_at else ""
        return "token-expired", f" It expired{when}."
    return "token-invalid", " The token is wrong, revoked or deleted."


def _forbidden(res: Resolution, det: Details, main: ProbeResult, evidence: tuple[str, ...],
               ctx: Context) -> list[Finding]:
    policy = bool(main.facts.get("policy"))
    client = CLIENT.get(res.client, res.client)
    if policy:
        rem = Remediation("Ask the registry's owners to release the package, or use "
                          "another version.")
    else:
        # The registry's vendor (``hardoctor_remediation``) replaces this with
        # its own permission story when it owns the registry.
        rem = Remediation("Give the token's principal read permission on the registry.",
                          steps=("The token never has more rights than its owner; in a "
                                 "pipeline, check which principal the trigger runs as.",))
    return [ctx.finding(
        "NPM103",
        f"{det.registry} answers 403 for {_what(det)}"
        + (": a policy blocks the package." if policy else
           f" with the credential {client} sends: authenticated, but not allowed."),
        cause="blocked-by-policy" if policy else "permission-denied",
        why="npm fails with E403." + ("" if policy else
                                      " In pipelines, webhook/schedule triggers run as a "
                                      "service principal with its own permissions."),
        evidence=evidence, remediation=rem, **_common(res, det))]


def _not_found(res: Resolution, det: Details, main: ProbeResult, evidence: tuple[str, ...],
               ctx: Context) -> list[Finding]:
    if det.package is None:
        return []
    client = CLIENT.get(res.client, res.client)
    return [ctx.finding(
        "NPM104",
        f"{det.registry} has no package {det.package} ({main.status}).",
        why=f"{client} fails with E404; on registries that host many accounts a wrong account "
            "or registry name in the URL gives 404 too.",
        evidence=evidence,
        remediation=Remediation("Check the package name and the registry URL."),
        **_common(res, det))]


def _rate_limited(res: Resolution, det: Details, main: ProbeResult, evidence: tuple[str, ...],
                  ctx: Context) -> list[Finding]:
    return [ctx.finding("NPM106", f"{det.registry} throttles requests (429).",
                        evidence=evidence, **_common(res, det))]


_Verdict = Callable[[Resolution, Details, ProbeResult, tuple[str, ...], Context], list[Finding]]
_VERDICTS: dict[str, _Verdict] = {
    "forbidden": _forbidden,
    "not-found": _not_found,
    "rate-limited": _rate_limited,
}


def _account_mismatch(cred: Credential, det: Details, ctx: Context) -> tuple[str, str] | None:
    """(token's account, URL's account) when the decoded token and the
    registry's vendor name different accounts."""
    token = cred.token
    info = ctx.registry_info(det.registry, "npm")
    if token is None or not token.account_id or info is None or not info.account:
        return None
    if info.account == token.account_id:
        return None
    return token.account_id, info.account


def _yarn_vs_npm(res: Resolution, det: Details, st: State, ctx: Context,
                 online: bool) -> list[Finding]:
    if res.client != "yarn":
        return []
    out: list[Finding] = []
    sev = None if online else Severity.WARNING
    if det.withheld and det.registry.rstrip("/") not in ("https://registry.yarnpkg.com",
                                                          "https://registry.npmjs.org"):
        setting = det.yarn_setting
        out.append(ctx.finding(
            "NPM032",
            f"Yarn has a token for {det.registry} ({det.withheld}) but sends it only for scoped "
            "packages: npmAlwaysAuth is not true.",
            severity=sev,
            location=setting.location if setting else None,
            why="Unscoped package requests go out anonymous and the registry answers 401 "
                "(YN0041).",
            remediation=Remediation("Add `npmAlwaysAuth: true` next to the token.",
                                    commands=("yarn config set npmAlwaysAuth true",)),
            **{k: v for k, v in _common(res, det).items() if k != "location"}))
    if res.credential is None and not det.withheld:
        npm_res = st.resolutions.get(res.target.raw, {}).get("npm")
        if npm_res is not None and npm_res.credential is not None:
            loc = npm_res.credential.location.display(ctx.home)
            out.append(ctx.finding(
                "NPM036",
                f"Yarn Berry sends no credential to {det.registry}: the token is only in "
                f"{loc}, and Yarn 2+ never reads .npmrc.",
                severity=sev,
                why="`yarn install` gets 401 (YN0041: Invalid authentication) while `npm "
                    "install` works.",
                remediation=Remediation("Put the token in .yarnrc.yml.",
                                        commands=("read -rs TOKEN", _set_cmd(det, "yarn"))),
                **{k: v for k, v in _common(res, det).items() if k != "location"}))
    return out


def disagreement(ctx: Context, st: State, raw: str) -> list[Finding]:
    """NPM015: the clients in use send different credentials to one registry."""
    everyone = {c: r for c, r in st.resolutions.get(raw, {}).items() if r.judged}
    npm_reg = next((r.registry for c, r in everyone.items() if c == "npm"), None)
    # Only clients that talk to the same registry can disagree about it.
    by_client = {c: r for c, r in everyone.items()
                 if npm_reg is None or r.registry.rstrip("/") == npm_reg.rstrip("/")}
    if len(by_client) < 2:
        return []
    fps: dict[str, str] = {}
    for client, r in by_client.items():
        c = r.credential
        fps[client] = "none" if c is None or c.secret is None else c.secret.fingerprint
    if len(set(fps.values())) < 2:
        return []
    parts = []
    for client, r in by_client.items():
        c = r.credential
        what = "nothing" if c is None else f"{c.location.display(ctx.home)} #{fps[client]}"
        parts.append(f"{CLIENT.get(client, client)}: {what}")
    first = next(iter(by_client.values()))
    return [ctx.finding(
        "NPM015", f"Clients disagree about {first.registry}: " + "; ".join(parts) + ".",
        ecosystem=ECO, registry=first.registry,
        why="One tool works while another gets 401 against the same registry.")]
