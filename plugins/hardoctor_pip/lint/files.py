"""Checks of configuration files as files: pip.conf syntax and
precedence, ``PIP_CONFIG_FILE``, netrc, requirements, uv/Poetry TOML and
their environment variables."""

from __future__ import annotations

import os
import re

from hardoctor.model import (
    Applicability,
    Fix,
    Location,
    Remediation,
    Severity,
    Source,
)

from ..config import uv_env_name
from ..model import (
    NetrcView,
    PipFile,
    ReqFile,
    TomlSource,
)
from .base import NETRC_DOC, Base, _clip, _same_value, _secretish


class FileChecks(Base):
    def pip_file(self, source: Source, pf: PipFile) -> None:
        doc = pf.ini
        if doc is None:
            return
        shown = self.ctx.display_path(pf.path)
        if doc.error is not None:
            self.add("PIP001", f"{shown} does not parse: {doc.error.message}.",
                     location=Location(pf.path, doc.error.line),
                     why="pip refuses to load it and every pip command fails with "
                         "`Configuration file could not be loaded`.",
                     remediation=Remediation("Put every option under a [section] (usually "
                                             "[global]) and remove duplicates.",
                                             commands=("pip config debug",)))
            return
        if pf.skipped:
            tracked = [o for s in doc.effective().values() for o in s.values()
                       if o.name.replace("_", "-").lstrip("-") in ("index-url", "extra-index-url",
                                                                    "trusted-host", "keyring-provider")]
            if tracked:
                first = min(tracked, key=lambda o: o.line)
                self.add("PIP004", f"pip skips {shown}: {pf.skipped}.",
                         location=Location(pf.path, first.line, None, key=f"[{first.section}] {first.raw_name}"),
                         why="Its index and credentials have no effect; editing it changes nothing.",
                         remediation=Remediation(
                             "Move these settings into the file pip reads, or unset PIP_CONFIG_FILE.",
                             commands=("pip config debug",)))
        for opt in doc.options():
            name = opt.name.replace("_", "-").lstrip("-")
            if name not in ("index-url", "extra-index-url", "trusted-host", "cert", "keyring-provider") \
                    and not opt.parts[0].startswith(("http://", "https://")):
                continue
            m = re.search(r"\s+[#;]", opt.parts[0])
            if not m:
                continue
            self._inline_comment(source, pf, opt, m.start(), m.end())
        self._overridden(source)
        self._readable(source)

    def _inline_comment(self, source: Source, pf: PipFile, opt: object, cut: int, hash_at: int) -> None:
        from ..ini import Option

        assert isinstance(opt, Option)
        text = self.text(source.id) or ""
        comment = opt.parts[0][hash_at - 1 :]
        line_start = text.rfind("\n", 0, opt.value_start) + 1
        indent = text[line_start:opt.value_start][: len(text[line_start:opt.value_start]) -
                                                   len(text[line_start:opt.value_start].lstrip())]
        nl = "\r\n" if "\r\n" in text else "\n"
        fix = None
        e1 = self.edit(source.id, pf.path, opt.value_start + cut, opt.value_end, "")
        e2 = self.edit(source.id, pf.path, line_start, line_start, f"{indent}{comment}{nl}")
        if e1 and e2 and not _secretish(comment):
            fix = Fix("move the comment to its own line", Applicability.SAFE, (e2, e1))
        self.add("PIP002",
                 f"{opt.raw_name} in [{opt.section}] ends with {_clip(comment)!r}, which pip keeps "
                 "as part of the value (pip.conf has no inline comments).",
                 location=Location(pf.path, opt.line, None, key=f"[{opt.section}] {opt.raw_name}"),
                 why="The value pip uses includes the comment: an index URL with a space and a "
                     "'#' is unusable, so pip finds no distribution at all.",
                 fix=fix)

    def _overridden(self, source: Source) -> None:
        view = self.model.pip
        for name in ("index-url", "extra-index-url"):
            win = view.winner(name)
            if win is None:
                continue
            for loser in view.losers(name):
                if loser.source != source.id:
                    continue
                if _same_value(loser, win):
                    continue
                loser_creds = any(r.url is not None and r.url.password is not None for r in loser.refs)
                win_creds = any(r.url is not None and r.url.has_credentials for r in win.refs)
                severity = Severity.WARNING if loser_creds and not win_creds else None
                where = win.location.display(self.ctx.home) if win.path else win.key
                why = ("pip reads [global] < [install] < PIP_* variables, whichever file they are "
                       "in, and a later file over an earlier one.")
                self.add("PIP005",
                         f"{loser.key} is overridden by {win.key} ({where})"
                         + ("; the overridden URL carries the credentials" if severity else "") + ".",
                         severity=severity, cause="credential-shadowed" if severity else None,
                         location=loser.location,
                         registry=loser.refs[0].url.host if loser.refs and loser.refs[0].url else None,
                         why=why,
                         remediation=Remediation("Keep the index in one place.",
                                                 commands=("pip config debug",)))

    def _readable(self, source: Source) -> None:
        mode, path = source.mode, source.path
        if mode is None or not (mode & 0o044) or path is None:
            return
        if isinstance(source.payload, ReqFile) or os.path.basename(path) == "pyproject.toml":
            return  # project files: PIP013 (committed) is the real problem there
        holds = any(r.url is not None and r.url.password for r in self.refs_of(source.id)) or any(
            a.source_id == source.id and a.password for a in self.model.poetry.auth.values())
        if not holds:
            return
        new_mode = mode & ~0o077
        edit = self.edit(source.id, path, 0, 0, "", mode=new_mode)
        self.add("PIP012",
                 f"{self.ctx.display_path(path)} holds index credentials and is readable by "
                 f"others (mode {mode:04o}).",
                 location=Location(path),
                 why="Anyone on this machine can copy the token.",
                 remediation=Remediation(f"chmod {new_mode:o} {path}",
                                         commands=(f"chmod {new_mode:o} {path}",)),
                 fix=Fix(f"chmod {new_mode:04o}", Applicability.SAFE, (edit,)) if edit else None)

    def pip_env(self, source: Source) -> None:
        value = self.model.pip.config_file_env
        if value and value != os.devnull:
            path = self.ctx.env.expand_home(value)
            if not os.path.exists(path):
                self.add("PIP003", f"PIP_CONFIG_FILE={value} does not exist; pip ignores it.",
                         location=Location(None, key="$PIP_CONFIG_FILE"),
                         why="The index and credentials it was meant to set are not used.",
                         remediation=Remediation("Point PIP_CONFIG_FILE at an existing file, or unset it.",
                                                 commands=("unset PIP_CONFIG_FILE",)))
        self._overridden(source)


    def netrc(self, source: Source, view: NetrcView) -> None:
        if not source.exists:
            self.add("PIP036", f"NETRC={self.ctx.getenv('NETRC')} does not exist; requests then "
                     "reads no netrc file at all.",
                     location=Location(None, key="$NETRC"),
                     why="~/.netrc is ignored while NETRC is set, so pip and Poetry send no netrc "
                         "credentials.",
                     remediation=Remediation("Point NETRC at the file, or unset it.",
                                             commands=("unset NETRC",)))
            return
        doc = view.doc
        path = view.path or ""
        shown = self.ctx.display_path(path)
        if doc is None:
            return
        if view.mode is not None and view.mode & 0o077:
            new_mode = view.mode & ~0o077
            e = self.edit(source.id, path, 0, 0, "", mode=new_mode)
            self.add("PIP030", f"{shown} is accessible by other users (mode {view.mode:04o}).",
                     location=Location(path), why="Anyone on this machine can read its passwords.",
                     remediation=Remediation(f"chmod 600 {path}", commands=(f"chmod 600 {path}",),
                                             docs=(NETRC_DOC,)),
                     fix=Fix(f"chmod {new_mode:04o}", Applicability.SAFE, (e,)) if e else None)
        if doc.error is not None:
            self.add("PIP032", f"{shown} does not parse (line {doc.error.line}): {doc.error.message}.",
                     location=Location(path, doc.error.line),
                     why="requests (pip, Poetry) swallows the error and uses no netrc entry at all: "
                         "no credentials are sent.",
                     remediation=Remediation(
                         "Use only the keywords machine, default, login, account, password, macdef; "
                         "put a space after '#' in comments.", docs=(NETRC_DOC,)))
            return
        names: dict[str, int] = {}
        for entry in doc.entries:
            if entry.kind == "default":
                self.add("PIP031", f"{shown} has a 'default' entry: its credentials go to every host "
                         "without a machine entry, PyPI included.",
                         location=Location(path, entry.line, None, key="default"),
                         why="pip and Poetry send them to any index or redirect target that asks.",
                         remediation=Remediation("Replace it with machine entries for the hosts "
                                                 "that need them.", docs=(NETRC_DOC,)))
                continue
            names[entry.name] = names.get(entry.name, 0) + 1
            if names[entry.name] == 2:
                self.add("PIP034", f"'machine {entry.name}' appears more than once in {shown}.",
                         location=Location(path, entry.line, None, key=f"machine {entry.name}"),
                         registry=entry.name.lower(),
                         why="Python's netrc (pip, Poetry) uses the last entry, curl and uv the first.",
                         remediation=Remediation("Keep one entry per host."))
            self._machine_name(source, view, entry)

    def _machine_name(self, source: Source, view: NetrcView, entry: object) -> None:
        from ..netrcfile import Entry

        assert isinstance(entry, Entry)
        name = entry.name
        bare = name
        m = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", bare)
        if m:
            bare = bare[m.end():]
        bare = bare.split("/", 1)[0]
        if bare.startswith("["):
            host = bare
        else:
            host = bare.rsplit(":", 1)[0] if bare.count(":") == 1 else bare
        host = host.lower()
        wanted = {r.url.hostname for r in self.model.refs if r.url is not None}
        if host == name:
            return
        if name.lower() == host and host not in wanted and name not in wanted:
            return  # only a case difference for a host nothing here uses
        path = view.path or ""
        fix = None
        if entry.name_token is not None and host and host not in view.doc.hosts:  # type: ignore[union-attr]
            e = self.edit(source.id, path, entry.name_token.start, entry.name_token.end, host)
            if e is not None and (self.text(source.id) or "")[entry.name_token.start:entry.name_token.end] == name:
                fix = Fix(f"rename the machine to {host}", Applicability.SAFE, (e,))
        # Group it with the index it was meant for (host:port), when there is one.
        registry = next((r.url.host for r in self.model.refs
                         if r.url is not None and r.url.hostname == host), host)
        self.add("PIP033", f"'machine {name}' never matches: pip looks up {host!r} (the bare "
                 "host as written in the URL, without scheme or port).",
                 location=Location(path, entry.line, None, key=f"machine {name}"), registry=registry,
                 why="requests strips the port before the lookup and compares names exactly, so "
                     "the entry is never used and no credentials are sent.",
                 remediation=Remediation(f"Write `machine {host}`.", docs=(NETRC_DOC,)), fix=fix)

    # -- requirements, TOML, env ------------------------------------------------------------

    def requirements(self, source: Source, rf: ReqFile) -> None:
        for line, why in rf.doc.errors:
            self.add("PIP006", f"{self.ctx.display_path(rf.path)} line {line} {why}.",
                     location=Location(rf.path, line),
                     why="`pip install -r` stops before contacting any index.")

    def toml(self, source: Source, payload: TomlSource) -> None:
        kind, doc = payload.kind, payload.doc
        from ..tomlconf import TomlDoc

        if not isinstance(doc, TomlDoc):
            return
        from .. import tomlconf

        if doc.error is not None and not tomlconf.available():
            return  # Python 3.10 without tomli: nothing is known about the file
        if doc.error is not None:
            who = "Poetry" if kind == "poetry" else "uv" if kind == "uv" else "uv and Poetry"
            self.add("PIP050", f"{self.ctx.display_path(source.path)} is not valid TOML: "
                     f"{doc.error.message}.",
                     location=Location(source.path, doc.error.line),
                     why=f"{who} stop with a parse error (an auth.toml that does not parse loses "
                         "every stored credential).")
            return
        self._readable(source)
        if kind == "poetry":
            self._poetry_unmatched(source)

    def _poetry_unmatched(self, source: Source) -> None:
        from ..config import poetry_env_name

        names = {s.name for s in self.model.poetry.sources if s.name}
        env_names = {poetry_env_name(n) for n in names}
        for name, auth in self.model.poetry.auth.items():
            if auth.source_id != source.id or not self.model.poetry.sources:
                continue
            if name in names or poetry_env_name(name) in env_names:
                continue
            self.add("PIP053", f"Poetry credentials http-basic.{name} match no source "
                     f"(sources: {', '.join(sorted(names)) or 'none'}).",
                     location=auth.location,
                     why="Poetry looks credentials up by source name; these are never sent.",
                     remediation=Remediation("Store them under the source's name.",
                                             commands=tuple(f"poetry config http-basic.{n} USER \"$TOKEN\""
                                                            for n in sorted(names))[:1]))

    def uv_env(self, source: Source) -> None:
        named = {uv_env_name(r.name): r.name for r in self.model.refs if r.client == "uv" and r.name}
        for envk in sorted(self.model.uv_env_names):
            if envk in named:
                continue
            near = ", ".join(f"UV_INDEX_{k}_*" for k in sorted(named)) or "none (no index has a name)"
            self.add("PIP051", f"UV_INDEX_{envk}_USERNAME/_PASSWORD are set, but no uv index is "
                     f"named so (expected: {near}).",
                     location=Location(None, key=f"$UV_INDEX_{envk}_*"),
                     why="uv only applies them to the index whose name maps to that variable.",
                     remediation=Remediation("Rename the variables to match the index name "
                                             "(upper case, other characters as _)."))


