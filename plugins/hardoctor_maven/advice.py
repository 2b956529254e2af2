"""How Maven (the JVM) is told to trust a company CA."""

from __future__ import annotations

from collections.abc import Sequence

from hardoctor.model import Remediation


def transport_advice(outcome: str, kind: str, ecosystems: Sequence[str]) -> Remediation | None:
    if "maven" not in ecosystems or (outcome, kind) != ("tls-error", "untrusted-issuer"):
        return None
    return Remediation(summary="", commands=(
        "keytool -importcert -alias corp-ca -file corp-ca.pem -keystore corp.jks",
        'export MAVEN_OPTS="-Djavax.net.ssl.trustStore=$PWD/corp.jks '
        '-Djavax.net.ssl.trustStorePassword=changeit"',
    ))
