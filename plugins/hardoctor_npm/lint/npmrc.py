"""Checks of one ``.npmrc`` layer: syntax, duplicates, unscoped and
obsolete keys, ``${VAR}`` references, values, storage and shadowing."""

from __future__ import annotations

import base64
import re

from hardoctor import redact
from hardoctor.model import (
    Applicability,
    Edit,
    Fix,
    Location,
    Remediation,
    Severity,
)

from .. import creds, ini, inuse
from ..config import SECRET_FIELDS, UNSCOPED_AUTH
from ..nerf import nerf_dart, split_key
from .base import AUTHISH, NPM_DOCS, Base, fp, git_ignored, in_git_worktree, short


class NpmrcChecks(Base):
    def _workspace(self) -> None:
        assert self.parsed is not None
        keys = [e for e in self.parsed.entries if AUTHISH.search(e.key) or e.key.startswith("//")]
        if not keys:
            return
        self.add("NPM020",
                 f"{self.name} is a workspace's own .npmrc; npm and pnpm ignore it and read "
                 f"{self.ctx.display_path(self.st.files.project_dir + '/.npmrc')} instead.",
                 location=self.loc(keys[0]),
                 why="The credentials and registries in it are never used by npm.",
                 remediation=Remediation("Move these lines to the workspace root's .npmrc."))

    def _lines(self) -> None:
        assert self.parsed is not None
        for e in self.parsed.entries:
            if e.section is not None and (e.key.startswith("//") or AUTHISH.search(e.key)):
                self.add("NPM016",
                         f"{self.name}:{e.line}: `{short(e.key)}` is inside the section "
                         f"[{e.section}]; npm only reads keys above the first section header.",
                         location=self.loc(e),
                         why="npm never sees this key, so nothing from it is sent.",
                         remediation=Remediation("Move the line above the [section] header (or "
                                                 "delete the header)."))
                continue
            if not e.has_equals and re.search(r"\s|:\s", e.key) and (
                    e.key.startswith(("//", "@")) or AUTHISH.search(e.key)):
                self.add("NPM019",
                         f"{self.name}:{e.line} has no `=`: npm reads the whole line as a key "
                         "set to true.",
                         location=self.loc(e, short(e.key.split()[0])),
                         why="The intended key stays unset, so npm sends nothing for it.",
                         remediation=Remediation("Write it as key=value."))

    def _duplicates(self) -> None:
        assert self.parsed is not None
        for key, entries in self.parsed.by_key.items():
            if len(entries) < 2 or any(e.is_array for e in entries):
                continue
            same = len({repr(e.value) for e in entries}) == 1
            fix = None
            if same:
                start, end = ini.line_span(self.text, entries[0])
                fix = self.fix(f"remove the duplicate `{short(key)}` line (identical value)",
                               self.edit(start, end, ""))
            self.add("NPM017",
                     f"`{short(key)}` is set {len(entries)} times in {self.name} (lines "
                     + ", ".join(str(e.line) for e in entries) + "); "
                     + ("the copies are identical." if same else
                        f"only line {entries[-1].line} counts."),
                     location=self.loc(entries[0]),
                     why="ini keeps the last assignment; editing an earlier line changes nothing.",
                     fix=fix)

    def _unscoped(self) -> None:
        if self.layer.where not in ("global", "user", "project"):
            return
        assert self.parsed is not None
        tool = self.st.tool
        modern = tool.at_least("9")
        registry = self.cfg.registry
        nerf = nerf_dart(registry) or "//registry.npmjs.org/"
        present = {k for k in self.parsed.by_key}
        for key in ("_authtoken", "-authtoken", *UNSCOPED_AUTH):
            entries = self.parsed.by_key.get(key)
            if not entries:
                continue
            entry = entries[-1]
            if entry.value in (None, False, ""):
                continue
            delete = key in ("_authtoken", "-authtoken") or (
                key == "username" and "_password" not in present) or (
                key == "_password" and "username" not in present)
            target = f"{nerf}:{key}"
            if delete:
                npm_says = f"`{key}` is not allowed in {self.layer.where} config"
            else:
                npm_says = f"`{key}` must be renamed to `{target}` in {self.layer.where} config"
            fix = None
            if not delete and target not in present:
                e = self.key_edit(entry, target)
                if e is not None:
                    fix = self.fix(f"rename `{key}` to `{target}` (what `npm config fix` does)", e)
            if modern is False:
                sev = None
                message = (f"{self.name}:{entry.line}: unscoped `{key}`: {tool.display} sends it "
                           f"to the default registry only, and npm 9+ refuses it "
                           f"(ERR_INVALID_AUTH).")
            else:
                sev = None
                message = (f"{self.name}:{entry.line}: unscoped `{key}` -- "
                           f"{'npm ' + str(tool.version) if tool.version else 'npm 9 and later'} "
                           f"refuses to run: \"npm error code ERR_INVALID_AUTH\" / "
                           f"\"Invalid auth configuration found: {npm_says}\".")

            if modern is False:
                sev = Severity.WARNING
            used = inuse.project_clients(self.st)
            if used and "npm" not in used:  # pnpm 12 pins it to the registry and warns
                sev = Severity.WARNING
                message += (f" The project uses {', '.join(used)}, not npm: pnpm 12 still sends "
                            "it to the default registry and warns that it is deprecated.")
            self.add("NPM001", message, severity=sev, location=self.loc(entry),
                     registry=registry,
                     why="npm 9+ checks every config file for auth keys that are not scoped to "
                         "a registry and stops every command that loads the config; pnpm still "
                         "sends an unscoped token to the default registry.",
                     evidence=("npm prints: Please run `npm config fix` to repair your "
                               "configuration.",),
                     remediation=Remediation(
                         f"Scope the key to the registry: `{target}`.",
                         commands=("npm config fix",) if not delete else (),
                         docs=(NPM_DOCS,)),
                     fix=fix)
            self.st.explained.add(registry)

    def _always_auth(self) -> None:
        assert self.parsed is not None
        classic = self.st.project.yarn_classic_lock
        for key, entries in self.parsed.by_key.items():
            if key != "always-auth" and not key.endswith(":always-auth"):
                continue
            entry = entries[-1]
            fix = None
            if not classic:
                edits = [self.edit(*ini.line_span(self.text, e), "") for e in entries]
                fix = self.fix(f"remove `{short(key)}`", *edits)
            self.add("NPM002",
                     f"{self.name}:{entry.line}: `{short(key)}` does nothing in npm 7.10+"
                     + (" (recent npm warns `Unknown ... config \"always-auth\"`)"
                        if self.st.tool.at_least("11") else "")
                     + ("; Yarn 1 (yarn.lock v1 here) still reads it." if classic else "."),
                     location=self.loc(entry),
                     why="npm sends auth to every request under a matching registry key; this "
                         "option is not what makes auth work or fail.",
                     fix=fix)

    def _env_refs(self) -> None:
        pnpm = "pnpm" in self.st.clients
        for item in self.my_items():
            refs = [r for r in (*item.key_refs, *item.value_refs) if r.literal]
            if not refs:
                continue
            entry = item.entry
            base = item.key.rsplit(":", 1)[-1] if item.key.startswith("//") else item.key
            important = base in ("_authToken", "_auth", "_password", "username", "registry") or \
                item.key.endswith(":registry") or item.key.startswith("//")
            names = ", ".join(f"${{{r.name}}}" for r in refs)
            default_syntax = [r for r in refs if r.default_syntax]

            if default_syntax:
                message = (f"{self.name}:{entry.line if entry else '?'}: npm does not support "
                           f"`{names}` (a default after `:-`): it sends the text literally"
                           + ("; pnpm expands it, so the clients disagree." if pnpm else "."))
            elif base in ("_authToken", "_auth", "_password"):
                message = (f"{self.name}:{entry.line if entry else '?'}: "
                           f"{', '.join(r.name for r in refs)} is not set, so npm sends the "
                           f"literal text `{names}` as the {base} for `{short(item.key)}`.")
            else:
                message = (f"{self.name}:{entry.line if entry else '?'}: "
                           f"{', '.join(r.name for r in refs)} is not set, so npm uses the "
                           f"literal text `{names}` in `{short(item.key)}`.")
            var = refs[0].name.split(":-")[0]
            self.add("NPM006", message,
                     severity=None if important else Severity.WARNING,
                     location=self.loc(entry), registry=self._registry_of(item),
                     why="npm leaves an unset ${VAR} in place (only ${VAR?} becomes empty); the "
                         "registry receives the placeholder and answers 401.",
                     remediation=Remediation(
                         f"Set {var} in the environment npm runs in (in CI: map the secret "
                         "into the job's env).",
                         commands=(f"read -rs {var} && export {var}   # paste the token, Enter",)
                         if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var) else ()))
            reg = self._registry_of(item)
            if reg:
                self.st.explained.add(reg)


    def _values(self) -> None:
        for item in self.my_items():
            split = split_key(item.key)
            if split is None or not item.text or item.entry is None:
                continue
            prefix, fld = split
            if fld == "_password":
                if any(r.literal for r in item.value_refs):
                    continue
                if creds.strict_b64(item.text) is None:
                    encoded = base64.b64encode(item.text.encode()).decode()
                    redact.register(item.text)
                    redact.register(encoded)
                    entry = item.entry
                    e = None
                    if not entry.quoted_value and not item.value_refs:
                        e = self.edit(entry.value_start, entry.value_end, encoded)
                    self.add("NPM007",
                             f"{self.name}:{entry.line}: `{short(item.key)}` is not base64; npm "
                             "decodes it anyway and sends different bytes as the password.",
                             location=self.loc(entry), registry="https:" + prefix,
                             why="npm stores _password base64-encoded and decodes it before "
                                 "building the Basic header: the registry answers 401.",
                             fix=self.fix("store the base64 of the value", e, unsafe=True)
                             if e else None,
                             remediation=Remediation(
                                 "Encode the password: printf '%s' \"$PASSWORD\" | base64",
                                 commands=("printf '%s' \"$PASSWORD\" | base64",)))
            elif fld == "_auth":
                if any(r.literal for r in item.value_refs):
                    continue
                raw = creds.strict_b64(item.text)
                decoded = raw.decode("utf-8", "replace") if raw is not None else None
                if decoded is not None and ":" in decoded and decoded.split(":", 1)[0]:
                    continue
                what = ("is not base64" if raw is None else
                        "decodes to text without `user:`")
                self.add("NPM008",
                         f"{self.name}:{item.entry.line}: `{short(item.key)}` {what}; npm sends "
                         "it as-is as a Basic credential.",
                         location=self.loc(item.entry), registry="https:" + prefix,
                         why="The registry cannot find a user and password in it and answers 401.",
                         remediation=Remediation(
                             "A token belongs in `:_authToken`; Basic auth is "
                             "printf '%s' 'user:password' | base64."))


    def _committed_token(self) -> None:
        if self.layer.where not in ("project",) or not self.path:
            return
        root = in_git_worktree(self.path)
        if root is None or git_ignored(self.path, root):
            return
        used: set[str] = set()
        for item in self.my_items():
            split = split_key(item.key)
            field = split[1] if split else item.key
            if field not in SECRET_FIELDS or item.entry is None or not item.text:
                continue
            raw = item.raw_value or ""
            if "${" in raw:
                continue
            entry = item.entry
            base = {"_authToken": "NPM_TOKEN", "_auth": "NPM_AUTH", "_password": "NPM_PASSWORD"}[field]
            var = base
            n = 2
            while var in used or (var != base and var in self.ctx.env.environ):
                var = f"{base}_{n}"
                n += 1
            used.add(var)
            e = self.edit(entry.value_start, entry.value_end, "${" + var + "}")
            self.add("NPM010",
                     f"{self.name}:{entry.line}: a literal {field} is stored in a project .npmrc "
                     f"inside the git work tree {self.ctx.display_path(root)}.",
                     location=self.loc(entry), registry=self._registry_of(item),
                     why="Project .npmrc files are committed: everyone who can read the repository "
                         "(and its CI logs and forks) gets the token.",
                     fix=self.fix(f"replace the value with ${{{var}}} (then export {var})", e,
                                  unsafe=True),
                     remediation=Remediation(
                         f"Reference an environment variable instead and set {var} where npm runs; "
                         "revoke the token if it was ever pushed.",
                         steps=(f"After the fix, npm needs {var} in its environment "
                                "(CI: a secret mapped to the job's env).",),
                         commands=(f"read -rs {var} && export {var}   # paste the token, Enter",)))

    def _mode(self) -> None:
        if self.layer.where not in ("user", "global") or self.layer.mode is None or \
                not self.layer.mode & 0o077 or not self.path:
            return
        if not any((split_key(i.key) or ("", i.key))[1] in SECRET_FIELDS and i.text
                   for i in self.my_items()):
            return
        fix = None
        if self.layer.where == "user":
            fix = Fix("chmod 600", Applicability.SAFE,
                      (Edit(self.path, 0, 0, "", self.expected,
                            mode=(self.layer.mode & 0o700) | 0o600),))
        self.add("NPM011",
                 f"{self.name} holds tokens and has mode {self.layer.mode:04o}.",
                 location=Location(self.path),
                 why="Other users on this machine can read the tokens.",
                 fix=fix,
                 remediation=Remediation("Make the file private.",
                                         commands=(f"chmod 600 {self.name}",)))

    def _shadowing(self) -> None:
        for item in self.my_items():
            split = split_key(item.key)
            if split is None or split[1] not in ("_authToken", "_auth", "_password"):
                continue
            chain = self.cfg.chain(item.key)
            if not chain or chain[0].layer != item.layer:
                continue
            lower = [o for o in chain if o.layer != item.layer]
            differ = [o for o in lower if o.text and o.text != item.text]
            if not differ:
                continue
            other = differ[0]
            oname = other.location.display(self.ctx.home)
            self.add("NPM012",
                     f"{self.name}:{item.entry.line if item.entry else ''} overrides the "
                     f"{split[1]} in {oname} for `{split[0]}`: npm sends this one."
                     if item.entry else
                     f"${item.env_var} overrides the {split[1]} in {oname} for `{split[0]}`: "
                     "npm sends the variable's value.",
                     location=item.location, registry="https:" + split[0],
                     why=f"The {item.layer} config has priority over the {other.layer} config; "
                         f"a token updated in {oname} has no effect while this one exists.",
                     evidence=tuple(f"{o.layer}: {o.location.display(self.ctx.home)} "
                                    f"#{fp(o.text)}" for o in chain),
                     remediation=Remediation("Keep one copy: remove or update the other entry."))

    # -- the environment -------------------------------------------------------------

    def _env_layer(self) -> None:
        for var, key, value in self.layer.env_items:
            if key in ("_authtoken", "-authtoken", "_auth", "username", "_password") and value:
                self.add("NPM018",
                         f"${var} sets the unscoped `{key}`, which npm ignores.",
                         location=Location(None, key=f"${var}"),
                         why="npm lower-cases the name and only sends auth scoped to a registry "
                             "key (//host/path/:_authToken); nothing from this variable is sent.",
                         remediation=Remediation(
                             "Reference a variable from the .npmrc instead.",
                             commands=("npm config set '//registry.npmjs.org/:_authToken' "
                                       "'${NPM_TOKEN}'",)))
        self._shadowing()

