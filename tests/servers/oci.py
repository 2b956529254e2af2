"""A tiny OCI image layout built in Python, pushed/inspected with real skopeo."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import platform
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .util import clean_env, require_binary

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

# Variables through which a client could pick up credentials or config that
# are not the test's own; skopeo runs never inherit them.
_LEAKY_VARS = (
    "REGISTRY_AUTH_FILE",
    "DOCKER_CONFIG",
    "DOCKER_AUTH_CONFIG",
    "CONTAINERS_REGISTRIES_CONF",
)


class SkopeoError(RuntimeError):
    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        super().__init__(
            f"{' '.join(argv[:2])} ... failed with code {returncode}: {stderr.strip()}"
        )
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True)
class OciImage:
    layout_dir: Path
    tag: str
    manifest_digest: str
    config_digest: str
    layer_digest: str


def _go_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )


def _write_blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = hashlib.sha256(data).hexdigest()
    blob_dir = layout / "blobs" / "sha256"
    blob_dir.mkdir(parents=True, exist_ok=True)
    (blob_dir / digest).write_bytes(data)
    return f"sha256:{digest}", len(data)


def _layer_tar(files: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size = len(content)
            info.mode = 0o644
            info.mtime = 0  # deterministic digests
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def build_oci_layout(
    layout_dir: str | Path,
    tag: str = "latest",
    files: Mapping[str, bytes] | None = None,
) -> OciImage:
    """Write an OCI image layout with one gzip layer holding ``files``.

    ``index.json`` names the manifest with ``org.opencontainers.image.ref.name``
    = ``tag`` so ``oci:DIR:TAG`` resolves. The config carries this machine's
    architecture so ``docker pull`` accepts it without a platform warning.
    """
    layout = Path(layout_dir)
    layout.mkdir(parents=True, exist_ok=True)
    files = dict(files or {"hello.txt": b"hello from hardoctor test image\n"})

    tar_bytes = _layer_tar(files)
    diff_id = "sha256:" + hashlib.sha256(tar_bytes).hexdigest()
    layer_gz = gzip.compress(tar_bytes, mtime=0)
    layer_digest, layer_size = _write_blob(layout, layer_gz)

    config = {
        "architecture": _go_arch(),
        "os": "linux",
        "config": {"Cmd": ["/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "hardoctor tests/servers/oci.py"}],
    }
    config_digest, config_size = _write_blob(layout, json.dumps(config, sort_keys=True).encode())

    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": layer_digest, "size": layer_size}],
    }
    manifest_digest, manifest_size = _write_blob(
        layout, json.dumps(manifest, sort_keys=True).encode()
    )

    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": manifest_digest,
                "size": manifest_size,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return OciImage(layout, tag, manifest_digest, config_digest, layer_digest)


def authfile_json(registry_host: str, user: str, password: str) -> str:
    """A containers/Docker auth file body with one ``auths`` entry."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    return json.dumps({"auths": {registry_host: {"auth": auth}}})


def _isolated_env(tmp: Path, env: Mapping[str, str] | None) -> dict[str, str]:
    run = tmp / "run"
    run.mkdir(mode=0o700, exist_ok=True)
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    base = clean_env({"HOME": str(home), "XDG_RUNTIME_DIR": str(run)})
    for name in _LEAKY_VARS:
        base.pop(name, None)
    if env:
        base.update(env)
    return base


def _docker_ref(ref: str) -> str:
    return ref if "://" in ref else f"docker://{ref}"


def push_image(
    layout_dir: str | Path,
    registry_host: str,
    repo: str,
    tag: str,
    creds: tuple[str, str] | None,
    *,
    src_tag: str | None = None,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[str]:
    """``skopeo copy oci:DIR:SRC_TAG docker://HOST/REPO:TAG``; raises SkopeoError on failure.

    Credentials go through a private 0600 auth file (``--dest-authfile``)
    rather than ``--dest-creds`` so they never appear in a process listing.
    ``src_tag`` defaults to ``tag``.
    """
    exe = require_binary("skopeo")
    with tempfile.TemporaryDirectory(prefix="hd-skopeo-") as tmp_s:
        tmp = Path(tmp_s)
        argv = [exe, "--insecure-policy", "copy", "--dest-tls-verify=false", "--retry-times=0"]
        if creds is not None:
            authfile = tmp / "push-auth.json"
            fd = os.open(authfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(authfile_json(registry_host, *creds))
            argv += ["--dest-authfile", str(authfile)]
        else:
            argv += ["--dest-no-creds"]
        argv += [f"oci:{layout_dir}:{src_tag or tag}", f"docker://{registry_host}/{repo}:{tag}"]
        res = subprocess.run(
            argv,
            env=_isolated_env(tmp, None),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    if res.returncode != 0:
        raise SkopeoError(argv, res.returncode, res.stderr)
    return res


def skopeo_inspect(
    ref: str,
    authfile: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    extra_args: Sequence[str] = (),
    timeout: float = 60.0,
) -> tuple[int, str, str]:
    """Run ``skopeo inspect --tls-verify=false [--authfile F] docker://REF``.

    The environment is isolated: HOME and XDG_RUNTIME_DIR are fresh temp
    dirs and no REGISTRY_AUTH_FILE / DOCKER_CONFIG leaks in, so only
    ``authfile`` and whatever ``env`` adds (e.g. ``DOCKER_CONFIG``,
    ``REGISTRY_AUTH_FILE``, or ``HOME`` to test ``~/.docker/config.json``)
    can provide credentials. Returns (returncode, stdout, stderr).
    """
    exe = require_binary("skopeo")
    with tempfile.TemporaryDirectory(prefix="hd-skopeo-") as tmp_s:
        argv = [exe, "inspect", "--tls-verify=false", "--retry-times=0"]
        if authfile is not None:
            argv += ["--authfile", str(authfile)]
        argv += [*extra_args, _docker_ref(ref)]
        res = subprocess.run(
            argv,
            env=_isolated_env(Path(tmp_s), env),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    return res.returncode, res.stdout, res.stderr

