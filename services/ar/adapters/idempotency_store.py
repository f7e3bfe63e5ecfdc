"""Idempotency-Key records: the first request claims the key, later ones replay its stored response."""

from __future__ import annotations

import json
from collections.abc import Sequence
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


@dataclass(frozen=True)
class Claim:
    """One request's claim of its key (`IdempotencyStore.claim_many`)."""

    caller: str
    key: str
    request_hash: str
    now: datetime


@dataclass(frozen=True)
class Finish:
    """One claimed request's response to keep (`IdempotencyStore.finish_many`)."""

    caller: str
    key: str
    request_hash: str
    claimed_at: datetime
    stored: Stored

# Several requests' claims, or responses, in one statement on PostgreSQL (one round trip, one commit), as arrays.
_CLAIM_MANY = sa.text(
    "INSERT INTO idempotency_keys (caller, key, request_hash, created_at) "
    "SELECT v.caller, v.key, v.request_hash, v.created_at FROM unnest(CAST(:callers AS text[]), "
    "CAST(:keys AS text[]), CAST(:hashes AS text[]), CAST(:times AS timestamptz[])) "
    "AS v(caller, key, request_hash, created_at), (SELECT set_config('synchronous_commit', 'off', true)) AS s "
    "ON CONFLICT DO NOTHING RETURNING caller, key")
_FINISH_MANY = sa.text(
    "INSERT INTO idempotency_keys (caller, key, request_hash, created_at, status_code, response_headers, "
    "response_body) SELECT * FROM unnest(CAST(:callers AS text[]), CAST(:keys AS text[]), "
    "CAST(:hashes AS text[]), CAST(:times AS timestamptz[]), CAST(:statuses AS integer[]), "
    "CAST(:headers AS text[]), CAST(:bodies AS bytea[])) "
    "ON CONFLICT (caller, key) DO UPDATE SET status_code = excluded.status_code, "
    "response_headers = excluded.response_headers, response_body = excluded.response_body")


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
        with self._connect() as conn:
            return self._claim_one(conn, Claim(caller, key, request_hash, now))

    def _claim_one(self, conn: sa.Connection, c: Claim, *, inserted: bool = False) -> Outcome:
        """Claim one key; `inserted`: the key's INSERT was already tried (by `claim_many`): read its row first."""
        where = (keys.c.caller == c.caller) & (keys.c.key == c.key)
        claim = {"caller": c.caller, "key": c.key, "request_hash": c.request_hash, "created_at": c.now}
        for _ in range(3):
            if not inserted and conn.execute(self._claim, claim).first() is not None:
                return Claimed()
            inserted = False
            row = conn.execute(self._read, {"the_caller": c.caller, "the_key": c.key}).mappings().first()
            if row is None:
                continue  # released meanwhile: try to claim again
            if row["request_hash"] != c.request_hash:
                return Mismatch()
            if row["status_code"] is not None:
                return Stored(row["status_code"], [tuple(h) for h in json.loads(row["response_headers"])],
                              row["response_body"])
            created = row["created_at"]
            created = created if created.tzinfo else created.replace(tzinfo=c.now.tzinfo)  # SQLite drops it
            if c.now - created < STALE_CLAIM:
                return InFlight()
            taken = conn.execute(keys.update().where(where, keys.c.created_at == row["created_at"],
                                                     keys.c.status_code.is_(None)).values(created_at=c.now))
            if taken.rowcount == 1:
                return Claimed()
        return InFlight()

    def claim_many(self, claims: Sequence[Claim]) -> list[Outcome]:
        """The claims of several requests, in their order, on one connection. On PostgreSQL, one statement claims
        every free key (for the first claim of a key, if several requests bring it); each other claim then takes
        the single claim's path from its row read back, in order, so that a later claim of a key sees an earlier."""
        if len(claims) == 1 or self.engine.dialect.name != "postgresql":
            with self._connect() as conn:
                return [self._claim_one(conn, c) for c in claims]
        first = {(c.caller, c.key): n for n, c in reversed(list(enumerate(claims)))}
        inserting = [claims[n] for n in sorted(first.values())]
        with self._connect() as conn:
            won = {(r.caller, r.key) for r in conn.execute(_CLAIM_MANY, {
                "callers": [c.caller for c in inserting], "keys": [c.key for c in inserting],
                "hashes": [c.request_hash for c in inserting], "times": [c.now for c in inserting]})}
            return [Claimed() if first[(c.caller, c.key)] == n and (c.caller, c.key) in won
                    else self._claim_one(conn, c, inserted=True) for n, c in enumerate(claims)]

    def finish(self, caller: str, key: str, request_hash: str, claimed_at: datetime, stored: Stored) -> None:
        """Keep the response of a claimed request (synchronously committed: it is sent only once kept)."""
        self.finish_many([Finish(caller, key, request_hash, claimed_at, stored)])

    def finish_many(self, finishes: Sequence[Finish]) -> None:
        """Keep the responses of several claimed requests: one statement, one commit (a later finish of the same
        key wins, as it would one after the other)."""
        last = list({(f.caller, f.key): f for f in finishes}.values())
        with self._connect() as conn:
            if len(last) > 1 and self.engine.dialect.name == "postgresql":
                conn.execute(_FINISH_MANY, {
                    "callers": [f.caller for f in last], "keys": [f.key for f in last],
                    "hashes": [f.request_hash for f in last], "times": [f.claimed_at for f in last],
                    "statuses": [f.stored.status_code for f in last],
                    "headers": [json.dumps(f.stored.headers) for f in last],
                    "bodies": [f.stored.body for f in last]})
                return
            for f in last:
                conn.execute(self._finish, {
                    "caller": f.caller, "key": f.key, "request_hash": f.request_hash, "created_at": f.claimed_at,
                    "status_code": f.stored.status_code, "response_headers": json.dumps(f.stored.headers),
                    "response_body": f.stored.body})

    def release(self, caller: str, key: str) -> None:
        """Forget a claim whose outcome must not be replayed (a transient failure): the client may retry."""
        with self._connect() as conn:
            conn.execute(self._release, {"the_caller": caller, "the_key": key})

    def purge(self, older_than: datetime) -> int:
        with self._connect() as conn:
            return int(conn.execute(keys.delete().where(keys.c.created_at < older_than)).rowcount)
