"""Webhook subscriptions out: signed deliveries of the event feed to subscribers."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["subscriptions"])
