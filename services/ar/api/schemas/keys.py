"""Bodies of the API keys' routes: a key as listed (never its secret nor its hash), and its token, once."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ar.adapters.api_keys import ApiKey, Scope
from ar.api.schemas.common import In, Instant, Text

TOKEN_DESCRIPTION = ("the bearer token, `ark_<key id>_<secret>`, shown this once (only its hash is kept): send it as "
                     "`Authorization: Bearer <token>`")


class KeyIn(In):
    name: Text = Field(max_length=200, examples=["billing service"], description="who or what uses the key")
    scope: Scope = Field(examples=["write"], description="`read` (GET), `write` (and read), `admin` (everything: "
                         "keys, webhook sources, subscriptions, rates, the simulated clock)")
    expires_at: Instant | None = Field(None, description="refused from this instant on; default: never")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "billing service", "scope": "write", "expires_at": "2027-03-01T00:00:00+01:00"},
        {"name": "tableau de bord trésorerie", "scope": "read"}]})


class KeyOut(BaseModel):
    key_id: str = Field(examples=["k3x9q2m7a1b4"])
    name: str
    scope: Scope
    state: Literal["active", "expired", "revoked"]
    created_at: datetime
    created_by: str = Field(description="`key:<id>` of the admin key that created it, `cli`, `ar serve` (the first "
                            "admin key) or `settings` (AR_ADMIN_KEY)")
    last_used_at: datetime | None = Field(None, description="the last request it made (updated at most once a "
                                          "minute per process)")
    expires_at: datetime | None = None
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def of(cls, key: ApiKey, now: datetime) -> KeyOut:
        scope: Scope = "admin" if key.scope == "admin" else "write" if key.scope == "write" else "read"
        return cls(key_id=key.key_id, name=key.name, scope=scope, state=key.state(now), created_at=key.created_at,
                   created_by=key.created_by, last_used_at=key.last_used_at, expires_at=key.expires_at,
                   rotated_at=key.rotated_at, revoked_at=key.revoked_at)


class KeyWithToken(KeyOut):
    token: str = Field(description=TOKEN_DESCRIPTION, examples=["ark_k3x9q2m7a1b4_" + "x" * 40])
    previous_valid_until: datetime | None = Field(None, description="after a rotation with `grace_s`: until when "
                                                  "the previous token is still accepted")
