#!/usr/bin/env bash
# Nuage benchmark: see bench/README.md. Usage: bench/run.sh [--quick] [options of bench/run.py]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"

# Nuage (and boto3, used to presign URLs and set up buckets) from the repo's venv; made if missing.
if [[ ! -x "$repo/.venv/bin/python" ]]; then
    python3 -m venv "$repo/.venv"
    "$repo/.venv/bin/pip" install -q -e "$repo[test]"
fi
if ! "$repo/.venv/bin/python" -c 'import boto3, nuage' 2>/dev/null; then
    "$repo/.venv/bin/pip" install -q -e "$repo[test]"
fi

# wrk generates the small-request load; without it run.py falls back to a (slower) Python client.
if ! command -v wrk >/dev/null 2>&1; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        (apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk)) >/dev/null 2>&1 || true
    fi
    command -v wrk >/dev/null 2>&1 || echo "bench: wrk not installed; using the Python load generator" >&2
fi

exec "$repo/.venv/bin/python" "$here/run.py" "$@"
