"""E-invoices: import (Factur-X PDF, CII or UBL XML), the original document served back, lifecycle statuses in and
the lifecycle listed. Registered before the invoices router, so that `/v1/invoices/import` is not an invoice id."""

from __future__ import annotations

import re
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response

from ar.adapters.einvoices import MEDIA_TYPES, read_einvoice
from ar.adapters.invoice_documents import InvoiceDocuments
from ar.api.deps import RuntimeDep
from ar.api.problems import responses
from ar.api.routes._write import written
from ar.api.schemas.einvoices import LifecycleEntryOut, LifecycleOut, LifecycleStatusIn
from ar.api.schemas.invoices import InvoiceOut
from ar.application.einvoices import Document
from ar.domain.errors import DomainRuleViolation, NotFound
from ar.domain.invoice import Invoice

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])
MAX_BYTES = 10 * 1024 * 1024
FILENAME = re.compile(r'filename="?([^";]{1,200})"?')
BODY = {"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in MEDIA_TYPES}}


async def raw_body(request: Request) -> bytes:
    return await request.body()


@router.post("/import", status_code=201, response_model=InvoiceOut, responses=responses(404, 409, 422),
             summary="Import an e-invoice (Factur-X PDF, CII or UBL XML)", openapi_extra={"requestBody": BODY})
def import_einvoice(runtime: RuntimeDep, response: Response, content: Annotated[bytes, Depends(raw_body)],
                    content_type: Annotated[str, Header()] = "",
                    content_disposition: Annotated[str | None, Header()] = None) -> InvoiceOut:
    """The invoice recorded as the e-invoice states it, under its own number in the series `EINV-<seller SIREN>`
    (the same document again answers 200 with the invoice recorded); its buyer is the customer with the external
    id `siren:<SIREN>`, registered from the document when new. A due date beyond the legal maximum is recorded with
    the derogation "as stated on the e-invoice": it is the issuer's legal document. The document is kept and
    served at `GET /v1/invoices/{id}/document`. An amount paid before the document (CII `TotalPrepaidAmount`, UBL
    `PrepaidAmount`) is recorded as a payment applied to the invoice, in the same save, so that what is open is
    the amount due.

    A credit note (CII type 381, 261, 262 or 396; a UBL `CreditNote`) is applied to the invoice it corrects (CII
    `InvoiceReferencedDocument`, UBL `BillingReference`) under its own number, once; the answer is that invoice
    and the document is served at `GET /v1/invoices/{id}/credit-notes/{number}/document`. An unknown invoice is
    a 422 naming the number; a credit-note number the seller already applied to another invoice a 409
    `credit-note-number-taken` naming it. A UBL document is checked against the UBL 2.1 XSD, a CII against Factur-X's. A
    malformed or invalid document is a 422 naming the element."""
    if len(content) > MAX_BYTES:
        raise DomainRuleViolation(f"the document exceeds {MAX_BYTES} bytes", field="document")
    if not content:
        raise DomainRuleViolation("the body is empty: send the document itself", field="document")
    media_type = content_type.split(";")[0].strip().lower()
    einvoice = read_einvoice(content, media_type)
    einvoice.check()
    documents = InvoiceDocuments(runtime.engine)
    digest = documents.keep(content, media_type, runtime.clock.now())
    named = FILENAME.search(content_disposition or "")
    filename = named.group(1) if named else None
    saved = runtime.app.import_einvoice(einvoice, Document(digest, media_type, filename))
    if einvoice.is_credit_note:
        documents.link_credit_note(saved.aggregate.id, einvoice.number, digest, filename, runtime.clock.now())
    written(response, saved, created=True)
    return InvoiceOut.of(saved.aggregate, runtime.clock.today())


@router.get("/{invoice_id}/document", responses={**responses(404, 422), 200: {"content": {
    t: {"schema": {"type": "string", "format": "binary"}} for t in MEDIA_TYPES}}},
            summary="The e-invoice document the invoice was imported from, byte for byte")
def invoice_document(invoice_id: UUID, runtime: RuntimeDep) -> Response:
    document = runtime.app.get_invoice(invoice_id).lifecycle.document
    stored = InvoiceDocuments(runtime.engine).get(document.sha256) if document else None
    if stored is None:
        raise NotFound(f"invoice {invoice_id} was not imported from a document", field="invoice_id")
    headers = {"ETag": f'"{stored.sha256}"'}
    if document and document.filename:
        headers["Content-Disposition"] = f'inline; filename="{document.filename}"'
    return Response(stored.content, media_type=stored.media_type, headers=headers)


@router.get("/{invoice_id}/credit-notes/{number}/document", responses={**responses(404, 422), 200: {"content": {
    t: {"schema": {"type": "string", "format": "binary"}} for t in MEDIA_TYPES}}},
            summary="The e-invoice document a credit note applied to the invoice was imported from, byte for byte")
def credit_note_document(invoice_id: UUID, number: str, runtime: RuntimeDep) -> Response:
    invoice = runtime.app.get_invoice(invoice_id)
    found = InvoiceDocuments(runtime.engine).credit_note(invoice_id, number) if number in invoice.credit_notes else None
    if found is None:
        raise NotFound(f"invoice {invoice.number} has no credit note {number} imported from a document",
                       field="number")
    stored, filename = found
    headers = {"ETag": f'"{stored.sha256}"'}
    if filename:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(stored.content, media_type=stored.media_type, headers=headers)


def _lifecycle(invoice: Invoice) -> LifecycleOut:
    return LifecycleOut(invoice_id=str(invoice.id), invoice_status=invoice.status.value,
                        document=invoice.lifecycle.document is not None,
                        statuses=[LifecycleEntryOut.of(e) for e in invoice.lifecycle.entries])


@router.post("/{invoice_id}/lifecycle", response_model=LifecycleOut, responses=responses(404, 409, 422),
             summary="Receive an e-invoice lifecycle status from the platform")
def receive_status(invoice_id: UUID, body: LifecycleStatusIn, runtime: RuntimeDep,
                   response: Response) -> LifecycleOut:
    """207 disputed opens a dispute for the open amount, 208 suspended pauses dunning, 210 refused stops dunning
    (the invoice is `refused`), 211 payment sent snoozes the reminders as a promise to pay would (setting
    `lifecycle_payment_sent_snooze_days`), 213 rejected stops dunning (the invoice is `invalid`). Each is recorded
    with its reason and message id; a message id already received changes nothing."""
    saved = runtime.app.receive_lifecycle_status(invoice_id, code=body.status, reason=body.reason,
                                                 message_id=body.message_id, at=body.at)
    written(response, saved)
    return _lifecycle(saved.aggregate)


@router.get("/{invoice_id}/lifecycle", response_model=LifecycleOut, responses=responses(404, 422),
            summary="The invoice's lifecycle statuses, received and sent (212 cashed)")
def lifecycle(invoice_id: UUID, runtime: RuntimeDep) -> LifecycleOut:
    return _lifecycle(runtime.app.get_invoice(invoice_id))
