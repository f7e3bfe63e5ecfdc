"""The outside world: storage of HTTP idempotency records, later SMTP, webhooks, bank statements."""
