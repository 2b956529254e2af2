"""Checks of one configured index URL: userinfo, token slot, plain
http, the vendor's /simple, where the password is stored, netrc lookups,
dependency confusion and uv's view."""

from __future__ import annotations

import re

from hardoctor import lazyre, redact, vcs
from hardoctor.model import (
    Applicability,
    Fix,
    Remediation,
    Severity,
    Source,
)
from hardoctor.tokens import looks_like_token

from .. import pipversion, urls, vendor
from ..model import (
    IndexRef,
    ReqFile,
)
from ..resolve import pip_indexes, requirement_indexes
from .base import (
    _EMAIL,
    Base,
    _confusion_remediation,
    _move_remediation,
    netrc_append,
)

#: What pip expands in a requirements file (``pip/_internal/req/req_file.py``).
_ENV_REF = lazyre.compile(r"\$\{[A-Z0-9_]+\}")


class IndexChecks(Base):
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
        if isinstance(source.payload, ReqFile) and _ENV_REF.search(written) and \
                urls.userinfo_problem(_ENV_REF.sub("x", written)) is None:
            return  # ${VAR}: pip expands it before it reads the URL (PIP015 if unset)
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

