"""Reports as files: aging and statements as CSV for machines, a statement as a printable PDF for the customer.

Amounts are formatted from integer minor units only (divmod), never through float, so a CSV total is exact."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date

from fpdf import FPDF

from ar.domain.money import MINOR_UNITS
from ar.reports import payable_pdf
from ar.reports.aging import AgingReport
from ar.reports.penalties import PenaltyRow
from ar.reports.statement import Movement, Statement, StatementSection

PLAIN = "C"  # the POSIX locale: "-1234.56", what a spreadsheet or a script reads back
NBSP = "\u00a0"  # keeps "1 234,56 €" on one line; the narrow no-break space is not in the PDF core fonts' encoding

_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Relevé de compte", "opening": "Solde d'ouverture", "closing": "Solde de clôture", "date": "Date",
        "kind": "Nature", "reference": "Référence", "debit": "Débit", "credit": "Crédit", "balance": "Solde",
        "aging": "Échéancier des sommes dues", "period": "Période du {} au {}", "known_at": "Situation connue au {}",
        "account": "Compte en {}", "total": "Total", "page": "page {}/{}", "not_due": "Non échu",
        "band": "{} à {} j", "over": "Plus de {} j", "invoice": "Facture", "payment": "Règlement",
        "refund": "Remboursement", "payment_returned": "Règlement rejeté", "credit_note": "Avoir",
        "write_off": "Passage en perte", "paid_for_other": "Règlement pour un tiers",
        "paid_for_other_reversed": "Règlement pour un tiers annulé", "payment_allocated": "Règlement affecté",
        "early_payment_discount": "Escompte pour paiement anticipé", "discount_withdrawn": "Escompte annulé",
        "allocation_reversed": "Affectation annulée", "paid_by": "Réglé par {}", "paid_for": "Facture {} de {}",
        "penalties": "Pénalités de retard au {}", "due": "Échéance", "interest": "Intérêts",
        "indemnity": "Indemnité forfaitaire", "payment_reference": "Réf. de paiement",
        "penalties_note": "Pénalités de retard (art. L441-10 du Code de commerce) calculées jour par jour sur les "
                          "sommes payées ou dues après l'échéance, et indemnité forfaitaire pour frais de "
                          "recouvrement de 40 EUR par facture ; elles ne sont pas comprises dans le solde ci-dessus.",
    },
    "en": {
        "title": "Statement of account", "opening": "Opening balance", "closing": "Closing balance", "date": "Date",
        "kind": "Type", "reference": "Reference", "debit": "Debit", "credit": "Credit", "balance": "Balance",
        "aging": "Aging of amounts due", "period": "Period {} to {}", "known_at": "As known at {}",
        "account": "Account in {}", "total": "Total", "page": "page {}/{}", "not_due": "Not due",
        "band": "{}-{} days", "over": "Over {} days", "invoice": "Invoice", "payment": "Payment", "refund": "Refund",
        "payment_returned": "Returned payment", "credit_note": "Credit note", "write_off": "Write-off",
        "paid_for_other": "Paid for another account", "paid_for_other_reversed": "Payment for another reversed",
        "payment_allocated": "Payment applied", "allocation_reversed": "Payment unapplied", "paid_by": "Paid by {}",
        "early_payment_discount": "Early-payment discount", "discount_withdrawn": "Early-payment discount withdrawn",
        "paid_for": "Invoice {} of {}",
        "penalties": "Late-payment penalties at {}", "due": "Due", "interest": "Interest",
        "indemnity": "Recovery indemnity", "payment_reference": "Payment reference",
        "penalties_note": "Late-payment interest accrued day by day on amounts paid or owed after their due date, "
                          "and the fixed EUR 40 recovery indemnity per invoice where the law provides it; not "
                          "included in the balance above.",
    },
}


def format_amount(minor: int, currency: str, language: str) -> str:
    """`"fr"`: 1 234,56 € (other currencies: 1 234,56 USD); `"en"`: EUR 1,234.56; `PLAIN`: 1234.56.

    Spaces in the French and English forms are no-break spaces; any other language gets the English form."""
    digits = MINOR_UNITS[currency]
    units, fraction = divmod(abs(minor), 10**digits)
    sign = "-" if minor < 0 else ""
    if language == PLAIN:
        return f"{sign}{units}" + (f".{fraction:0{digits}d}" if digits else "")
    group, point = (NBSP, ",") if language == "fr" else (",", ".")
    number = f"{units:,}".replace(",", group) + (f"{point}{fraction:0{digits}d}" if digits else "")
    if language == "fr":
        return f"{sign}{number}{NBSP}{'€' if currency == 'EUR' else currency}"
    return f"{sign}{currency}{NBSP}{number}"


def _csv(header: list[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def aging_csv(report: AgingReport) -> str:
    def plain(minor: int, currency: str) -> str:
        return format_amount(minor, currency, PLAIN)

    rows = ([scope, line.customer_id or "", line.name or "", line.currency,
             *(plain(b, line.currency) for b in line.buckets), plain(line.open_minor, line.currency), line.invoices]
            for scope, lines in (("total", report.totals), ("customer", report.customers)) for line in lines)
    return _csv(["scope", "customer_id", "name", "currency", *report.bands.labels, "open", "invoices"], rows)


def statement_csv(st: Statement) -> str:
    """Debit and credit are blank on the opening and closing rows, which carry only the balance. The counterparty
    columns name the other customer of third-party cash (the payer, or the customer whose invoice was paid). The
    columns added since stay at the end: an invoice's due date and payment reference, the closing row's reference
    for paying the balance (when one is owed), the customer's account number on every row, a refused invoice's
    refusal, and the customer's SIREN and billing address (its lines joined by ", ") on every row."""
    account = st.account_number
    who = [st.siren or "", ", ".join(st.billing_address)]

    def rows() -> Iterator[Sequence[object]]:
        for s in st.sections:
            cur = s.currency
            yield [cur, st.from_on.isoformat(), "opening", "", "", "", "", format_amount(s.opening_minor, cur, PLAIN),
                   "", "", "", "", account, "", *who]
            for m in s.movements:
                yield [cur, m.effective_on.isoformat(), m.kind, m.reference or "", m.invoice_number or "",
                       *(format_amount(a, cur, PLAIN) for a in (m.debit_minor, m.credit_minor, m.balance_minor)),
                       m.counterparty_id or "", m.counterparty_name or "", m.due_on or "", m.payment_reference or "",
                       account, m.refusal or "", *who]
            owed = st.payment_reference if s.payable_minor > 0 else ""
            yield [cur, st.to_on.isoformat(), "closing", "", "", "", "", format_amount(s.closing_minor, cur, PLAIN),
                   "", "", "", owed, account, "", *who]

    return _csv(["currency", "date", "kind", "reference", "invoice_number", "debit", "credit", "balance",
                 "counterparty_id", "counterparty_name", "due_on", "payment_reference", "account_number", "refusal",
                 "customer_siren", "customer_address"], rows())


class _StatementPdf(FPDF):
    def __init__(self, footer: str, page: str) -> None:
        super().__init__(format="A4")
        self.footer_text, self.page_text = footer, page

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", size=8)
        self.set_text_color(110)
        # left-aligned: "{nb}" is measured as four characters before it becomes the page count
        self.cell(0, 5, f"{self.footer_text} · {self.page_text.format(self.page_no(), self.str_alias_nb_pages)}")


def _text(value: str) -> str:
    """A customer's name or reference may hold characters the core fonts cannot draw: they print as "?"."""
    return value.encode("cp1252", "replace").decode("cp1252")


def _date(day: date, language: str) -> str:
    return day.strftime("%d/%m/%Y") if language == "fr" else day.isoformat()


def _band(label: str, t: dict[str, str]) -> str:
    if label == "not_due":
        return t["not_due"]
    if label.startswith("over_"):
        return t["over"].format(label.removeprefix("over_"))
    return t["band"].format(*label.split("-"))


def _reference(m: Movement) -> str:
    parts = [p for p in (m.reference, m.invoice_number) if p]
    return _text(" / ".join(dict.fromkeys(parts)))


def _third_party(m: Movement, t: dict[str, str]) -> str | None:
    """Under a movement of third-party cash: who paid this customer's invoice, or whose invoice its payment paid."""
    if m.counterparty_name is None:
        return None
    if m.kind.startswith("paid_for_other"):
        return _text(t["paid_for"].format(m.invoice_number or "?", m.counterparty_name))
    return _text(t["paid_by"].format(m.counterparty_name) + (f" ({m.reference})" if m.reference else ""))


# mm, A4 between 15 mm margins: date, kind, reference, due date, payment reference, debit, credit, balance
COLUMNS = ((17, "L"), (26, "L"), (31, "L"), (17, "L"), (28, "L"), (20, "R"), (20, "R"), (21, "R"))
BALANCE = ((17, "L"), (102, "L"), (20, "R"), (20, "R"), (21, "R"))  # opening and closing: the label spans four
NOTE = ((17, "L"), (163, "L"))  # under a movement: who paid, or whose invoice was paid
ROW, FONT = 5.5, 8  # mm, pt
PENALTY_COLUMNS = ((40, "L"), (25, "L"), (35, "R"), (40, "R"), (40, "R"))


def statement_pdf(st: Statement, penalties: Sequence[PenaltyRow] = (), *, compress: bool = True) -> bytes:
    """A4, the customer's language ("fr", else English). Helvetica is a core font, so nothing is embedded: its
    WinAnsi (cp1252) encoding is selected so that "€" (0x80) prints; `compress=False` keeps the text searchable."""
    lang = "fr" if st.language == "fr" else "en"
    t = _LABELS[lang]
    pdf = _StatementPdf(_text(f"{t['title']} · {st.name} · {_date(st.to_on, lang)}"), t["page"])
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_compression(compress)
    pdf.set_lang(lang)
    pdf.set_title(_text(f"{t['title']} {st.name}"))
    pdf.set_margins(15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_draw_color(190)
    pdf.set_fill_color(225, 230, 238)
    pdf.add_page()
    payable_pdf.parties(pdf, st, lang, _text)
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 9, t["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    pdf.cell(0, 6, t["period"].format(_date(st.from_on, lang), _date(st.to_on, lang)), new_x="LMARGIN", new_y="NEXT")
    if st.known_at is not None:
        known = st.known_at.astimezone(UTC)
        pdf.cell(0, 6, t["known_at"].format(f"{_date(known.date(), lang)} {known:%H:%M} UTC"),
                 new_x="LMARGIN", new_y="NEXT")
    for section in st.sections:
        _section(pdf, st, section, t, lang)
    if penalties:
        _penalties(pdf, st, penalties, t, lang)
    payable_pdf.how_to_pay(pdf, st, lang, lambda minor, currency: format_amount(minor, currency, lang), _text)
    payable_pdf.mentions(pdf, st, lang, _text)
    return bytes(pdf.output())


def _penalties(pdf: FPDF, st: Statement, rows: Sequence[PenaltyRow], t: dict[str, str], lang: str) -> None:
    """Accrued penalties, per invoice, after the accounts: they are owed but not part of the balances."""
    if pdf.will_page_break(13 + 3 * ROW):
        pdf.add_page()
    pdf.ln(5)
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(0, 8, t["penalties"].format(_date(st.to_on, lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    columns = PENALTY_COLUMNS
    _row(pdf, [t["invoice"], t["due"], t["interest"], t["indemnity"], t["total"]], columns, style="B", fill=True)
    for p in rows:
        if pdf.will_page_break(ROW):
            pdf.add_page()
        _row(pdf, [_text(p.number), _date(p.due_on, lang), format_amount(p.interest_minor, p.currency, lang),
                   format_amount(p.indemnity_minor, p.currency, lang),
                   format_amount(p.total_minor, p.currency, lang)], columns)
    pdf.ln(2)
    pdf.set_font("helvetica", "", 8)
    pdf.multi_cell(0, 4, t["penalties_note"], new_x="LMARGIN", new_y="NEXT")


def _row(pdf: FPDF, texts: Sequence[str], columns: Sequence[tuple[float, str]], *, style: str = "",
         fill: bool = False) -> None:
    """One line of a table, never wrapped: an amount (right-aligned) shrinks to fit, a text is cut with "…"."""
    pdf.set_font(style=style, size=FONT)
    for text, (width, align) in zip(texts, columns, strict=True):
        while len(text) > 1 and pdf.get_string_width(text) > width - 2 * pdf.c_margin:
            if align == "R" and pdf.font_size_pt > 5:
                pdf.set_font_size(pdf.font_size_pt - 0.5)
            else:
                text = text[:-2] + "…"
        pdf.cell(width, ROW, text, border="B", align=align, fill=fill)
        pdf.set_font_size(FONT)
    pdf.ln()


def _section(pdf: FPDF, st: Statement, s: StatementSection, t: dict[str, str], lang: str) -> None:
    def money(minor: int) -> str:
        return format_amount(minor, s.currency, lang)

    def line(texts: Sequence[str], columns: Sequence[tuple[float, str]] = COLUMNS, style: str = "") -> None:
        if pdf.will_page_break(ROW):  # break ourselves, to repeat the heading on the new page
            pdf.add_page()
            heading()
        _row(pdf, texts, columns, style=style)

    def heading() -> None:
        _row(pdf, [t[k] for k in ("date", "kind", "reference", "due", "payment_reference", "debit", "credit",
                                  "balance")], COLUMNS, style="B", fill=True)

    if pdf.will_page_break(13 + 4 * ROW):  # a title with fewer than three lines under it waits for the next page
        pdf.add_page()
    pdf.ln(5)
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(0, 8, t["account"].format(s.currency), new_x="LMARGIN", new_y="NEXT")
    heading()
    line([_date(st.from_on, lang), t["opening"], "", "", money(s.opening_minor)], BALANCE, "B")
    for m in s.movements:
        line([_date(m.effective_on, lang), t.get(m.kind, m.kind), _reference(m),
              _date(m.due_on, lang) if m.due_on and m.kind == "invoice" else "", m.payment_reference or "",
              money(m.debit_minor) if m.debit_minor else "", money(m.credit_minor) if m.credit_minor else "",
              money(m.balance_minor)])
        for note in (_third_party(m, t), st.refusal_text(m)):  # who paid; a refusal ("refusée par le client")
            if note is not None:
                line(["", _text(note)], NOTE, "I")
    line([_date(st.to_on, lang), t["closing"], "", "", money(s.closing_minor)], BALANCE, "B")
    if s.aging is None:
        return
    if pdf.will_page_break(10 + 2 * ROW):
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 7, t["aging"], new_x="LMARGIN", new_y="NEXT")
    labels = [*(_band(label, t) for label in st.bands.labels), t["total"]]
    columns = [(pdf.epw / len(labels), "R")] * len(labels)
    _row(pdf, labels, columns, style="B", fill=True)
    _row(pdf, [money(minor) for minor in [*s.aging.buckets, s.aging.open_minor]], columns)
