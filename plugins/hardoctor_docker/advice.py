"""What the Docker engine needs when it cannot reach a registry: its own
trust directory, its insecure-registries list, its own proxy settings."""

from __future__ import annotations

from collections.abc import Sequence

from hardoctor.model import Remediation

ECO = "docker"


def _certs_d_name(host: str) -> str:
    # certs.d folders are named host[:port] exactly as the image reference
    # names the registry; the default port 443 is left out.
    return host[:-4] if host.endswith(":443") else host


def transport_advice(outcome: str, kind: str, host: str,
                     ecosystems: Sequence[str]) -> Remediation | None:
    if ECO not in ecosystems:
        return None
    folder = f"/etc/docker/certs.d/{_certs_d_name(host)}"
    if outcome == "tls-error" and kind == "untrusted-issuer":
        return Remediation(summary="", commands=(
            f"sudo mkdir -p {folder} && sudo cp corp-ca.pem {folder}/ca.crt",))
    if outcome == "tls-error" and kind not in ("hostname-mismatch", "expired-certificate",
                                               "not-yet-valid"):
        return Remediation(summary="", steps=(
            "Docker: a registry that serves plain http must be listed in "
            "insecure-registries in /etc/docker/daemon.json.",))
    if outcome == "proxy-error":
        return Remediation(summary="", steps=(
            "docker pull runs in the Docker daemon, which has its own proxy settings "
            '("proxies" in /etc/docker/daemon.json or the service environment).',))
    return None
