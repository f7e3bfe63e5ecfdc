"""HTTP interface (FastAPI): thin routes over `Receivables`, problem+json errors, idempotency, ETags."""
