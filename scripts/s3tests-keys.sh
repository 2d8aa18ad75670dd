# Sourced by scripts/run-s3-tests.sh and scripts/run-s3-tests-cluster.sh: the identities ceph/s3-tests'
# runner (../shared/s3-tests/s3tests-run.sh) signs with, made in a Nuage data folder (and in $NUAGE_DB's
# database when that is set). Needs $NUAGE (the nuage command).
#   s3tests_keys DATA          root credentials file and every access key, before the server starts
#   s3tests_alt_policy URL     alt's baseline IAM policy (test_iam.py runs only), once the server serves
#   s3tests_faults LOG...      how many tracebacks each server log has
# shellcheck shell=bash

export NUAGE_ROOT_ACCESS_KEY=0555b35654ad1656d804
export NUAGE_ROOT_SECRET_KEY='h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q=='
MAIN_ID=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ALT_ID=56789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234
ALT_USER_POLICY=

s3tests_keys() {
  local data=$1
  printf '{"access_key": "%s", "secret_key": "%s", "owner_id": "%s", "display_name": "M. Tester"}' \
    "$NUAGE_ROOT_ACCESS_KEY" "$NUAGE_ROOT_SECRET_KEY" "$MAIN_ID" > "$data/root-credentials.json"
  # IAM identities of the runner's [iam], [iam root] and [iam alt root] sections (fixed keys there).
  # [iam root] / [iam alt root]: roots of accounts RGW11111111111111111 / RGW22222222222222222 (the
  # user_id the tests put in ARNs). [iam]: RGW's user with user-policy caps; here a second root key of the
  # main account (its user_id in the runner is the main owner id).
  "$NUAGE" keys add --data "$data" --access-key AAAAAAAAAAAAAAAAAAaa --secret-key aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \
    --name account1 --account-id RGW11111111111111111 >/dev/null
  "$NUAGE" keys add --data "$data" --access-key BBBBBBBBBBBBBBBBBBbb --secret-key bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb \
    --name account2 --account-id RGW22222222222222222 >/dev/null
  "$NUAGE" keys add --data "$data" --access-key ABCDEFGHIJKLMNOPQRST --secret-key abcdefghijklmnopqrstuvwxyzabcdefghijklmn \
    --name "M. Tester" --owner-id "$MAIN_ID" >/dev/null
  if [[ " ${S3TESTS_FILES:-} " == *test_iam.py* ]]; then
    # test_iam.py's iam_tenant tests have the [iam] user put policies on the alt user (UserName = alt's
    # user id) and expect them to govern alt's S3 calls on [iam]'s buckets: on AWS terms alt is then an IAM
    # user of the [iam] account. Its baseline policy (s3:* on everything) stands for what an RGW user may do
    # with its own buckets; the tests' Deny policies override it. test_s3.py runs keep alt an account.
    "$NUAGE" keys add --data "$data" --access-key NOPQRSTUVWXYZABCDEFG \
      --secret-key nopqrstuvwxyzabcdefghijklmnabcdefghijklm --name "M. Tester" --owner-id "$MAIN_ID" \
      --user "$ALT_ID" >/dev/null
    ALT_USER_POLICY='{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}'
  else
    "$NUAGE" keys add --data "$data" --access-key NOPQRSTUVWXYZABCDEFG \
      --secret-key nopqrstuvwxyzabcdefghijklmnabcdefghijklm --name john.doe --owner-id "$ALT_ID" >/dev/null
  fi
  "$NUAGE" keys add --data "$data" --access-key HIJKLMNOPQRSTUVWXYZA \
    --secret-key opqrstuvwxyzabcdefghijklmnopqrstuvwxyzab --name 'testx$tenanteduser' \
    --owner-id 'testx$9876543210abcdef0123456789abcdef0123456789abcdef0123456789abcdef' >/dev/null
}

s3tests_alt_policy() {
  [[ -n $ALT_USER_POLICY ]] || return 0
  "${S3TESTS_VENV:-${PEERS_HOME:-$HOME/.cache/nuage-s3-tests}/venv-s3tests}/bin/python" - \
    "$1" "$ALT_ID" "$ALT_USER_POLICY" <<'PY'
import sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="ABCDEFGHIJKLMNOPQRST",
                   aws_secret_access_key="abcdefghijklmnopqrstuvwxyzabcdefghijklmn")
iam.put_user_policy(UserName=sys.argv[2], PolicyName="S3TestsBaseline", PolicyDocument=sys.argv[3])
PY
}

# A passing test can hide a server fault (an answer cut short after its head, say): say how many the
# server logged, so that each one gets read.
s3tests_faults() {
  local log faults
  for log in "$@"; do
    faults=$(grep -c '^Traceback' "$log" 2>/dev/null || true)
    echo "server log: ${faults:-0} traceback(s) in $log"
  done
}
