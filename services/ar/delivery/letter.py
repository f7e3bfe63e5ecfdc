"""A reminder as a printable letter: the rendered text on A4, laid out as a French business letter (sender top left,
recipient in a DL window envelope's window, place and date, "Objet" once), for a formal notice sent by registered post.

Drawn with the PDF core fonts, like the statements (`ar.reports.render`): Helvetica in its WinAnsi (cp1252)
encoding, so "€" prints and nothing is embedded; a character outside cp1252 prints as "?". The creation date is the
reminder's run date, so the same reminder gives the same bytes.

The EPC QR code of the payment block is the one of the HTML rendering (its `data-epc-qr` image): printed at the right
of the block whose IBAN line it pays, so the letter and the e-mail carry the same code."""

from __future__ import annotations

import base64
import io
import re
from datetime import UTC, date, datetime, time
from typing import Any

from fpdf import FPDF

from ar.application.ports import RenderedMessage
from ar.delivery.renderer import letter_date
from ar.reports.payment_block import Creditor

LINE = 5.2  # mm
FONT = 10.5  # pt
QR_MM = 34  # printed side of the QR code: a phone reads it from 20 mm
QR_IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*data-epc-qr=')
SCAN = {"fr": "Scannez pour payer", "en": "Scan to pay"}


def _text(value: str) -> str:
    return value.encode("cp1252", "replace").decode("cp1252")


class _LetterPdf(FPDF):
    def __init__(self, footer: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", size=8)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.footer_text} · {self.page_no()}/{self.str_alias_nb_pages}")


MENTION = {"fr": "Lettre recommandée avec accusé de réception",
           "en": "Registered letter with acknowledgement of receipt"}
SUBJECT = {"fr": "Objet :", "en": "Subject:"}
PLACED = {"fr": ("{city}, le {day}", "Le {day}"), "en": ("{city}, {day}", "{day}")}  # with the creditor's city, without
# A DL window envelope (NF EN ISO 269, La Poste's layout): the recipient block from 100 mm of the left edge, 45 mm
# from the top, at most 85 mm wide; the sender at the top left, where no window shows it
RECIPIENT_X, RECIPIENT_Y, RECIPIENT_W = 105, 48, 85


def letter_pdf(message: RenderedMessage, content: dict[str, Any], *, compress: bool = True) -> bytes:
    """A French business letter: sender top left, recipient in the envelope's window, place and date, the registered
    post mention for a formal notice, "Objet" once, then the rendered text from its salutation (it already holds the
    invoices and, for a formal notice, the deadline and how to pay): the letter says exactly what the email says."""
    run_on = date.fromisoformat(str(content["run_on"]))
    language = "fr" if content.get("language") == "fr" else "en"
    creditor = dict(content["creditor"])
    pdf = _LetterPdf(_text(f"{creditor['name']} · {content['customer']['name']}"))
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_compression(compress)
    pdf.set_lang(language)
    pdf.set_title(_text(message.subject))
    pdf.set_author(_text(str(creditor["name"])))
    pdf.set_creation_date(datetime.combine(run_on, time(0, 0), tzinfo=UTC))
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    lines = message.text.split("\n")
    subject_at = next((i for i, line in enumerate(lines) if line.startswith(SUBJECT[language])), None)
    _head(pdf, content, creditor, language, run_on)
    pdf.set_font("helvetica", "B", FONT)
    subject = lines[subject_at] if subject_at is not None else f"{SUBJECT[language]} {message.subject}"
    pdf.multi_cell(0, LINE, _text(subject), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(LINE)
    pdf.set_font("helvetica", "", FONT)
    if subject_at is not None:  # the text's own heading (parties, date, subject) is the one drawn above
        lines = lines[subject_at + 1:]
        while lines and not lines[0].strip():
            lines = lines[1:]
    codes = [base64.b64decode(data) for data in QR_IMAGE.findall(message.html)]
    iban = next((i for i, line in enumerate(lines) if line.lstrip().startswith("IBAN")), None)
    block = range(max(iban - 2, 0), _block_end(lines, iban)) if iban is not None and codes else range(0)
    # a heading ending in ":" right above the payment block ("Modalités de paiement :") goes to its page with it
    kept = block.start - 1 if block and block.start > 0 and lines[block.start - 1].rstrip().endswith(":") \
        else block.start
    top = 0.0
    for i, paragraph in enumerate(lines):
        if i == kept and block and pdf.will_page_break(QR_MM + 8 + LINE * (block.start - kept)):
            pdf.add_page()
        if i == block.start and block:
            top = pdf.get_y()
        width = pdf.epw - QR_MM - 6 if i in block else 0
        if paragraph.strip():
            pdf.multi_cell(width, LINE, _text(paragraph), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(LINE * 0.6)
        if block and i == block.stop - 1:
            _qr(pdf, codes[0], top, SCAN[language])
    return bytes(pdf.output())


def _head(pdf: FPDF, content: dict[str, Any], creditor: dict[str, Any], language: str, run_on: date) -> None:
    """Sender, recipient, place and date, and the registered post mention of a formal notice sent by letter."""
    sender = [str(creditor.get("legal_name") or creditor["name"]), *Creditor.of(creditor).address_lines,
              " - ".join(str(p) for p in (creditor.get("email"), creditor.get("phone")) if p)]
    pdf.set_font("helvetica", "B", FONT)
    pdf.cell(RECIPIENT_X - 25, LINE, _text(sender[0]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", FONT - 1)
    for line in (line for line in sender[1:] if line):
        pdf.cell(RECIPIENT_X - 25, LINE - 0.6, _text(line), new_x="LMARGIN", new_y="NEXT")
    sender_bottom = pdf.get_y()
    customer = content["customer"]
    recipient = [str(customer["name"]), *(str(line) for line in customer.get("billing_address") or [])]
    pdf.set_xy(RECIPIENT_X, max(RECIPIENT_Y, sender_bottom + LINE))
    pdf.set_font("helvetica", "B", FONT)
    pdf.multi_cell(RECIPIENT_W, LINE, _text(recipient[0]), new_x="LEFT", new_y="NEXT")
    pdf.set_font("helvetica", "", FONT)
    for line in recipient[1:]:
        pdf.multi_cell(RECIPIENT_W, LINE, _text(line), new_x="LEFT", new_y="NEXT")
    pdf.ln(LINE * 2)
    pdf.set_x(RECIPIENT_X)
    city = str(creditor.get("city") or "")
    placed = PLACED[language][0 if city else 1].format(city=city, day=letter_date(run_on, language))
    pdf.cell(RECIPIENT_W, LINE, _text(placed), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(LINE * 1.5)
    if content.get("template") == "formal-notice":
        pdf.set_font("helvetica", "B", FONT)
        pdf.cell(0, LINE, _text(MENTION[language]), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(LINE * 0.5)


def _block_end(lines: list[str], iban: int | None) -> int:
    """The payment block: its heading and beneficiary, the IBAN, and the indented lines after it."""
    if iban is None:
        return 0
    end = iban + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    return end


def _qr(pdf: FPDF, png: bytes, top: float, caption: str) -> None:
    """At the right margin, from the top of the block; the text goes on below whichever ends lower."""
    bottom = pdf.get_y()
    x = pdf.w - pdf.r_margin - QR_MM
    pdf.image(io.BytesIO(png), x=x, y=top, w=QR_MM, h=QR_MM)
    pdf.set_xy(x, top + QR_MM)
    pdf.set_font(size=7)
    pdf.cell(QR_MM, 3.5, caption, align="C")
    pdf.set_font(size=FONT)
    pdf.set_xy(pdf.l_margin, max(bottom, top + QR_MM + 4))
