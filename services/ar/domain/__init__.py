"""The receivables domain: pure rules, no framework, database or network."""
