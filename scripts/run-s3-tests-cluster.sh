#!/usr/bin/env bash
# Run ceph/s3-tests (fetched outside this repository) against a fresh cluster: haproxy, configured from
# deploy/haproxy.cfg, in front of 3 Nuage gateways on one throw-away PostgreSQL database and one data folder.
# Usage: scripts/run-s3-tests-cluster.sh OUTDIR [extra pytest args...]
# Needs what scripts/run-s3-tests.sh needs, plus PostgreSQL's server binaries (Debian: /usr/lib/postgresql/*/bin,
# or $NUAGE_PG_BIN) and haproxy. Writes the runner's files to OUTDIR, and gw1.log, gw2.log, gw3.log,
# haproxy.cfg, haproxy.log and postgres.log. HAPROXY_CFG=FILE: derive haproxy's configuration from FILE instead.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: run-s3-tests-cluster.sh OUTDIR [pytest args]}; shift
RUNNER=${S3TESTS_RUNNER:-$HERE/../shared/s3-tests/s3tests-run.sh}
NUAGE=${NUAGE_BIN:-$HERE/.venv/bin/nuage}
HAPROXY=${HAPROXY_BIN:-$(command -v haproxy || echo /usr/sbin/haproxy)}
HAPROXY_CFG=${HAPROXY_CFG:-$HERE/deploy/haproxy.cfg}   # the configuration to derive haproxy's from
GATEWAYS=(gw1 gw2 gw3)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# PostgreSQL's binaries, as tests/support/postgres.py finds them: $NUAGE_PG_BIN, else the newest Debian version
PG_BIN=${NUAGE_PG_BIN:-}
if [[ -z $PG_BIN ]]; then
  for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4,4nr); do
    [[ -x $dir/initdb && -x $dir/pg_ctl ]] && { PG_BIN=$dir; break; }
  done
fi
[[ -n $PG_BIN && -x $PG_BIN/initdb ]] || { echo "no PostgreSQL server binaries: apt-get install postgresql" >&2; exit 2; }
[[ -x $HAPROXY ]] || { echo "no haproxy: apt-get install haproxy" >&2; exit 2; }
# PostgreSQL refuses to run as root: then the cluster belongs to an unprivileged user
AS=()
if [[ $(id -u) == 0 ]]; then
  for user in postgres nobody; do id "$user" >/dev/null 2>&1 && { AS=(runuser -u "$user" --); break; }; done
  [[ ${#AS[@]} -gt 0 ]] || { echo "running as root and no unprivileged user to run PostgreSQL as" >&2; exit 2; }
fi

WORK=$(mktemp -d /tmp/nuage-s3t-cluster.XXXXXX)
DATA=$WORK/data; mkdir "$DATA"
PG=$(mktemp -d /tmp/nuage-pg.XXXXXX)   # a folder of its own: $WORK is root's alone (0700)
[[ ${#AS[@]} -eq 0 ]] || chown "${AS[2]}" "$PG"
PIDS=()
PG_STARTED=
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -z $PG_STARTED ]] || "${AS[@]}" "$PG_BIN/pg_ctl" -D "$PG/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK" "$PG"
}
trap cleanup EXIT

PG_PORT=$(free_port)
"${AS[@]}" "$PG_BIN/initdb" -D "$PG/data" -U nuage --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
"${AS[@]}" "$PG_BIN/pg_ctl" -D "$PG/data" -l "$PG/server.log" -w -t 60 start -o "-c listen_addresses=127.0.0.1 \
-c port=$PG_PORT -c unix_socket_directories=$PG -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
-c max_connections=400 -c shared_buffers=32MB" >/dev/null
PG_STARTED=1
"${AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U nuage nuage
export NUAGE_DB="postgresql://nuage@127.0.0.1:$PG_PORT/nuage"
"$NUAGE" db migrate --db "$NUAGE_DB" >/dev/null

# shellcheck source=scripts/s3tests-keys.sh
source "$HERE/scripts/s3tests-keys.sh"
s3tests_keys "$DATA"

declare -A PORTS
for gw in "${GATEWAYS[@]}"; do
  PORTS[$gw]=$(free_port)
  "$NUAGE" serve --workers 1 --db "$NUAGE_DB" --data "$DATA" --port "${PORTS[$gw]}" --console-port 0 \
    > "$WORK/$gw.log" 2>&1 &
  PIDS+=($!)
  # one at a time: the first one alone on the empty data folder makes its key files (docs/postgresql.md)
  for try in $(seq 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORTS[$gw]}/_nuage/health") == 200 ]] && break
    [[ $try -lt 100 ]] || { echo "$gw did not start:" >&2; tail -20 "$WORK/$gw.log" >&2; exit 1; }
    sleep 0.2
  done
done

# deploy/haproxy.cfg as tests/pg/test_haproxy.py runs it: in the foreground as whoever runs this (no chroot,
# user, stats socket, daemon), the S3 frontend on a free port, one server line per gateway. The gateways
# have no console port here: the console's frontend and backend are left out. Its log (one line per
# request, naming the gateway that answered) goes to haproxy.log instead of syslog.
PROXY_PORT=$(free_port)
SERVERS=$(for gw in "${GATEWAYS[@]}"; do printf '\tserver %s 127.0.0.1:%s check\\n' "$gw" "${PORTS[$gw]}"; done)
awk -v port="$PROXY_PORT" -v servers="$SERVERS" -v errors="$HERE/deploy" '
  /^(frontend|backend|global|defaults)[ \t]/ || /^(global|defaults)$/ { skip = ($1 ~ /^(frontend|backend)$/ && $2 == "console") }
  skip { next }
  $1 == "log" && $2 != "global" { if (!logged) print "\tlog stdout format raw local0"; logged = 1; next }
  $1 ~ /^(chroot|user|group|daemon)$/ || ($1 == "stats" && $2 == "socket") { next }
  $1 == "bind" { print "\tbind 127.0.0.1:" port; next }
  $1 == "errorfile" { n = split($3, parts, "/"); print "\terrorfile " $2 " " errors "/" parts[n]; next }
  $1 == "server" { if (!done) printf "%s", servers; done = 1; next }
  { print }
' "$HAPROXY_CFG" > "$WORK/haproxy.cfg"
"$HAPROXY" -c -q -f "$WORK/haproxy.cfg"
"$HAPROXY" -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy.log" 2>&1 &
PIDS+=($!)
# until haproxy's health checks passed for every gateway (down after 2 failures, up after 2 successes)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PROXY_PORT/" && break; sleep 0.2; done
sleep 3

ENDPOINT="http://127.0.0.1:$PROXY_PORT"
s3tests_alt_policy "$ENDPOINT"
S3_MAIN_USER_ID=$MAIN_ID S3_MAIN_DISPLAY_NAME="M. Tester" "$RUNNER" "$ENDPOINT" "$OUT" "$@" || rc=$?
for file in gw1.log gw2.log gw3.log haproxy.cfg haproxy.log; do cp "$WORK/$file" "$OUT/$file" 2>/dev/null || true; done
cp "$PG/server.log" "$OUT/postgres.log" 2>/dev/null || true
s3tests_faults "$OUT/gw1.log" "$OUT/gw2.log" "$OUT/gw3.log"
exit "${rc:-0}"
