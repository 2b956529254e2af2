"""``hardoctor setup ... --kube-secret NS/NAME``: the registry credential as
a Kubernetes pull secret.

A ``kubernetes.io/dockerconfigjson`` Secret with one ``auths`` entry for the
registry host (``username``, ``password`` and ``auth``, as ``kubectl create
secret docker-registry`` writes it), either

* written to the manifest file ``--manifests FILE`` (a new file, 0600, or a
  new document appended to an existing one), or
* applied to the cluster with ``kubectl apply --server-side`` (``--kube``;
  the Secret on stdin, never in argv),

and the person is told which workloads or ServiceAccount must reference it
(``imagePullSecrets``): a Secret nobody names pulls nothing.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
from typing import Any

from hardoctor import lazyre, redact
from hardoctor.context import Context
from hardoctor.errors import UsageError
from hardoctor.fixes import ABSENT, digest
from hardoctor.model import Applicability, Edit, ExternalAction, Fix, SetupPlan, SetupRequest
from hardoctor.setup import read_existing

from .options import kube_options

OPTION = "kube_secret"
_NAME = lazyre.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_OCI = frozenset({"docker", "oci", "helm-oci"})


def add_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("kubernetes pull secret")
    g.add_argument("--kube-secret", dest=OPTION, metavar="NS/NAME",
                   help="also make the Docker URL's credential a dockerconfigjson pull secret: "
                   "into --manifests FILE, or into the cluster with --kube")


def _ref(ctx: Context) -> tuple[str, str] | None:
    raw = (ctx.options.string(OPTION) or "").strip()
    if not raw:
        return None
    ns, _, name = raw.partition("/")
    if not name or not _NAME.match(ns) or not _NAME.match(name):
        raise UsageError(f"argument --kube-secret: expected NAMESPACE/NAME, got {raw!r}")
    return ns, name


def plan(request: SetupRequest, ctx: Context) -> SetupPlan | None:
    ref = _ref(ctx)
    if ref is None:
        return None
    if request.client is not None and request.client not in ("kubelet", "docker"):
        return None
    if request.client is None and request.package_type not in _OCI and not (
            request.package_type is None and "://" not in request.url):
        return None
    if not request.user:
        raise UsageError("--user NAME is required for a pull secret (the registry's login name)")
    opts = kube_options(ctx)
    files = [m for m in opts.manifests if m != "-"]
    if request.scope == "project" and not opts.kube:
        raise UsageError("--kube-secret with --scope project: a Secret manifest holds the token "
                         "itself (base64 is not encryption); apply it with --kube, or create it "
                         "in CI from the CI secret (kubectl create secret docker-registry)")
    if not opts.kube and len(files) != 1:
        raise UsageError("--kube-secret needs --manifests FILE (one file to write the Secret to) "
                         "or --kube (apply it to the cluster)")
    host = request.url.strip().split("://", 1)[-1].split("/", 1)[0].lower()
    ns, name = ref
    manifest = _manifest(ns, name, host, request.user, request.secret.reveal())
    notes = (f"reference the Secret where pods in {ns} pull from {host}: add "
             f"`imagePullSecrets: [{{name: {name}}}]` to each workload's pod spec, or once to "
             f"the ServiceAccount they run as: kubectl patch serviceaccount default -n {ns} "
             f"-p '{{\"imagePullSecrets\":[{{\"name\":\"{name}\"}}]}}'",)
    # The file is read back by `check --manifests FILE` (kubelet's resolution);
    # a live Secret is shown as not checked on its own.
    common: dict[str, Any] = {"client": "kubelet", "registry": host, "notes": notes,
                              "check_target": "" if opts.kube else request.url.strip(),
                              "username": request.user}
    if opts.kube:
        return _live_plan(ctx, ns, name, manifest, common)
    path = os.path.abspath(os.path.join(ctx.env.cwd, os.path.expanduser(files[0])))
    if os.path.isdir(path):
        raise UsageError(f"--manifests {files[0]}: a directory; name the file to write the "
                         "Secret to")
    edit = _file_edit(ctx, path, ns, name, manifest)
    fix = Fix(f"pull secret {ns}/{name}", Applicability.SAFE, (edit,)) if edit else None
    return SetupPlan(description=f"Secret {ns}/{name} (kubernetes.io/dockerconfigjson) in "
                     f"{ctx.display_path(path)} (0600)", fix=fix, **common)


def _manifest(ns: str, name: str, host: str, user: str, token: str) -> str:
    auth = base64.b64encode(f"{user}:{token}".encode()).decode()
    config = json.dumps({"auths": {host: {"username": user, "password": token, "auth": auth}}},
                        separators=(",", ":"))
    data = base64.b64encode(config.encode()).decode()
    for form in (auth, data):
        redact.register(form)
    return ("apiVersion: v1\nkind: Secret\nmetadata:\n"
            f"  name: {name}\n  namespace: {ns}\n"
            "type: kubernetes.io/dockerconfigjson\n"
            f"data:\n  .dockerconfigjson: {data}\n")


def _file_edit(ctx: Context, path: str, ns: str, name: str, manifest: str) -> Edit | None:
    text = read_existing(ctx, path)
    if text is None:
        return Edit(path, 0, 0, manifest, expected=ABSENT, mode=0o600)
    if manifest in text:
        mode = os.stat(path).st_mode & 0o777
        return None if mode == 0o600 else Edit(path, 0, 0, "", expected=digest(text), mode=0o600)
    if re.search(rf"(?m)^\s*name:\s*[\"']?{re.escape(name)}[\"']?\s*$", text) and \
            re.search(r"(?m)^kind:\s*Secret\s*$", text):
        raise UsageError(f"{ctx.display_path(path)} already has a Secret named {name}: put the "
                         "new token in it with `hardoctor fix --token-stdin --manifests FILE`")
    sep = "" if text.endswith("\n") else "\n"
    return Edit(path, len(text), len(text), f"{sep}---\n{manifest}", expected=digest(text),
                mode=0o600)


def _live_plan(ctx: Context, ns: str, name: str, manifest: str,
               common: dict[str, Any]) -> SetupPlan:
    from .sources import kube_env, kube_timeout, kubectl_binary

    binary = kubectl_binary(ctx)
    if binary is None:
        raise UsageError("--kube: kubectl is not installed (or not on PATH; --kubectl PATH)")
    desc = f"Secret {ns}/{name} (kubernetes.io/dockerconfigjson) in the cluster"
    if _live_matches(ctx, binary, ns, name, manifest):
        return SetupPlan(description=desc, **common)

    def run() -> str | None:
        argv = [binary, "apply", "--server-side", "--force-conflicts",
                "--field-manager=hardoctor", f"--request-timeout={max(1, int(kube_timeout(ctx)))}s"]
        context = kube_options(ctx).context
        if context:
            argv += ["--context", context]
        argv += ["--namespace", ns, "-f", "-"]
        try:
            proc = subprocess.run(argv, input=manifest, text=True, capture_output=True,
                                  env=kube_env(ctx), timeout=kube_timeout(ctx) + 5, check=False)
        except subprocess.TimeoutExpired:
            return "kubectl apply did not finish in time"
        except OSError as exc:
            return f"kubectl cannot be started ({exc.strerror or exc.__class__.__name__})"
        if proc.returncode == 0:
            return None
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        return redact.scrub(f"kubectl apply failed (exit {proc.returncode})"
                            + (f": {lines[-1][:300]}" if lines else ""))

    action = ExternalAction(f"kubectl apply --server-side -f - (Secret {ns}/{name})", run)
    return SetupPlan(description=desc, actions=(action,), **common)


def _live_matches(ctx: Context, binary: str, ns: str, name: str, manifest: str) -> bool:
    """Does the cluster already hold exactly this Secret?"""
    from .sources import kube_env, kube_timeout

    argv = [binary, "get", "secret", name, "--namespace", ns, "-o", "json",
            f"--request-timeout={max(1, int(kube_timeout(ctx)))}s"]
    context = kube_options(ctx).context
    if context:
        argv[1:1] = ["--context", context]
    try:
        proc = subprocess.run(argv, text=True, capture_output=True, env=kube_env(ctx),
                              timeout=kube_timeout(ctx) + 5, check=False)
        obj = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (subprocess.TimeoutExpired, OSError, ValueError):
        return False
    if not isinstance(obj, dict):
        return False
    data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
    want = manifest.rsplit(".dockerconfigjson: ", 1)[1].strip()
    if isinstance(data, dict) and isinstance(data.get(".dockerconfigjson"), str):
        redact.register(data[".dockerconfigjson"])
    return bool(obj.get("type") == "kubernetes.io/dockerconfigjson" and isinstance(data, dict)
                and data.get(".dockerconfigjson") == want)
