"""Reading the events of many aggregates in one query (the library reads one aggregate per query).

A dunning sweep or the agenda projection needs thousands of invoices at once: one round trip per invoice was
most of their time. What is read here is only a starting point: saves still check versions, so an aggregate that
changed since it was read makes the save fail and the command retry, as with the library's own reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.sql import SQL, Identifier

CHUNK = 500


def select_many(recorder: AggregateRecorder, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
    """Every stored event of each aggregate in `ids`, in version order."""
    found: dict[UUID, list[StoredEvent]] = defaultdict(list)
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start:start + CHUNK])
        for event in _select(recorder, chunk):
            found[UUID(str(event.originator_id))].append(event)
    return found


def _select(recorder: AggregateRecorder, ids: list[UUID]) -> list[StoredEvent]:
    if isinstance(recorder, PostgresAggregateRecorder):
        statement = SQL("SELECT * FROM {schema}.{table} WHERE originator_id = ANY(%s) "
                        "ORDER BY originator_id, originator_version").format(
            schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, [ids])
            return [_stored(row["originator_id"], row) for row in curs.fetchall()]
    if isinstance(recorder, SQLiteAggregateRecorder):
        marks = ",".join("?" * len(ids))
        query = (f"SELECT * FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
                 "ORDER BY originator_id, originator_version")
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(query, [i.hex for i in ids])
            return [_stored(recorder.convert_originator_id(row["originator_id"]), row) for row in c.fetchall()]
    return [e for i in ids for e in recorder.select_events(i)]


def _stored(originator_id: Any, row: Any) -> StoredEvent:
    return StoredEvent(originator_id=originator_id, originator_version=row["originator_version"],
                       topic=row["topic"], state=bytes(row["state"]))
