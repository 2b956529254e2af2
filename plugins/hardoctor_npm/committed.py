"""Tokens committed to the repository in npm and Yarn configuration.

npm reads one project ``.npmrc`` (next to the nearest ``package.json``) and
Yarn the ``.yarnrc.yml`` files up the tree; a copy anywhere else in the
repository (``web/.npmrc``, ``tools/ci/.yarnrc.yml``) is read by no client
run from the root, but a literal token in it is in the history of every
clone.  Every such file that git tracks (:func:`hardoctor.vcs.repository_files`)
and that is not already one of the clients' own files becomes a source that
is only linted: NPM010 for ``.npmrc``, NPM037 for ``.yarnrc.yml``.  The
project ``.yarnrc.yml`` Yarn reads gets NPM037 through :func:`yarn_tokens`.
"""

from __future__ import annotations

import os

from hardoctor import vcs
from hardoctor.context import Context
from hardoctor.files import read_file
from hardoctor.model import Finding, Location, PluginData, Remediation, Source
from hardoctor.records import dataclass

from . import ini, yarnrc
from .config import SECRET_FIELDS

ECO = "npm"
#: Yarn Berry settings that hold a secret (top level, npmScopes.*, npmRegistries.*).
YARN_SECRETS = ("npmAuthToken", "npmAuthIdent")


@dataclass(frozen=True)
class Committed(PluginData):
    """A tracked ``.npmrc``/``.yarnrc.yml`` no client reads from where it is."""

    kind: str  # "npmrc" or "yarnrc"


def discover(ctx: Context, known: list[Source]) -> list[Source]:
    seen = {os.path.realpath(s.path) for s in known if s.kind == "file" and s.path}
    out: list[Source] = []
    for path in vcs.repository_files(ctx):
        name = os.path.basename(path)
        kind = "npmrc" if name == ".npmrc" else "yarnrc" if name == ".yarnrc.yml" else None
        if kind is None or os.path.realpath(path) in seen:
            continue
        data = read_file(ctx, path)
        if data is None:
            continue
        out.append(Source(
            id=f"npm:committed:{path}", ecosystem=ECO, kind="file",
            description=f"{name} committed to the repository (not read from there)",
            path=path, text=data.text, mode=data.mode, mtime=data.mtime, error=data.error,
            payload=Committed(kind),
        ))
    return out


def lint(ctx: Context, source: Source, payload: Committed) -> list[Finding]:
    if source.text is None or not source.path:
        return []
    if payload.kind == "yarnrc":
        root, syntax = yarnrc.compose(source.text)
        return [] if syntax is not None else yarn_tokens(ctx, source.path, root)
    return _npmrc(ctx, source.path, source.text)


def _remediation(path: str, ctx: Context, var: str) -> Remediation:
    return Remediation(
        f"Write ${{{var}}} instead of the value, set {var} where the client runs, and revoke "
        "the committed token: it stays in the history.",
        commands=(f"git rm --cached {os.path.relpath(path, ctx.project)}",)
        if os.path.basename(path) != ".yarnrc.yml" else ())


def _npmrc(ctx: Context, path: str, text: str) -> list[Finding]:
    doc = ini.parse(text)
    shown = ctx.display_path(path)
    out: list[Finding] = []
    for entry in doc.entries:
        field = entry.key.rsplit(":", 1)[-1]
        value = entry.text_value
        if field not in SECRET_FIELDS or not value or "${" in value:
            continue
        out.append(ctx.finding(
            "NPM010", f"{shown}:{entry.line}: a literal {field} is committed to git.",
            ecosystem=ECO, location=Location(path, entry.line, None, entry.key),
            why="Everyone who can read the repository (and its forks and CI logs) gets the "
                "token, whether or not npm reads this file.",
            remediation=_remediation(path, ctx, "NPM_TOKEN"),
        ))
    return out


def yarn_tokens(ctx: Context, path: str, root: yarnrc.YNode | None) -> list[Finding]:
    """NPM037 for every literal token or ident in a tracked ``.yarnrc.yml``."""
    if root is None or vcs.tracked(ctx, path) is not True:
        return []
    shown = ctx.display_path(path)
    out: list[Finding] = []
    for keys, _k, v in yarnrc.walk_scalars(root):
        if not keys or keys[-1] not in YARN_SECRETS or not v.value or "${" in v.value:
            continue
        out.append(ctx.finding(
            "NPM037", f"{shown}:{v.line}: a literal {keys[-1]} is committed to git.",
            ecosystem=ECO, location=Location(path, v.line, v.column, ".".join(keys)),
            why="Everyone who can read the repository (and its forks and CI logs) gets the "
                "token; it stays in the history after the line is removed.",
            remediation=_remediation(path, ctx, "NPM_TOKEN"),
        ))
    return out
