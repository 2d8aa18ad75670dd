#!/usr/bin/env bash
# CPU instructions per 4 KiB PUT, GET (one presigned URL again and again) and SDKGET (header-signed as boto3 does)
# in the S3 app (bench/app_cost.py under `perf stat`): the run
# with N requests minus the run with N/4, divided by the difference, so start-up cancels out. Unlike
# times, instruction counts hardly change when the machine is busy: use it to compare two revisions.
# Usage: bench/app_instructions.sh [N]   (needs perf: apt-get install linux-perf)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-4000}
PY=${PYTHON:-.venv/bin/python}
count() {  # instructions of one run (all threads): count OP N
  perf stat -x, -e instructions -- "$PY" bench/app_cost.py --only "$1" -n "$2" 2>&1 >/dev/null \
    | awk -F, '/instructions/ {print $1}'
}
for op in put get sdkget; do
  small=$(count "$op" $((N / 4)))
  big=$(count "$op" "$N")
  echo "4 KiB ${op^^}: $(( (big - small) / (N - N / 4) )) instructions/request"
done
