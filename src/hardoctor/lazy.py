"""Submodules imported on first use, so start-up pays only for what runs.

A plugin's ``__init__`` holds its hook implementations and needs its other
modules (config parsers, lint, probe, diagnosis, YAML/XML machinery) only
when a hook has something to do.  Importing them all when the plugin is
registered would make every run -- ``check --offline`` on an empty HOME
too -- pay for every plugin's every module.  :func:`submodules` returns
module objects that execute on the first attribute access
(:class:`importlib.util.LazyLoader`), so the hook code stays as written::

    if TYPE_CHECKING:                      # the type checker sees real imports
        from . import config, diagnose, lint
    else:
        config, diagnose, lint = submodules(__name__, "config", "diagnose", "lint")

A module that is already imported is returned as it is.  An error in a
lazily imported module surfaces at its first use, inside a hook, where the
plugin manager turns it into an ``HD002`` finding naming the plugin.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def submodule(package: str, name: str) -> ModuleType:
    """``package.name``, executed on first attribute access."""
    fullname = f"{package}.{name}"
    found = sys.modules.get(fullname)
    if found is not None:
        return found
    spec = importlib.util.find_spec(fullname)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {fullname!r}", name=fullname)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[fullname] = module
    loader.exec_module(module)
    parent = sys.modules.get(package)
    if parent is not None:
        setattr(parent, name, module)
    return module


def submodules(package: str, *names: str) -> tuple[ModuleType, ...]:
    """:func:`submodule` for each name, in order."""
    return tuple(submodule(package, name) for name in names)
