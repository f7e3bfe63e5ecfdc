"""What every write response carries: ETag (the version) and the position of its last event."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from ar.application.receivables import Saved

POSITION_HEADER = "AR-Position"


def written(response: Response, saved: Saved[Any], *, created: bool = False) -> None:
    response.headers["ETag"] = f'"{saved.aggregate.version}"'
    if saved.position is not None:
        response.headers[POSITION_HEADER] = str(saved.position)
    if created:
        # 201 for a new record; 200 when the command found it already done (same external id or key)
        response.status_code = 201 if saved.position is not None else 200


def as_json(model: BaseModel, status_code: int = 200) -> Response:
    """The answer serialized here, in the route's worker thread. A model returned to FastAPI is dumped, validated
    again against the response model in a threadpool hop of its own, then serialized: three passes and a hop for a
    model its `of` built valid. The route keeps `response_model` for the contract; the fuzzer checks the answers."""
    return Response(model.model_dump_json(by_alias=True), status_code=status_code, media_type="application/json")


def answered(model: BaseModel, saved: Saved[Any], *, created: bool = False) -> Response:
    """A write's answer (`as_json`) with what `written` puts on it."""
    response = as_json(model)
    written(response, saved, created=created)
    return response


def tagged(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'
