"""Maven's settings, merged as Maven merges them (part of building the World).

User settings (``-s`` or ``~/.m2/settings.xml``) over global settings (``-gs``
or ``${maven.home}/conf/settings.xml``): servers and mirrors by id, the
user's winning (``MavenSettingsMerger``); ``${env.X}``, ``${user.home}`` ...
interpolated, unknown expressions left as they are -- and then sent
literally; passwords decrypted with the master password of
``settings-security.xml``.
"""

from __future__ import annotations

import os
import re

from hardoctor import lazyre
from hardoctor.context import Context
from hardoctor.model import Secret
from hardoctor.records import dataclass, field
from hardoctor.tokens import PeelError

from .cipher import maven_decrypt_master
from .creds import decrypt_password
from .mvnfiles import SecurityFile, SettingsFile
from .sources import read_entry
from .state import FileEntry, Master, MirrorView, Password, ServerView, World

_EXPR = lazyre.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Interp:
    value: str = field(repr=False)
    unset_env: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()


def interpolate(value: str, ctx: Context, props: dict[str, str]) -> Interp:
    """Maven's settings/model interpolation: ``${env.X}`` from the
    environment, then properties; anything unknown stays literally."""
    unset: list[str] = []
    unresolved: list[str] = []

    def sub(m: re.Match[str]) -> str:
        name = m.group(1).strip()
        if name.startswith("env."):
            var = name[4:]
            got = ctx.getenv(var)
            if got is None:
                unset.append(var)
                return m.group(0)
            return got
        if name in props:
            return props[name]
        unresolved.append(name)
        return m.group(0)

    out = value
    for _ in range(5):  # nested references, bounded
        new = _EXPR.sub(sub, out)
        if new == out:
            break
        out = new
    return Interp(out, tuple(dict.fromkeys(unset)), tuple(dict.fromkeys(unresolved)))


def settings_props(ctx: Context, w: World) -> dict[str, str]:
    props = {"user.home": ctx.home, "user.name": ctx.getenv("USER") or ""}
    if w.maven_home:
        props["maven.home"] = w.maven_home
    props.update(w.args.properties)
    return props


def settings_files(w: World) -> list[tuple[FileEntry, SettingsFile]]:
    out = []
    for e in (w.user, w.glob):
        if e is not None and isinstance(e.parsed, SettingsFile):
            out.append((e, e.parsed))
    return out


def read_master(ctx: Context, w: World) -> None:
    path = w.args.properties.get("settings.security") or os.path.join(
        ctx.home, ".m2", "settings-security.xml")
    path = ctx.env.expand_home(path)
    entry = read_entry(ctx, w, path, "security", "user", "Maven settings-security.xml (master password)")
    for _ in range(3):  # <relocation> chains, bounded
        if entry is None or not isinstance(entry.parsed, SecurityFile) or not entry.parsed.relocation:
            break
        target = ctx.env.expand_home(entry.parsed.relocation)
        if not os.path.isabs(target):
            target = os.path.join(os.path.dirname(path), target)
        path = target
        entry = read_entry(ctx, w, target, "security", "user",
                      "Maven settings-security.xml (relocated master password)")
    w.security_entry = entry
    if entry is None:
        w.master = Master("missing", path, detail=f"{ctx.display_path(path)} does not exist")
        return
    if entry.text is None:
        w.master = Master("unreadable", path, detail=f"{ctx.display_path(path)} cannot be read")
        return
    if entry.error is not None or not isinstance(entry.parsed, SecurityFile):
        w.master = Master("invalid", path, detail=f"{ctx.display_path(path)} is not valid XML")
        return
    sec = entry.parsed
    if not sec.master:
        w.master = Master("empty", path, line=None,
                          detail=f"{ctx.display_path(path)} has no <master>")
        return
    Secret(sec.master)  # registered for redaction
    try:
        secret = maven_decrypt_master(sec.master)
    except PeelError as exc:
        w.master = Master("undecryptable", path, line=sec.master_line,
                          detail=f"the <master> in {ctx.display_path(path)} {exc}")
        return
    w.master = Master("ok", path, secret, sec.master_line)


def merge_servers(ctx: Context, w: World) -> None:
    props = settings_props(ctx, w)
    by_id: dict[str, ServerView] = {}
    for entry, sf in settings_files(w):
        seen: dict[str, int] = {}
        file_ids: dict[str, ServerView] = {}
        for srv in sf.servers:
            sid = interpolate(srv.id, ctx, props).value
            n = seen.get(sid, 0) + 1
            seen[sid] = n
            cred_id = f"maven:{entry.path}#server[{sid}]" + (f"#{n}" if n > 1 else "")
            user = interpolate(srv.username, ctx, props) if srv.username is not None else None
            raw_pw = interpolate(srv.password, ctx, props) if srv.password is not None else None
            # Everything secret in the block is registered for redaction at once,
            # also what is never sent (header values, passphrase, the
            # encrypted form): a fix's diff may show those lines.
            for value in (srv.password, raw_pw.value if raw_pw else None, srv.passphrase,
                          *(h.value for h in srv.headers)):
                if value:
                    Secret(value)
            pw = decrypt_password(raw_pw.value if raw_pw else None, w.master)
            if raw_pw is not None and raw_pw.unset_env:
                pw = Password(pw.sent, "env-unset", pw.encrypted, pw.detail, raw_pw.unset_env)
            view = ServerView(srv, entry, sid, user.value if user else None, pw, cred_id,
                              user.unset_env if user else ())
            w.servers.append(view)
            # Within one file the last duplicate wins (a map put); a user
            # file's id hides the global file's (MavenSettingsMerger).
            if sid in file_ids:
                file_ids[sid].lost_to = view
            file_ids[sid] = view
        for sid, view in file_ids.items():
            if sid in by_id:
                view.lost_to = by_id[sid]
                continue
            by_id[sid] = view
    for view in by_id.values():
        view.effective = True
    w.server_by_id = by_id


def merge_mirrors(ctx: Context, w: World) -> None:
    props = settings_props(ctx, w)
    user_ids: set[str] = set()
    for entry, sf in settings_files(w):
        ids: set[str] = set()
        for m in sf.mirrors:
            mid = interpolate(m.id, ctx, props).value
            if entry.role == "global" and mid in user_ids:
                continue  # shallowMergeById: the user's mirror with this id wins
            ids.add(mid)
            w.mirrors.append(MirrorView(
                m, entry, mid, interpolate(m.mirror_of, ctx, props).value,
                strip_userinfo(interpolate(m.url, ctx, props).value).rstrip("/"), m.layouts,
                m.blocked))
        user_ids |= ids if entry.role == "user" else set()




def strip_userinfo(url: str) -> str:
    """The URL without ``user:password@`` (the password is registered as a
    secret, so it is scrubbed wherever it might still appear)."""
    m = re.match(r"^([a-z][a-z0-9+.-]*://)([^/@]*)@(.*)$", url, re.I | re.S)
    if not m:
        return url
    _, _, password = m.group(2).partition(":")
    if password:
        Secret(password)
    return m.group(1) + m.group(3)


