#!/usr/bin/env bash
# Install what the npm plugin's live tests start: verdaccio (a real npm
# registry) into a fixed folder outside the repository.  Node and npm
# themselves come from Debian (nodejs, npm) when missing.
#
# Idempotent and fast when everything is there.  Where verdaccio goes:
#   $HARDOCTOR_VERDACCIO   (default /opt/hardoctor-test/verdaccio)
#
# verdaccio 6.8.0 is the last release that runs on Node 20.  A plain
# `npm install verdaccio@6.8.0` fails here (a dependency asks for a
# node-fetch dist-tag this registry does not expose); pinning node-fetch
# with "overrides" in the wrapping package.json fixes it.
set -euo pipefail

DEST="${HARDOCTOR_VERDACCIO:-/opt/hardoctor-test/verdaccio}"
VERSION="6.8.0"
BIN="$DEST/node_modules/.bin/verdaccio"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  SUDO=(sudo)
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install-npm: installing nodejs and npm (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
  "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -qq
  "${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends nodejs npm
fi

installed_version() {
  node -e 'try{process.stdout.write(require(process.argv[1]).version)}catch(e){}' \
    "$DEST/node_modules/verdaccio/package.json" 2>/dev/null || true
}

if [ -x "$BIN" ] && [ "$(installed_version)" = "$VERSION" ]; then
  echo "install-npm: verdaccio $VERSION present in $DEST"
  exit 0
fi

echo "install-npm: installing verdaccio $VERSION into $DEST"
"${SUDO[@]}" mkdir -p "$DEST"
if [ "${#SUDO[@]}" -gt 0 ]; then
  "${SUDO[@]}" chown "$(id -u):$(id -g)" "$DEST"
fi
cat > "$DEST/package.json" <<JSON
{
  "name": "hardoctor-test-verdaccio",
  "private": true,
  "description": "verdaccio for hardoctor's npm tests (scripts/install-npm-deps.sh)",
  "dependencies": { "verdaccio": "$VERSION" },
  "overrides": { "node-fetch": "2.7.0" }
}
JSON
# An isolated npm: no user or project config of the machine, its own cache.
tmp_cache="$(mktemp -d)"
trap 'rm -rf "$tmp_cache"' EXIT
(
  cd "$DEST"
  env -u NPM_CONFIG_USERCONFIG npm_config_userconfig=/dev/null \
    npm_config_cache="$tmp_cache" npm_config_update_notifier=false \
    npm install --no-audit --no-fund --omit=dev --loglevel=error
)
[ -x "$BIN" ] || { echo "install-npm: $BIN missing after install" >&2; exit 1; }
echo "install-npm: verdaccio $(installed_version) installed"
