"""Which container clients the person uses: only those are judged.

The Docker CLI is judged when its configuration shows it is used (the
Docker config file exists -- `docker login` writes it --, or
``DOCKER_CONFIG`` / ``DOCKER_AUTH_CONFIG`` is set), or when no other
container client is in use.  podman/skopeo/buildah are judged when one of
them is on PATH, ``REGISTRY_AUTH_FILE`` is set, or a containers auth file
exists.  Verified with podman 4.3 and buildah 1.28: after `podman login`
(``${XDG_RUNTIME_DIR}/containers/auth.json``) `podman pull` works and no
Docker config exists -- the Docker CLI is then shown, not judged.
``--client`` (the core) overrides this.
"""

from __future__ import annotations

import os
from dataclasses import replace

from hardoctor.context import Context
from hardoctor.model import Resolution

from . import config


def docker_in_use(ctx: Context) -> str | None:
    """Why the Docker CLI counts as used, or None."""
    for var in ("DOCKER_AUTH_CONFIG", "DOCKER_CONFIG"):
        if ctx.getenv(var):
            return f"${var}"
    ddir, _ = config.docker_config_dir(ctx)
    path = os.path.join(ddir, "config.json")
    if os.path.exists(path):
        return ctx.display_path(path)
    return None


def judge(ctx: Context, out: list[Resolution], active: frozenset[str]) -> list[Resolution]:
    if "podman" not in active or not any(r.client == "podman" for r in out):
        return out
    why = docker_in_use(ctx)
    if why is not None:
        return out
    primary, _ = config.containers_primary(ctx)
    because = (f"no Docker config ({ctx.display_path(os.path.join(config.docker_config_dir(ctx)[0], 'config.json'))}): "
               f"`docker login` was never used; podman/skopeo/buildah read {ctx.display_path(primary)}")
    return [replace(r, judged=False, judged_because=because) if r.client == "docker" else r
            for r in out]
