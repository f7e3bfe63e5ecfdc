"""Use cases: one method per command on `Receivables`, one transaction per command."""
