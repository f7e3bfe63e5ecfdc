"""Reminders and formal notices a customer can pay from: the creditor named, the account, the reference, the QR code."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from tests.unit.test_reminder_rendering import content, line, penalty

from ar.config import Settings
from ar.delivery.letter import letter_pdf
from ar.delivery.renderer import JinjaRenderer
from ar.reports.payment_block import customer_reference

CREDITOR = Settings(_env_file=None, creditor_name="Atelier Durand SAS",  # type: ignore[call-arg]
                    creditor_email="compta@durand.example", creditor_address="12 avenue des Érables|Bâtiment B",
                    creditor_postcode="69003", creditor_city="Lyon").creditor()
IBAN = "FR76 3000 6000 0112 3456 7890 189"


@pytest.fixture(scope="module")
def renderer() -> JinjaRenderer:
    return JinjaRenderer(creditor=CREDITOR)


def qr_codes(html: str) -> list[str]:
    found = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*data-epc-qr="EUR"', html)
    return [zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(png))))[0].text for png in found]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("template", ["courtesy", "reminder-1", "reminder-2", "reminder-3", "formal-notice"])
def test_a_reminder_for_one_invoice_shows_the_account_its_reference_and_a_qr_code_paying_it(
        renderer: JinjaRenderer, template: str, language: str) -> None:
    c = content(template, language, lines=[line("F2026-000041", days_late=12, remindable_minor=1_234_56)])
    message = renderer.render(template, language, c)
    reference = c["lines"][0]["structured_reference"]
    for body in (message.text, message.html):
        assert IBAN in body and "AGRIFRPP" in body and reference in body
        assert "SIREN 123456782" in body and "FR11123456782" in body
    (payload,) = qr_codes(message.html)
    assert payload.split("\n") == ["BCD", "002", "1", "SCT", "AGRIFRPP", "Atelier Durand SAS",
                                   "FR7630006000011234567890189", "EUR1234.56", "", reference]


def test_a_reminder_for_several_invoices_is_paid_with_the_customers_reference(renderer: JinjaRenderer) -> None:
    c = content("reminder-2", "fr", lines=[line("F2026-000041", days_late=12, remindable_minor=1_000_00),
                                          line("F2026-000052", days_late=3, remindable_minor=500_00)])
    message = renderer.render("reminder-2", "fr", c)
    reference = customer_reference(c["customer"]["id"])
    assert f"référence à indiquer : {reference}" in message.text
    (payload,) = qr_codes(message.html)
    assert payload.endswith(f"\nEUR1500\n\n{reference}")


def test_without_an_iban_the_reminder_keeps_its_plain_instructions() -> None:
    message = JinjaRenderer().render("reminder-1", "fr", content("reminder-1", "fr"))
    assert "IBAN" not in message.text and "data-epc-qr" not in message.html
    assert "Règlement par virement bancaire, bénéficiaire : Atelier Durand SAS" in message.text


def notice(language: str, renderer: JinjaRenderer) -> tuple[str, dict[str, Any]]:
    c = content("formal-notice", language, states_penalties=True, deadline="2026-03-16", lines=[
        line("F2026-000041", days_late=45, remindable_minor=10_000_00, pen=penalty(149_79)),
        line("F2026-000052", days_late=20, remindable_minor=2_500_00, pen=penalty(16_64))])
    c["channel"] = "letter"
    message = renderer.render("formal-notice", language, c)
    pdf = letter_pdf(message, c, compress=False)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    images = [image for page in reader.pages for image in page.images]
    assert len(images) == 1  # the QR code of the payment block
    payload = zxingcpp.read_barcodes(images[0].image)[0].text
    assert payload.endswith(f"\nEUR12746.43\n\n{customer_reference(c['customer']['id'])}")
    return " ".join(text.split()), c


def test_the_formal_notice_letter_has_every_element_the_law_asks_for(renderer: JinjaRenderer) -> None:
    text, c = notice("fr", renderer)
    nbsp = "\u00a0"
    expected = {
        "the words": "MISE EN DEMEURE",
        "the creditor": "Atelier Durand SAS",
        "its address": "69003 Lyon",
        "its SIREN": "SIREN 123456782",
        "the debtor": "Boulangerie Martin SARL",
        "invoice and date": "Facture F2026-000041 du 15/01/2026",
        "the other invoice": "Facture F2026-000052 du 15/01/2026",
        "principal": f"Principal restant dû : 12{nbsp}500,00{nbsp}€",
        "penalties": f"Intérêts de retard au 20/04/2026 : 149,79{nbsp}€",
        "indemnity": f"Indemnité forfaitaire pour frais de recouvrement : 40,00{nbsp}€",
        "L441-10": "L441-10 et D441-5",
        "the deadline": "au plus tard le 16/03/2026",
        "how to pay": "IBAN : FR76 3000 6000 0112 3456 7890 189",
        "the reference": customer_reference(c["customer"]["id"]),
        "what follows": "injonction de payer",
        "registered letter": "Lettre recommandée avec accusé de réception",
    }
    missing = {what: words for what, words in expected.items() if words.replace(nbsp, " ") not in
               text.replace(nbsp, " ")}
    assert not missing


def test_the_english_formal_notice_letter_carries_the_same_payment_block(renderer: JinjaRenderer) -> None:
    text, _ = notice("en", renderer)
    assert "IBAN: FR76 3000 6000 0112 3456 7890 189" in text and "Atelier Durand SAS" in text
