"""Everything Maven and Gradle will do with credentials on this machine,
worked out once per run in ``hardoctor_discover`` (the World of
:mod:`~hardoctor_maven.state`).

Maven's side, in the order Maven itself does it:

1. user settings merged over global settings, interpolated
   (:mod:`~hardoctor_maven.settings`);
2. passwords decrypted with the master password of ``settings-security.xml``
   (:mod:`~hardoctor_maven.creds`: on failure the value is kept and sent as
   written, and the failure is logged only with ``-X``);
3. the repositories the build contacts and the mirror for each, and so the
   server id credentials are looked up by (:mod:`~hardoctor_maven.project`).

Gradle's side is in :mod:`~hardoctor_maven.gradle_creds`.
"""

from __future__ import annotations

import os

from hardoctor.context import Context

from . import locate
from .creds import credentials
from .gradle_creds import read_gradle
from .project import find_contacts, group_endpoints, read_poms
from .settings import merge_mirrors, merge_servers, read_master
from .sources import mark_tracked, read_entry
from .state import World


def _maven_args(ctx: Context, w: World) -> None:
    """``.mvn/maven.config`` and ``MAVEN_OPTS``: the -s/-gs/-P/-D Maven
    starts with."""
    basedir = locate.maven_basedir(ctx.project)
    cfg = read_entry(ctx, w, os.path.join(basedir, ".mvn", "maven.config"), "maven-config",
                     "project", "Maven command-line defaults (.mvn/maven.config)")
    if cfg is not None and isinstance(cfg.parsed, locate.MavenArgs):
        w.args = cfg.parsed
        w.args_entry = cfg
    props = dict(locate.opts_properties(ctx.getenv("MAVEN_OPTS")))
    props.update(w.args.properties)
    w.args.properties = props


def _settings_files(ctx: Context, w: World) -> None:
    w.user_settings_path = w.args.user_settings or os.path.join(ctx.home, ".m2", "settings.xml")
    if w.args.global_settings:
        w.global_settings_path = w.args.global_settings
    elif w.maven_home:
        w.global_settings_path = os.path.join(w.maven_home, "conf", "settings.xml")
    for opt, path in (("-s", w.args.user_settings), ("-gs", w.args.global_settings)):
        if path and not os.path.exists(path):
            w.args.missing.append((opt, path))
    w.user = read_entry(ctx, w, w.user_settings_path, "settings", "user", "Maven user settings")
    if w.global_settings_path:
        w.glob = read_entry(ctx, w, w.global_settings_path, "settings", "global",
                            "Maven global settings")
        if w.glob is w.user:
            w.glob = None  # -s and -gs name the same file: read it once


def build(ctx: Context) -> World:
    w = World(ctx.home, ctx.project)
    w.maven_home, w.maven_home_how = locate.maven_home(ctx)
    w.maven_version = locate.maven_version(w.maven_home)
    _maven_args(ctx, w)
    _settings_files(ctx, w)
    read_master(ctx, w)
    read_poms(ctx, w)
    merge_servers(ctx, w)
    merge_mirrors(ctx, w)
    find_contacts(ctx, w)
    group_endpoints(w)
    read_gradle(ctx, w)
    mark_tracked(ctx, w)
    w.credentials = credentials(w)
    return w
