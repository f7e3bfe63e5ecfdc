"""A reminder as a printable letter: the rendered text on A4, for a formal notice sent by registered post.

Drawn with the PDF core fonts, like the statements (`ar.reports.render`): Helvetica in its WinAnsi (cp1252)
encoding, so "€" prints and nothing is embedded; a character outside cp1252 prints as "?". The creation date is the
reminder's run date, so the same reminder gives the same bytes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from fpdf import FPDF

from ar.application.ports import RenderedMessage

LINE = 5.2  # mm
FONT = 10.5  # pt


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
    for paragraph in message.text.split("\n"):
        if paragraph.strip():
            pdf.multi_cell(0, LINE, _text(paragraph), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(LINE * 0.6)
    return bytes(pdf.output())
