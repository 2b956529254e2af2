"""The OCI diagnosis: which one cause a walk's results show.

Transport trouble first (the registry was never reached), then the ping,
the token service and the manifest, in the order the client meets them.
A client that tries several credentials (``Resolution.fallbacks``) has each
walked and diagnosed; a refusal is only a warning when a later candidate
works, because the client then pulls with that one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from hardoctor.model import Credential, Finding, ProbeResult, Remediation, Resolution, Severity
from hardoctor.probe.classify import CLOCK_SKEW_LIMIT_S, is_transport_outcome
from hardoctor.probe.rules import transport_finding

from .spec import candidates, spec_for
from .verdicts import CLIENT_NAMES, Verdicts

if TYPE_CHECKING:
    from hardoctor.context import Context


def diagnose(resolution: Resolution, results: Sequence[ProbeResult], ctx: Context) -> list[Finding]:
    """Findings for one resolution from its walks' results (none when no
    walk ran, e.g. offline)."""
    if not results or spec_for(resolution, ctx) is None:
        return []
    by_cred: dict[str | None, list[ProbeResult]] = {}
    for r in results:
        by_cred.setdefault(r.credential, []).append(r)
    options = candidates(resolution)
    if len(options) == 1:
        return Diagnosis(resolution, results, ctx, options[0]).run()
    per: list[tuple[Credential | None, list[Finding], bool]] = []
    for cred in options:
        mine = by_cred.get(cred.id if cred else None, [])
        found = Diagnosis(resolution, mine, ctx, cred).run() if mine else []
        per.append((cred, found, walk_ok(mine)))
    working = next((c for c, _, ok in per if ok and c is not None), None)
    out: list[Finding] = []
    for cred, found, ok in per:
        out += [_tried_next(f, resolution, cred, working, ctx) if not ok else f for f in found]
    return out


def walk_ok(results: Sequence[ProbeResult]) -> bool:
    """Did this walk end in a pull (or login) that worked?"""
    steps = {r.facts.get("step"): r for r in results}
    final = steps.get("manifest") or steps.get("login")
    if final is not None:
        return final.outcome == "ok"
    ping = steps.get("ping")
    return ping is not None and ping.status == 200


def _tried_next(f: Finding, res: Resolution, cred: Credential | None,
                working: Credential | None, ctx: Context) -> Finding:
    """A refusal the client gets past: it tries the next credential, which works."""
    if working is None or cred is None or f.severity is not Severity.ERROR:
        return f
    return replace(
        f,
        severity=Severity.WARNING,
        message=f"{f.message} {_sentence(CLIENT_NAMES.get(res.client, res.client))} then tries "
        f"the credential from "
        f"{working.location.display(ctx.home)}, which works.",
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


class Diagnosis(Verdicts):
    """Decides which finding the walk's results call for."""

    # -- verdict -------------------------------------------------------------------

    def run(self) -> list[Finding]:
        out: list[Finding] = []
        transport = next(
            (r for r in self.results if is_transport_outcome(r.outcome) or r.status == 407), None
        )
        if transport is not None:
            f = transport_finding(
                self.ctx,
                transport,
                host=self.host,
                what="the registry's token service"
                if transport.facts.get("step") == "token"
                else "the registry",
                ecosystems=("docker",),
                ecosystem=self.res.ecosystem,
                before=self.results[:self.results.index(transport)],
            )
            return [f] if f else []
        out += self.realm_notice()
        verdict = self.verdict()
        if verdict is not None:
            out.append(verdict)
        skew = self.clock_skew(verdict)
        if skew is not None:
            out.append(skew)
        return out

    def verdict(self) -> Finding | None:
        ping = self.steps.get("ping")
        if ping is None:
            return None
        if ping.outcome == "rate-limited":
            return self.rate_limited(ping)
        if ping.status == 404:
            return self.finding(
                "DKR110",
                f"{self.host} does not serve the registry API: GET {ping.url} answered 404.",
                why=f"{self.client} talks to /v2/ on the image's host; this host has no "
                "registry there.",
                remediation=Remediation(
                    summary="Use the registry host from the registry's set-up instructions.",
                    steps=("Check the host part of the image reference or registry URL.",),
                ),
            )
        if ping.status is not None and ping.status not in (200, 401):
            return self.server_error(ping)
        if ping.facts.get("no_challenge"):
            return self.no_challenge(ping)
        if ping.facts.get("challenge") == "basic" and not (self.spec and self.spec.has_secret):
            return self.no_credentials(ping)
        token = self.steps.get("token")
        if token is not None and token.outcome != "ok":
            return self.token_failed(token)
        final = self.steps.get("manifest") or self.steps.get("login")
        if final is None:
            return None
        if final.outcome == "ok":
            return self.push_check(token)
        return self.final_failed(final, token)

    # -- the pieces ------------------------------------------------------------------

    def realm_notice(self) -> list[Finding]:
        token = self.steps.get("token")
        if token is None or not token.facts.get("credential_sent_to_other_origin"):
            return []
        realm = str(token.facts.get("realm", ""))
        plain = " over plain http" if token.facts.get("realm_plaintext") else ""
        return [
            self.finding(
                "DKR112",
                # Client-neutral wording: every client of the registry does
                # this, and one finding per credential and realm is enough.
                f"Registry clients send {self.where()} to the token service "
                f"{token.facts.get('realm_origin', realm)}{plain}, not only to {self.host}: "
                "the registry's challenge names it as the realm.",
                why="The Docker token protocol sends the registry credential to the realm of "
                "the challenge, wherever it is.",
                evidence=[f"GET /v2/ on {self.host} challenged with realm {realm}"],
            )
        ]
    def token_failed(self, token: ProbeResult) -> Finding:
        realm = str(token.facts.get("realm") or token.url)
        if token.outcome == "rate-limited":
            return self.rate_limited(token)
        if token.status in (401, 403):
            if self.spec and self.spec.has_secret and self.cred is not None:
                return self.credential_refused(f"The token endpoint at {realm}", token.status)
            return self.no_credentials(token)
        return self.server_error(token)

    def final_failed(self, final: ProbeResult, token: ProbeResult | None) -> Finding | None:
        has_secret = bool(self.spec and self.spec.has_secret and self.cred is not None)
        anon_empty = token is not None and not has_secret and token.facts.get("granted") == []
        if final.outcome == "rate-limited":
            return self.rate_limited(final)
        if final.outcome == "not-found":
            return self.not_found(final)
        if final.outcome == "forbidden":
            if final.facts.get("policy"):
                msg = final.facts.get("server_message") or "blocked by policy"
                return self.finding(
                    "DKR106",
                    f'{self.image} is blocked by a registry policy: "{msg}" '
                    f"({final.status}{' ' + final.error_code if final.error_code else ''}).",
                    why="The artifact itself is refused; no credential or role change helps.",
                    remediation=Remediation(
                        summary="Use an allowed version, or ask the registry's administrators "
                        "to review the quarantine or policy.",
                    ),
                )
            if not has_secret:
                return self.no_credentials(final, anonymous_grant=anon_empty)
            if self.cred is not None and self.cred.token is not None and \
                    self.cred.token.status == "expired":
                # Some registries answer 403, not 401, to an expired credential
                # (docs/vendors/aws-ecr.md): the expiry is the story, not a role.
                return self.credential_refused(f"The registry {self.host}", final.status)
            return self.permission_denied(final)
        if final.outcome == "unauthorized":
            error = final.facts.get("challenge_error")
            if error == "insufficient_scope":
                if not has_secret:
                    return self.no_credentials(final, anonymous_grant=anon_empty)
                return self.permission_denied(
                    token if token is not None and _empty_grant(token) else final
                )
            if not has_secret:
                return self.no_credentials(final, anonymous_grant=anon_empty)
            if not final.facts.get("auth_sent"):
                # /v2/ let us in without a challenge, so (like Docker) nothing was sent.
                return self.no_challenge(final, open_ping=True)
            scheme = self.spec.scheme if self.spec else "basic"
            if token is not None and scheme != "registrytoken":
                return self.issued_token_refused(final, token)
            where = (
                f"{self.host} (the token sent as Bearer)"
                if scheme == "registrytoken"
                else f"{self.host}"
            )
            return self.credential_refused(f"The registry {where}", final.status)
        return self.server_error(final)

    def issued_token_refused(self, final: ProbeResult, token: ProbeResult) -> Finding:
        if token.facts.get("token_expired_on_arrival") and not token.facts.get(
            "token_expired_by_server_clock"
        ):
            return self.finding(
                "DKR108",
                f"The token {self.host}'s token service issued was already expired by this "
                "machine's clock, and the registry refused it: this machine's clock is wrong.",
                severity=Severity.ERROR,
                why="Bearer tokens live minutes; a clock that is off makes them invalid.",
                remediation=_clock_remediation(),
            )
        if token.facts.get("token_not_yet_valid"):
            return self.finding(
                "DKR108",
                f"The token {self.host}'s token service issued is not valid yet by this "
                "machine's clock: this machine's clock is behind.",
                severity=Severity.ERROR,
                why="Bearer tokens are refused before their `nbf` time.",
                remediation=_clock_remediation(),
            )
        why = (
            "the token service issues tokens that are already expired"
            if token.facts.get("token_expired_by_server_clock")
            else "the registry does not trust its token service's signature, issuer or audience"
        )
        return self.finding(
            "DKR113",
            f"{self.host} refused the token its own token service "
            f"{token.facts.get('realm', '')} had just issued for {self.where()} "
            f"({final.status} {final.facts.get('challenge_error') or ''}".rstrip()
            + f"): {why}.",
            why=f"{self.client} fails with 401 for every pull although the credential is "
            "accepted by the token service.",
            remediation=Remediation(
                summary="The registry's operator must fix the token configuration "
                "(signing certificate, issuer, service name, token lifetime).",
            ),
        )

    def push_check(self, token: ProbeResult | None) -> Finding | None:
        if not (self.spec and self.spec.push) or token is None:
            return None
        granted = token.facts.get("granted")
        if granted is None or "push" in granted:
            return None  # not a JWT with access claims: we never write to find out
        if not (self.spec.has_secret and self.cred is not None):
            return self.no_credentials(token, anonymous_grant=True)
        return self.permission_denied(token, action="push")

    def clock_skew(self, verdict: Finding | None) -> Finding | None:
        if verdict is not None and verdict.rule == "DKR108":
            return None
        skews = [
            float(r.facts["date_skew_s"])
            for r in self.results
            if isinstance(r.facts.get("date_skew_s"), (int, float))
        ]
        if not skews:
            return None
        worst = max(skews, key=abs)
        if abs(worst) <= CLOCK_SKEW_LIMIT_S:
            return None
        direction = "behind" if worst > 0 else "ahead of"
        return self.finding(
            "DKR108",
            f"This machine's clock is {_duration(abs(worst))} {direction} {self.host}'s "
            "(its Date header): tokens can look expired or not yet valid.",
            location=None,
            credential=None,
            why="Bearer tokens are checked against the clock; more than a few minutes of "
            "difference breaks them.",
            evidence=[f"{self.host} Date header differs by {worst:+.0f} s"],
            remediation=_clock_remediation(),
        )


def _empty_grant(token: ProbeResult | None) -> bool:
    return token is not None and token.facts.get("granted") == []


def _duration(seconds: float) -> str:
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 90:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"


def _clock_remediation() -> Remediation:
    return Remediation(
        summary="Synchronise this machine's clock.",
        steps=("Turn on time synchronisation (NTP) and check the time zone setting.",),
        commands=("timedatectl set-ntp true", "date -u"),
    )
