"""The end of the demo: the most overdue invoice's penalties with their computation, one invoice's dunning
timeline, the aging, the open tasks and where the messages went."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ar.demo.session import Json, Session, Tracked, money
from ar.demo.story import START
from ar.domain.clock import business_date


def report(s: Session, outbox: Path) -> None:
    s.out("")
    s.out(f"=== {s.reminders} reminders sent and {s.tasks} ops tasks created, "
          f"{START.date().isoformat()} to {s.today.isoformat()} ===")
    open_invoices = [(t, s.call("GET", f"/v1/invoices/{t.id}")) for t in s.invoices.values()]
    overdue = [(t, i) for t, i in open_invoices if i["open_amount"]["minor"] > 0 and t.due_on < s.today]
    if overdue:
        worst, _ = min(overdue, key=lambda pair: (pair[0].due_on, -pair[1]["open_amount"]["minor"]))
        print_penalties(s, worst)
    if "F" in s.invoices:
        print_timeline(s, s.invoices["F"])
    print_aging(s)
    print_tasks(s)
    files = sorted(outbox.glob("*")) if outbox.exists() else []
    emails = sum(1 for f in files if f.suffix == ".eml")
    letters = sum(1 for f in files if f.suffix == ".pdf")
    s.out("")
    s.out(f"Outbox: {emails} messages (.eml) in {outbox}; {letters} of them are formal notices sent by letter, "
          f"with the PDF to print beside them")


def print_penalties(s: Session, tracked: Tracked) -> None:
    p = s.call("GET", f"/v1/invoices/{tracked.id}/penalties")
    s.out("")
    s.out(f"--- Penalties of the most overdue invoice, {p['number']} "
          f"({s.name(s.call('GET', f'/v1/invoices/{tracked.id}')['customer_id'])}, "
          f"due {tracked.due_on.isoformat()}) ---")
    s.out(f"Regime: {p['regime']} ({p['source']})")
    for line in p["lines"]:
        s.out(f"  {line['start']} to {line['end']}: {money(line['base_minor'])} x {line['rate']}% x "
              f"{line['days']}/365 = {money(line['amount_minor'])}")
    s.out(f"  Interest {money(p['interest_minor'])} + recovery indemnity {money(p['indemnity_minor'])} "
          f"= {money(p['total_minor'])}")
    s.out("As the API explains it (GET /v1/invoices/{id}/penalties, `explain`):")
    for text in p["explain"].splitlines():
        s.out(f"  | {text}")


def print_timeline(s: Session, tracked: Tracked) -> None:
    """The invoice's dunning timeline, with what the customer did (payments, promises, disputes) in between."""
    t = s.call("GET", f"/v1/invoices/{tracked.id}/dunning")
    s.out("")
    s.out(f"--- Dunning timeline of {t['number']} ({s.name(t['customer_id'])}, "
          f"due {t['due_on']}, open {money(t['open_minor'])}) ---")
    s.out(f"Policy: {t['policy_name']} (version {t['policy_version']}); dunning state: {t['state']}")
    rows: list[tuple[str, int, str]] = []
    for step in t["steps"]:
        status = step["delivery"] or (f"task {step['task']}" if step["task"] else step["kind"])
        rows.append((step["on"], 1, f"{step['key']:<14} {step['channel'] or '-':<7} {status}"))
    for event in s.call("GET", f"/v1/invoices/{tracked.id}/events"):
        on = business_date(datetime.fromisoformat(event["recorded_at"])).isoformat()
        if text := _event_text(event["type"], event["data"]):
            rows.append((str(event["data"]["issued_on"]) if event["type"] == "Issued" else on, 0, text))
    for on, _, text in sorted(rows):
        s.out(f"  {on}  {text}")
    for step in t["planned"]:
        s.out(f"  {step['on']}  {step['key']:<14} {step['channel']:<7} planned if still unpaid")
    for claim in t["penalties_claimed"]:
        s.out(f"  penalties claimed as of {claim['as_of']}: interest {money(claim['interest_minor'])}, "
              f"indemnity {money(claim['indemnity_minor'])}")


def print_aging(s: Session) -> None:
    aging = s.read("/v1/aging", bands="30,60,90")
    bands: list[str] = aging["bands"]
    s.out("")
    s.out(f"--- Aging as of {aging['as_of']} (days past due) ---")
    s.out(f"{'customer':<24}" + "".join(f"{b:>14}" for b in bands) + f"{'open':>15}  invoices")
    rows = [(str(c["name"] or c["customer_id"]), c) for c in aging["customers"]]
    rows += [(f"TOTAL {c['currency']}", c) for c in aging["totals"]]
    for label, row in rows:
        s.out(f"{label:<24}" + "".join(f"{money(row['buckets'][b], '')[:-1]:>14}" for b in bands)
              + f"{money(row['open_minor']):>15}  {row['invoices']:>8}")


def print_tasks(s: Session) -> None:
    tasks = s.read("/v1/tasks", state="open")
    s.out("")
    s.out(f"--- Open ops tasks ({len(tasks)}) ---")
    for task in tasks:
        s.out(f"  due {task['due_on']}  {task['kind']:<8} {task['summary']}")


def _event_text(kind: str, data: Json) -> str | None:
    """What a finance reader wants to see of an invoice event beside its dunning steps (None: nothing)."""
    if kind == "Issued":
        return f"issued, due {data.get('due_on')}"
    if kind == "PaymentPromised":
        return f"promise to pay by {data.get('promised_on')}"
    if kind == "PromiseBroken":
        return "promise not kept: the next step goes out at once"
    if kind == "DisputeOpened":
        return f"dispute opened: {data.get('reason')}"
    if kind == "DisputeResolved":
        return f"dispute resolved: {data.get('outcome')}"
    if kind == "PaymentAllocated":
        amount = data.get("amount")
        return f"payment of {money(amount['minor'], amount['currency'])}" if isinstance(amount, dict) else "payment"
    return None
