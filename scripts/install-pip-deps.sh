#!/usr/bin/env bash
# Install what the pip plugin's real tests (tests/test_pip_e2e.py) need:
# pypiserver, in its own virtualenv OUTSIDE the repository, so it never
# pollutes the environment the tests (and hardoctor) run in.
#
#   HARDOCTOR_PYPISERVER_VENV   where the venv goes
#                               (default /opt/hardoctor-test/pypiserver-venv)
#   HARDOCTOR_OLD_PIP_VENV      a second venv with pip 24.0, the last pip
#                               generation whose requests looks up
#                               `user@host` in .netrc (default
#                               /opt/hardoctor-test/pip24-venv)
#
# tests/servers/pypiserver.py finds `pypi-server` there (or through the
# environment variable HARDOCTOR_PYPISERVER, the path of the executable).
# The clients are the pip of each venv (the pypiserver venv's own, current
# pip, and pip 24.0).  Idempotent and fast when already installed.
set -euo pipefail

VENV="${HARDOCTOR_PYPISERVER_VENV:-/opt/hardoctor-test/pypiserver-venv}"
OLD="${HARDOCTOR_OLD_PIP_VENV:-/opt/hardoctor-test/pip24-venv}"
PY="${PYTHON:-python3}"

# The pypiserver venv's pip is also the "current pip" client (25.2+).
ready() {
  [ -x "$VENV/bin/pypi-server" ] &&
    "$VENV/bin/python" -c 'import pypiserver, passlib, bcrypt, pip, sys
sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) < (25, 2))' 2>/dev/null
}

old_ready() {
  [ -x "$OLD/bin/python" ] &&
    "$OLD/bin/python" -c 'import pip, sys; sys.exit(pip.__version__ != "24.0")' 2>/dev/null
}

if ! old_ready; then
  echo "install-pip: creating $OLD (pip 24.0)"
  mkdir -p "$(dirname "$OLD")"
  "$PY" -m venv "$OLD"
  "$OLD/bin/python" -m pip install --quiet --disable-pip-version-check 'pip==24.0'
  old_ready || { echo "install-pip: pip 24.0 missing in $OLD" >&2; exit 1; }
fi

if ready; then
  echo "install-pip: pypiserver present in $VENV, pip 24.0 in $OLD"
  exit 0
fi

echo "install-pip: creating $VENV"
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV"
# bcrypt 4.1+ breaks passlib at import (passlib reads bcrypt.__about__);
# bcrypt 5 crashes it outright.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  'pip>=25.2' pypiserver passlib 'bcrypt<4.1'

ready || { echo "install-pip: pypiserver still not importable in $VENV" >&2; exit 1; }
echo "install-pip: done ($("$VENV/bin/pypi-server" --version 2>/dev/null || echo pypiserver))"
