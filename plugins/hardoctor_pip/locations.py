"""Where pip, uv and Poetry keep their configuration on each platform, as
each client computes it (``ctx.env.platform``: ``linux``, ``darwin``,
``win32``).

pip (``pip/_internal/configuration.py`` and ``pip/_internal/utils/appdirs.py``):

* file name: ``pip.ini`` on Windows, ``pip.conf`` elsewhere;
* global: Linux ``$XDG_CONFIG_DIRS/pip`` (default ``/etc/xdg``) then
  ``/etc``; macOS ``/Library/Application Support/pip``; Windows
  ``%PROGRAMDATA%\\pip``;
* user, legacy first: ``~/.pip`` (Windows ``~\\pip``), then Linux
  ``$XDG_CONFIG_HOME/pip``; macOS ``~/Library/Application Support/pip`` *when
  that directory exists*, else ``~/.config/pip`` (pip's own
  ``_macos_user_config_dir``; ``XDG_CONFIG_HOME`` is not read there);
  Windows ``%APPDATA%\\pip`` (platformdirs' roaming ``user_config_dir``);
* site: ``$VIRTUAL_ENV/pip.conf`` (``pip.ini``), then ``PIP_CONFIG_FILE``.

uv (``uv-dirs``): ``$XDG_CONFIG_HOME/uv`` or ``~/.config/uv`` on Linux and
macOS alike, ``%APPDATA%\\uv`` on Windows.  Poetry (platformdirs'
``user_config_dir("pypoetry", roaming=True)``): ``~/.config/pypoetry`` on
Linux, ``~/Library/Application Support/pypoetry`` on macOS,
``%APPDATA%\\pypoetry`` on Windows (``POETRY_CONFIG_DIR`` wins everywhere).

platformdirs itself is not used: it answers for the machine hardoctor runs
on, and pip's macOS rule is not platformdirs' (the directory must exist).
"""

from __future__ import annotations

import os

from hardoctor.context import Context

from .sources import ETC_ENV, xdg_config_dirs, xdg_config_home

MAC_APP_SUPPORT = os.path.join("Library", "Application Support")


def pip_basename(ctx: Context) -> str:
    return "pip.ini" if ctx.env.windows else "pip.conf"


def pip_global_dirs(ctx: Context) -> list[str]:
    if ctx.env.macos:
        return [os.path.join("/", MAC_APP_SUPPORT, "pip")]
    if ctx.env.windows:
        return [os.path.join(ctx.env.programdata(), "pip")]
    return [os.path.join(d, "pip") for d in xdg_config_dirs(ctx)]


def pip_user_dirs(ctx: Context) -> list[str]:
    """Legacy first, then the new location (a later file wins)."""
    home = ctx.home
    if ctx.env.windows:
        return [os.path.join(home, "pip"), os.path.join(ctx.env.appdata(), "pip")]
    legacy = os.path.join(home, ".pip")
    if ctx.env.macos:
        support = os.path.join(home, MAC_APP_SUPPORT, "pip")
        new = support if os.path.isdir(support) else os.path.join(home, ".config", "pip")
        return [legacy, new]
    return [legacy, os.path.join(xdg_config_home(ctx), "pip")]


def pip_file_paths(ctx: Context) -> list[tuple[str, str]]:
    """(variant, path) in pip's load order on the run's platform."""
    name = pip_basename(ctx)
    out = [("global", os.path.join(d, name)) for d in pip_global_dirs(ctx)]
    if not ctx.env.macos and not ctx.env.windows:
        etc = ctx.getenv(ETC_ENV)
        etc = "/etc/pip.conf" if etc is None else etc
        if etc:
            out.append(("global", etc))
    out += [("user", os.path.join(d, name)) for d in pip_user_dirs(ctx)]
    venv = ctx.getenv("VIRTUAL_ENV")
    if venv:
        out.append(("site", os.path.join(ctx.env.expand_home(venv), name)))
    env_file = ctx.getenv("PIP_CONFIG_FILE")
    if env_file is not None and env_file != os.devnull:
        out.append(("env", ctx.env.expand_home(env_file)))
    return out


def uv_user_dir(ctx: Context) -> str:
    if ctx.env.windows:
        return os.path.join(ctx.env.appdata(), "uv")
    return os.path.join(xdg_config_home(ctx), "uv")


def poetry_config_dir(ctx: Context) -> str:
    if ctx.env.windows:
        return os.path.join(ctx.env.appdata(), "pypoetry")
    if ctx.env.macos:
        return os.path.join(ctx.home, MAC_APP_SUPPORT, "pypoetry")
    return os.path.join(xdg_config_home(ctx), "pypoetry")
