#!/usr/bin/env bash
# Install the Debian packages the real test servers in tests/servers need.
# Idempotent: packages already installed are left alone, and `apt-get update`
# runs at most once, only when something is missing.
set -euo pipefail

PACKAGES=(
  docker-registry  # distribution 2.8: `docker-registry serve config.yml`
  skopeo           # real registry client (push/inspect)
  apache2-utils    # htpasswd -B (bcrypt) for the htpasswd registry
  docker.io        # dockerd + containerd + runc, and the docker CLI
  # A desktop's credential store: with docker-credential-pass and pass on
  # PATH `docker login` stores logins there by itself.  Installed so that
  # the tests prove they control the store (tests/servers/dockerd.py).
  golang-docker-credential-helpers
  pass
)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system: all present (${PACKAGES[*]})"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  SUDO=(sudo)
fi

echo "install-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Wait for a concurrent apt/dpkg (e.g. another setup step) instead of failing.
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -qq
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}"

for bin in docker-registry skopeo htpasswd dockerd containerd docker; do
  command -v "$bin" >/dev/null || { echo "install-system: $bin still missing" >&2; exit 1; }
done
echo "install-system: done"
