"""Checks of one Yarn Berry ``.yarnrc.yml``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hardoctor import redact
from hardoctor.context import Context
from hardoctor.model import (
    Finding,
    Location,
    Remediation,
    Severity,
    Source,
)

from .. import committed, creds, envsubst, yarnrc
from ..state import State
from .base import ECO

YARN_DOCS = "https://yarnpkg.com/configuration/yarnrc"


class YarnLinter:
    def __init__(self, source: Source, yf: yarnrc.YarnFile, st: State, ctx: Context) -> None:
        self.source, self.yf, self.st, self.ctx = source, yf, st, ctx
        self.name = ctx.display_path(yf.path)
        self.out: list[Finding] = []

    def add(self, code: str, message: str, **kw: Any) -> None:
        kw.setdefault("ecosystem", ECO)
        self.out.append(self.ctx.finding(code, message, **kw))

    def run(self) -> list[Finding]:
        yf = self.yf
        if yf.syntax is not None:
            msg, line = yf.syntax
            self.add("NPM030", f"{self.name} is not valid YAML: {msg}"
                     + (f" (line {line})." if line else "."),
                     location=Location(yf.path, line),
                     why="Yarn aborts every command: \"Parse error when loading "
                         f"{self.name}; please check it's proper Yaml\".",
                     remediation=Remediation("Fix the syntax (every setting is `name: value`).",
                                             docs=(YARN_DOCS,)))
            return self.out
        env = self.ctx.env.environ
        for path, _k, v in yarnrc.walk_scalars(yf.root):
            exp = envsubst_yarn(v.value, env)
            for ref in exp:
                self.add("NPM031",
                         f"{self.name}:{v.line}: {ref} is not set; Yarn aborts every command "
                         f"with \"Environment variable not found ({ref})\".",
                         location=Location(yf.path, v.line, v.column, ".".join(path)),
                         registry=None,
                         why="Yarn expands ${VAR} when it loads the file; an unset variable "
                             "without a default is a fatal error.",
                         remediation=Remediation(
                             f"Export {ref}, or write ${{{ref}:-}} if it is optional.",
                             commands=(f"read -rs {ref} && export {ref}",)))
            if path and path[-1] == "npmAuthIdent":
                self._ident(path, v)
        root = yf.root
        if root is None:
            return self.out
        strict = yf.where != "home"
        if strict:  # a literal token in a project file git tracks (NPM037)
            self.out += committed.yarn_tokens(self.ctx, yf.path, root)
        for k, v in root.pairs():
            self._unknown(k, strict, ())
            if k.kind == "scalar" and k.value in ("npmScopes", "npmRegistries") and v.kind == "map":
                for ek, ev in v.pairs():
                    if k.value == "npmRegistries" and ek.kind == "scalar" and \
                            ek.value.endswith("/"):
                        self.add("NPM033",
                                 f"{self.name}:{ek.line}: npmRegistries key `{ek.value}` ends "
                                 "in `/`.",
                                 location=Location(yf.path, ek.line, ek.column, ek.value),
                                 severity=Severity.INFO,
                                 why="Yarn 4 removes the trailing slash before it looks the "
                                     "registry up (verified with 4.18.1), so the entry works; "
                                     "the key without it is the documented spelling.",
                                 remediation=Remediation("Write the key without the trailing "
                                                         "slash."))
                    if ev.kind == "map":
                        for sk, _ in ev.pairs():
                            self._unknown(sk, strict, (k.value, ek.value if ek.kind == "scalar"
                                                       else "?"))
        return self.out

    def _unknown(self, k: yarnrc.YNode, strict: bool, where: tuple[str, ...]) -> None:
        if k.kind != "scalar":
            return
        name = k.value
        if name in yarnrc.NPM_SETTINGS:
            return
        meant = yarnrc.MISSPELLINGS.get(name.lower())
        if meant is None or (where and meant in ("npmScopes", "npmRegistries")):
            return

        self.add("NPM034",
                 f"{self.name}:{k.line}: `{name}` is not a Yarn setting; did you mean `{meant}`?",
                 severity=None if strict else Severity.WARNING,
                 location=Location(self.yf.path, k.line, k.column, ".".join((*where, name))),
                 why=("Yarn refuses to start with an unknown setting in a project file "
                      "(\"Unrecognized or legacy configuration settings found\")."
                      if strict else "Yarn ignores unknown settings in the home file: the value "
                      "is never used."),
                 remediation=Remediation(f"Rename it to `{meant}`.", docs=(YARN_DOCS,)))

    def _ident(self, path: list[str], v: yarnrc.YNode) -> None:
        value = v.value
        if "${" in value:
            return
        redact.register(value)
        if ":" in value:
            return
        raw = creds.strict_b64(value)
        if raw is not None and ":" in raw.decode("utf-8", "replace"):
            return
        self.add("NPM035",
                 f"{self.name}:{v.line}: `{'.'.join(path)}` is neither `user:password` nor its "
                 "base64.",
                 location=Location(self.yf.path, v.line, v.column, ".".join(path)),
                 why="Yarn sends npmAuthIdent as Basic auth; the registry finds no user in it "
                     "and answers 401.",
                 remediation=Remediation("Put a token in npmAuthToken instead."))


def envsubst_yarn(value: str, env: Mapping[str, str]) -> list[str]:
    return [r.name for r in envsubst.yarn(value, env).refs if r.fatal]

