"""Rate tables for late-payment penalties, read from `ar/data/rates.json` (or another file in the same shape).

The file is the seed of the rate book (`ar.domain.rate_book`): a new half-year's rate is recorded at run time
(`ar rates add`, `POST /v1/rates`), never by a release. The EU country rules, which do not change by half-year, are
read from the file.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from ar.domain.errors import DomainRuleViolation
from ar.domain.money import check_currency
from ar.domain.rate_book import RateFact, RateTable
from ar.domain.rate_tables import EuRule, StaticRateTables

# (table in the book, section of the file, column of the value)
SEED_COLUMNS = ((RateTable.ECB, "ecb_main_refinancing_rate", "rate"),
                (RateTable.LEGAL, "fr_legal_interest_rate", "professional_creditor"),
                (RateTable.LEGAL_INDIVIDUAL, "fr_legal_interest_rate", "individual_creditor"))


def _read(path: Path | None) -> dict[str, Any]:
    if path is None:
        text = resources.files("ar").joinpath("data", "rates.json").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return data


def load_rate_seed(path: Path | None = None) -> tuple[list[RateFact], StaticRateTables]:
    """The half-year rates of the file as facts for the rate book (with the row's source, else the section's),
    and the file's tables (for the EU country rules)."""
    data = _read(path)
    facts = []
    for table, section, column in SEED_COLUMNS:
        default_source = str(data[section].get("source", "ar/data/rates.json"))
        for row in data[section]["rates"]:
            if column not in row:
                continue
            start = date.fromisoformat(str(row["half_year_start"]))
            note = row.get("note")
            facts.append(RateFact(table=table, half_year_start=start, value=_decimal(row[column], f"{table} {start}"),
                                  source=str(row.get("source", default_source)), to_confirm=bool(row.get("to_confirm")),
                                  note=str(note) if note else None))
    return facts, _tables(data)


def load_rate_tables(path: Path | None = None) -> StaticRateTables:
    """Load the tables from `path`, by default the file shipped with the package. Values marked "to_confirm" are
    loaded (the data says which default to use) and listed in `StaticRateTables.to_confirm`."""
    return _tables(_read(path))


def _tables(data: dict[str, Any]) -> StaticRateTables:
    to_confirm: set[str] = set()
    ecb = _half_year_table(data["ecb_main_refinancing_rate"]["rates"], "rate", "ecb", to_confirm)
    legal = _half_year_table(data["fr_legal_interest_rate"]["rates"], "professional_creditor", "legal", to_confirm)
    eu_data: dict[str, Any] = data.get("eu", {})
    default = eu_data.get("default")
    countries: dict[str, Any] = eu_data.get("countries", {})
    eu = {code.upper(): _eu_rule(rule, f"eu:{code.upper()}", to_confirm) for code, rule in countries.items()}
    return StaticRateTables(ecb=ecb, legal=legal, eu=eu,
                            eu_default=_eu_rule(default, "eu:default", to_confirm) if default else None,
                            to_confirm=frozenset(to_confirm))


def _decimal(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise DomainRuleViolation(f"{where}: {value!r} is not a number", field="rates")
    return Decimal(value)


def _half_year_table(rows: list[dict[str, Any]], column: str, name: str, to_confirm: set[str]) -> dict[date, Decimal]:
    table: dict[date, Decimal] = {}
    for row in rows:
        start = date.fromisoformat(str(row["half_year_start"]))
        if start in table:
            raise DomainRuleViolation(f"{name} table lists {start.isoformat()} twice", field="rates")
        table[start] = _decimal(row[column], f"{name} {start.isoformat()}")
        if row.get("to_confirm"):
            to_confirm.add(f"{name}:{start.isoformat()}")
    return table


def _eu_rule(row: dict[str, Any], label: str, to_confirm: set[str]) -> EuRule:
    if row.get("to_confirm"):
        to_confirm.add(label)
    indemnity = row.get("indemnity_minor", 4000)
    if isinstance(indemnity, bool) or not isinstance(indemnity, int):
        raise DomainRuleViolation(f"{label}: indemnity_minor must be an integer", field="rates")
    return EuRule(points=_decimal(row.get("points", 8), f"{label} points"), indemnity_minor=indemnity,
                  currency=check_currency(str(row.get("currency", "EUR")), field="rates"))
