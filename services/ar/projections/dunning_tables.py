"""Tables of the dunning side: the agenda (next action of every open invoice), the delivery queue of reminders
and the ops task queue. Written by the `dunning` projection; the queue's claim columns by the delivery worker."""

from __future__ import annotations

import sqlalchemy as sa

from ar.projections.tables import metadata

dunning_agenda = sa.Table(
    "dunning_agenda", metadata,
    sa.Column("invoice_id", sa.Uuid, primary_key=True),
    sa.Column("customer_id", sa.Uuid, nullable=False),
    sa.Column("number", sa.String(64), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("open_minor", sa.BigInteger, nullable=False),
    sa.Column("remindable_minor", sa.BigInteger, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("next_on", sa.Date, nullable=True),  # null: nothing planned (see state)
    sa.Column("next_step", sa.String(64), nullable=True),  # a step key, or "promise" (check a promise to pay)
    sa.Column("next_kind", sa.String(16), nullable=True),
    sa.Column("next_channel", sa.String(16), nullable=True),
    sa.Column("steps_taken", sa.Integer, nullable=False),
    sa.Column("policy_id", sa.Uuid, nullable=False),
    sa.Column("policy_version", sa.Integer, nullable=False),
    sa.Index("ix_dunning_agenda_next_on", "next_on", "customer_id"),
    sa.Index("ix_dunning_agenda_customer", "customer_id"),
    sa.Index("ix_dunning_agenda_policy", "policy_id"),
)

reminder_deliveries = sa.Table(
    "reminder_deliveries", metadata,
    sa.Column("reminder_id", sa.Uuid, primary_key=True),
    sa.Column("customer_id", sa.Uuid, nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # pending, sending, delivered, failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_reminder_deliveries_due", "state", "next_attempt_at"),
)

dunning_tasks = sa.Table(
    "dunning_tasks", metadata,
    sa.Column("task_id", sa.Uuid, primary_key=True),  # the reminder id
    sa.Column("customer_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # call, handoff
    sa.Column("step_key", sa.String(64), nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),  # open, done
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=True),
    sa.Column("done_by", sa.String(128), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_dunning_tasks_state", "state", "due_on"),
)
