"""Credential files committed anywhere in the repository.

pip reads no ``pip.conf``/``pip.ini`` from a project, and requests reads no
``.netrc`` from one either -- but a copy committed to git (a CI snippet, a
colleague's config checked in "for reference") puts its password into the
history of every clone.  These files are found through git's index
(:func:`hardoctor.vcs.repository_files`), so a file only on disk is never
reported, and each one becomes a source of its own: no client reads it, it
exists only to be linted (PIP013 for an index URL with a password, PIP037
for a netrc password).
"""

from __future__ import annotations

import os

from hardoctor import lazyre, vcs
from hardoctor.context import Context
from hardoctor.files import read_file
from hardoctor.model import Finding, Location, PluginData, Remediation, Source
from hardoctor.records import dataclass
from hardoctor.tokens import looks_like_token

from . import ini, netrcfile, urls
from .model import ECO

PIP_NAMES = ("pip.conf", "pip.ini")
NETRC_NAMES = (".netrc", "_netrc")
_REFERENCE = lazyre.compile(r"\$\{?[A-Za-z_]")
_INDEX_OPTIONS = ("index-url", "extra-index-url")


@dataclass(frozen=True)
class Committed(PluginData):
    """A credential file in the repository that no client reads from there."""

    #: ``pip-conf`` or ``netrc``.
    kind: str


def discover(ctx: Context, known: list[Source]) -> list[Source]:
    """Sources for every tracked ``pip.conf``/``pip.ini``/``.netrc`` that is
    not already one of the client's own files."""
    seen = {os.path.realpath(s.path) for s in known if s.kind == "file" and s.path}
    out: list[Source] = []
    for path in vcs.repository_files(ctx):
        name = os.path.basename(path)
        kind = "pip-conf" if name in PIP_NAMES else "netrc" if name in NETRC_NAMES else None
        # A pip.conf pip reads (PIP_CONFIG_FILE=./pip.conf) gets PIP013 from the
        # index checks; a netrc is linted for its permissions only: PIP037 here.
        if kind is None or (kind == "pip-conf" and os.path.realpath(path) in seen):
            continue
        data = read_file(ctx, path)
        if data is None:
            continue
        what = "pip configuration" if kind == "pip-conf" else "netrc file"
        out.append(Source(
            id=f"pip:committed:{path}", ecosystem=ECO, kind="file",
            description=f"{what} committed to the repository (no client reads it there)",
            path=path, text=data.text, mode=data.mode, mtime=data.mtime,
            error=data.error, payload=Committed(kind),
        ))
    return out


def lint(ctx: Context, source: Source, payload: Committed) -> list[Finding]:
    if source.text is None or not source.path:
        return []
    if payload.kind == "netrc":
        return _netrc(ctx, source.path, source.text)
    return _pip_conf(ctx, source.path, source.text)


_REVOKE = ("Revoke the token: it stays in the repository's history after the file is removed.",
           "git rm --cached the file and add it to .gitignore.")


def _pip_conf(ctx: Context, path: str, text: str) -> list[Finding]:
    doc = ini.parse(text)
    shown = ctx.display_path(path)
    out: list[Finding] = []
    for opt in doc.options():
        name = opt.name.lower().replace("_", "-").lstrip("-")
        if name not in _INDEX_OPTIONS:
            continue
        for piece, line, _start, _end in opt.pieces():
            for raw in piece.split():
                url = urls.parse_index_url(raw)
                if url is None or not _holds_secret(url):
                    continue
                out.append(ctx.finding(
                    "PIP013",
                    f"{shown} is committed to git and [{opt.section}] {opt.raw_name} holds a "
                    f"password for {url.host}.",
                    ecosystem=ECO, registry=url.host,
                    location=Location(path, line, None, key=f"[{opt.section}] {opt.raw_name}"),
                    why="pip never reads a pip.conf inside a repository, but the password is in "
                        "the history of every clone, fork and CI checkout.",
                    remediation=Remediation(
                        "Revoke the token, remove the file from git and keep credentials in "
                        "~/.netrc (0600) or a keyring outside the repository.",
                        steps=_REVOKE, commands=(f"git rm --cached {os.path.relpath(path, ctx.project)}",)),
                ))
    return out


def _holds_secret(url: urls.IndexUrl) -> bool:
    if url.password:
        return not _REFERENCE.search(url.password)
    return bool(url.username) and not _REFERENCE.search(url.username or "") and \
        looks_like_token(url.username or "")


def _netrc(ctx: Context, path: str, text: str) -> list[Finding]:
    doc = netrcfile.parse(text)
    shown = ctx.display_path(path)
    out: list[Finding] = []
    for entry in doc.entries:
        if entry.password is None or not entry.password.value:
            continue
        host = entry.name if entry.kind == "machine" else None
        where = f"machine {entry.name}" if host else "default"
        out.append(ctx.finding(
            "PIP037",
            f"{shown} is committed to git and its `{where}` entry holds a password.",
            ecosystem=ECO, registry=host,
            location=Location(path, entry.line, None, key=where),
            why="A netrc file belongs in the home directory (mode 0600); committed, its passwords "
                "are in the history of every clone, fork and CI checkout.",
            remediation=Remediation(
                "Revoke the passwords, remove the file from git and keep ~/.netrc outside the "
                "repository.", steps=_REVOKE,
                commands=(f"git rm --cached {os.path.relpath(path, ctx.project)}",)),
        ))
    return out
