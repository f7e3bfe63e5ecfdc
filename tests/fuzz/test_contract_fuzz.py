"""Contract fuzzing: schemathesis over the whole OpenAPI, every check, every phase (examples, coverage, fuzzing and
the stateful phase that chains a create to the reads and commands of what it created), on SQLite and PostgreSQL.

The app runs in a real uvicorn server on a free port (the schemathesis CLI speaks HTTP, and so does a client), over
records seeded first (customers of each kind, invoices, payments, a dispute, a policy, a promise), whose ids the
schema served to the fuzzer gives as path-parameter examples so that reads and commands reach real records, not only
404s. The clock is fixed (the admin clock route is not mounted: moving time is not part of the contract under test).

Seeded and derandomized; the time budget is `AR_FUZZ_SECONDS` (default 50 s per backend inside `make test`; `make
fuzz` gives it 300 s each) and `AR_FUZZ_EXAMPLES` bounds the examples per operation.

Excluded by check, never by operation:
- `positive_data_acceptance`: a request valid by the schema may still break a rule the schema cannot express, across
  fields or against stored state (VAT lines adding up to the total, a due date after the issue date, allocating more
  than is open, a dispute on a paid invoice, a formal notice after three reminders, an unknown customer id). Those
  answer 4xx problem+json, which the other checks still hold to the schema.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.api import ADMIN_TOKEN, AUTH_HEADERS
from tests.support.servers import serving_in_thread

from ar.runtime import Runtime

SECONDS = int(os.environ.get("AR_FUZZ_SECONDS", "50"))
EXAMPLES = int(os.environ.get("AR_FUZZ_EXAMPLES", "30"))
SEED = int(os.environ.get("AR_FUZZ_SEED", "8"))
EXCLUDED_CHECKS = ["positive_data_acceptance"]  # why: see the module docstring
Json = dict[str, Any]


def serving(runtime: Runtime) -> contextlib.AbstractContextManager[str]:
    """The app in a uvicorn server on a thread of this process; its base URL."""
    return serving_in_thread(runtime, start_timeout_s=30, stop_timeout_s=30, lifespan="on")


def _created(r: httpx.Response) -> Json:
    assert r.status_code in (200, 201), r.text
    body: Json = r.json()
    return body


def seed(base: str) -> dict[str, str]:
    """Records of every kind, so that the fuzzer's reads and commands find something; their ids by path parameter."""
    vat = [{"rate": "20", "base_minor": 100000, "vat_minor": 20000}]
    with httpx.Client(base_url=base, timeout=30, headers=AUTH_HEADERS) as c:
        ids: dict[str, str] = {}
        customers = [_created(c.post("/v1/customers", json={"name": name, "kind": kind, "emails": [email]}))
                     for name, kind, email in (("Boulangerie Martin SARL", "professional", "compta@martin.fr"),
                                               ("Jeanne Dupont", "individual", "jeanne@dupont.fr"),
                                               ("Mairie de Lyon", "public", "factures@lyon.fr"))]
        ids["customer_id"] = customers[0]["id"]
        invoices = [_created(c.post("/v1/invoices", json={
            "customer_id": customer["id"], "series": "F2026", "total_minor": 120000, "vat": vat,
            "issued_on": "2026-01-05", "due_on": "2026-02-04"})) for customer in customers for _ in range(2)]
        ids["invoice_id"] = invoices[0]["id"]
        payment = _created(c.post("/v1/payments", json={
            "customer_id": customers[0]["id"], "amount_minor": 150000, "value_on": "2026-02-20",
            "allocations": [{"invoice_id": invoices[1]["id"], "amount_minor": 120000}]}))
        ids["payment_id"] = payment["id"]
        dispute = _created(c.post(f"/v1/invoices/{invoices[2]['id']}/disputes", json={"reason": "goods damaged"}))
        ids["dispute_id"] = dispute["dispute_id"]
        _created(c.post(f"/v1/invoices/{invoices[4]['id']}/promise-to-pay", json={"promised_on": "2026-03-20"}))
        policy = _created(c.post("/v1/dunning/policies", json={"name": "Key accounts", "steps": [
            {"key": "reminder-1", "offset_days": 10, "kind": "reminder", "channel": "email", "template": "reminder-1"},
            {"key": "call", "offset_days": 20, "kind": "reminder", "channel": "phone", "template": "call"}]}))
        ids["policy_id"] = policy["id"]
        c.post("/v1/dunning/sweep")  # reminders and a phone task, if any are due
        tasks = c.get("/v1/tasks").json()
        if tasks:
            ids["task_id"] = tasks[0]["id"]
        return ids


def with_examples(schema: Json, ids: dict[str, str]) -> Json:
    """The served schema, with the seeded ids as examples of the path parameters that name them."""
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in ids:
                    parameter["example"] = ids[parameter["name"]]
    return schema


def fuzz(base: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    schema_file = workdir / "openapi.json"
    schema = with_examples(httpx.get(f"{base}/openapi.json").json(), seed(base))
    schema_file.write_text(json.dumps(schema))
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", str(schema_file), "--url", base,
        "--header", f"Authorization: Bearer {ADMIN_TOKEN}",
        "--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS),
        "--phases", "examples,coverage,fuzzing,stateful", "--max-time", str(SECONDS),
        "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--generation-deterministic",
        "--continue-on-failure", "--request-timeout", "20", "--workers", "1", "--no-color",
        "--report", "ndjson", "--report-dir", str(workdir),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=SECONDS * 4 + 120, check=False,
                          cwd=workdir)


def test_the_api_keeps_its_contract_under_fuzzing(runtime: Runtime, tmp_path: Path) -> None:
    """No 5xx, every response as its schema declares (status, content type, headers, body), every input the schema
    refuses refused, over every operation."""
    with serving(runtime) as base:
        started = time.monotonic()
        result = fuzz(base, tmp_path)
        elapsed = time.monotonic() - started
    summary = result.stdout[-6000:]
    print(summary, f"\nfuzzing took {elapsed:.0f} s", file=sys.stderr)
    assert result.returncode == 0, summary + result.stderr[-3000:]
