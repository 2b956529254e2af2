"""``hardoctor setup`` for pip (and uv, which reads the same ``.netrc``).

What pip reads best with the safest storage that works: the index URL
*without* userinfo as ``index-url`` in ``[global]`` of the user's
``pip.conf`` (``$PIP_CONFIG_FILE`` when set), and the credential in
``~/.netrc`` (``$NETRC``), 0600, as ``machine HOST login USER password
TOKEN`` -- pip asks netrc after the index answers 401, as uv does, and the
token never sits in a URL that logs and ``pip config list`` print.  With
``--scope project`` nothing with the token is written: the person gets the
CI step (``PIP_INDEX_URL`` plus a netrc written from the CI secret).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

from hardoctor import lazyre, redact
from hardoctor.context import Context
from hardoctor.errors import UsageError
from hardoctor.fixes import ABSENT, digest
from hardoctor.model import Applicability, Edit, Fix, SetupPlan, SetupRequest
from hardoctor.setup import read_existing

from . import netrcfile

CLIENTS = frozenset({"pip", "uv"})


def wants(request: SetupRequest) -> bool:
    if request.client is not None:
        return request.client in CLIENTS
    if request.package_type is None:
        # No vendor owns it: the simple repository API's conventional path.
        return request.url.strip().rstrip("/").endswith("/simple")
    return request.package_type == "python"


def plan(request: SetupRequest, ctx: Context) -> SetupPlan | None:
    if not wants(request):
        return None
    url = request.url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise UsageError(f"{request.url}: expected the registry's Python index URL "
                         "(https://HOST/.../simple), without a user or token in it")
    if not request.user:
        raise UsageError("--user NAME is required for pip: it sends a user name and the token as "
                         "the password (the registry's set-up page names the user)")
    common: dict[str, Any] = {
        "client": "pip", "registry": url, "check_target": url, "username": request.user,
        "scheme": "basic",
        "pull": ("pip download --no-deps PKG", "pip install PKG"),
        "push": (f"twine upload --repository-url {url.rsplit('/simple', 1)[0]}/ dist/*",),
    }
    if request.scope == "project":
        var = request.env_var or "PIP_TOKEN"
        common["check_target"] = ""  # nothing of the project's to check
        return SetupPlan(
            description="nothing written: pip reads credentials per user; CI sets them",
            notes=(f"in CI, store the token as the secret {var}, then: export PIP_INDEX_URL={url}; "
                   f"printf 'machine {host} login {request.user} password %s\\n' \"${var}\" "
                   "> ~/.netrc; chmod 600 ~/.netrc",),
            **common)
    uv = request.client == "uv"
    conf = _uv_toml(ctx) if uv else _pip_conf(ctx)
    netrc = _netrc_path(ctx)
    edits = _uv_edits(ctx, conf, url) if uv else _index_edits(ctx, conf, url)
    netrc_edit = _netrc_edit(ctx, netrc, host, request.user, request.secret.reveal())
    edits += [netrc_edit] if netrc_edit is not None else []
    var = "UV_DEFAULT_INDEX" if uv else "PIP_INDEX_URL"
    notes: tuple[str, ...] = ()
    if ctx.getenv(var) or (uv and ctx.getenv("UV_INDEX_URL")):
        notes = (f"{var} is set in the environment and wins over {os.path.basename(conf)}: "
                 f"unset it, or set it to {url}",)
    key = "the default [[index]]" if uv else "index-url"
    desc = (f"{key} in {ctx.display_path(conf)} (no token in it) and machine {host} in "
            f"{ctx.display_path(netrc)} (0600), which pip and uv read")
    if uv:
        common.update(client="uv", pull=("uv pip install PKG", "uv add PKG"),
                      push=(f"uv publish --publish-url {url.rsplit('/simple', 1)[0]}/ dist/*",))
    fix = Fix(f"set up pip for {url}", Applicability.SAFE, tuple(edits)) if edits else None
    return SetupPlan(description=desc, fix=fix, notes=notes, **common)


def _pip_conf(ctx: Context) -> str:
    explicit = ctx.getenv("PIP_CONFIG_FILE")
    if explicit and explicit != os.devnull:
        return os.path.abspath(ctx.env.expand_home(explicit))
    xdg = ctx.getenv("XDG_CONFIG_HOME") or os.path.join(ctx.home, ".config")
    return os.path.join(xdg, "pip", "pip.conf")


def _uv_toml(ctx: Context) -> str:
    explicit = ctx.getenv("UV_CONFIG_FILE")
    if explicit:
        return os.path.abspath(ctx.env.expand_home(explicit))
    xdg = ctx.getenv("XDG_CONFIG_HOME") or os.path.join(ctx.home, ".config")
    return os.path.join(xdg, "uv", "uv.toml")


def _uv_edits(ctx: Context, path: str, url: str) -> list[Edit]:
    """A default ``[[index]]`` for the URL in the user's ``uv.toml``
    (``--client uv``); an existing default index is the person's to
    change."""
    block = f'[[index]]\nurl = "{url}"\ndefault = true\n'
    text = read_existing(ctx, path)
    if text is None:
        return [Edit(path, 0, 0, block, expected=ABSENT, mode=0o644)]
    if re.search(rf'(?m)^\s*url\s*=\s*"{re.escape(url)}"\s*$', text):
        return []
    if re.search(r"(?m)^\s*default\s*=\s*true\s*$", text) or \
            re.search(r"(?m)^\s*index-url\s*=", text):
        raise UsageError(f"{ctx.display_path(path)} already names a default index: make {url} "
                         "the default there by hand, then run setup again")
    sep = "" if not text or text.endswith("\n") else "\n"
    return [Edit(path, len(text), len(text), f"{sep}\n{block}", expected=digest(text))]


def _netrc_path(ctx: Context) -> str:
    explicit = ctx.getenv("NETRC")
    if explicit:
        return os.path.abspath(ctx.env.expand_home(explicit))
    return os.path.join(ctx.home, ".netrc")


_SECTION = lazyre.compile(r"^[ \t]*\[([^\]\r\n]*)\][ \t]*\r?$", re.M)
_INDEX = lazyre.compile(r"^[ \t]*index[-_]url[ \t]*[=:][ \t]*(.*?)[ \t]*\r?$", re.M)


#: Sections whose ``index-url`` pip uses (a command's own section wins
#: over ``[global]`` for that command).
_INDEX_SECTIONS = ("global", "install", "download", "wheel", "index")


def _index_edits(ctx: Context, path: str, url: str) -> list[Edit]:
    """``index-url = URL`` in ``[global]`` (the key replaced, added to the
    section, or the section added), and in every command section that sets
    its own ``index-url`` -- it would win over ``[global]`` for that
    command."""
    text = read_existing(ctx, path)
    if text is None:
        return [Edit(path, 0, 0, f"[global]\nindex-url = {url}\n", expected=ABSENT, mode=0o644)]
    expected = digest(text)
    sections = list(_SECTION.finditer(text))
    edits: list[Edit] = []
    has_global = False
    for i, sec in enumerate(sections):
        name = sec.group(1).strip()
        if name not in _INDEX_SECTIONS:
            continue
        start = sec.end()
        end = sections[i + 1].start() if i + 1 < len(sections) else len(text)
        m = _INDEX.search(text, start, end)
        if m is not None and m.group(1) != url:
            edits.append(Edit(path, m.start(1), m.end(1), url, expected=expected))
        if name == "global":
            has_global = True
            if m is None:
                newline = text.find("\n", start)
                at = len(text) if newline < 0 else newline + 1
                lead = "" if newline >= 0 else "\n"
                edits.append(Edit(path, at, at, f"{lead}index-url = {url}\n", expected=expected))
    if not has_global:
        sep = "" if not text or text.endswith("\n") else "\n"
        edits.append(Edit(path, len(text), len(text), f"{sep}[global]\nindex-url = {url}\n",
                          expected=expected))
    return edits


def _quote(value: str) -> str:
    """A netrc token Python's netrc reads back as ``value``."""
    if value and not re.search(r'[\s"\\]', value) and not value.startswith("#"):
        return value
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    redact.register(quoted)
    return quoted


def _netrc_edit(ctx: Context, path: str, host: str, user: str, token: str) -> Edit | None:
    line = f"machine {host} login {_quote(user)} password {_quote(token)}"
    text = read_existing(ctx, path)
    if text is None:
        return Edit(path, 0, 0, line + "\n", expected=ABSENT, mode=0o600)
    expected = digest(text)
    mode = os.stat(path).st_mode & 0o777
    doc = netrcfile.parse(text)
    if doc.error is not None:
        raise UsageError(f"{ctx.display_path(path)}:{doc.error.line}: {doc.error.message}; "
                         "fix it first")
    entry = doc.hosts.get(host)
    if entry is not None and entry.kind == "machine":
        if entry.values[0] == user and entry.values[2] == token:
            return None if mode == 0o600 else Edit(path, 0, 0, "", expected=expected, mode=0o600)
        return Edit(path, entry.keyword.start, entry.end, line, expected=expected, mode=0o600)
    sep = "" if not text or text.endswith("\n") else "\n"
    # Before a ``default`` entry, which ends the machine list for some readers.
    default = next((e for e in doc.entries if e.kind == "default"), None)
    if default is not None:
        at = default.keyword.start
        return Edit(path, at, at, line + "\n", expected=expected, mode=0o600)
    return Edit(path, len(text), len(text), sep + line + "\n", expected=expected, mode=0o600)
