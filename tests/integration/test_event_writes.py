"""Events sent to PostgreSQL in the binary format are stored byte for byte as the library would store them."""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.domain import Aggregate, event
from eventsourcing.postgres import PostgresAggregateRecorder

from ar.adapters.event_writes import write_events_in_binary
from ar.runtime import Runtime


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Amended")
    def amend(self, text: str) -> None:
        self.text = text


def test_a_save_sends_its_events_in_binary_and_reads_them_back_unchanged(runtime: Runtime) -> None:
    recorder = runtime.app.recorder
    if isinstance(recorder, PostgresAggregateRecorder):
        assert "%b" in recorder.insert_events_statement.as_string()  # set up by `build`
        assert not write_events_in_binary(recorder)  # and only once
    else:
        assert not write_events_in_binary(recorder)  # SQLite: nothing to change
    text = 'quotes " and \\ backslashes, {braces}, (parens), commas, a NUL-free ünïcödé line\nand a second ' * 50
    notes = [Note(text=f"{n}: {text}") for n in range(3)]
    for note in notes:
        note.amend(text=note.text.upper())
    before = [[runtime.app.mapper.to_stored_event(e).state for e in note.pending_events] for note in notes]
    runtime.app.save(*notes)
    for note, states in zip(notes, before, strict=True):
        stored = list(recorder.select_events(note.id))
        assert [s.state for s in stored] == states
        assert runtime.app.repository.get(note.id).text == note.text
    assert not list(recorder.select_events(uuid4()))
