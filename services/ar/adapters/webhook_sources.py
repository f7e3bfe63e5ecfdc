"""The ERP webhook sources and their signing secrets (tables in `ar.adapters.webhook_inbox`).

A secret is in the Standard Webhooks format, `whsec_` + base64 of 32 random bytes, shown once when created or
rotated. A rotation keeps the previous secrets valid until the grace period ends, so that an ERP can switch at its
own pace; a revoked source accepts nothing."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ar.adapters.webhook_inbox import webhook_secrets, webhook_sources
from ar.domain.errors import Conflict, DomainRuleViolation, NotFound

SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def check_name(name: str) -> None:
    if not SOURCE_NAME.fullmatch(name):
        raise DomainRuleViolation("a source's name is 1 to 32 characters a-z, 0-9, '_' or '-', starting with a "
                                  "letter or digit", field="name")


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    created_at: datetime
    revoked_at: datetime | None
    secrets_valid: int  # how many secrets it accepts now (2 during a rotation's grace period)


@dataclass(frozen=True)
class Issued:
    """A source with its new secret, shown this once."""

    source: Source
    secret: str
    previous_valid_until: datetime | None


def _aware(value: datetime | None, like: datetime) -> datetime | None:
    return value.replace(tzinfo=like.tzinfo) if value is not None and value.tzinfo is None else value


class WebhookSources:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def create(self, name: str, description: str, now: datetime) -> Issued:
        check_name(name)
        secret = new_secret()
        try:
            with self.engine.begin() as conn:
                conn.execute(webhook_sources.insert().values(name=name, description=description, created_at=now))
                conn.execute(webhook_secrets.insert().values(source=name, secret=secret, created_at=now))
        except sa.exc.IntegrityError:
            raise Conflict(f"a source named {name!r} exists already (rotate its secret instead)",
                           field="name") from None
        return Issued(self.get(name, now), secret, None)

    def rotate(self, name: str, grace: timedelta, now: datetime) -> Issued:
        """A new current secret; the ones valid now stay valid until `now + grace` (not beyond their own end)."""
        if grace < timedelta(0):
            raise DomainRuleViolation("the grace period cannot be negative", field="grace_hours")
        self._active(name, now)
        secret, until = new_secret(), now + grace
        with self.engine.begin() as conn:
            valid = (webhook_secrets.c.source == name) & (
                webhook_secrets.c.valid_until.is_(None) | (webhook_secrets.c.valid_until > until))
            conn.execute(webhook_secrets.update().where(valid).values(valid_until=until))
            conn.execute(webhook_secrets.insert().values(source=name, secret=secret, created_at=now))
        return Issued(self.get(name, now), secret, until)

    def revoke(self, name: str, now: datetime) -> Source:
        source = self.get(name, now)
        if source.revoked_at is None:
            with self.engine.begin() as conn:
                conn.execute(webhook_sources.update().where(webhook_sources.c.name == name).values(revoked_at=now))
        return self.get(name, now)

    def get(self, name: str, now: datetime) -> Source:
        found = [s for s in self.all(now) if s.name == name]
        if not found:
            raise NotFound(f"no webhook source {name!r}", field="name")
        return found[0]

    def all(self, now: datetime) -> list[Source]:
        valid = sa.func.count(webhook_secrets.c.secret_id).filter(
            webhook_secrets.c.valid_until.is_(None) | (webhook_secrets.c.valid_until > now))
        query = (sa.select(webhook_sources, valid.label("secrets_valid"))
                 .select_from(webhook_sources.outerjoin(webhook_secrets))
                 .group_by(*webhook_sources.c).order_by(webhook_sources.c.name))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [Source(name=r["name"], description=r["description"], created_at=_aware(r["created_at"], now) or now,
                       revoked_at=_aware(r["revoked_at"], now),
                       secrets_valid=0 if r["revoked_at"] is not None else r["secrets_valid"]) for r in rows]

    def valid_secrets(self, name: str, now: datetime) -> list[str] | None:
        """The secrets a delivery from `name` may be signed with now; None when there is no such source, or it is
        revoked."""
        with self.engine.connect() as conn:
            source = conn.execute(sa.select(webhook_sources.c.revoked_at).where(
                webhook_sources.c.name == name)).first()
            if source is None or source.revoked_at is not None:
                return None
            return list(conn.execute(sa.select(webhook_secrets.c.secret).where(
                webhook_secrets.c.source == name,
                webhook_secrets.c.valid_until.is_(None) | (webhook_secrets.c.valid_until > now),
            ).order_by(webhook_secrets.c.secret_id.desc())).scalars())

    def _active(self, name: str, now: datetime) -> Source:
        source = self.get(name, now)
        if source.revoked_at is not None:
            raise Conflict(f"the source {name!r} is revoked", field="name")
        return source
