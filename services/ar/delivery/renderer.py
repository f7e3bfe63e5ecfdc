"""Reminders rendered from jinja2 templates, deterministically.

Layout of `services/ar/templates/` (see its README.md): `<language>/<template>.txt` is the plain-text body and sets the
subject with `{% set subject %}...{% endset %}`; `<language>/<template>.html` is the HTML body (autoescaped: the only
templates that are), which receives the rendered `subject`. Files starting with `_` are shared partials.

The same content, the same template files and the same creditor identity give the same message, byte for byte: the
renderer reads no clock, no locale and no environment. The creditor's identity (address, SIREN, IBAN...) comes from
the settings, given once (`JinjaRenderer(creditor=settings.creditor())`); what the content records of the creditor
(its name and e-mail) wins over it. Templates receive `payments`: per currency, how to pay the amount asked
(`ar.reports.payment_block`: IBAN, BIC, the RF reference, an EPC QR code as a PNG data URI); empty without an IBAN.
`template_version` names the files that made a message; `content_hash` is the evidence.

The evidence hashes the HTML with each QR code's image replaced by a stand-in naming its payload (the EPC text the
image is drawn from; `evidence_html`): drawing a QR code is most of what rendering a reminder costs, and a sweep
deciding thousands of reminders needs only their hashes (`JinjaRenderer.evidence`). Delivery draws the images into
the same HTML. Reminders decided before the stand-in hashed the HTML with the PNG images: `RenderedMessage.proves`
accepts either, so they stay verifiable.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from ar.application.ports import Evidence, RenderedMessage
from ar.domain.money import MINOR_UNITS
from ar.reports.payment_block import Creditor, PaymentBlock, customer_reference

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
TEMPLATES = ("courtesy", "reminder-1", "reminder-2", "reminder-3", "call", "formal-notice", "handoff")
LANGUAGES = ("fr", "en")
QR_STAND_IN = "epc-qr:sha256:"  # + the hex sha256 of the payload
NBSP = "\u00a0"  # keeps "1 234,56 €" on one line (and is in the PDF core fonts' cp1252 encoding)
SYMBOLS = {"EUR": "€", "GBP": "£"}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")


def money_format(minor: int, currency: str, language: str) -> str:
    """Exact, from integer minor units (divmod, never float), with the currency's ISO 4217 minor digits.

    "fr": `1 234,56 €` (other currencies: `1 234,56 USD`); anything else: `€1,234.56` (`USD 1,234.56`).
    The French group separator and the space before the symbol or code are no-break spaces (U+00A0)."""
    if type(minor) is not int:
        raise TypeError(f"an amount is integer minor units, got {type(minor).__name__}")
    digits = MINOR_UNITS[currency]
    units, fraction = divmod(abs(minor), 10**digits)
    sign = "-" if minor < 0 else ""
    if language == "fr":
        number = f"{units:,}".replace(",", NBSP) + (f",{fraction:0{digits}d}" if digits else "")
        return f"{sign}{number}{NBSP}{SYMBOLS.get(currency, currency)}"
    number = f"{units:,}" + (f".{fraction:0{digits}d}" if digits else "")
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency}{NBSP}{number}"


@lru_cache(maxsize=4096)  # a sweep prints the same few dates on thousands of reminders
def date_format(value: str | date, language: str) -> str:
    """`02/03/2026` in French, `2 March 2026` in English: no locale, so the output never depends on the host."""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    if language == "fr":
        return day.strftime("%d/%m/%Y")
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def letter_date(value: str | date, language: str) -> str:
    """A letter is dated in words: `2 mars 2026` in French (`Lyon, le 2 mars 2026`), `2 March 2026` in English; the
    PDF letter and the e-mail of the same formal notice print it alike."""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    if language == "fr":
        return f"{day.day} {MONTHS_FR[day.month - 1]} {day.year}"
    return date_format(day, language)


@pass_context
def _money(ctx: Context, minor: int, currency: str) -> str:
    return money_format(minor, currency, str(ctx["language"]))


@pass_context
def _date(ctx: Context, value: str) -> str:
    return date_format(value, str(ctx["language"]))


@pass_context
def _letter_date(ctx: Context, value: str) -> str:
    return letter_date(value, str(ctx["language"]))


def content_hash(subject: str, text: str, html: str) -> str:
    """sha256 of subject, text and html, separated by NUL so that no two different messages share a hash."""
    return hashlib.sha256("\0".join((subject, text, html)).encode()).hexdigest()


def _tidy(text: str) -> str:
    """Templates stay readable with macros and conditions; the message gets no trailing spaces nor runs of blank
    lines."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def payment_blocks(content: dict[str, Any], creditor: dict[str, str]) -> list[PaymentBlock]:
    """How to pay what a reminder asks, per currency: a single invoice with its own reference, several with the
    customer's (one transfer for all, matched to the customer)."""
    who = Creditor.of(creditor)
    found = []
    for total in content.get("totals", []):
        lines = [line for line in content.get("lines", []) if line["currency"] == total["currency"]]
        references = {line["structured_reference"] for line in lines}
        reference = references.pop() if len(references) == 1 else customer_reference(content["customer"]["id"])
        block = PaymentBlock.of(who, total["total_minor"], total["currency"], reference)
        if block is not None:
            found.append(block)
    return found


def qr_stand_in(block: PaymentBlock) -> str:
    """What the evidence holds in place of a QR code's PNG: the sha256 of the EPC payload the PNG is drawn from."""
    return QR_STAND_IN + hashlib.sha256(block.epc_payload().encode()).hexdigest()


def _payment_fields(block: PaymentBlock) -> dict[str, object]:
    """A payment block as the templates read it, the QR code as its stand-in (no image drawn)."""
    fields = block.to_dict(qr=False)
    fields["qr_png_data_uri"] = qr_stand_in(block) if block.has_qr else None
    return fields


def _draw_qr_codes(html: str, blocks: list[PaymentBlock]) -> str:
    """The HTML as sent: each stand-in replaced by its QR code's PNG. Only an `src="..."` attribute is replaced: text
    the customer controls is escaped (`"` becomes `&#34;`), so it cannot forge one."""
    for block in blocks:
        if block.has_qr:
            html = html.replace(f'src="{qr_stand_in(block)}"', f'src="{block.qr_data_uri()}"')
    return html


DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(Environment):
    """jinja2's `a.b` tries `getattr(a, "b")` first, then `a["b"]`: on the dicts a reminder's content is made of,
    that is an AttributeError raised and caught for every field a template reads (a third of rendering). A plain
    dict has no attribute but its class's, so reading the item first, unless `b` is one of those (`.get`), gives the
    same value, or the same undefined."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class JinjaRenderer:
    """`ReminderRenderer` over the template files. Thread-safe: jinja2 environments are, once built."""

    def __init__(self, templates_dir: Path | None = None, *, creditor: dict[str, str] | None = None) -> None:
        self.creditor = dict(creditor or {})
        self.templates_dir = (templates_dir or TEMPLATES_DIR).resolve()
        self.env = _Environment(
            loader=FileSystemLoader(self.templates_dir),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
            auto_reload=False,
        )
        self.env.filters["money"] = _money
        self._versions: dict[tuple[str, str], str] = {}
        self.env.filters["day"] = _date
        self.env.filters["letter_day"] = _letter_date

    def knows(self, template: str) -> bool:
        return template in TEMPLATES

    def render(self, template: str, language: str, content: dict[str, Any]) -> RenderedMessage:
        """The message as sent, QR codes drawn; its `content_hash` is the one `evidence` gives."""
        subject, text, evidence_html, blocks, version = self._render(template, language, content)
        html = _draw_qr_codes(evidence_html, blocks)
        return RenderedMessage(subject=subject, text=text, html=html, template_version=version,
                               content_hash=content_hash(subject, text, evidence_html),
                               earlier_hash=content_hash(subject, text, html))

    def evidence(self, template: str, language: str, content: dict[str, Any]) -> Evidence:
        """What a dunning run records of the message it decided, without drawing its QR codes."""
        subject, text, evidence_html, _, version = self._render(template, language, content)
        return Evidence(template_version=version, content_hash=content_hash(subject, text, evidence_html))

    def _render(self, template: str, language: str,
                content: dict[str, Any]) -> tuple[str, str, str, list[PaymentBlock], str]:
        """Subject, text, the HTML with QR code stand-ins, the payment blocks and the template version."""
        if template not in TEMPLATES:
            raise ValueError(f"unknown reminder template {template!r}")
        lang = language if language in LANGUAGES else "en"
        creditor = {**self.creditor, **content.get("creditor", {})}
        blocks = payment_blocks(content, creditor)
        context = {**content, "language": lang, "template": template, "creditor": creditor,
                   "creditor_lines": Creditor.of(creditor).address_lines,
                   "payments": [_payment_fields(b) for b in blocks]}
        module = self.env.get_template(f"{lang}/{template}.txt").make_module(context)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        if not subject:
            raise ValueError(f"{lang}/{template}.txt sets no subject")
        text = _tidy(str(module))
        html = self.env.get_template(f"{lang}/{template}.html").render({**context, "subject": subject})
        return subject, text, html, blocks, self.version(template, lang)

    def version(self, template: str, language: str) -> str:
        """The version of a template, computed once (the environment never reloads templates either)."""
        key = (template, language)
        if key not in self._versions:
            self._versions[key] = self._version(template, language)
        return self._versions[key]

    def _version(self, template: str, language: str) -> str:
        """12 hex digits of sha256 over the files that make this template in this language (its .txt and .html
        and every shared `_*` partial of the language), names and bytes: editing an English reminder does not
        change the version of the French formal notice."""
        digest = hashlib.sha256()
        for path in self._files(template, language):
            digest.update(path.relative_to(self.templates_dir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        return digest.hexdigest()[:12]

    def _files(self, template: str, language: str) -> Iterator[Path]:
        folder = self.templates_dir / language
        yield from (folder / f"{template}.txt", folder / f"{template}.html")
        yield from sorted(p for p in folder.iterdir() if p.name.startswith("_") and p.is_file())
