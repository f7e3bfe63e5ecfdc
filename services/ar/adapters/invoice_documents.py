"""The original documents invoices came in as (Factur-X PDF, CII or UBL XML), kept byte for byte by their SHA-256.

The table is defined here (migration 0013 creates it). The invoice's `DocumentAttached` event holds the hash; the
bytes live here, content-addressed, so the same document stored twice is one row, and bytes stored for an import
that was then refused are harmless: nothing points at them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

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

    def keep(self, content: bytes, media_type: str, at: datetime) -> str:
        """Store the bytes (once: a second copy is the same row); their SHA-256."""
        digest = sha256(content)
        row = {"sha256": digest, "media_type": media_type, "content": content, "size": len(content),
               "created_at": at}
        insert = (postgresql.insert(invoice_documents) if self.engine.dialect.name == "postgresql"
                  else sqlite.insert(invoice_documents))
        with self.engine.begin() as conn:
            conn.execute(insert.values(**row).on_conflict_do_nothing(index_elements=["sha256"]))
        return digest

    def get(self, digest: str) -> StoredDocument | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(invoice_documents.c.media_type, invoice_documents.c.content)
                               .where(invoice_documents.c.sha256 == digest)).first()
        return None if row is None else StoredDocument(digest, row.media_type, bytes(row.content))
