"""Run the `aws` command line against a test server, isolated from the user's AWS config."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.server import ACCESS_KEY, SECRET_KEY


@dataclass
class AwsCli:
    endpoint: str
    region: str
    home: Path
    ca_bundle: Path | None = None

    def env(self) -> dict[str, str]:
        config = self.home / "aws-config"
        if not config.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            config.write_text(f"[default]\nregion = {self.region}\ns3 =\n  addressing_style = path\n")
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")}
        return {
            **keep,
            "HOME": str(self.home),
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "aws-credentials-none"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
            "NO_PROXY": "127.0.0.1",
            "PYTHONWARNINGS": "ignore",
        }

    def __call__(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        aws = Path(sys.executable).with_name("aws")
        cmd = [str(aws) if aws.exists() else "aws", "--endpoint-url", self.endpoint, *args]
        if self.ca_bundle is not None:
            cmd += ["--ca-bundle", str(self.ca_bundle)]
        proc = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc
