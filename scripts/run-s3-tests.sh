#!/usr/bin/env bash
# Run ceph/s3-tests (fetched outside this repository) against a fresh Nuage server.
# Usage: scripts/run-s3-tests.sh OUTDIR [extra pytest args...]
# Needs ../shared/s3-tests (the runner) and S3TESTS_SRC or an already prepared $PEERS_HOME/s3-tests.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: run-s3-tests.sh OUTDIR [pytest args]}; shift
RUNNER=${S3TESTS_RUNNER:-$HERE/../shared/s3-tests/s3tests-run.sh}
NUAGE=${NUAGE_BIN:-$HERE/.venv/bin/nuage}
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
DATA=$(mktemp -d /tmp/nuage-s3t.XXXXXX)
# shellcheck source=scripts/s3tests-keys.sh
source "$HERE/scripts/s3tests-keys.sh"
s3tests_keys "$DATA"
"$NUAGE" serve --port "$PORT" --console-port 0 --data "$DATA" > "$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2; done
s3tests_alt_policy "http://127.0.0.1:$PORT"
S3_MAIN_USER_ID=$MAIN_ID S3_MAIN_DISPLAY_NAME="M. Tester" \
  "$RUNNER" "http://127.0.0.1:$PORT" "$OUT" "$@" || rc=$?
cp "$DATA/server.log" "$OUT/server.log" 2>/dev/null || true
s3tests_faults "$OUT/server.log"
exit "${rc:-0}"
