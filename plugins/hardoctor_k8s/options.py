"""The Kubernetes plugin's own options, typed (``hardoctor_addoption``
adds them; :func:`kube_options` reads them once per run)."""

from __future__ import annotations

import argparse
import os
import re

from hardoctor import lazyre
from hardoctor.context import Context
from hardoctor.errors import UsageError
from hardoctor.records import dataclass
from hardoctor.stash import StashKey

#: The default cap on one manifest input (each file, or stdin): thousands of
#: objects, checked in seconds; a bigger dump (``kubectl get -A -o yaml`` of
#: a large cluster) raises it, or uses ``--kube``.  Bounded for a mistake
#: (``/dev/zero``) and for the time a CI step may take.
DEFAULT_MAX_MANIFEST_BYTES = 8 * 1024 * 1024
MAX_MANIFEST_OPTION = "--max-manifest-bytes"
MAX_MANIFEST_ENV = "HARDOCTOR_MAX_MANIFEST_BYTES"
#: ``setup --kube-secret``'s dest (setup.py): a run that writes its manifest.
SETUP_SECRET_DEST = "kube_secret"
_UNITS = {"": 1, "k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2, "g": 1024**3, "gib": 1024**3}
_SIZE = lazyre.compile(r"^\s*(\d{1,15})\s*([a-z]*)\s*$", re.IGNORECASE)

#: Subcommands that read pull secrets.
SCOPE_COMMANDS = ("check", "fix", "serve", "tokens", "setup")


@dataclass(frozen=True)
class KubeOptions:
    manifests: tuple[str, ...] = ()
    kube: bool = False
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    #: The most bytes read from one manifest input (file or stdin).
    max_manifest_bytes: int = DEFAULT_MAX_MANIFEST_BYTES

    @property
    def reads_stdin(self) -> bool:
        return "-" in self.manifests


OPTIONS: StashKey[KubeOptions] = StashKey("k8s.options")


def add_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("kubernetes")
    g.add_argument("--manifests", action="append", default=[], metavar="PATH",
                   help="Kubernetes manifests file or directory, - for stdin (repeatable)")
    g.add_argument("--kube", action="store_true", help="read pull secrets from the live cluster")
    g.add_argument("--context", dest="kube_context", metavar="NAME", help="kubeconfig context")
    g.add_argument("--namespace", "-n", metavar="NS", help="Kubernetes namespace")
    g.add_argument("--all-namespaces", "-A", action="store_true", help="every namespace")
    g.add_argument(MAX_MANIFEST_OPTION, dest="max_manifest_bytes", metavar="SIZE",
                   help="the most one --manifests input (file or stdin) may hold: bytes, or "
                        f"with KiB/MiB/GiB (default 8MiB; env {MAX_MANIFEST_ENV})")


def parse_size(value: str, where: str) -> int:
    """``65536``, ``64KiB``, ``64MiB``, ``1GiB`` (K/M/G too) as bytes > 0."""
    m = _SIZE.match(value)
    unit = _UNITS.get(m.group(2).lower()) if m else None
    if m is None or unit is None or int(m.group(1)) <= 0:
        raise UsageError(f"{where}: expected a size in bytes > 0 (e.g. 67108864 or 64MiB), "
                         f"got {value[:40]!r}")
    return int(m.group(1)) * unit


def _existing_manifests(ctx: Context, values: tuple[str, ...]) -> tuple[str, ...]:
    """``--manifests`` paths must exist (a typo in CI must not pass as
    "nothing to check"); ``-`` is stdin.  ``setup`` writes the file it names."""
    if ctx.options.command == "setup" or ctx.options.string(SETUP_SECRET_DEST):
        return values  # setup's own runs (also its re-checks) write the file
    for raw in values:
        if raw == "-":
            continue
        path = os.path.abspath(os.path.join(ctx.project, ctx.env.expand_home(raw)))
        if not os.path.lexists(path) and os.path.realpath(path) not in ctx.overlay:
            raise UsageError(f"--manifests: {raw[:200]}: no such file or directory "
                             "(expected a manifest file, a directory of them, or - for stdin)")
    return values


def _max_manifest_bytes(ctx: Context) -> int:
    raw = ctx.options.string("max_manifest_bytes")
    if raw is not None:
        return parse_size(raw, MAX_MANIFEST_OPTION)
    env = ctx.getenv(MAX_MANIFEST_ENV)
    if env:
        return parse_size(env, MAX_MANIFEST_ENV)
    return DEFAULT_MAX_MANIFEST_BYTES


def kube_options(ctx: Context) -> KubeOptions:
    def build() -> KubeOptions:
        o = ctx.options
        return KubeOptions(
            manifests=_existing_manifests(ctx, o.strings("manifests")),
            kube=o.flag("kube"),
            context=o.string("kube_context"),
            namespace=o.string("namespace"),
            all_namespaces=o.flag("all_namespaces"),
            max_manifest_bytes=_max_manifest_bytes(ctx),
        )

    return ctx.stash.compute(OPTIONS, build)
