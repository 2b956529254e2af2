"""Reporters turn a :class:`~hardoctor.model.Report` into text for a stream.

``to_dict`` builds the stable ``hardoctor/report/v1`` document that the JSON
reporter prints and other machine formats derive from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from hardoctor import __version__
from hardoctor.model import (
    Credential,
    Finding,
    Location,
    ProbeResult,
    Report,
    Resolution,
    Source,
)

if TYPE_CHECKING:
    from hardoctor.context import Context

SCHEMA_ID = "hardoctor/report/v1"


class Reporter(Protocol):
    def render(self, report: Report, ctx: Context) -> str:
        """Return the whole output (the CLI writes it and scrubs secrets)."""
        ...


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def location_dict(loc: Location | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    return {"path": loc.path, "line": loc.line, "column": loc.column, "key": loc.key}


def credential_dict(cred: Credential) -> dict[str, Any]:
    tok = cred.token
    secret: dict[str, Any]
    if tok is not None:
        secret = {
            "kind": tok.kind,
            "fingerprint": tok.fingerprint,
            "account_id": tok.account_id,
            "token_id": tok.token_id,
            "expires_at": iso(tok.expires_at),
            "expiry_source": tok.expiry_source,
            "status": tok.status,
        }
    else:
        secret = {
            "kind": "opaque" if cred.secret else "none",
            "fingerprint": cred.secret.fingerprint if cred.secret else None,
            "account_id": None,
            "token_id": None,
            "expires_at": None,
            "expiry_source": "unknown",
            "status": "unknown",
        }
    return {
        "id": cred.id,
        "ecosystem": cred.ecosystem,
        "registry": cred.registry,
        "host": cred.host,
        "username": cred.username,
        "source": cred.source,
        "location": location_dict(cred.location),
        "scheme": cred.scheme,
        "via": cred.via,
        "clients": list(cred.clients),
        "secret": secret,
    }


def probe_dict(p: ProbeResult) -> dict[str, Any]:
    return {
        "url": p.url,
        "credential": p.credential,
        "outcome": p.outcome,
        "status": p.status,
        "error_code": p.error_code,
        "elapsed_ms": None if p.elapsed_ms is None else round(p.elapsed_ms, 1),
        "detail": p.detail,
    }


def finding_dict(f: Finding) -> dict[str, Any]:
    rem = f.remediation
    fix = f.fix
    return {
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity.value,
        "cause": f.cause,
        "message": f.message,
        "ecosystem": f.ecosystem,
        "registry": f.registry,
        "location": location_dict(f.location),
        "credential": f.credential,
        "why": f.why,
        "evidence": list(f.evidence),
        "remediation": None
        if rem is None
        else {
            "summary": rem.summary,
            "steps": list(rem.steps),
            "commands": list(rem.commands),
            "docs": list(rem.docs),
        },
        "fix": {
            "available": fix is not None,
            "applicability": fix.applicability.value if fix else None,
            "description": fix.description if fix else None,
        },
    }


def resolution_dict(r: Resolution) -> dict[str, Any]:
    return {
        "target": r.target.raw,
        "host": r.target.host,
        "ecosystem": r.ecosystem,
        "client": r.client,
        "registry": r.registry or r.target.host,
        "credential": r.credential.id if r.credential else None,
        "judged": r.judged,
        "judged_because": r.judged_because,
        "chain": [
            {
                "description": s.description,
                "outcome": s.outcome,
                "reason": s.reason,
                "credential": s.credential,
                "location": location_dict(s.location),
            }
            for s in r.chain
        ],
    }


#: The report's lists, in document order.
_SECTIONS = ("sources", "credentials", "resolutions", "probes", "findings")


def source_dict(s: Source) -> dict[str, Any]:
    return {
        "id": s.id,
        "ecosystem": s.ecosystem,
        "kind": s.kind,
        "description": s.description,
        "path": s.path,
        "exists": s.exists,
        "error": s.error,
    }


def _sections(report: Report) -> list[tuple[str, Callable[[Any], dict[str, Any]], Sequence[Any]]]:
    return [
        ("sources", source_dict, report.sources),
        ("credentials", credential_dict, report.credentials),
        ("resolutions", resolution_dict, report.resolutions),
        ("probes", probe_dict, report.probes),
        ("findings", finding_dict, report.findings),
    ]


def to_dict(report: Report, entries: bool = True) -> dict[str, Any]:
    """The v1 document; ``entries=False`` leaves the lists empty (the
    streaming JSON writer adds them one entry at a time)."""
    counts = report.counts()
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "hardoctor", "version": __version__},
        "started_at": iso(report.started_at),
        "duration_ms": round(report.duration_ms, 1),
        "summary": {
            "errors": counts["error"],
            "warnings": counts["warning"],
            "infos": counts["info"],
            "status": report.status,
        },
        **{name: [make(x) for x in items] if entries else []
           for name, make, items in _sections(report)},
    }


#: Fields whose values come from hardoctor's own fixed vocabularies (rule
#: codes and names, causes, outcomes, enums): never user data, never a secret.
VOCABULARY_FIELDS = frozenset({
    "schema", "rule", "name", "severity", "cause", "outcome", "kind", "status",
    "expiry_source", "scheme", "applicability", "ecosystem", "client", "error_code",
})


def scrub_values(obj: Any, field: str | None = None) -> Any:
    """Scrub secrets from every string *value* of a JSON-able structure.

    Scrubbing the rendered text instead could hit JSON syntax or key names
    when a secret happens to equal one (a password "true" or "error"); the
    fixed vocabularies are left alone for the same reason."""
    from hardoctor import redact

    if isinstance(obj, str):
        return obj if field in VOCABULARY_FIELDS else redact.scrub(obj)
    if isinstance(obj, dict):
        return {k: scrub_values(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [scrub_values(v, field) for v in obj]
    return obj


class JsonReporter:
    #: The CLI must not scrub this output again as text (see scrub_values).
    scrubbed = True

    def render(self, report: Report, ctx: Context) -> str:
        return "".join(self.chunks(report, ctx))

    def chunks(self, report: Report, ctx: Context) -> Iterator[str]:
        """The same text as ``json.dumps(to_dict(report), indent=2)``, one
        entry at a time: a 25,000-object cluster's report is never held
        whole -- neither as a dict tree nor as one string -- and each entry
        is scrubbed on its own (the CLI writes the pieces as they come)."""
        import json

        head = {k: v for k, v in to_dict(report, entries=False).items() if k not in _SECTIONS}
        text = json.dumps(scrub_values(head), indent=2, ensure_ascii=False)
        yield text[:-2]  # without the closing "\n}"
        for name, make, items in _sections(report):
            if not items:
                yield f',\n  "{name}": []'
                continue
            yield f',\n  "{name}": ['
            sep = "\n"
            for item in items:
                one = json.dumps(scrub_values(make(item)), indent=2, ensure_ascii=False)
                yield sep + "    " + one.replace("\n", "\n    ")
                sep = ",\n"
            yield "\n  ]"
        yield "\n}\n"


def schema_path() -> str:
    import os

    return os.path.join(os.path.dirname(__file__), "report-v1.schema.json")
