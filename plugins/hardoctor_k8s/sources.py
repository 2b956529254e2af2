"""Where Kubernetes objects come from: manifest files and directories,
stdin, and a live cluster through ``kubectl``.

Files are streamed, never read whole (a ``kubectl get -o yaml`` dump of a
big cluster is hundreds of megabytes): see :mod:`.yamlstream`.  A file a
previous ``fix`` pass staged (``ctx.overlay``) is read from there, like
:func:`hardoctor.files.read_file` does.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import IO, cast

from hardoctor import lazyre
from hardoctor.context import Context
from hardoctor.files import CappedReader, InputTooLarge, open_regular, read_bounded
from hardoctor.model import Source

from .objects import read_object
from .options import MAX_MANIFEST_ENV, MAX_MANIFEST_OPTION, kube_options
from .state import SourceData, StreamProblem, persistent
from .yamlstream import StreamError, iter_objects

ECO = "k8s"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
#: Every kind that can pull an image, plus what decides which secrets apply.
RESOURCES = (
    "secrets", "serviceaccounts", "pods", "deployments", "statefulsets", "daemonsets",
    "jobs", "cronjobs", "replicasets",
)
DEFAULT_KUBE_TIMEOUT = 30.0
_HELM = lazyre.compile(r"\{\{-?\s|\{\{[.$]")
_MAX_STDERR = 64 * 1024


def default_namespace(ctx: Context) -> str:
    """The namespace of manifest objects that name none: ``kubectl apply
    -n NS`` semantics."""
    return kube_options(ctx).namespace or "default"


def manifest_files(ctx: Context) -> Iterator[tuple[str, str | None]]:
    """(path, error) for every ``--manifests`` value; directories are walked
    recursively for .yaml/.yml/.json (hidden entries skipped)."""
    for raw in kube_options(ctx).manifests:
        if raw == "-":
            yield "-", None
            continue
        path = os.path.abspath(os.path.join(ctx.project, ctx.env.expand_home(raw)))
        if os.path.isdir(path):
            found = False
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                        found = True
                        yield os.path.join(root, name), None
            if not found:
                yield path, "the directory holds no .yaml, .yml or .json file"
        elif os.path.exists(path) or os.path.realpath(path) in ctx.overlay:
            yield path, None
        else:
            yield path, "no such file or directory"


def discover(ctx: Context) -> list[Source]:
    sources: list[Source] = []
    seen: set[str] = set()
    for path, error in manifest_files(ctx):
        if path in seen:
            continue
        seen.add(path)
        if path == "-":
            sources.append(_stdin_source(ctx))
            continue
        if error is not None:
            sources.append(Source(id=f"k8s:{path}", ecosystem=ECO, kind="file",
                                  description="Kubernetes manifests", path=path, error=error))
            continue
        sources.append(file_source(ctx, path))
    if kube_options(ctx).kube:
        sources.append(cluster_source(ctx))
    # Named on the command line: in scope also with --scope project.
    return [replace(s, explicit=True) for s in sources]


def file_source(ctx: Context, path: str) -> Source:
    data = SourceData(f"k8s:{path}", "file", path, ctx.display_path(path))
    real = os.path.realpath(path)
    staged = ctx.overlay.get(real)
    try:
        st = os.stat(path)
        data.mtime = st.st_mtime
        mode = st.st_mode & 0o7777
    except OSError:
        mode = None
    if staged is not None:
        _read_stream(ctx, data, io.StringIO(staged[0]), staged[0][:1] == "\ufeff")
    else:
        cap = kube_options(ctx).max_manifest_bytes
        try:
            # O_NONBLOCK + fstat: a FIFO or device is refused, never waited on.
            fh, st = open_regular(path)
            with fh:
                if st.st_size > cap:
                    raise InputTooLarge(cap)
                bom = fh.read(3) == b"\xef\xbb\xbf"
                fh.seek(0)
                _read_stream(ctx, data, cast(IO[bytes], CappedReader(fh, cap)), bom)
        except InputTooLarge:
            return Source(id=data.id, ecosystem=ECO, kind="file", description="Kubernetes manifests",
                          path=path, error=too_large(cap, os.path.getsize(path)))
        except OSError as exc:
            return Source(id=data.id, ecosystem=ECO, kind="file", description="Kubernetes manifests",
                          path=path, error=exc.strerror or str(exc))
    data.loaded = True
    return Source(id=data.id, ecosystem=ECO, kind="file", description="Kubernetes manifests",
                  path=path, mtime=data.mtime, mode=mode, payload=data)


def _stdin_source(ctx: Context) -> Source:
    keep = persistent(ctx)
    data = keep.stdin
    if data is None:
        data = SourceData("k8s:stdin", "stdin", "<stdin>", "<stdin>")
        stream = ctx.env.stdin
        if stream is None:
            data.problems.append(StreamProblem("stdin is not available", None, kind="missing"))
        else:
            cap = kube_options(ctx).max_manifest_bytes
            raw = getattr(stream, "buffer", stream)
            try:
                _read_stream(ctx, data, cast(IO[bytes], CappedReader(raw, cap)), False)
            except InputTooLarge:
                data = SourceData("k8s:stdin", "stdin", "<stdin>", "<stdin>")
                data.problems.append(StreamProblem(too_large(cap, None), None, kind="too-large"))
        data.loaded = True
        keep.stdin = data
    return Source(id=data.id, ecosystem=ECO, kind="stdin", description="Kubernetes manifests on stdin",
                  path=None, payload=data)


def too_large(cap: int, size: int | None) -> str:
    """The words of a manifest cap that bites: the size, the cap, the way up."""
    size_words = f"{size} bytes" if size is not None else "more than the cap"
    return (f"holds {size_words}, over the manifest cap of {cap} bytes: not read "
            f"(raise it with {MAX_MANIFEST_OPTION} SIZE or {MAX_MANIFEST_ENV})")


def _read_stream(ctx: Context, data: SourceData, stream: IO[bytes] | IO[str], bom: bool) -> None:
    ns = default_namespace(ctx) if data.kind != "cluster" else "default"
    offset = 1 if bom else 0
    path = data.path if data.kind != "cluster" else None
    for item in iter_objects(stream):
        if isinstance(item, StreamError):
            data.problems.append(StreamProblem(item.message, item.line, item.column))
            continue
        try:
            record = read_object(item, data.id, path, ns, offset)
        except (RecursionError, ValueError, TypeError, AttributeError) as exc:  # pragma: no cover
            data.problems.append(StreamProblem(f"cannot read this object ({exc.__class__.__name__})",
                                               item.node.line))
            continue
        if record is not None:
            data.add(record)
    if data.problems and data.kind == "file" and data.path:
        _helm_hint(data)


def _helm_hint(data: SourceData) -> None:
    """A chart template is not YAML until rendered: say so instead of
    reporting the syntax error it causes."""
    assert data.path is not None
    raw = read_bounded(data.path, 256 * 1024, head=True)
    if raw is None:
        return
    head = raw.decode("utf-8", "replace")
    if _HELM.search(head):
        for p in data.problems:
            if p.kind == "syntax":
                p.kind = "helm-template"


# -- the live cluster --------------------------------------------------------------------


def kube_timeout(ctx: Context) -> float:
    value = ctx.options.extra.get("kube_timeout")
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    raw = ctx.getenv("HARDOCTOR_KUBE_TIMEOUT")
    try:
        return float(raw) if raw else DEFAULT_KUBE_TIMEOUT
    except ValueError:
        return DEFAULT_KUBE_TIMEOUT


def kubectl_binary(ctx: Context) -> str | None:
    explicit = ctx.options.extra.get("kubectl") or ctx.getenv("HARDOCTOR_KUBECTL")
    if explicit:
        found = shutil.which(str(explicit), path=ctx.getenv("PATH"))
        return found or (str(explicit) if os.path.isfile(str(explicit)) else None)
    return shutil.which("kubectl", path=ctx.getenv("PATH"))


def scope_args(ctx: Context) -> list[str]:
    args: list[str] = []
    opts = kube_options(ctx)
    if opts.context:
        args += ["--context", opts.context]
    if opts.all_namespaces:
        args.append("--all-namespaces")
    elif opts.namespace:
        args += ["--namespace", opts.namespace]
    return args


def cluster_description(ctx: Context) -> str:
    where = f"context {kube_options(ctx).context}" if kube_options(ctx).context else "current context"
    if kube_options(ctx).all_namespaces:
        scope = "all namespaces"
    elif kube_options(ctx).namespace:
        scope = f"namespace {kube_options(ctx).namespace}"
    else:
        scope = "the context's namespace"
    return f"Kubernetes cluster via kubectl ({where}, {scope})"


def cluster_source(ctx: Context) -> Source:
    name = kube_options(ctx).context or "current-context"
    data = SourceData(f"k8s:cluster:{name}", "cluster", None, f"cluster {name}")
    data.context = kube_options(ctx).context
    return Source(id=data.id, ecosystem=ECO, kind="k8s", description=cluster_description(ctx),
                  payload=data)


def kube_env(ctx: Context) -> dict[str, str]:
    env = dict(ctx.env.environ)
    env.setdefault("HOME", ctx.home)
    return env


def load_cluster(ctx: Context, data: SourceData) -> None:
    """Read the cluster with ``kubectl get ... -o json``, streaming its
    output into the object reader.  Every failure is a problem on the
    source (a finding), never an exception."""
    if data.loaded:
        return
    data.loaded = True
    binary = kubectl_binary(ctx)
    if binary is None:
        data.problems.append(StreamProblem(
            "kubectl is not installed (or not on PATH): the cluster cannot be read", None,
            kind="kubectl", cause="helper-failure",
            detail="install kubectl, or pass --kubectl PATH"))
        return
    timeout = kube_timeout(ctx)
    argv = [binary, "get", ",".join(RESOURCES), "-o", "json",
            f"--request-timeout={max(1, int(timeout))}s", *scope_args(ctx)]
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=err, env=kube_env(ctx), cwd=ctx.project)
        except OSError as exc:
            data.problems.append(StreamProblem(
                f"kubectl cannot be started ({exc.strerror or exc})", None, kind="kubectl",
                cause="helper-failure"))
            return
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout + 5.0, kill)
        timer.start()
        try:
            assert proc.stdout is not None
            _read_stream(ctx, data, proc.stdout, False)
            # Whatever the parser left unread must not block kubectl.
            while proc.stdout.read(65536):
                pass
            rc = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        stderr = err.read(_MAX_STDERR).decode("utf-8", "replace")
    if timed_out.is_set():
        data.problems.append(StreamProblem(
            f"kubectl did not answer within {timeout:.0f} s", None, kind="kubectl", cause="timeout",
            detail="raise --kube-timeout, or check the cluster's reachability"))
        return
    if rc != 0 or _errors(stderr):
        _kubectl_problems(data, rc, stderr)
    # A parse problem in kubectl's own output means it printed no JSON at all.
    if rc != 0:
        data.problems[:] = [p for p in data.problems if p.kind == "kubectl"]


def _errors(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines()
            if line.strip().lower().startswith(("error", "unable to", "f0", "e0"))]


def _kubectl_problems(data: SourceData, rc: int, stderr: str) -> None:
    lines = _errors(stderr) or [line.strip() for line in stderr.splitlines() if line.strip()][-3:]
    text = " ".join(lines)
    low = text.lower()
    forbidden = re.findall(r'cannot list resource "([a-z]+)"', text)
    if forbidden or "forbidden" in low:
        what = ", ".join(dict.fromkeys(forbidden)) or "some resources"
        cause, message = "permission-denied", f"kubectl may not list {what} (RBAC forbids it)"
    elif "unauthorized" in low or "must be logged in" in low or "provide credentials" in low:
        cause, message = "token-invalid", "the cluster refuses the kubeconfig's credentials"
    elif "context was not found" in low or "no configuration has been provided" in low or \
            "invalid configuration" in low or "does not exist" in low and "context" in low:
        cause, message = "config-invalid", "the kubeconfig has no usable context"
    elif "timeout" in low or "deadline exceeded" in low or "timed out" in low:
        cause, message = "timeout", "the cluster did not answer in time"
    elif "doesn't have a resource type" in low:
        cause, message = "config-invalid", "the cluster does not serve every resource type asked for"
    elif "getting credentials" in low or "exec plugin" in low or "executable" in low:
        cause, message = "helper-failure", "the kubeconfig's credential plugin failed"
    else:
        cause, message = "connection-error", "kubectl could not read the cluster"
    detail = _clean(text)[:500]
    data.problems.append(StreamProblem(f"{message} (kubectl exit {rc})", None, kind="kubectl",
                                       cause=cause, detail=detail))


def _clean(text: str) -> str:
    from hardoctor import redact

    return redact.scrub(re.sub(r"\s+", " ", text).strip())
