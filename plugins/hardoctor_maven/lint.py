"""Offline findings, per source, with their fixes (the *lint* role).

The checks live by file kind: :mod:`~hardoctor_maven.lint_settings` for
settings.xml, :mod:`~hardoctor_maven.lint_project` for POMs and Gradle files;
this module picks them and holds the few that stand alone (XML errors,
settings-security.xml, .mvn/maven.config).  :mod:`~hardoctor_maven.linter`
has what they share, :mod:`~hardoctor_maven.fixes` the edits.
"""

from __future__ import annotations

from collections.abc import Callable

from hardoctor.context import Context
from hardoctor.model import Finding, Location, Remediation

from .fixes import ENCRYPT_DOCS
from .lint_project import lint_gradle_properties, lint_gradle_script, lint_pom
from .lint_settings import lint_settings
from .linter import Linter
from .mvnfiles import Pom, SecurityFile, SettingsFile
from .state import FileEntry, World


def lint(w: World, entry: FileEntry, ctx: Context) -> list[Finding]:
    lt = Linter(w, entry, ctx)
    if entry.text is None:
        return lt.out  # unreadable: HD003 from the core
    if entry.error is not None:
        _xml_error(lt)
        return lt.out
    check = _check_for(entry)
    if check is not None:
        check(lt)
    return lt.out


def _check_for(entry: FileEntry) -> Callable[[Linter], None] | None:
    parsed = entry.parsed
    if entry.kind == "settings" and isinstance(parsed, SettingsFile):
        return lambda lt: lint_settings(lt, parsed)
    if entry.kind == "pom" and isinstance(parsed, Pom):
        return lint_pom
    if entry.kind == "security" and isinstance(parsed, SecurityFile):
        return _security
    return {"maven-config": _maven_config, "gradle-properties": lint_gradle_properties,
            "gradle-script": lint_gradle_script}.get(entry.kind)


def _xml_error(lt: Linter) -> None:
    err = lt.entry.error
    assert err is not None
    what = {"settings": "settings", "pom": "POM", "security": "settings-security"}.get(
        lt.entry.kind, "XML")
    if lt.entry.kind == "security":
        why = ("Maven cannot read the master password, so every encrypted <password> is "
               "sent as the encrypted text and refused.")
    elif lt.entry.kind == "pom":
        why = "Maven stops with `Non-parseable POM` before contacting any repository."
    else:
        why = ("Maven stops with `Non-parseable settings` before contacting any repository "
               "(or, for a problem it tolerates, ignores the file's servers).")
    lt.add(
        "MVN001", f"{lt.name} is not a {what} file Maven can read: {err.message}.",
        location=Location(lt.entry.path, err.line, err.column), why=why,
        remediation=Remediation(
            "Correct the XML at that line." + (
                " Remove the <!DOCTYPE> and entity declarations: Maven files never need "
                "them." if err.hostile else " Write `&` in a value as `&amp;`."),
        ),
    )


def _security(lt: Linter) -> None:
    master = lt.w.master
    users = [v for v in lt.w.servers if v.password.encrypted and v.effective]
    if master.state == "undecryptable" and users:
        lt.add(
            "MVN007",
            f"The <master> in {lt.name} cannot be decrypted; Maven can decrypt none of "
            f"the {len(users)} encrypted password(s).",
            location=Location(lt.entry.path, master.line),
            why="The master password must itself be encrypted with `mvn "
                "--encrypt-master-password` (key `settings.security`); a plaintext or "
                "damaged <master> makes every encrypted <password> unusable.",
            remediation=Remediation(
                "Encrypt the master password again, then every server password with it.",
                commands=("mvn --encrypt-master-password", "mvn --encrypt-password"),
                docs=(ENCRYPT_DOCS,)),
        )


def _maven_config(lt: Linter) -> None:
    for opt, path in lt.w.args.missing:
        lt.add(
            "MVN016",
            f"{lt.name} passes {opt} {lt.ctx.display_path(path)}, which does not exist.",
            location=Location(lt.entry.path),
            why="Maven stops with 'The specified settings file does not exist'.",
            remediation=Remediation("Create the file or correct the path."),
        )
