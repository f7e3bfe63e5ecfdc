"""Where `ar serve` runs the background work (AR_BACKGROUND with AR_RUN_*), and the supervision of its worker
process: a child that dies is started again, and stopping ends it and every restart."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ar.config import Settings
from ar.supervisor import WorkerProcess, worker_command

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


PG = "postgresql://postgres@127.0.0.1:5432/ar"
SQLITE = "sqlite:///var/ar.sqlite"


@pytest.mark.parametrize(("given", "expected"), [
    ({"database_url": PG}, "process"),
    ({"database_url": SQLITE}, "threads"),  # two processes writing one SQLite file wait on its lock
    ({"database_url": SQLITE, "background": "process"}, "process"),
    ({"database_url": PG, "background": "threads"}, "threads"),
    ({"database_url": PG, "background": "external"}, "external"),
    ({"database_url": PG, "run_projections": False}, "process"),  # the child runs the dunning work alone
    ({"database_url": PG, "run_projections": False, "run_dunning": False}, "external"),
    ({"database_url": PG, "run_projections": False, "run_dunning": False, "background": "process"}, "external"),
    ({"database_url": PG, "simulated_clock": True}, "threads"),  # a child could not share an in-memory clock
    ({"database_url": PG, "simulated_clock": True, "clock_file": Path("clock")}, "process"),
    ({"database_url": PG, "simulated_clock": True, "background": "process"}, "process"),
])
def test_background_mode_follows_the_setting_the_backend_and_what_runs_at_all(given: dict[str, object],
                                                                               expected: str) -> None:
    assert Settings(_env_file=None, **given).background_mode() == expected  # type: ignore[arg-type]


def test_the_worker_command_names_its_parent_and_what_it_runs() -> None:
    assert worker_command(42)[1:] == ["-m", "ar", "worker", "--parent-pid", "42"]
    assert worker_command(42, projections=False)[-1] == "--no-projections"


def _wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_dead_child_is_started_again_and_stop_ends_it_for_good() -> None:
    supervisor = WorkerProcess(SLEEPER, {}, min_backoff_s=0.05, stop_timeout_s=2)
    with supervisor:
        first = supervisor._process
        assert first is not None and first.poll() is None
        first.kill()
        _wait_for(lambda: supervisor._process is not first and supervisor._process is not None)
        second = supervisor._process
        assert supervisor.restarts == 1
    assert second is not None and second.poll() is not None  # stopped with the supervisor
    time.sleep(0.2)
    assert supervisor._process is second  # and nothing started after the stop
