"""Webhook subscriptions out: subscribers, their deliveries and attempts (issue 10)."""

from __future__ import annotations

import sqlalchemy as sa

# The tables are defined here, by the only module that writes them (migration 0010 creates them).
metadata = sa.MetaData()
