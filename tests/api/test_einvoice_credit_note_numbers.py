"""POST /v1/invoices/import: a seller's credit-note number is applied to one invoice only. The same number on a
credit note for another invoice of the same seller is a 409 naming the number and the invoice holding it, nothing
recorded. SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import httpx
from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, EventHead, created, ok
from tests.support.einvoices import SELLER_SIREN, Sample, ubl

from ar.application.issuer_numbers import numbered_invoice_id

SERIES = f"EINV-{SELLER_SIREN}"
CREDIT_NOTE = Sample(number="AV-2026-0012", issued_on="2026-03-10", type_code="381", corrects="FA-2026-0107",
                     vat=[("20.00", "200.00", "40.00")])


def post(client: TestClient, content: bytes) -> httpx.Response:
    return client.post("/v1/invoices/import", content=content, headers={"Content-Type": "application/xml"})


def test_a_credit_note_number_applied_to_one_invoice_is_refused_for_another(
    client: TestClient, problem: CheckProblem, event_head: EventHead,
) -> None:
    created(post(client, ubl(Sample())))
    created(post(client, ubl(Sample(number="FA-2026-0108"))))
    created(post(client, ubl(CREDIT_NOTE)))
    head = event_head()
    refused = problem(post(client, ubl(replace(CREDIT_NOTE, corrects="FA-2026-0108"))), 409, field="number",
                      rule="credit-note-number-taken")
    assert (refused["number"], refused["invoice_number"]) == ("AV-2026-0012", "FA-2026-0107")
    assert "AV-2026-0012" in refused["detail"]
    assert event_head() == head
    other = ok(client.get(f"/v1/invoices/{numbered_invoice_id(SERIES, 'FA-2026-0108')}"))
    assert (other["credit_notes"], other["credited"]["minor"]) == ({}, 0)


def test_the_same_credit_note_again_is_still_the_invoice_as_recorded(
    client: TestClient, event_head: EventHead,
) -> None:
    created(post(client, ubl(Sample())))
    created(post(client, ubl(CREDIT_NOTE)))
    head = event_head()
    again = post(client, ubl(CREDIT_NOTE))
    assert again.status_code == 200, again.text
    assert again.json()["credited"]["minor"] == 24000
    assert event_head() == head

