"""Why uv or Poetry sent nothing to an index that asked (401), when the
reason is a near miss the person can see:

* credentials left in pip's configuration (pip.conf, ``PIP_INDEX_URL``)
  after moving to uv or Poetry, which read neither (``PIP052``);
* the index is named but its variables are not set --
  ``UV_INDEX_<NAME>_USERNAME``/``_PASSWORD`` (uv 0.4+) or
  ``POETRY_HTTP_BASIC_<NAME>_USERNAME``/``_PASSWORD`` (``PIP055``), with any
  variable of a similar name that is set instead.

Verified with uv 0.13.9 and Poetry 2.5.1 against pypiserver
(tests/test_clients_python.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hardoctor.context import Context
from hardoctor.model import Finding, Remediation, Resolution, Severity

from . import urls
from .model import IndexRef, Model
from .poetryconf import poetry_env_name
from .uvconf import uv_env_name

NAMES = {"uv": "uv", "poetry": "Poetry"}


def findings(ctx: Context, model: Model, res: Resolution, common: Mapping[str, Any]) -> list[Finding]:
    """The findings that explain a 401 to ``res`` (uv/Poetry, no credential);
    empty when there is no such near miss."""
    if res.credential is not None or res.client not in NAMES:
        return []
    out = _leftover(ctx, model, res, common)
    unset = _env_unset(ctx, model, res, common)
    return [*out, *unset]


def _same_index(ref: IndexRef, index: str) -> bool:
    target = urls.parse_index_url(index)
    if ref.url is None or target is None:
        return False
    return ref.url.host == target.host


def _leftover(ctx: Context, model: Model, res: Resolution, common: Mapping[str, Any]) -> list[Finding]:
    index = res.target.url or ""
    client = NAMES[res.client]
    left = [r for r in model.refs
            if r.client == "pip" and r.url is not None and r.url.has_credentials
            and _same_index(r, index)]
    if not left:
        return []
    ref = left[0]
    where = ref.location.display(ctx.home)
    return [ctx.finding(
        "PIP052",
        f"{client} sends no credentials to {urls.display(index)} (401): the credentials for it are "
        f"in pip's configuration ({where}), which {client} does not read.",
        severity=Severity.ERROR, cause="credential-not-matched",
        location=ref.location,
        why=f"{client} reads neither pip.conf nor PIP_* variables; the index works for pip and "
            f"refuses {client}.",
        remediation=_store(res, model, f"then remove the leftover credentials from {where}"),
        **{k: v for k, v in common.items() if k != "location"},
    )]


def _index_name(model: Model, res: Resolution) -> str | None:
    refs = model.uv.indexes + ([model.uv.default] if model.uv.default else []) \
        if res.client == "uv" else model.poetry.sources
    for ref in refs:
        if ref.name and ref.url is not None and res.target.url and \
                urls.same_index(ref.bare, res.target.url):
            return ref.name
    return None


def variables(client: str, name: str) -> tuple[str, str]:
    if client == "uv":
        key = uv_env_name(name)
        return f"UV_INDEX_{key}_USERNAME", f"UV_INDEX_{key}_PASSWORD"
    key = poetry_env_name(name)
    return f"POETRY_HTTP_BASIC_{key}_USERNAME", f"POETRY_HTTP_BASIC_{key}_PASSWORD"


def _env_unset(ctx: Context, model: Model, res: Resolution, common: Mapping[str, Any]) -> list[Finding]:
    import difflib  # here: only when a variable is missing

    name = _index_name(model, res)
    if name is None:
        return []
    user_var, pass_var = variables(res.client, name)
    missing = [v for v in (user_var, pass_var) if not ctx.getenv(v)]
    if not missing:
        return []
    prefix = user_var[: -len("_USERNAME")]
    head = "UV_INDEX_" if res.client == "uv" else "POETRY_HTTP_BASIC_"
    near = [v for v in _environ_names(ctx) if v.startswith(head)
            and v.endswith(("_USERNAME", "_PASSWORD")) and v not in (user_var, pass_var)]
    close = difflib.get_close_matches(pass_var, near, n=2, cutoff=0.7) + \
        difflib.get_close_matches(user_var, near, n=2, cutoff=0.7)
    evidence = list(common.get("evidence", ()))
    for v in dict.fromkeys(close):
        evidence.append(f"${v} is set, but {NAMES[res.client]} looks for {prefix}_*: the "
                        f"index is named {name!r}")
    client = NAMES[res.client]
    return [ctx.finding(
        "PIP055",
        f"{client} sends no credentials to {urls.display(res.target.url or '')} (401): "
        f"{' and '.join('$' + v for v in missing)} {'is' if len(missing) == 1 else 'are'} not set "
        f"for the index named {name!r}.",
        why=f"{client} takes a named index's credentials from these variables; unset (a CI "
            "secret not passed, a shell that did not export them), nothing is sent.",
        remediation=_store(res, model, None, (user_var, pass_var)),
        **{**common, "evidence": evidence},
    )]


def _environ_names(ctx: Context) -> list[str]:
    return sorted(k for k, v in ctx.env.environ.items() if v)


def _store(res: Resolution, model: Model, then: str | None,
           names: tuple[str, str] | None = None) -> Remediation:
    client = NAMES[res.client]
    name = _index_name(model, res)
    if names is None and name is not None:
        names = variables(res.client, name)
    steps: list[str] = []
    commands: list[str] = ["read -rs TOKEN"]
    if names is not None:
        steps.append(f"Export {names[0]} and {names[1]} where {client} runs (CI: pass them as "
                     "secrets).")
        commands += [f"export {names[0]}=USER", f'export {names[1]}="$TOKEN"']
    elif res.client == "poetry":
        commands.append('poetry config http-basic.SOURCE USER "$TOKEN"')
    else:
        steps.append("Name the index ([[tool.uv.index]] name = \"...\") and set "
                     "UV_INDEX_<NAME>_USERNAME / _PASSWORD, or use ~/.netrc.")
    if then:
        steps.append(then[0].upper() + then[1:] + ".")
    return Remediation(f"Give {client} its own credentials for this index.",
                       steps=tuple(steps), commands=tuple(commands))
