"""The framework floor: the same request body, parsed and validated by the same stack, stored nowhere.

Served like `ar serve` serves the real app (uvicorn, one process, access log on):
`uvicorn bench.minimal_app:app --workers 1 --log-level info`. The route is a plain `def`, so it takes the same
threadpool hop as the real command routes; it answers 201 with the validated body.
"""

from __future__ import annotations

from fastapi import FastAPI

from ar.api.schemas.invoices import IssueInvoiceIn

app = FastAPI(title="ar bench: minimal app")


@app.post("/v1/invoices", status_code=201, response_model=IssueInvoiceIn)
def issue_invoice(body: IssueInvoiceIn) -> IssueInvoiceIn:
    return body


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
