#!/usr/bin/env bash
# Install what the fleet tests (tests/test_fleet*.py) need:
#   prometheus              prometheus + promtool (Debian): scrapes `hardoctor serve`,
#                           checks the exposition and the alert rules
#   prometheus-pushgateway  receives `hardoctor check --push-gateway`
#   kubernetes-validate     (PyPI) validates deploy/kubernetes against Kubernetes schemas
# Nothing is started here: the tests start their own processes on 127.0.0.1.
# Idempotent: packages already installed are left alone, and `apt-get update`
# runs at most once, only when something is missing.
set -euo pipefail

PY="${PYTHON:-python3}"
PACKAGES=(
  prometheus
  prometheus-pushgateway
)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-fleet: all present (${PACKAGES[*]})"
else
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    SUDO=(sudo)
  fi
  echo "install-fleet: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for a concurrent apt/dpkg (another install script) instead of failing.
  APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
  "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -qq
  "${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}"
fi

for bin in prometheus promtool prometheus-pushgateway; do
  command -v "$bin" >/dev/null || { echo "install-fleet: $bin still missing" >&2; exit 1; }
done

# Also in the `test` extra (pyproject); installed here too so the fleet tests
# run before the next `pip install -e '.[test]'`.
"$PY" -c 'import kubernetes_validate' 2>/dev/null || \
  "$PY" -m pip install --quiet --disable-pip-version-check 'kubernetes-validate>=1.28'
echo "install-fleet: done"
