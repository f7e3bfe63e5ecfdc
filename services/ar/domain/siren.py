"""The SIREN, a French company's nine-digit number (INSEE), and why a SIRET in its place is refused."""

from __future__ import annotations

import re

from ar.domain.errors import DomainRuleViolation

DIGITS = re.compile(r"\d+")


def luhn_valid(digits: str) -> bool:
    """The Luhn key INSEE gives SIREN and SIRET numbers: every second digit from the right doubled."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def check_siren(value: str, field: str = "siren") -> str:
    """The SIREN without spaces; refused (naming `field`) unless nine digits with a valid Luhn key. A SIRET (14
    digits: the SIREN and an establishment's five) is the commonest mistake, so it is named as such."""
    siren = value.replace(" ", "")
    if DIGITS.fullmatch(siren) and len(siren) == 14:
        raise DomainRuleViolation(f"{value!r} is a SIRET (an establishment's 14 digits); give the company's SIREN, "
                                  f"its first nine digits ({siren[:9]})", field=field)
    if not DIGITS.fullmatch(siren) or len(siren) != 9:
        raise DomainRuleViolation(f"{value!r} is not a SIREN (nine digits)", field=field)
    if not luhn_valid(siren):
        raise DomainRuleViolation(f"{value!r} is not a SIREN: its check digit is wrong", field=field)
    return siren


def is_siren(value: str) -> bool:
    """Nine digits with a valid key (no message: for a number someone else stated, such as an e-invoice's)."""
    return DIGITS.fullmatch(value) is not None and len(value) == 9 and luhn_valid(value)
