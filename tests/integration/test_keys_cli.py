"""`ar keys ...` on the configured database, and the first admin key `ar serve` prints on a fresh embedded one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from typer.testing import CliRunner

from ar.adapters.api_keys import ApiKey, ApiKeyStore, Refused
from ar.adapters.clocks import SettableClock
from ar.cli import cli
from ar.cli_keys import FIRST_KEY_NAME, first_admin_key
from ar.config import Settings
from ar.domain.clock import BUSINESS_TZ
from ar.runtime import Runtime, build

TOKEN = re.compile(r"ark_([a-z0-9]{12})_[A-Za-z0-9]{40}")


def ar(settings: Settings, *args: str) -> str:
    done = CliRunner().invoke(cli, list(args), env={"AR_DATABASE_URL": settings.database_url})
    assert done.exit_code == 0, done.output
    return done.output


def test_keys_are_created_listed_rotated_and_revoked_from_the_command_line(runtime: Runtime) -> None:
    settings, store = runtime.settings, ApiKeyStore(runtime.engine)
    now = SettableClock(runtime.clock.now()).now()  # before any expiry
    printed = ar(settings, "keys", "create", "--name", "nightly export", "--scope", "read", "--expires", "2099-01-01")
    [token] = [m.group(0) for m in TOKEN.finditer(printed)]
    key = store.verify(token, now)
    assert isinstance(key, ApiKey) and (key.name, key.scope, key.created_by) == ("nightly export", "read", "cli")
    assert key.expires_at == datetime(2099, 1, 1, tzinfo=BUSINESS_TZ)  # the start of that day, Paris time

    listing = ar(settings, "keys", "list")
    assert key.key_id in listing and "nightly export" in listing and token.rsplit("_", 1)[1] not in listing

    rotated = ar(settings, "keys", "rotate", key.key_id)
    [new] = [m.group(0) for m in TOKEN.finditer(rotated)]
    assert store.verify(token, now) == Refused("unknown") and isinstance(store.verify(new, now), ApiKey)

    assert "revoked" in ar(settings, "keys", "revoke", key.key_id)
    assert store.verify(new, now) == Refused("revoked")
    refused = CliRunner().invoke(cli, ["keys", "create", "--name", "x", "--scope", "root"],
                                 env={"AR_DATABASE_URL": settings.database_url})
    assert refused.exit_code == 2 and "--scope" in refused.output


@pytest.fixture
def keyless(settings: Settings, clock: SettableClock) -> Iterator[Runtime]:
    """A runtime on a fresh database holding no API key (no AR_ADMIN_KEY)."""
    rt = build(settings.model_copy(update={"admin_key": None}), clock)
    try:
        yield rt
    finally:
        rt.close()


def test_the_first_start_prints_an_admin_key_once_on_the_embedded_default(
        keyless: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    store = ApiKeyStore(keyless.engine)
    assert not store.any()
    first_admin_key(keyless, "http://127.0.0.1:8000")
    printed = capsys.readouterr().out
    if keyless.settings.is_postgres:  # a shared database gets its keys on purpose
        assert "ar keys create" in printed and not TOKEN.search(printed) and not store.any()
        return
    [token] = {m.group(0) for m in TOKEN.finditer(printed)}  # printed twice: alone, and in the export line
    assert "http://127.0.0.1:8000/docs" in printed and "Authorization: Bearer" in printed
    key = store.verify(token, keyless.clock.now())
    assert isinstance(key, ApiKey) and (key.name, key.scope) == (FIRST_KEY_NAME, "admin")
    first_admin_key(keyless, "http://127.0.0.1:8000")
    assert capsys.readouterr().out == ""  # once
