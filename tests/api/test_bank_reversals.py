"""Bank reversals and families over HTTP, on both backends: each entry keeps its family and the bank's code as
written (the import's answer, its GET and `ar import-statement` show them); a credit that reverses one of our own
debits is listed, not recorded as a customer's payment, in every format that can say so; a reversal that is not a
returned direct debit is listed, never applied as a return; a remittance quoting an issuer's number in another case
finds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.api.test_bank_import import ACCOUNT, Bank, camt, ntry
from tests.support.api import IssueInvoice, Json, RegisterCustomer, created, ok

from ar.runtime import Runtime

CSV_MAPPING = {"booked_on": "Date", "value_on": "Valeur", "amount": "Montant", "family": "Type",
               "remittance": "Libelle", "reference": "Reference", "return_reason": "Motif", "account_id": ACCOUNT}


def _mt940(*lines: str) -> bytes:
    return "\n".join([":20:STARTUMS", ":25:DE89370400440532013000", ":28C:00052/001", ":60F:C260316EUR5000,00",
                      *lines, ":62F:C260319EUR5042,00", "-"]).encode()


def _cfonb(movement: str) -> bytes:
    """One movement (an 04 record, given from position 33: the operation code onwards) between its balances."""
    head = "0430006015800001EUR2 12345678901"
    assert len(head + movement) == 120, len(head + movement)
    return "\n".join([
        "0130006    00001EUR2 12345678901  160326" + " " * 50 + "0000000050000{" + " " * 16,
        head + movement,
        "0730006    00001EUR2 12345678901  190326" + " " * 50 + "0000000054200{" + " " * 16]).encode()


def _csv(row: str) -> bytes:
    return ("Date;Valeur;Montant;Type;Libelle;Reference;Motif\n" + row + "\n").encode()


# Each: a credit of 42.00 quoting invoice F-000051 that the bank marks as the reversal of one of our debits.
REVERSAL_CREDITS: dict[str, tuple[bytes, dict[str, str]]] = {
    "camt RvslInd": (camt(ntry(4_200, "RV1", text="Rechnung F-000051", reversal=True, code="PMNT/RDDT/ESDD")), {}),
    "mt940 RD": (_mt940(":61:2603190319RD42,00NDDTNONREF//4711031900009",
                        ":86:105?00SEPA LASTSCHRIFT ERSTATTUNG?20SVWZ+Rechnung F-000051?32STADTWERKE"), {}),
    "mt940 GVC 159": (_mt940(":61:2603190319C42,00NTRFNONREF//4711031900010",
                             ":86:159?00SEPA UEBERWEISUNG RETOURE?20SVWZ+Rechnung F-000051?32LIEFERANT GMBH"), {}),
    "mt940 GVC 181": (_mt940(":61:2603190319C42,00NDDTNONREF//4711031900011",
                             ":86:181?00SEPA LASTSCHRIFT ERSTATTUNG?20SVWZ+Rechnung F-000051?32STADTWERKE"), {}),
    "cfonb120 reject": (_cfonb("07190326" + "04" + "190326" + f"{'REJET PRLV SEPA F-000051':31}" + "  "
                               + "0000009" + "  " + "0000000004200{" + f"{'REJ0009':16}"), {}),
    "csv return reason": (_csv("19/03/2026;19/03/2026;42,00;PMNT-RDDT-ESDD;Rechnung F-000051;CSVREV-1;MD06;"),
                          {"format": "csv", "mapping": json.dumps(CSV_MAPPING)}),
}


def _post(client: TestClient, content: bytes, params: dict[str, str], status: int = 201) -> Json:
    r = client.post("/v1/bank-statements", content=content, headers={"content-type": "application/octet-stream"},
                    params=params)
    assert r.status_code == status, r.text
    body: Json = r.json()
    return body


def _issue(issue_invoice: IssueInvoice, customer: str, number: str, total: int) -> Json:
    base = total * 5 // 6
    return created(issue_invoice(customer, total, series="ERP2026", number=number, issued_on="2026-02-20",
                                 vat=[{"rate": "20", "base_minor": base, "vat_minor": total - base}]))


@pytest.mark.parametrize("sample", list(REVERSAL_CREDITS))
def test_a_credit_reversing_one_of_our_debits_is_listed_not_recorded_as_a_payment(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, sample: str) -> None:
    invoice = _issue(issue_invoice, str(register_customer()["id"]), "F-000051", 4_200)
    content, params = REVERSAL_CREDITS[sample]
    report = _post(client, content, params)
    [entry] = [e for i in report["imports"] for e in i["entries"]]
    assert (entry["direction"], entry["reversal"], entry["state"]) == ("credit", True, "listed")
    assert entry["payment_id"] is None and entry["note"].startswith("a reversal of one of our debits")
    assert report["counts"] | {} == {"credits": 0, "matched": 0, "waiting": 0, "duplicates": 0, "returned": 0,
                                     "listed": 1}
    assert ok(client.get(f"/v1/invoices/{invoice['id']}"))["open_amount"]["minor"] == 4_200
    assert ok(client.get("/v1/payments/unmatched")) == []
    again = _post(client, content, params, status=200)
    assert again["counts"]["duplicates"] == 1


def test_a_reversed_transfer_is_listed_and_leaves_the_payment_it_reverses_alone(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b = Bank(client, register_customer, issue_invoice)
    invoice = b.invoice(b.customer(), 6_000)
    [paid] = b.entries(b.post(camt(ntry(6_000, "TR1", e2e="E2E-TR-1", text=invoice["number"],
                                        code="PMNT/RCDT/ESCT"))))
    assert paid["state"] == "matched"
    # the bank reverses the transfer it had credited (not a direct debit of ours coming back): no return applied
    [reversed_] = b.entries(b.post(camt(ntry(6_000, "TR2", debit=True, reversal=True, e2e="E2E-TR-1",
                                             text=invoice["number"], code="PMNT/RCDT/ESCT"), statement="S-2")))
    assert (reversed_["state"], reversed_["family"], reversed_["reversal"]) == ("listed", "transfer", True)
    assert reversed_["payment_id"] is None and "not a returned direct debit" in reversed_["note"]
    assert ok(client.get(f"/v1/payments/{paid['payment_id']}"))["returned_on"] is None
    assert b.open_minor(invoice) == 0


def test_a_returned_direct_debit_still_returns_its_payment(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b = Bank(client, register_customer, issue_invoice)
    invoice = b.invoice(b.customer(), 6_000)
    [paid] = b.entries(b.post(camt(ntry(6_000, "DD1", e2e="SDD-1", text=invoice["number"], code="PMNT/IDDT/ESDD"))))
    [back] = b.entries(b.post(camt(ntry(6_000, "DD2", debit=True, e2e="SDD-1", reason="AM04",
                                        code="PMNT/IDDT/UPDD"), statement="S-2")))
    assert (back["state"], back["payment_id"], back["family"]) == ("returned", paid["payment_id"], "direct_debit")
    assert b.open_minor(invoice) == 6_000


def test_each_entry_shows_its_family_and_the_bank_code_as_written_when_imported_and_read_back(
        runtime: Runtime, client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
        tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ar.cli import cli

    b = Bank(client, register_customer, issue_invoice)
    invoice = b.invoice(b.customer(), 6_000)
    content = camt(ntry(6_000, "F1", text=invoice["number"], code="PMNT/RCDT/ESCT"),
                   ntry(750, "F2", debit=True, code="ACMT/MDOP/CHRG"), ntry(300, "F3", debit=True))
    report = b.post(content)
    shown = [(e["family"], e["bank_code"]) for e in b.entries(report)]
    assert shown == [("transfer", "PMNT/RCDT/ESCT"), ("charges", "ACMT/MDOP/CHRG"), (None, None)]
    stored = ok(client.get(f"/v1/bank-statements/{report['imports'][0]['id']}"))
    assert [(e["family"], e["bank_code"]) for e in stored["entries"]] == shown

    statement = tmp_path / "statement.xml"
    statement.write_bytes(camt(ntry(1_000, "F4", code="PMNT/MCRD/POSP"), statement="S-2"))
    env = {"AR_DATABASE_URL": runtime.settings.database_url, "AR_CREATE_TABLES": "false"}
    printed = CliRunner().invoke(cli, ["import-statement", str(statement)], env=env)
    assert printed.exit_code == 0, printed.output
    assert "10.00 EUR card (PMNT/MCRD/POSP) waiting" in printed.output


def test_the_customer_reference_rule_is_stored_under_its_whole_name(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    from ar.domain.reference import customer_reference

    b = Bank(client, register_customer, issue_invoice)
    customer = b.customer()
    invoice = b.invoice(customer, 6_000)
    rf = customer_reference(customer)
    report = b.post(camt(ntry(6_000, "CR1", rf=rf)))
    assert [e["rule"] for e in b.entries(report)] == ["customer-reference"]
    stored = ok(client.get(f"/v1/bank-statements/{report['imports'][0]['id']}"))
    assert [e["rule"] for e in stored["entries"]] == ["customer-reference"] and b.open_minor(invoice) == 0


@pytest.mark.parametrize(("issued", "quoted"), [("FA-2026-0042", "fa-2026-0042"), ("fa-2026-0043", "FA-2026-0043")])
def test_a_remittance_quoting_an_issuer_number_in_another_case_finds_it(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, issued: str,
        quoted: str) -> None:
    b = Bank(client, register_customer, issue_invoice)
    invoice = _issue(issue_invoice, b.customer(), issued, 6_000)
    [entry] = b.entries(b.post(camt(ntry(6_000, "UC1", text=f"Facture {quoted} merci"))))
    assert (entry["state"], entry["rule"]) == ("matched", "numbers")
    assert entry["invoices"] == [{"invoice_id": invoice["id"], "amount_minor": 6_000}]
