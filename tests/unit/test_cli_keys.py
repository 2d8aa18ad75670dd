"""``nuage keys add``: root keys of an account with a chosen id, and keys of an IAM user (--user)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from nuage.cli.main import main
from nuage.config import settings_from_env
from nuage.server import open_iam, open_stores


def test_keys_add_with_account_id_and_user(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["keys", "add", "--data", str(tmp_path), "--name", "acct"]
    out = runner.invoke(main, [*base, "--access-key", "ROOTKEY0000000000001", "--secret-key", "s" * 40,
                               "--account-id", "RGW11111111111111111"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(main, [*base, "--access-key", "USERKEY0000000000001", "--secret-key", "u" * 40,
                               "--user", "alice"])
    assert out.exit_code == 0, out.output
    assert "user alice of acct" in out.output
    settings = settings_from_env(data_dir=tmp_path)
    meta, _ = open_stores(settings)
    try:
        iam = open_iam(settings, meta)
        root = iam.lookup("ROOTKEY0000000000001")
        user = iam.lookup("USERKEY0000000000001")
        assert root is not None and root.is_root and root.account_id == "RGW11111111111111111"
        assert user is not None and user.user_name == "alice" and user.account_id == "RGW11111111111111111"
        assert user.secret == "u" * 40
    finally:
        meta.close()
