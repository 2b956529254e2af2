"""Offline findings about pip/uv/Poetry sources, with their fixes
(:mod:`.files`: the files themselves; :mod:`.indexes`: each index URL)."""

from __future__ import annotations

from collections.abc import Iterable

from hardoctor.context import Context
from hardoctor.model import Finding, Source

from ..creds import Creds
from ..model import EnvSource, Model, NetrcView, PipFile, ReqFile, TomlSource
from .base import KEYRING_DOC, NETRC_DOC, netrc_append
from .files import FileChecks
from .indexes import IndexChecks

__all__ = ["KEYRING_DOC", "NETRC_DOC", "Linter", "lint_all", "netrc_append"]


class Linter(FileChecks, IndexChecks):
    """Every check of one source, dispatched by its payload."""

    def run(self, source: Source) -> list[Finding]:
        payload = source.payload
        if source.error:
            return []
        if isinstance(payload, PipFile):
            self.pip_file(source, payload)
        elif isinstance(payload, NetrcView):
            self.netrc(source, payload)
        elif isinstance(payload, ReqFile):
            self.requirements(source, payload)
        elif isinstance(payload, TomlSource):
            self.toml(source, payload)
        elif isinstance(payload, EnvSource) and payload.kind == "pip-env":
            self.pip_env(source)
        elif isinstance(payload, EnvSource) and payload.kind == "uv-env":
            self.uv_env(source)
        for ref in self.refs_of(source.id):
            self.ref(source, ref)
        return self.out


def lint_all(ctx: Context, model: Model, creds: Creds, sources: Iterable[Source]) -> list[Finding]:
    out: list[Finding] = []
    for s in sources:
        out += Linter(ctx, model, creds).run(s)
    return out
