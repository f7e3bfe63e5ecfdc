"""ERP webhooks in: sources and their secrets, the inbox of deliveries (issue 10)."""

from __future__ import annotations

import sqlalchemy as sa

# The tables are defined here, by the only module that writes them (migration 0009 creates them).
metadata = sa.MetaData()
