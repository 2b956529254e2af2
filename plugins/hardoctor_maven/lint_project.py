"""Lint of the project's files (part of the *lint* role): POMs (unset
variables in URLs, blocked http repositories, committed secrets) and Gradle's
build scripts and gradle.properties (credentials Gradle cannot find or
hardoctor cannot read, committed secrets)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hardoctor import lazyre
from hardoctor.lazy import submodule
from hardoctor.model import Location, Remediation, Secret

from .linter import Linter, committed, env_unset, vendor_url
from .mvnfiles import Pom
from .state import Contact, GradleEndpoint, World

if TYPE_CHECKING:
    from hardoctor import tokens
else:  # the token parsers load when a credential is read (start-up)
    tokens = submodule("hardoctor", "tokens")

if TYPE_CHECKING:
    from . import gradle
else:  # the Gradle scanner's patterns compile only when a Gradle file is read
    gradle = submodule(__package__, "gradle")

#: ``prefix.account.id.secret`` tokens (Harness PATs and SATs, say): a
#: secret wherever it appears in a committed file.
_DOTTED_TOKEN = lazyre.compile(r"\b(?:pat|sat)\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def lint_pom(lt: Linter) -> None:
    for c in lt.w.contacts:
        if c.entry is not lt.entry:
            continue
        loc = c.loc() or Location(lt.entry.path)
        for var in c.url_unset:
            env_unset(lt, var, c.describe(), loc, "Maven keeps the expression in the URL and "
                      "the repository cannot be reached.")
        vendor_url(lt, c.url, loc, c.describe())
        if c.mirror is not None and c.mirror.blocked:
            _blocked(lt, c, loc)
    if lt.entry.tracked:
        _pom_secrets(lt)


def _blocked(lt: Linter, c: Contact, loc: Location) -> None:
    m = c.mirror
    assert m is not None
    lt.add(
        "MVN014",
        f"{c.describe()} ({c.url}) is blocked by mirror {m.id!r} "
        f"(mirrorOf {m.mirror_of!r} in {lt.ctx.display_path(m.entry.path)}).",
        location=loc, registry=c.url,
        why="Maven 3.8.1+ refuses plain-http repositories outside localhost: the build fails "
            "with `Blocked mirror for repositories` before any credential is sent.",
        remediation=Remediation("Use the https:// URL of the repository.",
                                docs=("https://maven.apache.org/docs/3.8.1/release-notes.html",)),
    )


def _pom_secrets(lt: Linter) -> None:
    pom = lt.entry.parsed
    assert isinstance(pom, Pom)
    root = pom.doc.root
    stack = [root]
    while stack:
        e = stack.pop()
        stack.extend(e.children)
        text = e.text
        if not text or e.children:
            continue
        secretish = bool(gradle.SECRET_KEY.search(e.tag)) and not text.startswith("${")
        if secretish or _DOTTED_TOKEN.search(text) or _url_password(text):
            Secret(text)  # registered for redaction
            committed(lt, lt.entry.loc(e, f"<{e.tag}>"), f"a secret in <{e.tag}>")



def lint_gradle_properties(lt: Linter) -> None:
    if not lt.entry.tracked or not isinstance(lt.entry.parsed, list):
        return
    for p in lt.entry.parsed:
        if not isinstance(p, gradle.Prop) or not p.value or p.value.startswith("${"):
            continue
        if gradle.SECRET_KEY.search(p.key) or _DOTTED_TOKEN.search(p.value) or (
                tokens.looks_like_token(p.value) and "user" not in p.key.lower()):
            committed(lt, Location(lt.entry.path, p.line, None, p.key), f"{p.key!r}")


def lint_gradle_script(lt: Linter) -> None:
    for ge in lt.w.gradle_endpoints:
        if ge.entry is not lt.entry:
            continue
        repo = ge.repo
        loc = ge.loc()
        vendor_url(lt, ge.url, loc, f'Gradle repository "{repo.name}"')
        if repo.creds and ge.password is None and ge.missing:
            _gradle_missing(lt, ge, loc)
        elif repo.creds and ge.unknown and ge.password is None:
            lt.add(
                "MVN019",
                f'The credentials of Gradle repository "{repo.name}" are computed in code '
                "hardoctor does not run.",
                location=loc, registry=ge.url,
                why="Only literals, Gradle properties and environment variables can be "
                    "read without running the build.",
            )
        if (lt.entry.tracked and ge.password is not None
                and ge.password.source_id == lt.entry.source.id):
            committed(lt, ge.password.where, f'the password of Gradle repository "{repo.name}"')


def _gradle_missing(lt: Linter, ge: GradleEndpoint, loc: Location) -> None:
    repo = ge.repo
    names = ", ".join(n.lstrip("$") for n in ge.missing)
    if repo.creds == "properties":
        cmds: tuple[str, ...]
        how = (f"credentials(PasswordCredentials) on the repository named {repo.name!r} "
               f"reads the Gradle properties {repo.name}Username and {repo.name}Password")
        cmds = (f"echo '{repo.name}Username=you@example.com' >> ~/.gradle/gradle.properties",
                f"echo '{repo.name}Password=TOKEN' >> ~/.gradle/gradle.properties",
                f'export ORG_GRADLE_PROJECT_{repo.name}Password="$TOKEN"   # CI')
        why = (f"Gradle stops with \"The following Gradle properties are missing for "
               f"'{repo.name}' credentials\".")
    else:
        how = f"its credentials {{ }} block reads {names}"
        cmds = tuple(f'export {n.lstrip("$")}="..."' if n.startswith("$") else
                     f"echo '{n}=...' >> ~/.gradle/gradle.properties" for n in ge.missing)
        why = "Gradle sends no (or null) credentials and the repository answers 401."
    unnamed = "" if repo.named else (
        f' (the repository has no name, so Gradle calls it "{repo.name}")')
    lt.add(
        "MVN011",
        f"Gradle repository {repo.name!r}{unnamed}: {names} not set -- {how}.",
        location=loc, registry=ge.url, why=why,
        evidence=(f"looked in ORG_GRADLE_PROJECT_*, "
                  f"{lt.ctx.display_path(_gradle_user_props(lt.w))} and the project's "
                  "gradle.properties",),
        remediation=Remediation(
            "Define them outside the project (never in the committed gradle.properties).",
            commands=cmds),
    )


def _gradle_user_props(w: World) -> str:
    for e in w.entries:
        if e.kind == "gradle-properties" and e.role == "user":
            return e.path
    return "~/.gradle/gradle.properties"


def _url_password(text: str) -> bool:
    m = re.match(r"^[a-z][a-z0-9+.-]*://([^/@\s]+)@", text, re.I)
    return bool(m and ":" in m.group(1) and not m.group(1).endswith(":"))
