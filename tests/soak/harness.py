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
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import psycopg
from tests.support.servers import ArProcess, free_port

PG_USER = "postgres"


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


class Proc(ArProcess):
    """One `ar serve` or `ar worker` process of the soak, in its own process group; each start marked in its log."""

    def __init__(self, role: str, n: int, env: dict[str, str], logs: Path, port: int | None = None) -> None:
        args = ["serve", "--host", "127.0.0.1", "--port", str(port)] if role == "serve" else ["worker"]
        super().__init__(args, logs / f"{role}-{n}.log", env, port=port, banner=True)
        self.role, self.n = role, n
        self.kills = 0

    @property
    def name(self) -> str:
        return f"{self.role}-{self.n}"


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
