"""A Kubernetes API emulator that real ``kubectl`` talks to.

A threaded ``http.server`` on 127.0.0.1 over TLS with a self-signed
certificate for 127.0.0.1 (kubectl never sends a bearer token over plain
http: it must be https) answering what ``kubectl get ... -o json`` and
``kubectl apply --server-side`` ask for:

* discovery: ``/api``, ``/apis``, ``/api/v1``, ``/apis/{group}/{version}``,
  ``/version``; the aggregated-discovery ``Accept`` header is answered with
  the legacy documents (``application/json``), and kubectl falls back to them;
  ``/openapi/v2`` and ``/openapi/v3`` answer 404 (kubectl then skips
  client-side schema validation);
* ``GET`` lists (cluster-wide and per namespace, with ``limit``/``continue``
  chunking) and single objects of Secrets, ServiceAccounts, Pods,
  Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs;
* ``PATCH`` with ``application/apply-patch+yaml`` (server-side apply): the
  object is created or its ``type``/``data``/``stringData`` replaced --
  ``stringData`` is folded into ``data`` (base64) as the API server does, a
  Secret's ``type`` is immutable (422), and a ``kubernetes.io/dockerconfigjson``
  Secret must hold valid JSON under ``.dockerconfigjson`` (422), like the real
  validation.

Authentication: ``Authorization: Bearer TOKEN`` must equal :attr:`token`
(else 401 Status).  :attr:`forbidden` holds resource names whose list/get
answer 403 (RBAC), :attr:`delay` slows every answer down (timeouts).
Every request is recorded.  :meth:`write_kubeconfig` writes a kubeconfig
with a context for this server (its CA inline).
"""

from __future__ import annotations

import base64
import datetime as _dt
import ipaddress
import json
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from .util import LOOPBACK


@dataclass(frozen=True)
class Resource:
    name: str
    kind: str
    group: str
    version: str
    short: tuple[str, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


RESOURCES: tuple[Resource, ...] = (
    Resource("secrets", "Secret", "", "v1"),
    Resource("serviceaccounts", "ServiceAccount", "", "v1", ("sa",)),
    Resource("pods", "Pod", "", "v1", ("po",)),
    Resource("namespaces", "Namespace", "", "v1", ("ns",)),
    Resource("deployments", "Deployment", "apps", "v1", ("deploy",)),
    Resource("statefulsets", "StatefulSet", "apps", "v1", ("sts",)),
    Resource("daemonsets", "DaemonSet", "apps", "v1", ("ds",)),
    Resource("replicasets", "ReplicaSet", "apps", "v1", ("rs",)),
    Resource("jobs", "Job", "batch", "v1"),
    Resource("cronjobs", "CronJob", "batch", "v1", ("cj",)),
)
BY_KIND = {r.kind: r for r in RESOURCES}
CLUSTER_SCOPED = {"namespaces"}


@dataclass
class KubeRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str = ""
    status: int = 0


def rfc3339(dt: datetime | None = None) -> str:
    dt = dt or datetime.now(timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class KubeApi:
    token: str = field(default_factory=lambda: "kube-" + uuid.uuid4().hex)
    #: Resource names whose reads answer 403.
    forbidden: set[str] = field(default_factory=set)
    #: Seconds to sleep before every answer.
    delay: float = 0.0
    #: Objects per list page when kubectl asks with ``limit`` (0: its limit).
    page_size: int = 0
    requests: list[KubeRequest] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        # (resource, namespace, name) -> object
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._rv = 100
        self.ca_pem = b""

    # -- content -------------------------------------------------------------------

    def add(self, obj: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
        """Store ``obj`` as the API server would: namespace, uid,
        resourceVersion, creationTimestamp (kept when given), stringData
        folded into base64 data."""
        res = BY_KIND[obj["kind"]]
        obj = json.loads(json.dumps(obj))  # a deep copy, and YAML dates become text
        meta = obj.setdefault("metadata", {})
        if res.name not in CLUSTER_SCOPED:
            meta.setdefault("namespace", namespace)
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", rfc3339())
        with self._lock:
            self._rv += 1
            meta["resourceVersion"] = str(self._rv)
        obj.setdefault("apiVersion", res.group_version)
        if res.kind == "Secret":
            _fold_string_data(obj)
            obj.setdefault("type", "Opaque")
        key = (res.name, meta.get("namespace", ""), meta["name"])
        with self._lock:
            self.objects[key] = obj
        return obj

    def load_yaml(self, text: str, namespace: str = "default") -> None:
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict) and doc.get("kind") in BY_KIND:
                self.add(doc, namespace)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self.objects.get((BY_KIND[kind].name, namespace, name))

    def received(self, method: str | None = None, path_part: str = "") -> list[KubeRequest]:
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r.method == method) and path_part in r.path]

    # -- life ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("KubeApi not started")
        return f"https://{LOOPBACK}:{self.port}"

    def start(self) -> KubeApi:
        if self._httpd is not None:
            return self
        cert_pem, key_pem = _self_signed()
        self.ca_pem = cert_pem
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "c.pem").write_bytes(cert_pem)
            (Path(tmp) / "k.pem").write_bytes(key_pem)
            context.load_cert_chain(Path(tmp) / "c.pem", Path(tmp) / "k.pem")
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), _make_handler(self))
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"kube-api-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> KubeApi:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def write_kubeconfig(self, path: str | Path, *, context: str = "emu",
                         namespace: str = "default", token: str | None = None) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "emu", "cluster": {
                "server": self.url,
                "certificate-authority-data": base64.b64encode(self.ca_pem).decode()}}],
            "users": [{"name": "emu-user", "user": {"token": token or self.token}}],
            "contexts": [{"name": context, "context": {"cluster": "emu", "user": "emu-user",
                                                       "namespace": namespace}}],
            "current-context": context,
        }
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path

    # -- answers -----------------------------------------------------------------------

    def _record(self, rec: KubeRequest) -> None:
        with self._lock:
            self.requests.append(rec)

    def answer(self, rec: KubeRequest) -> tuple[int, dict[str, Any]]:
        auth = rec.headers.get("authorization", "")
        if auth != f"Bearer {self.token}":
            return 401, _status(401, "Unauthorized", "Unauthorized")
        path = rec.path.rstrip("/") or "/"
        if path == "/version":
            return 200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-hdemu",
                         "platform": "linux/amd64"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": [
                             {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{LOOPBACK}:{self.port}"}]}
        if path == "/apis":
            groups = []
            for g in ("apps", "batch"):
                gv = {"groupVersion": f"{g}/v1", "version": "v1"}
                groups.append({"name": g, "versions": [gv], "preferredVersion": gv})
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        if path == "/openapi/v3":
            return 200, {"paths": {
                p: {"serverRelativeURL": f"/openapi/v3/{p}?hash=hd{self.port}"}
                for p in ("api/v1", "apis/apps/v1", "apis/batch/v1")}}
        if path.startswith("/openapi/v3/"):
            return 200, _openapi_v3(path.removeprefix("/openapi/v3/"))
        if path.startswith("/openapi"):
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        if path in ("/api/v1", "/apis/apps/v1", "/apis/batch/v1"):
            group_version = path.removeprefix("/api/").removeprefix("/apis/")
            return 200, {"kind": "APIResourceList", "apiVersion": "v1",
                         "groupVersion": group_version,
                         "resources": [_resource_doc(r) for r in RESOURCES
                                       if r.group_version == group_version]}
        parsed = _parse_path(path)
        if parsed is None:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        res, namespace, name = parsed
        if res.name in self.forbidden:
            verb = "list" if name is None else ("get" if rec.method == "GET" else "patch")
            where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
            return 403, _status(
                403, "Forbidden",
                f'{res.name} is forbidden: User "hd-test" cannot {verb} resource "{res.name}" in '
                f'API group "{res.group}"{where}', {"kind": res.name})
        if rec.method == "GET" and name is None:
            return 200, self._list(res, namespace, rec.query)
        if rec.method == "GET":
            obj = self.objects.get((res.name, namespace or "", name or ""))
            if obj is None:
                return 404, _status(404, "NotFound", f'{res.name} "{name}" not found',
                                    {"name": name, "kind": res.name})
            return 200, obj
        if rec.method == "PATCH" and name is not None:
            return self._apply(res, namespace or "default", name, rec)
        return 405, _status(405, "MethodNotAllowed", "the server does not allow this method")

    def _list(self, res: Resource, namespace: str | None,
              query: dict[str, list[str]]) -> dict[str, Any]:
        with self._lock:
            items = [o for (r, ns, _), o in sorted(self.objects.items())
                     if r == res.name and (namespace is None or ns == namespace)]
        limit = int((query.get("limit") or ["0"])[0] or 0)
        if self.page_size:
            limit = min(limit, self.page_size) if limit else self.page_size
        start = int((query.get("continue") or ["0"])[0] or 0)
        meta: dict[str, Any] = {"resourceVersion": str(self._rv)}
        if limit and start + limit < len(items):
            meta["continue"] = str(start + limit)
            page = items[start:start + limit]
        else:
            page = items[start:]
        return {"kind": f"{res.kind}List", "apiVersion": res.group_version, "metadata": meta,
                "items": page}

    def _apply(self, res: Resource, namespace: str, name: str,
               rec: KubeRequest) -> tuple[int, dict[str, Any]]:
        try:
            body = yaml.safe_load(rec.body)
        except yaml.YAMLError as exc:
            return 400, _status(400, "BadRequest", f"bad apply body: {exc}")
        if not isinstance(body, dict) or body.get("kind") != res.kind:
            return 400, _status(400, "BadRequest", "the body is not a " + res.kind)
        body.setdefault("metadata", {})["namespace"] = namespace
        if res.kind == "Secret":
            _fold_string_data(body)
            body.setdefault("type", "Opaque")
            problem = _validate_secret(body)
            if problem:
                return 422, _status(422, "Invalid", f'Secret "{name}" is invalid: {problem}')
        old = self.objects.get((res.name, namespace, name))
        if old is not None:
            if res.kind == "Secret" and old.get("type") != body.get("type"):
                return 422, _status(422, "Invalid", f'Secret "{name}" is invalid: type: Invalid '
                                    "value: field is immutable")
            merged = json.loads(json.dumps(old))
            for key in ("type", "data", "spec"):
                if key in body:
                    merged[key] = body[key]
            merged["metadata"].setdefault("managedFields", []).append(
                {"manager": "hardoctor", "operation": "Apply", "time": rfc3339()})
            with self._lock:
                self._rv += 1
                merged["metadata"]["resourceVersion"] = str(self._rv)
                self.objects[(res.name, namespace, name)] = merged
            return 200, merged
        return 201, self.add(body, namespace)


def _self_signed() -> tuple[bytes, bytes]:
    """A throw-away certificate (and key) for 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hardoctor-kube-emulator")])
    now = _dt.datetime.now(_dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(days=1))
        .not_valid_after(now + _dt.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(LOOPBACK)), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def _fold_string_data(obj: dict[str, Any]) -> None:
    string_data = obj.pop("stringData", None) or {}
    data = obj.setdefault("data", {}) or {}
    obj["data"] = data
    for k, v in string_data.items():
        data[k] = base64.b64encode(str(v).encode()).decode()


def _validate_secret(obj: dict[str, Any]) -> str | None:
    kind = obj.get("type")
    need = {"kubernetes.io/dockerconfigjson": ".dockerconfigjson",
            "kubernetes.io/dockercfg": ".dockercfg"}.get(str(kind))
    if need is None:
        return None
    raw = (obj.get("data") or {}).get(need)
    if raw is None:
        return f"data[{need}]: Required value"
    try:
        json.loads(base64.b64decode(raw, validate=True))
    except ValueError as exc:
        return f"data[{need}]: Invalid value: \"<secret contents redacted>\": {exc}"
    return None


def _openapi_v3(gv_path: str) -> dict[str, Any]:
    """Just enough OpenAPI v3 for kubectl to see that PATCH takes
    ``fieldValidation``: it then lets the server validate (server-side)."""
    prefix = "/" + gv_path
    group, version = (gv_path.split("/")[1:3] if gv_path.startswith("apis/")
                      else ("", gv_path.split("/")[-1]))
    paths: dict[str, Any] = {}
    for r in RESOURCES:
        if r.group != group or r.version != version:
            continue
        gvk = {"group": group, "version": version, "kind": r.kind}
        op = {"parameters": [{"name": "fieldValidation", "in": "query",
                              "schema": {"type": "string"}}],
              "x-kubernetes-group-version-kind": gvk,
              "responses": {"200": {"description": "OK"}}}
        scope = "" if r.name in CLUSTER_SCOPED else "/namespaces/{namespace}"
        paths[f"{prefix}{scope}/{r.name}/{{name}}"] = {"patch": op, "put": op}
        paths[f"{prefix}{scope}/{r.name}"] = {"post": op}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths, "components": {"schemas": {}}}


def _status(code: int, reason: str, message: str,
            details: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                           "status": "Failure", "message": message, "reason": reason, "code": code}
    if details:
        out["details"] = details
    return out


def _resource_doc(r: Resource) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": r.name, "singularName": r.kind.lower(), "namespaced": r.name not in CLUSTER_SCOPED,
        "kind": r.kind,
        "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
    }
    if r.short:
        doc["shortNames"] = list(r.short)
    return doc


def _parse_path(path: str) -> tuple[Resource, str | None, str | None] | None:
    """(resource, namespace or None, name or None) of an object URL."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, rest = parts[1], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return None
    res = next((r for r in RESOURCES if r.name == rest[0] and r.group == group), None)
    if res is None:
        return None
    name = rest[1] if len(rest) > 1 else None
    return res, namespace, name


def _make_handler(api: KubeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            rec = KubeRequest(self.command, parts.path, parse_qs(parts.query),
                              {k.lower(): v for k, v in self.headers.items()}, body)
            if api.delay:
                time.sleep(api.delay)
            try:
                status, payload = api.answer(rec)
            except Exception as exc:  # an emulator bug must not hang kubectl
                status, payload = 500, _status(500, "InternalError", repr(exc))
            rec.status = status
            api._record(rec)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = _handle
        do_PATCH = _handle
        do_POST = _handle
        do_PUT = _handle
        do_DELETE = _handle

    return Handler
