"""Kubernetes ``data:`` values: strict base64, and the JSON a
``.dockerconfigjson`` holds (with the double-encoded mistake)."""

from __future__ import annotations

import json
from typing import Any

from hardoctor.tokens import PeelError, Problem, b64decode_text


def peel_k8s_data(value: str) -> str:
    """One Kubernetes ``data:`` value: strict base64 (the API server refuses
    anything else)."""
    return b64decode_text(value, strict=True)


def peel_k8s_json(value: str) -> tuple[Any, tuple[Problem, ...]]:
    """A ``data:`` value that should hold JSON (``.dockerconfigjson``,
    ``.dockercfg``): decoded and parsed.

    The double-encoded mistake (``base64 | base64``) still yields the JSON,
    with a ``double-encoded`` problem, so the credentials inside can be
    checked too.  Raw JSON where base64 belongs raises ``not-base64`` (it
    belongs under ``stringData:``).
    """
    if value.lstrip().startswith("{"):
        raise PeelError(
            "not-base64",
            "holds raw JSON: under data: it must be base64 (or move it to stringData:)",
        )
    text = peel_k8s_data(value)
    try:
        return json.loads(text), ()
    except ValueError:
        pass
    try:
        inner = b64decode_text(text, strict=False)
        parsed = json.loads(inner)
    except (PeelError, ValueError):
        raise PeelError("bad-json", "decodes to text that is not JSON") from None
    return parsed, (
        Problem(
            "double-encoded",
            "is base64-encoded twice: Kubernetes decodes once and the kubelet finds no JSON",
        ),
    )


