"""docs/walkthrough-tenants.md, step by step, with the real `nuage admin` and `aws` command lines: an
operator creates tenant acme, acme creates a read-only IAM user for `reports/`, and that user (and
another tenant) is refused everywhere else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.awscli import AwsCli
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ReadReports", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::acme-data/reports/*"},
        {"Sid": "ListReports", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": "arn:aws:s3:::acme-data",
         "Condition": {"StringLike": {"s3:prefix": ["reports/*", "reports/"]}}},
    ],
}


@dataclass
class AwsAs(AwsCli):
    """The `aws` command line with one identity's key in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY."""

    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def env(self) -> dict[str, str]:
        return {**super().env(), "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}


def as_identity(aws: AwsCli, access_key: str, secret_key: str) -> AwsAs:
    return AwsAs(aws.endpoint, aws.region, aws.home, aws.ca_bundle, access_key, secret_key)


def nuage_admin(server: NuageServer, *args: str) -> str:
    exe = Path(sys.executable).with_name("nuage")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "nuage.cli.main"]
    env = {**os.environ, "NUAGE_ENDPOINT": server.endpoint, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY,
           "NUAGE_ROOT_SECRET_KEY": SECRET_KEY}
    proc = subprocess.run([*cmd, "admin", *args], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"nuage admin {' '.join(args)}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def refused(proc: subprocess.CompletedProcess[str], operation: str) -> None:
    assert proc.returncode != 0, proc.stdout
    assert f"(AccessDenied) when calling the {operation} operation" in proc.stderr, proc.stderr


def test_tenant_readonly_prefix_walkthrough(server: NuageServer, aws: AwsCli, tmp_path: Path) -> None:
    # 1. the operator creates the tenant and its first key
    assert nuage_admin(server, "tenant", "create", "acme").split()[3:6:2] == ["acme", "Active"]
    key = json.loads(nuage_admin(server, "--json", "tenant", "key", "create", "acme"))
    assert key["tenant"] == "acme" and key["access_key"] and key["secret_key"]
    acme = as_identity(aws, key["access_key"], key["secret_key"])

    # 2. acme's root creates acme-data with objects under reports/ and private/
    q1, salaries, new = tmp_path / "q1.csv", tmp_path / "salaries.csv", tmp_path / "new.csv"
    q1.write_text("quarter,revenue\nQ1,1200\n")
    salaries.write_text("name,salary\nalice,100\n")
    new.write_text("quarter,revenue\nQ2,1300\n")
    assert "make_bucket: acme-data" in acme("s3", "mb", "s3://acme-data").stdout
    acme("s3", "cp", "--no-progress", str(q1), "s3://acme-data/reports/q1.csv")
    acme("s3", "cp", "--no-progress", str(salaries), "s3://acme-data/private/salaries.csv")
    listing = acme("s3", "ls", "--recursive", "s3://acme-data").stdout
    assert "reports/q1.csv" in listing and "private/salaries.csv" in listing

    # 3. acme's root creates the IAM user, its key and the inline policy (IAM needs --region us-east-1)
    iam = ("--region", "us-east-1", "iam")
    user = json.loads(acme(*iam, "create-user", "--user-name", "analyst").stdout)["User"]
    assert user["UserName"] == "analyst" and user["Arn"] == f"arn:aws:iam::{key['account_id']}:user/analyst"
    access = json.loads(acme(*iam, "create-access-key", "--user-name", "analyst").stdout)["AccessKey"]
    assert access["Status"] == "Active"
    policy_file = tmp_path / "analyst-policy.json"
    policy_file.write_text(json.dumps(POLICY, indent=2))
    acme(*iam, "put-user-policy", "--user-name", "analyst", "--policy-name", "read-reports",
         "--policy-document", f"file://{policy_file}")
    stored = json.loads(acme(*iam, "get-user-policy", "--user-name", "analyst",
                             "--policy-name", "read-reports").stdout)
    assert stored["PolicyDocument"] == POLICY

    # 4. the analyst reads reports/ and is refused everything else
    analyst = as_identity(aws, access["AccessKeyId"], access["SecretAccessKey"])
    assert "q1.csv" in analyst("s3", "ls", "s3://acme-data/reports/").stdout
    assert analyst("s3", "cp", "s3://acme-data/reports/q1.csv", "-").stdout == "quarter,revenue\nQ1,1200\n"

    proc = analyst("s3", "cp", "s3://acme-data/private/salaries.csv", "-", check=False)
    assert proc.returncode != 0 and "(403) when calling the HeadObject operation: Forbidden" in proc.stderr
    refused(analyst("s3api", "get-object", "--bucket", "acme-data", "--key", "private/salaries.csv",
                    str(tmp_path / "out.csv"), check=False), "GetObject")
    refused(analyst("s3", "ls", "s3://acme-data/private/", check=False), "ListObjectsV2")
    refused(analyst("s3", "ls", "s3://acme-data/", check=False), "ListObjectsV2")
    refused(analyst("s3", "cp", "--no-progress", str(new), "s3://acme-data/reports/new.csv", check=False),
            "PutObject")
    refused(analyst("s3", "rb", "s3://acme-data", check=False), "DeleteBucket")
    refused(analyst(*iam, "create-access-key", "--user-name", "analyst", check=False), "CreateAccessKey")

    # 5. another tenant's keys cannot see acme-data
    nuage_admin(server, "tenant", "create", "globex")
    gkey = json.loads(nuage_admin(server, "--json", "tenant", "key", "create", "globex"))
    globex = as_identity(aws, gkey["access_key"], gkey["secret_key"])
    assert "acme-data" not in globex("s3", "ls").stdout
    refused(globex("s3", "ls", "s3://acme-data/reports/", check=False), "ListObjectsV2")
    refused(globex("s3api", "get-object", "--bucket", "acme-data", "--key", "reports/q1.csv",
                   str(tmp_path / "out.csv"), check=False), "GetObject")
    refused(globex("s3", "cp", "--no-progress", str(new), "s3://acme-data/reports/new.csv", check=False),
            "PutObject")
    proc = globex("s3", "mb", "s3://acme-data", check=False)
    assert proc.returncode != 0 and "(BucketAlreadyExists)" in proc.stderr

    # nothing the analyst or globex tried changed acme's bucket
    listing = acme("s3", "ls", "--recursive", "s3://acme-data").stdout
    assert "reports/q1.csv" in listing and "private/salaries.csv" in listing and "new.csv" not in listing
    usage = json.loads(nuage_admin(server, "--json", "usage", "--tenant", "acme"))
    assert usage["objects"] == 2 and usage["bytes"] == len(q1.read_bytes()) + len(salaries.read_bytes())
