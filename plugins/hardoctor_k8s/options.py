"""The Kubernetes plugin's own options, typed (``hardoctor_addoption``
adds them; :func:`kube_options` reads them once per run)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from hardoctor.context import Context
from hardoctor.stash import StashKey

#: Subcommands that read pull secrets.
SCOPE_COMMANDS = ("check", "fix", "serve", "tokens", "setup")


@dataclass(frozen=True)
class KubeOptions:
    manifests: tuple[str, ...] = ()
    kube: bool = False
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False

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


def kube_options(ctx: Context) -> KubeOptions:
    def build() -> KubeOptions:
        o = ctx.options
        return KubeOptions(
            manifests=o.strings("manifests"),
            kube=o.flag("kube"),
            context=o.string("kube_context"),
            namespace=o.string("namespace"),
            all_namespaces=o.flag("all_namespaces"),
        )

    return ctx.stash.compute(OPTIONS, build)
