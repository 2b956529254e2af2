"""Offline findings about one Docker-format source, with their fixes."""

from __future__ import annotations

import base64
import json
import os
from collections import defaultdict

from hardoctor import jsonspan, redact
from hardoctor.context import Context
from hardoctor.model import Finding, Location, Remediation, Source

from .config import (
    KNOWN_KEYS,
    MISSPELLINGS,
    AuthEntry,
    FilePayload,
    canonical_key,
    decode_auth,
    host_of_key,
    key_host,
)
from .creds import entry_id
from .hub import HUB
from .lint_base import ECO, LintBase


class _Linter(LintBase):
    """The checks of one source's keys and entries (``run`` is the order)."""


    def run(self) -> list[Finding]:
        doc = self.doc
        if doc.error is not None:
            err = doc.error
            self.add(
                "DKR001",
                f"{self.name} is not valid JSON: {err.msg} (line {err.line}, column {err.column}).",
                location=Location(self.source.path, err.line, err.column) if self.is_file else None,
                why=self._load_why(),
                remediation=Remediation(
                    "Correct the syntax at that position, or log in again to rewrite the file.",
                    commands=("printf '%s' \"$TOKEN\" | docker login HOST -u USER --password-stdin",),
                ),
            )
            return self.out
        for message, pos in doc.type_errors:
            self.add("DKR015", f"{self.name}: {message}.", location=self.loc(pos), why=self._load_why())
        if doc.root is None or doc.root.kind != "object":
            return self.out
        self._keys()
        # ~/.dockercfg's top level is the auths map itself: its keys are map
        # keys (case-sensitive in Go), not config fields.
        self._duplicates(doc.root, "auths" if doc.legacy else "")
        for entry in doc.entries:
            self._entry(entry)
        self._host_duplicates()
        if self._clients():  # a committed copy no client reads: no helpers, no file mode
            self._helpers()
            self._mode()
        self._committed()
        return self.out

    def _load_why(self) -> str:
        if self.source.kind != "file":
            return "Docker silently ignores an invalid DOCKER_AUTH_CONFIG."
        return ("The Docker CLI cannot load the file and uses no credentials from it at all; "
                "podman and skopeo stop with an error.")

    def _keys(self) -> None:
        root = self.doc.root
        assert root is not None
        known = {k.lower() for k in KNOWN_KEYS}
        present = {m.key.lower() for m in root.members}
        for m in root.members:
            low = m.key.lower()
            if low in known or self.doc.legacy:
                continue
            meant = MISSPELLINGS.get(low)
            if meant is None:
                continue
            fix = None
            if meant.lower() not in present:
                fix = self.fix(f'rename "{m.key}" to "{meant}"', self.edit(*jsonspan.rename_key(m, meant)))
            self.add(
                "DKR011",
                f'"{m.key}" is not a key Docker knows; did you mean "{meant}"?',
                location=self.loc(m.key_start, m.key),
                why=f'Docker ignores unknown keys, so whatever "{m.key}" was meant to configure has no effect.',
                fix=fix,
            )

    def _duplicates(self, node: jsonspan.Node, path: str = "") -> None:
        if node.kind == "object":
            fold = path in ("", "auths") or path.startswith("auths[")
            groups: dict[str, list[jsonspan.Member]] = defaultdict(list)
            for m in node.members:
                groups[m.key.lower() if fold and path != "auths" else m.key].append(m)
            for key, members in groups.items():
                if len(members) > 1:
                    self._duplicate(node, key, members)
            for m in node.members:
                child = f"auths[{m.key}]" if path == "auths" else (m.key.lower() if path == "" else path + "." + m.key)
                self._duplicate_child(m.value, child)
        elif node.kind == "array":
            for item in node.items:
                self._duplicates(item, path)

    def _duplicate_child(self, node: jsonspan.Node, path: str) -> None:
        if path in ("auths",) or path.startswith("auths[") or path in ("credhelpers",):
            self._duplicates(node, path if path != "credhelpers" else "credHelpers")

    def _duplicate(self, obj: jsonspan.Node, key: str, members: list[jsonspan.Member]) -> None:
        last = members[-1]
        same = all(m.value.value == last.value.value for m in members)
        fix = None
        if same and self.is_file:
            edits = [self.edit(*jsonspan.remove_member(self.doc.text, obj, m)) for m in members[:-1]]
            # Removing several members of one object at once would overlap
            # at shared commas; remove one per run (fix is idempotent).
            fix = self.fix(f'remove the duplicate "{members[0].key}" (identical value)', edits[0])
        self.add(
            "DKR018",
            f'"{members[0].key}" appears {len(members)} times in one object; '
            + ("the copies are identical." if same else "only the last one counts."),
            location=self.loc(members[0].key_start, members[0].key),
            why="Go's JSON decoder keeps the last value silently; editing an earlier copy changes nothing.",
            fix=fix,
        )

    def _entry(self, entry: AuthEntry) -> None:
        key = f'auths["{entry.key}"]'
        cred = entry_id(self.source, entry.key)
        auth = entry.text("auth")
        host = host_of_key(entry.key)
        if auth:
            decoded = decode_auth(auth)
            m = entry.fields["auth"]
            if decoded.problem:
                code = "DKR002" if "base64" in decoded.problem else "DKR003"
                self.add(
                    code,
                    f"{key}.auth {decoded.problem}.",
                    location=self.loc(m.value.start, key),
                    registry=host,
                    credential=cred,
                    why="The Docker CLI refuses to load the whole file, so no registry gets "
                    "credentials from it; skopeo fails with the same error.",
                    remediation=Remediation(
                        "Store the credential again.",
                        commands=(f"printf '%s' \"$TOKEN\" | docker login {host} -u USER --password-stdin",),
                    ),
                )
            elif decoded.password is not None and decoded.password != decoded.password.rstrip():
                fixed = base64.b64encode(
                    f"{decoded.username}:{decoded.password.rstrip()}".encode()
                ).decode()
                redact.register(fixed)
                self.add(
                    "DKR004",
                    f"{key}: the password decoded from `auth` ends in whitespace or a newline.",
                    location=self.loc(m.value.start, key),
                    registry=host,
                    credential=cred,
                    why="The registry receives the password with the newline (from `echo ... | base64`) "
                    "and answers 401.",
                    fix=self.fix("re-encode `auth` without the trailing whitespace",
                                 self.edit(*jsonspan.replace_value(m.value, fixed))),
                )
        else:
            pw = entry.text("password")
            if pw is not None and pw != pw.rstrip():
                self.add(
                    "DKR004",
                    f"{key}.password ends in whitespace or a newline.",
                    location=self.loc(entry.fields["password"].value.start, key),
                    registry=host,
                    credential=cred,
                    why="The registry receives the password with the whitespace and answers 401.",
                    fix=self.fix("strip the trailing whitespace from `password`",
                                 self.edit(*jsonspan.replace_value(entry.fields["password"].value, pw.rstrip()))),
                )
            user = entry.text("username")
            if user and pw:
                encoded = base64.b64encode(f"{user}:{pw.rstrip()}".encode()).decode()
                redact.register(encoded)
                first = entry.member.value.members[0]
                indent = self._indent_before(first.key_start)
                insert = f'"auth": {json.dumps(encoded)},{indent}'
                self.add(
                    "DKR005",
                    f"{key} has username/password fields but no `auth`.",
                    location=self.loc(entry.member.key_start, key),
                    registry=host,
                    credential=cred,
                    why="The Docker CLI reads these fields, but podman, skopeo, buildah and docker-py "
                    "read only `auth`: they send nothing and get 401.",
                    fix=self.fix("add the equivalent `auth` value", self.edit(first.key_start, first.key_start, insert)),
                )
        # Docker Hub under a key the CLI never looks up.
        if host in ("docker.io", "index.docker.io", "registry-1.docker.io") and entry.key != canonical_key("docker.io"):
            if not any(e.key == canonical_key("docker.io") for e in self.doc.entries):
                self.add(
                    "DKR009",
                    f"Docker Hub credentials are stored under {entry.key!r}; the Docker CLI only "
                    "looks up 'https://index.docker.io/v1/'.",
                    location=self.loc(entry.member.key_start, key),
                    registry="docker.io",
                    why="`docker pull` sends no credentials to Docker Hub: private images give 401 and "
                    "anonymous pulls hit the rate limit. podman does read this key.",
                    fix=self.fix("rename the key to https://index.docker.io/v1/",
                                 self.edit(*jsonspan.rename_key(entry.member, canonical_key("docker.io")))),
                )
        elif (entry.key.startswith(("http://", "https://"))
              and key_host(entry.key).lower() == host and not self.doc.legacy
              and not HUB.owns(host) and not any(e.key == host for e in self.doc.entries)):
            self.add(
                "DKR014",
                f"{key} is a URL; `docker login {host}` writes and updates the key {host!r}.",
                location=self.loc(entry.member.key_start, key),
                registry=host,
                why="The lookup still matches it, but a later `docker login` adds a second key "
                "and `docker logout` leaves this one, so a stale token can linger.",
                fix=self.fix(f"rename the key to {host}", self.edit(*jsonspan.rename_key(entry.member, host))),
            )

    def _indent_before(self, pos: int) -> str:
        text = self.doc.text
        start = text.rfind("\n", 0, pos)
        if start < 0:
            return " "
        between = text[start:pos]
        return between if between.strip() == "" else " "

    def _host_duplicates(self) -> None:
        groups: dict[str, list[AuthEntry]] = defaultdict(list)
        for entry in self.doc.entries:
            groups[key_host(entry.key)].append(entry)
        for host, entries in groups.items():
            keys = {e.key for e in entries}
            if len(keys) < 2:
                continue
            canon = canonical_key(host)
            exact = [e for e in entries if e.key == canon]
            fix = None
            if exact:
                keeper = exact[-1]
                stale = [e for e in entries if e.key != canon and e.member.value.value == keeper.member.value.value]
                if stale and self.doc.auths_member is not None:
                    fix = self.fix(
                        f'remove "{stale[0].key}" (identical to "{keeper.key}")',
                        self.edit(*jsonspan.remove_member(self.doc.text, self.doc.auths_member.value, stale[0].member)),
                    )
            first = entries[0]
            self.add(
                "DKR010",
                f"{len(keys)} auths keys normalise to {host}: "
                + ", ".join(repr(e.key) for e in entries) + ".",
                location=self.loc(first.member.key_start, f'auths["{first.key}"]'),
                registry=host.lower(),
                why="The Docker CLI uses the exact key when present, otherwise whichever matching key "
                "Go's map order gives; `docker login` updates only the exact key, so a stale copy can win.",
                fix=fix,
            )


def lint_source(source: Source, ctx: Context) -> list[Finding]:
    payload = source.payload
    if not isinstance(payload, FilePayload) or payload.config is None or source.error:
        return []
    doc = payload.config
    out = _Linter(source, doc, ctx).run()
    if doc.legacy and doc.entries and source.path and os.path.basename(source.path) == ".dockercfg":
        out.append(ctx.finding(
            "DKR017",
            f"{ctx.display_path(source.path)} holds {len(doc.entries)} credential(s) that the Docker CLI ignores.",
            location=Location(source.path),
            ecosystem=ECO,
            why="Current Docker reads only ~/.docker/config.json; podman and docker-py still read this "
            "legacy file, so the clients disagree.",
            remediation=Remediation("Log in with Docker, then delete the legacy file.",
                                    commands=("docker login HOST", "rm ~/.dockercfg")),
        ))
    return out
