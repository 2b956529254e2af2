"""HAR hosts and URL layout, and what can be wrong with a HAR URL.

Layouts (``docs/vendors/harness.md``):

* OCI (Docker, Helm OCI): ``HOST/<account-lower>/<registry>/<image>[:tag]``;
  login key is the bare host.  No org, no project, no ``/pkg/``.
* Everything else: ``https://HOST/pkg/<account>/<registry>/<type>/...`` with
  the account ID in its original case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

from hardoctor import lazyre
from hardoctor.records import dataclass

SAAS_HOST = "pkg.harness.io"

#: Package-type path segments HAR serves under ``/pkg/ACCT/REG/``.
PACKAGE_TYPES = frozenset(
    {
        "npm",
        "python",
        "maven",
        "helm",
        "helm-http",
        "nuget",
        "go",
        "rpm",
        "generic",
        "files",
        "cargo",
        "conda",
        "composer",
        "dart",
        "debian",
        "swift",
        "cran",
        "puppet",
        "huggingface",
    }
)
#: Segments people write instead, and what they meant.  ``None`` = OCI.
TYPE_ALIASES: dict[str, str | None] = {
    "pip": "python",
    "py": "python",
    "pypi-simple": "python",
    "node": "npm",
    "nodejs": "npm",
    "yarn": "npm",
    "pnpm": "npm",
    "gradle": "maven",
    "mvn": "maven",
    "sbt": "maven",
    "java": "maven",
    "ivy": "maven",
    "golang": "go",
    "gomod": "go",
    "yum": "rpm",
    "dnf": "rpm",
    "deb": "debian",
    "apt": "debian",
    "raw": "generic",
    "nupkg": "nuget",
    "dotnet": "nuget",
    "crates": "cargo",
    "rust": "cargo",
    "php": "composer",
    "pub": "dart",
    "flutter": "dart",
    "r": "cran",
    "hf": "huggingface",
    "docker": None,
    "oci": None,
    "container": None,
    "containers": None,
    "v2": None,
}
#: The other spelling of the Python segment: Harness's own ``hc`` CLI writes
#: ``/pypi/simple/`` while Setup Client shows ``/python/simple``.
PYPI = "pypi"

OCI_ECOSYSTEMS = frozenset({"docker", "podman", "helm-oci", "k8s", "kubernetes", "oci"})
PKG_ECOSYSTEMS = frozenset({"npm", "pip", "python", "maven", "gradle", "nuget", "go", "helm"})


def is_har_host(host: str, declared: Iterable[str] = ()) -> bool:
    """``pkg.harness.io``, the ``pkg*.harness.io`` package hosts, or a host
    declared with ``--harness-host`` (a declared host without a port matches
    every port)."""
    h = host.strip().lower()
    if not h:
        return False
    bare = h.rsplit(":", 1)[0] if not h.startswith("[") else h.split("]")[0] + "]"
    if bare == SAAS_HOST or (
        bare.endswith(".harness.io") and bare.split(".", 1)[0].startswith("pkg")
    ):
        return True
    for d in declared:
        d = d.strip().lower()
        if d and (h == d or (":" not in d and bare == d)):
            return True
    return False


@dataclass(frozen=True)
class HarUrl:
    """A HAR URL or image reference taken apart.  ``layout``: ``host`` (no
    path, e.g. a Docker login key), ``oci`` or ``pkg``; ``other`` for a path
    that is neither."""

    raw: str
    host: str
    layout: Literal["host", "oci", "pkg", "other"]
    segments: tuple[str, ...]
    account: str | None = None
    registry: str | None = None
    package_type: str | None = None


def split_har(value: str) -> tuple[str, tuple[str, ...]] | None:
    """(host, path segments) of a URL, npm key (``//host/path/:_authToken``),
    image reference (tag/digest dropped) or ``host/path``."""
    v = value.strip()
    if not v:
        return None
    if v.startswith("//"):
        v = "https:" + v
    if "://" in v:
        try:
            parts = urlsplit(v)
            host = parts.hostname or ""
            port = parts.port
        except ValueError:
            return None
        hostport = host if port is None else f"{host}:{port}"
        path = parts.path
    else:
        hostport, _, path = v.partition("/")
        if "@" in path:
            path = path.split("@", 1)[0]
        last = path.rsplit("/", 1)
        if ":" in last[-1]:
            path = path[: len(path) - len(last[-1])] + last[-1].split(":", 1)[0]
    if not hostport:
        return None
    # npm keys end in "/:_authToken" etc.; the ":..." segment is not a path.
    segs = tuple(s for s in path.split("/") if s and not s.startswith(":"))
    return hostport.lower(), segs


def parse_har_url(value: str, *, oci: bool | None = None) -> HarUrl | None:
    """Take a HAR URL apart.  ``oci`` forces the layout for a path that does
    not start with ``pkg`` (True for image references, False for package
    URLs); None guesses from the path."""
    split = split_har(value)
    if split is None:
        return None
    host, segs = split
    if segs and segs[0] == "v2":
        segs = segs[1:]  # Docker keys like https://pkg.harness.io/v2/
        if not segs:
            return HarUrl(value, host, "host", ())
    if not segs:
        return HarUrl(value, host, "host", ())
    if segs[0] == "pkg":
        rest = segs[1:]
        return HarUrl(
            value,
            host,
            "pkg",
            segs,
            account=rest[0] if len(rest) > 0 else None,
            registry=rest[1] if len(rest) > 1 else None,
            package_type=rest[2] if len(rest) > 2 else None,
        )
    if oci is None:
        oci = not (len(segs) >= 3 and _known_type(segs[2]))
    if oci:
        # With fewer than three segments, which part is missing is a guess:
        # claim no account or registry rather than a wrong one -- except
        # HOST/ACCOUNT/REGISTRY with no tag, the registry as Set up client
        # shows it (``docker login`` and ``hardoctor setup`` take it).
        full = len(segs) >= 3 or registry_root(value, segs)
        return HarUrl(
            value,
            host,
            "oci",
            segs,
            account=segs[0] if full else None,
            registry=segs[1] if full else None,
            package_type="docker",
        )
    return HarUrl(value, host, "other", segs)


def registry_root(value: str, segs: tuple[str, ...]) -> bool:
    """``HOST/ACCOUNT/REGISTRY`` without a tag or digest: a registry, not an
    image with a part left out."""
    if len(segs) != 2:
        return False
    path = value.strip().split("://", 1)[-1].partition("/")[2].rstrip("/")
    return "@" not in path and ":" not in path.rsplit("/", 1)[-1]


def _known_type(seg: str) -> bool:
    s = seg.lower()
    return s in PACKAGE_TYPES or s == PYPI or (s in TYPE_ALIASES and TYPE_ALIASES[s] is not None)


@dataclass(frozen=True)
class UrlIssue:
    """One thing wrong with a HAR URL: the rule code, a message (no
    secrets: URLs here never carry userinfo) and the corrected value when it
    can be computed."""

    code: str
    message: str
    suggestion: str | None = None


def _join(host: str, segs: Iterable[str], trailing: bool = False) -> str:
    path = "/".join(segs)
    return f"https://{host}/{path}" + ("/" if trailing and path else "")


def url_issues(har: HarUrl, ecosystem: str | None = None) -> list[UrlIssue]:
    """Everything :mod:`rules` knows to be wrong with ``har``.  ``ecosystem``
    says which layout the client needs (npm/pip/maven need ``/pkg/``;
    docker/k8s need OCI)."""
    wants_oci = ecosystem in OCI_ECOSYSTEMS if ecosystem else None
    if har.layout == "host":
        return []
    if har.layout == "pkg":
        return _pkg_issues(har, wants_oci)
    if har.layout == "oci" and wants_oci is not False:
        return _oci_issues(har)
    return _missing_pkg(har)


def _missing_pkg(har: HarUrl) -> list[UrlIssue]:
    segs = har.segments
    trailing = har.raw.rstrip().endswith("/")
    fixed = _join(har.host, ("pkg", *segs), trailing)
    return [
        UrlIssue(
            "HAR201",
            f"{_show(har)} has no /pkg/ segment: HAR serves this package type under "
            f"https://{har.host}/pkg/ACCOUNT/REGISTRY/TYPE/",
            fixed if len(segs) >= 3 and _known_type(segs[2]) else None,
        )
    ]


def _pkg_issues(har: HarUrl, wants_oci: bool | None) -> list[UrlIssue]:
    segs = har.segments
    rest = segs[1:]
    shown = _show(har)
    trailing = har.raw.rstrip().endswith("/")
    if len(rest) < 3:
        return [
            UrlIssue(
                "HAR202",
                f"{shown} is incomplete: HAR package URLs are "
                f"https://{har.host}/pkg/ACCOUNT/REGISTRY/TYPE/ (type: npm, python, maven, ...)",
            )
        ]
    account, _registry, ptype = rest[0], rest[1], rest[2]
    low = ptype.lower()
    if wants_oci or (low in TYPE_ALIASES and TYPE_ALIASES[low] is None):
        image = "/".join(s for s in rest[3:] if s not in ("v2", "manifests", "blobs")) or "IMAGE"
        return [
            UrlIssue(
                "HAR207",
                f"{shown} puts an image under /pkg/: Docker/OCI images live at "
                f"{har.host}/{account.lower()}/{rest[1]}/{image} (no /pkg/, no type segment)",
                f"{har.host}/{account.lower()}/{rest[1]}/{image}",
            )
        ]
    if low == PYPI:
        return [
            UrlIssue(
                "HAR203",
                f"{shown} uses /pypi/: Setup Client's Python URL is .../{rest[1]}/python/simple "
                "(the hc CLI writes /pypi/; if pip gets 404, switch to /python/)",
                _join(har.host, ("pkg", account, rest[1], "python", *rest[3:]), trailing),
            )
        ]
    if low in PACKAGE_TYPES:
        return []
    # An org/project inserted between account and registry pushes the type
    # segment to the right: find it there.
    for i in range(3, min(len(rest), 6)):
        if _known_type(rest[i]) and rest[i].lower() not in TYPE_ALIASES:
            fixed = ("pkg", account, rest[i - 1], *rest[i:])
            extra = "/".join(rest[1 : i - 1])
            return [
                UrlIssue(
                    "HAR204",
                    f"{shown} has extra segments ({extra}) between the account and the registry: "
                    "HAR URLs carry no org or project",
                    _join(har.host, fixed, trailing),
                )
            ]
    meant = TYPE_ALIASES.get(low)
    hint = f"; did you mean {meant!r}?" if meant else " (npm, python, maven, helm, nuget, go, ...)"
    return [
        UrlIssue(
            "HAR202",
            f"{shown} has package type {ptype!r}, which HAR does not serve{hint}",
            _join(har.host, ("pkg", account, rest[1], meant, *rest[3:]), trailing)
            if meant
            else None,
        )
    ]


_ORG_MARKERS = frozenset({"orgs", "org", "projects", "project"})


def _oci_issues(har: HarUrl) -> list[UrlIssue]:
    segs = har.segments
    shown = _show(har)
    out: list[UrlIssue] = []
    if len(segs) < 3 and not registry_root(har.raw, segs):
        missing = (
            "the account and the registry" if len(segs) == 1 else "the account or the registry"
        )
        out.append(
            UrlIssue(
                "HAR206",
                f"{shown} leaves out {missing}: HAR images are "
                f"{har.host}/ACCOUNT/REGISTRY/IMAGE:TAG (the account ID lower-cased)",
            )
        )
        return out
    if segs[0] != segs[0].lower():
        out.append(
            UrlIssue(
                "HAR205",
                f"{shown} has the account ID in upper case ({segs[0]}): OCI image paths must be "
                f"lower-case, so Docker refuses it; write {segs[0].lower()}",
                f"{har.host}/{'/'.join([segs[0].lower(), *segs[1:]])}",
            )
        )
    lowered = [s.lower() for s in segs]
    if len(segs) >= 4 and (lowered[1] == "default" or _ORG_MARKERS & set(lowered[1:-1])):
        keep = [segs[0], *segs[-2:]] if len(segs) >= 5 else [segs[0], *segs[2:]]
        out.append(
            UrlIssue(
                "HAR204",
                f"{shown} looks like it has an org/project inserted after the account: HAR image "
                "paths are HOST/ACCOUNT/REGISTRY/IMAGE -- org and project are not part of them",
                f"{har.host}/{'/'.join(s.lower() if i == 0 else s for i, s in enumerate(keep))}",
            )
        )
    return out


def _show(har: HarUrl) -> str:
    v = har.raw.strip()
    return v if len(v) <= 120 else v[:117] + "..."


_RE_ACCT = lazyre.compile(r"^[A-Za-z0-9_-]+$")


def account_of(har: HarUrl) -> str | None:
    """The account ID the URL addresses (as written), if it has one."""
    if har.layout in ("pkg", "oci") and har.account and _RE_ACCT.match(har.account):
        return har.account
    return None
