"""The demo's server: the real ASGI app under uvicorn in a background thread of this process, on a fresh SQLite
database with a simulated clock, reminders written to an outbox folder."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from ar.adapters.api_keys import new_token
from ar.adapters.clocks import SharedFileClock
from ar.api.app import create_app
from ar.config import Settings
from ar.demo.session import DemoError
from ar.demo.story import START
from ar.runtime import build

READY_TIMEOUT_S = 30.0


@contextmanager
def serving(settings: Settings, port: int) -> Iterator[str]:
    """The real ASGI app under uvicorn in a background thread, with reminder delivery running; yields its URL."""
    clock = SharedFileClock(settings.clock_file or settings.sqlite_path.with_name("clock"), START)
    runtime = build(settings, clock)
    app = create_app(settings, runtime)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="ar-demo-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise DemoError(f"the server did not start on port {port} (in use?)")
            time.sleep(0.02)
        while httpx.get(f"{url}/readyz", trust_env=False).status_code != 200:
            if time.monotonic() > deadline:
                raise DemoError("the server did not become ready")
            time.sleep(0.05)
        runtime.delivery.start(settings.delivery_interval_s)
        yield url
    finally:
        server.should_exit = True
        thread.join(60)
        if not server.started:  # otherwise the lifespan closed it
            runtime.close()


def demo_settings(directory: Path) -> Settings:
    return Settings(
        _env_file=None, database_url=f"sqlite:///{directory / 'ar.sqlite'}", simulated_clock=True,
        admin_key=new_token()[0],  # the demo's own admin key, installed at start, sent with every call
        clock_file=directory / "clock", outbox_dir=directory / "outbox", smtp_host=None, dunning_webhook_url=None,
        run_projections=True, run_dunning=False, projection_interval_s=0.05, delivery_interval_s=0.05,
        creditor_name="Dubois Travaux SAS", creditor_email="relances@dubois-travaux.example", holiday_region=None)
