"""API keys: who may call, with which scope. Only a hash of each secret is stored (never retrievable after creation).

A token reads `ark_<key id>_<secret>`: the key id (12 characters `[a-z0-9]`) names the row, the secret (40 characters
`[A-Za-z0-9]`, from `secrets`) is checked against its SHA-256 (a fast hash is right for a high-entropy secret) with a
constant-time comparison.

The request path reads a key with one statement in autocommit (no BEGIN/ROLLBACK round trips on PostgreSQL), and
keeps what it read for a moment (`ar.api.authentication.VerifiedKeys`): an `Opened` key is judged again against the
clock at every use, so that an expiry or a grace period's end is never late for having been cached."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import sqlalchemy as sa

# The table is defined here, by the only module that writes it (migration 0008 creates it).
metadata = sa.MetaData()

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("scope", sa.String(8), nullable=False),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    # While a rotation's grace period runs, the previous secret is still accepted until `previous_valid_until`.
    sa.Column("previous_sha256", sa.String(64), nullable=True),
    sa.Column("previous_valid_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")  # ordered: each grants the ones before it
TOKEN = re.compile(r"ark_([a-z0-9]{12})_([A-Za-z0-9]{40})")
# A server process uses a key it read for this long without reading it again (`ar.api.authentication`): a
# revocation or rotation made elsewhere (`ar keys`, another process) takes effect there within this time.
KEPT_FOR_S = 2.0
_ID_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits


def grants(held: str, needed: Scope) -> bool:
    """`admin` can do everything, `write` can read."""
    return held in SCOPES and SCOPES.index(held) >= SCOPES.index(needed)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _utc(moment: datetime) -> datetime:
    """Written in UTC: SQLite keeps a datetime's wall time and drops its offset."""
    return moment.astimezone(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes: they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def derived_id(seed: str) -> str:
    """A key id from a caller's Idempotency-Key: the same seed, the same id."""
    return base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode().lower()[:12]


def new_token(key_id: str | None = None) -> tuple[str, str, str]:
    """A fresh token: (token, key id, secret)."""
    key_id = key_id or "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    return f"ark_{key_id}_{secret}", key_id, secret


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    scope: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    expires_at: datetime | None
    rotated_at: datetime | None
    revoked_at: datetime | None
    previous_valid_until: datetime | None = None  # the grace period of the previous secret after a rotation

    def state(self, now: datetime) -> Literal["active", "expired", "revoked"]:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True)
class Refused:
    """Why a token was not accepted: `malformed`, `unknown` (no such key, or not its secret), `expired`, `revoked`."""

    reason: Literal["malformed", "unknown", "expired", "revoked"]


@dataclass(frozen=True)
class Opened:
    """A token whose secret matched its key's row as read: the key, and the end of the grace period when it is the
    previous secret of a rotation. `at(now)` says whether it opens the key now (revoked, expired, grace over)."""

    key: ApiKey
    grace_until: datetime | None = None

    def at(self, now: datetime) -> ApiKey | Refused:
        if self.grace_until is not None and now >= self.grace_until:
            return Refused("unknown")  # the previous secret, once its grace is over, is just a wrong secret
        state = self.key.state(now)
        return self.key if state == "active" else Refused(state)


class ApiKeyStore:
    _by_id = sa.select(api_keys).where(api_keys.c.key_id == sa.bindparam("the_key_id"))

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def _key(self, row: sa.RowMapping, now: datetime) -> ApiKey:
        return ApiKey(key_id=row["key_id"], name=row["name"], scope=row["scope"],
                      created_at=_aware(row["created_at"]) or now, created_by=row["created_by"],
                      last_used_at=_aware(row["last_used_at"]), expires_at=_aware(row["expires_at"]),
                      rotated_at=_aware(row["rotated_at"]), revoked_at=_aware(row["revoked_at"]),
                      previous_valid_until=_aware(row["previous_valid_until"]))

    def create(self, *, name: str, scope: Scope, now: datetime, created_by: str, expires_at: datetime | None = None,
               key_id: str | None = None, token: str | None = None) -> tuple[ApiKey, str]:
        """A new key; its token, shown this once. `key_id` chooses its id (one derived from an Idempotency-Key, so
        that a retry finds it: IntegrityError); `token` installs a given one (the bootstrap key)."""
        if token is None:
            token, key_id, secret = new_token(key_id)
        else:
            match = TOKEN.fullmatch(token)
            assert match, "a token reads ark_<12 [a-z0-9]>_<40 [A-Za-z0-9]>"
            key_id, secret = match.groups()
        with self.engine.begin() as conn:
            conn.execute(api_keys.insert().values(
                key_id=key_id, name=name, scope=scope, secret_sha256=_hash(secret), created_at=_utc(now),
                created_by=created_by, expires_at=_utc(expires_at) if expires_at else None))
        found = self.get(key_id, now)
        assert found is not None
        return found, token

    def install(self, token: str, *, name: str, now: datetime) -> bool:
        """An admin key with this token unless a key with its id exists (whatever its state); True if installed."""
        match = TOKEN.fullmatch(token)
        assert match, "a token reads ark_<12 [a-z0-9]>_<40 [A-Za-z0-9]>"
        if self.get(match.group(1), now) is not None:
            return False
        try:
            self.create(name=name, scope="admin", now=now, created_by="settings", token=token)
        except sa.exc.IntegrityError:
            return False  # another process installed it meanwhile
        return True

    def get(self, key_id: str, now: datetime) -> ApiKey | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id)).mappings().first()
        return None if row is None else self._key(row, now)

    def all(self, now: datetime) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id)).mappings()
            return [self._key(row, now) for row in rows]

    def any(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(api_keys.c.key_id).limit(1)).first() is not None

    def verify(self, token: str, now: datetime) -> ApiKey | Refused:
        """The key this token opens, or why not. A wrong secret reads as unknown (nothing said about the id)."""
        opened = self.open(token, now)
        return opened if isinstance(opened, Refused) else opened.at(now)

    def open(self, token: str, now: datetime) -> Opened | Refused:
        """The key whose secret this token holds (whatever the key's state), or why not: one statement, in
        autocommit. The previous secret of a rotation opens it only while its grace period runs at `now`."""
        match = TOKEN.fullmatch(token)
        if match is None:
            return Refused("malformed")
        key_id, secret = match.groups()
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            row = conn.execute(self._by_id, {"the_key_id": key_id}).mappings().first()
        if row is None:
            return Refused("unknown")
        digest = _hash(secret)
        grace_until = _aware(row["previous_valid_until"])
        if hmac.compare_digest(digest, row["secret_sha256"]):
            return Opened(self._key(row, now))
        if (row["previous_sha256"] is not None and grace_until is not None and now < grace_until
                and hmac.compare_digest(digest, row["previous_sha256"])):
            return Opened(self._key(row, now), grace_until)
        return Refused("unknown")

    def touch(self, key_id: str, now: datetime) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(api_keys.update().where(api_keys.c.key_id == key_id).values(last_used_at=_utc(now)))

    def rotate(self, key_id: str, now: datetime, grace: timedelta | None = None) -> str | None:
        """A new secret for the same key id (its token); the old one refused at once, or after `grace`. None if no
        such key."""
        token, _, secret = new_token(key_id)
        values: dict[str, object] = {"secret_sha256": _hash(secret), "rotated_at": _utc(now),
                                     "previous_sha256": None, "previous_valid_until": None}
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(api_keys.c.secret_sha256).where(api_keys.c.key_id == key_id)).first()
            if row is None:
                return None
            if grace:
                values.update(previous_sha256=row.secret_sha256, previous_valid_until=_utc(now + grace))
            conn.execute(api_keys.update().where(api_keys.c.key_id == key_id).values(**values))
        return token

    def revoke(self, key_id: str, now: datetime) -> ApiKey | None:
        """Revoked from now (kept, listed); a key already revoked keeps its first revocation time."""
        with self.engine.begin() as conn:
            conn.execute(api_keys.update().where((api_keys.c.key_id == key_id) & api_keys.c.revoked_at.is_(None))
                         .values(revoked_at=_utc(now)))
        return self.get(key_id, now)

    def active_admins(self, now: datetime) -> list[str]:
        return [k.key_id for k in self.all(now) if k.scope == "admin" and k.state(now) == "active"]
