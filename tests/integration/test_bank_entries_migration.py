"""Migration 0017 on bank entries, both ways, on SQLite and PostgreSQL: rows imported before it keep every field
(no family, no code: the file was read before they were kept) and a rule stored as `customer-ref` reads as stored;
going back, `customer-reference` is written `customer-ref` again so that it fits the narrower column."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from ar.adapters.bank_imports import bank_entries
from ar.application.bank_import import LISTED
from ar.database import migrations_dir
from ar.domain.bank_entry import BankEntry, BankStatement, Direction, TransactionFamily
from ar.domain.money import Money
from ar.runtime import Runtime

ACCOUNT = "FR7630006000011234567890189"


def _charges(reference: str) -> BankStatement:
    entry = BankEntry(account=ACCOUNT, bank_reference=reference, booked_on=date(2026, 3, 18),
                      value_on=date(2026, 3, 18), amount=Money(750, "EUR"), direction=Direction.DEBIT,
                      family=TransactionFamily.CHARGES, bank_code="ACMT/MDOP/CHRG")
    return BankStatement("camt.053", ACCOUNT, "EUR", reference, [entry])


def _migrate(runtime: Runtime, *steps: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    with runtime.engine.begin() as conn:
        config.attributes["connection"] = conn
        for step in steps:
            if step == "head":
                command.upgrade(config, step)
            else:
                command.downgrade(config, step)


def test_entries_stored_before_0017_read_as_stored_and_a_long_rule_fits_again_going_back(runtime: Runtime) -> None:
    kept = runtime.bank.import_statement(_charges("CHG-1"))
    assert [(o.entry.family, o.entry.bank_code) for o in runtime.bank.get_import(kept.import_id).entries] == [
        (TransactionFamily.CHARGES, "ACMT/MDOP/CHRG")]
    with runtime.engine.begin() as conn:
        conn.execute(bank_entries.update().values(rule="customer-reference"))

    _migrate(runtime, "0016")
    with runtime.engine.begin() as conn:
        assert conn.execute(sa.text("SELECT rule FROM bank_entries")).scalar_one() == "customer-ref"
    _migrate(runtime, "head")

    [outcome] = runtime.bank.get_import(kept.import_id).entries
    assert (outcome.state, outcome.rule, outcome.entry.family, outcome.entry.bank_code) == (
        LISTED, "customer-ref", None, None)
    assert outcome.entry.amount == Money(750, "EUR")
