"""ERP webhook sources: created with a signing secret shown once, listed (never their secrets), rotated with a grace
period during which the old secret stays valid, revoked. Included by `ar.api.routes.webhooks`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path

from ar.adapters.webhook_sources import Issued, Source, WebhookSources
from ar.api.deps import RuntimeDep
from ar.api.problems import responses
from ar.api.schemas.webhook_admin import CreateSourceIn, RotateSourceIn, SourceOut, SourceSecretOut

router = APIRouter(prefix="/v1/webhooks/sources", tags=["webhooks"])
Name = Annotated[str, Path(max_length=64, examples=["erp"])]


def _out(source: Source) -> SourceOut:
    return SourceOut(name=source.name, description=source.description, created_at=source.created_at,
                     revoked_at=source.revoked_at, secrets_valid=source.secrets_valid)


def _issued(issued: Issued) -> SourceSecretOut:
    return SourceSecretOut(**_out(issued.source).model_dump(), secret=issued.secret,
                           previous_valid_until=issued.previous_valid_until)


@router.post("", status_code=201, response_model=SourceSecretOut, responses=responses(409, 422),
             summary="Create an ERP webhook source and its signing secret")
def create_source(body: CreateSourceIn, runtime: RuntimeDep) -> SourceSecretOut:
    """The secret (`whsec_...`) is shown in this answer only: give it to the ERP, which signs each delivery with it
    and posts to `/v1/webhooks/erp/{name}`."""
    return _issued(WebhookSources(runtime.engine).create(body.name, body.description, runtime.clock.now()))


@router.get("", response_model=list[SourceOut], summary="The ERP webhook sources (without their secrets)")
def list_sources(runtime: RuntimeDep) -> list[SourceOut]:
    return [_out(s) for s in WebhookSources(runtime.engine).all(runtime.clock.now())]


@router.post("/{name}/rotate", response_model=SourceSecretOut, responses=responses(404, 409, 422),
             summary="Give the source a new signing secret")
def rotate_source(name: Name, runtime: RuntimeDep, body: RotateSourceIn | None = None) -> SourceSecretOut:
    """The new secret is shown once; the secrets valid before stay valid for `grace_hours` (24 by default), so
    deliveries signed with either, or with both, are accepted while the ERP switches."""
    grace = timedelta(hours=(body or RotateSourceIn()).grace_hours)
    return _issued(WebhookSources(runtime.engine).rotate(name, grace, runtime.clock.now()))


@router.delete("/{name}", response_model=SourceOut, responses=responses(404, 422),
               summary="Revoke the source: its deliveries are refused (401) from now on")
def revoke_source(name: Name, runtime: RuntimeDep) -> SourceOut:
    return _out(WebhookSources(runtime.engine).revoke(name, runtime.clock.now()))
