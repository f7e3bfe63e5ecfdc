from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from ar.api.deps import IdempotencyDep, IfMatchDep, ReceivablesDep
from ar.api.problems import responses
from ar.api.routes._write import tagged, written
from ar.api.schemas.common import EventOut
from ar.api.schemas.customers import BillingIdentityIn, CreditLimitIn, CustomerOut, RegisterCustomerIn, TermsIn
from ar.application.receivables import new_id

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.post("", status_code=201, response_model=CustomerOut, responses=responses(409, 422),
             summary="Register a customer (debtor)")
def register_customer(body: RegisterCustomerIn, app: ReceivablesDep, key: IdempotencyDep,
                      response: Response) -> CustomerOut:
    """Terms beyond the legal maximum (60 days net, or 45 days end of month) are refused for professional and
    public debtors. A retry with the same `external_id` or `Idempotency-Key` returns the same customer."""
    saved = app.register_customer(
        customer_id=new_id("customer", idempotency=key, external_id=body.external_id), name=body.name,
        kind=body.kind, country=body.country, language=body.language, emails=body.emails,
        terms=body.terms.to_domain(), credit_limit=body.to_domain(), external_id=body.external_id,
        credit_limit_policy=body.credit_limit_policy,
        billing_address=body.billing_address.to_domain(body.country) if body.billing_address else None,
        siren=body.siren)
    written(response, saved, created=True)
    return CustomerOut.of(saved.aggregate)


@router.get("/{customer_id}", response_model=CustomerOut, responses=responses(404, 422),
            summary="Read a customer (its version as ETag)")
def get_customer(customer_id: UUID, app: ReceivablesDep, response: Response) -> CustomerOut:
    customer = app.get_customer(customer_id)
    tagged(response, customer.version)
    return CustomerOut.of(customer)


@router.put("/{customer_id}/terms", response_model=CustomerOut, responses=responses(404, 409, 412, 422),
            summary="Change the payment terms of future invoices")
def change_terms(customer_id: UUID, body: TermsIn, app: ReceivablesDep, if_match: IfMatchDep,
                 response: Response) -> CustomerOut:
    saved = app.change_customer_terms(customer_id, body.to_domain(), expected_version=if_match)
    written(response, saved)
    return CustomerOut.of(saved.aggregate)


@router.put("/{customer_id}/credit-limit", response_model=CustomerOut, responses=responses(404, 409, 412, 422),
            summary="Change the credit limit, and whether an invoice past it is flagged or refused")
def change_credit_limit(customer_id: UUID, body: CreditLimitIn, app: ReceivablesDep, if_match: IfMatchDep,
                        response: Response) -> CustomerOut:
    saved = app.change_credit_limit(customer_id, body.to_domain(), body.credit_limit_policy,
                                    expected_version=if_match)
    written(response, saved)
    return CustomerOut.of(saved.aggregate)


@router.put("/{customer_id}/billing-identity", response_model=CustomerOut,
            responses=responses(404, 409, 412, 422),
            summary="Change the billing address and SIREN (letters, statements, e-invoices in)")
def change_billing_identity(customer_id: UUID, body: BillingIdentityIn, app: ReceivablesDep, if_match: IfMatchDep,
                            response: Response) -> CustomerOut:
    """Both as they now are: a field left out or null clears it. A French company's SIREN must be valid."""
    country = app.get_customer(customer_id).country
    saved = app.update_billing_identity(
        customer_id, billing_address=body.billing_address.to_domain(country) if body.billing_address else None,
        siren=body.siren, expected_version=if_match)
    written(response, saved)
    return CustomerOut.of(saved.aggregate)


@router.get("/{customer_id}/events", response_model=list[EventOut], responses=responses(404, 422),
            summary="The customer's full history, for audit")
def customer_history(customer_id: UUID, app: ReceivablesDep) -> list[EventOut]:
    app.get_customer(customer_id)
    return [EventOut(**e) for e in app.history(customer_id)]
