"""One verdict per registry: which findings belong to which registry group.

A report shows one group per registry a client talks to (the resolution's
``registry``, else its target host).  Plugins key their findings as they
know them -- a host (``pkg.example:443``), a URL, a nerf dart -- so grouping
by the finding's own ``registry`` string splits one registry in two and can
put an error under the wrong client's heading while the failing client's
group stands green.  Here a finding is placed on the group of every
resolution it is *about*:

* the registry matches: the same string, the resolution's target host, or
  the same host when the finding names only a host (a finding keyed by a
  URL is about that URL and the URLs under it);
* and the client matches: the finding's credential (or one of the
  credentials its story covers) is the one the resolution sends, a fallback
  or a step of its chain; a finding without a credential is about the
  resolutions of its ecosystem (every one when it names none).

The finding is told in full under the first such group (the one keyed
exactly as the finding, when there is one) and named in the others, and it
counts in the verdict of each: a group is ✓ only when nothing it lists
fails.  A finding about no resolution keeps a group of its own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from hardoctor.model import Finding, Report, Resolution, Severity
from hardoctor.records import dataclass, field

GENERAL = "configuration"


@dataclass
class Group:
    key: str
    resolutions: list[Resolution] = field(default_factory=list)
    #: Told in full here.
    findings: list[Finding] = field(default_factory=list)
    #: About this group too, told in full under the group named.
    elsewhere: list[tuple[Finding, str]] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        every = [*self.findings, *(f for f, _ in self.elsewhere)]
        if any(f.severity is Severity.ERROR for f in every):
            return "fail"
        if any(f.severity is Severity.WARNING for f in every):
            return "warn"
        if self.resolutions and not any(r.judged for r in self.resolutions):
            return "unjudged"  # never a ✓ for what nothing checked
        return "ok"

    def failing_clients(self) -> set[str]:
        """Clients of this group that an error finding is about."""
        out: set[str] = set()
        for f in [*self.findings, *(f for f, _ in self.elsewhere)]:
            if f.severity is Severity.ERROR:
                out.update(r.client for r in self.resolutions if about(f, r))
        return out


def host_of(value: str) -> str:
    """``host[:port]`` (lower case) of a URL, a nerf dart ``//host/path`` or
    a bare ``host[:port][/path]``."""
    v = value.strip()
    if "://" not in v:
        v = "//" + v.lstrip("/")
    try:
        parts = urlsplit(v)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return value.strip().lower()
    if ":" in host:
        host = f"[{host}]"
    return host if port is None else f"{host}:{port}"


def _path_of(value: str) -> str:
    v = value.strip()
    if "://" not in v:
        v = "//" + v.lstrip("/")
    try:
        return urlsplit(v).path.rstrip("/")
    except ValueError:
        return ""


def same_registry(finding_registry: str, res: Resolution) -> bool:
    keys = {res.registry, res.target.host} - {""}
    if finding_registry in keys:
        return True
    fhost = host_of(finding_registry)
    if not fhost or fhost not in {host_of(k) for k in keys}:
        return False
    fpath = _path_of(finding_registry)
    if not fpath:
        return True  # the finding names the host: every registry on it
    rpath = _path_of(res.registry) if res.registry else ""
    return rpath == fpath or rpath.startswith(fpath + "/")


def _credential_ids(res: Resolution) -> set[str]:
    ids = {s.credential for s in res.chain if s.credential}
    if res.credential is not None:
        ids.add(res.credential.id)
    ids.update(c.id for c in res.fallbacks)
    return ids


def about(f: Finding, res: Resolution) -> bool:
    """Is finding ``f`` about what resolution ``res`` does?"""
    if not f.registry or not same_registry(f.registry, res):
        return False
    ids = {f.credential, *f.credentials} - {None, ""}
    if ids and ids & _credential_ids(res):
        return True
    if ids and f.ecosystem is None:
        return False
    return f.ecosystem in (None, res.ecosystem)


def group(report: Report) -> list[Group]:
    """The registry groups of a report, in report order (not yet sorted)."""
    groups: dict[str, Group] = {}
    for r in report.resolutions:
        key = r.registry or r.target.host
        groups.setdefault(key, Group(key)).resolutions.append(r)
    by_res: list[tuple[Resolution, str]] = [
        (r, r.registry or r.target.host) for r in report.resolutions]
    for f in report.findings:
        keys = list(dict.fromkeys(k for r, k in by_res if about(f, r)))
        if not keys:
            key = f.registry or GENERAL
            groups.setdefault(key, Group(key)).findings.append(f)
            continue
        home = f.registry if f.registry in keys else keys[0]
        groups[home].findings.append(f)
        for k in keys:
            if k != home:
                groups[k].elsewhere.append((f, home))
    return list(groups.values())


RANK = {"fail": 0, "warn": 1, "ok": 2, "unjudged": 3}


def ordered(report: Report) -> list[Group]:
    """Failing groups first, the general configuration group last."""
    out = group(report)
    out.sort(key=lambda g: (g.key == GENERAL, RANK[g.verdict], g.key))
    return out
