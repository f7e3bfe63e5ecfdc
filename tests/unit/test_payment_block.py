from __future__ import annotations

import io
from uuid import UUID

import pytest
import zxingcpp
from PIL import Image
from pydantic import ValidationError
from stdnum import iso11649

from ar.config import Settings
from ar.domain.reference import creditor_reference
from ar.reports.payment_block import Creditor, PaymentBlock, account_number, customer_reference, iban_grouped

CREDITOR = Creditor.of({"name": "Dubois Travaux", "legal_name": "Dubois Travaux SAS",
                        "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPP"})


def decoded(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


def test_the_epc_payload_of_an_invoice_is_exactly_the_epc069_12_sepa_credit_transfer() -> None:
    reference = creditor_reference("FA-2026-0042")
    block = PaymentBlock.of(CREDITOR, 123_45, "EUR", reference)
    assert block is not None
    assert block.epc_payload() == (
        "BCD\n002\n1\nSCT\nAGRIFRPP\nDubois Travaux SAS\nFR7630006000011234567890189\nEUR123.45\n\n" + reference)


def test_the_qr_code_decodes_to_the_iban_the_amount_and_the_reference() -> None:
    block = PaymentBlock.of(CREDITOR, 1_234_567_89, "EUR", "RF18 5390 0754 7034")
    assert block is not None
    text = decoded(block.qr_png())
    assert text == block.epc_payload()
    lines = text.split("\n")
    assert lines[6] == "FR7630006000011234567890189"
    assert lines[7] == "EUR1234567.89"
    assert lines[9] == "RF18539007547034"


def test_a_beneficiary_with_accents_travels_in_utf8() -> None:
    creditor = Creditor.of({"name": "Société Générale d'Éclairage", "iban": "FR7630006000011234567890189"})
    block = PaymentBlock.of(creditor, 10_00, "EUR", "RF18539007547034")
    assert block is not None
    lines = decoded(block.qr_png()).split("\n")
    assert lines[2] == "1" and lines[5] == "Société Générale d'Éclairage"
    assert lines[4] == ""  # no BIC: optional in version 002
    assert lines[7] == "EUR10"


def test_the_data_uri_is_the_png() -> None:
    block = PaymentBlock.of(CREDITOR, 5_00, "EUR", "RF18539007547034")
    assert block is not None
    assert block.qr_data_uri().startswith("data:image/png;base64,iVBOR")
    assert block.qr_svg().lstrip().startswith("<svg")
    assert block.to_dict()["epc_qr"] == block.epc_payload()


@pytest.mark.parametrize(("amount_minor", "currency"), [(0, "EUR"), (-5_00, "EUR"), (10_00, "USD")])
def test_no_qr_code_for_nothing_to_pay_or_another_currency(amount_minor: int, currency: str) -> None:
    block = PaymentBlock.of(CREDITOR, amount_minor, currency, "RF18539007547034")
    assert block is not None and not block.has_qr
    assert block.to_dict()["qr_png_data_uri"] is None
    with pytest.raises(ValueError, match="EPC QR"):
        block.qr_png()


def test_no_block_without_an_iban() -> None:
    assert PaymentBlock.of(Creditor.of({"name": "X", "email": "x@example.com"}), 10_00, "EUR", "RF18539007547034") \
        is None


def test_the_customer_reference_is_a_valid_iso_11649_reference_from_the_account_number() -> None:
    customer_id = UUID("0f3c2a9e-51b7-4c1e-9d7a-2b8e6f4a1c03")
    assert account_number(customer_id) == "0F3C2A9E51"
    reference = customer_reference(customer_id)
    assert reference.endswith("C0F3C2A9E51")
    assert iso11649.is_valid(reference)


def test_an_iban_prints_in_groups_of_four() -> None:
    assert iban_grouped("FR7630006000011234567890189") == "FR76 3000 6000 0112 3456 7890 189"


def test_the_demo_creditor_identity_validates() -> None:
    creditor = Settings(_env_file=None).creditor()  # type: ignore[call-arg]
    assert creditor["iban"] == "FR7630006000011234567890189" and creditor["bic"] == "AGRIFRPP"
    assert creditor["siren"] == "123456782" and creditor["vat_id"] == "FR11123456782"


@pytest.mark.parametrize(("variable", "value"), [
    ("AR_CREDITOR_IBAN", "FR76 3000 6000 0112 3456 7890 188"),
    ("AR_CREDITOR_BIC", "AGRI"),
    ("AR_CREDITOR_SIREN", "123456789"),
    ("AR_CREDITOR_VAT_ID", "FR00123456782"),
])
def test_a_bad_creditor_identity_stops_start_up_naming_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str,
                                                                    value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable):
        Settings(_env_file=None)  # type: ignore[call-arg]
