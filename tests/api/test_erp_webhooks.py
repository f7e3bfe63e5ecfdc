"""ERP webhooks in, through the ASGI app on both backends: each delivery signed with the `standardwebhooks` package
as an ERP would, at the injected clock's time."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook
from tests.support.api import CheckProblem, EventHead, Json, created, ok
from tests.support.servers import serving_in_thread

from ar.adapters.clocks import SettableClock
from ar.api.schemas.webhooks import PAYLOADS, CustomerUpserted
from ar.runtime import Runtime

Post = Callable[..., httpx.Response]
CUSTOMER = {"customer_ref": "C-1042", "name": "Boulangerie Martin SARL", "kind": "professional",
            "emails": ["compta@martin.fr"], "terms": {"kind": "net", "days": 30}}
INVOICE = {"number": "FA-2026-0042", "customer_ref": "C-1042", "total_minor": 120000,
           "vat": [{"rate": "20", "base_minor": 100000, "vat_minor": 20000}], "issued_on": "2026-03-02"}


def envelope(kind: str, data: Json) -> bytes:
    return json.dumps({"type": kind, "data": data}).encode()


@pytest.fixture
def secret(client: TestClient) -> str:
    body = created(client.post("/v1/webhooks/sources", json={"name": "erp", "description": "the ERP"}))
    value: str = body["secret"]
    return value


@pytest.fixture
def post(client: TestClient, clock: SettableClock, secret: str) -> Post:
    """POST a delivery signed as an ERP would (or with the headers given), to /v1/webhooks/erp/{source}."""
    counter = iter(range(1, 10_000))

    def send(body: bytes, *, webhook_id: str | None = None, secrets: tuple[str, ...] = (),
             at_offset_s: int = 0, source: str = "erp", headers: dict[str, str] | None = None,
             sent_body: bytes | None = None) -> httpx.Response:
        msg_id = webhook_id or f"msg_{next(counter)}"
        at = clock.now() + timedelta(seconds=at_offset_s)
        signature = " ".join(Webhook(s).sign(msg_id, at, body.decode("latin-1")) for s in secrets or (secret,))
        sent = {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": signature, "content-type": "application/json"}
        return client.post(f"/v1/webhooks/erp/{source}", content=sent_body if sent_body is not None else body,
                           headers={**sent, **(headers or {})})

    return send


def events_of(client: TestClient, path: str) -> list[Json]:
    history: list[Json] = ok(client.get(f"{path}/events"))  # type: ignore[assignment]
    return history


# Verification -----------------------------------------------------------------------------------------------------
TAMPERED: dict[str, dict[str, Any]] = {
    "one body byte changed": {"sent_body": envelope("customer.upserted", CUSTOMER).replace(b"SARL", b"SARM")},
    "id changed": {"headers": {"webhook-id": "msg_other"}},
    "timestamp 301 s old": {"at_offset_s": -301},
    "timestamp 301 s ahead": {"at_offset_s": 301},
    "signed with another secret": {"secrets": ("whsec_" + "A" * 43 + "=",)},
    "unknown source": {"source": "nobody"},
    "a source name no source can have": {"source": "erp%00"},
}


def test_a_valid_delivery_is_processed(post: Post, event_head: EventHead) -> None:
    before = event_head()
    body = ok(post(envelope("customer.upserted", CUSTOMER)))
    assert body["state"] == "processed"
    assert body["result"]["registered"] is True
    assert event_head() == before + 1


@pytest.mark.parametrize("case", list(TAMPERED), ids=list(TAMPERED))
def test_a_delivery_not_signed_as_sent_is_refused_401_and_changes_nothing(
        case: str, post: Post, event_head: EventHead, problem: CheckProblem, client: TestClient) -> None:
    before = event_head()
    problem(post(envelope("customer.upserted", CUSTOMER), **TAMPERED[case]), 401, rule="webhook-signature")
    assert event_head() == before
    assert ok(client.get("/v1/webhooks/inbox")) == []


MALFORMED: dict[str, tuple[str, str | None]] = {
    "webhook-id missing": ("webhook-id", None),
    "webhook-id empty": ("webhook-id", ""),
    "webhook-id with a space": ("webhook-id", "msg 1"),
    "webhook-timestamp missing": ("webhook-timestamp", None),
    "webhook-timestamp not a number": ("webhook-timestamp", "yesterday"),
    "webhook-timestamp with decimals": ("webhook-timestamp", "1772442000.5"),
    "webhook-signature missing": ("webhook-signature", None),
    "webhook-signature without version": ("webhook-signature", "c2lnbmF0dXJl"),
    "webhook-signature not base64": ("webhook-signature", "v1,not*base64"),
    "webhook-signature badly padded": ("webhook-signature", "v1,abc"),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_a_missing_or_malformed_header_is_a_400_naming_it(case: str, client: TestClient, clock: SettableClock,
                                                         secret: str, problem: CheckProblem,
                                                         event_head: EventHead) -> None:
    header, value = MALFORMED[case]
    body = envelope("customer.upserted", CUSTOMER)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(clock.now().timestamp())),
               "webhook-signature": Webhook(secret).sign("msg_1", clock.now(), body.decode())}
    if value is None:
        del headers[header]
    else:
        headers[header] = value
    before = event_head()
    problem(client.post("/v1/webhooks/erp/erp", content=body, headers=headers), 400, field=header,
            rule="webhook-header")
    assert event_head() == before


def test_a_body_that_is_not_utf8_or_holds_a_nul_is_a_400(post: Post, problem: CheckProblem) -> None:
    problem(post(b"\xff\xfe{}"), 400, field="body")
    problem(post(b'{"type": "customer.upserted", "data": {}}\x00'), 400, field="body")


def test_a_type_no_row_can_file_is_kept_without_it(post: Post, problem: CheckProblem, client: TestClient) -> None:
    refused = problem(post(b'{"type": "a\\u0000\\ud800", "data": {}}'), 422, field="type")
    assert ok(client.get(f"/v1/webhooks/inbox/{refused['inbox_id']}"))["type"] == ""
    problem(client.get("/v1/webhooks/inbox", params={"source": "erp\x00"}), 422, field="source")


# Rotation and revocation --------------------------------------------------------------------------------------------
def test_during_a_rotation_the_old_and_the_new_secret_are_both_valid_until_the_grace_ends(
        client: TestClient, post: Post, secret: str, clock: SettableClock, problem: CheckProblem) -> None:
    rotated = ok(client.post("/v1/webhooks/sources/erp/rotate", json={"grace_hours": 2}))
    new = rotated["secret"]
    assert new != secret and new.startswith("whsec_")
    assert rotated["secrets_valid"] == 2
    ok(post(envelope("customer.upserted", CUSTOMER), secrets=(secret,)))
    ok(post(envelope("customer.upserted", CUSTOMER), secrets=(new,)))
    ok(post(envelope("customer.upserted", CUSTOMER), secrets=(secret, new)))  # two v1 signatures in one header
    clock.advance(timedelta(hours=2, seconds=1))
    problem(post(envelope("customer.upserted", CUSTOMER), secrets=(secret,)), 401)
    ok(post(envelope("customer.upserted", CUSTOMER), secrets=(new,)))
    assert [s["secrets_valid"] for s in ok(client.get("/v1/webhooks/sources"))] == [1]  # type: ignore[index]


def test_a_revoked_source_is_refused(client: TestClient, post: Post, problem: CheckProblem) -> None:
    assert ok(client.delete("/v1/webhooks/sources/erp"))["revoked_at"] is not None
    problem(post(envelope("customer.upserted", CUSTOMER)), 401)


def test_sources_show_their_secret_once_and_refuse_a_bad_or_taken_name(client: TestClient, secret: str,
                                                                      problem: CheckProblem) -> None:
    assert len(secret) == len("whsec_") + 44  # base64 of 32 bytes
    listed = ok(client.get("/v1/webhooks/sources"))
    assert listed == [{**listed[0], "name": "erp"}] and "secret" not in listed[0]  # type: ignore[index]
    problem(client.post("/v1/webhooks/sources", json={"name": "erp"}), 409, field="name")
    problem(client.post("/v1/webhooks/sources", json={"name": "ERP!"}), 422, field="name")
    problem(client.post("/v1/webhooks/sources/nobody/rotate", json={}), 404, field="name")


# The inbox ------------------------------------------------------------------------------------------------------------
def test_the_same_delivery_twice_has_one_effect_and_the_first_answer(post: Post, event_head: EventHead,
                                                                     client: TestClient) -> None:
    ok(post(envelope("customer.upserted", CUSTOMER)))
    before = event_head()
    first = ok(post(envelope("invoice.issued", INVOICE), webhook_id="msg_invoice"))
    after_first = event_head()
    assert after_first > before
    second = ok(post(envelope("invoice.issued", INVOICE), webhook_id="msg_invoice"))
    assert second == first
    assert event_head() == after_first
    kept = ok(client.get(f"/v1/webhooks/inbox/{first['inbox_id']}"))
    assert (kept["state"], kept["attempts"], kept["type"]) == ("processed", 1, "invoice.issued")


def test_an_unknown_type_is_kept_answered_422_and_replayed_once_this_version_knows_it(
        post: Post, client: TestClient, problem: CheckProblem, event_head: EventHead,
        monkeypatch: pytest.MonkeyPatch) -> None:
    before = event_head()
    refused = problem(post(envelope("customer.created", CUSTOMER), webhook_id="msg_new_type"), 422, field="type",
                      rule="unknown-webhook-type")
    again = problem(post(envelope("customer.created", CUSTOMER), webhook_id="msg_new_type"), 422)
    assert again == refused
    failed = ok(client.get("/v1/webhooks/inbox", params={"state": "failed"}))
    assert [(d["inbox_id"], d["type"]) for d in failed] == [(refused["inbox_id"], "customer.created")]  # type: ignore[index]
    assert event_head() == before
    still = ok(client.post(f"/v1/webhooks/inbox/{refused['inbox_id']}/replay"))
    assert (still["state"], still["attempts"]) == ("failed", 2)
    monkeypatch.setitem(PAYLOADS, "customer.created", CustomerUpserted)  # a newer version knows the type
    replayed = ok(client.post(f"/v1/webhooks/inbox/{refused['inbox_id']}/replay"))
    assert (replayed["state"], replayed["attempts"], replayed["error"]) == ("processed", 3, None)
    assert event_head() == before + 1
    assert ok(client.post(f"/v1/webhooks/inbox/{refused['inbox_id']}/replay")) == replayed  # processed: a no-op
    assert ok(post(envelope("customer.created", CUSTOMER), webhook_id="msg_new_type"))["state"] == "processed"
    assert ok(client.get("/v1/webhooks/inbox", params={"state": "failed"})) == []


def test_an_invoice_for_an_unknown_customer_fails_then_replays_once_the_customer_exists(
        post: Post, client: TestClient, problem: CheckProblem) -> None:
    refused = problem(post(envelope("invoice.issued", INVOICE)), 422, field="data.customer_ref", rule="not-found")
    ok(post(envelope("customer.upserted", CUSTOMER)))
    replayed = ok(client.post(f"/v1/webhooks/inbox/{refused['inbox_id']}/replay"))
    assert replayed["state"] == "processed"
    invoice = ok(client.get(f"/v1/invoices/{replayed['result']['invoice_id']}"))
    assert invoice["total"]["minor"] == 120000


@pytest.mark.parametrize(("data", "field"), [
    ({**INVOICE, "total_minor": 0}, "data.total_minor"),
    ({**INVOICE, "vat": []}, "data.vat"),
    ({k: v for k, v in INVOICE.items() if k != "number"}, "data.number"),
    ({**INVOICE, "surprise": 1}, "data.surprise"),
])
def test_an_invalid_payload_is_kept_as_failed_naming_the_field(data: Json, field: str, post: Post,
                                                              problem: CheckProblem, client: TestClient) -> None:
    refused = problem(post(envelope("invoice.issued", data)), 422, field=field, rule="invalid-webhook-payload")
    kept = ok(client.get(f"/v1/webhooks/inbox/{refused['inbox_id']}"))
    assert kept["state"] == "failed" and kept["error"]["field"] == field
    assert json.loads(kept["payload"])["data"] == data


def test_a_body_that_is_not_an_envelope_is_kept_as_failed(post: Post, problem: CheckProblem) -> None:
    problem(post(b"[1, 2]"), 422, field="type", rule="invalid-webhook-payload")
    problem(post(b"not json"), 422, field="body", rule="invalid-webhook-payload")


def test_the_inbox_lists_by_state_and_source_and_an_unknown_delivery_is_404(
        post: Post, client: TestClient, problem: CheckProblem, clock: SettableClock) -> None:
    ok(post(envelope("customer.upserted", CUSTOMER)))
    clock.advance(timedelta(seconds=1))
    problem(post(envelope("nothing.known", {})), 422)
    assert [d["state"] for d in ok(client.get("/v1/webhooks/inbox"))] == ["failed", "processed"]  # type: ignore[index]
    assert len(ok(client.get("/v1/webhooks/inbox", params={"source": "erp", "state": "processed"}))) == 1
    assert ok(client.get("/v1/webhooks/inbox", params={"source": "other"})) == []
    problem(client.get("/v1/webhooks/inbox", params={"state": "done"}), 422, field="state")
    problem(client.get("/v1/webhooks/inbox/3f1c2a9e-5b7d-4c1e-9a2b-0d8e7f6a5b4c"), 404)
    problem(client.post("/v1/webhooks/inbox/3f1c2a9e-5b7d-4c1e-9a2b-0d8e7f6a5b4c/replay"), 404)


def test_a_delivery_is_kept_for_its_senders_retries_and_purged_after_7_days(
        post: Post, client: TestClient, clock: SettableClock, event_head: EventHead) -> None:
    first = ok(post(envelope("customer.upserted", CUSTOMER), webhook_id="msg_kept"))
    clock.advance(timedelta(days=3))
    before = event_head()
    assert ok(post(envelope("customer.upserted", {**CUSTOMER, "name": "Renamed"}), webhook_id="msg_kept")) == first
    assert event_head() == before  # a retry 3 days later is still the same delivery: not run again
    clock.advance(timedelta(days=4, seconds=1))
    ok(post(envelope("customer.upserted", CUSTOMER), webhook_id="msg_next"))  # the purge runs as one arrives
    assert [d["webhook_id"] for d in ok(client.get("/v1/webhooks/inbox"))] == ["msg_next"]  # type: ignore[index]


def test_the_same_delivery_racing_itself_has_one_effect_and_one_inbox_row(
        runtime: Runtime, clock: SettableClock, secret: str, event_head: EventHead) -> None:
    def post_signed(url: str, msg_id: str, body: bytes) -> httpx.Response:
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(clock.now().timestamp())),
                   "webhook-signature": Webhook(secret).sign(msg_id, clock.now(), body.decode())}
        return httpx.post(f"{url}/v1/webhooks/erp/erp", content=body, headers=headers, timeout=30)

    body = envelope("invoice.issued", INVOICE)
    with serving_in_thread(runtime, lifespan="off") as url, ThreadPoolExecutor(4) as pool:
        ok(post_signed(url, "msg_customer", envelope("customer.upserted", CUSTOMER)))
        before = event_head()
        answers = list(pool.map(lambda _: post_signed(url, "msg_race", body), range(4)))
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert len({a.json()["inbox_id"] for a in answers}) == 1
    assert len({a.json()["result"]["invoice_id"] for a in answers}) == 1
    assert event_head() - before == 2  # the issuer's series opened and the invoice issued: once
