"""ERP webhooks in: signed deliveries, the inbox, replays, and the sources' secrets."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["webhooks"])
