"""Real servers for tests that speak to ar over a socket: a free port, the app in a uvicorn thread, `ar serve` and
`ar worker` processes that can be SIGKILLed, and an SMTP sink. Written once here, so that every end-to-end test,
the soak and the fuzzer start and stop them the same way."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from tests.support.api import ADMIN_TOKEN

from ar.api.app import create_app
from ar.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ar_command() -> list[str]:
    """The `ar` script beside this interpreter, or the same entry point through `python -c`."""
    script = Path(sys.executable).with_name("ar")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from ar.cli import main; main()"]


def answers_healthz(client: httpx.Client) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return client.get("/healthz").status_code == 200
    return False


@contextlib.contextmanager
def serving_in_thread(runtime: Runtime, *, start_timeout_s: float = 15.0, stop_timeout_s: float = 15.0,
                      lifespan: Literal["auto", "on", "off"] = "auto") -> Iterator[str]:
    """The app of `runtime` in a uvicorn server on a thread of this process, once it answers /healthz; its base URL.
    The server must stop within `stop_timeout_s` of the end."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=runtime), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_timeout_s
    with httpx.Client(base_url=url, timeout=1.0) as client:
        while not (server.started and answers_healthz(client)):
            assert thread.is_alive(), "uvicorn stopped during start-up"
            assert time.monotonic() < deadline, f"uvicorn did not answer /healthz within {start_timeout_s} s"
            time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=stop_timeout_s)
        assert not thread.is_alive(), "uvicorn did not stop"


class ArProcess:
    """One process (`ar serve`, `ar worker`, or a shell command line) in its own process group, so that a SIGKILL
    takes its children too; its output appended to a log file."""

    def __init__(self, args: Sequence[str], log_path: Path, env: Mapping[str, str], *, port: int | None = None,
                 banner: bool = False) -> None:
        """`args` follow `ar` (e.g. ["worker"]), unless they start with "bash". `banner` writes a line into the log
        at each start, to tell restarts apart."""
        self.args, self.log_path, self.port, self.banner = list(args), log_path, port, banner
        self.env = {"AR_ADMIN_KEY": ADMIN_TOKEN, **env}  # the tests' admin key, which their clients send
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = self.args if self.args[:1] == ["bash"] else [*ar_command(), *self.args]
        with self.log_path.open("ab") as log:
            if self.banner:
                log.write(f"\n==== start {time.strftime('%H:%M:%S')} ====\n".encode())
                log.flush()
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (no shutdown at all), and reap it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout_s: float = 20.0) -> int | None:
        """SIGTERM (a graceful stop); its exit code, or None if it had to be SIGKILLed after `timeout_s`."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def wait_healthy(self, timeout_s: float = 60.0) -> bool:
        """True once it answers /healthz; False if it exits or `timeout_s` passes first."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(1.0)) as client:
            while time.monotonic() < deadline and self.alive():
                if answers_healthz(client):
                    return True
                time.sleep(0.1)
        return False

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


P = TypeVar("P", bound=ArProcess)


@contextlib.contextmanager
def killed_at_the_end() -> Iterator[list[P]]:
    """A list for the processes a test starts; each is SIGKILLed at the end, whatever happens."""
    started: list[P] = []
    try:
        yield started
    finally:
        for process in started:
            process.kill()


@contextlib.contextmanager
def smtp_sink(handler: Any, port: int | None = None) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) handing every message to `handler.handle_DATA`; its port."""
    port = free_port() if port is None else port
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
