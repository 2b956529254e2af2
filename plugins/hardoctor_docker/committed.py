"""Docker-format credential files committed anywhere in the repository.

A CI directory with its own ``DOCKER_CONFIG`` (``tools/ci/.docker/config.json``),
a containers ``auth.json`` or a ``.dockerconfigjson`` extracted from a pull
secret: no client reads them from there, but a token in one is in the
history of every clone.  They are found through git's index
(:func:`hardoctor.vcs.repository_files`) and read as sources no client uses,
so the only findings they get are about the file itself (DKR025 and the
entry checks), never targets or resolutions.
"""

from __future__ import annotations

import os

from hardoctor import vcs
from hardoctor.context import Context

#: File names that hold Docker-format credentials wherever they are.
NAMES = ("auth.json", ".dockerconfigjson", ".dockercfg")


def paths(ctx: Context) -> list[str]:
    out = []
    for path in vcs.repository_files(ctx):
        name = os.path.basename(path)
        parent = os.path.basename(os.path.dirname(path))
        if name in NAMES or (name == "config.json" and parent == ".docker"):
            out.append(path)
    return out
