"""Which law sets a debtor's late-payment penalties, and its citation: chosen from the customer's kind and country,
stated on every computation (`PenaltyComputation.to_dict`, `explain`) so a person can check it against the text."""

from __future__ import annotations

from enum import StrEnum

from ar.domain.terms import CustomerKind

# Metropolitan France and the overseas departments (DROM), where the Code de commerce applies as such.
FRENCH_COUNTRIES = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT"})


class PenaltyRegime(StrEnum):
    PROFESSIONAL = "professional"  # Code de commerce L441-10, D441-5
    PUBLIC = "public"  # Code de la commande publique R2192-31, D2192-35
    CONSUMER = "consumer"  # Code civil 1231-6, 1344-1
    EU = "eu"  # Directive 2011/7/EU, debtor in another member state


SOURCES: dict[PenaltyRegime, str] = {
    PenaltyRegime.PROFESSIONAL: "Code de commerce L441-10, D441-5",
    PenaltyRegime.PUBLIC: "Code de la commande publique R2192-31, D2192-35",
    PenaltyRegime.CONSUMER: "Code civil 1231-6, 1344-1",
    PenaltyRegime.EU: "Directive 2011/7/EU",
}


def regime_for(kind: CustomerKind, country: str) -> PenaltyRegime:
    """A private individual is a consumer wherever they live; businesses and public buyers outside France fall
    under the late-payment Directive as transposed in their country."""
    if kind is CustomerKind.INDIVIDUAL:
        return PenaltyRegime.CONSUMER
    if country.upper() not in FRENCH_COUNTRIES:
        return PenaltyRegime.EU
    return PenaltyRegime.PUBLIC if kind is CustomerKind.PUBLIC else PenaltyRegime.PROFESSIONAL
