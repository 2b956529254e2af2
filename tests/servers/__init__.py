"""Real servers and clients for hardoctor's integration tests.

Plain library code (only ``util.server_missing`` imports pytest, lazily).
Import as ``tests.servers`` with the repository root on ``sys.path``
(``python -m pytest`` from the root does that). See README.md here.
"""

from .dockerd import Dockerd
from .oci import OciImage, SkopeoError, authfile_json, build_oci_layout, push_image, skopeo_inspect
from .registry import Registry, htpasswd_line, http_get
from .tokenserver import RecordedRequest, TokenServer, libtrust_key_id, parse_scope
from .util import (
    ManagedProcess,
    MissingBinaryError,
    ServerStartError,
    free_port,
    require_binary,
    server_missing,
    wait_for_port,
)

__all__ = [
    "Dockerd",
    "ManagedProcess",
    "MissingBinaryError",
    "OciImage",
    "RecordedRequest",
    "Registry",
    "ServerStartError",
    "SkopeoError",
    "TokenServer",
    "authfile_json",
    "build_oci_layout",
    "free_port",
    "htpasswd_line",
    "http_get",
    "libtrust_key_id",
    "parse_scope",
    "push_image",
    "require_binary",
    "server_missing",
    "skopeo_inspect",
    "wait_for_port",
]
