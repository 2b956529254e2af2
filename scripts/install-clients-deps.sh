#!/usr/bin/env bash
# Install the real package clients the client tests (tests/test_clients_*.py)
# run, each pinned to the version docs/clients.md names ("Versions verified"):
#
#   uv 0.13.9, Poetry 2.5.1, twine 7.0.0   PyPI, one venv outside the repository
#                                          ($HARDOCTOR_CLIENTS_VENV, default
#                                          /opt/hardoctor-test/clients-venv)
#   pnpm 12.23.0, Yarn Berry 4.18.1        npm (`pnpm`, `@yarnpkg/cli-dist`), one
#                                          folder ($HARDOCTOR_CLIENTS_NPM, default
#                                          /opt/hardoctor-test/clients-npm)
#   podman, buildah                        Debian (bookworm: 4.3 / 1.28)
#
# tests/servers/clients.py finds them there.  Idempotent and quiet: each part
# is installed only when missing or at another version; `apt-get update` runs
# at most once, only when a Debian package is missing.
set -euo pipefail

PY="${PYTHON:-python3}"
VENV="${HARDOCTOR_CLIENTS_VENV:-/opt/hardoctor-test/clients-venv}"
NPMDIR="${HARDOCTOR_CLIENTS_NPM:-/opt/hardoctor-test/clients-npm}"
UV_V="0.13.9"
POETRY_V="2.5.1"
TWINE_V="7.0.0"
PNPM_V="12.23.0"
YARN_V="4.18.1"
DEBS=(podman buildah uidmap)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  SUDO=(sudo)
fi

# --- Debian: podman, buildah -------------------------------------------------
installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
missing=()
for pkg in "${DEBS[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-clients: installing ${missing[*]} (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
  "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -qq
  "${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}"
fi
for bin in podman buildah; do
  command -v "$bin" >/dev/null || { echo "install-clients: $bin still missing" >&2; exit 1; }
done

# --- PyPI: uv, Poetry, twine -------------------------------------------------
py_ready() {
  [ -x "$VENV/bin/uv" ] && [ -x "$VENV/bin/poetry" ] && [ -x "$VENV/bin/twine" ] &&
    "$VENV/bin/python" - "$UV_V" "$POETRY_V" "$TWINE_V" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
want = dict(zip(("uv", "poetry", "twine"), sys.argv[1:]))
sys.exit(any(version(name) != v for name, v in want.items()))
PYEOF
}
if ! py_ready; then
  echo "install-clients: installing uv $UV_V, poetry $POETRY_V, twine $TWINE_V into $VENV"
  "${SUDO[@]}" mkdir -p "$(dirname "$VENV")"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "uv==$UV_V" "poetry==$POETRY_V" "twine==$TWINE_V"
  py_ready || { echo "install-clients: uv/poetry/twine missing in $VENV" >&2; exit 1; }
fi

# --- npm: pnpm, Yarn Berry ---------------------------------------------------
npm_version() {
  node -e 'try{process.stdout.write(require(process.argv[1]).version)}catch(e){}' \
    "$NPMDIR/node_modules/$1/package.json" 2>/dev/null || true
}
if [ "$(npm_version pnpm)" != "$PNPM_V" ] || [ "$(npm_version @yarnpkg/cli-dist)" != "$YARN_V" ]; then
  echo "install-clients: installing pnpm $PNPM_V, @yarnpkg/cli-dist $YARN_V into $NPMDIR"
  "${SUDO[@]}" mkdir -p "$NPMDIR"
  if [ "${#SUDO[@]}" -gt 0 ]; then
    "${SUDO[@]}" chown "$(id -u):$(id -g)" "$NPMDIR"
  fi
  cat > "$NPMDIR/package.json" <<JSON
{
  "name": "hardoctor-test-clients",
  "private": true,
  "description": "pnpm and Yarn Berry for hardoctor's client tests (scripts/install-clients-deps.sh)",
  "dependencies": { "pnpm": "$PNPM_V", "@yarnpkg/cli-dist": "$YARN_V" }
}
JSON
  tmp_cache="$(mktemp -d)"
  trap 'rm -rf "$tmp_cache"' EXIT
  (
    cd "$NPMDIR"
    env -u NPM_CONFIG_USERCONFIG npm_config_userconfig=/dev/null \
      npm_config_cache="$tmp_cache" npm_config_update_notifier=false \
      npm install --no-audit --no-fund --omit=dev --loglevel=error >/dev/null
  )
fi
[ -f "$NPMDIR/node_modules/pnpm/bin/pnpm.mjs" ] || { echo "install-clients: pnpm missing" >&2; exit 1; }
[ -f "$NPMDIR/node_modules/@yarnpkg/cli-dist/bin/yarn.js" ] || { echo "install-clients: yarn missing" >&2; exit 1; }
echo "install-clients: uv $UV_V, poetry $POETRY_V, twine $TWINE_V, pnpm $PNPM_V, yarn $YARN_V, $(podman --version), $(buildah --version | cut -d' ' -f1-3)"
