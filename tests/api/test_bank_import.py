"""Bank statements over HTTP, on both backends: each matching rule, a split, several invoices in one credit, the
tolerance, duplicate and overlapping imports, a return, other debits, the unmatched queue and a confirm that
teaches the payer's IBAN, malformed files and CSV mappings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, EventHead, IssueInvoice, Json, RegisterCustomer, created, ok

from ar.domain.reference import creditor_reference
from ar.runtime import Runtime

ACCOUNT = "FR7630006000011234567890189"
PAYER = "DE89370400440532013000"
SAMPLES = Path(__file__).parent.parent / "data" / "bank"
XML = {"content-type": "application/xml"}


def ntry(minor: int, ref: str, *, debit: bool = False, value: str = "2026-03-10", e2e: str | None = None,
         iban: str | None = None, rf: str | None = None, text: str | None = None, reversal: bool = False,
         reason: str | None = None, code: str | None = None) -> str:
    refs = f"<Refs><EndToEndId>{e2e}</EndToEndId></Refs>" if e2e else ""
    domain, family, sub = (code or "//").split("/")
    btc = (f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn>"
           "</BkTxCd>" if code else "")
    party = (f"<RltdPties><Dbtr><Nm>Payer</Nm></Dbtr><DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties>"
             if iban else "")
    rmt = (f"<Ustrd>{text}</Ustrd>" if text else "") + (f"<Strd><CdtrRefInf><Ref>{rf}</Ref></CdtrRefInf></Strd>"
                                                        if rf else "")
    rtr = f"<RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf>" if reason else ""
    return (f"<Ntry><Amt Ccy=\"EUR\">{minor // 100}.{minor % 100:02d}</Amt><CdtDbtInd>{'DBIT' if debit else 'CRDT'}"
            f"</CdtDbtInd>{'<RvslInd>true</RvslInd>' if reversal else ''}<Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{value}</Dt></BookgDt><ValDt><Dt>{value}</Dt></ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>{btc}"
            f"<NtryDtls><TxDtls>{refs}{party}<RmtInf>{rmt}</RmtInf>{rtr}</TxDtls></NtryDtls></Ntry>")


def camt(*entries: str, statement: str = "S-1") -> bytes:
    return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:"
            f"camt.053.001.02\"><BkToCstmrStmt><GrpHdr><MsgId>M-{statement}</MsgId><CreDtTm>2026-03-11T06:00:00"
            f"</CreDtTm></GrpHdr><Stmt><Id>{statement}</Id><CreDtTm>2026-03-11T06:00:00</CreDtTm><Acct><Id><IBAN>"
            f"{ACCOUNT}</IBAN></Id><Ccy>EUR</Ccy></Acct>{''.join(entries)}</Stmt></BkToCstmrStmt></Document>"
            ).encode()


class Bank:
    def __init__(self, client: TestClient, register: RegisterCustomer, issue: IssueInvoice) -> None:
        self.client, self.register, self.issue = client, register, issue

    def customer(self) -> str:
        return str(self.register()["id"])

    def invoice(self, customer: str, minor: int) -> Json:
        return created(self.issue(customer, minor))

    def open_minor(self, invoice: Json) -> int:
        return int(ok(self.client.get(f"/v1/invoices/{invoice['id']}"))["open_amount"]["minor"])

    def post(self, content: bytes, status: int = 201, **params: Any) -> Json:
        r = self.client.post("/v1/bank-statements", content=content, headers=XML, params=params)
        assert r.status_code == status, r.text
        body: Json = r.json()
        return body

    def entries(self, report: Json) -> list[Json]:
        return [e for i in report["imports"] for e in i["entries"]]


def bank(client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> Bank:
    return Bank(client, register_customer, issue_invoice)


def test_each_rule_matches_and_one_credit_pays_several_invoices(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b = bank(client, register_customer, issue_invoice)
    alice = b.customer()
    by_ref, first, second = b.invoice(alice, 12_000), b.invoice(alice, 6_000), b.invoice(alice, 9_000)
    report = b.post(camt(
        ntry(12_000, "R1", rf=creditor_reference(by_ref["number"]), iban=PAYER),
        ntry(12_000, "R2", text=f"Factures {second['number']} et {first['number']}")))
    assert report["counts"] | {} == {"credits": 2, "matched": 2, "waiting": 0, "duplicates": 0, "returned": 0,
                                     "listed": 0}
    one, two = b.entries(report)
    assert (one["rule"], one["invoices"]) == ("reference", [{"invoice_id": by_ref["id"], "amount_minor": 12_000}])
    assert two["rule"] == "numbers"  # in the order quoted: the second invoice in full, the rest to the first
    assert two["invoices"] == [{"invoice_id": second["id"], "amount_minor": 9_000},
                               {"invoice_id": first["id"], "amount_minor": 3_000}]
    assert (b.open_minor(by_ref), b.open_minor(second), b.open_minor(first)) == (0, 0, 3_000)
    payment = ok(client.get(f"/v1/payments/{two['payment_id']}"))
    assert payment["value_on"] == "2026-03-10" and payment["remittance"].startswith("Factures")


def test_a_shortfall_within_the_tolerance_is_written_off_beyond_it_the_invoice_stays_partly_paid(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b = bank(client, register_customer, issue_invoice)
    alice = b.customer()
    near, far = b.invoice(alice, 12_000), b.invoice(alice, 18_000)
    report = b.post(camt(ntry(11_950, "T1", rf=creditor_reference(near["number"])),
                         ntry(17_000, "T2", text=far["number"])))
    settled, partly = b.entries(report)
    assert (settled["state"], settled["written_off_minor"]) == ("matched", 50)
    invoice = ok(client.get(f"/v1/invoices/{near['id']}"))
    assert (invoice["open_amount"]["minor"], invoice["written_off"]["minor"]) == (0, 50)
    events = ok(client.get(f"/v1/invoices/{near['id']}/events"))
    assert any(e["type"] == "WrittenOff" and e["data"]["reason"] == "bank charges within tolerance" for e in events)
    assert (partly["state"], partly["written_off_minor"], b.open_minor(far)) == ("matched", None, 1_000)



def test_a_disputed_part_is_never_written_off_as_bank_charges(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b = bank(client, register_customer, issue_invoice)
    invoice = b.invoice(b.customer(), 12_000)
    r = client.post(f"/v1/invoices/{invoice['id']}/disputes", json={"amount_minor": 500, "reason": "one item short"})
    assert r.status_code == 201, r.text
    [entry] = b.entries(b.post(camt(ntry(11_450, "W1", rf=creditor_reference(invoice["number"])))))
    assert (entry["state"], entry["invoices"][0]["amount_minor"], entry["written_off_minor"]) == ("matched", 11_450,
                                                                                                  None)
    assert b.open_minor(invoice) == 550

def test_the_same_statement_or_an_overlapping_one_records_nothing_new(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
        event_head: EventHead) -> None:
    b = bank(client, register_customer, issue_invoice)
    alice = b.customer()
    invoice = b.invoice(alice, 30_000)
    a, c = ntry(10_000, "D1", text=invoice["number"]), ntry(10_000, "D2", text=invoice["number"])
    b.post(camt(a, c))
    head = event_head()
    again = b.post(camt(a, c), status=200)
    assert again["counts"]["duplicates"] == 2 and again["counts"]["credits"] == 0 and event_head() == head
    overlapping = b.post(camt(c, ntry(10_000, "D3", text=invoice["number"]), statement="S-2"))
    assert (overlapping["counts"]["duplicates"], overlapping["counts"]["matched"]) == (1, 1)
    assert b.open_minor(invoice) == 0
    imports = ok(client.get("/v1/bank-statements"))
    assert sorted(i["counts"]["duplicates"] for i in imports) == [0, 1, 2]  # the clock stands still here
    first = next(i for i in imports if i["counts"]["duplicates"] == 0)
    one = ok(client.get(f"/v1/bank-statements/{first['id']}"))
    assert [e["state"] for e in one["entries"]] == ["matched", "matched"] and one["statement_id"] == "S-1"


def test_a_returned_direct_debit_returns_its_payment_and_other_debits_are_listed(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b = bank(client, register_customer, issue_invoice)
    alice = b.customer()
    invoice = b.invoice(alice, 24_000)
    paid = b.entries(b.post(camt(ntry(24_000, "C1", e2e="SDD-0007", text=invoice["number"],
                                      code="PMNT/IDDT/ESDD"))))[0]
    assert b.open_minor(invoice) == 0
    report = b.post(camt(ntry(24_000, "C2", debit=True, reversal=True, e2e="SDD-0007", reason="AC06",
                              value="2026-03-12", code="PMNT/IDDT/UPDD"),
                         ntry(1_500, "C3", debit=True, text="Frais de tenue de compte"), statement="S-2"))
    returned, listed = b.entries(report)
    assert (report["counts"]["returned"], report["counts"]["listed"]) == (1, 1)
    assert (returned["state"], returned["payment_id"], returned["note"]) == ("returned", paid["payment_id"],
                                                                              "bank return AC06")
    assert (listed["state"], listed["payment_id"]) == ("listed", None)
    assert ok(client.get(f"/v1/payments/{paid['payment_id']}"))["returned_on"] == "2026-03-12"
    assert b.open_minor(invoice) == 24_000


def test_an_unmatched_credit_waits_with_suggestions_and_a_confirm_teaches_the_payer_iban(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b = bank(client, register_customer, issue_invoice)
    alice, bob = b.customer(), b.customer()
    mine, other, later = b.invoice(alice, 42_000), b.invoice(bob, 48_000), b.invoice(alice, 18_000)
    report = b.post(camt(ntry(42_000, "U1", iban=PAYER, text="virement")))
    assert report["counts"]["waiting"] == 1
    queue = ok(client.get("/v1/payments/unmatched"))
    assert len(queue) == 1 and queue[0]["payer_iban"] == PAYER
    suggestions = queue[0]["suggestions"]
    assert suggestions[0]["invoice_id"] == mine["id"] and "same amount" in suggestions[0]["why"]
    assert other["id"] in [s["invoice_id"] for s in suggestions]  # 48.00 is within reach, ranked below
    payment_id = queue[0]["payment_id"]
    # a split: the person pays two invoices with it
    split = [{"invoice_id": mine["id"], "amount_minor": 30_000}, {"invoice_id": later["id"], "amount_minor": 12_000}]
    r = client.post(f"/v1/payments/{payment_id}/match", json={"allocations": split})
    assert r.status_code == 200, r.text
    assert r.json()["unapplied"]["minor"] == 0
    assert (b.open_minor(mine), b.open_minor(later)) == (12_000, 6_000)
    assert ok(client.get("/v1/payments/unmatched")) == []
    events = ok(client.get(f"/v1/customers/{alice}/events"))
    assert [e["data"]["iban"] for e in events if e["type"] == "PayerAccountLearned"] == [PAYER]
    # the next credit from that IBAN for one open invoice's amount matches by itself
    nxt = b.entries(b.post(camt(ntry(6_000, "U2", iban=PAYER, value="2026-03-20"), statement="S-2")))[0]
    assert (nxt["state"], nxt["rule"], nxt["invoices"]) == ("matched", "known-payer", [
        {"invoice_id": later["id"], "amount_minor": 6_000}])


def test_a_malformed_file_is_422_naming_where_and_records_nothing(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
        event_head: EventHead, problem: CheckProblem) -> None:
    b = bank(client, register_customer, issue_invoice)
    invoice = b.invoice(b.customer(), 6_000)
    head = event_head()
    good = ntry(6_000, "M1", text=invoice["number"])
    truncated = camt(good, ntry(100, "M2"))[:-60]
    body = problem(client.post("/v1/bank-statements", content=truncated, headers=XML), 422, field="file",
                   rule="bank-file-unreadable")
    assert body["where"]
    bad_amount = camt(good, ntry(100, "M2").replace("1.00", "1,00"))
    assert problem(client.post("/v1/bank-statements", content=bad_amount, headers=XML), 422, field="file")["where"]
    problem(client.post("/v1/bank-statements", content=b"", headers=XML), 422, field="file")
    assert event_head() == head and ok(client.get("/v1/bank-statements")) == []
    assert b.open_minor(invoice) == 6_000


def test_a_csv_statement_with_its_mapping_in_the_query(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
        problem: CheckProblem) -> None:
    b = bank(client, register_customer, issue_invoice)
    invoice = b.invoice(b.customer(), 6_000)
    content = f"Date;Montant;Libellé\n10/03/2026;60,00;Facture {invoice['number']}\n".encode()
    mapping = {"booked_on": "Date", "amount": "Montant", "remittance": "Libellé", "account_id": ACCOUNT}
    r = client.post("/v1/bank-statements", content=content, headers={"content-type": "text/csv"},
                    params={"format": "csv", "mapping": json.dumps(mapping)})
    assert r.status_code == 201, r.text
    assert r.json()["counts"]["matched"] == 1 and b.open_minor(invoice) == 0
    for wrong in ("{not json", json.dumps({"booked_on": "Date"}), json.dumps(["Date"])):
        problem(client.post("/v1/bank-statements", content=content, headers={"content-type": "text/csv"},
                            params={"format": "csv", "mapping": wrong}), 422, field="mapping")
    problem(client.get("/v1/bank-statements/00000000-0000-0000-0000-000000000000"), 404, field="import_id")


def test_a_bank_sample_imports_and_again_is_all_duplicates(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
        event_head: EventHead) -> None:
    content = (SAMPLES / "camt053_v02_statement.xml").read_bytes()
    first = Bank(client, register_customer, issue_invoice).post(content)
    counts = first["counts"]
    assert counts["credits"] >= 3 and counts["credits"] == counts["waiting"] + counts["matched"]
    assert counts["listed"] >= 1 and counts["duplicates"] == 0
    head = event_head()
    again = Bank(client, register_customer, issue_invoice).post(content, status=200)
    entries = counts["matched"] + counts["waiting"] + counts["returned"] + counts["listed"]
    assert again["counts"]["duplicates"] == entries and event_head() == head


def test_ar_import_statement_prints_the_report_and_a_second_run_finds_duplicates(
        runtime: Runtime, client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
        tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ar.cli import cli

    b = bank(client, register_customer, issue_invoice)
    invoice = b.invoice(b.customer(), 6_000)
    statement = tmp_path / "statement.xml"
    statement.write_bytes(camt(ntry(6_000, "K1", text=invoice["number"]), ntry(900, "K2", debit=True)))
    env = {"AR_DATABASE_URL": runtime.settings.database_url, "AR_CREATE_TABLES": "false"}
    first = CliRunner().invoke(cli, ["import-statement", str(statement)], env=env)
    assert first.exit_code == 0, first.output
    assert "credits 1, matched 1, waiting 0, duplicates 0, returns 0, listed 1" in first.output
    assert invoice["id"] in first.output and b.open_minor(invoice) == 0
    second = CliRunner().invoke(cli, ["import-statement", str(statement), "--format", "camt.053"], env=env)
    assert "credits 0, matched 0, waiting 0, duplicates 2" in second.output
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"booked_on": "Date"}')
    refused = CliRunner().invoke(cli, ["import-statement", str(statement), "--format", "csv", "--mapping",
                                       str(mapping)], env=env)
    assert refused.exit_code == 2 and "mapping" in refused.output
    broken = tmp_path / "broken.xml"
    broken.write_bytes(camt(ntry(6_000, "K3"))[:-40])
    unreadable = CliRunner().invoke(cli, ["import-statement", str(broken)], env=env)
    assert unreadable.exit_code == 1 and "refused" in unreadable.output


def test_the_bank_sample_pays_the_invoices_it_quotes(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    """camt.053 as a bank exports it (tests/data/bank): an RF reference, numbers in free text (two in one batch
    transaction), a foreign-currency line whose 5.00 EUR charges the bank reports, a return, account fees."""
    b = bank(client, register_customer, issue_invoice)
    customer = b.customer()
    invoices = {}
    for number, total in (("F-000042", 125_000), ("F-000043", 30_000), ("F-000044", 20_000),
                          ("F-000045", 30_000), ("F-000046", 92_040)):
        base = round(total / 1.2)
        invoices[number] = created(issue_invoice(customer, total, series="ERP2026", number=number,
                                                 issued_on="2026-02-20",
                                                 vat=[{"rate": "20", "base_minor": base, "vat_minor": total - base}]))
    report = b.post((SAMPLES / "camt053_v02_statement.xml").read_bytes())
    assert report["counts"] | {} == {"credits": 4, "matched": 4, "waiting": 0, "duplicates": 0, "returned": 0,
                                     "listed": 2}
    rules = [(e["rule"], e["written_off_minor"]) for e in b.entries(report) if e["direction"] == "credit"]
    assert rules == [("reference", None), ("numbers", None), ("numbers", None), ("numbers", 500)]
    assert {n: b.open_minor(i) for n, i in invoices.items()} == dict.fromkeys(invoices, 0)
    returned = [e for e in b.entries(report) if e["return_reason"] == "AC06"]
    assert returned[0]["state"] == "listed" and "no imported credit" in returned[0]["note"]


def test_an_import_cut_short_after_a_payment_records_its_entry_on_the_next_run(
        runtime: Runtime, client: TestClient, register_customer: RegisterCustomer,
        issue_invoice: IssueInvoice) -> None:
    from ar.adapters.bank_files import read_statement
    from ar.application.commands import new_id
    from ar.domain.payment import PaymentMethod

    content = camt(ntry(7_700, "X1", iban=PAYER, text="acompte"))
    [entry] = read_statement(content)[0].entries
    runtime.app.record_payment(payment_id=new_id("payment", external_id="bank:" + entry.key), customer_id=None,
                               amount=entry.amount, method=PaymentMethod.TRANSFER, value_on=entry.value_on,
                               external_id="bank:" + entry.key)  # as the first run did before it stopped
    b = bank(client, register_customer, issue_invoice)
    [recovered] = b.entries(b.post(content))
    assert (recovered["state"], recovered["note"]) == ("waiting", "recorded by an earlier import")
    assert [p["payment_id"] for p in ok(client.get("/v1/payments/unmatched"))] == [recovered["payment_id"]]
    assert b.post(content, status=200)["counts"]["duplicates"] == 1
