#!/usr/bin/env bash
# The whole check, as README.md and .ci/run run it: ruff, mypy (strict), import-linter, then pytest
# (unit, real-server API tests with boto3/awscli over HTTP and HTTPS, crash tests) on up to 4 workers, then
# the API tests again on PostgreSQL.
# Every step runs even when an earlier one fails; the exit status is non-zero if any step failed.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/api/test_objects.py -x
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${NUAGE_VENV:-.venv}/bin
export PATH="$PWD/$BIN:$PATH"
failed=()

# the Debian packages the tests need (Chromium, PostgreSQL, haproxy, curl): installed when run as root,
# otherwise one line says what to install, and nothing runs
scripts/system-deps.sh || exit 1

step() {
  local name=$1; shift
  echo "==> $name"
  if ! "$@"; then failed+=("$name"); fi
}

step "ruff" ruff check src tests
step "mypy" mypy
step "import-linter" lint-imports
step "pytest" pytest -n auto --maxprocesses=4 -q "$@"
# the API tests again with every server on PostgreSQL (a throw-away cluster the tests start from Debian's
# postgresql package; they fail, never skip, when it is missing)
if (($#)); then
  step "pytest on PostgreSQL" env NUAGE_TEST_DB=postgresql pytest -n auto --maxprocesses=4 -q "$@"
else
  step "pytest on PostgreSQL" env NUAGE_TEST_DB=postgresql pytest -n auto --maxprocesses=4 -q tests/api
fi

if ((${#failed[@]})); then
  echo "FAILED steps: ${failed[*]}"
  exit 1
fi
echo "All checks passed."
