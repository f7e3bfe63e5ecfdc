"""Bulk import: `ar import` of N invoices through the event store, then the read models caught up.

    python -m bench.bulk --invoices 100000 [--processes 2] [--backend postgres|sqlite] [--numbered issuer|ar]

Writes a JSON Lines file of N invoices over the customers (`--numbered issuer`: each with its ERP number, as a
ledger moved from another system; `ar`: numbered by ar in one series), runs `ar import` on it (`--processes P`: P
processes, each on a P-th of the file; only with issuer numbers, a series numbered by ar being one sequence), then
catches the read models up in this process. Prints and returns the rates and the peak memory of each phase."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from ar.config import Settings
from ar.domain.customer import Language
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.runtime import build
from bench import commands
from bench.harness import log


def write_file(path: Path, invoices: int, customers: list[str], numbered: str, shard: int, shards: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for n in range(shard, invoices, shards):
            total = 1200 + 6 * (n % 500)
            line: dict[str, Any] = {"customer_id": customers[n % len(customers)], "total_minor": total,
                                    "vat": [{"rate": "20", "base_minor": total * 5 // 6, "vat_minor": total // 6}],
                                    "issued_on": "2026-10-01", "external_id": f"ERP-{n}"}
            if numbered == "issuer":
                line |= {"series": "ERP2026", "number": f"FA-{n:08d}"}
            else:
                line |= {"series": "BULK"}
            f.write(json.dumps(line) + "\n")


def run(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"backend": args.backend, "invoices": args.invoices, "processes": args.processes,
                              "numbered": args.numbered, "code": commands.code_version(),
                              "started": datetime.now().isoformat(timespec="seconds")}
    with commands.database(args.backend, args.postgres_url) as url, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=url)
        runtime = build(settings)
        try:
            customers = [str(runtime.app.register_customer(
                customer_id=uuid4(), name=f"Client {n}", kind=CustomerKind.PROFESSIONAL, country="FR",
                language=Language.FR, emails=[f"compta{n}@client.example"], terms=PaymentTerms(), credit_limit=None,
                external_id=None).aggregate.id) for n in range(args.customers)]
        finally:
            runtime.close()
        files = []
        for shard in range(args.processes):
            path = Path(tmp) / f"invoices-{shard}.jsonl"
            write_file(path, args.invoices, customers, args.numbered, shard, args.processes)
            files.append(path)
        env = {"AR_DATABASE_URL": url, "PATH": str(Path(sys.executable).parent)}
        started = time.monotonic()
        running = [subprocess.Popen([str(Path(sys.executable).parent / "ar"), "import", str(f), "--kind", "invoices"],
                                    env=env, stdout=subprocess.PIPE, text=True)
                   for f in files]
        outputs = [p.communicate()[0].strip() for p in running]
        import_s = time.monotonic() - started
        log("; ".join(outputs))
        result |= {"import_s": round(import_s, 1), "import_per_s": round(args.invoices / import_s),
                   "import_outputs": outputs}

        runtime = build(settings)
        try:
            started = time.monotonic()
            runtime.projections.catch_up()
            catch_up_s = time.monotonic() - started
            head = runtime.app.recorder.max_notification_id() or 0
        finally:
            runtime.close()
        result |= {"events": head, "catch_up_s": round(catch_up_s, 1),
                   "catch_up_events_per_s": round(head / catch_up_s),
                   "catch_up_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    log(json.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--numbered", choices=["issuer", "ar"], default="issuer")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.numbered == "ar" and args.processes > 1:
        parser.error("--numbered ar is one series: one process")
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
