"""Rows loaded once, changed in memory and written once per batch (or once per rebuild), and the bulk insert that
writes them: how the receivables projection keeps its cost per event to dictionary work."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa


@dataclass
class Rows:
    """Rows of one table touched by a batch: loaded once, changed in memory, written once.

    During a rebuild (`packed`), a row at rest between batches is a tuple in the table's column order (~250 bytes
    instead of a dictionary's ~1,200): `get` turns it back into a dictionary and `pack` turns the batch's rows
    into tuples again."""

    table: sa.Table
    key: sa.Column[Any]
    new: dict[UUID, Any] = field(default_factory=dict)  # a dictionary per row, or a tuple when packed and at rest
    changed: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    # during a rebuild, a row not in memory is either unknown or was written early: this brings it back (spill.py)
    missing: Callable[[sa.Connection, Rows, UUID], dict[str, Any] | None] | None = None
    packed: bool = False
    hot: list[UUID] = field(default_factory=list)  # the rows made dictionaries since the last `pack`

    def get(self, conn: sa.Connection, key: UUID) -> dict[str, Any] | None:
        row = self.new.get(key)
        if row is not None:
            if type(row) is tuple:
                row = self.new[key] = dict(zip(self.names, row, strict=True))
                self.hot.append(key)
            return row
        if self.missing is not None:
            return self.missing(conn, self, key)
        if key not in self.changed:
            found = conn.execute(sa.select(self.table).where(self.key == key)).mappings().first()
            if found is None:
                return None
            self.changed[key] = dict(found)
        return self.changed[key]

    def add(self, key: UUID, row: dict[str, Any]) -> dict[str, Any]:
        """A row created by this batch."""
        self.new[key] = row
        if self.packed:
            self.hot.append(key)
        return row

    @property
    def names(self) -> tuple[str, ...]:
        return _names(self.table)

    def pack(self) -> None:
        """The rows made dictionaries since the last call, back to tuples (a rebuild, after each batch)."""
        names, new = self.names, self.new
        for key in self.hot:
            row = new.get(key)
            if type(row) is dict:
                new[key] = tuple([row[n] for n in names])
        self.hot.clear()

    def prefetch(self, conn: sa.Connection, keys: set[UUID]) -> None:
        """Load the rows a batch will touch in a few queries instead of one per event."""
        wanted = sorted(k for k in keys if k not in self.new and k not in self.changed)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for found in conn.execute(sa.select(self.table).where(self.key.in_(chunk))).mappings():
                self.changed[found[self.key.name]] = dict(found)

    def flush(self, conn: sa.Connection) -> None:
        if self.new:
            insert_rows(conn, self.table, list(self.new.values()))
        if self.changed:
            columns = [c.name for c in self.table.columns if c is not self.key]
            update = (self.table.update().where(self.key == sa.bindparam("_key"))
                      .values({c: sa.bindparam(c) for c in columns}))
            conn.execute(update, [{"_key": key, **{c: row[c] for c in columns}} for key, row in self.changed.items()])


@functools.cache
def _names(table: sa.Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns)


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Iterable[dict[str, Any] | tuple[Any, ...]]) -> None:
    """Insert many rows in one statement: COPY on PostgreSQL (executemany would send one INSERT per row), an
    executemany on SQLite (in-process, no round trips). `rows` may be a generator: COPY takes them one by one; a
    row is a dictionary, or a tuple in the table's column order."""
    if isinstance(rows, list) and not rows:
        return
    if conn.dialect.name != "postgresql":  # the column types' own conversions, without a statement per row
        names = [c.name for c in table.columns]
        convert = [c.type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in table.columns]
        marks = ", ".join("?" * len(names))
        values = [tuple(f(v) if f else v for v, f in zip(row if isinstance(row, tuple) else [row[n] for n in names],
                                                          convert, strict=True)) for row in rows]
        if values:
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", values)
        return
    columns = [c.name for c in table.columns]
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([_pg_type(c.type) for c in table.columns])  # binary: no text to format here and parse there
        for row in rows:
            copy.write_row(row if isinstance(row, tuple) else [row[c] for c in columns])


def _pg_type(kind: sa.types.TypeEngine[Any]) -> str:
    if isinstance(kind, sa.Uuid):
        return "uuid"
    if isinstance(kind, sa.BigInteger):
        return "int8"
    if isinstance(kind, sa.Integer):
        return "int4"
    if isinstance(kind, sa.DateTime):
        return "timestamptz" if kind.timezone else "timestamp"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.String):
        return "text"
    raise TypeError(f"no binary COPY type for {kind!r}")
