"""A formal notice is dated in words, the same in its e-mail (text and HTML) as on its PDF letter: one function,
`ar.delivery.renderer.letter_date`, prints both."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from tests.unit.test_reminder_rendering import addressed

from ar.delivery.letter import letter_pdf
from ar.delivery.renderer import JinjaRenderer, letter_date


@pytest.mark.parametrize(("day", "language", "spelled"), [
    (date(2026, 3, 2), "fr", "2 mars 2026"), (date(2026, 8, 15), "fr", "15 août 2026"),
    (date(2026, 12, 1), "fr", "1 décembre 2026"), (date(2026, 3, 2), "en", "2 March 2026"),
    ("2026-02-28", "fr", "28 février 2026")])
def test_a_letter_date_is_spelled_in_words(day: date | str, language: str, spelled: str) -> None:
    assert letter_date(day, language) == spelled


@pytest.mark.parametrize(("language", "placed"), [("fr", "Lyon, le 2 mars 2026"), ("en", "Lyon, 2 March 2026")])
def test_the_formal_notice_email_is_dated_as_its_letter(language: str, placed: str) -> None:
    renderer = JinjaRenderer()
    c = addressed(language, channel="email")
    message = renderer.render("formal-notice", language, c)
    assert placed in message.text
    assert placed in html.unescape(message.html)
    assert "02/03/2026" not in message.text and "02/03/2026" not in message.html
    c["channel"] = "letter"
    assert placed.encode("cp1252") in letter_pdf(message, c, compress=False)


def test_without_the_creditors_city_the_formal_notice_email_is_dated_le_in_words() -> None:
    c = addressed("fr", channel="email")
    c["creditor"] = {k: v for k, v in c["creditor"].items() if k != "city"}
    message = JinjaRenderer().render("formal-notice", "fr", c)
    assert re.search(r"^Le 2 mars 2026$", message.text, re.MULTILINE)
