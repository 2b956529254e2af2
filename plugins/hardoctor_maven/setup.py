"""``hardoctor setup`` for Maven.

Maven sends a credential only for a ``<server>`` whose ``<id>`` is the id
of the repository it is talking to -- or of the mirror that serves that
repository.  So setup, in the user's ``~/.m2/settings.xml``:

* finds the repository or mirror that already points at the URL (a
  ``<mirror>``, a repository of a settings profile, or of the project's
  ``pom.xml``) and uses its id; otherwise adds an active profile with a
  repository for the URL (id: the registry's name);
* writes ``<server>`` with that id, ``--user`` and the token -- encrypted
  with the master password when ``~/.m2/settings-security.xml`` exists (what
  ``mvn --encrypt-password`` writes) -- editing an existing ``<server>`` in
  place and keeping every other byte of the file; 0600.

A mirror that catches the repository (``mirrorOf`` ``*``) but points
elsewhere is said: Maven would send the request there, not to the registry.
"""

from __future__ import annotations

import os

from hardoctor import lazyre, redact
from hardoctor.context import Context
from hardoctor.errors import UsageError
from hardoctor.fixes import ABSENT, digest
from hardoctor.model import Applicability, Edit, Fix, SetupPlan, SetupRequest
from hardoctor.records import dataclass
from hardoctor.setup import read_existing

from .cipher import maven_decrypt_master, maven_encrypt, parse_settings_security
from .mirrors import select_mirror
from .mvnfiles import SettingsFile, parse_pom, parse_settings
from .xmlpos import XElem, XmlError, escape_text, text_span

CLIENTS = frozenset({"maven", "mvn"})
_ID = lazyre.compile(r"[^A-Za-z0-9._-]+")

_NEW = """<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.2.0"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="http://maven.apache.org/SETTINGS/1.2.0 https://maven.apache.org/xsd/settings-1.2.0.xsd">
{body}</settings>
"""


def wants(request: SetupRequest) -> bool:
    if request.client is not None:
        return request.client in CLIENTS
    return request.package_type == "maven"


@dataclass(frozen=True)
class _Where:
    """Which id Maven will look a server up by, and what must be added for
    the URL to be used at all."""

    server_id: str
    add_repository: bool
    note: str | None = None


def plan(request: SetupRequest, ctx: Context) -> SetupPlan | None:
    if not wants(request):
        return None
    url = request.url.strip().rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise UsageError(f"{request.url}: expected the registry's Maven URL (https://HOST/PATH)")
    if not request.user:
        raise UsageError("--user NAME is required for Maven: it sends a <server>'s username and "
                         "password (the registry's set-up page names the user)")
    project = request.scope == "project"
    path = (os.path.join(ctx.project, ".mvn", "settings.xml") if project
            else os.path.join(ctx.home, ".m2", "settings.xml"))
    text = read_existing(ctx, path)
    sf = _parse(ctx, path, text)
    info = ctx.registry_info(url, "maven")
    name = _ID.sub("-", (info.registry if info and info.registry else "") or "registry").strip("-")
    where = _where(ctx, sf, url, name or "registry")
    var = request.env_var or "MAVEN_TOKEN"
    if project:
        # Maven expands ${env.VAR} in settings.xml: the file holds no token.
        secret, how = "${env." + var + "}", f"${{env.{var}}} (no token in the file)"
    else:
        secret, how = _password(ctx, request.secret.reveal())
    edits = _edits(path, text, sf, where, request.user, secret, url)
    shown = ctx.display_path(path)
    desc = f"<server> {where.server_id} in {shown}" + ("" if project else " (0600)") \
        + f", password {how}"
    if where.add_repository:
        desc += f"; an active profile with repository {where.server_id} for the URL"
    notes = [where.note] if where.note else []
    if project:
        notes.append(f"store the token as the CI secret {var}, and run Maven with "
                     f"`-s {os.path.relpath(path, ctx.project)}` (or put that line in "
                     ".mvn/maven.config)")
    fix = Fix(f"set up Maven for {url}", Applicability.SAFE, tuple(edits)) if edits else None
    return SetupPlan(
        client="maven", registry=url, description=desc, check_target="" if project else url,
        fix=fix, username=request.user, scheme="basic", check_staged=True,
        pull=("mvn dependency:get -Dartifact=GROUP:ARTIFACT:VERSION",),
        push=(f"mvn deploy -DaltDeploymentRepository={where.server_id}::{url}",),
        notes=tuple(notes),
    )


def _parse(ctx: Context, path: str, text: str | None) -> SettingsFile | None:
    if text is None:
        return None
    try:
        return parse_settings(text, path, "user")
    except XmlError as exc:
        raise UsageError(f"{ctx.display_path(path)}:{exc.line or '?'}: not valid settings XML; "
                         "fix it first (`hardoctor check` shows where)") from None


def _same(a: str, b: str) -> bool:
    return a.strip().rstrip("/") == b.strip().rstrip("/")


def _project_repos(ctx: Context) -> list[tuple[str, str]]:
    pom = os.path.join(ctx.project, "pom.xml")
    text = read_existing(ctx, pom)
    if text is None:
        return []
    try:
        doc = parse_pom(text, pom)
    except XmlError:
        return []
    return [(r.id, r.url) for r in doc.repositories]


def _where(ctx: Context, sf: SettingsFile | None, url: str, name: str) -> _Where:
    mirrors = sf.mirrors if sf is not None else []
    for m in mirrors:
        if _same(m.url, url) and m.id:
            return _Where(m.id, False)
    repos = [(r.id, r.url) for p in (sf.profiles if sf else []) for r in p.repositories]
    repos += _project_repos(ctx)
    repo_id = next((rid for rid, rurl in repos if rid and _same(rurl, url)), None)
    add = repo_id is None
    repo_id = repo_id or name
    caught = select_mirror(repo_id, url, mirrors)
    if caught is not None:
        m = mirrors[caught[0]]
        return _Where(m.id, add, f"the mirror {m.id} (mirrorOf {m.mirror_of}) in settings.xml "
                      f"serves repository {repo_id}, so Maven sends its requests to {m.url}, not "
                      f"to {url}: add !{repo_id} to its mirrorOf")
    return _Where(repo_id, add)


def _password(ctx: Context, token: str) -> tuple[str, str]:
    """The value for ``<password>``: encrypted with the master password when
    ``settings-security.xml`` holds one, else the token (XML-escaped)."""
    sec_path = os.path.join(ctx.home, ".m2", "settings-security.xml")
    text = read_existing(ctx, sec_path)
    if text is None:
        return escape_text(token), "in plaintext (no ~/.m2/settings-security.xml)"
    try:
        master = parse_settings_security(text).master
    except Exception:  # noqa: BLE001 - a PeelError or the parser's: either way unusable
        master = None
    if not master:
        return escape_text(token), "in plaintext (settings-security.xml has no master password)"
    value = maven_encrypt(token, maven_decrypt_master(master))
    redact.register(value)
    return value, "encrypted with the master password of settings-security.xml"


def _server_block(indent: str, step: str, sid: str, user: str, password: str) -> str:
    inner = indent + step
    return (f"{indent}<server>\n{inner}<id>{escape_text(sid)}</id>\n"
            f"{inner}<username>{escape_text(user)}</username>\n"
            f"{inner}<password>{password}</password>\n{indent}</server>\n")


def _profile_blocks(step: str, sid: str, url: str) -> tuple[str, str]:
    pid = f"hardoctor-{sid}"
    i2, i3, i4, i5 = step * 2, step * 3, step * 4, step * 5
    profile = (f"{i2}<profile>\n{i3}<id>{escape_text(pid)}</id>\n{i3}<repositories>\n"
               f"{i4}<repository>\n{i5}<id>{escape_text(sid)}</id>\n"
               f"{i5}<url>{escape_text(url)}</url>\n{i4}</repository>\n{i3}</repositories>\n"
               f"{i2}</profile>\n")
    active = f"{i2}<activeProfile>{escape_text(pid)}</activeProfile>\n"
    return profile, active


def _edits(path: str, text: str | None, sf: SettingsFile | None, where: _Where, user: str,
           password: str, url: str) -> list[Edit]:
    step = "  "
    if text is None or sf is None:
        body = f"{step}<servers>\n{_server_block(step * 2, step, where.server_id, user, password)}"
        body += f"{step}</servers>\n"
        if where.add_repository:
            profile, active = _profile_blocks(step, where.server_id, url)
            body += f"{step}<profiles>\n{profile}{step}</profiles>\n"
            body += f"{step}<activeProfiles>\n{active}{step}</activeProfiles>\n"
        return [Edit(path, 0, 0, _NEW.format(body=body), expected=ABSENT, mode=0o600)]
    expected = digest(text)
    edits = _server_edits(path, text, sf, where.server_id, user, password, step, expected)
    if where.add_repository:
        edits += _repository_edits(path, text, sf, where.server_id, url, step, expected)
    edits = _merged(sorted(edits, key=lambda e: (e.start, e.end)))
    mode = os.stat(path).st_mode & 0o777
    if edits:
        first = edits[0]
        edits[0] = Edit(first.path, first.start, first.end, first.new_text, expected, mode=0o600)
    elif mode != 0o600:
        edits.append(Edit(path, 0, 0, "", expected=expected, mode=0o600))
    return edits


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _before_close(text: str, elem: XElem) -> int:
    """Where a new child line goes: the start of the line of ``</tag>``
    (right before ``</tag>`` when something else stands on that line)."""
    start = _line_start(text, elem.inner_end)
    return start if not text[start:elem.inner_end].strip() else elem.inner_end


def _merged(edits: list[Edit]) -> list[Edit]:
    """Insertions at one point would conflict: join them, in order."""
    out: list[Edit] = []
    for e in edits:
        prev = out[-1] if out else None
        if prev is not None and prev.start == prev.end == e.start == e.end:
            out[-1] = Edit(e.path, e.start, e.end, prev.new_text + e.new_text, e.expected)
        else:
            out.append(e)
    return out


def _server_edits(path: str, text: str, sf: SettingsFile, sid: str, user: str, password: str,
                  step: str, expected: str) -> list[Edit]:
    server = next((s for s in sf.servers if s.id == sid), None)
    if server is None:
        if sf.servers_elem is not None and not sf.servers_elem.self_closing:
            at = _before_close(text, sf.servers_elem)
            return [Edit(path, at, at, _server_block(step * 2, step, sid, user, password),
                         expected=expected)]
        root = sf.doc.root
        at = _before_close(text, root)
        block = f"{step}<servers>\n{_server_block(step * 2, step, sid, user, password)}"
        return [Edit(path, at, at, block + f"{step}</servers>\n", expected=expected)]
    out: list[Edit] = []
    inner = step * 3
    for elem, value, tag in ((server.username_elem, escape_text(user), "username"),
                             (server.password_elem, password, "password")):
        if elem is not None and not elem.self_closing:
            start, end = text_span(text, elem)
            if text[start:end] != value:
                out.append(Edit(path, start, end, value, expected=expected))
        else:
            at = _before_close(text, server.elem)
            if elem is not None:  # <password/>: replace it whole
                out.append(Edit(path, elem.start, elem.end, f"<{tag}>{value}</{tag}>",
                                expected=expected))
            else:
                out.append(Edit(path, at, at, f"{inner}<{tag}>{value}</{tag}>\n",
                                expected=expected))
    return out


def _repository_edits(path: str, text: str, sf: SettingsFile, sid: str, url: str, step: str,
                      expected: str) -> list[Edit]:
    profile, active = _profile_blocks(step, sid, url)
    root = sf.doc.root
    profiles = root.child("profiles")
    actives = root.child("activeProfiles")
    at_root = ""
    out: list[Edit] = []
    if profiles is not None and not profiles.self_closing:
        at = _before_close(text, profiles)
        out.append(Edit(path, at, at, profile, expected=expected))
    else:
        at_root += f"{step}<profiles>\n{profile}{step}</profiles>\n"
    if actives is not None and not actives.self_closing:
        at = _before_close(text, actives)
        out.append(Edit(path, at, at, active, expected=expected))
    else:
        at_root += f"{step}<activeProfiles>\n{active}{step}</activeProfiles>\n"
    if at_root:
        at = _before_close(text, root)
        out.append(Edit(path, at, at, at_root, expected=expected))
    return out
