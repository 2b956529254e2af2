"""docker-py, the Docker SDK for Python: which credential it sends.

Many Python tools pull and push through the SDK rather than the Docker CLI
(Ansible's ``community.docker``, docker-compose v1, deploy scripts), and
the SDK resolves credentials its own way (``docker/auth.py``,
``docker/utils/config.py``):

* the file is the first that *exists* of ``$DOCKER_CONFIG/config.json``,
  ``~/.docker/config.json`` and the legacy ``~/.dockercfg`` -- the CLI reads
  only the first and never the legacy file;
* ``DOCKER_AUTH_CONFIG`` is not read at all;
* a helper (``credHelpers``/``credsStore``) that says "not found" falls
  back to ``auths`` -- the CLI stops there;
* an ``auths`` entry without ``auth`` sends nothing (plaintext
  ``username``/``password`` fields are ignored), and ``docker.io``,
  ``index.docker.io`` and ``https://index.docker.io/v1/`` are one key.

Rather than re-implementing that, the SDK itself is asked: the same file
is loaded with ``docker.auth.AuthConfig.load_config`` and the registry
resolved with ``resolve_authconfig``.  Only the credential-helper call is
replaced by hardoctor's own runner (:mod:`.helpers`): the SDK's
``docker.credentials.Store`` runs the helper with no timeout and reads all
it prints, and a doctor must survive a helper that hangs on a keychain
prompt.  The SDK is imported on first use (it pulls in ``requests``; the
start-up of a run that has no Docker target must not pay for it).
"""

from __future__ import annotations

import copy
import json
import os
from typing import TYPE_CHECKING, Any

from hardoctor import lazyre
from hardoctor.context import Context
from hardoctor.files import read_file
from hardoctor.lazy import submodule
from hardoctor.model import ChainStep, Credential, Location, Resolution, Secret, Source, Target

from .creds import ask, entry_id, helper_id
from .hub import HUB
from .state import SOURCES

if TYPE_CHECKING:
    from . import helpers
else:  # the helper runner (subprocess) loads when a helper is asked
    helpers = submodule(__package__, "helpers")

CLIENT = "docker-py"
DISPLAY = "docker-py"
#: The project depends on the SDK (or a tool built on it).
_DEPENDS = lazyre.compile(
    r"""(?imx)^[\s"'-]*(?:docker(?:\[[^\]]*\])?|docker-compose|community\.docker)
        \s*(?:[<>=!~;,"'\]]|$)""")
_DEPENDENCY_FILES = ("requirements.txt", "requirements-dev.txt", "pyproject.toml", "setup.cfg",
                     "Pipfile", "requirements.yml", "collections/requirements.yml")


def config_path(ctx: Context) -> str | None:
    """``docker.utils.config.find_config_file()`` with this run's
    environment: the first candidate that exists."""
    candidates = []
    env_dir = ctx.getenv("DOCKER_CONFIG")
    if env_dir:
        candidates.append(os.path.join(ctx.env.expand_home(env_dir), "config.json"))
    candidates.append(os.path.join(ctx.home, ".docker", "config.json"))
    candidates.append(os.path.join(ctx.home, ".dockercfg"))
    return next((p for p in candidates if os.path.exists(p) and ctx.in_scope(p)), None)


def in_use(ctx: Context) -> str | None:
    """Why docker-py counts as used here (a project dependency), or None."""
    for name in _DEPENDENCY_FILES:
        data = read_file(ctx, os.path.join(ctx.project, name))
        if data is not None and data.text and _DEPENDS.search(data.text):
            return f"the project depends on the docker SDK ({name})"
    return None


def _registry(host: str) -> str:
    """The registry docker-py asks for: ``docker.auth.resolve_repository_name``
    gives ``docker.io`` (INDEX_NAME) for Docker Hub, else the host."""
    from docker import auth

    return str(auth.INDEX_NAME) if HUB.owns(host) else host


class _Asked:
    """What the helper said, for the chain (the SDK only sees the result)."""

    def __init__(self) -> None:
        self.helper: str | None = None
        self.server = ""
        self.answer: helpers.HelperAnswer | None = None


def _auth_config(ctx: Context, config: dict[str, Any], asked: _Asked) -> Any:
    """The SDK's ``AuthConfig`` for ``config``, with helpers run by
    hardoctor's runner (timeout, output cap) instead of the SDK's."""
    from docker import auth, errors

    class Config(auth.AuthConfig):  # type: ignore[misc]
        # The one part of the SDK replaced: its docker.credentials.Store runs
        # the helper with subprocess and no timeout and reads all it prints;
        # a helper waiting on a keychain prompt would hang the whole run.
        # hardoctor's runner (helpers.py) has a deadline and an output cap.
        def _resolve_authconfig_credstore(self, registry: str | None,
                                          credstore_name: str) -> dict[str, str] | None:
            if not registry or registry == auth.INDEX_NAME:
                registry = auth.INDEX_URL
            answer = ask(ctx, credstore_name, str(registry))
            asked.helper, asked.server, asked.answer = credstore_name, str(registry), answer
            if answer.status == "not-found":
                return None  # the SDK then looks in auths
            if answer.status != "ok" or answer.username is None or answer.secret is None:
                raise errors.DockerException(answer.detail or answer.status)
            out = {"ServerAddress": str(registry)}
            if answer.username == auth.TOKEN_USERNAME:
                out["IdentityToken"] = answer.secret
            else:
                out.update(Username=answer.username, Password=answer.secret)
            return out

    return Config.load_config(None, copy.deepcopy(config))


def resolve(ctx: Context, target: Target, creds: dict[str, Credential]) -> Resolution:
    path = config_path(ctx)
    res = Resolution(target=target, ecosystem="docker", client=CLIENT, credential=None,
                     registry=target.host, protocol="oci")
    if path is None:
        return _with(res, [ChainStep("docker-py config", "missing",
                                     "no $DOCKER_CONFIG/config.json, ~/.docker/config.json or "
                                     "~/.dockercfg")], None)
    shown = ctx.display_path(path)
    source = ctx.stash.get(SOURCES, {}).get(path)
    text = source.text if source is not None else _read(ctx, path)
    try:
        loaded = json.loads(text or "")
    except ValueError:
        loaded = None
    if not isinstance(loaded, dict) or not loaded:
        why = "not a JSON object docker-py can load" if loaded != {} else "holds no credentials"
        return _with(res, [ChainStep(f"docker-py config {shown}", "failed" if loaded != {} else
                                     "missing", f"{why}: docker-py sends no credentials",
                                     location=Location(path))], None)
    asked = _Asked()
    registry = _registry(target.host)
    try:
        found = _auth_config(ctx, loaded, asked).resolve_authconfig(registry)
    except Exception as exc:  # noqa: BLE001  (the SDK's own refusal is the answer)
        reason = _refusal(exc, asked)
        return _with(res, [ChainStep(f"docker-py config {shown}", "failed", reason,
                                     location=Location(path))], None)
    return _answer(ctx, res, path, source, loaded, registry, found, asked, creds)


def _read(ctx: Context, path: str) -> str | None:
    data = read_file(ctx, path)
    return data.text if data is not None else None


def _refusal(exc: Exception, asked: _Asked) -> str:
    """Why the SDK fails, in words that hold no value from the file."""
    name = type(exc).__name__
    if asked.answer is not None and asked.answer.status != "ok":
        return f"the credential helper failed ({asked.answer.detail}); docker-py raises {name}"
    return f"docker-py cannot load the file ({name}): every pull or push through the SDK fails"


def _answer(ctx: Context, res: Resolution, path: str, source: Source | None,
            loaded: dict[str, Any], registry: str, found: dict[str, Any] | None,
            asked: _Asked, creds: dict[str, Credential]) -> Resolution:
    from docker import auth

    steps: list[ChainStep] = []
    shown = ctx.display_path(path)
    if asked.helper is not None and asked.answer is not None:
        binary = helpers.binary_name(asked.helper)
        if asked.answer.status == "ok":
            cred = _helper_credential(ctx, path, source, loaded, asked, creds)
            steps.append(ChainStep(f"{binary} ({shown})", "used",
                                   f"the helper holds {asked.server}", cred.id))
            return _with(res, steps, cred)
        steps.append(ChainStep(f"{binary} ({shown})", "missing",
                               f"{asked.answer.detail}; docker-py falls back to auths "
                               "(the Docker CLI does not)"))
    if found is None:
        steps.append(ChainStep(f"auths ({shown})", "missing", f"no entry for {registry}"))
        return _with(res, steps, None)
    section = loaded.get("auths")
    auths: dict[str, Any] = section if isinstance(section, dict) else loaded
    key = registry if registry in auths else next(
        (k for k in auths if auth.resolve_index_name(k) == auth.resolve_index_name(registry)),
        registry)
    where = f'auths["{key}"] ({shown})'
    if not found:
        steps.append(ChainStep(where, "missing", "the entry has no `auth`: docker-py sends "
                               "nothing (it ignores username/password fields)"))
        return _with(res, steps, None)
    known = creds.get(entry_id(source, key)) if source is not None else None
    cred = known if known is not None else _ad_hoc(path, key, found)
    steps.append(ChainStep(where, "used", f"docker-py matches {registry} to {key}", cred.id))
    return _with(res, steps, cred)


def _helper_credential(ctx: Context, path: str, source: Source | None, loaded: dict[str, Any],
                       asked: _Asked, creds: dict[str, Credential]) -> Credential:
    answer = asked.answer
    assert answer is not None and asked.helper is not None
    helper_map = loaded.get("credHelpers")
    via = "credHelpers" if isinstance(helper_map, dict) and \
        helper_map.get(asked.server) == asked.helper else "credsStore"
    if source is not None:
        known = creds.get(helper_id(source, via, asked.server))
        if known is not None:
            return known
    return Credential(
        id=f"docker-py:{path}#{via}[{asked.server}]", ecosystem="docker",
        registry=asked.server, host=HUB.canonical(asked.server.split("://")[-1].split("/")[0]),
        source=f"docker:{path}", location=Location(path, key=via),
        username=answer.username,
        secret=Secret(answer.secret) if answer.secret is not None else None,
        scheme="identitytoken" if answer.username == "<token>" else "basic",
        via=f"{via} (docker-py)", clients=(CLIENT,),
    )


def _ad_hoc(path: str, key: str, found: dict[str, Any]) -> Credential:
    """A credential from a file the Docker CLI does not read (the legacy
    ``~/.dockercfg``, or ``~/.docker`` while ``DOCKER_CONFIG`` points
    elsewhere)."""
    token = found.get("IdentityToken")
    secret = token if isinstance(token, str) else found.get("password")
    return Credential(
        id=f"docker-py:{path}#auths[{key}]", ecosystem="docker", registry=key,
        host=HUB.canonical(key.split("://")[-1].split("/")[0]), source=f"docker:{path}",
        location=Location(path, key=f'auths["{key}"]'),
        username=None if token else found.get("username"),
        secret=Secret(secret) if isinstance(secret, str) else None,
        scheme="identitytoken" if token else "basic", via="auths (docker-py)",
        clients=(CLIENT,),
    )


def _with(res: Resolution, steps: list[ChainStep], cred: Credential | None) -> Resolution:
    from dataclasses import replace

    return replace(res, chain=tuple(steps), credential=cred)


def differs(cli: Resolution, sdk: Resolution) -> bool:
    """Whether docker-py sends something else than the Docker CLI."""
    def fp(r: Resolution) -> str | None:
        c = r.credential
        return None if c is None or c.secret is None else c.secret.fingerprint

    failed = any(s.outcome == "failed" for s in sdk.chain)
    return failed or fp(cli) != fp(sdk)
