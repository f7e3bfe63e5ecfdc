"""API keys: create, list, rotate, revoke (admin scope, from the one policy in `auth.py`).

A token is shown once, in the answer that creates or rotates it, marked `Cache-Control: no-store` (so that the
idempotency store does not keep it either); only its hash is kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response

from ar.adapters.api_keys import ApiKeyStore, derived_id
from ar.api import auth
from ar.api.deps import IdempotencyDep, RuntimeDep
from ar.api.problems import responses
from ar.api.schemas.common import QueryInt
from ar.api.schemas.keys import KeyIn, KeyOut, KeyWithToken
from ar.application import actor
from ar.domain.errors import Conflict, DomainRuleViolation, NotFound

router = APIRouter(prefix="/v1/keys", tags=["keys"])
NO_STORE = "no-store"
MAX_GRACE_S = 30 * 86400


class LastAdminKey(DomainRuleViolation):
    rule = "last-admin-key"


def _not_found(key_id: str) -> NotFound:
    return NotFound(f"no API key {key_id}", field="key_id")


@router.post("", status_code=201, response_model=KeyWithToken, responses=responses(409, 422),
             summary="Create an API key (its token shown once)")
def create_key(body: KeyIn, request: Request, runtime: RuntimeDep, key: IdempotencyDep,
               response: Response) -> KeyWithToken:
    """A key with a name, one scope and an optional expiry. The answer holds its token, once; keep it: only its
    hash is stored. With an Idempotency-Key, a retry answers 409 (the key exists; its token was in the first
    answer: rotate it if that answer was lost)."""
    now = runtime.clock.now()
    if body.expires_at is not None and body.expires_at <= now:
        raise DomainRuleViolation("expires_at is already past", field="expires_at")
    store = ApiKeyStore(runtime.engine)
    try:
        created, token = store.create(name=body.name, scope=body.scope, expires_at=body.expires_at, now=now,
                                      created_by=actor.api_key(auth.caller(request).key_id),
                                      key_id=derived_id(key) if key else None)
    except sa.exc.IntegrityError:
        raise Conflict("an API key was already created with this Idempotency-Key; its token was shown in that "
                       "answer only (rotate the key if it was lost)", field="Idempotency-Key") from None
    response.headers["Cache-Control"] = NO_STORE
    return KeyWithToken(**KeyOut.of(created, now).model_dump(), token=token)


@router.get("", response_model=list[KeyOut], summary="Every API key, revoked ones too (never a secret)")
def list_keys(runtime: RuntimeDep) -> list[KeyOut]:
    """Name, scope, state, creation, last use, expiry, rotation and revocation of each key."""
    now = runtime.clock.now()
    return [KeyOut.of(k, now) for k in ApiKeyStore(runtime.engine).all(now)]


@router.post("/{key_id}/rotate", response_model=KeyWithToken, responses=responses(404, 422),
             summary="A new secret for the same key id (shown once)")
def rotate_key(key_id: str, request: Request, runtime: RuntimeDep, response: Response,
               grace_s: Annotated[QueryInt, Query(ge=0, le=MAX_GRACE_S, description=(
                   "seconds the previous token stays valid beside the new one, while its users switch; default 0: "
                   "refused at once"))] = 0) -> KeyWithToken:
    """The key keeps its id, name, scope and history (`key:<id>` on the events it caused); the answer holds the new
    token, once."""
    store = ApiKeyStore(runtime.engine)
    now = runtime.clock.now()
    current = store.get(key_id, now)
    if current is None:
        raise _not_found(key_id)
    if current.state(now) != "active":
        raise DomainRuleViolation(f"API key {key_id} is {current.state(now)}: create a new one", field="key_id")
    token = store.rotate(key_id, now, timedelta(seconds=grace_s) if grace_s else None)
    auth.verified_keys(request).forget(key_id)
    rotated = store.get(key_id, now)
    if token is None or rotated is None:
        raise _not_found(key_id)
    response.headers["Cache-Control"] = NO_STORE
    return KeyWithToken(**KeyOut.of(rotated, now).model_dump(), token=token,
                        previous_valid_until=rotated.previous_valid_until)


@router.delete("/{key_id}", response_model=KeyOut, responses=responses(404, 422),
               summary="Revoke an API key (it stays listed)")
def revoke_key(key_id: str, request: Request, runtime: RuntimeDep) -> KeyOut:
    """Refused from now on: by this server process at once, by the others within 2 s (each keeps a key it read
    for that long). The last active admin key cannot revoke itself (422 `last-admin-key`): create another admin
    key first, so that nobody is locked out."""
    store = ApiKeyStore(runtime.engine)
    now = runtime.clock.now()
    if store.get(key_id, now) is None:
        raise _not_found(key_id)
    if key_id == auth.caller(request).key_id and store.active_admins(now) == [key_id]:
        raise LastAdminKey("the last active admin key cannot revoke itself: create another admin key first",
                           field="key_id")
    revoked = store.revoke(key_id, now)
    auth.verified_keys(request).forget(key_id)
    if revoked is None:
        raise _not_found(key_id)
    return KeyOut.of(revoked, now)
