"""Bank imports kept for audit and the report: one `bank_imports` row per statement imported, one `bank_entries`
row per entry first seen (its key is unique: an entry imported again is a duplicate, counted on the import, not
stored twice). Migration 0012 creates both; 0017 adds an entry's family and bank code, and widens its rule.
Implements `ar.application.ports.BankImportStore`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.application.bank_import import DUPLICATE, LISTED, MATCHED, RETURNED, WAITING, EntryOutcome, ImportReport
from ar.domain.bank_entry import BankEntry, Direction, TransactionFamily
from ar.domain.bank_matching import Suggestion
from ar.domain.money import Money
from ar.projections.sql import dialect_insert

metadata = sa.MetaData()

bank_imports = sa.Table(
    "bank_imports",
    metadata,
    sa.Column("import_id", sa.Uuid, primary_key=True),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("account", sa.String(140), nullable=False),
    sa.Column("statement_id", sa.Text, nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("caused_by", sa.String(80), nullable=False),
    sa.Column("credits", sa.Integer, nullable=False),
    sa.Column("matched", sa.Integer, nullable=False),
    sa.Column("waiting", sa.Integer, nullable=False),
    sa.Column("duplicates", sa.Integer, nullable=False),
    sa.Column("returned", sa.Integer, nullable=False),
    sa.Column("listed", sa.Integer, nullable=False),
    sa.Index("ix_bank_imports_received_at", "received_at"),
)

bank_entries = sa.Table(
    "bank_entries",
    metadata,
    sa.Column("entry_key", sa.String(1000), primary_key=True),
    sa.Column("import_id", sa.Uuid, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),  # its order in the import
    sa.Column("account", sa.String(140), nullable=False),
    sa.Column("bank_reference", sa.Text, nullable=False),
    sa.Column("entry_index", sa.Integer, nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("booked_on", sa.Date, nullable=False),
    sa.Column("value_on", sa.Date, nullable=False),
    sa.Column("payer_name", sa.Text, nullable=True),
    sa.Column("payer_iban", sa.String(64), nullable=True),
    sa.Column("remittance", sa.Text, nullable=True),
    sa.Column("creditor_reference", sa.Text, nullable=True),
    sa.Column("end_to_end_id", sa.String(255), nullable=True),
    sa.Column("return_reason", sa.String(64), nullable=True),
    sa.Column("reversal", sa.Boolean, nullable=False),
    sa.Column("family", sa.String(16), nullable=True),   # TransactionFamily's value; NULL: no code in the file
    sa.Column("bank_code", sa.Text, nullable=True),       # the code as the file writes it
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("payment_id", sa.Uuid, nullable=True),
    sa.Column("rule", sa.String(32), nullable=True),  # rows before 0017 may say `customer-ref`
    sa.Column("invoices", sa.Text, nullable=False),       # JSON [[invoice_id, amount_minor], ...]
    sa.Column("written_off_minor", sa.BigInteger, nullable=True),
    sa.Column("suggestions", sa.Text, nullable=False),    # JSON, ranked
    sa.Column("note", sa.Text, nullable=True),
    sa.Index("ix_bank_entries_import", "import_id", "seq"),
    sa.Index("ix_bank_entries_state", "state", "value_on"),
    sa.Index("ix_bank_entries_payment", "payment_id"),
    sa.Index("ix_bank_entries_end_to_end", "end_to_end_id"),
)


def _suggestions(raw: str, currency: str) -> list[Suggestion]:
    return [Suggestion(UUID(s["invoice_id"]), s["number"], UUID(s["customer_id"]), Money(s["open_minor"], currency),
                       s["score"], s["why"]) for s in json.loads(raw)]


def _outcome(row: Any) -> EntryOutcome:
    money = Money(row.amount_minor, row.currency)
    entry = BankEntry(account=row.account, bank_reference=row.bank_reference, booked_on=row.booked_on,
                      value_on=row.value_on, amount=money, direction=Direction(row.direction), index=row.entry_index,
                      payer_name=row.payer_name, payer_iban=row.payer_iban, remittance=row.remittance,
                      creditor_reference=row.creditor_reference, end_to_end_id=row.end_to_end_id,
                      return_reason=row.return_reason, reversal=row.reversal,
                      family=TransactionFamily(row.family) if row.family is not None else None,
                      bank_code=row.bank_code)
    invoices = [(UUID(i), Money(m, row.currency)) for i, m in json.loads(row.invoices)]
    written_off = Money(row.written_off_minor, row.currency) if row.written_off_minor is not None else None
    return EntryOutcome(entry, row.state, row.payment_id, row.rule, invoices, written_off,
                        _suggestions(row.suggestions, row.currency), row.note)


class BankImportStore:
    """An entry is kept once: a concurrent import of the same entry adds nothing (its key is the primary key)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def begin(self, report: ImportReport) -> None:
        with self.engine.begin() as conn:
            conn.execute(bank_imports.insert().values(
                import_id=report.import_id, format=report.format, account=report.account,
                statement_id=report.statement_id, received_at=report.received_at, caused_by=report.caused_by,
                credits=0, matched=0, waiting=0, duplicates=0, returned=0, listed=0))

    def finish(self, report: ImportReport) -> None:
        with self.engine.begin() as conn:
            conn.execute(bank_imports.update().where(bank_imports.c.import_id == report.import_id).values(
                credits=report.credits, matched=report.count(MATCHED), waiting=report.count(WAITING),
                duplicates=report.count(DUPLICATE), returned=report.count(RETURNED), listed=report.count(LISTED)))

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.scalars(sa.select(bank_entries.c.entry_key).where(bank_entries.c.entry_key.in_(keys))))

    def payment_of(self, key: str) -> UUID | None:
        with self.engine.connect() as conn:
            found: UUID | None = conn.scalar(
                sa.select(bank_entries.c.payment_id).where(bank_entries.c.entry_key == key))
            return found

    def add_entry(self, import_id: UUID, outcome: EntryOutcome) -> None:
        e = outcome.entry
        suggestions = [{"invoice_id": str(s.invoice_id), "number": s.number, "customer_id": str(s.customer_id),
                        "open_minor": s.open.minor, "score": s.score, "why": s.why} for s in outcome.suggestions]
        with self.engine.begin() as conn:
            seq = conn.scalar(sa.select(sa.func.count()).select_from(bank_entries)
                              .where(bank_entries.c.import_id == import_id))
            conn.execute(dialect_insert(conn, bank_entries).on_conflict_do_nothing(index_elements=["entry_key"]).values(
                entry_key=e.key, import_id=import_id, seq=seq or 0, account=e.account,
                bank_reference=e.bank_reference, entry_index=e.index, direction=e.direction.value,
                amount_minor=e.amount.minor, currency=e.amount.currency, booked_on=e.booked_on,
                value_on=e.value_on, payer_name=e.payer_name, payer_iban=e.payer_iban, remittance=e.remittance,
                creditor_reference=e.creditor_reference, end_to_end_id=e.end_to_end_id,
                return_reason=e.return_reason, reversal=e.reversal,
                family=e.family.value if e.family is not None else None, bank_code=e.bank_code, state=outcome.state,
                payment_id=outcome.payment_id, rule=outcome.rule,
                invoices=json.dumps([[str(i), m.minor] for i, m in outcome.invoices]),
                written_off_minor=outcome.written_off.minor if outcome.written_off else None,
                suggestions=json.dumps(suggestions), note=outcome.note))

    def returned_credit(self, entry: BankEntry) -> UUID | None:
        credits = sa.select(bank_entries.c.payment_id).where(
            bank_entries.c.account == entry.account, bank_entries.c.direction == Direction.CREDIT.value,
            bank_entries.c.amount_minor == entry.amount.minor, bank_entries.c.currency == entry.amount.currency,
            bank_entries.c.payment_id.is_not(None), bank_entries.c.value_on <= entry.value_on,
        ).order_by(bank_entries.c.value_on.desc())
        ways = [bank_entries.c.end_to_end_id == entry.end_to_end_id] if entry.end_to_end_id else []
        if entry.creditor_reference:
            ways.append(bank_entries.c.creditor_reference == entry.creditor_reference)
        if entry.remittance:
            ways.append(bank_entries.c.remittance == entry.remittance)
        with self.engine.connect() as conn:
            for way in ways:
                found: UUID | None = conn.scalar(credits.where(way).limit(1))
                if found is not None:
                    return found
        return None

    def waiting(self, limit: int) -> list[EntryOutcome]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(bank_entries).where(bank_entries.c.state == WAITING)
                                .order_by(bank_entries.c.value_on, bank_entries.c.entry_key).limit(limit))
            return [_outcome(r) for r in rows]

    def payer_iban_of(self, payment_id: UUID) -> str | None:
        with self.engine.connect() as conn:
            found: str | None = conn.scalar(sa.select(bank_entries.c.payer_iban)
                                            .where(bank_entries.c.payment_id == payment_id).limit(1))
            return found

    def confirmed(self, payment_id: UUID, allocations: list[tuple[UUID, Money]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(bank_entries.update().where(bank_entries.c.payment_id == payment_id,
                                                     bank_entries.c.state == WAITING).values(
                state=MATCHED, rule="confirmed", invoices=json.dumps([[str(i), m.minor] for i, m in allocations])))

    def _report(self, conn: sa.Connection, row: Any) -> ImportReport:
        entries = conn.execute(sa.select(bank_entries).where(bank_entries.c.import_id == row.import_id)
                               .order_by(bank_entries.c.seq))
        received_at = row.received_at if row.received_at.tzinfo else row.received_at.replace(tzinfo=UTC)
        return ImportReport(row.import_id, row.format, row.account, row.statement_id, received_at, row.caused_by,
                            [_outcome(e) for e in entries], duplicates_not_kept=row.duplicates)

    def imports(self, limit: int) -> list[ImportReport]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(bank_imports).order_by(bank_imports.c.received_at.desc(),
                                                                 bank_imports.c.import_id).limit(limit)).all()
            return [self._report(conn, r) for r in rows]

    def get(self, import_id: UUID) -> ImportReport | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(bank_imports).where(bank_imports.c.import_id == import_id)).first()
            return self._report(conn, row) if row is not None else None
