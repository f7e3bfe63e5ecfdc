"""Bank statements in: a file (camt.053/.054, MT940, CFONB 120, CSV) becomes payments, matched or waiting; the
unmatched queue and a person's match. The file's reading is `ar.adapters.bank_files`, the import and matching
`ar.application.bank_import`; this router only translates HTTP."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from ar.adapters.bank_files import FORMATS, CsvMapping, read_statement
from ar.api.deps import IfMatchDep, RuntimeDep
from ar.api.problems import responses
from ar.api.routes._write import POSITION_HEADER, tagged
from ar.api.schemas.bank import ImportOut, MatchIn, StatementFileOut, UnmatchedOut
from ar.api.schemas.payments import PaymentOut
from ar.domain.errors import DomainRuleViolation, NotFound

router = APIRouter(tags=["bank"])

MAX_FILE_BYTES = 20 * 1024 * 1024
FILE_TYPES = ("application/xml", "text/plain", "text/csv", "application/octet-stream")
MAPPING_DOC = (
    "CSV only: the column mapping as a JSON object (URL-encoded), e.g. {\"booked_on\": \"Date\", \"amount\": "
    "\"Montant\", \"remittance\": \"Libellé\", \"payer_iban\": \"IBAN\", \"account_id\": \"FR76...\"}; keys: "
    + ", ".join(f.name for f in dataclasses.fields(CsvMapping)))


async def raw_body(request: Request) -> bytes:
    return await request.body()


def request_body() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"required": True, "description": "the statement file as the bank exported it",
            "content": {media: binary for media in FILE_TYPES}}


def csv_mapping(raw: str | None) -> CsvMapping | None:
    if raw is None:
        return None
    try:
        fields = json.loads(raw)
        if not isinstance(fields, dict):
            raise TypeError("a JSON object is expected")
        return CsvMapping(**fields)
    except (ValueError, TypeError) as e:
        raise DomainRuleViolation(f"the CSV mapping is not usable: {e}", field="mapping") from None


@router.post("/v1/bank-statements", status_code=201, response_model=StatementFileOut,
             responses=responses(409, 422), openapi_extra={"requestBody": request_body()},
             summary="Import a bank statement file: credits become payments, matched or waiting")
def import_statement(
    runtime: RuntimeDep, body: Annotated[bytes, Depends(raw_body)], response: Response,
    format: Annotated[str | None, Query(description="the file's format; detected when absent",
                                        pattern="^(" + "|".join(f.replace(".", r"\.") for f in FORMATS) + ")$")]
    = None,
    mapping: Annotated[str | None, Query(max_length=4000, description=MAPPING_DOC)] = None,
) -> StatementFileOut:
    """The raw file is the body (`application/xml`, `text/plain`, `text/csv` or `application/octet-stream`). Each
    credit becomes a payment dated by its value date: matched by its invoice's creditor reference, its customer's
    (the open items oldest due first, the rest unapplied), the invoice numbers in its remittance (ours or an
    issuer's) or a known payer IBAN and amount (a discounted amount within an invoice's early-payment window pays
    it exactly; a shortfall up to `AR_BANK_MATCH_TOLERANCE_MINOR` is written off as bank charges in the same
    transaction), or waiting in `GET /v1/payments/unmatched`. A returned direct debit (or unpaid cheque)
    returns its payment; other debits, other reversals and a credit reversing one of our debits are listed. Each
    entry shows its `family` and the bank's code as written. The same file, or one that overlaps, imported again
    records nothing new: 200 when every entry was imported before, else 201. A file that cannot be read is 422
    naming the line or element (`where`), and nothing is recorded."""
    if not body:
        raise DomainRuleViolation("the body is the statement file, and it is empty", field="file")
    if len(body) > MAX_FILE_BYTES:
        raise DomainRuleViolation(f"a statement file is at most {MAX_FILE_BYTES} bytes", field="file")
    statements = read_statement(body, format=format, csv_mapping=csv_mapping(mapping))
    reports = runtime.bank.import_statements(statements, format=format or "")
    response.headers[POSITION_HEADER] = str(runtime.app.recorder.max_notification_id() or 0)
    if all(r.all_duplicates for r in reports):
        response.status_code = 200
    return StatementFileOut.of(reports)


@router.get("/v1/bank-statements", response_model=list[ImportOut], responses=responses(422),
            summary="List bank statement imports, newest first")
def list_imports(runtime: RuntimeDep,
                 limit: Annotated[int, Query(ge=1, le=500, description="at most this many")] = 100) -> list[ImportOut]:
    return [ImportOut.of(r) for r in runtime.bank.imports(limit)]


@router.get("/v1/bank-statements/{import_id}", response_model=ImportOut, responses=responses(404, 422),
            summary="Read one bank statement import: its counts and each entry's outcome")
def get_import(import_id: UUID, runtime: RuntimeDep) -> ImportOut:
    report = runtime.bank.get_import(import_id)
    if report is None:
        raise NotFound(f"no bank statement import {import_id}", field="import_id")
    return ImportOut.of(report)


@router.get("/v1/payments/unmatched", response_model=list[UnmatchedOut], responses=responses(422),
            summary="Bank credits waiting for a person, with ranked suggestions")
def unmatched(runtime: RuntimeDep,
              limit: Annotated[int, Query(ge=1, le=500, description="at most this many")] = 100) -> list[UnmatchedOut]:
    """Oldest value date first. Suggestions are ranked again when read, from the invoices as they are now: one
    paid, credited, written off or refused since is left out. A credit allocated another way (`POST
    /v1/payments/{payment_id}/allocations`) leaves the queue. Confirm one with `POST
    /v1/payments/{payment_id}/match`."""
    return [UnmatchedOut.of(o) for o in runtime.bank.unmatched(limit)]


@router.post("/v1/payments/{payment_id}/match", response_model=PaymentOut, responses=responses(404, 409, 412, 422),
             summary="Confirm or split a waiting bank credit over invoices")
def match(payment_id: UUID, body: MatchIn, runtime: RuntimeDep, if_match: IfMatchDep,
          response: Response) -> PaymentOut:
    """The allocations go through the same command as `POST /v1/payments/{id}/allocations`; the payer's IBAN is
    then known for the first invoice's customer, so that customer's next credit from it matches by itself."""
    currency = runtime.app.get_payment(payment_id).currency
    payment = runtime.bank.confirm_match(payment_id, [a.to_domain(currency) for a in body.allocations],
                                         expected_version=if_match)
    tagged(response, payment.version)
    response.headers[POSITION_HEADER] = str(runtime.app.recorder.max_notification_id() or 0)
    return PaymentOut.of(payment)
