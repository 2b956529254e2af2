"""``hardoctor setup`` for Docker-format clients (Docker CLI, podman,
skopeo, buildah, Helm).

Where the token goes, safest first, the way ``docker login`` would put it:

* the credential helper the config names for the registry
  (``credHelpers[HOST]``, else ``credsStore``), through its ``store``;
* otherwise ``auths[KEY].auth`` (base64 ``user:token``) in
  ``$DOCKER_CONFIG/config.json`` (0600), under exactly the key the CLI
  looks up (the bare ``host[:port]``; Docker Hub's legacy URL).  podman,
  skopeo, buildah and Helm fall back to that file; a containers
  ``auth.json`` that already holds an entry for the registry (which they
  would read first) is updated too.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import replace
from typing import Any

from hardoctor import redact
from hardoctor.context import Context
from hardoctor.errors import UsageError
from hardoctor.fixes import ABSENT, digest
from hardoctor.model import (
    Applicability,
    Edit,
    ExternalAction,
    Fix,
    SetupPlan,
    SetupRequest,
)
from hardoctor.setup import read_existing

from . import config, helpers
from .creds import helper_env

CLIENTS = frozenset({"docker", "podman", "skopeo", "buildah", "helm"})
PACKAGE_TYPES = frozenset({"docker", "oci", "helm-oci"})


def wants(request: SetupRequest) -> bool:
    if request.client is not None:
        return request.client in CLIENTS
    if request.package_type is None:
        # No vendor owns it: a registry written without a scheme
        # (HOST[/PATH]) is an image registry; package indexes are URLs.
        return "://" not in request.url
    return request.package_type in PACKAGE_TYPES


def _split(url: str) -> tuple[str, str]:
    """(host[:port], path) of ``HOST/PATH``, ``https://HOST/PATH`` or a
    ``/v2/`` URL."""
    rest = url.strip().split("://", 1)[-1]
    host, _, path = rest.partition("/")
    path = path.strip("/")
    if path in ("v1", "v2") or path.startswith(("v1/", "v2/")):
        path = path[3:]
    return host.lower(), path


def plan(request: SetupRequest, ctx: Context) -> SetupPlan | None:
    if not wants(request):
        return None
    host, path = _split(request.url)
    if not host or not config.key_host(host):
        raise UsageError(f"{request.url}: expected a registry as HOST[/PATH]")
    if not request.user:
        raise UsageError("--user NAME is required for Docker: it logs in with a user name and "
                         "the token as the password (the registry's set-up page names the user)")
    key = config.canonical_key(host)
    repo = f"{host}/{path}" if path else host
    target = repo if path and _registry_root(ctx, repo, path) else host
    common: dict[str, Any] = {
        "client": "docker", "registry": repo, "check_target": target,
        "username": request.user, "scheme": "basic",
        "pull": (f"docker pull {repo}/IMAGE:TAG",),
        "push": (f"docker tag IMAGE:TAG {repo}/IMAGE:TAG", f"docker push {repo}/IMAGE:TAG"),
    }
    if request.scope == "project":
        var = request.env_var or "REGISTRY_TOKEN"
        common["check_target"] = ""  # nothing of the project's to check
        return SetupPlan(
            description="nothing written: Docker keeps credentials per user, not per project",
            notes=(f"in CI, store the token as the secret {var} and log in first: "
                   f"printf '%s' \"${var}\" | docker login {host} -u {request.user} "
                   "--password-stdin",),
            **common)
    cfg_dir, _ = config.docker_config_dir(ctx)
    path_cfg = os.path.join(cfg_dir, "config.json")
    text, doc = _read_json(ctx, path_cfg)
    helper = _helper_for(doc, key)
    secret = request.secret.reveal()
    if helper is not None:
        plan = _helper_plan(ctx, helper, key, request.user, secret, common)
        edit = _cred_helpers_edit(path_cfg, text, doc, key, helper)
        if edit is None:
            return plan
        # podman, skopeo and buildah ignore credsStore but read credHelpers
        # from the same file: name the helper for this registry too.
        also = Fix(f"use {helper} for {key} in every client", Applicability.SAFE, (edit,))
        return replace(plan, fix=also, description=plan.description + f"; credHelpers[\"{key}\"] "
                       f"in {ctx.display_path(path_cfg)}, which podman and skopeo read")
    auth = base64.b64encode(f"{request.user}:{secret}".encode()).decode()
    redact.register(auth)
    edits = [e for e in (_auths_edit(path_cfg, text, doc, key, auth),) if e is not None]
    for other in _containers_files(ctx, path_cfg):
        o_text, o_doc = _read_json(ctx, other)
        o_key = _containers_key_for(o_doc, host)
        if o_key is not None:
            edit = _auths_edit(other, o_text, o_doc, o_key, auth)
            if edit is not None:
                edits.append(edit)
    shown = ctx.display_path(path_cfg)
    desc = (f"auths[\"{key}\"] in {shown} (0600), the key `docker login` writes; podman, skopeo, "
            "buildah and Helm read it too")
    fix = Fix(f"store the token for {key}", Applicability.SAFE, tuple(edits)) if edits else None
    notes = ("DOCKER_AUTH_CONFIG is set in the environment and wins over config.json for the "
             "clients that read it: unset it, or put this registry in it",
             ) if ctx.getenv("DOCKER_AUTH_CONFIG") else ()
    return SetupPlan(description=desc, fix=fix, notes=notes, **common)


def _registry_root(ctx: Context, repo: str, path: str) -> bool:
    """Is ``HOST/PATH`` exactly a registry its vendor knows (the set-up
    page's ``HOST/ACCOUNT/REGISTRY``)?  Then `check` takes it as written;
    anything else is checked at the host, as `docker login` checks."""
    info = ctx.registry_info(repo, "docker")
    if info is None or info.problems or not info.account or not info.registry:
        return False
    return path.lower() == f"{info.account}/{info.registry}".lower()


def _read_json(ctx: Context, path: str) -> tuple[str | None, dict[str, Any]]:
    text = read_existing(ctx, path)
    if text is None:
        return None, {}
    try:
        doc = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        line = getattr(exc, "lineno", "?")
        raise UsageError(f"{ctx.display_path(path)}:{line}: not valid JSON; fix it first "
                         "(`hardoctor check` shows where)") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{ctx.display_path(path)}: not a JSON object; fix it first")
    return text, doc


def _helper_for(doc: dict[str, Any], key: str) -> str | None:
    helpers_map = doc.get("credHelpers")
    if isinstance(helpers_map, dict):
        for k, v in helpers_map.items():
            if isinstance(v, str) and v and config.key_host(k) == config.key_host(key):
                return v
    store = doc.get("credsStore")
    return store if isinstance(store, str) and store else None


def _cred_helpers_edit(path: str, text: str | None, doc: dict[str, Any], key: str,
                       helper: str) -> Edit | None:
    helpers_map = doc.get("credHelpers")
    if text is None or (isinstance(helpers_map, dict) and helpers_map.get(key) == helper):
        return None
    new_doc = dict(doc)
    new_doc["credHelpers"] = {**(helpers_map if isinstance(helpers_map, dict) else {}), key: helper}
    return Edit(path, 0, len(text), json.dumps(new_doc, indent="\t") + "\n", expected=digest(text))


def _helper_plan(ctx: Context, helper: str, key: str, user: str, secret: str,
                 common: dict[str, Any]) -> SetupPlan:
    env = helper_env(ctx)
    binary = helpers.binary_name(helper)
    if helpers.find_helper(helper, env.get("PATH")) is None:
        raise UsageError(f"the Docker config uses the credential helper {binary}, which is not on "
                         "PATH: install it, or remove it from the config, then run setup again")
    have = helpers.helper_get(helper, key, env)
    if have.secret:
        redact.register(have.secret)
    desc = f"stored in {binary} (the credential helper the Docker config names for {key})"
    if have.status == "ok" and have.username == user and have.secret == secret:
        return SetupPlan(description=desc, **common)

    def run() -> str | None:
        return helpers.helper_store(helper, key, user, secret, env)

    action = ExternalAction(f"{binary} store {key} (user {user})", run)
    return SetupPlan(description=desc, actions=(action,), **common)


def _auths_edit(path: str, text: str | None, doc: dict[str, Any], key: str,
                auth: str) -> Edit | None:
    auths = doc.get("auths")
    entry = auths.get(key) if isinstance(auths, dict) else None
    mode = _mode(path)
    if isinstance(entry, dict) and entry == {"auth": auth} and mode == 0o600:
        return None
    new_doc = dict(doc)
    new_auths = dict(auths) if isinstance(auths, dict) else {}
    # identitytoken / registrytoken would win over auth: the entry is replaced whole.
    new_auths[key] = {"auth": auth}
    new_doc["auths"] = new_auths
    new_text = json.dumps(new_doc, indent="\t") + "\n"
    if text is None:
        return Edit(path, 0, 0, new_text, expected=ABSENT, mode=0o600)
    return Edit(path, 0, len(text), new_text, expected=digest(text), mode=0o600)


def _mode(path: str) -> int | None:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return None


def _containers_files(ctx: Context, docker_cfg: str) -> list[str]:
    """The containers auth files podman and skopeo read before the Docker
    config (only existing ones)."""
    out = []
    for path in config.containers_chain(ctx):
        if os.path.realpath(path) == os.path.realpath(docker_cfg):
            break
        if os.path.isfile(path):
            out.append(path)
    return out


def _containers_key_for(doc: dict[str, Any], host: str) -> str | None:
    auths = doc.get("auths")
    if not isinstance(auths, dict):
        return None
    for key in auths:
        if isinstance(key, str) and config.containers_key(key).split("/", 1)[0] == host:
            return key
    return None
