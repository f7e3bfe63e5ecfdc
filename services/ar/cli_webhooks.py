"""`ar webhooks ...` (issue 10)."""

from __future__ import annotations

import typer

webhooks_cli = typer.Typer(help="ERP webhook sources: their secrets, created, rotated and revoked; the inbox.",
                           no_args_is_help=True)
