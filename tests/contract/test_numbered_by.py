"""Who numbered each stored invoice and series: events stored before issuer numbers read as ar's, the issuer's
samples as the issuer's (Invoice.Issued v3, NumberingSeries.Opened v2, in `stored_events.json`'s legacy part)."""

from __future__ import annotations

from typing import Any

from tests.contract.test_stored_events import FIXTURE, stored

from ar.domain.invoice import Invoice
from ar.domain.series import NumberingSeries
from ar.runtime import Runtime


def rebuilt(runtime: Runtime, entries: list[dict[str, Any]]) -> dict[str, Any]:
    aggregates: dict[str, Any] = {}
    for entry in entries:
        event: Any = runtime.app.mapper.to_domain_event(stored(entry))
        aggregates[entry["originator_id"]] = event.mutate(aggregates.get(entry["originator_id"]))
    return aggregates


def test_invoices_and_series_stored_before_issuer_numbers_were_numbered_by_ar(runtime: Runtime) -> None:
    # those recorded since (an imported e-invoice and its series) state who numbered them
    stating = {e["originator_id"] for e in FIXTURE["events"] if "numbered_by" in e["state"]}
    aggregates = rebuilt(runtime, [e for e in FIXTURE["events"] if e["originator_id"] not in stating]).values()
    invoices = [a for a in aggregates if isinstance(a, Invoice)]
    series = [a for a in aggregates if isinstance(a, NumberingSeries)]
    assert invoices and series
    assert {i.numbered_by for i in invoices} == {s.numbered_by for s in series} == {"ar"}


def test_the_issuer_numbered_samples_replay_as_the_issuers(runtime: Runtime) -> None:
    aggregates = rebuilt(runtime, FIXTURE["legacy"]["events"])
    by_issuer = {type(a).__name__: a for a in aggregates.values()
                 if getattr(a, "numbered_by", None) == "issuer"}
    assert set(by_issuer) == {"Invoice", "NumberingSeries"}
    assert (by_issuer["Invoice"].number, by_issuer["Invoice"].series) == ("FA-2026-0041", "ERP2026")
    assert by_issuer["NumberingSeries"].name == "ERP2026"
    issued = [e for e in FIXTURE["legacy"]["events"] if e["topic"].endswith("Invoice.Issued")]
    assert {e["state"].get("class_version") for e in issued} == {None, 3}  # v1 and v3, each replayed
