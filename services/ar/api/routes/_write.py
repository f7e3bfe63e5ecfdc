"""What every write response carries: ETag (the version) and the position of its last event."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from ar.application.receivables import Saved

POSITION_HEADER = "AR-Position"


def written(response: Response, saved: Saved[Any], *, created: bool = False) -> None:
    response.headers["ETag"] = f'"{saved.aggregate.version}"'
    if saved.position is not None:
        response.headers[POSITION_HEADER] = str(saved.position)
    if created:
        # 201 for a new record; 200 when the command found it already done (same external id or key)
        response.status_code = 201 if saved.position is not None else 200


def tagged(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'
