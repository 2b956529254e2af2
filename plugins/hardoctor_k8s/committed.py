"""Pull secrets committed to the repository.

``--scope project`` (the pre-commit hook) needs no ``--manifests``: every
YAML file git tracks (:func:`hardoctor.vcs.repository_files`) that mentions
a registry-credential Secret (``kubernetes.io/dockerconfigjson`` or
``kubernetes.io/dockercfg``, or their ``.dockerconfigjson``/``.dockercfg``
keys) is read as a manifest.  A cheap text test comes first, so a
repository full of unrelated YAML is not parsed.  Any manifest file git
tracks that holds such a Secret with a value is K8S016, in every scope.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from hardoctor import vcs
from hardoctor.context import Context
from hardoctor.files import read_file
from hardoctor.model import Finding, Location, Remediation
from hardoctor.stash import StashKey

if TYPE_CHECKING:
    from .objects import SecretObj

ECO = "k8s"
SUFFIXES = (".yaml", ".yml")
#: Encrypted in place (SOPS): the values are not the secret.
_ENCRYPTED = ("\nsops:", "ENC[AES256_GCM,")
FOUND: StashKey[tuple[str, ...]] = StashKey("k8s.committed")
#: A pull secret is a few KiB; a bigger YAML file is not one (a chart's
#: vendored CRDs, a cluster dump).  And a monorepo is read no further than this.
MAX_FILE = 1024 * 1024
MAX_FILES = 20000


def files(ctx: Context) -> tuple[str, ...]:
    """Tracked YAML files holding a pull secret, in ``--scope project``."""
    if ctx.options.scope != "project" or not ctx.wants_ecosystem(ECO):
        return ()
    found = ctx.stash.get(FOUND, None)
    if found is None:
        from .dockercfg import KEY_FOR_TYPE  # only in --scope project (start-up)

        markers = (*KEY_FOR_TYPE, *KEY_FOR_TYPE.values())
        out = []
        yaml = [p for p in vcs.repository_files(ctx) if p.endswith(SUFFIXES)][:MAX_FILES]
        for path in yaml:
            try:
                if os.path.getsize(path) > MAX_FILE:
                    continue
            except OSError:
                continue
            data = read_file(ctx, path)
            if data is not None and data.text is not None and \
                    any(m in data.text for m in markers):
                out.append(path)
        found = ctx.stash[FOUND] = tuple(out)
    return found


def findings(ctx: Context, path: str, secrets: list[SecretObj]) -> list[Finding]:
    from .dockercfg import KEY_FOR_TYPE

    keys = set(KEY_FOR_TYPE.values())  # also under a wrong type (K8S004): still a token
    pulls = [s for s in secrets if any(v.key in keys and v.raw.strip() for v in s.values)]
    root = os.path.realpath(ctx.project).rstrip(os.sep) + os.sep
    if not pulls or not os.path.realpath(path).startswith(root):
        return []  # a manifest elsewhere (--manifests ../ops) is another repository's
    if vcs.tracked(ctx, path) is not True:
        return []
    data = read_file(ctx, path)
    if data is not None and data.text is not None and any(m in data.text for m in _ENCRYPTED):
        return []
    rel = os.path.relpath(path, ctx.project)
    return [ctx.finding(
        "K8S016",
        f"{ctx.display_path(path)} is committed to git and Secret {s.namespace}/{s.name} holds "
        "registry credentials.",
        ecosystem=ECO, location=Location(path, s.where.line, None, f"Secret {s.namespace}/{s.name}"),
        why="Everyone who can read the repository (and its forks and CI logs) can pull as this "
            "account; the token stays in the history after the file is deleted.",
        remediation=Remediation(
            "Revoke the token, remove the Secret from git and create it from a CI secret or "
            "an encrypted form (Sealed Secrets, SOPS, External Secrets).",
            steps=("Revoke the token: it stays in the repository's history.",),
            commands=(f"git rm --cached {rel}",
                      "kubectl create secret docker-registry NAME --docker-server=HOST "
                      "--docker-username=USER --docker-password=\"$TOKEN\"")),
    ) for s in pulls]
