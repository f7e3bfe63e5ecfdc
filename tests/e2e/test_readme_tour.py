"""The README's tour and its dunning part, run as a newcomer runs them: the ```sh blocks of README.md, unchanged
but for the port (8000 -> a free one) and the /tmp folder (-> a temporary one), by bash, against a real `ar serve`
started with the flags the README gives.

* The tour on the real clock, as `make run` serves it: today, whatever today is.
* The tour again on simulated clocks started on other days (before every date the README ever fixed; a year's
  last evening in Paris, when UTC is still a day behind, far past the shipped rate tables): its dates come from the
  server's answers, never from the reader's calendar, so no day breaks it.
* The dunning part on the sandbox the README starts (its own database, its clock from 2 March 2026), after the
  tour's first block again, as the README says.

Each command must exit 0: the blocks run under `set -e -o pipefail` and the README's curls use `--fail-with-body`,
so a 4xx fails the run (the one mistake the tour shows on purpose is checked to be a 422). A DEBUG trap marks each
command in the output, so each answer is checked against what the README says of it.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.servers import free_port

from ar.adapters.clocks import SettableClock
from ar.config import Settings
from ar.domain.clock import BUSINESS_TZ
from ar.runtime import build

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TOUR, DUNNING = "A five-minute tour", "Dunning: reminders, formal notices, late penalties"
START_TIMEOUT_S = 90.0
# Prints each command (its first line) before it runs; a function, so that the trap does not trace itself.
MARK = "__mark() { printf '\\n@@ %s\\n' \"${1%%$'\\n'*}\"; }\ntrap '__mark \"$BASH_COMMAND\"' DEBUG\n"


def section(title: str) -> str:
    """The text of a `## ` section of the README, up to its first `### ` subsection (those have tests of their own)."""
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    body = text[start:end if end >= 0 else None]
    return body.split("\n### ", 1)[0]


def sh_blocks(title: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", section(title), re.S | re.M)


def localized(script: str, port: int, tmp: Path) -> str:
    """The only changes made to what the README says: its port, its /tmp folder and where `.venv/bin/ar` is (put
    last: a checkout under /tmp must keep its own path)."""
    assert "127.0.0.1:8000" not in script, "the tour speaks to localhost:8000"
    script = script.replace("localhost:8000", f"localhost:{port}").replace("/tmp/", f"{tmp}/")
    return script.replace(".venv/bin/ar ", f"{ar_bin()} ")


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any `AR_` setting (only what the README sets counts) or proxy for localhost."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AR_")}
    return {**env, "NO_PROXY": "localhost,127.0.0.1", "no_proxy": "localhost,127.0.0.1", "PYTHONUNBUFFERED": "1",
            **extra}


def ar_bin() -> str:
    """`.venv/bin/ar` as the README says, or the `ar` beside this interpreter."""
    return str(Path(sys.executable).with_name("ar"))


class Server:
    """`ar serve` in its own process group, started by a bash command line, its output in a log file."""

    def __init__(self, command: str, port: int, log: Path, env: dict[str, str]) -> None:
        self.port, self.log = port, log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"ar serve exited with {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.2)
        pytest.fail(f"ar serve did not answer /healthz within {START_TIMEOUT_S} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def first_key(self) -> str:
        """The admin key `ar serve` printed at its first start, which the README has the reader export as AR_KEY."""
        keys = re.findall(r"\bark_[a-z0-9]{12}_[A-Za-z0-9]{40}\b", self.log.read_text(errors="replace"))
        assert keys, f"ar serve printed no first admin key:\n{self.tail()}"
        return keys[0]

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(command: str, port: int, **env: str) -> Server:
        server = Server(command, port, tmp_path / f"serve-{len(started)}.log", clean_env(**env))
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


class Run:
    """The commands of a script and what each printed."""

    def __init__(self, output: str) -> None:
        parts = re.split(r"\n@@ (.*)\n", "\n" + output)
        self.commands = list(zip(parts[1::2], parts[2::2], strict=True))

    def answers(self, matches: Callable[[str], bool]) -> list[str]:
        return [out for command, out in self.commands if matches(command.strip())]

    def answer(self, matches: Callable[[str], bool]) -> str:
        [out] = self.answers(matches)
        return out

    def json(self, matches: Callable[[str], bool]) -> Any:
        return json.loads(self.answer(matches))


def run_blocks(blocks: list[str], port: int, tmp: Path, server: Server) -> Run:
    script = "set -e -o pipefail\n" + MARK + "\n".join(localized(block, port, tmp) for block in blocks)
    done = subprocess.run(["bash", "-c", script], cwd=tmp, env=clean_env(AR_KEY=server.first_key()),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, (f"a command of the README failed (exit {done.returncode}):\n"
                                  f"{done.stdout[-3000:]}\n{done.stderr[-2000:]}\nserver:\n{server.tail()}")
    return Run(done.stdout)


def calls(path: str) -> Callable[[str], bool]:
    """A curl command whose URL ends with `path` (after its query string is dropped)."""
    def matches(command: str) -> bool:
        if not command.startswith("curl"):
            return False
        urls = re.findall(r"localhost:\d+(\S*)", command)
        return any(url.strip('"').split("?")[0].endswith(path) for url in urls)
    return matches


def check_tour(run: Run, tmp: Path, *, real_clock: bool) -> dict[str, Any]:
    customer = json.loads((tmp / "customer.json").read_text())
    invoice = json.loads((tmp / "invoice.json").read_text())
    assert (invoice["number"], invoice["status"], invoice["customer_id"]) == ("F-000001", "issued", customer["id"])
    payment = run.json(calls("/v1/payments"))
    assert payment["allocations"] == {invoice["id"]: {"minor": 50000, "currency": "EUR", "formatted": "500.00 EUR"}}
    # (text mode reads the CRLF of the headers as LF)
    headers, body = run.answer(lambda c: c.startswith("curl") and " -i " in c).split("\n\n", 1)
    read = json.loads(body)
    assert 'etag: "2"' in headers.lower()
    assert (read["status"], read["open_amount"]["formatted"]) == ("partly_paid", "700.00 EUR")
    assert [e["type"] for e in run.json(calls("/events"))] == ["Issued", "PaymentAllocated"]
    mistake = run.json(lambda c: c.startswith("curl") and "--fail-with-body" not in c)
    assert (mistake["status"], mistake["field"]) == (422, "total_minor")

    [today, as_of] = [json.loads(out) if out.startswith("{") else out for out in run.answers(calls("/v1/aging"))]
    assert today["as_of"] == invoice["issued_on"]
    assert [c["customer_id"] for c in today["customers"]] == [customer["id"]]
    rows = {row["scope"]: row for row in csv.DictReader(as_of.splitlines())}
    assert (rows["customer"]["customer_id"], rows["customer"]["invoices"]) == (customer["id"], "1")
    if real_clock:  # as known when the invoice was recorded: before the payment (a simulated clock stood still)
        assert rows["customer"]["open"] == "1200.00"
    assert (tmp / "statement.pdf").read_bytes().startswith(b"%PDF")
    assert [c["customer_id"] for c in run.json(calls("/v1/kpis"))["customers"]] == [customer["id"]]
    assert {p["name"] for p in run.json(calls("/v1/projections"))["projections"]} >= {"receivables", "dunning"}
    return invoice


def test_the_readme_tour_works_today_on_the_real_clock(tmp_path: Path, serve: Callable[..., Server]) -> None:
    port = free_port()
    server = serve(f"exec {ar_bin()} serve --host 127.0.0.1 --port {port}", port,  # what `make run` does
                   AR_DATABASE_URL=f"sqlite:///{tmp_path / 'ar.sqlite'}", AR_OUTBOX_DIR=str(tmp_path / "outbox"))
    before = datetime.now(BUSINESS_TZ).date().isoformat()
    run = run_blocks(sh_blocks(TOUR), port, tmp_path, server)
    invoice = check_tour(run, tmp_path, real_clock=True)
    assert invoice["issued_on"] in {before, datetime.now(BUSINESS_TZ).date().isoformat()}


@pytest.mark.parametrize("start", ["2025-06-15", "2031-12-31T23:30"])
def test_the_readme_tour_depends_on_no_date(start: str, tmp_path: Path, serve: Callable[..., Server]) -> None:
    port = free_port()
    server = serve(f"exec {ar_bin()} serve --host 127.0.0.1 --port {port} --simulated-clock --start {start}", port,
                   AR_DATABASE_URL=f"sqlite:///{tmp_path / 'ar.sqlite'}", AR_OUTBOX_DIR=str(tmp_path / "outbox"))
    invoice = check_tour(run_blocks(sh_blocks(TOUR), port, tmp_path, server), tmp_path, real_clock=False)
    assert invoice["issued_on"] == start[:10]


def test_the_readme_dunning_sandbox_reminds_penalises_and_simulates(
        tmp_path: Path, serve: Callable[..., Server]) -> None:
    [sandbox, story] = sh_blocks(DUNNING)
    assert "ar serve --simulated-clock --start" in sandbox
    port = free_port()
    server = serve(localized(sandbox, port, tmp_path).rstrip() + f" --port {port}", port)
    assert (tmp_path / "ar-sandbox" / "ar.sqlite").exists()
    run = run_blocks([sh_blocks(TOUR)[0], story], port, tmp_path, server)  # "run the first block of the tour again"
    invoice = check_sandbox_invoice(tmp_path)

    agenda = run.json(calls("/v1/dunning/agenda"))
    assert [(i["number"], i["next_step"]) for i in agenda["items"]] == [("F-000001", "courtesy")]
    # (how many reminders each sweep reports depends on whether the background sweeper came first: the steps say)
    assert [json.loads(out)["today"] for out in run.answers(calls("/v1/dunning/sweep"))] == ["2026-04-24", "2026-05-04"]
    timeline = run.json(calls("/dunning"))
    assert [(s["key"], s["kind"]) for s in timeline["steps"]] == [("courtesy", "skipped"), ("reminder-1", "reminder")]
    penalties = run.json(calls("/penalties"))
    assert penalties["interest_minor"] > 0 and penalties["indemnity_minor"] == 4000
    assert penalties["total_minor"] == penalties["interest_minor"] + 4000
    simulated = run.json(calls("/v1/dunning/simulate"))
    assert [(r["run_on"], r["template"]) for r in simulated["reminders"]] == [
        ("2026-04-17", "reminder-1"), ("2026-04-24", "reminder-2")]
    promised = run.json(calls("/promise-to-pay"))
    assert (promised["state"], promised["promise"]["promised_on"]) == ("promised", "2026-04-30")
    paused = run.json(calls("/dunning/pause"))
    assert paused["state"] == "paused"
    assert ("reminder-2", "2026-05-04") in [(s["key"], s["on"]) for s in paused["steps"]]  # the broken promise
    assert run.json(calls("/v1/tasks")) == []
    assert invoice["id"] == timeline["invoice_id"]

    outbox = tmp_path / "ar-sandbox" / "outbox"
    deadline = time.monotonic() + 30
    while len(list(outbox.glob("*.eml"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sorted(p.name[:10] for p in outbox.glob("*.eml")) == ["2026-04-24", "2026-05-04"]


def check_sandbox_invoice(tmp: Path) -> dict[str, Any]:
    invoice: dict[str, Any] = json.loads((tmp / "invoice.json").read_text())
    assert (invoice["issued_on"], invoice["due_on"]) == ("2026-03-02", "2026-04-16")  # as the README says
    return invoice


def test_a_simulated_clock_never_starts_behind_recorded_events(tmp_path: Path) -> None:
    """Why the README's sandbox starts afresh: events recorded on 1 May must not seem to come from the future."""
    database = f"sqlite:///{tmp_path / 'ar.sqlite'}"
    build(Settings(_env_file=None, database_url=database), SettableClock(datetime(2026, 5, 1, 9, tzinfo=BUSINESS_TZ))
          ).close()  # seeds the default policies, recorded on 1 May
    command = [ar_bin(), "serve", "--port", str(free_port()), "--simulated-clock", "--start", "2026-03-02"]
    refused = subprocess.run(command, cwd=tmp_path, env=clean_env(AR_DATABASE_URL=database), capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 2
    assert "events recorded up to 2026-05-01T07:00:00+00:00" in refused.stderr
    unsimulated = subprocess.run(command[:4] + command[5:], cwd=tmp_path, env=clean_env(AR_DATABASE_URL=database),
                                 capture_output=True, text=True, timeout=60)
    assert unsimulated.returncode == 2
    assert "only with --simulated-clock" in unsimulated.stderr


DOORS = "The doors: an ERP's webhooks in, a subscription out"


def test_the_readme_doors_an_erp_webhook_issues_an_invoice_and_a_subscriber_receives_it_signed(
        tmp_path: Path, serve: Callable[..., Server]) -> None:
    """From `make run`'s first admin key to an ERP's signed webhook that issues an invoice under the ERP's number,
    and a subscription whose local receiver gets it, its signature checked: the README's steps, as written."""
    [restart, steps] = sh_blocks(DOORS)
    assert restart.strip() == "AR_SUBSCRIPTION_ALLOW_PRIVATE=true make run"
    port, receiver = free_port(), free_port()
    server = serve(f"exec {ar_bin()} serve --host 127.0.0.1 --port {port}", port,  # what that `make run` does
                   AR_SUBSCRIPTION_ALLOW_PRIVATE="true", AR_DATABASE_URL=f"sqlite:///{tmp_path / 'ar.sqlite'}",
                   AR_OUTBOX_DIR=str(tmp_path / "outbox"))
    steps = steps.replace("127.0.0.1:9000", f"127.0.0.1:{receiver}").replace("--port 9000", f"--port {receiver}")
    run = run_blocks([sh_blocks(TOUR)[0], steps], port, tmp_path, server)

    received = (tmp_path / "received.txt").read_text()
    assert "invoice.issued" in received and "FA-2026-0042" in received, received
    [tours, erps] = run.json(calls("/v1/events"))["items"]  # the tour's invoice, then the ERP's
    assert tours["data"]["number"] == "F-000001" and tours["caused_by"].startswith("key:")
    assert (erps["type"], erps["data"]["number"], erps["caused_by"]) == (
        "invoice.issued", "FA-2026-0042", "webhook:erp")
    series = {s["series"]: s for s in run.json(calls("/v1/numbering/series"))["items"]}
    assert series["ERP"]["numbered_by"] == "issuer"
