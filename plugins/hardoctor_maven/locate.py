"""Where Maven and Gradle look for their files on this machine.

* ``mvn`` on PATH, symlinks resolved, gives ``maven.home`` (Debian:
  ``/usr/bin/mvn`` -> ``/usr/share/maven``); the ``mvn`` script computes it
  the same way and ignores ``M2_HOME``/``MAVEN_HOME``, which are used here
  only when no ``mvn`` is on PATH.
* ``.mvn/maven.config`` is found by walking up from the project directory to
  the first directory holding ``.mvn`` (the ``mvn`` script's
  ``find_maven_basedir``); Maven 3 splits it on whitespace and puts it in
  front of the command line.
* Gradle's user home is ``$GRADLE_USER_HOME`` or ``~/.gradle``.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil

from hardoctor.context import Context
from hardoctor.records import dataclass, field


def maven_home(ctx: Context) -> tuple[str | None, str]:
    """(maven.home, how it was found)."""
    exe = shutil.which("mvn", path=ctx.getenv("PATH"))
    if exe:
        real = os.path.realpath(exe)
        return os.path.dirname(os.path.dirname(real)), f"mvn on PATH ({exe})"
    for var in ("MAVEN_HOME", "M2_HOME"):
        value = ctx.getenv(var)
        if value:
            return ctx.env.expand_home(value), f"${var}"
    return None, "no mvn on PATH"


def maven_version(home: str | None) -> str | None:
    """The version of the Maven installation, from its ``maven-core`` jar
    (no JVM started)."""
    if not home:
        return None
    for path in sorted(glob.glob(os.path.join(home, "lib", "maven-core-*.jar"))):
        m = re.match(r"maven-core-(\d[\w.\-]*)\.jar$", os.path.basename(path))
        if m:
            return m.group(1)
    return None


def maven_basedir(project: str) -> str:
    """The directory holding ``.mvn`` at or above ``project``, else ``project``."""
    here = os.path.abspath(project)
    while True:
        if os.path.isdir(os.path.join(here, ".mvn")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return os.path.abspath(project)
        here = parent


@dataclass
class MavenArgs:
    """What hardoctor cares about from ``maven.config`` (and ``MAVEN_OPTS``)."""

    user_settings: str | None = None
    global_settings: str | None = None
    #: (profile id, active) from ``-P a,!b``.
    profiles: list[tuple[str, bool]] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    #: (option, value) pairs whose file does not exist, for findings.
    missing: list[tuple[str, str]] = field(default_factory=list)


_OPTS_WITH_VALUE = {
    "-s": "user_settings", "--settings": "user_settings",
    "-gs": "global_settings", "--global-settings": "global_settings",
}


def parse_maven_args(text: str, base: str) -> MavenArgs:
    """Maven 3 splits ``maven.config`` on whitespace (one argument per line
    is the Maven 3.9+ reading; for these options both agree)."""
    out = MavenArgs()
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        words = text.split()
    i = 0
    while i < len(words):
        w = words[i]
        name, eq, inline = w.partition("=")
        if w in _OPTS_WITH_VALUE or (eq and name in _OPTS_WITH_VALUE and name.startswith("--")):
            key = name if eq else w
            value = inline if eq else (words[i + 1] if i + 1 < len(words) else "")
            i += 1 if eq else 2
            path = value if os.path.isabs(value) else os.path.join(base, value)
            setattr(out, _OPTS_WITH_VALUE[key], os.path.normpath(path))
            continue
        if w in ("-P", "--activate-profiles") and i + 1 < len(words):
            _profiles(out, words[i + 1])
            i += 2
            continue
        if w.startswith("-P") and len(w) > 2:
            _profiles(out, w[2:])
        elif w.startswith("-D") and len(w) > 2:
            k, _, v = w[2:].partition("=")
            out.properties[k] = v if _ else "true"
        i += 1
    return out


def _profiles(out: MavenArgs, value: str) -> None:
    for p in value.split(","):
        p = p.strip()
        if not p:
            continue
        if p[0] in "!-":
            out.profiles.append((p[1:], False))
        else:
            out.profiles.append((p.lstrip("+"), True))


def opts_properties(value: str | None) -> dict[str, str]:
    """``-Dk=v`` pairs of ``MAVEN_OPTS``."""
    props: dict[str, str] = {}
    if not value:
        return props
    try:
        words = shlex.split(value)
    except ValueError:
        words = value.split()
    for w in words:
        if w.startswith("-D") and len(w) > 2:
            k, _, v = w[2:].partition("=")
            props[k] = v
    return props


def gradle_user_home(ctx: Context) -> str:
    value = ctx.getenv("GRADLE_USER_HOME")
    return ctx.env.expand_home(value) if value else os.path.join(ctx.home, ".gradle")


#: Gradle build files read for repository declarations, relative to a project dir.
GRADLE_SCRIPTS = ("settings.gradle", "settings.gradle.kts", "build.gradle", "build.gradle.kts")


def gradle_scripts(project: str, limit: int = 40) -> list[str]:
    """The root's build and settings scripts, then those of direct
    subdirectories (subprojects) -- bounded, no recursion into the tree."""
    out = [os.path.join(project, n) for n in GRADLE_SCRIPTS
           if os.path.isfile(os.path.join(project, n))]
    if not out:
        return out
    try:
        entries = sorted(os.scandir(project), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        if len(out) >= limit:
            break
        if entry.name.startswith(".") or entry.name in ("build", "node_modules", "target"):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
        except OSError:
            continue
        for n in ("build.gradle", "build.gradle.kts"):
            p = os.path.join(entry.path, n)
            if os.path.isfile(p):
                out.append(p)
    return out[:limit]
