"""The shared machinery of the Docker-format linter: where a finding
points, how an edit is made, and the checks about credential helpers and
the file itself (mode, committed to git).  :mod:`.lint` adds the checks of
the entries."""

from __future__ import annotations

import functools
import os

from hardoctor import jsonspan
from hardoctor.context import Context
from hardoctor.fixes import digest
from hardoctor.model import Applicability, Edit, Finding, Fix, Location, Remediation, Source

from .config import (
    DockerConfig,
    FilePayload,
    canonical_key,
    entry_location,
    host_of_key,
)
from .creds import ask, entry_credential, list_store
from .helpers import binary_name, find_helper

ECO = "docker"
SECRET_FIELDS = ("auth", "password", "identitytoken", "registrytoken")

def _desktop_failed(helper: str, platform: str) -> tuple[str, ...]:
    from .desktop import failed

    return failed(helper, platform)


class LintBase:
    """One source being linted; findings collect in ``out``."""

    def __init__(self, source: Source, doc: DockerConfig, ctx: Context) -> None:
        self.source = source
        self.doc = doc
        self.ctx = ctx
        self.out: list[Finding] = []
        self.is_file = source.kind == "file" and source.path is not None
        self.name = ctx.display_path(source.path) if self.is_file else "DOCKER_AUTH_CONFIG"

    @functools.cached_property
    def expected(self) -> str:
        """The file's digest for an edit's "unchanged since read" check,
        computed with the first edit (hashing costs start-up)."""
        return digest(self.doc.text)

    def loc(self, pos: int, key: str | None = None) -> Location:
        return entry_location(self.source, self.doc, pos, key)

    def edit(self, start: int, end: int, new_text: str) -> Edit:
        assert self.source.path is not None
        return Edit(self.source.path, start, end, new_text, self.expected)

    def fix(self, description: str, *edits: Edit, unsafe: bool = False) -> Fix | None:
        if not self.is_file:
            return None  # an environment variable cannot be edited in place
        return Fix(description, Applicability.UNSAFE if unsafe else Applicability.SAFE, tuple(edits))

    def add(self, code: str, message: str, **kw: object) -> None:
        kw.setdefault("ecosystem", ECO)
        self.out.append(self.ctx.finding(code, message, **kw))  # type: ignore[arg-type]

    # -- checks -------------------------------------------------------------------

    # -- helpers and the file ----------------------------------------------------

    def _helpers(self) -> None:
        doc = self.doc
        path_env = self.ctx.getenv("PATH")
        store = doc.store_name
        checked: set[str] = set()
        if store and doc.creds_store is not None:
            where = self.loc(doc.creds_store.key_start, "credsStore")
            if find_helper(store, path_env) is None:
                self._missing(store, where, "every registry without its own credHelpers entry")
            else:
                answer = list_store(self.ctx, store)
                if answer.status not in ("ok",):
                    self._failed(store, answer.detail, where)
                checked.add(store)
        for key, member in doc.cred_helpers.items():
            name = str(member.value.value)
            where = self.loc(member.key_start, f'credHelpers["{key}"]')
            if not name:
                continue
            if find_helper(name, path_env) is None:
                self._missing(name, where, key, registry=host_of_key(key))
                continue
            answer = ask(self.ctx, name, key)
            if answer.status in ("failed", "timeout"):
                self._failed(name, answer.detail, where, registry=host_of_key(key))
        # Plaintext entries hidden by a helper.
        for entry in doc.entries:
            if entry_credential(entry) is None:
                continue
            host = host_of_key(entry.key)
            lookup = canonical_key(host)
            where = self.loc(entry.member.key_start, f'auths["{entry.key}"]')
            if lookup in doc.cred_helpers:
                hm = doc.cred_helpers[lookup]
                helpers_obj = doc.cred_helpers_member
                fix = None
                if helpers_obj is not None and self.is_file:
                    fix = self.fix(
                        f'remove credHelpers["{lookup}"] so Docker uses the plaintext entry',
                        self.edit(*jsonspan.remove_member(doc.text, helpers_obj.value, hm)),
                        unsafe=True,
                    )
                self.add(
                    "DKR024",
                    f'credHelpers["{lookup}"] ({binary_name(str(hm.value.value))}) hides the plaintext '
                    f'auths["{entry.key}"] entry.',
                    location=where,
                    registry=host,
                    why="Docker asks the helper and never reads the plaintext entry; a token pasted "
                    "there has no effect.",
                    fix=fix,
                    remediation=Remediation(
                        "Give the helper the new token by logging in again, or remove the helper entry.",
                        commands=(f"printf '%s' \"$TOKEN\" | docker login {host} -u USER --password-stdin",),
                    ),
                )
            elif store and "docker" in self._clients():
                self.add(
                    "DKR008",
                    f'credsStore "{store}" hides the plaintext auths["{entry.key}"] entry from the Docker CLI.',
                    location=where,
                    registry=host,
                    why="With a credsStore, Docker asks the store for every registry without its own "
                    "credHelpers entry and ignores the plaintext auths; a token pasted there has no effect "
                    "(podman/skopeo still read it, so the clients disagree).",
                    remediation=Remediation(
                        "Log in again so the store holds the new token.",
                        commands=(f"printf '%s' \"$TOKEN\" | docker login {host} -u USER --password-stdin",),
                    ),
                )

    def _clients(self) -> tuple[str, ...]:
        payload = self.source.payload
        return payload.clients if isinstance(payload, FilePayload) else ("docker",)

    def _missing(self, helper: str, where: Location, scope: str, registry: str | None = None) -> None:
        from . import desktop

        binary = binary_name(helper)
        why = (f'Docker fails with `exec: "{binary}": executable file not found in $PATH` and '
               "sends no credentials.")
        remediation = Remediation(
            f"Install {binary}, or remove the entry and log in again to store credentials in the file.",
        )
        special = desktop.missing(helper, self.ctx.env.platform, self.name)
        if special is not None:
            why, remediation = f"{why} {special[0]}", special[1]
        self.add("DKR006", f"{binary} (configured for {scope}) is not on PATH.",
                 location=where, registry=registry, why=why, remediation=remediation)

    def _failed(self, helper: str, detail: str, where: Location, registry: str | None = None) -> None:
        binary = binary_name(helper)
        self.add(
            "DKR007",
            f"{binary} failed: {detail}.",
            location=where,
            registry=registry,
            why="Docker gets no credentials from a failing helper and never falls back to auths.",
            remediation=Remediation(
                "Run the helper by hand to see its own error.",
                steps=_desktop_failed(helper, self.ctx.env.platform),
                commands=(f"echo {registry or 'HOST'} | {binary} get",),
            ),
        )

    def _committed(self) -> None:
        src = self.source
        if not self.is_file or src.path is None:
            return
        project = os.path.abspath(self.ctx.project) + os.sep
        if not os.path.abspath(src.path).startswith(project):
            return
        if not any(entry.text(f) for entry in self.doc.entries for f in SECRET_FIELDS):
            return
        from hardoctor import vcs

        if vcs.tracked(self.ctx, src.path) is not True:
            return
        self.add(
            "DKR025",
            f"{self.name} is committed to git and holds registry credentials.",
            location=Location(src.path),
            why="Everyone who can read the repository (and every fork and CI log of it) has "
            "the token; removing the file later does not remove it from history.",
            remediation=Remediation(
                "Revoke the token, remove the file from git, and give CI the credential as a secret.",
                steps=(
                    "Revoke (delete) the token in the registry and create a new one.",
                    "Stop tracking the file and ignore it.",
                    "In CI, log in from a secret: printf '%s' \"$TOKEN\" | docker login HOST "
                    "-u USER --password-stdin",
                ),
                commands=(f"git rm --cached {src.path}", "echo '.docker/' >> .gitignore"),
            ),
        )

    def _mode(self) -> None:
        src = self.source
        if not self.is_file or src.mode is None or not src.mode & 0o077:
            return
        has_secret = any(
            entry.text(f) for entry in self.doc.entries for f in SECRET_FIELDS
        )
        if not has_secret:
            return
        assert src.path is not None
        self.add(
            "DKR013",
            f"{self.name} holds plaintext credentials and has mode {src.mode:04o}.",
            location=Location(src.path),
            why="Other users on this machine can read the tokens (base64 is not encryption).",
            fix=Fix("chmod 600", Applicability.SAFE,
                    (Edit(src.path, 0, 0, "", self.expected, mode=(src.mode & 0o700) | 0o600),)),
            remediation=Remediation("Make the file private.", commands=(f"chmod 600 {self.name}",)),
        )
