"""Parsing of command-line targets and registry hosts.

OCI image references live here rather than in the Docker plugin because the
grammar belongs to the distribution protocol, which several plugins share
(Docker, Kubernetes pull secrets, Helm OCI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from hardoctor.model import Target

DOCKER_HUB = "docker.io"
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}

_HOST_RE = re.compile(
    r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$"
)
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")


@dataclass(frozen=True)
class ImageRef:
    host: str  # "docker.io" for Docker Hub
    path: str  # repository path, e.g. "library/nginx"
    tag: str | None
    digest: str | None
    explicit_host: bool

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        ref = f"@{self.digest}" if self.digest else f":{self.tag or 'latest'}"
        return f"{self.host}/{self.path}{ref}"


def is_hub(host: str) -> bool:
    return host.lower() in _HUB_ALIASES


def valid_host(host: str) -> bool:
    return bool(_HOST_RE.match(host))


def parse_image_reference(value: str) -> ImageRef | None:
    """Parse ``[HOST[:PORT]/]PATH[:TAG][@DIGEST]`` the way Docker does.

    The first component is a host when it contains ``.`` or ``:`` or is
    ``localhost``; otherwise the image is on Docker Hub (``library/`` added for
    single-component names).  Upper-case letters are not allowed in the path
    (Docker refuses them; HAR's upper-case account IDs are a classic mistake
    that the HAR plugin reports), so the path is validated case-insensitively
    here and left as written.
    """
    value = value.strip()
    if not value or "://" in value or any(c.isspace() for c in value):
        return None
    digest = None
    if "@" in value:
        value, digest = value.split("@", 1)
        if not _DIGEST_RE.match(digest):
            return None
    tag = None
    last = value.rsplit("/", 1)[-1]
    if ":" in last:
        value, tag = value.rsplit(":", 1)
        if not _TAG_RE.match(tag):
            return None
    parts = value.split("/")
    explicit = len(parts) > 1 and (
        "." in parts[0] or ":" in parts[0] or parts[0] == "localhost" or parts[0].startswith("[")
    )
    if explicit:
        host, path_parts = parts[0], parts[1:]
        if not valid_host(host):
            return None
    else:
        host, path_parts = DOCKER_HUB, parts
    if not path_parts or not all(re.fullmatch(_PATH_COMPONENT, p.lower()) for p in path_parts):
        return None
    if is_hub(host):
        host = DOCKER_HUB
        if len(path_parts) == 1:
            path_parts = ["library", *path_parts]
    return ImageRef(host, "/".join(path_parts), tag, digest, explicit)


def split_host_url(value: str) -> tuple[str, str | None] | None:
    """``host[:port]`` and the URL (when one was given) of a registry value:
    a bare host, ``host/path`` or ``scheme://host/path``."""
    value = value.strip()
    if not value:
        return None
    if "://" in value:
        try:
            parts = urlsplit(value)
            host = parts.hostname
            port = parts.port
        except ValueError:
            return None
        if not host:
            return None
        netloc = host if port is None else f"{host}:{port}"
        if ":" in host and not host.startswith("["):
            netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
        return netloc.lower(), value
    host = value.split("/", 1)[0]
    if not valid_host(host):
        return None
    return host.lower(), None


def parse_registry_target(value: str) -> Target | None:
    split = split_host_url(value)
    if split is None:
        return None
    host, url = split
    name = None
    if url is None and "/" in value.strip():
        name = value.strip().split("/", 1)[1].strip("/") or None
    return Target(raw=value, kind="registry", host=host, name=name, url=url)


def normalize_host(value: str) -> str:
    """host[:port] of a registry key or URL, lower-cased; Docker Hub
    aliases become ``docker.io``."""
    split = split_host_url(value)
    if split is None:
        return value.strip().lower()
    host = split[0]
    return DOCKER_HUB if is_hub(host) else host


def host_matches(pattern: str, value: str) -> bool:
    """Does a ``--registry`` value select this host (or URL)?  A pattern
    without a port matches any port of that host."""
    want = normalize_host(pattern)
    have = normalize_host(value)
    if want == have:
        return True
    if ":" not in want.rsplit("]", 1)[-1]:
        return have.rsplit(":", 1)[0] == want if not have.startswith("[") else False
    return False
