"""Offline findings about pip/uv/Poetry sources, with their fixes."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from hardoctor import fixes, redact, vcs
from hardoctor.context import Context
from hardoctor.model import (
    Applicability,
    Edit,
    Finding,
    Fix,
    Location,
    Remediation,
    Severity,
    Source,
)
from hardoctor.tokens import looks_like_token

from . import pipversion, urls, vendor
from .config import uv_env_name
from .creds import Creds
from .model import (
    ECO,
    EnvSource,
    IndexRef,
    Model,
    NetrcView,
    PipFile,
    ReqFile,
    Setting,
    TomlSource,
)
from .resolve import pip_indexes, requirement_indexes

NETRC_DOC = "https://pip.pypa.io/en/stable/topics/authentication/#netrc-support"
KEYRING_DOC = "https://pip.pypa.io/en/stable/topics/authentication/#keyring-support"
CONFUSION_DOC = "https://pip.pypa.io/en/stable/cli/pip_install/#options"
_EMAIL = re.compile(r"^[^@\s:/]+@[^@\s:/]+\.[A-Za-z]{2,}$")


class Linter:
    def __init__(self, ctx: Context, model: Model, creds: Creds) -> None:
        self.ctx = ctx
        self.model = model
        self.creds = creds
        self.out: list[Finding] = []

    def add(self, code: str, message: str, **kw: object) -> None:
        kw.setdefault("ecosystem", ECO)
        self.out.append(self.ctx.finding(code, message, **kw))  # type: ignore[arg-type]

    def text(self, source_id: str) -> str | None:
        return self.model.texts.get(source_id)

    def edit(self, source_id: str, path: str, start: int, end: int, new: str,
             mode: int | None = None) -> Edit | None:
        text = self.text(source_id)
        if text is None:
            return None
        return Edit(path, start, end, new, fixes.digest(text), mode)

    # -- dispatch -------------------------------------------------------------------

    def run(self, source: Source) -> list[Finding]:
        payload = source.payload
        if source.error:
            return []
        if isinstance(payload, PipFile):
            self.pip_file(source, payload)
        elif isinstance(payload, NetrcView):
            self.netrc(source, payload)
        elif isinstance(payload, ReqFile):
            self.requirements(source, payload)
        elif isinstance(payload, TomlSource):
            self.toml(source, payload)
        elif isinstance(payload, EnvSource) and payload.kind == "pip-env":
            self.pip_env(source)
        elif isinstance(payload, EnvSource) and payload.kind == "uv-env":
            self.uv_env(source)
        for ref in self.refs_of(source.id):
            self.ref(source, ref)
        return self.out

    def refs_of(self, source_id: str) -> list[IndexRef]:
        return list(dict.fromkeys(r for r in self.model.refs if r.source == source_id))

    # -- pip.conf ---------------------------------------------------------------------

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
        from .ini import Option

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

    # -- index URLs ---------------------------------------------------------------------

    def ref(self, source: Source, ref: IndexRef) -> None:
        self._userinfo(source, ref)
        url = ref.url
        if ref.unset_vars:
            names = ", ".join(ref.unset_vars)
            self.add("PIP015",
                     f"{ref.key} uses ${{{ref.unset_vars[0]}}} but {names} "
                     f"{'is' if len(ref.unset_vars) == 1 else 'are'} not set: pip sends the text "
                     "literally.",
                     location=ref.location, registry=url.host if url else None,
                     why="pip expands ${NAME} in requirements files only when the variable is set "
                         "and not empty; otherwise the literal text goes to the index (401).",
                     remediation=Remediation("Export the variable before running pip.",
                                             commands=tuple(f"export {n}=..." for n in ref.unset_vars)))
        if ref.unexpanded:
            self.add("PIP016",
                     f"{ref.key} contains {', '.join(ref.unexpanded)}, which pip never expands.",
                     location=ref.location, registry=url.host if url else None,
                     why="pip expands only ${NAME} (braces, upper-case letters, digits, _).",
                     remediation=Remediation("Write ${NAME} with braces and upper case."))
        if url is None:
            return
        self._token_slot(source, ref)
        self._http(ref)
        self._missing_simple(source, ref)
        self._storage(source, ref)
        self._netrc_defeated(source, ref)
        self._confusion(ref)
        self._uv_gap(ref)

    def _userinfo(self, source: Source, ref: IndexRef) -> None:
        written = ref.written if ref.written is not None else ref.raw
        prob = urls.userinfo_problem(written)
        if prob is None:
            return
        redact.register(prob.encoded)
        redact.register(prob.encoded.split(":", 1)[-1])
        chars = " ".join(repr(c) for c in prob.chars)
        fix = None
        if ref.start is not None and ref.end is not None and source.path:
            text = self.text(source.id) or ""
            if text[ref.start:ref.end] == written:
                e = self.edit(source.id, source.path, ref.start + prob.start, ref.start + prob.end,
                              prob.encoded)
                if e is not None:
                    fix = Fix("percent-encode the username and password", Applicability.SAFE, (e,))
        host = ref.url.host if ref.url else None
        if prob.misparsed:
            message = (f"The credentials in {ref.key} contain {chars} unencoded: pip cuts the URL "
                       "there and talks to the wrong host.")
            severity = None
        else:
            message = (f"The credentials in {ref.key} contain {chars} unencoded (write '@' as %40).")
            severity = Severity.WARNING
        self.add("PIP010", message, severity=severity, location=ref.location, registry=host,
                 why=("urlsplit ends the host part at the first '/', '?' or '#', so the password "
                      "is cut and the rest becomes the path." if prob.misparsed else
                      "pip and uv split at the last '@' and cope, but other tools reading the "
                      "same URL (and older pip) split at the first '@' and use the wrong host."),
                 remediation=Remediation("Percent-encode reserved characters in the username and "
                                         "password (@ %40, / %2F, : %3A in the username, # %23)."),
                 fix=fix)

    def _token_slot(self, source: Source, ref: IndexRef) -> None:
        url = ref.url
        assert url is not None
        user = url.username or ""
        if not user or not looks_like_token(user):
            return
        # A vendor's registry takes a token as the Basic password; only there
        # is a token in the username slot known to be ignored.
        found = vendor.info(self.ctx, url.bare)
        if found is None:
            return
        pw = url.password
        if pw and looks_like_token(pw):
            return
        swapped = bool(pw) and bool(_EMAIL.match(pw or ""))
        fix = None
        if ref.start is not None and source.path and ref.written is None:
            text = self.text(source.id) or ""
            raw = ref.raw
            if text[ref.start:ref.end] == raw:
                s = raw.index("://") + 3
                at = raw.rfind("@", s, urls.netloc_end(raw, s))
                # The registry ignores the user name: the vendor's own short name
                # is a readable placeholder when there is no e-mail to keep.
                login = urls.encode_userinfo(pw) if swapped and pw else found.vendor
                login = login.replace(":", "%3A")
                new_ui = f"{login}:{urls.encode_userinfo(user).replace(':', '%3A')}"
                redact.register(new_ui)
                e = self.edit(source.id, source.path, ref.start + s, ref.start + at, new_ui)
                if e is not None:
                    fix = Fix("put the token in the password slot", Applicability.UNSAFE, (e,))
        what = ("username and password look swapped (token as username, e-mail as password)"
                if swapped else "the token is in the username slot, with " +
                ("no password" if pw is None else "another value as password"))
        self.add("PIP011", f"{ref.key}: {what}.", location=ref.location, registry=url.host,
                 credential=self.creds.by_ref.get(ref),
                 why=f"{vendor.name(found)} reads the token from the password of Basic auth, so "
                     "it sees " + ("an e-mail" if swapped else "no token") + " and answers 401.",
                 remediation=Remediation(
                     "Write the URL as https://USER:TOKEN@HOST/... (percent-encode reserved "
                     "characters in USER).",
                     steps=("Or keep the URL bare and put `machine HOST login USER password "
                            "TOKEN` in ~/.netrc.",)),
                 fix=fix)

    def _http(self, ref: IndexRef) -> None:
        url = ref.url
        assert url is not None
        if url.scheme != "http" or url.loopback or not ref.client.startswith("pip"):
            return
        trusted = set(self.model.pip.trusted_hosts)
        for rf in self.model.requirements:
            trusted |= {o.value for o in rf.doc.options if o.name == "trusted-host"}
        if url.hostname not in trusted and url.host not in trusted:
            self.add("PIP021",
                     f"{ref.key} uses plain http to {url.host}, which is not a trusted host: pip "
                     "ignores this index.",
                     location=ref.location, registry=url.host,
                     why="pip skips insecure indexes (`is not a trusted or secure host and is "
                         "being ignored`) and then finds no distribution.",
                     remediation=Remediation("Use https://.", steps=(
                         f"Only for a registry without TLS: add `trusted-host = {url.hostname}`.",)))
        elif url.has_credentials:
            self.add("PIP022", f"{ref.key} sends credentials over plain http to {url.host}.",
                     location=ref.location, registry=url.host,
                     why="Basic auth over http is readable by anyone on the network path.",
                     remediation=Remediation("Use https://."))

    def _missing_simple(self, source: Source, ref: IndexRef) -> None:
        """PIP023: the registry's vendor documents this index URL with
        ``/simple`` appended.  (Other URL problems a vendor knows are its own
        findings; :func:`.vendor.fix_at` offers their edit.)"""
        url = ref.url
        assert url is not None
        new_path = vendor.suggested_path(self.ctx, ref)
        if new_path is None or new_path.rstrip("/") != url.path.rstrip("/") + "/simple":
            return
        found = vendor.info(self.ctx, ref.bare)
        assert found is not None
        fix = None
        written = ref.written if ref.written is not None else ref.raw
        if ref.start is not None and source.path:
            text = self.text(source.id) or ""
            if text[ref.start:ref.end] == written:
                path_end = urls.path_end(written)
                insert = "simple" if written[:path_end].endswith("/") else "/simple"
                e = self.edit(source.id, source.path, ref.start + path_end, ref.start + path_end,
                              insert)
                if e is not None:
                    fix = Fix("append /simple to the index URL", Applicability.SAFE, (e,))
        name = vendor.name(found)
        self.add("PIP023", f"{ref.shown} has no /simple: pip asks for <index>/<project>/, which "
                 f"{name} does not serve.",
                 location=ref.location, registry=url.host,
                 why=f"{name} serves the Python simple API under .../simple/; every project "
                     "is 404 and pip reports `No matching distribution found`.",
                 evidence=found.problems,
                 remediation=Remediation("Append /simple to the index URL."), fix=fix)

    def _storage(self, source: Source, ref: IndexRef) -> None:
        url = ref.url
        assert url is not None
        written = ref.written if ref.written is not None else ref.raw
        parsed_written = urls.parse_index_url(written)
        # A password written as ${VAR} / $VAR is a reference, not a stored secret.
        secret_written = parsed_written is not None and parsed_written.password and \
            not re.search(r"\$\{?[A-Za-z_]", parsed_written.password or "")
        if not secret_written or url.password is None:
            return
        cred = self.creds.by_ref.get(ref)
        move = self._move_to_netrc(source, ref)
        rem = _move_remediation(ref, url)
        if source.kind == "file" and source.path:
            tracked = vcs.tracked(self.ctx, source.path)
            if tracked:
                self.add("PIP013",
                         f"{self.ctx.display_path(source.path)} is tracked by git and {ref.key} "
                         "holds a password.",
                         location=ref.location, registry=url.host, credential=cred,
                         why="Everyone with the repository (and every CI log) has the token; it "
                             "must be revoked, not only removed.",
                         remediation=rem, fix=move)
                return
        self.add("PIP014", f"{ref.key} holds a password in the URL.", location=ref.location,
                 registry=url.host, credential=cred,
                 why="It works, but the token travels with the URL (logs, `pip config list`).",
                 remediation=rem, fix=move)

    def _move_to_netrc(self, source: Source, ref: IndexRef) -> Fix | None:
        url = ref.url
        if url is None or url.password is None or not url.username or ref.start is None \
                or not source.path or ref.written is not None:
            return None
        text = self.text(source.id) or ""
        raw = ref.raw
        if text[ref.start:ref.end] != raw:
            return None
        s = raw.index("://") + 3
        at = raw.rfind("@", s, urls.netloc_end(raw, s))
        if at < 0:
            return None
        netrc_edit = netrc_append(self.ctx, self.model, url.hostname, url.username, url.password)
        if netrc_edit is None:
            return None
        e = self.edit(source.id, source.path, ref.start + s, ref.start + at + 1, "")
        if e is None:
            return None
        return Fix(f"move the credentials for {url.hostname} into ~/.netrc", Applicability.UNSAFE,
                   (e, netrc_edit))

    def _netrc_defeated(self, source: Source, ref: IndexRef) -> None:
        url = ref.url
        assert url is not None
        doc = self.model.netrc.doc
        if url.username is None or url.password is not None or doc is None or doc.error:
            return
        if looks_like_token(url.username):
            return  # PIP011 (a token in the username slot) says it better
        entry = doc.hosts.get(url.hostname)
        if entry is None:
            return
        modern = pipversion.netrc_by_hostname(self.ctx)
        if modern:
            return  # pip 25.2+ looks the host name up
        fix = None
        if ref.start is not None and source.path and ref.written is None:
            text = self.text(source.id) or ""
            raw = ref.raw
            if text[ref.start:ref.end] == raw:
                s = raw.index("://") + 3
                at = raw.rfind("@", s, urls.netloc_end(raw, s))
                e = self.edit(source.id, source.path, ref.start + s, ref.start + at + 1, "")
                if e is not None:
                    fix = Fix("remove the username from the URL so ~/.netrc is used",
                              Applicability.UNSAFE, (e,))
        which = "pip" if modern is False else "pip before 25.2"
        self.add("PIP035",
                 f"{ref.key} has a username but no password, so {which} never uses the "
                 f"'machine {url.hostname}' entry of {self.ctx.display_path(self.model.netrc.path)} "
                 f"(line {entry.line}).",
                 severity=None if modern is False else Severity.WARNING,
                 location=ref.location, registry=url.host, credential=self.creds.by_ref.get(ref),
                 why="requests before 2.32.4 looks up 'user@host' in .netrc for such a URL; nothing "
                     "matches, and pip sends the username with an empty password (401; "
                     "pypiserver: 403).  pip 25.2+ looks up the host name and works.",
                 remediation=Remediation("Remove `user@` from the index URL."), fix=fix)

    def _confusion(self, ref: IndexRef) -> None:
        url = ref.url
        assert url is not None
        if ref.role != "extra-index-url" or not ref.client.startswith("pip"):
            if ref.client == "uv" and ref.role in ("uv-index", "extra-index-url"):
                self._uv_confusion(ref)
            elif ref.client == "poetry":
                self._poetry_confusion(ref)
            return
        indexes = pip_indexes(self.model) if ref.client == "pip" else \
            requirement_indexes(self.model).get(ref.client, [])
        if not any(r is ref for r in indexes):
            return
        others = [r for r in indexes if r is not ref and r.url is not None]
        public = [r for r in others if r.url is not None and r.url.is_pypi]
        if url.is_pypi:
            private = [r for r in others if r.url is not None and not r.url.is_pypi]
            if not private:
                return
            message = (f"{ref.key} adds PyPI next to the private index {private[0].shown}: pip takes "
                       "the highest version from either (dependency confusion).")
        else:
            if not public:
                return
            message = (f"{ref.key} adds the private index {ref.shown} next to PyPI: pip takes the "
                       "highest version from either (dependency confusion).")
        self.add("PIP020", message, location=ref.location, registry=url.host,
                 why="Anyone can publish your private package names on PyPI with a higher version; "
                     "pip installs theirs.",
                 remediation=_confusion_remediation())

    def _uv_confusion(self, ref: IndexRef) -> None:
        if self.model.uv.index_strategy != "unsafe-best-match" or ref.url is None or ref.url.is_pypi:
            return
        self.add("PIP020",
                 f"{ref.key}: uv uses index-strategy = unsafe-best-match, so it takes the highest "
                 "version from this private index or PyPI (dependency confusion).",
                 location=ref.location, registry=ref.url.host,
                 why="uv's default (first-index) stops at the first index that has the package; "
                     "unsafe-best-match does not.",
                 remediation=_confusion_remediation())

    def _poetry_confusion(self, ref: IndexRef) -> None:
        if ref.priority not in ("supplemental", "secondary") or ref.url is None or ref.url.is_pypi:
            return
        if not self.model.poetry.pypi_is_primary():
            return
        self.add("PIP020",
                 f"{ref.key} is a {ref.priority} source while PyPI stays primary: a package "
                 "published on PyPI under the same name wins (dependency confusion).",
                 location=ref.location, registry=ref.url.host,
                 why="Poetry asks supplemental sources only for packages PyPI does not have.",
                 remediation=_confusion_remediation())

    def _uv_gap(self, ref: IndexRef) -> None:
        url = ref.url
        assert url is not None
        if ref.client != "pip" or url.is_pypi or self.model.pip.index is not ref:
            return
        uv = self.model.uv
        if not uv.active or uv.indexes or uv.default is not None:
            return
        self.add("PIP052",
                 f"pip uses {ref.shown}, but uv (configured here) reads neither pip.conf nor PIP_* "
                 "variables and will use PyPI.",
                 location=ref.location, registry=url.host,
                 why="`pip install` works while `uv sync` / `uv pip install` cannot find private "
                     "packages, or install a public look-alike.",
                 remediation=Remediation(
                     "Configure the index for uv too.",
                     steps=("uv.toml or [tool.uv]: [[index]] url = \"...\" and default = true; "
                            "credentials via UV_INDEX_<NAME>_USERNAME/_PASSWORD or ~/.netrc.",),
                     commands=(f"export UV_DEFAULT_INDEX={url.bare}",)))

    # -- netrc --------------------------------------------------------------------------

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
        from .netrcfile import Entry

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
        from .tomlconf import TomlDoc

        if not isinstance(doc, TomlDoc):
            return
        from . import tomlconf

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
        from .config import poetry_env_name

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


# -- helpers ------------------------------------------------------------------------------


def _same_value(a: Setting, b: Setting) -> bool:
    return [r.bare for r in a.refs] == [r.bare for r in b.refs] and a.value.split() == b.value.split()


def _secretish(text: str) -> bool:
    return "@" in text and "://" in text


def _clip(text: str, n: int = 40) -> str:
    text = urls.display(text) if "://" in text else text
    return text if len(text) <= n else text[: n - 1] + "…"


def _quote_netrc(value: str) -> str:
    if value and not re.search(r'[\s"\\#]', value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def netrc_append(ctx: Context, model: Model, host: str, user: str, password: str) -> Edit | None:
    """An edit adding ``machine HOST`` to the netrc file requests reads (or
    None when that is not possible: an entry exists, the file does not
    parse, or the file would have to be created and the core cannot)."""
    view = model.netrc
    text = model.texts.get(view.source_id or "")
    entry = f"machine {host}\n  login {_quote_netrc(user)}\n  password {_quote_netrc(password)}\n"
    redact.register(_quote_netrc(password))
    if view.path is None or text is None:
        create = getattr(fixes, "ABSENT", None)
        if create is None:
            return None  # needs core support for creating a file (see docs/pip.md)
        path = view.path or os.path.join(ctx.home, ".netrc")
        return Edit(path, 0, 0, entry, create, 0o600)
    doc = view.doc
    if doc is None or doc.error is not None or doc.hosts.get(host) is not None:
        return None
    sep = "" if not text or text.endswith("\n") else "\n"
    mode = view.mode & ~0o077 if view.mode is not None and view.mode & 0o077 else None
    return Edit(view.path, len(text), len(text), sep + entry, fixes.digest(text), mode)


def _move_remediation(ref: IndexRef, url: urls.IndexUrl) -> Remediation:
    user = url.username or "USER"
    shown_user = user if not looks_like_token(user) else "USER"
    return Remediation(
        "Keep the index URL bare and the credentials in ~/.netrc (or a keyring); revoke the "
        "token if this file was ever shared.",
        steps=(
            f"~/.netrc (mode 0600): machine {url.hostname} / login {shown_user} / password TOKEN "
            "-- pip, uv and Poetry all read it.",
            "Or a keyring: store the token, keep the username in the URL, and let pip ask it "
            "(in CI: keyring-provider = subprocess).",
            "In a committed requirements file write ${HAR_USER}:${HAR_TOKEN}@ -- pip expands "
            "${VAR} there.",
        ),
        commands=(
            "read -rs TOKEN   # paste the token, then Enter",
            f"printf 'machine {url.hostname}\\n  login {shown_user}\\n  password %s\\n' \"$TOKEN\" "
            ">> ~/.netrc && chmod 600 ~/.netrc",
            f"keyring set {url.bare} {shown_user}",
            "pip config set global.keyring-provider subprocess",
        ),
        docs=(NETRC_DOC, KEYRING_DOC),
    )


def _confusion_remediation() -> Remediation:
    return Remediation(
        "Use one private index that proxies PyPI, or pin private packages to their index.",
        steps=(
            "A private registry: add PyPI as an upstream proxy of the Python registry and make "
            "it the only index-url (drop extra-index-url).",
            "uv: [[tool.uv.index]] with explicit = true plus [tool.uv.sources] NAME = { index = "
            "\"...\" }; Poetry: priority = \"explicit\" and `source = \"...\"` per dependency.",
            "pip: --require-hashes with a lock file makes a substituted package fail to install.",
        ),
        docs=(CONFUSION_DOC,),
    )


def lint_all(ctx: Context, model: Model, creds: Creds, sources: Iterable[Source]) -> list[Finding]:
    out: list[Finding] = []
    for s in sources:
        out += Linter(ctx, model, creds).run(s)
    return out
