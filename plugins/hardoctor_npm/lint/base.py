"""What every ``.npmrc`` check needs: the layer, the merged config, and
helpers to build findings, locations and edits (never with a value: keys,
variable names, file:line and fingerprints only)."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from typing import Any

from hardoctor import lazyre
from hardoctor.context import Context
from hardoctor.files import read_bounded
from hardoctor.fixes import digest
from hardoctor.model import (
    Applicability,
    Edit,
    Finding,
    Fix,
    Location,
    Source,
    fingerprint,
)

from .. import ini
from ..config import Config, Item, Layer
from ..nerf import nerf_dart, parse_url, split_key, walk
from ..state import State

ECO = "npm"
AUTHISH = lazyre.compile(r"(_authtoken|_auth|_password|username|registry|always-auth)", re.I)
NPM_DOCS = "https://docs.npmjs.com/cli/configuring-npm/npmrc#auth-related-configuration"


def dflt_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def host_parts(raw: str) -> tuple[str, int | None]:
    host = raw.lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        p = rest.lstrip(":")
        return name + "]", int(p) if p.isdigit() else None
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit():
        return name, int(port)
    return host, None


def in_git_worktree(path: str) -> str | None:
    """The work tree root holding ``path``, or None."""
    cur = os.path.dirname(os.path.abspath(path))
    while True:
        if os.path.exists(os.path.join(cur, ".git")):
            return cur
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def git_ignored(path: str, root: str) -> bool:
    """A simple reading of the work tree's .gitignore files (and
    ``.git/info/exclude``) for ``path``: enough for the usual ``.npmrc``
    line, without running git."""
    rel = os.path.relpath(os.path.abspath(path), root)
    name = os.path.basename(path)
    candidates = [os.path.join(root, ".git", "info", "exclude")]
    d = os.path.dirname(os.path.abspath(path))
    while True:
        candidates.append(os.path.join(d, ".gitignore"))
        if d == root or os.path.dirname(d) == d:
            break
        d = os.path.dirname(d)
    ignored = False
    for gi in reversed(candidates):
        raw = read_bounded(gi)
        if raw is None:
            continue
        lines = raw.decode("utf-8", "replace").splitlines()
        for line in lines:
            pat = line.strip()
            if not pat or pat.startswith("#"):
                continue
            neg = pat.startswith("!")
            pat = pat[1:] if neg else pat
            pat = pat.rstrip("/")
            target = rel if "/" in pat.strip("/") or pat.startswith("/") else name
            if fnmatch.fnmatch(target, pat.lstrip("/")):
                ignored = not neg
    return ignored


class Base:
    """One ``.npmrc`` layer being linted; the check classes add methods."""

    def __init__(self, source: Source, layer: Layer, st: State, ctx: Context) -> None:
        self.source = source
        self.layer = layer
        self.st = st
        self.ctx = ctx
        self.cfg: Config = st.npm
        self.text = layer.text or ""
        self.parsed = layer.parsed
        self.path = layer.path
        self.name = ctx.display_path(layer.path) if layer.path else "the environment"
        self.out: list[Finding] = []
        self.is_file = layer.where != "env" and layer.path is not None

    @functools.cached_property
    def expected(self) -> str:
        """The file's digest, for an edit's "unchanged since read" check:
        computed when the first edit is made (hashing costs start-up)."""
        return digest(self.text)

    # -- helpers ----------------------------------------------------------------------

    def add(self, code: str, message: str, **kw: Any) -> None:
        kw.setdefault("ecosystem", ECO)
        self.out.append(self.ctx.finding(code, message, **kw))

    def loc(self, entry: ini.Entry | None, key: str | None = None) -> Location:
        if entry is None:
            return Location(self.path)
        return Location(self.path, entry.line, entry.key_start - entry.start + 1, key or entry.key)

    def edit(self, start: int, end: int, new_text: str) -> Edit:
        assert self.path is not None
        return Edit(self.path, start, end, new_text, self.expected)

    def fix(self, description: str, *edits: Edit, unsafe: bool = False) -> Fix | None:
        if not self.is_file or not edits:
            return None
        return Fix(description, Applicability.UNSAFE if unsafe else Applicability.SAFE, tuple(edits))

    def my_items(self) -> list[Item]:
        return [i for i in self.layer.items("npm", self.cfg.env, self.cfg.home)]

    def registries(self) -> list[tuple[str, str, Item | None]]:
        """(label, URL, item) of every registry npm uses."""
        out: list[tuple[str, str, Item | None]] = [("registry", self.cfg.registry,
                                                     self.cfg.registry_item())]
        for scope, item in self.cfg.scope_registries().items():
            if item.text and parse_url(item.text):
                out.append((f"{scope}:registry", item.text, item))
        return out

    def key_edit(self, entry: ini.Entry, new_key: str) -> Edit | None:
        raw = self.text[entry.key_start:entry.key_end]
        if raw != entry.key and raw != entry.key + "[]":
            return None  # quoted or escaped: leave it to a person
        return self.edit(entry.key_start, entry.key_end, new_key)


    def _registry_of(self, item: Item) -> str | None:
        split = split_key(item.key)
        if split is None:
            if item.key == "registry" or item.key.endswith(":registry"):
                return item.text
            if item.key in ("_authToken", "_auth", "_password", "username"):
                return self.cfg.registry
            return None
        prefix = split[0]
        for _, url, _ in self.registries():
            if prefix in walk(url.rstrip("/") + "/x") or nerf_dart(url) == prefix:
                return url
        return "https:" + prefix


def fp(value: str | None) -> str:
    return fingerprint(value or "")


def short(key: str) -> str:
    return key if len(key) <= 90 else key[:87] + "..."
