"""Idempotency-Key records: the first request claims the key, later ones replay its stored response."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

# The table is defined here, by the only module that writes and reads it (migration 0001 creates it). Its own
# MetaData: the read side's tables are none of this adapter's business.
metadata = sa.MetaData()

keys = idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("caller", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),  # NULL while the first request is running
    sa.Column("response_body", sa.LargeBinary, nullable=True),
    sa.Column("response_headers", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_idempotency_keys_created_at", "created_at"),
)

# A claim whose request never finished (process killed) is taken over after this long. Taking it over is safe:
# create commands derive their new ids from the key, so a replayed command finds its record instead of doubling it.
STALE_CLAIM = timedelta(seconds=60)


@dataclass(frozen=True)
class Stored:
    status_code: int
    headers: list[tuple[str, str]]
    body: bytes


class Claimed:
    """This request holds the key: run it, then `finish` or `release`."""


class InFlight:
    """Another request with the same key is still running."""


class Mismatch:
    """The key was used with another request body."""


Outcome = Stored | Claimed | InFlight | Mismatch


class IdempotencyStore:
    """Each call is one statement in autocommit (no BEGIN/COMMIT round trips): a claim is an `INSERT ... ON
    CONFLICT DO NOTHING RETURNING`, read back only when the key is taken; a finish is an upsert; a release a DELETE.

    On PostgreSQL the claim commits asynchronously (`synchronous_commit` off for its own transaction only): it
    does not wait for its WAL flush. A claim lost in a crash is harmless: the command's own commit, synchronous,
    flushes the WAL written before it (so a command that committed has its claim), a command that did not commit
    left nothing to protect, and the finish is an upsert that stores the response even without its claim row."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        # Built once, run with parameters: building a statement costs more CPU than sending it.
        insert = postgresql.insert(keys) if engine.dialect.name == "postgresql" else sqlite.insert(keys)
        self._claim: sa.Executable = insert.on_conflict_do_nothing().returning(keys.c.key)
        if engine.dialect.name == "postgresql":
            # The row and, for this statement's own transaction only, the asynchronous commit.
            asynchronous = sa.select(sa.func.set_config("synchronous_commit", "off", True).label("set")).subquery()
            row = sa.select(sa.bindparam("caller", type_=sa.String), sa.bindparam("key", type_=sa.String),
                            sa.bindparam("request_hash", type_=sa.String),
                            sa.bindparam("created_at", type_=sa.DateTime(timezone=True))).select_from(asynchronous)
            self._claim = (postgresql.insert(keys).from_select(["caller", "key", "request_hash", "created_at"], row)
                           .on_conflict_do_nothing().returning(keys.c.key))
        self._finish = insert.on_conflict_do_update(
            index_elements=[keys.c.caller, keys.c.key],
            set_={c: insert.excluded[c] for c in ("status_code", "response_headers", "response_body")})
        self._read = sa.select(keys).where(keys.c.caller == sa.bindparam("the_caller"),
                                           keys.c.key == sa.bindparam("the_key"))
        self._release = keys.delete().where(keys.c.caller == sa.bindparam("the_caller"),
                                            keys.c.key == sa.bindparam("the_key"), keys.c.status_code.is_(None))

    def _connect(self) -> sa.Connection:
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def claim(self, caller: str, key: str, request_hash: str, now: datetime) -> Outcome:
        where = (keys.c.caller == caller) & (keys.c.key == key)
        claim = {"caller": caller, "key": key, "request_hash": request_hash, "created_at": now}
        with self._connect() as conn:
            for _ in range(3):
                if conn.execute(self._claim, claim).first() is not None:
                    return Claimed()
                row = conn.execute(self._read, {"the_caller": caller, "the_key": key}).mappings().first()
                if row is None:
                    continue  # released meanwhile: try to claim again
                if row["request_hash"] != request_hash:
                    return Mismatch()
                if row["status_code"] is not None:
                    return Stored(row["status_code"], [tuple(h) for h in json.loads(row["response_headers"])],
                                  row["response_body"])
                created = row["created_at"]
                created = created if created.tzinfo else created.replace(tzinfo=now.tzinfo)  # SQLite drops it
                if now - created < STALE_CLAIM:
                    return InFlight()
                taken = conn.execute(keys.update().where(where, keys.c.created_at == row["created_at"],
                                                         keys.c.status_code.is_(None)).values(created_at=now))
                if taken.rowcount == 1:
                    return Claimed()
        return InFlight()

    def finish(self, caller: str, key: str, request_hash: str, claimed_at: datetime, stored: Stored) -> None:
        """Keep the response of a claimed request (synchronously committed: it is sent only once kept)."""
        row = {"caller": caller, "key": key, "request_hash": request_hash, "created_at": claimed_at,
               "status_code": stored.status_code, "response_headers": json.dumps(stored.headers),
               "response_body": stored.body}
        with self._connect() as conn:
            conn.execute(self._finish, row)

    def release(self, caller: str, key: str) -> None:
        """Forget a claim whose outcome must not be replayed (a transient failure): the client may retry."""
        with self._connect() as conn:
            conn.execute(self._release, {"the_caller": caller, "the_key": key})

    def purge(self, older_than: datetime) -> int:
        with self._connect() as conn:
            return int(conn.execute(keys.delete().where(keys.c.created_at < older_than)).rowcount)
