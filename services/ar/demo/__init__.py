"""`ar demo`: four months of receivables in a minute, through the HTTP API.

It starts the real server in this process (uvicorn in a background thread) on a fresh SQLite database with a
simulated clock standing at Monday 2 March 2026, 09:00 Paris time, and reminders written to an outbox folder
instead of being emailed. Then, as any client would, it talks to it over HTTP only: it registers three debtors
(a public buyer, a professional, a private individual), issues eight invoices falling due in March and April, and
moves the clock one day at a time. On chosen days money comes in (in part, in full), a dispute is opened and
rejected, a promise to pay is made and broken. Every morning it runs the dunning sweep (`POST /v1/dunning/sweep`)
and prints the reminders and ops tasks decided. At the end it prints the penalties of the most overdue invoice with
their computation, the dunning timeline of one invoice, the aging, the open tasks and where the messages went.

The sweep is driven by the demo rather than by the background sweeper, and each day's reminders are delivered
before the clock moves on, so two runs print the same story.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx

from ar.demo.report import report
from ar.demo.scenario import Scenario
from ar.demo.server import demo_settings, serving
from ar.demo.session import DemoError
from ar.demo.story import START


def run_demo(database_dir: Path | None, port: int, days: int = 120, keep: bool = False,
             out: Callable[[str], None] = print) -> int:
    """Run the demo for `days` days from 2 March 2026; 0 when it went through, 1 when it could not.

    `database_dir`: where the database, the clock file and the outbox go (created if missing, and kept); by
    default a temporary folder, removed at the end unless `keep`."""
    if database_dir is not None and (database_dir / "ar.sqlite").exists():
        out(f"{database_dir} already holds a database: the demo needs a fresh one")
        return 1
    directory = database_dir or Path(tempfile.mkdtemp(prefix="ar-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(directory)
    # The story, not the plumbing: no request or migration logs between the lines.
    loggers = [logging.getLogger(name) for name in ("ar", "alembic", "httpx", "httpcore")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with serving(settings, port) as url, httpx.Client(
                base_url=url, timeout=30, trust_env=False,
                headers={"Authorization": f"Bearer {settings.admin_key}"}) as client:
            out(f"ar demo: server {url} (OpenAPI at {url}/docs), database in {directory}")
            out(f"Simulated clock from {START:%A %d %B %Y %H:%M} Europe/Paris, {days} days; reminders go to "
                f"{settings.outbox_dir}")
            out("")
            demo = Scenario(client, out)
            demo.register()
            script = demo.script()
            for n in range(days + 1):
                if n:
                    clock = demo.call("POST", "/v1/admin/clock", json={"advance_days": 1})
                    demo.today = date.fromisoformat(clock["today"])
                for action in script.get(demo.today, []):
                    action()
                demo.sweep()
            report(demo, settings.outbox_dir)
    except (DemoError, httpx.HTTPError) as e:
        out(f"ar demo failed: {e}")
        return 1
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        if database_dir is None and not keep:
            shutil.rmtree(directory, ignore_errors=True)
            out(f"(removed {directory}; run with --keep to keep the database and the outbox)")
        elif database_dir is None:
            out(f"(kept {directory})")
    return 0


__all__ = ["run_demo"]
