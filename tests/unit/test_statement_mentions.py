"""The legal mentions a statement carries depend on who the customer is (L441-9, L441-10, D441-5, R2192-31,
Code civil 1231-6), and the how-to-pay block appears only for what is owed, per currency."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from tests.unit.test_render import make_statement

from ar.domain.early_payment import mention
from ar.domain.terms import EarlyPaymentDiscount, PaymentTerms
from ar.reports.payment_block import Creditor
from ar.reports.statement import Statement

CREDITOR = Creditor.of({"name": "Atelier Durand SAS", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP"})


def statement(kind: str, language: str = "fr") -> Statement:
    return dataclasses.replace(make_statement(language), kind=kind, creditor=CREDITOR)


def test_a_professional_is_told_the_l441_10_penalties_and_the_40_euros() -> None:
    mentions = statement("professional").legal_mentions()
    assert mentions[0] == "Escompte pour paiement anticipé : néant"
    assert "majoré de 10 points (art. L441-10" in mentions[1] and "40 € par facture (art. D441-5" in mentions[1]


def test_a_public_buyer_is_told_the_moratory_interest_and_the_40_euros() -> None:
    text = " ".join(statement("public", "en").legal_mentions())
    assert "plus 8 points" in text and "R2192-31" in text and "EUR 40" in text


def test_a_consumer_is_told_interest_at_the_legal_rate_from_a_formal_notice_and_no_40_euros() -> None:
    text = " ".join(statement("individual").legal_mentions())
    assert "taux légal" in text and "mise en demeure" in text
    assert "40" not in text and "L441-10" not in text


@pytest.mark.parametrize(("language", "expected"), [
    ("fr", "Escompte pour paiement anticipé : 2 % si paiement sous 10 jours"),
    ("en", "Early payment discount: 2% if paid within 10 days of the invoice date")])
def test_a_discount_in_the_terms_replaces_none(language: str, expected: str) -> None:
    terms = PaymentTerms(days=30, discount=EarlyPaymentDiscount(Decimal("2"), 10))
    st = dataclasses.replace(statement("professional", language), discount_mention=mention(terms, language))
    assert st.legal_mentions()[0] == expected


def test_only_a_balance_owed_gets_a_payment_block_and_only_in_euros_a_qr_code() -> None:
    st = statement("professional")
    eur, usd = st.sections
    block = st.payment(eur)
    assert block is not None and block.amount_minor == eur.closing_minor and block.has_qr
    assert block.reference == st.payment_reference
    other = st.payment(usd)
    assert other is not None and not other.has_qr
    usd.movements = []
    assert st.payment(usd) is None  # opening 0: nothing owed
