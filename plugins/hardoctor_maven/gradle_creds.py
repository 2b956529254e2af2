"""Gradle's side of the World: the ``maven { }`` repositories of the build
scripts and the credentials Gradle gives them -- from
``ORG_GRADLE_PROJECT_*``, ``~/.gradle/gradle.properties``, the project's
``gradle.properties`` (first wins) and environment variables."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from hardoctor.context import Context
from hardoctor.lazy import submodule
from hardoctor.model import Credential, Location, Secret, Source

from . import locate
from .settings import strip_userinfo
from .sources import read_entry
from .state import ECO, FileEntry, GradleEndpoint, GradleValue, World

if TYPE_CHECKING:
    from . import gradle
else:  # the Gradle scanner's patterns compile only when a Gradle file is read
    gradle = submodule(__package__, "gradle")

_ENV_PREFIX = "ORG_GRADLE_PROJECT_"
_ENV_SOURCE = "maven:env:ORG_GRADLE_PROJECT_"


def _env_props(ctx: Context, w: World, props: dict[str, list[GradleValue]]) -> None:
    env_names = sorted(k for k in ctx.env.environ if k.startswith(_ENV_PREFIX))
    if env_names:
        w.env_source = Source(
            id=_ENV_SOURCE, ecosystem=ECO, kind="env",
            description="ORG_GRADLE_PROJECT_* environment variables (Gradle project properties)",
            path=None,
        )
    for name in env_names:
        key = name[len(_ENV_PREFIX):]
        props.setdefault(key, []).append(GradleValue(
            ctx.getenv(name) or "", Location(None, key=f"${name}"), _ENV_SOURCE,
            f"environment variable {name}"))


def _file_props(ctx: Context, entry: FileEntry | None,
                props: dict[str, list[GradleValue]]) -> None:
    if entry is None or not isinstance(entry.parsed, list):
        return
    last: dict[str, gradle.Prop] = {}
    for p in entry.parsed:
        if isinstance(p, gradle.Prop):
            last[p.key] = p  # the last assignment wins, as in java.util.Properties
    for key, prop in last.items():
        props.setdefault(key, []).append(GradleValue(
            prop.value, Location(entry.path, prop.line, None, key), entry.source.id,
            f"{ctx.display_path(entry.path)}:{prop.line}"))


def read_gradle(ctx: Context, w: World) -> None:
    user_props = read_entry(ctx, w, os.path.join(locate.gradle_user_home(ctx), "gradle.properties"),
                            "gradle-properties", "user", "Gradle user properties")
    project_props = read_entry(ctx, w, os.path.join(ctx.project, "gradle.properties"),
                               "gradle-properties", "project", "Gradle project properties")
    # Gradle's order: environment, user properties, project properties.
    props: dict[str, list[GradleValue]] = {}
    _env_props(ctx, w, props)
    _file_props(ctx, user_props, props)
    _file_props(ctx, project_props, props)
    w.gradle_props = props
    for gv in (v for vs in props.values() for v in vs):
        if gradle.SECRET_KEY.search(gv.where.key or "") and gv.value:
            Secret(gv.value)  # registered for redaction
    for path in locate.gradle_scripts(ctx.project):
        entry = read_entry(ctx, w, path, "gradle-script", "project", "Gradle build script")
        if entry is None or not isinstance(entry.parsed, list):
            continue
        for repo in entry.parsed:
            if not isinstance(repo, gradle.GradleRepo) or not repo.url:
                continue
            ge = GradleEndpoint(repo, entry, strip_userinfo(repo.url).rstrip("/"))
            _gradle_creds(ctx, w, ge)
            w.gradle_endpoints.append(ge)


def _gradle_lookup(ctx: Context, w: World, kind: str, name: str, entry: FileEntry,
                   line: int) -> list[GradleValue]:
    if kind == "property":
        return list(w.gradle_props.get(name, []))
    if kind == "env":
        value = ctx.getenv(name)
        if value is None:
            return []
        return [GradleValue(value, Location(None, key=f"${name}"), "", f"environment variable {name}")]
    return []


def _gradle_expr(ctx: Context, w: World, ge: GradleEndpoint, expr: gradle.Expr | None,
                 ) -> tuple[GradleValue | None, list[GradleValue], list[str], list[str]]:
    """(value, all candidates, missing names, unknown expressions)."""
    if expr is None:
        return None, [], [], []
    missing: list[str] = []
    unknown: list[str] = []
    for e in (expr, *expr.fallbacks):
        if e.kind == "literal":
            v = GradleValue(e.value, Location(ge.entry.path, e.line), ge.entry.source.id,
                            f"a literal in {ctx.display_path(ge.entry.path)}:{e.line}")
            return v, [v], missing, unknown
        if e.kind == "unknown":
            unknown.append(e.value)
            continue
        found = _gradle_lookup(ctx, w, e.kind, e.value, ge.entry, e.line)
        if found:
            return found[0], found, missing, unknown
        missing.append(("$" if e.kind == "env" else "") + e.value)
    return None, [], missing, unknown


def _gradle_creds(ctx: Context, w: World, ge: GradleEndpoint) -> None:
    repo = ge.repo
    user_e: gradle.Expr | None
    pw_e: gradle.Expr | None
    if repo.creds == "properties":
        user_e = gradle.Expr("property", f"{repo.name}Username", repo.line)
        pw_e = gradle.Expr("property", f"{repo.name}Password", repo.line)
    elif repo.creds == "block":
        user_e, pw_e = repo.username, repo.password
    else:
        return
    user, _, m1, u1 = _gradle_expr(ctx, w, ge, user_e)
    pw, cands, m2, u2 = _gradle_expr(ctx, w, ge, pw_e)
    ge.username, ge.password, ge.candidates = user, pw, cands
    ge.missing = m1 + m2
    ge.unknown = u1 + u2
    if pw is None:
        return
    Secret(pw.value)
    cid = f"gradle:{repo.path}:{repo.line}#{repo.name}"
    ge.credential = Credential(
        id=cid, ecosystem=ECO, registry=ge.url, host=ge.host,
        source=pw.source_id or ge.entry.source.id,
        location=pw.where if pw.where.path or pw.where.key else ge.loc(),
        username=user.value if user else None, secret=Secret(pw.value), scheme="basic",
        via=f"gradle {repo.creds}", clients=("gradle",),
    )

