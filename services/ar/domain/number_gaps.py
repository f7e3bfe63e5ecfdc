"""Gaps in the numbers an issuer gave its invoices: reported, never refused.

French invoice numbers form a chronological, continuous sequence (CGI art. 242 nonies A), possibly in several
series, each with its prefix (FA-2026-0041). When the invoicing system (an ERP) numbers the invoices, `ar` records
them as given and a missing number may mean an invoice it never received: worth a look, not a reason to refuse the
next one. Numbers are grouped by their prefix (all before the trailing digits); within a group, a value missing
between the lowest and the highest is a gap, written as the issuer would (the zero padding of the number before it).
A number without trailing digits belongs to no sequence: no gap is claimed about it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice, pairwise

NUMBERED = re.compile(r"(.*?)(\d+)")
CAP = 100


@dataclass(frozen=True)
class Gaps:
    """The first `len(missing)` missing numbers (at most the cap, by prefix then value) and how many are missing."""

    missing: tuple[str, ...]
    count: int


def split(number: str) -> tuple[str, str] | None:
    """(prefix, digits) of a number ending in digits; None for a number without a numeric suffix."""
    match = NUMBERED.fullmatch(number)
    return (match.group(1), match.group(2)) if match else None


def _missing(prefix: str, suffixes: dict[int, str]) -> Iterator[str]:
    values = sorted(suffixes)
    for low, high in pairwise(values):
        width = len(suffixes[low])
        for value in range(low + 1, high):
            yield f"{prefix}{value:0{width}d}"


def find_gaps(numbers: Iterable[str], cap: int = CAP) -> Gaps:
    """The numbers missing from each prefix's sequence, between its lowest and its highest number."""
    groups: dict[str, dict[int, str]] = {}
    for number in numbers:
        parts = split(number)
        if parts is not None:
            prefix, digits = parts
            groups.setdefault(prefix, {}).setdefault(int(digits), digits)
    count = 0
    for suffixes in groups.values():
        values = sorted(suffixes)
        count += sum(high - low - 1 for low, high in pairwise(values))
    missing: list[str] = []
    for prefix in sorted(groups):
        missing += islice(_missing(prefix, groups[prefix]), cap - len(missing))
        if len(missing) >= cap:
            break
    return Gaps(missing=tuple(missing), count=count)
