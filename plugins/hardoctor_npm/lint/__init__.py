"""Offline findings about one ``.npmrc`` layer or ``.yarnrc.yml`` file,
with their fixes (:mod:`.npmrc`, :mod:`.registries`, :mod:`.yarn`).
Findings never contain a value: keys, variable names, file:line and
fingerprints only."""

from __future__ import annotations

from hardoctor.context import Context
from hardoctor.model import Finding, Source

from .. import yarnrc
from ..config import Layer
from ..state import State
from .npmrc import NpmrcChecks
from .registries import RegistryChecks
from .yarn import YarnLinter


class NpmLinter(NpmrcChecks, RegistryChecks):
    def run(self) -> list[Finding]:
        if self.layer.where == "env":
            self._env_layer()
            return self.out
        if self.parsed is None:
            return self.out
        if self.layer.ignored and self.layer.where == "workspace":
            self._workspace()
            return self.out
        self._lines()
        self._duplicates()
        self._unscoped()
        self._always_auth()
        self._env_refs()
        self._keys()
        self._values()
        self._registries()
        self._committed_token()
        self._mode()
        self._shadowing()
        return self.out



def lint_source(source: Source, st: State, ctx: Context) -> list[Finding]:
    obj = st.sources.get(source.id)
    if isinstance(obj, Layer):
        if source.error:
            return []
        return NpmLinter(source, obj, st, ctx).run()
    if isinstance(obj, yarnrc.YarnFile):
        if source.error:
            return []
        return YarnLinter(source, obj, st, ctx).run()
    return []


