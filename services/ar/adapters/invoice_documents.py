"""The original documents invoices came in as (Factur-X PDF, CII or UBL XML), kept byte for byte by their SHA-256.

The table is defined here (migration 0013 creates it). The invoice's `DocumentAttached` event holds the hash; the
bytes live here, content-addressed, so the same document stored twice is one row, and bytes stored for an import
that was then refused are harmless: nothing points at them.

An imported credit note's document is linked to the invoice and credit-note number it was applied under
(`credit_note_documents`, migration 0016), written once the credit note is saved: a retry of the same import, which
records nothing new, writes a link that a crash in between left missing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

metadata = sa.MetaData()

invoice_documents = sa.Table(
    "invoice_documents",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


credit_note_documents = sa.Table(
    "credit_note_documents",
    metadata,
    sa.Column("invoice_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.String(64), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("filename", sa.String(200)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class StoredDocument:
    sha256: str
    media_type: str
    content: bytes


class InvoiceDocuments:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def _insert(self, table: sa.Table) -> Any:
        return postgresql.insert(table) if self.engine.dialect.name == "postgresql" else sqlite.insert(table)

    def keep(self, content: bytes, media_type: str, at: datetime) -> str:
        """Store the bytes (once: a second copy is the same row); their SHA-256."""
        digest = sha256(content)
        row = {"sha256": digest, "media_type": media_type, "content": content, "size": len(content),
               "created_at": at}
        with self.engine.begin() as conn:
            conn.execute(self._insert(invoice_documents).values(**row).on_conflict_do_nothing(
                index_elements=["sha256"]))
        return digest

    def link_credit_note(self, invoice_id: UUID, number: str, digest: str, filename: str | None,
                         at: datetime) -> None:
        """The document credit note `number` of the invoice was imported from (the first link stays)."""
        row = {"invoice_id": invoice_id, "number": number, "sha256": digest, "filename": filename, "created_at": at}
        with self.engine.begin() as conn:
            conn.execute(self._insert(credit_note_documents).values(**row).on_conflict_do_nothing(
                index_elements=["invoice_id", "number"]))

    def credit_note(self, invoice_id: UUID, number: str) -> tuple[StoredDocument, str | None] | None:
        """The document of the invoice's credit note `number` and its file name; None when it has none."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(credit_note_documents.c.sha256, credit_note_documents.c.filename)
                               .where(credit_note_documents.c.invoice_id == invoice_id,
                                      credit_note_documents.c.number == number)).first()
        stored = self.get(row.sha256) if row is not None else None
        return None if row is None or stored is None else (stored, row.filename)

    def get(self, digest: str) -> StoredDocument | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(invoice_documents.c.media_type, invoice_documents.c.content)
                               .where(invoice_documents.c.sha256 == digest)).first()
        return None if row is None else StoredDocument(digest, row.media_type, bytes(row.content))
