"""A postal address, as a letter's recipient block prints it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ar.domain.errors import DomainRuleViolation

COUNTRY = re.compile(r"[A-Z]{2}")
FRENCH_POSTCODE = re.compile(r"\d{5}")
MAX_LINES = 4  # La Poste's recipient block is six lines: the name, up to four of street, then postcode and city


@dataclass(frozen=True)
class PostalAddress:
    """`lines`: what comes between the recipient's name and the postcode (building, street, PO box), top down.

    `country` is ISO 3166-1 alpha-2; a French postcode is five digits (the check a letter would bounce on). Fields are
    named as the API names them (`billing_address.<field>`), so an error points at what the caller sent."""

    lines: tuple[str, ...]
    postcode: str
    city: str
    country: str

    def __post_init__(self) -> None:
        field = "billing_address"
        if not self.lines or not any(line.strip() for line in self.lines):
            raise DomainRuleViolation("an address needs at least one street line", field=f"{field}.lines")
        if len(self.lines) > MAX_LINES:
            raise DomainRuleViolation(f"an address has at most {MAX_LINES} lines above the postcode",
                                      field=f"{field}.lines")
        for i, line in enumerate(self.lines):
            if not line.strip():
                raise DomainRuleViolation("an address line cannot be blank", field=f"{field}.lines[{i}]")
        if not self.city.strip():
            raise DomainRuleViolation("an address needs a city", field=f"{field}.city")
        if not COUNTRY.fullmatch(self.country):
            raise DomainRuleViolation("country is an ISO 3166-1 alpha-2 code such as FR", field=f"{field}.country")
        if self.country == "FR" and not FRENCH_POSTCODE.fullmatch(self.postcode):
            raise DomainRuleViolation(f"{self.postcode!r} is not a French postcode (five digits)",
                                      field=f"{field}.postcode")

    @classmethod
    def of(cls, lines: list[str] | tuple[str, ...], postcode: str, city: str, country: str) -> PostalAddress:
        """Trimmed as typed; a French city in capitals, as La Poste asks (NF Z10-011)."""
        city = city.strip()
        return cls(tuple(line.strip() for line in lines), postcode.strip(),
                   city.upper() if country == "FR" else city, country)

    def block(self) -> list[str]:
        """The lines under the recipient's name: street lines, `postcode city`, and the country when abroad."""
        town = f"{self.postcode} {self.city}".strip()
        return [*self.lines, town] + ([] if self.country == "FR" else [self.country])

    def to_dict(self) -> dict[str, Any]:
        return {"lines": list(self.lines), "postcode": self.postcode, "city": self.city, "country": self.country}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PostalAddress:
        return cls(tuple(str(line) for line in data["lines"]), str(data["postcode"]), str(data["city"]),
                   str(data["country"]))
