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
export NUAGE_ROOT_ACCESS_KEY=0555b35654ad1656d804
export NUAGE_ROOT_SECRET_KEY='h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q=='
MAIN_ID=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
printf '{"access_key": "%s", "secret_key": "%s", "owner_id": "%s", "display_name": "M. Tester"}' \
  "$NUAGE_ROOT_ACCESS_KEY" "$NUAGE_ROOT_SECRET_KEY" "$MAIN_ID" > "$DATA/root-credentials.json"
"$NUAGE" keys add --data "$DATA" --access-key NOPQRSTUVWXYZABCDEFG \
  --secret-key nopqrstuvwxyzabcdefghijklmnabcdefghijklm --name john.doe \
  --owner-id 56789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234 >/dev/null
"$NUAGE" keys add --data "$DATA" --access-key HIJKLMNOPQRSTUVWXYZA \
  --secret-key opqrstuvwxyzabcdefghijklmnopqrstuvwxyzab --name 'testx$tenanteduser' \
  --owner-id 'testx$9876543210abcdef0123456789abcdef0123456789abcdef0123456789abcdef' >/dev/null
"$NUAGE" serve --port "$PORT" --data "$DATA" > "$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2; done
S3_MAIN_USER_ID=$MAIN_ID S3_MAIN_DISPLAY_NAME="M. Tester" \
  "$RUNNER" "http://127.0.0.1:$PORT" "$OUT" "$@" || rc=$?
cp "$DATA/server.log" "$OUT/server.log" 2>/dev/null || true
exit "${rc:-0}"
