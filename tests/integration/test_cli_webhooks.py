"""`ar webhooks ...` on the service's database, and `ar webhooks send` posting to a real server as an ERP would."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.servers import serving_in_thread
from typer.testing import CliRunner, Result

from ar.adapters.clocks import SettableClock
from ar.cli import cli
from ar.runtime import Runtime

SECRET = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")


def run(runtime: Runtime, *args: str) -> Result:
    env = {"AR_DATABASE_URL": runtime.settings.database_url}
    return CliRunner().invoke(cli, ["webhooks", *args], env=env)


def test_sources_are_created_listed_rotated_and_revoked_and_send_signs_as_an_erp(
        runtime: Runtime, clock: SettableClock, tmp_path: Path) -> None:
    made = run(runtime, "sources", "create", "erp", "--description", "the ERP")
    assert made.exit_code == 0, made.output
    [secret] = SECRET.findall(made.output)
    assert run(runtime, "sources", "create", "erp").exit_code == 1  # taken
    listed = run(runtime, "sources", "list")
    assert "erp" in listed.output and "1 secret(s) valid" in listed.output and "whsec_" not in listed.output
    data = tmp_path / "customer.json"
    data.write_text(json.dumps({"customer_ref": "C-1", "name": "Martin SARL", "kind": "professional"}))
    with serving_in_thread(runtime) as url:
        at = clock.now().isoformat()
        sent = run(runtime, "send", "erp", str(data), "--type", "customer.upserted", "--secret", secret, "--url",
                   url, "--at", at, "--id", "msg_1")
        assert sent.exit_code == 0, sent.output
        assert sent.output.startswith("200 (msg_1)") and '"state":"processed"' in sent.output
        rotated = run(runtime, "sources", "rotate", "erp", "--grace-hours", "1")
        [new] = SECRET.findall(rotated.output)
        assert new != secret and "stays valid until" in rotated.output
        assert run(runtime, "send", "erp", str(data), "--type", "customer.upserted", "--secret", secret, "--url",
                   url, "--at", at).exit_code == 0  # the old secret, during the grace period
        assert run(runtime, "sources", "revoke", "erp").exit_code == 0
        refused = run(runtime, "send", "erp", str(data), "--type", "customer.upserted", "--secret", new, "--url",
                      url, "--at", at)
        assert refused.exit_code == 1 and refused.output.startswith("401")
    inbox = run(runtime, "inbox", "--state", "processed")
    assert inbox.exit_code == 0 and inbox.output.count("customer.upserted processed (attempts 1)") == 2
    assert "revoked" in run(runtime, "sources", "list").output
    assert run(runtime, "inbox", "--state", "failed").output.startswith("the inbox is empty")
