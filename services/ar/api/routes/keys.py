"""API keys: create, list, rotate, revoke (admin scope)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["keys"])
