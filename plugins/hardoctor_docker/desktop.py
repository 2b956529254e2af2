"""Advice of their own for the platform credential helpers Docker Desktop
sets up: ``desktop`` (Docker Desktop's own, on macOS, Windows and Linux),
``osxkeychain`` (the macOS Keychain) and ``wincred`` (the Windows
Credential Manager).

These names in a config file say where the file was written.  Missing on
this machine, the usual story is a config copied from a laptop into a
server, a CI image or a WSL distribution (or Docker Desktop uninstalled);
failing, it is a keychain that cannot be unlocked in a non-interactive
session (SSH, CI runner, a Windows service).  Sources: Docker Desktop's
documentation (credential stores, WSL integration) and
docker-credential-helpers.
"""

from __future__ import annotations

from hardoctor.model import Remediation

#: helper -> (what it is, the platform it belongs to, None: every desktop platform)
HELPERS: dict[str, tuple[str, str | None]] = {
    "desktop": ("Docker Desktop's credential helper (it keeps logins in the system keychain)",
                None),
    "osxkeychain": ("the macOS Keychain helper", "darwin"),
    "wincred": ("the Windows Credential Manager helper", "win32"),
}
_NAMES = {"darwin": "macOS", "win32": "Windows", "linux": "Linux"}


def _where(platform: str) -> str:
    return _NAMES.get(platform, platform)


def missing(helper: str, platform: str, config: str) -> tuple[str, Remediation] | None:
    """(why, remediation) for a Docker Desktop helper that is not on PATH."""
    known = HELPERS.get(helper)
    if known is None:
        return None
    what, home = known
    remove = (f'Remove "credsStore": "{helper}" (or the credHelpers entries naming it) from '
              f"{config}, then log in again: the login is stored in the file or a helper "
              "installed here.")
    if home is not None and home != platform:
        why = (f"{what} exists only on {_where(home)}: this config was written there and "
               f"copied to this {_where(platform)} machine (a dotfiles repository, a CI image).")
        return why, Remediation(remove, commands=(
            "printf '%s' \"$TOKEN\" | docker login HOST -u USER --password-stdin",))
    if helper == "desktop":
        why = (f"{what} comes with Docker Desktop; it is not installed here (a server, a CI "
               "image, or a WSL distribution without Docker Desktop's WSL integration).")
        steps = [remove]
        if platform == "linux":
            steps.insert(0, "In WSL: turn on Docker Desktop > Settings > Resources > WSL "
                         "integration for this distribution, which puts "
                         "docker-credential-desktop.exe on PATH.")
        return why, Remediation("Use Docker Desktop here, or stop naming its helper.",
                                steps=tuple(steps))
    installer = ("brew install docker-credential-helper" if helper == "osxkeychain"
                 else "install Docker Desktop, or docker-credential-wincred.exe from "
                 "github.com/docker/docker-credential-helpers releases")
    return f"{what} is not installed.", Remediation(
        f"Install it ({installer}), or remove the entry and log in again.",
        steps=(remove,))


def failed(helper: str, platform: str) -> tuple[str, ...]:
    """Extra steps for a Docker Desktop helper that runs but fails."""
    if helper in ("osxkeychain", "desktop") and platform == "darwin":
        return ("The login keychain is locked in SSH and CI sessions: "
                "`security unlock-keychain ~/Library/Keychains/login.keychain-db`, or use a "
                "file-based login for that session (DOCKER_CONFIG pointing at a config without "
                "credsStore).",)
    if helper in ("wincred", "desktop") and platform == "win32":
        return ("The Windows Credential Manager is not available to services and some "
                "non-interactive sessions: run as the logged-in user, or use a file-based "
                "login (DOCKER_CONFIG pointing at a config without credsStore).",)
    if helper == "desktop":
        return ("Docker Desktop's helper forwards to the system keychain (pass or the Secret "
                "Service on Linux): unlock it, or start Docker Desktop once to set it up.",)
    return ()
