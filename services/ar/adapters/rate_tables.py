"""Rate tables for late-payment penalties, read from `ar/data/rates.json` (or another file in the same shape).

The numbers live in data so that a new half-year's ECB or legal rate is a data change, not a code change.
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
from ar.domain.penalties import EuRule, StaticRateTables


def load_rate_tables(path: Path | None = None) -> StaticRateTables:
    """Load the tables from `path`, by default the file shipped with the package. Values marked "to_confirm" are
    loaded (the data says which default to use) and listed in `StaticRateTables.to_confirm`."""
    if path is None:
        text = resources.files("ar").joinpath("data", "rates.json").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text, parse_float=Decimal)
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
