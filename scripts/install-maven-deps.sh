#!/usr/bin/env bash
# Install what the Maven tests (tests/test_maven_e2e.py) need: a real `mvn`,
# the Maven plugins Debian packages (served to mvn from a local repository
# copy, since there is no internet), nginx to serve that repository behind
# basic auth, and `defusedxml` (hardoctor's XML parser for settings.xml).
# Idempotent: packages already installed are left alone, and `apt-get update`
# runs at most once, only when something is missing.
set -euo pipefail

PACKAGES=(
  maven                           # mvn 3.8 (Debian)
  nginx                           # auth_basic + a directory in Maven layout
  libmaven-dependency-plugin-java # dependency:get, in /usr/share/maven-repo
  junit4                          # a plugin dependency of the above
)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-maven: all present (${PACKAGES[*]})"
else
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    SUDO=(sudo)
  fi
  echo "install-maven: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for a concurrent apt/dpkg (another install script) instead of failing.
  APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
  "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -qq
  "${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}"
fi

for bin in mvn nginx; do
  command -v "$bin" >/dev/null || { echo "install-maven: $bin still missing" >&2; exit 1; }
done

# A runtime dependency of hardoctor (pyproject); installed here too so the
# Maven tests run before the next `pip install -e .`.
python3 -c 'import defusedxml' 2>/dev/null || \
  python3 -m pip install --quiet --disable-pip-version-check 'defusedxml>=0.7'
echo "install-maven: done"
