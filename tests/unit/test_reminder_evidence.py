"""The evidence a dunning run records (template version, message hash) is computed without drawing QR codes, is the
one delivery finds again, and reminders recorded with the earlier hash (over the PNG images) stay verifiable."""

from __future__ import annotations

import copy

import pytest
from tests.unit.test_payable_reminders import CREDITOR, qr_codes
from tests.unit.test_reminder_rendering import content, line

from ar.delivery.renderer import QR_STAND_IN, JinjaRenderer, content_hash, payment_blocks, qr_stand_in


@pytest.fixture(scope="module")
def renderer() -> JinjaRenderer:
    return JinjaRenderer(creditor=CREDITOR)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("template", ["reminder-1", "formal-notice"])
def test_the_evidence_of_a_decision_is_the_hash_delivery_renders_again(
        renderer: JinjaRenderer, template: str, language: str) -> None:
    c = content(template, language, lines=[line("F2026-000041", days_late=12, remindable_minor=1_234_56)])
    evidence = renderer.evidence(template, language, c)
    message = JinjaRenderer(creditor=CREDITOR).render(template, language, copy.deepcopy(c))
    assert (evidence.template_version, evidence.content_hash) == (message.template_version, message.content_hash)
    assert message.proves(evidence.content_hash)
    assert len(qr_codes(message.html)) == 1 and QR_STAND_IN not in message.html  # sent with its image drawn


def test_a_reminder_recorded_with_the_hash_over_the_images_is_still_proven(renderer: JinjaRenderer) -> None:
    message = renderer.render("reminder-1", "fr", content("reminder-1", "fr"))
    earlier = content_hash(message.subject, message.text, message.html)
    assert earlier != message.content_hash and message.proves(earlier)
    assert not message.proves("0" * 64)


def test_the_evidence_follows_what_the_qr_code_pays(renderer: JinjaRenderer) -> None:
    """The image is left out of the hash, not what it holds: another amount is another hash."""
    one = renderer.evidence("reminder-1", "fr", content(lines=[line("F2026-000041", days_late=12,
                                                                    remindable_minor=1_000_00)]))
    other = renderer.evidence("reminder-1", "fr", content(lines=[line("F2026-000041", days_late=12,
                                                                      remindable_minor=1_000_01)]))
    assert one.content_hash != other.content_hash


def test_text_the_customer_controls_cannot_pass_for_a_qr_code(renderer: JinjaRenderer) -> None:
    c = content(lines=[line("F2026-000041", days_late=12, remindable_minor=1_000_00)])
    (block,) = payment_blocks(c, {**renderer.creditor, **c["creditor"]})
    forged = copy.deepcopy(c)
    forged["customer"]["name"] = f'Martin <img src="{qr_stand_in(block)}">'
    message = renderer.render("reminder-1", "fr", forged)
    assert len(qr_codes(message.html)) == 1  # only the payment block's
    assert qr_stand_in(block) in message.html  # the name's copy stays the escaped text it was, not drawn
