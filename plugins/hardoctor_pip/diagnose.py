"""Findings for one resolution: what the index answered the probe
(PIP1xx), and what can be said offline about an index no credential is
sent to (PIP054, PIP040).

Remediation here is generic (the client's own commands, the stored user
name); the vendor that owns a registry replaces it with its own steps
through ``hardoctor_remediation``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hardoctor import fixes
from hardoctor.context import Context
from hardoctor.model import (
    Applicability,
    Edit,
    Finding,
    Fix,
    Location,
    ProbeResult,
    Remediation,
    Resolution,
    Severity,
)
from hardoctor.tokens import looks_like_token

from . import misses, urls, vendor
from .lint import KEYRING_DOC, NETRC_DOC
from .model import ECO, Model
from .netrcfile import Entry
from .rules import CLIENT

#: Display names of the clients (``hardoctor_client_names``).


def diagnose(ctx: Context, model: Model, res: Resolution, results: Sequence[ProbeResult],
             location: Location | None) -> list[Finding]:
    out: list[Finding] = []
    if results:
        out += online(ctx, model, res, results, location)
    elif res.credential is None:
        out += _offline_no_credentials(ctx, res, location) or netrc_alias(
            ctx, model, res, res.target.url or res.registry,
            {"ecosystem": ECO, "registry": res.target.host, "evidence": ()}, answered=False)
    if res.credential is None and res.client.startswith("pip"):
        out += _keyring_note(ctx, model, res, results, location)
    return out


# -- online -------------------------------------------------------------------------


class _Answer:
    """What every verdict needs: the resolution, the answers, the words."""

    def __init__(self, ctx: Context, model: Model, res: Resolution,
                 results: Sequence[ProbeResult], location: Location | None) -> None:
        self.ctx, self.model, self.res, self.results = ctx, model, res, results
        self.first = results[0]
        self.client = CLIENT.get(res.client, res.client)
        self.index = res.target.url or res.registry
        self.shown = urls.display(self.index)
        self.using = _using(ctx, res)
        self.vendor = vendor.info(ctx, self.index)
        cred = res.credential
        self.common: dict[str, Any] = dict(
            ecosystem=ECO, registry=res.target.host, evidence=[_evidence(r) for r in results],
            credential=cred.id if cred else None,
            location=location if cred is None else cred.location)


def online(ctx: Context, model: Model, res: Resolution, results: Sequence[ProbeResult],
           location: Location | None) -> list[Finding]:
    from hardoctor.probe.classify import is_transport_outcome
    from hardoctor.probe.rules import transport_finding

    cred = res.credential
    transport = next((r for r in results if is_transport_outcome(r.outcome) or r.status == 407),
                     None)
    if transport is not None:
        f = transport_finding(ctx, transport, host=res.target.host, what="the index",
                              ecosystems=("pip",), ecosystem=ECO,
                              credential=cred.id if cred else None)
        return [f] if f else []
    a = _Answer(ctx, model, res, results, location)
    status = a.first.status
    if status is not None and 200 <= status < 300:
        return []
    if a.first.outcome == "rate-limited":
        return [ctx.finding("PIP107", f"{a.shown} throttles requests (429).",
                            why="Often because requests go out without credentials.", **a.common)]
    verdict = _VERDICTS.get(status or 0)
    if verdict is not None:
        return verdict(a)
    return [ctx.finding(
        "PIP106", f"{a.shown} answered {status if status is not None else a.first.outcome}.",
        why="A server-side problem: nothing about the credential can be learned.", **a.common)]


def _unauthorized(a: _Answer) -> list[Finding]:
    ctx, res = a.ctx, a.res
    if res.credential is None:
        a.common["evidence"] = a.common["evidence"] + _near_misses(ctx, a.model, a.index)
        near = misses.findings(ctx, a.model, res, a.common) or netrc_alias(
            ctx, a.model, res, a.index, a.common)
        if near:  # the near miss is the cause: it leads (PIP052 leftover pip config, PIP055)
            return near
        return [ctx.finding(
            "PIP101", f"{a.client} sends no credentials to {a.shown}, and it answered 401.",
            why=f"{a.client} finds nothing to send (see the chain), so the index refuses it; "
                "pip reports only `No matching distribution found`.",
            remediation=store_remediation(res), **a.common)]
    slot = (" -- or the token is in the username slot, and the registry reads the password"
            if a.vendor is not None else "")
    return [ctx.finding(
        "PIP102", f"{a.shown} rejects {a.using} (401).",
        why=f"The password or token is wrong, expired or revoked{slot}.",
        remediation=_token_remediation(ctx, res), **a.common)]


def _forbidden(a: _Answer) -> list[Finding]:
    ctx, res = a.ctx, a.res
    if a.first.facts.get("policy"):
        return [ctx.finding(
            "PIP108", f"{a.shown} refused {res.target.name or 'the request'} by policy: "
            f"{a.first.facts.get('server_message', 'forbidden')}.",
            why="Not an authentication problem: the artifact is quarantined or blocked.",
            **a.common)]
    if a.vendor is not None:
        # A vendor's registry answers 401 for a bad token, so a 403 means the
        # token's principal lacks permission; the vendor's remediation says how
        # to grant it.
        return [ctx.finding(
            "PIP103", f"{a.shown} answered 403 to {a.using}: authenticated, but not allowed "
            "to read this registry.",
            why=f"{vendor.name(a.vendor)} answers 401 for a bad token and 403 when the token's "
                "principal lacks read permission (a pipeline triggered by a webhook or schedule "
                "runs as a service principal).",
            remediation=Remediation("Give the token's principal read permission on the "
                                    "registry."), **a.common)]
    if res.credential is None:
        return [ctx.finding(
            "PIP103", f"{a.shown} answered 403 to an anonymous request from {a.client}.",
            cause="no-credentials", why="The index does not allow anonymous reads.",
            remediation=store_remediation(res), **a.common)]
    return [ctx.finding(
        "PIP103", f"{a.shown} answered 403 to {a.using}: a wrong password (pypiserver and "
        "others answer 403, not 401, for one) or no permission.",
        cause="token-invalid",
        why="pypiserver, devpi and some proxies refuse a wrong password with 403 and no "
            "challenge, so pip never prompts -- it only says `No matching distribution found`.",
        remediation=_token_remediation(ctx, res), **a.common)]


def _not_found(a: _Answer) -> list[Finding]:
    ctx, res = a.ctx, a.res
    steps = {str(r.facts.get("step")): r for r in a.results}
    root = steps.get("index") if res.target.kind == "package" else a.first
    if res.target.kind == "package" and root is not None and root.status is not None \
            and 200 <= root.status < 300:
        name = res.target.name or "?"
        return [ctx.finding(
            "PIP105", f"{a.shown} has no project {urls.normalize_project(name)!r} (404; the "
            "index itself answers).",
            why=f"{a.client} reports `No matching distribution found for {name}`.",
            remediation=Remediation("Check the project name, or upload it to this registry."),
            **a.common)]
    suggested = a.vendor.suggested_url if a.vendor is not None and a.vendor.problems else None
    return [ctx.finding(
        "PIP104", f"{a.shown} answers 404: it is not an index.",
        why="Every project is `not found`: the path (registry name, /simple) is wrong.",
        remediation=Remediation("Copy the index URL from the registry's set-up page"
                                + (f" (its vendor documents {suggested})." if suggested else ".")),
        fix=vendor.fix_for_index(ctx, a.model, a.index) if suggested else None, **a.common)]


_VERDICTS: dict[int, Callable[[_Answer], list[Finding]]] = {
    401: _unauthorized,
    403: _forbidden,
    404: _not_found,
}


def _near_misses(ctx: Context, model: Model, index: str) -> list[str]:
    """netrc entries meant for this host that the client never matches."""
    url = urls.parse_index_url(index)
    doc = model.netrc.doc
    if url is None or doc is None or doc.error is not None:
        return []
    out = []
    for e in doc.entries:
        name = e.name.lower().split("://", 1)[-1].split("/", 1)[0]
        bare = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        if e.kind == "machine" and bare == url.hostname and e.name != url.hostname:
            out.append(f"{ctx.display_path(model.netrc.path)}:{e.line} has 'machine {e.name}', "
                       f"which is never matched: the lookup is {url.hostname!r}")
    return out


def netrc_alias(ctx: Context, model: Model, res: Resolution, index: str,
                common: Mapping[str, Any], answered: bool = True) -> list[Finding]:
    """``machine localhost`` while the index is on ``127.0.0.1`` (or
    ``[::1]``): the same machine under another name.  pip, uv and Poetry
    look up the host exactly as the index URL writes it, so the entry is
    never used (PIP038).  Only literal aliases count
    (:func:`hardoctor.targets.same_registry_aliases`); DNS is never asked."""
    from hardoctor.targets import same_registry_aliases

    url = urls.parse_index_url(index)
    view = model.netrc
    doc = view.doc
    if url is None or doc is None or doc.error is not None or not url.hostname:
        return []
    if any(e.kind == "machine" and e.name == url.hostname for e in doc.entries):
        return []
    for e in doc.entries:
        alias = same_registry_aliases(e.name, url.hostname) if e.kind == "machine" else None
        if alias is None or "loopback" not in alias.kinds:
            continue
        where = f"{ctx.display_path(view.path)}:{e.line}"
        used = any(r.url is not None and r.url.hostname == e.name for r in model.refs)
        fix = _rename_machine(model, e, url.hostname) if not used else None
        rest = {k: v for k, v in common.items() if k not in ("location", "credential")}
        client = {"uv": "uv", "poetry": "Poetry"}.get(res.client, "pip")
        return [ctx.finding(
            "PIP038",
            f"{client} sends no credentials to {urls.display(index)}"
            + (" (401)" if answered else "") + f": {where} has "
            f"'machine {e.name}', but {client} looks up {url.hostname!r}.",
            cause="credential-not-matched",
            severity=None if answered else Severity.WARNING,
            location=Location(view.path, e.line, None, key=f"machine {e.name}"),
            why=f"{client} looks the index's host up in .netrc exactly as the URL writes it "
                f"({alias.describe()}, but the lookup compares the names literally): the entry "
                "is never used and the index answers 401.",
            remediation=Remediation(
                f"Name the entry {url.hostname!r}, as the index URL does"
                + (f" (add a copy for {url.hostname!r}: something here also uses "
                   f"{e.name!r})." if used else "."),
                docs=(NETRC_DOC,)),
            fix=fix, **rest)]
    return []


def _rename_machine(model: Model, e: Entry, host: str) -> Fix | None:
    """Rename ``machine NAME``: safe when no index here uses NAME."""
    view = model.netrc
    text = model.texts.get(view.source_id or "")
    tok = e.name_token
    if text is None or tok is None or view.path is None or text[tok.start:tok.end] != e.name:
        return None
    return Fix(f"rename 'machine {e.name}' to {host}", Applicability.SAFE,
               (Edit(view.path, tok.start, tok.end, host, fixes.digest(text)),))


def _using(ctx: Context, res: Resolution) -> str:
    cred = res.credential
    if cred is None:
        return "no credentials"
    user = f" (user {cred.username})" if cred.username else ""
    fp = f" #{cred.secret.fingerprint}" if cred.secret else ""
    return f"the credential from {cred.location.display(ctx.home)}{user}{fp}"


def _evidence(r: ProbeResult) -> str:
    line = r.detail or r.url
    status = f"{r.status}" if r.status is not None else r.outcome
    line += f" -> {status}"
    if r.facts.get("challenge"):
        line += f" (challenge {r.facts['challenge']} realm={r.facts.get('realm', '')!r})"
    elif r.status in (401, 403) and "challenge" in r.facts:
        line += " (no challenge)"
    if r.facts.get("auth_withheld"):
        line += f"; credential not sent to {', '.join(r.facts['auth_withheld'])} after a redirect"
    msg = r.facts.get("server_message")
    if msg and r.outcome != "ok":
        line += f': "{msg}"'
    return line


def store_remediation(res: Resolution) -> Remediation:
    """How to give ``res.client`` credentials for its index."""
    url = urls.parse_index_url(res.target.url or "")
    host = url.hostname if url else "HOST"
    netrc = (f"printf 'machine {host}\\n  login USER\\n  password %s\\n' \"$TOKEN\" >> "
             "~/.netrc && chmod 600 ~/.netrc")
    if res.client == "uv":
        return Remediation("Give uv credentials for this index.", steps=(
            "Name the index ([[tool.uv.index]] name = \"...\") and set UV_INDEX_<NAME>_USERNAME and "
            "UV_INDEX_<NAME>_PASSWORD, or use ~/.netrc.",),
            commands=("read -rs TOKEN", netrc))
    if res.client == "poetry":
        name = res.target.name or "SOURCE"
        return Remediation("Give Poetry credentials for this source.",
                           commands=("read -rs TOKEN",
                                     f"poetry config http-basic.{name} USER \"$TOKEN\""))
    return Remediation(
        "Store the credentials where pip finds them: ~/.netrc (all tools), or a keyring.",
        steps=("pip sends ~/.netrc credentials up front; a keyring is asked only after a 401 and "
               "only when pip may prompt (not with --no-input).",),
        commands=("read -rs TOKEN", netrc),
    )


def _token_remediation(ctx: Context, res: Resolution) -> Remediation:
    cred = res.credential
    where = cred.location.display(ctx.home) if cred else "the configuration"
    # The stored user name, unless it is the token itself (PIP011's story).
    user = cred.username if cred is not None and cred.username and \
        not looks_like_token(cred.username) else "USER"
    return Remediation(
        f"Check the username and password stored in {where}.",
        steps=(f"Run the same request by hand: curl -u {user} -o /dev/null -w '%{{http_code}}' "
               f"{urls.display(res.target.url or res.registry)}/",
               "If the password is right, ask the index's admin whether the account may read it."),
    )


# -- offline ------------------------------------------------------------------------


def _offline_no_credentials(ctx: Context, res: Resolution,
                            location: Location | None) -> list[Finding]:
    found = vendor.info(ctx, res.target.url or res.registry)
    if found is None:
        return []  # a public index needs none: only a vendor's registry is known to
    if any(s.outcome == "failed" for s in res.chain):
        return []  # the lint finding about the broken file says it better
    name = vendor.name(found)
    return [ctx.finding(
        "PIP054",
        f"{res.client} has no credentials for the {name} index "
        f"{urls.display(res.target.url or res.registry)}.",
        ecosystem=ECO, registry=res.target.host, location=location,
        why=f"{name} answers 401 to anonymous requests; pip shows `No matching distribution "
            "found`.",
        evidence=tuple(f"{s.description}: {s.reason}" for s in res.chain if s.reason),
        remediation=store_remediation(res),
    )]


def _keyring_note(ctx: Context, model: Model, res: Resolution, results: Sequence[ProbeResult],
                  loc: Location | None) -> list[Finding]:
    installed = shutil.which("keyring", path=ctx.getenv("PATH")) is not None
    provider = model.pip.keyring_provider
    if not installed and provider in ("auto", "disabled"):
        return []
    needs = vendor.info(ctx, res.target.url or res.registry) is not None or any(
        r.status in (401, 403) for r in results)
    if not needs:
        return []
    index = urls.display(res.target.url or res.registry)
    if model.pip.no_input and provider in ("auto", "disabled"):
        msg = (f"pip will not ask the keyring for {index}: --no-input "
               "(PIP_NO_INPUT) turns the default keyring lookup off.")
    elif provider == "disabled":
        msg = f"keyring-provider is disabled: pip will not ask the keyring for {index}."
    else:
        msg = (f"pip will ask the keyring for {index} only after a 401, and "
               "only interactively (not with --no-input, as in CI).")
    return [ctx.finding(
        "PIP040", msg, ecosystem=ECO, registry=res.target.host, location=loc,
        why="A token kept only in the keyring works on a laptop and fails in CI.",
        remediation=Remediation(
            "For non-interactive runs use ~/.netrc, or the subprocess provider with a username "
            "in the URL.",
            commands=("pip config set global.keyring-provider subprocess",
                      f"keyring set {index} USER"),
            docs=(KEYRING_DOC,)),
    )]
