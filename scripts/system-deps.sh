#!/usr/bin/env bash
# The Debian packages the tests need, checked (and installed, when run as root where apt-get exists):
#   chromium     the console's browser tests drive Debian's Chromium, /usr/bin/chromium (never a browser
#                that Playwright downloads)
#   postgresql   tests/pg and the API suite's PostgreSQL run start throw-away clusters from the server
#                binaries (initdb, pg_ctl, postgres; $NUAGE_PG_BIN, /usr/lib/postgresql/*/bin or the PATH)
#   haproxy      the scale-out tests put it in front of several gateways
#   curl         the pages of docs/ wait for a server with it (tests/api/test_*_doc.py run their commands)
# With names as arguments, only those are checked; `python3-venv` is also known (Debian splits venv and
# ensurepip out of python3; .ci/run asks for it before it makes the virtualenv).
# Used by scripts/test.sh (before the tests) and .ci/run: the one place that knows these packages.
# Exit status 0 when everything is there (or was installed); otherwise one line says what to install, 1.
set -uo pipefail

present() {
  case $1 in
    chromium) [ -x /usr/bin/chromium ] ;;
    postgresql)
      [ -n "${NUAGE_PG_BIN:-}" ] && [ -x "$NUAGE_PG_BIN/initdb" ] && return 0
      compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 ;;
    haproxy) command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] ;;
    curl) command -v curl >/dev/null 2>&1 ;;
    python3-venv) python3 -c 'import ensurepip, venv' >/dev/null 2>&1 ;;
    *) echo "system-deps.sh: unknown package $1" >&2; exit 2 ;;
  esac
}

wanted=("$@")
((${#wanted[@]})) || wanted=(chromium postgresql haproxy curl)
missing=()
for package in "${wanted[@]}"; do
  present "$package" || missing+=("$package")
done
((${#missing[@]})) || exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Debian packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  still=()
  for package in "${missing[@]}"; do
    present "$package" || still+=("$package")
  done
  ((${#still[@]})) || exit 0
  missing=("${still[@]}")
fi
echo "missing system packages the tests need: install them with: sudo apt-get install ${missing[*]}" >&2
exit 1
