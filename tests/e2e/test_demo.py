"""`ar demo`, in-process: the real server on a free port, 60 simulated days through HTTP, in well under a minute."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.support.servers import free_port

from ar.demo import run_demo


def test_the_demo_tells_sixty_days_of_dunning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    assert run_demo(tmp_path, free_port(), days=60) == 0
    elapsed = time.monotonic() - started
    printed = capsys.readouterr().out
    assert "Traceback" not in printed and "failed" not in printed
    assert "  reminder   " in printed  # at least one reminder decided
    assert "promise to pay by 2026-04-24 not kept" in printed
    assert "--- Aging as of 2026-05-01" in printed and "TOTAL EUR" in printed
    assert "Late-payment penalties (professional" in printed
    assert len(list((tmp_path / "outbox").glob("*.eml"))) > 0  # a caller's folder is kept
    assert elapsed < 60, f"the demo took {elapsed:.0f} s"


def test_the_demo_refuses_a_folder_that_already_holds_a_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ar.sqlite").write_bytes(b"")
    assert run_demo(tmp_path, free_port(), days=1) == 1
    assert "already holds a database" in capsys.readouterr().out
