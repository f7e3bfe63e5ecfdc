"""API keys (hashed secrets, scopes, expiry, last use) (issue 10)."""

from __future__ import annotations

import sqlalchemy as sa

# The tables are defined here, by the only module that writes them (migration 0008 creates them).
metadata = sa.MetaData()
