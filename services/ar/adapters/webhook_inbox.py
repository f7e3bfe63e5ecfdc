"""ERP webhooks in: sources and their secrets, the inbox of deliveries (issue 10).

The three tables are defined here, on one MetaData (migration 0009 creates them); the sources and their secrets are
written by `ar.adapters.webhook_sources`, the inbox by `WebhookInbox` below.

The inbox keeps every verified delivery once per (source, webhook id): a sender retrying a delivery (Standard Webhooks
senders retry for up to about 3 days) finds the first outcome and nothing runs twice. Rows are purged on insert once
older than `RETENTION` (7 days, so at least the 3 days of the senders' retries are always covered)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.application.erp_inbox import Delivery, Outcome

metadata = sa.MetaData()

webhook_sources = sa.Table(
    "webhook_sources",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

# A signing secret must be read back to compute the HMAC (Standard Webhooks is symmetric): it is stored as issued.
webhook_secrets = sa.Table(
    "webhook_secrets",
    metadata,
    sa.Column("secret_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(32), sa.ForeignKey("webhook_sources.name"), nullable=False),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),  # NULL: the current secret
    sa.Index("ix_webhook_secrets_source", "source"),
)

webhook_inbox = sa.Table(
    "webhook_inbox",
    metadata,
    sa.Column("inbox_id", sa.Uuid, primary_key=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("webhook_id", sa.String(255), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("result", sa.Text, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.UniqueConstraint("source", "webhook_id", name="uq_webhook_inbox_source_webhook_id"),
    sa.Index("ix_webhook_inbox_received_at", "received_at"),
    sa.Index("ix_webhook_inbox_state", "state", "received_at"),
)

RETENTION = timedelta(days=7)


def _aware(value: datetime, like: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=like.tzinfo)  # SQLite drops the offset


def _delivery(row: sa.RowMapping, now: datetime) -> Delivery:
    return Delivery(
        inbox_id=row["inbox_id"], source=row["source"], webhook_id=row["webhook_id"], type=row["type"],
        payload=row["payload"], received_at=_aware(row["received_at"], now),
        processed_at=_aware(row["processed_at"], now), state=row["state"],
        error=json.loads(row["error"]) if row["error"] else None,
        result=json.loads(row["result"]) if row["result"] else None, attempts=row["attempts"])


class WebhookInbox:
    """The `Inbox` port of `ar.application.erp_webhooks`, on the service's database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def find(self, source: str, webhook_id: str, now: datetime) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(webhook_inbox).where(
                webhook_inbox.c.source == source, webhook_inbox.c.webhook_id == webhook_id)).mappings().first()
        return _delivery(row, now) if row else None

    def get(self, inbox_id: UUID, now: datetime) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(webhook_inbox).where(webhook_inbox.c.inbox_id == inbox_id)).mappings().first()
        return _delivery(row, now) if row else None

    def add(self, *, source: str, webhook_id: str, type: str, payload: str, outcome: Outcome,
            now: datetime) -> Delivery:
        """Keep a delivery with its first outcome; if the same delivery was kept meanwhile (a concurrent retry),
        the one kept first."""
        inbox_id = uuid.uuid4()
        try:
            with self.engine.begin() as conn:
                conn.execute(webhook_inbox.delete().where(webhook_inbox.c.received_at < now - RETENTION))
                conn.execute(webhook_inbox.insert().values(
                    inbox_id=inbox_id, source=source, webhook_id=webhook_id, type=type[:100], payload=payload,
                    received_at=now, processed_at=now, attempts=1, **_outcome(outcome)))
        except sa.exc.IntegrityError:
            kept = self.find(source, webhook_id, now)
            if kept is None:
                raise
            return kept
        kept = self.get(inbox_id, now)
        assert kept is not None
        return kept

    def record(self, inbox_id: UUID, outcome: Outcome, now: datetime) -> Delivery:
        """A replay's outcome: the state, error and result replaced, one more attempt counted."""
        with self.engine.begin() as conn:
            conn.execute(webhook_inbox.update().where(webhook_inbox.c.inbox_id == inbox_id).values(
                processed_at=now, attempts=webhook_inbox.c.attempts + 1, **_outcome(outcome)))
        kept = self.get(inbox_id, now)
        assert kept is not None
        return kept

    def listed(self, *, state: str | None, source: str | None, limit: int, now: datetime) -> list[Delivery]:
        query = sa.select(webhook_inbox).order_by(webhook_inbox.c.received_at.desc(), webhook_inbox.c.inbox_id)
        if state is not None:
            query = query.where(webhook_inbox.c.state == state)
        if source is not None:
            query = query.where(webhook_inbox.c.source == source)
        with self.engine.connect() as conn:
            return [_delivery(row, now) for row in conn.execute(query.limit(limit)).mappings()]


def _outcome(outcome: Outcome) -> dict[str, Any]:
    return {"state": outcome.state, "error": json.dumps(outcome.error) if outcome.error is not None else None,
            "result": json.dumps(outcome.result) if outcome.result is not None else None}
