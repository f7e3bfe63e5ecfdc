"""The soak's machinery: a private PostgreSQL cluster, `ar serve` / `ar worker` processes that can be SIGKILLed and
restarted, and an SMTP sink that keeps every message it is handed.

The cluster is made with `initdb` in a temporary folder and listens on its own free port, so that killing or
restarting it disturbs nothing else (the rest of the suite uses the shared server on 5432). `initdb` refuses to
run as root: as root, every PostgreSQL command runs as the `postgres` OS user (`runuser`, else `su`), with the
folder handed over to that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
PG_USER = "postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ar_command() -> list[str]:
    script = Path(sys.executable).with_name("ar")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from ar.cli import main; main()"]


def _pg_bin() -> Path:
    """Where initdb and pg_ctl are: on PATH, else the newest Debian install under /usr/lib/postgresql."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if not versions:
        raise RuntimeError("initdb not found on PATH nor under /usr/lib/postgresql/*/bin (scripts/ensure_postgres.sh "
                           "installs PostgreSQL)")
    return Path(versions[-1]).parent


class PrivateCluster:
    """A throw-away PostgreSQL cluster: trust auth, fsync on, its own port; `restart` is a crash restart."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ar-soak-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgresql.log"
        self.as_root = os.geteuid() == 0
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:  # initdb and the server refuse root
            if shutil.which("runuser"):
                command = ["runuser", "-u", PG_USER, "--", *command]
            else:
                command = ["su", PG_USER, "-s", "/bin/sh", "-c", shlex.join(command)]
        done = subprocess.run(command, cwd=self.dir, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{shlex.join(command)} failed ({done.returncode}):\n{done.stdout.decode()}"
                               f"{done.stderr.decode()}\n{self.log_tail()}")

    def create(self) -> None:
        if self.as_root:
            shutil.chown(self.dir, PG_USER, PG_USER)
        self._run("initdb", "-D", str(self.data), "-U", PG_USER, "-A", "trust", "-E", "UTF8", "--locale=C")
        durable = "fsync = on\nsynchronous_commit = on\nfull_page_writes = on\nmax_connections = 300\n"
        with (self.data / "postgresql.auto.conf").open("a") as conf:  # writable by root, read by the server
            conf.write(durable)
        self.start()

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def restart(self, mode: str = "immediate") -> float:
        """`immediate`: the server dies without a checkpoint and recovers from its WAL on start (a crash restart).
        Returns how long it was unavailable."""
        started = time.monotonic()
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.start()
        self.restarts += 1
        return time.monotonic() - started

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no PostgreSQL log)"

    def execute(self, sql: str, params: Any = None) -> list[Any]:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


class Proc:
    """One `ar serve` or `ar worker` process in its own process group, its output appended to a log file."""

    def __init__(self, role: str, n: int, env: dict[str, str], logs: Path, port: int | None = None) -> None:
        self.role, self.n, self.env, self.port = role, n, env, port
        self.log_path = logs / f"{role}-{n}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    @property
    def name(self) -> str:
        return f"{self.role}-{self.n}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port)] if self.role == "serve" else ["worker"]
        with self.log_path.open("ab") as log:
            log.write(f"\n==== start {time.strftime('%H:%M:%S')} ====\n".encode())
            log.flush()
            self.proc = subprocess.Popen([*ar_command(), *args], cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

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
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(1.0)) as client:
            while time.monotonic() < deadline and self.alive():
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/healthz").status_code == 200:
                        return True
                time.sleep(0.1)
        return False

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


@dataclass
class Mail:
    reminder_id: str
    message_id: str
    to: str
    subject: str


@dataclass
class Inbox:
    """aiosmtpd handler: every message accepted, identified by its X-AR-Reminder-Id header."""

    mails: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        mail = Mail(str(message["X-AR-Reminder-Id"]), str(message["Message-ID"]), str(message["To"]),
                    str(message["Subject"]))
        with self.lock:
            self.mails.append(mail)
        return "250 OK"

    def snapshot(self) -> list[Mail]:
        with self.lock:
            return list(self.mails)
