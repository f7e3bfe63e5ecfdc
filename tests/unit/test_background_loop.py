"""The one background loop (runner, sweeper, delivery): a failed pass never ends it, a wake runs the next pass at
once, the owner's back-off replaces the interval while passes fail, and stop ends the thread."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from ar.background import BackgroundLoop

LONG_S = 60.0  # an interval no test waits out: a pass that comes sooner was woken or backed off
log = logging.getLogger("tests.background")


def wait_until(condition: threading.Event, timeout_s: float = 5.0) -> None:
    assert condition.wait(timeout_s), "the loop did not get there in time"


def test_a_failed_pass_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    passes: list[int] = []
    second = threading.Event()

    def run_pass() -> None:
        passes.append(len(passes))
        if len(passes) == 1:
            raise RuntimeError("storage down")
        second.set()

    loop = BackgroundLoop("t", run_pass, log=log, failed="test pass failed")
    with caplog.at_level(logging.ERROR, logger="tests.background"):
        loop.start(interval_s=0.01)
        try:
            wait_until(second)
        finally:
            loop.stop(timeout_s=5)
    assert len(passes) >= 2
    assert caplog.messages[0] == "test pass failed" and caplog.records[0].exc_info is not None


def test_a_wake_runs_the_next_pass_without_waiting_for_the_interval() -> None:
    passes = 0
    first, second = threading.Event(), threading.Event()

    def run_pass() -> None:
        nonlocal passes
        passes += 1
        (first if passes == 1 else second).set()

    loop = BackgroundLoop("t", run_pass, log=log)
    loop.start(interval_s=LONG_S)
    try:
        wait_until(first)
        assert not second.wait(0.2)  # the interval is long: no second pass on its own
        loop.wake()
        wait_until(second)
    finally:
        loop.stop(timeout_s=5)


def test_while_passes_fail_the_owner_chooses_the_wait_and_counts_the_failures_in_a_row() -> None:
    seen: list[int] = []
    third = threading.Event()

    def run_pass() -> None:
        raise RuntimeError("still down")

    def on_failure(_exc: Exception, failures: int) -> float:
        seen.append(failures)
        if failures == 3:
            third.set()
        return 0.01  # instead of the long interval

    loop = BackgroundLoop("t", run_pass, log=log, on_failure=on_failure)
    loop.start(interval_s=LONG_S)
    try:
        wait_until(third)
    finally:
        loop.stop(timeout_s=5)
    assert seen[:3] == [1, 2, 3]


def test_stop_ends_the_thread_promptly_and_a_second_start_runs_one_loop_only() -> None:
    started = threading.Event()
    threads: set[str] = set()

    def run_pass() -> None:
        threads.add(threading.current_thread().name + str(threading.get_ident()))
        started.set()

    loop = BackgroundLoop("t", run_pass, log=log)
    loop.start(interval_s=LONG_S)
    loop.start(interval_s=LONG_S)
    wait_until(started)
    assert loop.running
    began = time.monotonic()
    loop.stop(timeout_s=5)
    assert not loop.running and time.monotonic() - began < 2
    assert len(threads) == 1


def test_wake_ups_soon_after_a_pass_share_the_next_one_after_the_gap() -> None:
    began: list[float] = []
    first, second = threading.Event(), threading.Event()

    def run_pass() -> None:
        began.append(time.monotonic())
        (first if len(began) == 1 else second).set()

    loop = BackgroundLoop("t", run_pass, log=log)
    loop.start(interval_s=LONG_S, min_gap_s=0.5)
    try:
        wait_until(first)
        for _ in range(20):  # a burst of saves
            loop.wake_soon()
        assert not second.wait(0.3)  # the gap has not passed since the first pass began
        wait_until(second)
        time.sleep(0.7)  # longer than the gap: a third pass would have come by now
    finally:
        loop.stop(timeout_s=5)
    assert len(began) == 2, "twenty wake-ups share one pass"
    assert began[1] - began[0] >= 0.5


def test_a_wake_now_does_not_wait_for_the_gap_of_earlier_wake_ups() -> None:
    passes = 0
    first, second = threading.Event(), threading.Event()

    def run_pass() -> None:
        nonlocal passes
        passes += 1
        (first if passes == 1 else second).set()

    loop = BackgroundLoop("t", run_pass, log=log)
    loop.start(interval_s=LONG_S, min_gap_s=LONG_S)
    try:
        wait_until(first)
        loop.wake_soon()
        assert not second.wait(0.2)  # waiting out the (long) gap
        woken = time.monotonic()
        loop.wake()  # a reader waits for this pass
        wait_until(second)
        assert time.monotonic() - woken < 2
    finally:
        loop.stop(timeout_s=5)


def test_without_a_gap_a_wake_soon_runs_the_next_pass_at_once() -> None:
    passes = 0
    first, second = threading.Event(), threading.Event()

    def run_pass() -> None:
        nonlocal passes
        passes += 1
        (first if passes == 1 else second).set()

    loop = BackgroundLoop("t", run_pass, log=log)
    loop.start(interval_s=LONG_S)
    try:
        wait_until(first)
        loop.wake_soon()
        wait_until(second, timeout_s=2)
    finally:
        loop.stop(timeout_s=5)
