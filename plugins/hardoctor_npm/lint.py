"""Offline findings about one ``.npmrc`` layer or ``.yarnrc.yml`` file,
with their fixes.  Findings never contain a value: keys, variable names,
file:line and fingerprints only."""

from __future__ import annotations

import base64
import fnmatch
import os
import re
from collections.abc import Iterable
from typing import Any

from hardoctor import redact
from hardoctor.context import Context
from hardoctor.fixes import digest
from hardoctor.model import Applicability, Edit, Finding, Fix, Location, Remediation, Source

from . import creds, ini, yarnrc
from .config import DEFAULT_REGISTRY, SECRET_FIELDS, UNSCOPED_AUTH, Config, Item, Layer
from .nerf import key_host, nerf_dart, parse_url, split_key, walk
from .state import State

ECO = "npm"
_AUTHISH = re.compile(r"(_authtoken|_auth|_password|username|registry|always-auth)", re.I)
NPM_DOCS = "https://docs.npmjs.com/cli/configuring-npm/npmrc#auth-related-configuration"
YARN_DOCS = "https://yarnpkg.com/configuration/yarnrc"


def _dflt_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _host_parts(raw: str) -> tuple[str, int | None]:
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
        try:
            with open(gi, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
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


class NpmLinter:
    def __init__(self, source: Source, layer: Layer, st: State, ctx: Context) -> None:
        self.source = source
        self.layer = layer
        self.st = st
        self.ctx = ctx
        self.cfg: Config = st.npm
        self.text = layer.text or ""
        self.parsed = layer.parsed
        self.expected = digest(self.text)
        self.path = layer.path
        self.name = ctx.display_path(layer.path) if layer.path else "the environment"
        self.out: list[Finding] = []
        self.is_file = layer.where != "env" and layer.path is not None

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

    # -- checks -------------------------------------------------------------------------

    def run(self) -> list[Finding]:
        if self.layer.where == "env":
            self._env_layer()
            return self.out
        if self.parsed is None:
            return self.out
        if self.layer.ignored and self.layer.where == "workspace":
            self._workspace()
            return self.out
        self._lines()
        self._duplicates()
        self._unscoped()
        self._always_auth()
        self._env_refs()
        self._keys()
        self._values()
        self._registries()
        self._committed_token()
        self._mode()
        self._shadowing()
        return self.out

    def _workspace(self) -> None:
        assert self.parsed is not None
        keys = [e for e in self.parsed.entries if _AUTHISH.search(e.key) or e.key.startswith("//")]
        if not keys:
            return
        self.add("NPM020",
                 f"{self.name} is a workspace's own .npmrc; npm ignores it and reads "
                 f"{self.ctx.display_path(self.st.files.project_dir + '/.npmrc')} instead.",
                 location=self.loc(keys[0]),
                 why="The credentials and registries in it are never used by npm.",
                 remediation=Remediation("Move these lines to the workspace root's .npmrc."))

    def _lines(self) -> None:
        assert self.parsed is not None
        for e in self.parsed.entries:
            if e.section is not None and (e.key.startswith("//") or _AUTHISH.search(e.key)):
                self.add("NPM016",
                         f"{self.name}:{e.line}: `{_short(e.key)}` is inside the section "
                         f"[{e.section}]; npm only reads keys above the first section header.",
                         location=self.loc(e),
                         why="npm never sees this key, so nothing from it is sent.",
                         remediation=Remediation("Move the line above the [section] header (or "
                                                 "delete the header)."))
                continue
            if not e.has_equals and re.search(r"\s|:\s", e.key) and (
                    e.key.startswith(("//", "@")) or _AUTHISH.search(e.key)):
                self.add("NPM019",
                         f"{self.name}:{e.line} has no `=`: npm reads the whole line as a key "
                         "set to true.",
                         location=self.loc(e, _short(e.key.split()[0])),
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
                fix = self.fix(f"remove the duplicate `{_short(key)}` line (identical value)",
                               self.edit(start, end, ""))
            self.add("NPM017",
                     f"`{_short(key)}` is set {len(entries)} times in {self.name} (lines "
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
            from hardoctor.model import Severity

            if modern is False:
                sev = Severity.WARNING
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
                fix = self.fix(f"remove `{_short(key)}`", *edits)
            self.add("NPM002",
                     f"{self.name}:{entry.line}: `{_short(key)}` does nothing in npm 7.10+"
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
            from hardoctor.model import Severity

            if default_syntax:
                message = (f"{self.name}:{entry.line if entry else '?'}: npm does not support "
                           f"`{names}` (a default after `:-`): it sends the text literally"
                           + ("; pnpm expands it, so the clients disagree." if pnpm else "."))
            elif base in ("_authToken", "_auth", "_password"):
                message = (f"{self.name}:{entry.line if entry else '?'}: "
                           f"{', '.join(r.name for r in refs)} is not set, so npm sends the "
                           f"literal text `{names}` as the {base} for `{_short(item.key)}`.")
            else:
                message = (f"{self.name}:{entry.line if entry else '?'}: "
                           f"{', '.join(r.name for r in refs)} is not set, so npm uses the "
                           f"literal text `{names}` in `{_short(item.key)}`.")
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

    def _keys(self) -> None:
        """Auth keys that match no registry on their host."""
        assert self.parsed is not None
        regs = self.registries()
        pnpm = "pnpm" in self.st.clients
        for item in self.my_items():
            split = split_key(item.key)
            if split is None or split[1] not in ("_authToken", "_auth", "username"):
                continue
            if not item.text:
                continue
            prefix, fld = split
            raw_host = key_host(prefix)
            hname, hport = _host_parts(raw_host)
            same_host: list[tuple[str, str, Item | None]] = []
            matched: list[str] = []
            for label, url, reg_item in regs:
                u = parse_url(url)
                if u is None:
                    continue
                if hname != u.hostname:
                    continue
                if hport not in (u.port, _dflt_port(u.scheme) if u.port is None else -1):
                    continue
                same_host.append((label, url, reg_item))
                if prefix in walk(url.rstrip("/") + "/x") or prefix in walk(url):
                    matched.append(url)
            entry = item.entry
            if matched:
                for url in matched:
                    exact = nerf_dart(url)
                    if exact and prefix != exact and self.cfg.has_auth_at(exact) is None:
                        if url != url.rstrip("/") + "/" and (parse_url(url) or None) and \
                                (parse_url(url).path not in ("", "/")):  # type: ignore[union-attr]
                            continue  # NPM023 on the registry line says it better
                        e = self.key_edit(entry, f"{exact}:{fld}") if entry else None
                        from hardoctor.model import Severity

                        self.add("NPM005",
                                 f"{self.name}:{entry.line if entry else '?'}: `{prefix}` matches "
                                 f"package requests to {url}, but `npm whoami`/`npm publish` look "
                                 f"up exactly `{exact}`"
                                 + (" and pnpm needs the trailing slash" if pnpm else "") + ".",
                                 severity=Severity.ERROR if pnpm else Severity.WARNING,
                                 location=self.loc(entry), registry=url,
                                 why="npm install walks the request path and finds the key, but "
                                     "commands that ask for the registry's own credentials say "
                                     "`This command requires you to be logged in` (ENEEDAUTH).",
                                 fix=self.fix(f"rename the key to `{exact}:{fld}`", e) if e else None,
                                 remediation=Remediation(f"Key the credential as `{exact}:{fld}`."))
                continue
            if not same_host:
                continue
            label, url, reg_item = same_host[0]
            u = parse_url(url)
            assert u is not None
            exact = nerf_dart(url) or prefix
            if raw_host != raw_host.lower():
                code = "NPM003"
                fixed = "//" + raw_host.lower() + prefix[2 + len(raw_host):]
                why_text = "its host has upper-case letters"
            elif hport is not None and hport == _dflt_port(u.scheme) and u.port is None:
                code = "NPM004"
                fixed = "//" + hname + prefix[2 + len(raw_host):]
                why_text = f"it names the default port :{hport}"
            else:
                code = "NPM005"
                fixed = exact
                why_text = f"its path is not on the path of {url}"
            # After fixing case/port the path may still be wrong: go straight to the
            # registry's own key when that is what it takes.
            if fixed not in walk(url.rstrip("/") + "/x") and fixed != exact:
                fixed = exact
            unclaimed = self.cfg.has_auth_at(exact) is None and not any(
                self.cfg.has_auth_at(p) for p in walk(url.rstrip("/") + "/x"))
            e = self.key_edit(entry, f"{fixed}:{fld}") if entry and unclaimed and \
                len(same_host) == 1 else None
            self.add(code,
                     f"{self.name}:{entry.line if entry else '?'}: npm never sends the "
                     f"{fld} at `{prefix}` to {url}: {why_text} (the registry's key is "
                     f"`{exact}`).",
                     location=self.loc(entry), registry=url,
                     why="npm looks for auth by walking the request URL's //host/path upwards and "
                         "comparing exact strings; this key is never on that walk, so the "
                         "request goes out anonymous and the registry answers 401.",
                     evidence=(f"{label}={url}", "npm tries: " + ", ".join(walk(url.rstrip('/') + '/PKG'))),
                     fix=self.fix(f"rename the key to `{fixed}:{fld}`", e) if e else None,
                     remediation=Remediation(f"Key the credential as `{exact}:{fld}`.",
                                             commands=(f"npm config set \"{exact}:_authToken\" "
                                                       "\"$TOKEN\"",) if fld == "_authToken" else (),
                                             docs=(NPM_DOCS,)))
            self.st.explained.add(url)

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
                             f"{self.name}:{entry.line}: `{_short(item.key)}` is not base64; npm "
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
                         f"{self.name}:{item.entry.line}: `{_short(item.key)}` {what}; npm sends "
                         "it as-is as a Basic credential.",
                         location=self.loc(item.entry), registry="https:" + prefix,
                         why="The registry cannot find a user and password in it and answers 401.",
                         remediation=Remediation(
                             "A token belongs in `:_authToken`; Basic auth is "
                             "printf '%s' 'user:password' | base64."))

    def _vendor_layout(self, item: Item, entry: ini.Entry) -> None:
        """NPM022: the registry's vendor (``hardoctor_registry_info``) says
        this URL is not an npm registry URL of its layout."""
        info = self.ctx.registry_info(item.text or "", "npm")
        if info is None or not info.problems:
            return
        name = info.display or info.vendor
        steps = (f"Expected: {info.suggested_url}",) if info.suggested_url else ()
        self.add("NPM022",
                 f"{self.name}:{entry.line}: `{_short(item.key)}` is not an npm registry URL of "
                 f"{name}: " + "; ".join(info.problems) + ".",
                 location=self.loc(entry), registry=item.text,
                 why="npm appends the package name to the registry URL; under a wrong path the "
                     "registry answers 404 (or 401) for every package.",
                 remediation=Remediation("Use the npm registry's URL as the registry documents "
                                         "it.", steps))

    def _registries(self) -> None:
        for item in self.my_items():
            if item.key != "registry" and not (item.key.startswith("@") and
                                               item.key.lower().endswith(":registry")):
                continue
            if item.entry is None or not item.text or any(r.literal for r in item.value_refs):
                continue
            entry = item.entry
            u = parse_url(item.text)
            if u is None:
                self.add("NPM021",
                         f"{self.name}:{entry.line}: `{_short(item.key)}` is not a URL npm can "
                         "use" + (" (it has no https://)" if "://" not in item.text else "") + ".",
                         location=self.loc(entry),
                         why="npm drops an invalid `registry` and silently uses "
                             f"{DEFAULT_REGISTRY}; an invalid scoped registry fails with "
                             "`Invalid URL`.",
                         remediation=Remediation("Write the full URL, e.g. "
                                                 "https://host/path/ (with the trailing slash)."))
                continue
            self._vendor_layout(item, entry)
            if u.path not in ("", "/") and not item.text.endswith("/"):
                old_nerf = nerf_dart(item.text)
                new_nerf = nerf_dart(item.text + "/")
                safe = new_nerf is not None and (self.cfg.has_auth_at(new_nerf) is not None or
                                                 (old_nerf and self.cfg.has_auth_at(old_nerf) is None))
                e = None
                if safe and not entry.quoted_value and not item.value_refs:
                    e = self.edit(entry.value_end, entry.value_end, "/")
                self.add("NPM023",
                         f"{self.name}:{entry.line}: `{_short(item.key)}` does not end in `/`: "
                         f"npm's key for it is `{old_nerf}`, not `{new_nerf}`.",
                         location=self.loc(entry), registry=item.text,
                         why="`npm login` stores the token under the parent path and `npm whoami`"
                             "/`npm publish` look it up there; a token keyed for the full path "
                             "works for installs but not for those.",
                         fix=self.fix("add the trailing slash", e) if e else None)

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
                                    f"#{_fp(o.text)}" for o in chain),
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


def _fp(value: str | None) -> str:
    from hardoctor.model import fingerprint

    return fingerprint(value or "")


def _short(key: str) -> str:
    return key if len(key) <= 90 else key[:87] + "..."


# -- Yarn -------------------------------------------------------------------------------


class YarnLinter:
    def __init__(self, source: Source, yf: yarnrc.YarnFile, st: State, ctx: Context) -> None:
        self.source, self.yf, self.st, self.ctx = source, yf, st, ctx
        self.name = ctx.display_path(yf.path)
        self.out: list[Finding] = []

    def add(self, code: str, message: str, **kw: Any) -> None:
        kw.setdefault("ecosystem", ECO)
        self.out.append(self.ctx.finding(code, message, **kw))

    def run(self) -> list[Finding]:
        yf = self.yf
        if yf.syntax is not None:
            msg, line = yf.syntax
            self.add("NPM030", f"{self.name} is not valid YAML: {msg}"
                     + (f" (line {line})." if line else "."),
                     location=Location(yf.path, line),
                     why="Yarn aborts every command: \"Parse error when loading "
                         f"{self.name}; please check it's proper Yaml\".",
                     remediation=Remediation("Fix the syntax (every setting is `name: value`).",
                                             docs=(YARN_DOCS,)))
            return self.out
        env = self.ctx.env.environ
        for path, _k, v in yarnrc.walk_scalars(yf.root):
            exp = envsubst_yarn(v.value, env)
            for ref in exp:
                self.add("NPM031",
                         f"{self.name}:{v.line}: {ref} is not set; Yarn aborts every command "
                         f"with \"Environment variable not found ({ref})\".",
                         location=Location(yf.path, v.line, v.column, ".".join(path)),
                         registry=None,
                         why="Yarn expands ${VAR} when it loads the file; an unset variable "
                             "without a default is a fatal error.",
                         remediation=Remediation(
                             f"Export {ref}, or write ${{{ref}:-}} if it is optional.",
                             commands=(f"read -rs {ref} && export {ref}",)))
            if path and path[-1] == "npmAuthIdent":
                self._ident(path, v)
        root = yf.root
        if root is None:
            return self.out
        strict = yf.where != "home"
        for k, v in root.pairs():
            self._unknown(k, strict, ())
            if k.kind == "scalar" and k.value in ("npmScopes", "npmRegistries") and v.kind == "map":
                for ek, ev in v.pairs():
                    if k.value == "npmRegistries" and ek.kind == "scalar" and \
                            ek.value.endswith("/"):
                        self.add("NPM033",
                                 f"{self.name}:{ek.line}: npmRegistries key `{ek.value}` ends "
                                 "in `/`.",
                                 location=Location(yf.path, ek.line, ek.column, ek.value),
                                 why="Yarn looks registries up without the trailing slash; "
                                     "Yarn versions that do not normalise keys never use "
                                     "this entry.",
                                 remediation=Remediation("Write the key without the trailing "
                                                         "slash."))
                    if ev.kind == "map":
                        for sk, _ in ev.pairs():
                            self._unknown(sk, strict, (k.value, ek.value if ek.kind == "scalar"
                                                       else "?"))
        return self.out

    def _unknown(self, k: yarnrc.YNode, strict: bool, where: tuple[str, ...]) -> None:
        if k.kind != "scalar":
            return
        name = k.value
        if name in yarnrc.NPM_SETTINGS:
            return
        meant = yarnrc.MISSPELLINGS.get(name.lower())
        if meant is None or (where and meant in ("npmScopes", "npmRegistries")):
            return
        from hardoctor.model import Severity

        self.add("NPM034",
                 f"{self.name}:{k.line}: `{name}` is not a Yarn setting; did you mean `{meant}`?",
                 severity=None if strict else Severity.WARNING,
                 location=Location(self.yf.path, k.line, k.column, ".".join((*where, name))),
                 why=("Yarn refuses to start with an unknown setting in a project file "
                      "(\"Unrecognized or legacy configuration settings found\")."
                      if strict else "Yarn ignores unknown settings in the home file: the value "
                      "is never used."),
                 remediation=Remediation(f"Rename it to `{meant}`.", docs=(YARN_DOCS,)))

    def _ident(self, path: list[str], v: yarnrc.YNode) -> None:
        value = v.value
        if "${" in value:
            return
        redact.register(value)
        if ":" in value:
            return
        raw = creds.strict_b64(value)
        if raw is not None and ":" in raw.decode("utf-8", "replace"):
            return
        self.add("NPM035",
                 f"{self.name}:{v.line}: `{'.'.join(path)}` is neither `user:password` nor its "
                 "base64.",
                 location=Location(self.yf.path, v.line, v.column, ".".join(path)),
                 why="Yarn sends npmAuthIdent as Basic auth; the registry finds no user in it "
                     "and answers 401.",
                 remediation=Remediation("Put a token in npmAuthToken instead."))


def envsubst_yarn(value: str, env: Any) -> list[str]:
    from . import envsubst

    return [r.name for r in envsubst.yarn(value, env).refs if r.fatal]


def lint_source(source: Source, st: State, ctx: Context) -> list[Finding]:
    obj = st.sources.get(source.id)
    if isinstance(obj, Layer):
        if source.error:
            return []
        return NpmLinter(source, obj, st, ctx).run()
    if isinstance(obj, yarnrc.YarnFile):
        if source.error:
            return []
        return YarnLinter(source, obj, st, ctx).run()
    return []


def _unused(_: Iterable[object]) -> None:  # pragma: no cover - keeps imports honest
    return None
