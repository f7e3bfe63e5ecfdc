"""Path segments of a record's id beside the sibling paths of its collection (`/v1/invoices/import`,
`/v1/invoices/batch`, `/v1/payments/batch`: POST only). A GET of a sibling answers 405 with the right `Allow`, while
a malformed id still reaches validation, a 422 naming it."""

from __future__ import annotations

from starlette.convertors import StringConvertor, register_url_convertor

SIBLINGS = ("import", "batch")


class _RecordSegment(StringConvertor):
    regex = rf"(?!(?:{'|'.join(SIBLINGS)})$)[^/]+"


register_url_convertor("record_id", _RecordSegment())
