"""Checks of auth keys against the registries npm uses, and of the
registry URLs themselves."""

from __future__ import annotations

from hardoctor.model import (
    Remediation,
    Severity,
)

from .. import ini
from ..config import DEFAULT_REGISTRY, Item
from ..nerf import key_host, nerf_dart, parse_url, split_key, walk
from .base import NPM_DOCS, Base, dflt_port, host_parts, short


class RegistryChecks(Base):
    def _keys(self) -> None:
        """Auth keys that match no registry on their host."""
        assert self.parsed is not None
        regs = self.registries()
        for item in self.my_items():
            split = split_key(item.key)
            if split is None or split[1] not in ("_authToken", "_auth", "username"):
                continue
            if not item.text:
                continue
            prefix, fld = split
            same_host, matched = self._on_host(prefix, regs)
            if matched:
                for url in matched:
                    self._whoami_key(item, prefix, fld, url)
            elif same_host:
                self._unmatched_key(item, prefix, fld, same_host)

    def _on_host(self, prefix: str, regs: list[tuple[str, str, Item | None]]
                 ) -> tuple[list[tuple[str, str, Item | None]], list[str]]:
        """(the registries on the key's host, those whose requests it matches)."""
        hname, hport = host_parts(key_host(prefix))
        same_host: list[tuple[str, str, Item | None]] = []
        matched: list[str] = []
        for label, url, reg_item in regs:
            u = parse_url(url)
            if u is None or hname != u.hostname:
                continue
            if hport not in (u.port, dflt_port(u.scheme) if u.port is None else -1):
                continue
            same_host.append((label, url, reg_item))
            if prefix in walk(url.rstrip("/") + "/x") or prefix in walk(url):
                matched.append(url)
        return same_host, matched

    def _whoami_key(self, item: Item, prefix: str, fld: str, url: str) -> None:
        """NPM005: the key matches installs but not whoami/publish."""
        exact = nerf_dart(url)
        if not exact or prefix == exact or self.cfg.has_auth_at(exact) is not None:
            return
        u = parse_url(url)
        if url != url.rstrip("/") + "/" and u is not None and u.path not in ("", "/"):
            return  # NPM023 on the registry line says it better
        entry = item.entry
        # pnpm 12 matches such a key for installs as npm does (verified:
        # tests/test_clients_node.py), so it is a warning for every client.
        e = self.key_edit(entry, f"{exact}:{fld}") if entry else None
        self.add("NPM005",
                 f"{self.name}:{entry.line if entry else '?'}: `{prefix}` matches "
                 f"package requests to {url}, but `npm whoami`/`npm publish` look "
                 f"up exactly `{exact}`.",
                 severity=Severity.WARNING,
                 location=self.loc(entry), registry=url,
                 why="npm install walks the request path and finds the key, but "
                     "commands that ask for the registry's own credentials say "
                     "`This command requires you to be logged in` (ENEEDAUTH).",
                 fix=self.fix(f"rename the key to `{exact}:{fld}`", e) if e else None,
                 remediation=Remediation(f"Key the credential as `{exact}:{fld}`."))

    def _unmatched_key(self, item: Item, prefix: str, fld: str,
                       same_host: list[tuple[str, str, Item | None]]) -> None:
        """NPM003/004/005: a key for the registry's host that npm never reaches."""
        entry = item.entry
        raw_host = key_host(prefix)
        hname, hport = host_parts(raw_host)
        label, url, reg_item = same_host[0]
        u = parse_url(url)
        assert u is not None
        exact = nerf_dart(url) or prefix
        if raw_host != raw_host.lower():
            code = "NPM003"
            fixed = "//" + raw_host.lower() + prefix[2 + len(raw_host):]
            why_text = "its host has upper-case letters"
        elif hport is not None and hport == dflt_port(u.scheme) and u.port is None:
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


    def _vendor_layout(self, item: Item, entry: ini.Entry) -> None:
        """NPM022: the registry's vendor (``hardoctor_registry_info``) says
        this URL is not an npm registry URL of its layout."""
        info = self.ctx.registry_info(item.text or "", "npm")
        if info is None or not info.problems:
            return
        name = info.display or info.vendor
        steps = (f"Expected: {info.suggested_url}",) if info.suggested_url else ()
        self.add("NPM022",
                 f"{self.name}:{entry.line}: `{short(item.key)}` is not an npm registry URL of "
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
                         f"{self.name}:{entry.line}: `{short(item.key)}` is not a URL npm can "
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
                         f"{self.name}:{entry.line}: `{short(item.key)}` does not end in `/`: "
                         f"npm's key for it is `{old_nerf}`, not `{new_nerf}`.",
                         location=self.loc(entry), registry=item.text,
                         why="`npm login` stores the token under the parent path and `npm whoami`"
                             "/`npm publish` look it up there; a token keyed for the full path "
                             "works for installs but not for those.",
                         fix=self.fix("add the trailing slash", e) if e else None)

