"""Exceptions that cross the core/plugin wall."""

from __future__ import annotations


class UsageError(Exception):
    """A bad command-line or environment value (exit 2, one line).

    Plugins raise it from ``hardoctor_configure`` when one of their own
    options is wrong; the plugin manager lets it through instead of turning
    it into an HD002 finding, since the person, not the plugin, has to act.
    The message names the option (or variable) and the accepted form, and
    never quotes a secret.
    """
