#!/usr/bin/env bash
# Install what the pip plugin's real tests (tests/test_pip_e2e.py) need:
# pypiserver, in its own virtualenv OUTSIDE the repository, so it never
# pollutes the environment the tests (and hardoctor) run in.
#
#   HARDOCTOR_PYPISERVER_VENV   where the venv goes
#                               (default /opt/hardoctor-test/pypiserver-venv)
#
# tests/servers/pypiserver.py finds `pypi-server` there (or through the
# environment variable HARDOCTOR_PYPISERVER, the path of the executable).
# Idempotent and fast when already installed.  The client side is the pip
# that comes with Python itself: nothing to install.
set -euo pipefail

VENV="${HARDOCTOR_PYPISERVER_VENV:-/opt/hardoctor-test/pypiserver-venv}"
PY="${PYTHON:-python3}"

ready() {
  [ -x "$VENV/bin/pypi-server" ] &&
    "$VENV/bin/python" -c 'import pypiserver, passlib, bcrypt' 2>/dev/null
}

if ready; then
  echo "install-pip: pypiserver present in $VENV"
  exit 0
fi

echo "install-pip: creating $VENV"
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV"
# bcrypt 4.1+ breaks passlib at import (passlib reads bcrypt.__about__);
# bcrypt 5 crashes it outright.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  pypiserver passlib 'bcrypt<4.1'

ready || { echo "install-pip: pypiserver still not importable in $VENV" >&2; exit 1; }
echo "install-pip: done ($("$VENV/bin/pypi-server" --version 2>/dev/null || echo pypiserver))"
