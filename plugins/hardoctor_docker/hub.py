"""Docker Hub as this plugin's client sees it: the registry an image
reference without a host means, the host names that are the same registry,
and the ``library/`` namespace of one-component names (distribution's
reference normalisation, which the Docker CLI, containerd and the kubelet
all follow)."""

from __future__ import annotations

from hardoctor.targets import DefaultRegistry

HUB = DefaultRegistry(
    "docker.io",
    frozenset({"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}),
    "library",
)
