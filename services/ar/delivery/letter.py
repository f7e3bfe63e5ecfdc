"""A reminder as a printable letter: the rendered text on A4, for a formal notice sent by registered post.

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


def letter_pdf(message: RenderedMessage, content: dict[str, Any], *, compress: bool = True) -> bytes:
    """The subject as a heading, then the text as rendered (it already holds the parties, the date, the invoices
    and, for a formal notice, the deadline and how to pay): the letter says exactly what the email says."""
    run_on = date.fromisoformat(str(content["run_on"]))
    pdf = _LetterPdf(_text(f"{content['creditor']['name']} · {content['customer']['name']}"))
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_compression(compress)
    pdf.set_lang("fr" if content.get("language") == "fr" else "en")
    pdf.set_title(_text(message.subject))
    pdf.set_author(_text(str(content["creditor"]["name"])))
    pdf.set_creation_date(datetime.combine(run_on, time(0, 0), tzinfo=UTC))
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 12)
    pdf.multi_cell(0, 6, _text(message.subject), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "", FONT)
    lines = message.text.split("\n")
    codes = [base64.b64decode(data) for data in QR_IMAGE.findall(message.html)]
    iban = next((i for i, line in enumerate(lines) if line.lstrip().startswith("IBAN")), None)
    block = range(max(iban - 2, 0), _block_end(lines, iban)) if iban is not None and codes else range(0)
    top = 0.0
    for i, paragraph in enumerate(lines):
        if i == block.start and block:
            if pdf.will_page_break(QR_MM + 8):
                pdf.add_page()
            top = pdf.get_y()
        width = pdf.epw - QR_MM - 6 if i in block else 0
        if paragraph.strip():
            pdf.multi_cell(width, LINE, _text(paragraph), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(LINE * 0.6)
        if block and i == block.stop - 1:
            _qr(pdf, codes[0], top, SCAN["fr" if content.get("language") == "fr" else "en"])
    return bytes(pdf.output())


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
