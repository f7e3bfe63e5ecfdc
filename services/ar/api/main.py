"""The uvicorn entry point: `ar.api.main:app`, configured from the environment."""

from __future__ import annotations

from ar.api.app import create_app

app = create_app()
