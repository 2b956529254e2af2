"""Which Google or Azure identity a credential helper would find, read from
the local CLI configuration only (no network; no token is kept):

* gcloud (``docker-credential-gcloud``): ``CLOUDSDK_CONFIG`` (else
  ``~/.config/gcloud``), the active configuration
  (``CLOUDSDK_ACTIVE_CONFIG_NAME``, else the ``active_config`` file, else
  ``default``) and its ``[core] account``; ``docker-credential-gcr`` and
  the client libraries use Application Default Credentials
  (``GOOGLE_APPLICATION_CREDENTIALS``, else
  ``application_default_credentials.json``);
* Azure: the ``az`` CLI's ``AZURE_CONFIG_DIR`` (else ``~/.azure``)
  ``azureProfile.json`` subscriptions; the ``acr-env`` helper's
  ``AZURE_CLIENT_ID``/``AZURE_TENANT_ID`` (+ secret or federated token).

docs/vendors/google-artifact-registry.md, docs/vendors/azure-acr.md.
"""

from __future__ import annotations

import configparser
import json
import os
from typing import TYPE_CHECKING

from hardoctor.files import read_file
from hardoctor.records import dataclass

if TYPE_CHECKING:
    from hardoctor.context import Context


@dataclass(frozen=True)
class CloudState:
    #: ``missing-config``, ``no-account``, ``no-adc``, ``adc-missing``,
    #: ``no-login``, ``no-env`` or ``ok``.
    mode: str
    detail: str


def _text(ctx: Context, path: str) -> str | None:
    data = read_file(ctx, path, max_bytes=256 * 1024)
    return data.text if data is not None and not data.error else None


def gcloud_state(ctx: Context, adc: bool) -> CloudState:
    base = ctx.getenv("CLOUDSDK_CONFIG") or os.path.join(ctx.home or "", ".config", "gcloud")
    if adc:
        named = ctx.getenv("GOOGLE_APPLICATION_CREDENTIALS")
        if named:
            if _text(ctx, named) is None:
                return CloudState("adc-missing", f"GOOGLE_APPLICATION_CREDENTIALS={named} "
                                  "names no readable file")
            return CloudState("ok", f"GOOGLE_APPLICATION_CREDENTIALS={named}")
        if _text(ctx, os.path.join(base, "application_default_credentials.json")) is None:
            return CloudState("no-adc", "no Application Default Credentials")
        return CloudState("ok", "Application Default Credentials")
    name = ctx.getenv("CLOUDSDK_ACTIVE_CONFIG_NAME") or (
        (_text(ctx, os.path.join(base, "active_config")) or "").strip() or "default")
    text = _text(ctx, os.path.join(base, "configurations", f"config_{name}"))
    if text is None:
        if name != "default":
            return CloudState("missing-config", f"gcloud configuration {name!r} does not exist")
        return CloudState("no-account", "gcloud has no configuration (never logged in)")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return CloudState("no-account", f"gcloud configuration {name!r} cannot be read")
    account = parser.get("core", "account", fallback="").strip()
    if not account:
        return CloudState("no-account", f"gcloud configuration {name!r} has no account")
    return CloudState("ok", f"gcloud account {account} (configuration {name})")


def azure_state(ctx: Context, helper_env: bool) -> CloudState:
    if helper_env:
        missing = [v for v in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID") if not ctx.getenv(v)]
        if not ctx.getenv("AZURE_CLIENT_SECRET") and not ctx.getenv("AZURE_FEDERATED_TOKEN_FILE"):
            missing.append("AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE)")
        if missing:
            return CloudState("no-env", "not set: " + ", ".join(missing))
        return CloudState("ok", "a service principal from the environment")
    base = ctx.getenv("AZURE_CONFIG_DIR") or os.path.join(ctx.home or "", ".azure")
    text = _text(ctx, os.path.join(base, "azureProfile.json"))
    try:
        subs = json.loads((text or "{}").lstrip("\ufeff")).get("subscriptions") or []
    except (ValueError, AttributeError):
        subs = []
    if not subs:
        return CloudState("no-login", "the Azure CLI is not logged in (no subscriptions in "
                          "azureProfile.json)")
    return CloudState("ok", "the Azure CLI is logged in")
