"""The Prometheus / OpenMetrics text exposition of a report.

One text that is valid in both the OpenMetrics 1.0 format and the classic
Prometheus text format 0.0.4: only gauges, HELP without quotes or
backslashes, every label value escaped, no empty label value (an empty value
is a missing label to Prometheus, and a family whose series have different
label sets is refused by the Pushgateway), and ``# EOF`` at the end (a comment
to a 0.0.4 parser).

Secrets never appear: a credential is named by its source, location and
fingerprint, and every free-form label value is scrubbed as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from hardoctor import __version__, redact
from hardoctor.model import Credential, Finding, Report, Resolution, Severity
from hardoctor.records import dataclass

if TYPE_CHECKING:
    from hardoctor.context import Context

CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Stands for an unknown or empty label value (never an empty string).
NONE = "none"
#: Labels whose values come from hardoctor's fixed vocabularies: not scrubbed.
_VOCABULARY = frozenset({"severity", "cause", "rule", "kind", "expiry_source", "ecosystem", "client"})

Labels = Mapping[str, str]


@dataclass(frozen=True)
class Family:
    name: str
    help: str
    samples: tuple[tuple[Labels, float], ...]


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _label_value(name: str, value: str | None) -> str:
    text = (value or "").strip() or NONE
    return text if name in _VOCABULARY else redact.scrub(text)


def render_family(family: Family) -> str:
    lines = [f"# HELP {family.name} {family.help}", f"# TYPE {family.name} gauge"]
    seen: set[tuple[tuple[str, str], ...]] = set()
    for labels, value in family.samples:
        pairs = tuple((k, _label_value(k, v)) for k, v in labels.items())
        if pairs in seen:  # the exposition forbids two series with one label set
            continue
        seen.add(pairs)
        body = ",".join(f'{k}="{escape_label(v)}"' for k, v in pairs)
        lines.append(f"{family.name}{{{body}}} {format_value(value)}" if body
                     else f"{family.name} {format_value(value)}")
    return "\n".join(lines) + "\n"


def render(families: Iterable[Family]) -> str:
    return "".join(render_family(f) for f in families) + "# EOF\n"


def _timestamp(dt: datetime) -> float:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _location(cred: Credential, home: str | None) -> str:
    text = cred.location.display(home)
    if cred.location.key and cred.location.path:
        text += f" {cred.location.key}"
    return text


def expiry_family(report: Report, home: str | None) -> Family:
    samples: list[tuple[Labels, float]] = []
    for cred in report.credentials:
        tok = cred.token
        if tok is None or tok.expires_at is None:
            continue
        labels = {
            "ecosystem": cred.ecosystem,
            "client": ",".join(cred.clients),
            "registry": cred.registry,
            "source": cred.source,
            "location": _location(cred, home),
            "fingerprint": tok.fingerprint or "",
            "kind": tok.kind,
            "account": tok.account_id or "",
            "expiry_source": tok.expiry_source,
        }
        samples.append((labels, _timestamp(tok.expires_at)))
    return Family(
        "hardoctor_credential_expiry_timestamp_seconds",
        "When a stored credential expires (Unix time); expiry_source says whether the token "
        "itself says so, an API said so, or it is an estimate.",
        tuple(samples),
    )


def findings_family(report: Report) -> Family:
    counts: dict[tuple[str, str, str, str, str], int] = {}
    for f in report.findings:
        key = (f.severity.value, f.cause or "", f.rule, f.ecosystem or "", f.registry or "")
        counts[key] = counts.get(key, 0) + 1
    samples = tuple(
        ({"severity": s, "cause": c, "rule": r, "ecosystem": e, "registry": g}, float(n))
        for (s, c, r, e, g), n in sorted(counts.items())
    )
    return Family("hardoctor_findings", "Findings of the last check, by rule and registry.", samples)


def _checked_hosts(report: Report) -> set[str]:
    hosts: set[str] = set()
    for p in report.probes:
        if p.outcome != "not-probed" and "://" in p.url:
            hosts.add(p.url.split("/")[2])
    return hosts


def _fails(res: Resolution, findings: Sequence[Finding]) -> bool:
    """An error finding is about this client and registry (the text
    report's rule, :func:`hardoctor.report.verdicts.about`)."""
    from hardoctor.report.verdicts import about

    return any(f.severity is Severity.ERROR and about(f, res) for f in findings)


def registry_up_family(report: Report) -> Family:
    """1 when the client would succeed, 0 when it would fail; a client whose
    registry was not probed (offline, or no request made) has no series."""
    checked = set() if report.offline else _checked_hosts(report)
    samples: list[tuple[Labels, float]] = []
    for res in report.resolutions:
        if res.target.host not in checked or not res.judged:  # not judged: not probed
            continue
        labels = {"registry": res.registry or res.target.host, "ecosystem": res.ecosystem,
                  "client": res.client}
        samples.append((labels, 0.0 if _fails(res, report.findings) else 1.0))
    return Family(
        "hardoctor_registry_up",
        "1 when the client would authenticate to the registry, 0 when it would fail.",
        tuple(samples),
    )


def check_families(report: Report, home: str | None) -> list[Family]:
    """Everything the report says (not the run status)."""
    return [
        expiry_family(report, home),
        findings_family(report),
        registry_up_family(report),
        Family("hardoctor_credentials", "Credentials found by the last check.",
               (({}, float(len(report.credentials))),)),
        Family("hardoctor_check_timestamp_seconds",
               "When the last completed check started (Unix time).",
               (({}, _timestamp(report.started_at)),)),
        Family("hardoctor_check_duration_seconds", "How long the last completed check took.",
               (({}, report.duration_ms / 1000.0),)),
    ]


def status_families(success: bool | None) -> list[Family]:
    """Build information, and whether the last run succeeded (absent
    before any run)."""
    out = [Family("hardoctor_build_info", "The hardoctor version.",
                  (({"version": __version__}, 1.0),))]
    if success is not None:
        out.append(Family("hardoctor_last_run_success",
                          "1 when the last check run completed, 0 when it failed.",
                          (({}, 1.0 if success else 0.0),)))
    return out


def render_report(report: Report, home: str | None, success: bool = True) -> str:
    return render([*check_families(report, home), *status_families(success)])



class OpenMetricsReporter:
    #: Label values are scrubbed one by one; scrubbing the text could break it.
    scrubbed = True

    def render(self, report: Report, ctx: Context) -> str:
        return render_report(report, ctx.home)
