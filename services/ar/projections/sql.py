"""What the read side says differently to SQLite and PostgreSQL, written once: INSERT ... ON CONFLICT (the two
dialects spell it alike but SQLAlchemy builds it per dialect) and SQLite's timestamps, handed back without their
zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

Rows = Sequence[dict[str, Any]]


def dialect_insert(conn: sa.Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that knows ON CONFLICT, for the connection's dialect."""
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def upsert(conn: sa.Connection, table: sa.Table, rows: Rows, keys: Sequence[str], *, add: Sequence[str] = ()) -> None:
    """Insert `rows`, or update the row with the same `keys`: every other column takes the new value, or, when `add`
    names columns, only those change, by the new value added to the stored one (deltas)."""
    if not rows:
        return
    statement = dialect_insert(conn, table)
    if add:
        values = {c: table.c[c] + statement.excluded[c] for c in add}
    else:
        values = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=values), list(rows))


def insert_missing(conn: sa.Connection, table: sa.Table, rows: Rows, keys: Sequence[str]) -> None:
    """Insert the rows whose `keys` are not there yet; the others stay as they are."""
    if rows:
        conn.execute(dialect_insert(conn, table).on_conflict_do_nothing(index_elements=list(keys)), list(rows))


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
@overload
def aware(value: object) -> object: ...
def aware(value: object) -> object:
    """A timestamp as stored: SQLite gives it back naive, and it was stored in UTC; anything else as it is."""
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value
