"""``hardoctor setup`` for npm (and pnpm, which reads the same ``.npmrc``).

What npm reads best: ``registry=URL`` (or ``@scope:registry=URL`` with
``--npm-scope``) and the token as ``_authToken`` under the registry's
nerf-dart key -- ``//host[:port]/path/:_authToken`` for exactly that path,
the key npm looks up for every request under it -- in the user config
(``$npm_config_userconfig``, else ``~/.npmrc``), 0600.  With ``--scope
project`` the project's ``.npmrc`` gets ``${NPM_TOKEN}`` instead of the
token, and the person gets the CI secret step.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence

from hardoctor import lazyre
from hardoctor.context import Context
from hardoctor.errors import UsageError
from hardoctor.fixes import ABSENT, digest
from hardoctor.model import Applicability, Edit, Fix, SetupPlan, SetupRequest
from hardoctor.records import dataclass
from hardoctor.setup import read_existing
from hardoctor.stash import StashKey

from .nerf import nerf_dart, parse_url

CLIENTS = frozenset({"npm", "pnpm"})
OPTION = "npm_scope"
_SCOPE = lazyre.compile(r"^@[a-z0-9][a-z0-9._~-]*$")


@dataclass(frozen=True)
class SetupOptions:
    scope: str | None = None


OPTIONS: StashKey[SetupOptions] = StashKey("npm.setup")


def add_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("npm")
    g.add_argument("--npm-scope", dest=OPTION, metavar="@SCOPE",
                   help="npm: route only this scope's packages to the registry "
                   "(@scope:registry=) instead of setting registry=")


def options(ctx: Context) -> SetupOptions:
    def build() -> SetupOptions:
        raw = (ctx.options.string(OPTION) or "").strip()
        if not raw:
            return SetupOptions()
        scope = raw if raw.startswith("@") else "@" + raw
        if not _SCOPE.match(scope):
            raise UsageError(f"argument --npm-scope: {raw!r} is not an npm scope (like @acme)")
        return SetupOptions(scope)

    return ctx.stash.compute(OPTIONS, build)


def wants(request: SetupRequest) -> bool:
    if request.client is not None:
        return request.client in CLIENTS
    return request.package_type == "npm"


def plan(request: SetupRequest, ctx: Context) -> SetupPlan | None:
    if not wants(request):
        return None
    url = request.url.strip()
    if not url.endswith("/"):
        url += "/"  # npm joins package names onto the registry as a directory
    parsed = parse_url(url)
    nerf = nerf_dart(url)
    if parsed is None or nerf is None or parsed.scheme not in ("http", "https"):
        raise UsageError(f"{request.url}: expected the registry's npm URL (https://HOST/PATH/)")
    scope = options(ctx).scope
    registry_key = f"{scope}:registry" if scope else "registry"
    project = request.scope == "project"
    var = request.env_var or "NPM_TOKEN"
    value = "${" + var + "}" if project else request.secret.reveal()
    path = os.path.join(ctx.project, ".npmrc") if project else _userconfig(ctx)
    want = [(registry_key, url), (f"{nerf}:_authToken", value)]
    edits = _edits(ctx, path, want, 0o644 if project else 0o600)
    pkg = f"{scope}/PKG" if scope else "PKG"
    shown = ctx.display_path(path)
    desc = f"{registry_key}= and {nerf}:_authToken in {shown} (0600)"
    notes: tuple[str, ...] = ()
    if project:
        desc = f"{registry_key}= and {nerf}:_authToken=${{{var}}} in {shown} (no token in it)"
        notes = (f"store the token as the CI secret {var} (npm reads ${{{var}}} from the "
                 "environment; an unset variable makes npm fail with E401)",)
    wins = sorted(name for name in ctx.env.environ
                  if name.lower() == f"npm_config_{registry_key}".lower())
    if wins:
        notes += (f"{wins[0]} is set in the environment and wins over .npmrc's {registry_key}=: "
                  "unset it, or set it to the URL",)
    fix = Fix(f"set up npm for {url}", Applicability.SAFE, tuple(edits)) if edits else None
    return SetupPlan(
        client="npm", registry=url, description=desc, check_target=f"npm:{url}", fix=fix,
        username=None, scheme="bearer",
        pull=(f"npm view {pkg} version", f"npm install {pkg}"),
        push=(("npm publish" + ("" if scope else f" --registry {url}")),),
        notes=notes, env_var=var if project else None,
    )


def _userconfig(ctx: Context) -> str:
    for name, value in ctx.env.environ.items():
        if name.lower() == "npm_config_userconfig" and value:
            return os.path.abspath(ctx.env.expand_home(value))
    return os.path.join(ctx.home, ".npmrc")


_LINE = lazyre.compile(r"^[ \t]*([^=;#\r\n]+?)[ \t]*=[ \t]*(.*?)[ \t]*\r?$", re.M)


def _edits(ctx: Context, path: str, want: Sequence[tuple[str, str]], mode: int) -> list[Edit]:
    """Replace the value of every line setting one of the wanted keys;
    append the keys no line sets; the file gets ``mode`` (0600 when it
    holds the token)."""
    text = read_existing(ctx, path)
    if text is None:
        body = "".join(f"{k}={v}\n" for k, v in want)
        return [Edit(path, 0, 0, body, expected=ABSENT, mode=mode)]
    expected = digest(text)
    edits: list[Edit] = []
    missing = dict(want)
    found: set[str] = set()
    for m in _LINE.finditer(text):
        key = m.group(1).strip()
        if key in missing or key in found:
            new = dict(want)[key]
            found.add(key)
            missing.pop(key, None)
            if m.group(2) != new:
                edits.append(Edit(path, m.start(2), m.end(2), new, expected=expected))
    if missing:
        sep = "" if not text or text.endswith("\n") else "\n"
        body = sep + "".join(f"{k}={v}\n" for k, v in missing.items())
        edits.append(Edit(path, len(text), len(text), body, expected=expected))
    have = os.stat(path).st_mode & 0o777
    # A file holding the token becomes 0600; a project file keeps its mode.
    mode = 0o600 if mode == 0o600 else have
    if edits:
        edits[0] = Edit(edits[0].path, edits[0].start, edits[0].end, edits[0].new_text,
                        expected=expected, mode=mode)
    elif have != mode:
        edits.append(Edit(path, 0, 0, "", expected=expected, mode=mode))
    return edits
