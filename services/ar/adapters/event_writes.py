"""Sending a save's events to PostgreSQL in the binary format.

The library inserts a save's events as one parameter, an array of its composite type, and psycopg sends it in the
text format: each event's state (its JSON bytes) spelled in hex, escaped again for the array literal, then parsed
back by the server. A dunning sweep writes ~2 KB of state per invoice (the reminder's evidence), and that round of
spelling and parsing was a sixth of the sweeper's CPU and as much again in the server. In the binary format the
bytes go as they are. The statement stays the library's own: only its placeholder asks for the binary format, so
the same rows are written, with the same table lock and notification.
"""

from __future__ import annotations

from eventsourcing.persistence import AggregateRecorder
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Composable, Composed


def write_events_in_binary(recorder: AggregateRecorder) -> bool:
    """Make `recorder` send its inserts' events as a binary parameter; False (nothing changed) when it is not a
    PostgreSQL recorder or its statement is not the one expected (one `%s`)."""
    if not isinstance(recorder, PostgresAggregateRecorder):
        return False
    statement = recorder.insert_events_statement
    if not isinstance(statement, Composed):
        return False
    parts: list[Composable] = list(statement)
    texts = [p.as_string() for p in parts if isinstance(p, SQL)]
    if sum(t.count("%s") for t in texts) != 1 or any("%b" in t or "%t" in t for t in texts):
        return False
    recorder.insert_events_statement = Composed(
        [SQL(p.as_string().replace("%s", "%b")) if isinstance(p, SQL) else p for p in parts])
    return True
