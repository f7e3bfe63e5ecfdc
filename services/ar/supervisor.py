"""`ar serve`'s background process: one `ar worker` child, started with the server, restarted when it dies, stopped
with the server, and never left running after it.

The API processes are CPU-bound on one core each (the GIL): the projections, the sweeper and delivery, run as
threads there, took about a quarter of it. In a process of their own they take another core instead.

The child must not outlive `ar serve`, even a SIGKILLed one (a stale worker would keep applying events, holding
connections and sending reminders with nobody to stop it). Two guards, both in the child (`die_with_parent`): Linux
sends it SIGTERM when its parent dies (`PR_SET_PDEATHSIG`), and a thread checks every second that its parent is
still the one that started it (other systems; a parent that died before the first guard was set).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
PARENT_CHECK_S = 1.0


def worker_command(parent_pid: int, *, projections: bool = True) -> list[str]:
    """The child's command line: this interpreter running `ar worker` (`python -m ar`, whatever script started us)."""
    return [sys.executable, "-m", "ar", "worker", "--parent-pid", str(parent_pid),
            *([] if projections else ["--no-projections"])]


class WorkerProcess:
    """Starts the child, restarts it after a back-off when it exits (1 s, doubling up to `max_backoff_s`; back to
    1 s once a child has lived `healthy_after_s`), and stops it: SIGTERM, then SIGKILL after `stop_timeout_s`."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], *, stop_timeout_s: float = 15.0,
                 min_backoff_s: float = 1.0, max_backoff_s: float = 30.0, healthy_after_s: float = 30.0) -> None:
        self.argv, self.env = list(argv), dict(env)
        self.stop_timeout_s, self.min_backoff_s, self.max_backoff_s = stop_timeout_s, min_backoff_s, max_backoff_s
        self.healthy_after_s = healthy_after_s
        self.restarts = 0
        self._lock = threading.Lock()  # the current child: started by the watcher, stopped by the main thread
        self._process: subprocess.Popen[bytes] | None = None
        self._ready: int | None = None  # the read end of the current child's readiness pipe
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    def start(self) -> None:
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="background-worker", daemon=True)
        self._watcher.start()

    def wait_ready(self, timeout_s: float) -> bool:
        """True once the first child says it runs (`--ready-fd`); False if it exits or `timeout_s` passes first."""
        ready = self._ready
        if ready is None:
            return False
        readable, _, _ = select.select([ready], [], [], timeout_s)
        return bool(readable) and os.read(ready, 1) == b"1"

    def stop(self) -> None:
        """Stops the child and the watcher; nothing is restarted afterwards."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                process.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("background worker [%d] did not stop within %.0f s: killed", process.pid,
                            self.stop_timeout_s)
                process.kill()
                process.wait()
        if self._watcher is not None:
            self._watcher.join(self.stop_timeout_s)
        self._close_ready()

    def __enter__(self) -> WorkerProcess:
        self.start()
        return self

    def __exit__(self, _type: type[BaseException] | None, _value: BaseException | None,
                 _traceback: TracebackType | None) -> None:
        self.stop()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._close_ready()
            ready, ready_w = os.pipe()
            # Same process group as the server: a signal to the group (a terminal's Ctrl-C, a test's killpg)
            # reaches it too. It ignores SIGINT: the server decides when it stops.
            try:
                self._process = subprocess.Popen([*self.argv, "--ready-fd", str(ready_w)], env=self.env,
                                                 stdin=subprocess.DEVNULL, pass_fds=(ready_w,))
            except OSError:
                os.close(ready)
                raise
            finally:
                os.close(ready_w)
            self._ready = ready
            log.info("background worker started [%d]: %s", self._process.pid, " ".join(self.argv[1:]))

    def _close_ready(self) -> None:
        if self._ready is not None:
            os.close(self._ready)
            self._ready = None

    def _watch(self) -> None:
        backoff = self.min_backoff_s
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            started = time.monotonic()
            while process.poll() is None:
                if self._stopping.wait(0.2):
                    return
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= self.healthy_after_s:
                backoff = self.min_backoff_s
            log.error("background worker [%d] exited with %s; restarting it in %.0f s", process.pid,
                      _describe_exit(process.returncode), backoff)
            if self._stopping.wait(backoff):
                return
            backoff = min(self.max_backoff_s, backoff * 2)
            self.restarts += 1
            try:
                self._spawn()
            except OSError:
                log.exception("background worker could not be started; next attempt in %.0f s", backoff)


def _describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"code {code}"


def say_ready(ready_fd: int) -> None:
    """In the child, once it runs: one byte down the pipe `ar serve` waits on (gone if it stopped waiting)."""
    with contextlib.suppress(OSError):
        os.write(ready_fd, b"1")
    with contextlib.suppress(OSError):
        os.close(ready_fd)


def die_with_parent(parent_pid: int, on_orphaned: Callable[[], None]) -> None:
    """In the child: SIGTERM from the kernel when the parent dies (Linux), and `on_orphaned` called as soon as the
    parent is no longer `parent_pid` (checked now, then every second)."""
    _set_parent_death_signal(signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        log.warning("the process that started this worker (%d) is gone: stopping", parent_pid)
        on_orphaned()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _set_parent_death_signal(sig: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    except OSError as error:
        log.warning("prctl(PR_SET_PDEATHSIG) unavailable: %s", error)
