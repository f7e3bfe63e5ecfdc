"""The event feed: the notification log as a stable, documented envelope, with long-poll."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["events"])
