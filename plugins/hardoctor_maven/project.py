"""The repositories the build contacts (part of building the World): active
settings profiles, the project's POMs (parents on disk, modules), Maven's
built-in ``central``, ``distributionManagement``; the mirror for each
(:mod:`~hardoctor_maven.mirrors`; never for ``distributionManagement``),
and so the server id credentials are looked up by."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from hardoctor.context import Context
from hardoctor.lazy import submodule
from hardoctor.model import Secret

from . import mirrors
from .mvnfiles import CENTRAL_ID, CENTRAL_URL, Pom, Profile, Repo
from .settings import Interp, interpolate, settings_files, settings_props, strip_userinfo
from .sources import read_entry
from .state import Contact, Endpoint, FileEntry, World

if TYPE_CHECKING:
    from . import gradle
else:  # the Gradle scanner's patterns compile only when a Gradle file is read
    gradle = submodule(__package__, "gradle")

MAX_POMS = 50


def read_poms(ctx: Context, w: World) -> None:
    root = os.path.join(ctx.project, "pom.xml")
    queue: list[tuple[str, str]] = [(root, "project")]
    while queue and len(w.poms) < MAX_POMS:
        path, role = queue.pop(0)
        if any(p.path == os.path.abspath(path) for p in w.poms):
            continue
        entry = read_entry(ctx, w, path, "pom", role, "Maven project POM" if role == "project"
                      else f"Maven {role} POM")
        if entry is None:
            continue
        w.poms.append(entry)
        pom = entry.parsed
        if not isinstance(pom, Pom):
            continue
        here = os.path.dirname(entry.path)
        if pom.parent_path:
            ppath = os.path.normpath(os.path.join(here, pom.parent_path))
            if os.path.isdir(ppath):
                ppath = os.path.join(ppath, "pom.xml")
            queue.append((ppath, "parent"))
        for mod in pom.modules:
            mpath = os.path.normpath(os.path.join(here, mod))
            if os.path.isdir(mpath):
                mpath = os.path.join(mpath, "pom.xml")
            # Modules inside the project tree only.
            if mpath.startswith(os.path.abspath(ctx.project) + os.sep):
                queue.append((mpath, "module"))


def _pom_parent(w: World, entry: FileEntry) -> FileEntry | None:
    pom = entry.parsed
    if not isinstance(pom, Pom) or not pom.parent_path:
        return None
    here = os.path.dirname(entry.path)
    ppath = os.path.normpath(os.path.join(here, pom.parent_path))
    if os.path.isdir(ppath):
        ppath = os.path.join(ppath, "pom.xml")
    parent = next((p for p in w.poms if p.path == ppath), None)
    if parent is None or not isinstance(parent.parsed, Pom):
        return None
    # Maven uses the file only when it is the declared parent.
    if pom.parent_artifact and parent.parsed.artifact_id != pom.parent_artifact:
        return None
    return parent


def _pom_props(w: World, entry: FileEntry, depth: int = 0) -> dict[str, str]:
    pom = entry.parsed
    if not isinstance(pom, Pom) or depth > 10:
        return {}
    parent = _pom_parent(w, entry)
    props = _pom_props(w, parent, depth + 1) if parent is not None else {}
    props.update(pom.properties)
    props["project.basedir"] = os.path.dirname(entry.path)
    props["basedir"] = os.path.dirname(entry.path)
    return props


def _active(profiles: list[Profile], explicit: dict[str, bool]) -> list[Profile]:
    """``DefaultProfileSelector``: explicitly activated ones; when none is,
    the ``activeByDefault`` ones.  Deactivated ids never."""
    on = [p for p in profiles if explicit.get(p.id) is True]
    if not on:
        on = [p for p in profiles if p.active_by_default and explicit.get(p.id) is not False]
    return on


def _settings_profiles(w: World) -> tuple[list[tuple[FileEntry, Profile]], dict[str, bool]]:
    """The settings profiles (a user profile hides the global one with its
    id) and the ids ``<activeProfiles>`` and ``-P`` switch on or off."""
    explicit: dict[str, bool] = {}
    found: list[tuple[FileEntry, Profile]] = []
    user_profile_ids: set[str] = set()
    for entry, sf in settings_files(w):
        for pid in sf.active_profiles:
            explicit.setdefault(pid, True)
        found += [(entry, p) for p in sf.profiles
                  if not (entry.role == "global" and p.id in user_profile_ids)]
        if entry.role == "user":
            user_profile_ids = {p.id for p in sf.profiles}
    for pid, on in w.args.profiles:
        explicit[pid] = on
    return found, explicit


def _pom_contacts(ctx: Context, w: World, entry: FileEntry, sprops: dict[str, str],
                  explicit: dict[str, bool]) -> list[Contact]:
    pom = entry.parsed
    if not isinstance(pom, Pom):
        return []
    props = dict(sprops)
    props.update(_pom_props(w, entry))
    for prop, value in pom.properties.items():
        if value and gradle.SECRET_KEY.search(prop):
            Secret(value)  # registered for redaction
    repos = list(pom.repositories)
    for p in _active(pom.profiles, explicit):
        repos += p.repositories
    return [_contact(ctx, r, entry, props) for r in repos]


def _with_central(found: list[Contact]) -> None:
    """Maven's built-in ``central``, unless the build redefines that id."""
    for kind in ("repository", "pluginRepository"):
        if not any(c.repo.kind == kind and c.repo.id == CENTRAL_ID for c in found):
            found.append(Contact(Repo(CENTRAL_ID, CENTRAL_URL, None, kind), CENTRAL_URL, None))


def find_contacts(ctx: Context, w: World) -> None:
    settings_profiles, explicit = _settings_profiles(w)
    active = _active([p for _, p in settings_profiles], explicit)
    sprops = settings_props(ctx, w)
    for p in active:
        sprops.update(p.properties)
    found = [_contact(ctx, r, entry, sprops)
             for entry, p in settings_profiles if p in active for r in p.repositories]
    for entry in w.poms:
        found += _pom_contacts(ctx, w, entry, sprops, explicit)
    _with_central(found)
    seen: set[tuple[str, str, str]] = set()
    for c in found:
        if not c.repo.id or not c.url:
            continue  # Maven refuses such a POM before contacting anything
        key = ("deploy" if c.deploy else "read", c.repo.id, c.url)
        if key in seen:
            continue
        seen.add(key)
        if not c.deploy:
            picked = mirrors.select_mirror(c.repo.id, c.url, w.mirrors)
            if picked is not None:
                c.mirror, c.match = w.mirrors[picked[0]], picked[1]
        w.contacts.append(c)


def _contact(ctx: Context, r: Repo, entry: FileEntry, props: dict[str, str]) -> Contact:
    rid = interpolate(r.id, ctx, props).value
    url = interpolate(r.url, ctx, props)
    url = Interp(strip_userinfo(url.value), url.unset_env, url.unresolved)
    repo = Repo(rid, url.value, r.elem, r.kind, r.id_elem, r.url_elem, r.path, r.profile)
    return Contact(repo, url.value.rstrip("/") if url.value != "/" else url.value, entry,
                   url_unset=url.unset_env)


def group_endpoints(w: World) -> None:
    groups: dict[tuple[str, str, bool], Endpoint] = {}
    for c in w.contacts:
        key = (c.effective_url.rstrip("/"), c.server_id, c.deploy)
        ep = groups.get(key)
        if ep is None:
            ep = groups[key] = Endpoint(c.effective_url.rstrip("/"), c.server_id, c.deploy, [],
                                        c.mirror, w.server_by_id.get(c.server_id))
        ep.contacts.append(c)
    w.endpoints = list(groups.values())
    for view in w.servers:
        eps = w.endpoint_for_server(view.id) if view.effective else []
        if eps:
            view.registry = eps[0].url
            continue
        # Not used: the URL of whatever carries its id, for display and
        # for the HAR URL checks.
        for c in w.contacts:
            if c.repo.id == view.id:
                view.registry = c.url
                break
        else:
            for m in w.mirrors:
                if m.id == view.id:
                    view.registry = m.url
                    break


