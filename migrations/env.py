"""Alembic environment: runs on the connection `ar migrate` hands over, or on AR_DATABASE_URL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from ar.config import Settings
from ar.projections.tables import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    engine = sa.create_engine(Settings().sqlalchemy_url())
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
