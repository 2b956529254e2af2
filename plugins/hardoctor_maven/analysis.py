"""Which <server> was *meant* for a repository Maven finds no server for.

Shared by the offline lint, the resolution chain and the fixes, so that they
agree: a server id equal to a repository behind a mirror (MVN003), a server
whose id nothing uses that pairs up with exactly one id Maven looks up
(MVN004), or nothing at all (MVN002).
"""

from __future__ import annotations

from hardoctor.records import dataclass

from .state import Endpoint, ServerView, World


@dataclass(frozen=True)
class Candidate:
    view: ServerView
    #: ``behind-mirror`` or ``mismatch``
    kind: str
    #: For ``behind-mirror``: the mirrored repository id it matches.
    repo_id: str = ""


def needs_server(ep: Endpoint) -> bool:
    """An endpoint without a server that may well need one."""
    return ep.server is None and not ep.blocked and not (ep.public and ep.mirror is None)


def used_ids(w: World) -> set[str]:
    return {ep.server_id for ep in w.endpoints}


def unused_servers(w: World) -> list[ServerView]:
    used = used_ids(w)
    return [v for v in w.servers if v.effective and v.id not in used]


def _similar(a: str, b: str) -> bool:
    x, y = a.lower(), b.lower()
    if x == y or x in y or y in x:
        return True
    return _distance(x, y) <= 2


def _distance(a: str, b: str) -> int:
    if abs(len(a) - len(b)) > 2:
        return 3
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def candidates(w: World, ep: Endpoint) -> list[Candidate]:
    """Servers that look meant for ``ep`` (which has no server)."""
    if ep.server is not None:
        return []
    unused = unused_servers(w)
    out: list[Candidate] = []
    if ep.mirror is not None:
        behind = {c.repo.id for c in ep.contacts}
        for v in unused:
            if v.id in behind:
                out.append(Candidate(v, "behind-mirror", v.id))
        if out:
            return out
    claimed = {v.id for e in w.endpoints if e.mirror is not None and e.server is None
               for v in unused if v.id in {c.repo.id for c in e.contacts}}
    free = [v for v in unused if v.id not in claimed]
    lacking = [e for e in w.endpoints if needs_server(e)]
    for v in free:
        if _similar(v.id, ep.server_id):
            out.append(Candidate(v, "mismatch"))
    if not out and len(free) == 1 and len(lacking) == 1 and lacking[0] is ep:
        out.append(Candidate(free[0], "mismatch"))
    return out


def explained(w: World, view: ServerView) -> bool:
    """Is this unused server a candidate for some endpoint (so a MVN003/4
    finding already talks about it)?"""
    for ep in w.endpoints:
        if ep.server is None and any(c.view is view for c in candidates(w, ep)):
            return True
    return False


def claimed_elsewhere(w: World, ep: Endpoint, view: ServerView) -> bool:
    """Is ``view`` also a candidate for another endpoint?  Then renaming it
    for one would take it from the other: no automatic fix."""
    return any(e is not ep and e.server is None and any(c.view is view for c in candidates(w, e))
               for e in w.endpoints)
