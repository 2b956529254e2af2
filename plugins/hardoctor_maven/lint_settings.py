"""Lint of Maven's settings.xml (part of the *lint* role): passwords Maven
cannot send as meant, values it never decrypts, duplicate and unused
servers, mirrorOf lists that do not match, plaintext passwords others can
read or that git tracks."""

from __future__ import annotations

import stat

from hardoctor.fixes import digest
from hardoctor.model import Applicability, Edit, Fix, Location, Remediation, Severity

from . import analysis, mirrors
from .cipher import maven_encrypted
from .fixes import ENCRYPT_DOCS, text_edit
from .linter import Linter, committed, url_checks
from .mvnfiles import SettingsFile
from .state import MirrorView, ServerView


def lint_settings(lt: Linter, sf: SettingsFile) -> None:
    views = [v for v in lt.w.servers if v.entry is lt.entry]
    for v in views:
        _password(lt, v)
        _not_decrypted(lt, v)
        if v.lost_to is not None and v.lost_to.entry is lt.entry:
            _duplicate(lt, v)
    for m in lt.w.mirrors:
        if m.entry is lt.entry:
            _mirror(lt, m)
    plaintext = [v for v in views if v.password.sent and not v.password.encrypted]
    if plaintext:
        _committed_settings(lt, plaintext)
        _mode(lt, plaintext)
    for v in views:
        if v.effective and not lt.w.endpoint_for_server(v.id) and \
                not analysis.explained(lt.w, v) and lt.entry.role == "user":
            lt.add(
                "MVN018",
                f"<server> {v.id!r} in {lt.name} is not used by any repository or mirror "
                "this build contacts.",
                location=v.loc(), credential=v.cred_id,
                why="Maven looks servers up by the id of the repository or mirror it "
                    "contacts; nothing here has this id.",
            )


def _password(lt: Linter, v: ServerView) -> None:
    """What Maven sends instead of the password meant (MVN006/7/8/12/15)."""
    pw = v.password
    srv = v.server
    loc = lt.entry.loc(srv.password_elem or srv.elem, f"<server> {v.id} <password>")
    if v.username_unset or pw.unset_env:
        _unset(lt, v, loc)
    elif pw.state == "no-master" and lt.w.master.state == "undecryptable":
        pass  # the settings-security.xml finding names the real culprit
    elif pw.state in ("no-master", "wrong-master"):
        _undecryptable(lt, v, loc)
    elif pw.state in ("maven4", "braces"):
        _unreadable(lt, v, loc)


def _unset(lt: Linter, v: ServerView, loc: Location) -> None:
    pw = v.password
    reg = v.registry or None
    names = ", ".join(f"${n}" for n in (*v.username_unset, *pw.unset_env))
    lt.add(
        "MVN012",
        f"<server> {v.id!r} uses {names}, which is not set: Maven sends the text "
        f"`${{env.{(pw.unset_env or v.username_unset)[0]}}}` literally.",
        why="Maven leaves an unknown ${...} expression as it is, so the registry gets the "
            "expression instead of the token and answers 401.",
        remediation=Remediation(
            "Set the variable in the environment Maven runs in.",
            commands=tuple(f'export {n}="..."' for n in
                           dict.fromkeys((*v.username_unset, *pw.unset_env))),
        ),
        location=loc, credential=v.cred_id, registry=reg,
    )


def _undecryptable(lt: Linter, v: ServerView, loc: Location) -> None:
    pw = v.password
    reg = v.registry or None
    master = lt.w.master
    mdisp = lt.ctx.display_path(master.path)
    if pw.state == "no-master":
        lt.add(
            "MVN006",
            f"The password of <server> {v.id!r} is encrypted, but {master.detail}: Maven "
            "sends the encrypted text as the password.",
            why="Maven decrypts {...} passwords with the master password from "
                "settings-security.xml; without it the decryption fails (logged only with "
                "-X) and the literal {...} goes to the registry, which answers 401.",
            remediation=Remediation(
                "Recreate the master password and encrypt the token again, or store the "
                "token without encryption.",
                steps=(f"Create {mdisp} with the output of the first command inside "
                       "<settingsSecurity><master>...</master></settingsSecurity>.",
                       "Encrypt the token and put the output in <password>."),
                commands=("mvn --encrypt-master-password", "mvn --encrypt-password"),
                docs=(ENCRYPT_DOCS,),
            ),
            location=loc, credential=v.cred_id, registry=reg,
        )
    elif pw.state == "wrong-master":
        lt.add(
            "MVN007",
            f"The password of <server> {v.id!r} does not decrypt with the master password "
            f"in {mdisp}: Maven sends the encrypted text.",
            why="The value was encrypted with another master password (a recreated "
                "settings-security.xml, another machine); Maven's decryption fails silently "
                "and the registry gets the literal {...} and answers 401.",
            remediation=Remediation(
                "Encrypt the token again with the current master password.",
                commands=("mvn --encrypt-password",), docs=(ENCRYPT_DOCS,)),
            location=loc, credential=v.cred_id, registry=reg,
        )


def _unreadable(lt: Linter, v: ServerView, loc: Location) -> None:
    pw = v.password
    reg = v.registry or None
    if pw.state == "maven4":
        v3 = (lt.w.maven_version or "").startswith("3.")
        lt.add(
            "MVN015",
            f"The password of <server> {v.id!r} uses Maven 4's encryption format"
            + (f"; the Maven here is {lt.w.maven_version}, which cannot decrypt it."
               if v3 else "; hardoctor cannot decrypt it to check the token."),
            severity=Severity.ERROR if v3 else None,
            why="Maven 3 sends the text as written (401); hardoctor cannot read Maven 4's "
                "master source, so the token itself is not checked.",
            remediation=Remediation(
                "With Maven 3, encrypt the token with `mvn --encrypt-password`.",
                docs=(ENCRYPT_DOCS,)),
            location=loc, credential=v.cred_id, registry=reg,
        )
    elif pw.state == "braces":
        lt.add(
            "MVN008",
            f"The plaintext password of <server> {v.id!r} contains {{...}}, which Maven "
            "takes for an encrypted value.",
            why="Maven tries to decrypt it; when that fails it sends the value as written "
                "(it works by luck, and -X logs 'Failed to decrypt password'); a value "
                "between the braces that does decrypt would be replaced by garbage.",
            remediation=Remediation(
                "Encrypt the password so it is unambiguous.",
                commands=("mvn --encrypt-password",), docs=(ENCRYPT_DOCS,)),
            location=loc, credential=v.cred_id, registry=reg,
        )


def _not_decrypted(lt: Linter, v: ServerView) -> None:
    srv = v.server
    if v.username and maven_encrypted(v.username) is not None and srv.username_elem is not None:
        lt.add(
            "MVN009",
            f"The username of <server> {v.id!r} is an encrypted {{...}} value; Maven never "
            "decrypts usernames.",
            location=lt.entry.loc(srv.username_elem, f"<server> {v.id} <username>"),
            credential=v.cred_id, registry=v.registry or None,
            why="Maven sends the encrypted text as the username.",
            remediation=Remediation("Write the username in plain text."),
        )
    for h in srv.headers:
        if maven_encrypted(h.value) is not None:
            lt.add(
                "MVN009",
                f"The HTTP header {h.name!r} of <server> {v.id!r} holds an encrypted "
                "{...} value; Maven never decrypts httpHeaders.",
                location=lt.entry.loc(h.elem, f"<server> {v.id} httpHeaders {h.name}"),
                credential=v.cred_id, registry=v.registry or None,
                why="The header goes out with the literal {...} text and the registry "
                    "rejects it.",
                remediation=Remediation(
                    "Put the token in <password> (which Maven decrypts) or use "
                    "${env.VAR} in the header value."),
            )


def _duplicate(lt: Linter, v: ServerView) -> None:
    winner = v.lost_to
    assert winner is not None
    line = winner.server.elem.line
    lt.add(
        "MVN013",
        f"<server> {v.id!r} appears more than once in {lt.name}; Maven uses the one at "
        f"line {line}.",
        location=v.loc(), credential=v.cred_id,
        why="An edit to this copy has no effect.",
        remediation=Remediation("Delete the copy you do not want."),
    )


def _mirror(lt: Linter, m: MirrorView) -> None:
    pieces = mirrors.untrimmed_pieces(m.mirror_of)
    elem = m.mirror.mirror_of_elem
    if pieces and elem is not None:
        escaped = [c for c in lt.w.contacts if not c.deploy and
                   mirrors.would_match_trimmed(c.repo.id, c.url, m.mirror_of) and
                   (c.mirror is None or c.mirror is not m)]
        leaked = [c for c in lt.w.contacts if not c.deploy and c.mirror is m and
                  not mirrors.would_match_trimmed(c.repo.id, c.url, m.mirror_of)]
        fixed = ",".join(p.strip() for p in m.mirror_of.split(","))
        shown = ", ".join(repr(p) for p in pieces)
        effect = ""
        if escaped:
            effect = (" Because of it " + ", ".join(repr(c.repo.id) for c in escaped)
                      + " bypass" + ("es" if len(escaped) == 1 else "") + " this mirror.")
        elif leaked:
            effect = (" Because of it " + ", ".join(repr(c.repo.id) for c in leaked)
                      + " still go" + ("es" if len(leaked) == 1 else "")
                      + " through it although excluded.")
        fix = Fix(f"trim mirrorOf of mirror {m.id!r} to {fixed!r}", Applicability.SAFE,
                  (text_edit(lt.entry, elem, fixed),))
        lt.add(
            "MVN005",
            f"<mirrorOf>{m.mirror_of}</mirrorOf> of mirror {m.id!r} has whitespace around a "
            f"comma ({shown} never matches)." + effect,
            location=lt.entry.loc(elem, f"<mirror> {m.id} <mirrorOf>"),
            registry=m.url or None,
            why="Maven splits mirrorOf on commas and does not trim the pieces, so a piece "
                "with a space matches no repository id.",
            evidence=tuple(f"{c.describe()} goes to {c.effective_url} (server id "
                           f"{c.server_id!r})" for c in escaped + leaked),
            remediation=Remediation(f"Write <mirrorOf>{fixed}</mirrorOf>."),
            fix=fix,
        )
    url_checks(lt, m.url, m.entry.loc(m.mirror.url_elem or m.mirror.elem,
                                        f"<mirror> {m.id} <url>"), f"mirror {m.id!r}")


def _committed_settings(lt: Linter, plaintext: list[ServerView]) -> None:
    if not lt.entry.tracked:
        return
    for v in plaintext:
        if v.password.state == "env-unset" or "${" in (v.server.password or ""):
            continue
        committed(lt, v.loc(), f"the password of <server> {v.id!r}", v.cred_id)


def _mode(lt: Linter, plaintext: list[ServerView]) -> None:
    mode = lt.entry.source.mode
    if mode is None or not mode & (stat.S_IRWXG | stat.S_IRWXO) or lt.entry.role != "user":
        return
    assert lt.entry.text is not None
    new = mode & ~(stat.S_IRWXG | stat.S_IRWXO)
    fix = Fix(f"chmod {new:o} {lt.name}", Applicability.SAFE,
              (Edit(lt.entry.path, 0, 0, "", digest(lt.entry.text), mode=new),))
    lt.add(
        "MVN020",
        f"{lt.name} holds plaintext passwords ({', '.join(repr(v.id) for v in plaintext)}) "
        f"and has mode {mode:04o}: other users can read it.",
        location=Location(lt.entry.path), fix=fix,
        why="Anyone on the machine can copy the tokens.",
        remediation=Remediation(f"chmod 600 {lt.name}", docs=(ENCRYPT_DOCS,)),
    )

# -- settings-security.xml ------------------------------------------------------------
