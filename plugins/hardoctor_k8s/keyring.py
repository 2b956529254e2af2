"""The kubelet's credential lookup (``pkg/credentialprovider/keyring.go``).

``Add`` turns each registry key into ``host[:port][/path]``: ``https://`` is
added when there is no scheme, the URL is parsed, a leading ``/v1/`` or
``/v2/`` is cut off the path.  ``Lookup(image)`` then returns the
credentials of *every* key that matches the image's repository (the kubelet
tries them in turn until one pull succeeds), keys in reverse string order so
longer paths come first.  A key matches when the port is the same, the host
has the same number of dot-separated labels, each label matches as a glob
(``*.example.com`` matches ``a.example.com`` but not ``example.com``), and
the key's path is a prefix of the image path (a plain string prefix).
Docker Hub images fall back to an ``index.docker.io`` key.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from hardoctor.records import dataclass
from hardoctor.targets import ImageRef

T = TypeVar("T")

DEFAULT_REGISTRY_HOST = "index.docker.io"


@dataclass(frozen=True)
class KeyURL:
    """A schemeless URL split the way Go's ``url.Parse`` does (case kept)."""

    host: str  # host[:port] as written
    path: str

    @property
    def labels_port(self) -> tuple[list[str], str]:
        host, port = split_host_port(self.host)
        return host.split("."), port


def split_host_port(hostport: str) -> tuple[str, str]:
    """Go's ``net.SplitHostPort``, falling back to (hostport, "")."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end != -1:
            rest = hostport[end + 1 :]
            if rest.startswith(":") and rest[1:].isdigit():
                return hostport[1:end], rest[1:]
        return hostport, ""
    if hostport.count(":") == 1:
        host, port = hostport.split(":")
        return host, port
    return hostport, ""


def parse_schemeless(value: str) -> KeyURL | None:
    try:
        parts = urlsplit("https://" + value)
        _ = parts.port  # validates the port like Go
    except ValueError:
        return None
    return KeyURL(parts.netloc.rsplit("@", 1)[-1], parts.path)


def normalize_key(key: str) -> str | None:
    """The index key the kubelet's ``Add`` makes of a registry key, or None
    when the kubelet ignores the entry (unparsable)."""
    value = key if key.startswith(("https://", "http://")) else "https://" + key
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError:
        return None
    host = parts.netloc.rsplit("@", 1)[-1]
    if not host:
        return None
    path = parts.path
    if path.startswith(("/v2/", "/v1/")):
        path = path[3:]
    return host + path if path and path != "/" else host


def image_repository(ref: ImageRef) -> str:
    """What the kubelet looks up: the normalised repository, no tag."""
    return f"{ref.host}/{ref.path}"


def urls_match(glob: str, target: str) -> tuple[bool, str]:
    """``URLsMatchStr``: (matches, why not -- for the chain)."""
    g = parse_schemeless(glob)
    t = parse_schemeless(target)
    if g is None or t is None:
        return False, "not a valid URL"
    g_labels, g_port = g.labels_port
    t_labels, t_port = t.labels_port
    ok = (g_port == t_port and len(g_labels) == len(t_labels) and t.path.startswith(g.path)
          and all(_go_match(gp, tp) for gp, tp in zip(g_labels, t_labels, strict=True)))
    if ok:
        return True, ""
    wild = any("*" in part or "?" in part or "[" in part for part in g_labels)
    g_bare, t_bare = ".".join(g_labels), ".".join(t_labels)
    if not wild and g_bare.lower() != t_bare.lower():
        return False, f"it is for host {g.host}, the image is on {t.host}"
    if g_port != t_port:
        if not g_port:
            return False, f"the image is on port {t_port}, the key has no port"
        if not t_port:
            return False, f"the key has port {g_port}, the image has none"
        return False, f"the key has port {g_port}, the image port {t_port}"
    if len(g_labels) != len(t_labels):
        return False, (
            f"host {g.host} has {len(g_labels)} labels and the image host {t.host} has "
            f"{len(t_labels)}: a wildcard matches exactly one label"
        )
    if not t.path.startswith(g.path):
        return False, f"the key's path {g.path} is not a prefix of the image path {t.path}"
    if g_bare != t_bare and g_bare.lower() == t_bare.lower():
        return False, f"host {g.host} differs from {t.host} in letter case"
    return False, f"host {g.host} does not match {t.host}"


def _go_match(pattern: str, name: str) -> bool:
    """``filepath.Match`` for one host label (no separators inside):
    ``*``, ``?``, ``[...]`` with ``^`` negation; case-sensitive."""
    if "[" in pattern:
        pattern = pattern.replace("[^", "[!")
    try:
        return fnmatch.fnmatchcase(name, pattern)
    except Exception:  # a malformed class: Go returns ErrBadPattern -> no match
        return False


def is_default_registry_match(repository: str) -> bool:
    parts = repository.split("/", 1)
    if not parts[0]:
        return False
    if len(parts) == 1:
        return True
    if parts[0] in ("docker.io", "index.docker.io"):
        return True
    return not any(c in parts[0] for c in ".:") and parts[0] != "localhost"


@dataclass(frozen=True)
class Candidate(Generic[T]):
    """One registry entry offered to the keyring, in the order added."""

    key: str
    item: T


@dataclass(frozen=True)
class Verdict(Generic[T]):
    candidate: Candidate[T]
    #: None when the kubelet ignores the key entirely.
    index_key: str | None
    matched: bool
    #: Order in which the kubelet tries it (0 first), for matched ones.
    order: int | None = None
    why: str = ""
    #: Matched only through the Docker Hub fallback.
    via_default: bool = False


def lookup(candidates: Sequence[Candidate[T]], repository: str) -> list[Verdict[T]]:
    """Every candidate with its verdict for ``repository``, in the order
    the kubelet would try the matched ones (unmatched ones after them, in
    the order given)."""
    by_key: dict[str, list[Candidate[T]]] = {}
    ignored: list[Candidate[T]] = []
    for c in candidates:
        k = normalize_key(c.key)
        if k is None:
            ignored.append(c)
            continue
        by_key.setdefault(k, []).append(c)
    index = sorted(by_key, reverse=True)
    matched: list[Verdict[T]] = []
    unmatched: list[Verdict[T]] = []
    for k in index:
        ok, why = urls_match(k, repository)
        for c in by_key[k]:
            if ok:
                matched.append(Verdict(c, k, True, len(matched)))
            else:
                unmatched.append(Verdict(c, k, False, why=why))
    if not matched and is_default_registry_match(repository) and DEFAULT_REGISTRY_HOST in by_key:
        rest = []
        for v in unmatched:
            if v.index_key == DEFAULT_REGISTRY_HOST:
                matched.append(Verdict(v.candidate, v.index_key, True, len(matched),
                                       via_default=True))
            else:
                rest.append(v)
        unmatched = rest
    for c in ignored:
        unmatched.append(Verdict(c, None, False, why="the kubelet cannot parse this key and "
                                 "ignores the entry"))
    order = {id(c): i for i, c in enumerate(candidates)}
    unmatched.sort(key=lambda v: order[id(v.candidate)])
    return matched + unmatched


def near_miss(verdict: Verdict[T], repository: str) -> bool:
    """An unmatched entry that was clearly meant for this image's registry
    (same host apart from port, case, path or label count)."""
    if verdict.matched or verdict.index_key is None:
        return False
    key = parse_schemeless(verdict.index_key)
    target = parse_schemeless(repository)
    if key is None or target is None:
        return False
    kh, _ = split_host_port(key.host)
    th, _ = split_host_port(target.host)
    kh, th = kh.lower(), th.lower()
    if kh == th:
        return True
    if kh.startswith("*.") and (th == kh[2:] or th.endswith(kh[1:])):
        return True
    return th.endswith("." + kh) or kh.endswith("." + th)
