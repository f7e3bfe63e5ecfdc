"""An e-invoice's buyer is the customer recorded with its SIREN, whichever door recorded it: the customer's SIREN is
the one source, the `siren:<SIREN>` external id only the fallback for a buyer first met on a document."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.support.api import created, ok
from tests.support.einvoices import BUYER_SIREN, Sample, cii, ubl

from ar.application.commands import new_id


def imported(client: TestClient, content: bytes) -> str:
    r = client.post("/v1/invoices/import", content=content, headers={"Content-Type": "application/xml"})
    customer_id: str = created(r)["customer_id"]
    return customer_id


def test_a_customer_registered_with_the_buyers_siren_is_the_buyer(client: TestClient) -> None:
    known = created(client.post("/v1/customers", json={"name": "Martin SARL", "kind": "professional",
                                                       "external_id": "ERP-10442", "siren": BUYER_SIREN}))
    assert imported(client, cii(Sample(number="FA-1"))) == known["id"]
    assert imported(client, ubl(Sample(number="FA-2"))) == known["id"]


def test_a_siren_recorded_later_makes_that_customer_the_buyer_of_the_next_documents(client: TestClient) -> None:
    known = created(client.post("/v1/customers", json={"name": "Known", "kind": "professional"}))
    ok(client.put(f"/v1/customers/{known['id']}/billing-identity", json={"siren": "356000000"}))
    assert imported(client, cii(Sample(number="FA-3", buyer_siren="356000000"))) == known["id"]


def test_a_buyer_first_met_on_a_document_is_registered_with_its_siren(client: TestClient) -> None:
    customer_id = imported(client, cii(Sample(number="FA-4")))
    assert customer_id == str(new_id("customer", external_id=f"siren:{BUYER_SIREN}"))
    assert ok(client.get(f"/v1/customers/{customer_id}"))["siren"] == BUYER_SIREN
    assert imported(client, ubl(Sample(number="FA-5"))) == customer_id
