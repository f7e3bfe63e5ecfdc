"""The parts of a statement PDF that make it a document a customer pays from: the parties at the top (the creditor
with its legal identity, the customer with its account number), the "how to pay" block with the EPC QR code of the
open balance, and the legal mentions (L441-9 discount, L441-10 penalties, D441-5 indemnity) at the end.

Drawn with the core fonts in cp1252, like the rest of the statement (`ar.reports.render`)."""

from __future__ import annotations

import io
from collections.abc import Callable

from fpdf import FPDF

from ar.reports.payment_block import iban_grouped, reference_grouped
from ar.reports.statement import Statement

QR_MM = 32
WINDOW_TOP_MM = 40  # the customer's block where a DL window envelope (45 mm from the top) shows its name and address
LABELS: dict[str, dict[str, str]] = {
    "fr": {"customer": "Client", "account": "N° de compte client : {}", "yours": "Votre référence : {}",
           "siren": "SIREN {}", "vat": "TVA intracommunautaire {}", "pay": "Comment régler",
           "beneficiary": "Bénéficiaire", "amount": "Montant", "reference": "Référence à indiquer",
           "how": "Par virement bancaire, en indiquant la référence ci-dessus dans le libellé : votre règlement sera "
                  "affecté sans délai. Pour régler une seule facture, indiquez la référence de paiement de sa ligne.",
           "scan": "Scannez pour payer", "mentions": "Mentions légales",
           "tel": "Tél. {}"},
    "en": {"customer": "Customer", "account": "Customer account number: {}", "yours": "Your reference: {}",
           "siren": "SIREN {}", "vat": "VAT {}", "pay": "How to pay", "beneficiary": "Beneficiary",
           "amount": "Amount", "reference": "Reference to quote",
           "how": "By bank transfer, quoting the reference above: your payment is matched at once. To pay a single "
                  "invoice, quote the payment reference on its line.",
           "scan": "Scan to pay", "mentions": "Legal mentions", "tel": "Tel. {}"},
}


def parties(pdf: FPDF, st: Statement, lang: str, text: Callable[[str], str]) -> None:
    """The creditor on the left, the customer on the right (where a window envelope shows it): its name and billing
    address as the recipient block, then its account number, SIREN and reference, on one band."""
    t = LABELS[lang]
    top = pdf.get_y()
    half = pdf.epw / 2
    c = st.creditor
    if c is not None:
        pdf.set_font("helvetica", "B", 11)
        pdf.cell(half, 5.5, text(c.legal_name or c.name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "", 8.5)
        lines = [*c.address_lines, *([t["siren"].format(c.siren)] if c.siren else []),
                 *([t["vat"].format(c.vat_id)] if c.vat_id else []),
                 " · ".join(p for p in (t["tel"].format(c.phone) if c.phone else "", c.email) if p)]
        for line in (line for line in lines if line):
            pdf.cell(half, 4, text(line), new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()
    x = pdf.l_margin + half + 10
    pdf.set_xy(x, max(top, WINDOW_TOP_MM))
    pdf.set_font("helvetica", "", 8.5)
    pdf.cell(half - 10, 4.5, t["customer"], new_x="LEFT", new_y="NEXT")
    pdf.set_font("helvetica", "B", 11)
    pdf.multi_cell(half - 10, 5.5, text(st.name), new_x="LEFT", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    for line in st.billing_address:
        pdf.multi_cell(half - 10, 5, text(line), new_x="LEFT", new_y="NEXT")
    pdf.set_xy(x, pdf.get_y() + 1.5)
    pdf.set_font("helvetica", "", 8.5)
    pdf.cell(half - 10, 4.5, t["account"].format(st.account_number), new_x="LEFT", new_y="NEXT")
    if st.siren:
        pdf.cell(half - 10, 4.5, t["siren"].format(st.siren), new_x="LEFT", new_y="NEXT")
    if st.external_id:
        pdf.cell(half - 10, 4.5, text(t["yours"].format(st.external_id)), new_x="LEFT", new_y="NEXT")
    pdf.set_xy(pdf.l_margin, max(left_bottom, pdf.get_y()) + 4)


def how_to_pay(pdf: FPDF, st: Statement, lang: str, money: Callable[[int, str], str],
               text: Callable[[str], str]) -> None:
    """One framed block per currency owed: the account, the amount, the customer's reference, the QR code."""
    t = LABELS[lang]
    for section in st.sections:
        block = st.payment(section)
        if block is None:
            continue
        height = max(QR_MM + 8, 40) if block.has_qr else 34
        if pdf.will_page_break(height + 10):
            pdf.add_page()
        pdf.ln(5)
        top = pdf.get_y()
        pdf.rect(pdf.l_margin, top, pdf.epw, height)
        pdf.set_xy(pdf.l_margin + 3, top + 2)
        pdf.set_font("helvetica", "B", 11)
        pdf.cell(0, 6, t["pay"], new_x="LEFT", new_y="NEXT")
        pdf.set_font("helvetica", "", 9)
        rows = [(t["beneficiary"], text(block.beneficiary)), ("IBAN", iban_grouped(block.iban)),
                *([("BIC", block.bic)] if block.bic else []),
                (t["amount"], money(block.amount_minor, block.currency)),
                (t["reference"], reference_grouped(block.reference))]
        for label, value in rows:
            pdf.set_font(style="")
            pdf.cell(38, 4.6, label)
            pdf.set_font(style="B")
            pdf.cell(80, 4.6, value, new_x="LEFT", new_y="NEXT")
            pdf.set_x(pdf.l_margin + 3)
        pdf.set_font("helvetica", "", 7.5)
        pdf.multi_cell(pdf.epw - QR_MM - 14, 3.6, t["how"], new_x="LMARGIN", new_y="NEXT")
        if block.has_qr:
            x = pdf.l_margin + pdf.epw - QR_MM - 4
            pdf.image(io.BytesIO(block.qr_png()), x=x, y=top + 2, w=QR_MM, h=QR_MM)
            pdf.set_xy(x, top + 2 + QR_MM)
            pdf.set_font("helvetica", "", 7)
            pdf.cell(QR_MM, 3.5, t["scan"], align="C")
        pdf.set_xy(pdf.l_margin, top + height)


def mentions(pdf: FPDF, st: Statement, lang: str, text: Callable[[str], str]) -> None:
    t = LABELS[lang]
    if pdf.will_page_break(24):
        pdf.add_page()
    pdf.ln(5)
    pdf.set_font("helvetica", "B", 9)
    pdf.cell(0, 5, t["mentions"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 7.5)
    for line in st.legal_mentions():
        pdf.multi_cell(0, 3.6, text(line), new_x="LMARGIN", new_y="NEXT")
