"""How npm is told to trust a company CA."""

from __future__ import annotations

from collections.abc import Sequence

from hardoctor.model import Remediation


def transport_advice(outcome: str, kind: str, ecosystems: Sequence[str]) -> Remediation | None:
    if "npm" not in ecosystems or (outcome, kind) != ("tls-error", "untrusted-issuer"):
        return None
    return Remediation(summary="", commands=("npm config set cafile /path/to/corp-ca.pem",))
