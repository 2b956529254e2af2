"""Harness's own words for ``hardoctor setup`` on a HAR registry
(``hardoctor_setup_notes``): what the Set up client page tells a person
beyond the commands -- where tokens come from and how long they live, the
user name, and the 403 story for pipelines run by a service principal
(``docs/vendors/harness.md``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .remediation import OLD_TOKENS_STEP, regenerate_step
from .urls import parse_har_url
from .vendor import har_host_of

if TYPE_CHECKING:
    from hardoctor.context import Context


def setup_notes(url: str, package_type: str | None, ctx: Context) -> list[str] | None:
    if har_host_of(url, ctx) is None:
        return None
    har = parse_har_url(url)
    registry = har.registry if har is not None and har.layout in ("pkg", "oci") else None
    reg = f"registry {registry}" if registry else "the registry"
    return [
        "Harness Artifact Registry takes the token as the password; the user name is your "
        "Harness login e-mail (a service account token: the service account's e-mail).",
        regenerate_step(registry) + " " + OLD_TOKENS_STEP,
        "Pipelines: a run started by hand uses the permissions of the user who started it; "
        "webhook, schedule (cron) and IDP triggers run as the pipeline's service/bot principal. "
        f"If a triggered run gets 403 where a manual run passes, grant that principal read "
        f"(pull) or write (push, 'Upload Artifacts to HAR') permission on {reg}: Access Control "
        "→ role bindings → a role with Artifact Registry permissions.",
    ]
