"""A command's lookup reads one read model and brings only that one up to date: a payment matched by its remittance
does not make the request apply the customers or dunning read models (the projection loop does)."""

from __future__ import annotations

from ar.runtime import Runtime


def test_a_payment_matched_by_its_remittance_advances_only_the_read_model_its_lookup_reads(
        runtime: Runtime, desk) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_200)
    issued = runtime.projections.head()
    before = {p.name: runtime.projections.position(p.name) for p in runtime.projections.projections}

    payment = desk.payment(customer.id, 500, remittance=f"Facture {invoice.number}", auto=True)

    assert desk.open_minor(invoice.id) == 700 and payment.version >= 2  # found through the receivables read model
    head = runtime.projections.head()
    assert runtime.projections.position("receivables") >= issued
    assert runtime.projections.position("customers") == before["customers"] < head
    assert runtime.projections.position("dunning") == before["dunning"] < head

