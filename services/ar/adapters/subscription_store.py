"""Webhook subscriptions out: subscribers, their deliveries and attempts (issue 10).

Three tables, created by migration 0010. `subscriptions` is written here (the admin routes); `subscription_deliveries`
gets its rows from the `subscription_outbox` projection (one per event and matching subscription, in the
projection's transaction) and its state from the sender (ar.delivery.subscriptions_queue), which also appends
`subscription_attempts`, one row per attempt, in the same transaction as the delivery's new state."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.projections.sql import aware

metadata = sa.MetaData()

subscriptions = sa.Table(
    "subscriptions", metadata,
    sa.Column("subscription_id", sa.Uuid, primary_key=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("types", sa.JSON, nullable=False),  # a list of event types, or ["*"]
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("previous_secret", sa.String(128), nullable=True),  # still signs until previous_secret_until
    sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("from_position", sa.BigInteger, nullable=False),  # the log's head at creation: events after it
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("auto_disabled_at", sa.DateTime(timezone=True), nullable=True),  # every delivery failed for 3 days
    sa.Column("re_enabled_at", sa.DateTime(timezone=True), nullable=True),  # enabled again by hand since then
)

deliveries = sa.Table(
    "subscription_deliveries", metadata,
    sa.Column("delivery_id", sa.Uuid, primary_key=True),  # uuid5 of (subscription, position): rebuilds add none
    sa.Column("subscription_id", sa.Uuid, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("event_type", sa.String(128), nullable=False),
    sa.Column("aggregate_id", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # pending, sending, delivered, failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),  # wall clock (a lease)
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("subscription_id", "position", name="uq_subscription_deliveries_event"),
    sa.Index("ix_subscription_deliveries_due", "state", "next_attempt_at"),
    sa.Index("ix_subscription_deliveries_order", "subscription_id", "aggregate_id", "position"),
)

attempts = sa.Table(
    "subscription_attempts", metadata,
    sa.Column("delivery_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),  # a second write of one attempt is a key violation
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("response_excerpt", sa.String(500), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
)

ALL_TYPES = "*"
DELIVERY_IDS = uuid.UUID("6f1d3c0e-5b8a-4d55-9c51-2a7f0e2b9d41")


def delivery_id(subscription_id: UUID, position: int) -> UUID:
    return uuid.uuid5(DELIVERY_IDS, f"{subscription_id}:{position}")


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass(frozen=True)
class Subscription:
    id: UUID
    url: str
    types: list[str]
    description: str
    enabled: bool
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    from_position: int
    created_at: datetime
    last_success_at: datetime | None
    auto_disabled_at: datetime | None
    re_enabled_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> Subscription:
        return cls(id=row.subscription_id, url=row.url, types=list(row.types), description=row.description,
                   enabled=row.enabled, secret=row.secret, previous_secret=row.previous_secret,
                   previous_secret_until=aware(row.previous_secret_until), from_position=int(row.from_position),
                   created_at=aware(row.created_at), last_success_at=aware(row.last_success_at),
                   auto_disabled_at=aware(row.auto_disabled_at), re_enabled_at=aware(row.re_enabled_at))

    def wants(self, event_type: str) -> bool:
        return ALL_TYPES in self.types or event_type in self.types

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while its grace period lasts."""
        until = self.previous_secret_until
        previous = [self.previous_secret] if self.previous_secret and until is not None and now < until else []
        return [self.secret, *previous]


class SubscriptionStore:
    """The subscriptions as the admin routes see them. Missing ids return None; the routes answer 404."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def create(self, *, subscription_id: UUID, url: str, types: list[str], description: str, head: int,
               now: datetime) -> Subscription | None:
        """None when a subscription with this id exists (its id derives from the Idempotency-Key: the key was used
        before, and its secret shown then is not shown again)."""
        values = dict(subscription_id=subscription_id, url=url, types=types, description=description, enabled=True,
                      secret=new_secret(), from_position=head, created_at=now)
        try:
            with self.engine.begin() as conn:
                conn.execute(subscriptions.insert().values(**values))
        except sa.exc.IntegrityError:
            return None
        return self.get(subscription_id)

    def get(self, subscription_id: UUID) -> Subscription | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(subscriptions).where(
                subscriptions.c.subscription_id == subscription_id)).one_or_none()
        return None if row is None else Subscription.of(row)

    def all(self) -> list[Subscription]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(subscriptions).order_by(subscriptions.c.created_at,
                                                                  subscriptions.c.subscription_id)).all()
        return [Subscription.of(r) for r in rows]

    def update(self, subscription_id: UUID, changes: dict[str, Any], now: datetime) -> Subscription | None:
        """`changes` among url, types, description, enabled. Enabling a subscription that was disabled for its
        failures closes its ops task."""
        current = self.get(subscription_id)
        if current is None:
            return None
        values = dict(changes)
        if values.get("enabled") and not current.enabled and current.auto_disabled_at is not None:
            values["re_enabled_at"] = now
        if values:
            with self.engine.begin() as conn:
                conn.execute(subscriptions.update().where(subscriptions.c.subscription_id == subscription_id)
                             .values(**values))
        return self.get(subscription_id)

    def delete(self, subscription_id: UUID) -> bool:
        with self.engine.begin() as conn:
            ids = sa.select(deliveries.c.delivery_id).where(deliveries.c.subscription_id == subscription_id)
            conn.execute(attempts.delete().where(attempts.c.delivery_id.in_(ids)))
            conn.execute(deliveries.delete().where(deliveries.c.subscription_id == subscription_id))
            gone = conn.execute(subscriptions.delete().where(subscriptions.c.subscription_id == subscription_id))
        return gone.rowcount == 1

    def rotate_secret(self, subscription_id: UUID, now: datetime, grace: timedelta) -> Subscription | None:
        """A new secret; the one it replaces keeps signing beside it for `grace` (receivers switch meanwhile)."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(subscriptions.c.secret).where(
                subscriptions.c.subscription_id == subscription_id).with_for_update()).one_or_none()
            if row is None:
                return None
            conn.execute(subscriptions.update().where(subscriptions.c.subscription_id == subscription_id).values(
                secret=new_secret(), previous_secret=row.secret, previous_secret_until=now + grace))
        return self.get(subscription_id)
