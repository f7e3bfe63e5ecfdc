"""`ar keys ...`: create, list, rotate and revoke API keys on the configured database (AR_DATABASE_URL), and the
first admin key `ar serve` prints on a fresh embedded database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Annotated

import typer

from ar.adapters.api_keys import KEPT_FOR_S, SCOPES, ApiKey, ApiKeyStore, Scope
from ar.adapters.clocks import SystemClock
from ar.config import Settings
from ar.database import create_engine, migrate
from ar.domain.clock import BUSINESS_TZ, Clock
from ar.runtime import Runtime, simulated_clock

keys_cli = typer.Typer(help="API keys: create, list, rotate, revoke.", no_args_is_help=True)

FIRST_KEY_NAME = "first admin key"


@contextlib.contextmanager
def _store() -> Iterator[tuple[ApiKeyStore, Clock]]:
    settings = Settings()
    engine = create_engine(settings)
    try:
        migrate(engine)
        yield ApiKeyStore(engine), simulated_clock(settings) if settings.simulated_clock else SystemClock()
    finally:
        engine.dispose()


def _expiry(text: str) -> datetime:
    """YYYY-MM-DD (the start of that day, Paris time) or an ISO 8601 instant with its offset."""
    try:
        if len(text) == 10:
            return datetime.combine(datetime.fromisoformat(text).date(), time(0), BUSINESS_TZ)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("YYYY-MM-DD or an ISO 8601 instant with its offset", param_hint="--expires") from None
    if moment.tzinfo is None:
        raise typer.BadParameter("an instant needs its offset (+01:00, Z)", param_hint="--expires")
    return moment


def _show_token(token: str, key: ApiKey) -> None:
    typer.echo(f"API key {key.key_id} ({key.name}, scope {key.scope}); its token, shown this once:")
    typer.echo(f"\n    {token}\n")
    typer.echo("Send it as `Authorization: Bearer <token>` (the Authorize button of /docs does it for you).")


@keys_cli.command("create")
def create(name: Annotated[str, typer.Option(help="who or what uses it")],
           scope: Annotated[str, typer.Option(help="read, write (includes read) or admin (everything)")],
           expires: Annotated[str | None, typer.Option(help="YYYY-MM-DD or an ISO 8601 instant; default never",
                                                       metavar="DATE")] = None) -> None:
    """Create a key and print its token once (only its hash is kept)."""
    if scope not in SCOPES:
        raise typer.BadParameter(f"one of {', '.join(SCOPES)}", param_hint="--scope")
    if not name.strip() or len(name) > 200:
        raise typer.BadParameter("1 to 200 characters", param_hint="--name")
    expires_at = _expiry(expires) if expires else None
    with _store() as (store, clock):
        if expires_at is not None and expires_at <= clock.now():
            raise typer.BadParameter("already past", param_hint="--expires")
        chosen: Scope = next(s for s in SCOPES if s == scope)
        key, token = store.create(name=name, scope=chosen, expires_at=expires_at, now=clock.now(), created_by="cli")
    _show_token(token, key)


@keys_cli.command("list")
def list_keys() -> None:
    """Every key (revoked ones too): id, name, scope, state, creation, last use, expiry. Never a secret."""
    with _store() as (store, clock):
        now, keys = clock.now(), store.all(clock.now())
    if not keys:
        typer.echo("no API key yet: `ar keys create --name NAME --scope admin`")
    for k in keys:
        when = {"created": k.created_at, "last used": k.last_used_at, "expires": k.expires_at,
                "revoked": k.revoked_at}
        dates = ", ".join(f"{label} {moment:%Y-%m-%d %H:%M}" for label, moment in when.items() if moment)
        typer.echo(f"{k.key_id}  {k.scope:<5}  {k.state(now):<7}  {k.name}  ({dates})")


@keys_cli.command("rotate")
def rotate(key_id: str, grace_s: Annotated[int, typer.Option(
        min=0, help="seconds the old secret stays valid beside the new one; default 0: refused at once")] = 0) -> None:
    """A new secret for the same key id (printed once). Without a grace period, running servers refuse the old one
    within 2 s (each keeps a key it read for that long)."""
    with _store() as (store, clock):
        token = store.rotate(key_id, clock.now(), timedelta(seconds=grace_s) if grace_s else None)
        key = store.get(key_id, clock.now())
    if token is None or key is None:
        typer.echo(f"no API key {key_id}", err=True)
        raise typer.Exit(2)
    _show_token(token, key)


@keys_cli.command("revoke")
def revoke(key_id: str) -> None:
    """Refuse the key from now on (it stays listed, as revoked); running servers, which keep a key they read for
    2 s, refuse it within that time."""
    with _store() as (store, clock):
        key = store.revoke(key_id, clock.now())
    if key is None:
        typer.echo(f"no API key {key_id}", err=True)
        raise typer.Exit(2)
    typer.echo(f"API key {key.key_id} ({key.name}) revoked (running servers refuse it within "
               f"{KEPT_FOR_S:g} s)")


def first_admin_key(runtime: Runtime, url: str) -> None:
    """On a database without any key: on the embedded default, an admin key printed once; on PostgreSQL, how to
    create one (a shared database gets its keys on purpose, not from whichever server starts first)."""
    store = ApiKeyStore(runtime.engine)
    if store.any():
        return
    if runtime.settings.is_postgres:
        typer.echo("No API key yet: create one with `ar keys create --name NAME --scope admin` (same "
                   "AR_DATABASE_URL), then send it as `Authorization: Bearer <token>`.")
        return
    key, token = store.create(name=FIRST_KEY_NAME, scope="admin", now=runtime.clock.now(), created_by="ar serve")
    rule = "=" * 78
    typer.echo(f"\n{rule}\nFirst start: an admin API key was created ({key.key_id}, \"{FIRST_KEY_NAME}\"). Its token, "
               f"shown this once:\n\n    {token}\n\nUse it with the Authorize button of {url}/docs, or as the header "
               f"`Authorization: Bearer <token>`:\n\n    export AR_KEY={token}\n    curl -H \"Authorization: Bearer "
               f"$AR_KEY\" {url}/v1/aging\n\nMake narrower keys with `ar keys create --name NAME --scope read|write` "
               f"and revoke this one once you have another admin key.\n{rule}\n")
