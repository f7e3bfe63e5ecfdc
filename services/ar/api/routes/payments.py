from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from ar.api.deps import IdempotencyDep, IfMatchDep, ReceivablesDep
from ar.api.problems import responses
from ar.api.routes import _commands as commands
from ar.api.routes import _segments  # noqa: F401  (the `record_id` path convertor)
from ar.api.routes._write import answered, tagged, written
from ar.api.schemas.common import EventOut
from ar.api.schemas.payments import AllocateIn, PaymentOut, RecordPaymentIn, RefundIn, ReturnIn
from ar.application.receivables import new_id
from ar.domain.money import Money

router = APIRouter(prefix="/v1/payments", tags=["payments"])


@router.post("", status_code=201, response_model=PaymentOut, responses=responses(404, 409, 422),
             summary="Record a payment received, and allocate it")
def record_payment(body: RecordPaymentIn, app: ReceivablesDep, key: IdempotencyDep) -> Response:
    """Explicit `allocations` are applied as given; without them the payment is allocated automatically:
    the structured reference first, then invoice numbers found in the remittance text, then the customer's
    oldest due invoices. What is left is unapplied cash. All of it is one transaction."""
    saved = commands.record_payment(app, body, key)
    return answered(PaymentOut.of(saved.aggregate), saved, created=True)


@router.get("/{payment_id:record_id}", response_model=PaymentOut, responses=responses(404, 422),
            summary="Read a payment and its allocations (its version as ETag)")
def get_payment(payment_id: UUID, app: ReceivablesDep, response: Response) -> PaymentOut:
    payment = app.get_payment(payment_id)
    tagged(response, payment.version)
    return PaymentOut.of(payment)


@router.post("/{payment_id}/allocations", response_model=PaymentOut, responses=responses(404, 409, 412, 422),
             summary="Allocate unapplied cash to invoices")
def allocate(payment_id: UUID, body: AllocateIn, app: ReceivablesDep, if_match: IfMatchDep,
             response: Response) -> PaymentOut:
    currency = app.get_payment(payment_id).currency
    saved = app.allocate_payment(
        payment_id, allocations=[a.to_domain(currency) for a in body.allocations] if body.allocations else None,
        expected_version=if_match)
    written(response, saved)
    return PaymentOut.of(saved.aggregate)


@router.post("/{payment_id}/refunds", response_model=PaymentOut, responses=responses(404, 409, 412, 422),
             summary="Refund unapplied cash")
def refund(payment_id: UUID, body: RefundIn, app: ReceivablesDep, key: IdempotencyDep, if_match: IfMatchDep,
           response: Response) -> PaymentOut:
    currency = app.get_payment(payment_id).currency
    saved = app.refund_payment(payment_id, refund_id=new_id("refund", idempotency=key),
                               amount=Money(body.amount_minor, currency), refunded_on=body.refunded_on,
                               expected_version=if_match)
    written(response, saved)
    return PaymentOut.of(saved.aggregate)


@router.post("/{payment_id}/return", response_model=PaymentOut, responses=responses(404, 409, 412, 422),
             summary="Record a returned direct debit or bounced cheque")
def return_payment(payment_id: UUID, body: ReturnIn, app: ReceivablesDep, if_match: IfMatchDep,
                   response: Response) -> PaymentOut:
    """Every allocation of the payment is reversed in the same transaction: the invoices are open again."""
    saved = app.return_payment(payment_id, reason=body.reason, returned_on=body.returned_on,
                               expected_version=if_match)
    written(response, saved)
    return PaymentOut.of(saved.aggregate)


@router.get("/{payment_id}/events", response_model=list[EventOut], responses=responses(404, 422),
            summary="The payment's full history, for audit")
def payment_history(payment_id: UUID, app: ReceivablesDep) -> list[EventOut]:
    app.get_payment(payment_id)
    return [EventOut(**e) for e in app.history(payment_id)]
