"""The IAM query API (``Action=...&Version=2010-05-08`` form posts signed for service ``iam``) at the
S3 endpoint, so ``boto3.client("iam", endpoint_url=...)`` and ``aws iam --endpoint-url`` work.

One module per family (users, keys, groups, policies); :mod:`.app` authenticates, authorizes, dispatches
and renders AWS's XML responses and errors. Calls act inside the caller's account: its root user may do
everything, an IAM user what its identity policies allow (``iam:<Action>`` on the target's ARN).
"""
