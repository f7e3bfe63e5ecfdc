"""`ar webhooks ...`: ERP webhook sources and their secrets, the inbox, on the configured database (AR_DATABASE_URL);
and `ar webhooks send`, which signs a JSON file as an ERP would and posts it (no HMAC by hand)."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from standardwebhooks.webhooks import Webhook

from ar.adapters.clocks import SystemClock
from ar.adapters.webhook_inbox import WebhookInbox
from ar.adapters.webhook_sources import Issued, WebhookSources
from ar.config import Settings
from ar.database import create_engine, migrate
from ar.domain.clock import Clock
from ar.domain.errors import DomainError
from ar.runtime import simulated_clock

webhooks_cli = typer.Typer(help="ERP webhook sources: their secrets, created, rotated and revoked; the inbox.",
                           no_args_is_help=True)
sources_cli = typer.Typer(help="ERP webhook sources and their signing secrets.", no_args_is_help=True)
webhooks_cli.add_typer(sources_cli, name="sources")


@contextlib.contextmanager
def _engine() -> Iterator[tuple[Any, Clock]]:
    settings = Settings()
    engine = create_engine(settings)
    try:
        migrate(engine)
        yield engine, simulated_clock(settings) if settings.simulated_clock else SystemClock()
    except DomainError as e:
        typer.echo(f"refused: {e.detail}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def _show(issued: Issued) -> None:
    typer.echo(f"webhook source {issued.source.name}; its signing secret, shown this once:")
    typer.echo(f"\n    {issued.secret}\n")
    if issued.previous_valid_until is not None:
        typer.echo(f"The previous secret stays valid until {issued.previous_valid_until.isoformat()}.")
    typer.echo(f"The ERP posts to /v1/webhooks/erp/{issued.source.name}, signed with it (Standard Webhooks); try "
               f"`ar webhooks send {issued.source.name} FILE --type TYPE --secret ...`.")


@sources_cli.command("create")
def create(name: Annotated[str, typer.Argument(help="1 to 32 of a-z, 0-9, '_' and '-'")],
           description: Annotated[str, typer.Option(help="what sends from it")] = "") -> None:
    """Create a source and print its secret once."""
    with _engine() as (engine, clock):
        issued = WebhookSources(engine).create(name, description, clock.now())
    _show(issued)


@sources_cli.command("rotate")
def rotate(name: str, grace_hours: Annotated[int, typer.Option(min=0, max=720, help=(
        "how long the secrets valid now stay valid beside the new one"))] = 24) -> None:
    """Give the source a new secret (printed once); the old one stays valid for the grace period."""
    with _engine() as (engine, clock):
        issued = WebhookSources(engine).rotate(name, timedelta(hours=grace_hours), clock.now())
    _show(issued)


@sources_cli.command("revoke")
def revoke(name: str) -> None:
    """Refuse every delivery from the source from now on."""
    with _engine() as (engine, clock):
        source = WebhookSources(engine).revoke(name, clock.now())
    typer.echo(f"webhook source {source.name} revoked at {source.revoked_at}")


@sources_cli.command("list")
def list_sources() -> None:
    """Every source (revoked ones too), with how many secrets it accepts now. Never a secret."""
    with _engine() as (engine, clock):
        sources = WebhookSources(engine).all(clock.now())
    if not sources:
        typer.echo("no webhook source yet: `ar webhooks sources create NAME`")
    for s in sources:
        state = f"revoked {s.revoked_at:%Y-%m-%d %H:%M}" if s.revoked_at else f"{s.secrets_valid} secret(s) valid"
        typer.echo(f"{s.name:<32} {state:<28} created {s.created_at:%Y-%m-%d %H:%M}  {s.description}")


@webhooks_cli.command("inbox")
def inbox(state: Annotated[str | None, typer.Option(help="processed or failed")] = None,
          source: Annotated[str | None, typer.Option(help="only this source")] = None,
          limit: Annotated[int, typer.Option(min=1, max=500)] = 50) -> None:
    """The deliveries received, newest first; a failed one says why (replay it with POST
    /v1/webhooks/inbox/{id}/replay once fixed)."""
    if state not in (None, "processed", "failed"):
        raise typer.BadParameter("processed or failed", param_hint="--state")
    with _engine() as (engine, clock):
        deliveries = WebhookInbox(engine).listed(state=state, source=source, limit=limit, now=clock.now())
    if not deliveries:
        typer.echo("the inbox is empty" + (f" ({state})" if state else ""))
    for d in deliveries:
        why = f"  {d.error.get('detail')}" if d.error else ""
        typer.echo(f"{d.received_at:%Y-%m-%d %H:%M:%S} {d.inbox_id} {d.source} {d.webhook_id} {d.type or '?'} "
                   f"{d.state} (attempts {d.attempts}){why}")


@webhooks_cli.command("send")
def send(
    source: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=(
        "JSON: the delivery's `data` (with --type), or a whole {\"type\": ..., \"data\": ...}"))],
    secret: Annotated[str, typer.Option(help="the source's signing secret (whsec_...)")],
    type: Annotated[str | None, typer.Option("--type", help="the delivery's type, e.g. invoice.issued")] = None,
    url: Annotated[str, typer.Option(help="where ar listens")] = "http://127.0.0.1:8000",
    webhook_id: Annotated[str | None, typer.Option("--id", help="the delivery's id; the same id again is the "
                                                                "same delivery (default: a new one)")] = None,
    at: Annotated[str | None, typer.Option(help="sign at this ISO 8601 instant instead of now (a server on a "
                                                "simulated clock)", metavar="INSTANT")] = None,
) -> None:
    """Sign a JSON file as an ERP would (Standard Webhooks) and POST it to /v1/webhooks/erp/SOURCE."""
    content = json.loads(file.read_text(encoding="utf-8"))
    moment = datetime.fromisoformat(at) if at else datetime.now(UTC)
    if moment.tzinfo is None:
        raise typer.BadParameter("an instant needs its offset (+01:00, Z)", param_hint="--at")
    if type is not None:
        content = {"type": type, "timestamp": moment.isoformat(), "data": content}
    elif not (isinstance(content, dict) and "type" in content and "data" in content):
        raise typer.BadParameter("give --type, or a file holding {\"type\": ..., \"data\": ...}", param_hint="--type")
    body = json.dumps(content, ensure_ascii=False)
    msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(moment.timestamp())),
               "webhook-signature": Webhook(secret).sign(msg_id, moment.astimezone(UTC), body),
               "content-type": "application/json"}
    response = httpx.post(f"{url.rstrip('/')}/v1/webhooks/erp/{source}", content=body.encode(), headers=headers,
                          timeout=30)
    typer.echo(f"{response.status_code} ({msg_id})")
    typer.echo(response.text)
    if response.status_code >= 300:
        raise typer.Exit(1)
