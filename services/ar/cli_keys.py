"""`ar keys ...` (issue 10)."""

from __future__ import annotations

import typer

keys_cli = typer.Typer(help="API keys: create, list, rotate, revoke.", no_args_is_help=True)
