"""Yarn Berry ``npmRegistries`` keys that name the registry's host but that
Yarn never matches.

Verified with Yarn 4.18.1 against verdaccio (tests/test_clients_node.py):
Yarn looks the registry URL up exactly (trailing slash removed), then
without its scheme (``//host:port``).  So ``//host:port``,
``//host:port/``, ``http://host:port`` and ``http://host:port/`` all match
``npmRegistryServer: http://host:port``; ``host:port`` (no ``//``) and a key
with the other scheme (``https://`` for an http registry) never do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hardoctor.context import Context
from hardoctor.model import Finding, Location, Remediation, Resolution

from .nerf import parse_url
from .yarnrc import YarnConfig, YarnFile, YNode, normalize_registry


def _host_port(text: str) -> tuple[str, int | None] | None:
    m = re.match(r"^(?:[a-z][a-z0-9+.-]*:)?(?://)?([^/:]+)(?::(\d+))?", text.strip(), re.I)
    if m is None:
        return None
    return m.group(1).lower(), int(m.group(2)) if m.group(2) else None


def near_miss(cfg: YarnConfig, registry: str) -> tuple[YarnFile, str, YNode, str] | None:
    """(file, key, key node, why) of a key on the registry's host Yarn skips."""
    reg = parse_url(registry)
    if reg is None or cfg.registry_scope(normalize_registry(registry)) is not None:
        return None
    for f, raw, node in cfg.registry_keys:
        hp = _host_port(raw)
        if hp is None or hp[0] != reg.hostname or (hp[1] or reg.port) != reg.port:
            continue
        if not raw.startswith(("//", "http:", "https:")):
            why = (f"the key has neither a scheme nor `//`: Yarn compares `{registry}` and "
                   f"`//{reg.host}` with it and neither is equal")
        elif raw.split(":", 1)[0].lower() in ("http", "https") and \
                not raw.lower().startswith(reg.scheme + ":"):
            why = (f"the key's scheme differs from the registry's ({reg.scheme}): Yarn "
                   "compares the whole URL")
        else:
            why = f"its path differs from the registry URL `{registry}`"
        return f, raw, node, why
    return None


def finding(ctx: Context, res: Resolution, registry: str,
            missed: tuple[YarnFile, str, YNode, str], evidence: tuple[str, ...],
            common: Mapping[str, Any]) -> Finding:
    f, raw, node, why = missed
    reg = parse_url(registry)
    good = f"//{reg.host}" if reg is not None else registry
    loc = Location(f.path, node.line, node.column, raw)
    return ctx.finding(
        "NPM013",
        f"Yarn sends no credential to {registry}: the npmRegistries key `{raw}` at "
        f"{loc.display(ctx.home)} is never matched ({why}).",
        why="Yarn answers `YN0041: Invalid authentication (as an anonymous user)`.",
        evidence=evidence,
        remediation=Remediation(f"Write the key as `{good}` (or the registry URL exactly).",
                                steps=(f"npmRegistries:\n  \"{good}\":\n    npmAuthToken: ...",)),
        **{**common, "location": loc},
    )
