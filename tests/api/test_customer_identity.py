"""A customer's billing address and SIREN over HTTP: registered, shown, changed, refused naming the field; the same
through the ERP's customer.upserted, which also carries the terms' early-payment discount."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.api.test_erp_webhook_types import Erp, erp  # noqa: F401 (the fixture)
from tests.support.api import Json, created, ok

LYON = {"lines": ["Bâtiment B", "12 rue des Lilas"], "postcode": "69003", "city": "Lyon"}


def register(client: TestClient, **extra: object) -> Json:
    return created(client.post("/v1/customers", json={"name": "Martin SARL", "kind": "professional", **extra}))


def test_a_customer_registered_with_its_address_and_siren_shows_them(client: TestClient) -> None:
    customer = register(client, billing_address=LYON, siren="443 061 841")
    shown = ok(client.get(f"/v1/customers/{customer['id']}"))
    assert shown["billing_address"] == {"lines": ["Bâtiment B", "12 rue des Lilas"], "postcode": "69003",
                                        "city": "LYON", "country": "FR"}
    assert shown["siren"] == "443061841"


def test_a_customer_without_them_shows_null(client: TestClient) -> None:
    customer = register(client)
    assert (customer["billing_address"], customer["siren"]) == (None, None)


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"billing_address": {**LYON, "postcode": "6900"}}, "billing_address.postcode", "five digits"),
    ({"billing_address": {**LYON, "city": " "}}, "billing_address.city", "city"),
    ({"billing_address": {**LYON, "lines": []}}, "billing_address.lines", ""),
    ({"billing_address": {**LYON, "country": "France"}}, "billing_address.country", ""),
    ({"siren": "443061842"}, "siren", "check digit"),
    ({"siren": "44306184100029"}, "siren", "SIRET"),
    ({"siren": "4430618"}, "siren", "nine digits"),
])
def test_a_bad_address_or_siren_is_refused_naming_the_field_and_nothing_is_recorded(
        client: TestClient, body: Json, field: str, words: str) -> None:
    refused = client.post("/v1/customers", json={"name": "Martin SARL", "kind": "professional",
                                                 "external_id": "C-BAD", **body})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["field"] == field if "field" in problem else problem["errors"][0]["field"] == field
    assert words in refused.text
    assert register(client, external_id="C-BAD")["version"] == 1  # the id was free: nothing half-written


def test_a_foreign_address_keeps_its_postcode_and_a_private_customer_any_number(client: TestClient) -> None:
    abroad = register(client, country="DE", billing_address={"lines": ["Hauptstraße 5"], "postcode": "10115",
                                                             "city": "Berlin"})
    assert abroad["billing_address"] == {"lines": ["Hauptstraße 5"], "postcode": "10115", "city": "Berlin",
                                         "country": "DE"}


def test_the_billing_identity_is_changed_and_cleared_by_its_put(client: TestClient) -> None:
    customer = register(client, billing_address=LYON)
    path = f"/v1/customers/{customer['id']}/billing-identity"
    moved = ok(client.put(path, json={"billing_address": {**LYON, "postcode": "69002"}, "siren": "552100554"},
                          headers={"If-Match": '"1"'}))
    assert (moved["billing_address"]["postcode"], moved["siren"], moved["version"]) == ("69002", "552100554", 3)
    refused = client.put(path, json={"siren": "55210055400012"})
    assert refused.status_code == 422 and refused.json()["field"] == "siren"
    cleared = ok(client.put(path, json={}))
    assert (cleared["billing_address"], cleared["siren"]) == (None, None)
    types = [e["type"] for e in client.get(f"/v1/customers/{customer['id']}/events").json()]
    assert types == ["Registered", "BillingAddressChanged", "SirenRecorded", "BillingAddressChanged",
                     "SirenRecorded"]


def test_customer_upserted_carries_address_siren_and_discount_and_leaves_what_it_does_not_send(
        erp: Erp, client: TestClient) -> None:  # noqa: F811
    first = erp.result("customer.upserted", {
        "customer_ref": "C-7", "name": "Martin SARL", "kind": "professional", "billing_address": LYON,
        "siren": "443061841", "terms": {"kind": "net", "days": 30, "discount": {"rate": "2", "days": 10}}})
    path = f"/v1/customers/{first['customer_id']}"
    shown = ok(client.get(path))
    assert (shown["billing_address"]["city"], shown["siren"]) == ("LYON", "443061841")
    assert shown["terms"]["discount"] == {"rate": "2", "days": 10}
    erp.result("customer.upserted", {"customer_ref": "C-7", "name": "Martin SARL", "kind": "professional",
                                     "terms": {"kind": "net", "days": 30, "discount": {"rate": "1.5", "days": 8}}})
    shown = ok(client.get(path))
    assert (shown["billing_address"]["city"], shown["siren"]) == ("LYON", "443061841")  # not sent: kept
    assert shown["terms"]["discount"] == {"rate": "1.5", "days": 8}
    erp.result("customer.upserted", {"customer_ref": "C-7", "name": "Martin SARL", "kind": "professional",
                                     "billing_address": None, "siren": None})
    shown = ok(client.get(path))
    assert (shown["billing_address"], shown["siren"]) == (None, None)
    refused = erp.send("customer.upserted", {"customer_ref": "C-7", "name": "Martin SARL", "kind": "professional",
                                             "siren": "44306184100029"})
    assert refused.status_code == 422 and refused.json()["field"] == "data.siren"
    refused = erp.send("customer.upserted", {"customer_ref": "C-7", "name": "Martin SARL", "kind": "professional",
                                             "billing_address": {**LYON, "postcode": "690"}})
    assert refused.status_code == 422 and refused.json()["field"] == "data.billing_address.postcode"
