"""Reminder templates: every template renders in French and English, amounts are exact, rendering is reproducible,
and a formal notice says what the law asks of it."""

from __future__ import annotations

import copy
import html
import shutil
from pathlib import Path
from typing import Any

import pytest

from ar.delivery.letter import letter_pdf
from ar.delivery.renderer import LANGUAGES, NBSP, TEMPLATES, JinjaRenderer, money_format


def penalty(interest_minor: int, indemnity_minor: int = 4000) -> dict[str, Any]:
    return {"regime": "b2b", "interest_minor": interest_minor, "indemnity_minor": indemnity_minor,
            "total_minor": interest_minor + indemnity_minor, "currency": "EUR", "as_of": "2026-04-20",
            "explain": "BCE 2,15 % + 10 points, 48 jours"}


def line(number: str, *, days_late: int, remindable_minor: int, total_minor: int | None = None,
         disputed_minor: int = 0, pen: dict[str, Any] | None = None, stage: str = "2/6") -> dict[str, Any]:
    total = total_minor if total_minor is not None else remindable_minor + disputed_minor
    return {"invoice_id": f"00000000-0000-0000-0000-{number[-6:]:0>12}", "number": number, "issued_on": "2026-01-15",
            "due_on": "2026-02-14", "days_late": days_late, "step_key": "r1", "step_kind": "reminder", "stage": stage,
            "currency": "EUR", "total_minor": total, "open_minor": remindable_minor + disputed_minor,
            "disputed_minor": disputed_minor, "remindable_minor": remindable_minor,
            "structured_reference": f"RF18{number.replace('-', '')}", "penalty": pen}


def content(template: str = "reminder-1", language: str = "fr", *, name: str = "Boulangerie Martin SARL",
            lines: list[dict[str, Any]] | None = None, states_penalties: bool = False,
            deadline: str | None = None, kind: str = "professional") -> dict[str, Any]:
    lines = lines if lines is not None else [line("F2026-000001", days_late=12, remindable_minor=123456)]
    remindable = sum(x["remindable_minor"] for x in lines)
    penalties = sum(x["penalty"]["total_minor"] for x in lines if x["penalty"]) if states_penalties else 0
    return {"reminder_id": "7d4c3c38-8a55-4c1e-9a51-0f1d3c1a0b01", "run_on": "2026-03-02", "channel": "email",
            "step_kind": "reminder", "template": template, "language": language,
            "customer": {"id": "5f0e1c1a-3a43-4d36-a3a9-3a2b7b2f7c11", "name": name, "kind": kind, "country": "FR",
                         "emails": ["compta@martin.example"]},
            "creditor": {"name": "Atelier Durand SAS", "email": "compta@durand.example"},
            "lines": lines,
            "totals": [{"currency": "EUR", "remindable_minor": remindable, "penalties_minor": penalties,
                        "total_minor": remindable + penalties}],
            "notice_deadline_on": deadline, "states_penalties": states_penalties}


@pytest.fixture(scope="module")
def renderer() -> JinjaRenderer:
    return JinjaRenderer()


@pytest.mark.parametrize(("minor", "currency", "language", "expected"), [
    (10000, "EUR", "fr", f"100,00{NBSP}€"),
    (10000, "EUR", "en", "€100.00"),
    (123456789, "EUR", "fr", f"1{NBSP}234{NBSP}567,89{NBSP}€"),
    (123456789, "EUR", "en", "€1,234,567.89"),
    (5, "EUR", "fr", f"0,05{NBSP}€"),
    (-4000, "EUR", "en", "-€40.00"),
    (1500, "JPY", "fr", f"1{NBSP}500{NBSP}JPY"),
    (1234567, "TND", "en", f"TND{NBSP}1,234.567"),
    (100, "USD", "en", f"USD{NBSP}1.00"),
    (2, "GBP", "en", "£0.02"),
])
def test_amounts_are_formatted_exactly_from_minor_units(minor: int, currency: str, language: str,
                                                        expected: str) -> None:
    assert money_format(minor, currency, language) == expected


def test_an_amount_that_is_not_an_integer_is_refused() -> None:
    with pytest.raises(TypeError):
        money_format(100.0, "EUR", "fr")  # type: ignore[arg-type]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_every_invoice_with_its_due_date_delay_stage_and_remaining_amount(
        renderer: JinjaRenderer, template: str, language: str) -> None:
    lines = [line("F2026-000001", days_late=12, remindable_minor=123456, stage="2/6"),
             line("F2026-000007", days_late=40, remindable_minor=9999, disputed_minor=5000, stage="4/6")]
    c = content(template, language, lines=lines, deadline="2026-03-17")
    message = renderer.render(template, language, c)
    assert message.subject and "\n" not in message.subject
    for body in (message.text, html.unescape(message.html)):
        assert "F2026-000001" in body and "F2026-000007" in body
        assert ("14/02/2026" if language == "fr" else "14 February 2026") in body
        assert ("en retard de 12 jours" if language == "fr" else "12 days overdue") in body
        assert ("en retard de 40 jours" if language == "fr" else "40 days overdue") in body
        assert "2/6" in body and "4/6" in body
        assert money_format(123456, "EUR", language) in body
        assert money_format(9999, "EUR", language) in body
        assert money_format(5000, "EUR", language) in body  # the disputed part, said to be not claimed
        assert money_format(133455, "EUR", language) in body  # the total
        assert "RF18F2026000001" in body
    assert message.html.lstrip().startswith("<!DOCTYPE html>")
    assert "\n\n\n" not in message.text and "{{" not in message.text and "{%" not in message.html


def test_a_courtesy_note_before_the_due_date_says_when_it_falls_due(renderer: JinjaRenderer) -> None:
    fr = renderer.render("courtesy", "fr", content("courtesy", "fr", lines=[
        line("F2026-000001", days_late=-5, remindable_minor=10000)]))
    en = renderer.render("courtesy", "en", content("courtesy", "en", lines=[
        line("F2026-000001", days_late=-5, remindable_minor=10000)]))
    assert "échéance dans 5 jours" in fr.text and "Rappel amical" in fr.subject
    assert "due in 5 days" in en.text and "Friendly reminder" in en.subject
    assert "retard" not in fr.text.lower() and "overdue" not in en.text.lower()


@pytest.mark.parametrize("language", LANGUAGES)
def test_penalties_are_stated_only_when_the_decision_states_them(renderer: JinjaRenderer, language: str) -> None:
    lines = [line("F2026-000001", days_late=30, remindable_minor=100000, pen=penalty(1234))]
    silent = renderer.render("reminder-2", language, content("reminder-2", language, lines=lines))
    stated = renderer.render("reminder-2", language, content("reminder-2", language, lines=lines,
                                                            states_penalties=True))
    assert money_format(1234, "EUR", language) not in silent.text
    assert money_format(1234, "EUR", language) in stated.text
    assert money_format(4000, "EUR", language) in stated.text
    assert money_format(105234, "EUR", language) in stated.text  # principal + interest + indemnity


@pytest.mark.parametrize(("language", "words", "deadline"), [
    ("fr", "mise en demeure", "17/03/2026"), ("en", "formal notice", "17 March 2026")])
def test_a_formal_notice_names_itself_the_parties_the_sums_the_deadline_and_what_comes_next(
        renderer: JinjaRenderer, language: str, words: str, deadline: str) -> None:
    lines = [line("F2026-000001", days_late=45, remindable_minor=250000, pen=penalty(3083), stage="5/6")]
    c = content("formal-notice", language, lines=lines, states_penalties=True, deadline="2026-03-17")
    message = renderer.render("formal-notice", language, c)
    for body in (message.text, html.unescape(message.html)):
        assert words in body.lower()
        assert "Boulangerie Martin SARL" in body and "Atelier Durand SAS" in body  # both parties
        assert "F2026-000001" in body and ("15/01/2026" if language == "fr" else "15 January 2026") in body
        assert money_format(250000, "EUR", language) in body  # principal
        assert money_format(3083, "EUR", language) in body  # interest
        assert money_format(4000, "EUR", language) in body  # the EUR 40 indemnity
        assert money_format(257083, "EUR", language) in body  # what is demanded
        assert deadline in body
        assert "RF18F2026000001" in body  # how to pay
        assert ("injonction de payer" if language == "fr" else "payment order") in body  # what happens next
    assert words in message.subject.lower()


def test_a_formal_notice_without_an_indemnity_does_not_claim_the_40_euros(renderer: JinjaRenderer) -> None:
    lines = [line("F2026-000001", days_late=45, remindable_minor=250000, pen=penalty(3083, indemnity_minor=0))]
    c = content("formal-notice", "fr", lines=lines, states_penalties=True, deadline="2026-03-17",
                kind="individual")
    message = renderer.render("formal-notice", "fr", c)
    assert money_format(4000, "EUR", "fr") not in message.text and "40 €" not in message.text
    assert "1344-1" in message.text  # a consumer: the notice starts interest at the statutory rate


def test_rendering_is_deterministic_and_the_hash_follows_the_content(renderer: JinjaRenderer) -> None:
    c = content("reminder-1", "fr")
    first, again = renderer.render("reminder-1", "fr", c), JinjaRenderer().render("reminder-1", "fr", copy.deepcopy(c))
    assert first == again
    assert len(first.content_hash) == 64 and len(first.template_version) == 12
    changed = copy.deepcopy(c)
    changed["lines"][0]["remindable_minor"] += 1
    assert renderer.render("reminder-1", "fr", changed).content_hash != first.content_hash
    assert renderer.render("reminder-1", "en", content("reminder-1", "en")).template_version != \
        first.template_version


def test_the_template_version_changes_with_the_template_files(tmp_path: Path, renderer: JinjaRenderer) -> None:
    copied = tmp_path / "templates"
    shutil.copytree(renderer.templates_dir, copied)
    c = content("reminder-1", "fr")
    before = JinjaRenderer(copied).render("reminder-1", "fr", c)
    english = JinjaRenderer(copied).render("reminder-1", "en", content("reminder-1", "en"))
    target = copied / "fr" / "reminder-1.txt"
    target.write_text(target.read_text().replace("Bonjour,", "Bonjour à vous,"))
    after = JinjaRenderer(copied).render("reminder-1", "fr", c)
    assert after.template_version != before.template_version and after.content_hash != before.content_hash
    assert JinjaRenderer(copied).render("reminder-1", "en", content("reminder-1", "en")) == english


@pytest.mark.parametrize("template", TEMPLATES)
def test_html_escapes_what_the_customer_controls_and_text_keeps_it_verbatim(renderer: JinjaRenderer,
                                                                            template: str) -> None:
    name = 'Evil <script>alert("x")</script> & Co'
    message = renderer.render(template, "en", content(template, "en", name=name))
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html and "&amp; Co" in message.html
    assert name in message.text


def test_an_unknown_language_falls_back_to_english_and_an_unknown_template_is_refused(
        renderer: JinjaRenderer) -> None:
    assert renderer.render("reminder-1", "de", content("reminder-1", "de")) == \
        renderer.render("reminder-1", "en", content("reminder-1", "de"))
    with pytest.raises(ValueError, match="unknown reminder template"):
        renderer.render("reminder-9", "fr", content())


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_letter_is_a_printable_pdf_with_the_euro_sign(renderer: JinjaRenderer, language: str) -> None:
    lines = [line("F2026-000001", days_late=45, remindable_minor=250000, pen=penalty(3083))]
    c = content("formal-notice", language, lines=lines, states_penalties=True, deadline="2026-03-17")
    c["channel"] = "letter"
    message = renderer.render("formal-notice", language, c)
    pdf = letter_pdf(message, c, compress=False)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"F2026-000001" in pdf
    assert "€".encode("cp1252") in pdf
    assert letter_pdf(message, c, compress=False) == pdf  # the same letter, byte for byte


ADDRESS = ["Bâtiment B", "12 rue des Lilas", "69003 LYON"]
LYON_CREDITOR = {"name": "Atelier Durand", "legal_name": "Atelier Durand SAS", "email": "compta@durand.example",
                 "address": "8 rue de la République", "postcode": "69001", "city": "Lyon"}


def addressed(language: str, channel: str = "letter") -> dict[str, Any]:
    c = content("formal-notice", language, states_penalties=True, deadline="2026-03-17",
                lines=[line("F2026-000001", days_late=45, remindable_minor=250000, pen=penalty(3083))])
    c["channel"], c["creditor"] = channel, LYON_CREDITOR
    c["customer"]["billing_address"] = ADDRESS
    return c


@pytest.mark.parametrize(("language", "subject", "mention", "placed"), [
    ("fr", b"Objet", "Lettre recommandée avec accusé de réception", b"Lyon, le 2 mars 2026"),
    ("en", b"Subject:", "Registered letter with acknowledgement of receipt", b"Lyon, 2 March 2026")])
def test_a_formal_notice_letter_has_the_recipient_block_place_and_date_the_mention_and_its_subject_once(
        renderer: JinjaRenderer, language: str, subject: bytes, mention: str, placed: bytes) -> None:
    c = addressed(language)
    message = renderer.render("formal-notice", language, c)
    pdf = letter_pdf(message, c, compress=False)
    for address_line in ["Boulangerie Martin SARL", *ADDRESS]:
        assert address_line.encode("cp1252") in pdf
    assert pdf.count(subject) == 1
    assert pdf.count(mention.encode("cp1252")) == 1
    assert placed in pdf
    assert pdf.index(b"Boulangerie Martin SARL") < pdf.index(b"69003 LYON") < pdf.index(placed) < pdf.index(subject)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_formal_notice_text_and_html_carry_the_recipient_block_and_one_subject_line(
        renderer: JinjaRenderer, language: str) -> None:
    c = addressed(language, channel="email")
    message = renderer.render("formal-notice", language, c)
    word = "Objet" if language == "fr" else "Subject:"
    for body in (message.text, html.unescape(message.html)):
        assert body.count(word) == 1
        assert all(address_line in body for address_line in ADDRESS)
        assert "Lyon, " in body
    assert "recommandée" not in message.text and "Registered letter" not in message.text  # an email is not


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_reminder_recorded_before_addresses_still_renders_with_the_name_alone(
        renderer: JinjaRenderer, template: str) -> None:
    c = content(template, "fr")
    assert "billing_address" not in c["customer"]
    message = renderer.render(template, "fr", c)
    assert "Boulangerie Martin SARL" in message.text
    c["channel"] = "letter"
    assert b"Boulangerie Martin SARL" in letter_pdf(message, c, compress=False)


@pytest.mark.parametrize("template", ["courtesy", "reminder-1", "reminder-2", "reminder-3"])
def test_a_reminder_email_shows_the_billing_address_as_a_recipient_block(
        renderer: JinjaRenderer, template: str) -> None:
    c = content(template, "fr")
    c["customer"]["billing_address"] = ADDRESS
    page = html.unescape(renderer.render(template, "fr", c).html)
    assert "<strong>Boulangerie Martin SARL</strong><br>Bâtiment B<br>12 rue des Lilas<br>69003 LYON" in page
