"""Late-payment penalties: interest on the overdue amount incl. VAT, plus the fixed recovery indemnity.

French B2B: Code de commerce L441-10 and D441-5. Public buyers: Code de la commande publique R2192-31 to D2192-35.
Consumers: Code civil 1231-6 and 1344-1. Debtors in other EU countries: Directive 2011/7/EU. Rates that change over
time come from `RateTables` (data recorded at run time, see `ar.domain.rate_book`), never from code. A rate missing
from the tables is never guessed: the computation stops at the last day a rate covers, says which rate it waits for
(`PenaltyComputation.missing`), and the rest follows once the rate is recorded. The regimes and their sources are in
`penalty_regime`, the result and its explanation in `penalty_result`; this module computes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal, localcontext
from functools import lru_cache, partial

from ar.domain.errors import CurrencyMismatch, DomainRuleViolation
from ar.domain.money import Money
from ar.domain.penalty_regime import PenaltyRegime
from ar.domain.penalty_result import DAYS_PER_YEAR, PenaltyComputation, PenaltyLine, percent
from ar.domain.rate_tables import (
    MissingRate,
    RateTables,
    half_year_label,
    half_year_start,
    next_half_year_start,
)

HUNDRED = Decimal(100)
PROFESSIONAL_POINTS = Decimal(10)  # L441-10: ECB rate + 10 points
PUBLIC_POINTS = Decimal(8)  # R2192-31: ECB rate + 8 points
CONTRACT_FLOOR_MULTIPLE = Decimal(3)  # L441-10: an agreed rate is at least 3 x the legal interest rate
FIXED_INDEMNITY = Money(4000, "EUR")  # D441-5 and D2192-35: EUR 40 per late invoice


RateFor = Callable[[date], Decimal]


def compute_penalty(
    *,
    regime: PenaltyRegime,
    due_on: date,
    until: date,
    balance: Sequence[tuple[date, Money]],
    rates: RateTables,
    notice_on: date | None = None,
    contract_rate: Decimal | None = None,
    split_by_half_year: bool = True,
    indemnity_per_invoice: bool = True,
    country: str | None = None,
) -> PenaltyComputation:
    """Penalties accrued on one invoice from the day after `due_on` through `until`, both included.

    `balance` is the amount outstanding incl. VAT as a step function. A step dated D (a payment with value date D)
    changes the base from D + 1: the day of payment still counts as late, so due 31 March and paid 15 May is
    45 days (L441-10: interest runs from the day after the due date, with no reminder; a due date falling on a
    weekend or holiday is not moved). Each line is rounded once, half up, by `Money.apply_rate`; the interest
    is the sum of the lines. `country` is required for the EU regime.

    A rate not in the tables stops the interest on the day before the first day that needs it: the result is
    partial (`missing` names every rate waited for, `known_until` the last day counted), never a guess and never
    an error, so that a reminder about the principal still goes out.
    """
    currency = _check_balance(balance)
    if contract_rate is not None:
        _check_contract_rate(regime, contract_rate)
    notes: list[str] = []
    missing: dict[str, None] = {}
    first_day: date | None = due_on + timedelta(days=1)
    if regime is PenaltyRegime.CONSUMER:
        first_day = _consumer_first_day(due_on, notice_on, notes)
    rate_for = _rate_policy(regime, rates, due_on + timedelta(days=1), contract_rate, split_by_half_year, country,
                            notes)
    lines: tuple[PenaltyLine, ...] = ()
    known_until = until
    if first_day is not None:
        found, known_until = _lines(balance, first_day, until, rate_for, currency, missing, notes)
        lines = tuple(found)
    interest = Money.zero(currency)
    for line in lines:
        interest += line.amount
    late = _was_late(balance, due_on + timedelta(days=1), until, currency)
    indemnity = _indemnity(regime, currency, late, rates, country, indemnity_per_invoice, notes, missing)
    return PenaltyComputation(regime=regime, lines=lines, interest=interest, indemnity=indemnity,
                              total=interest + indemnity, as_of=until, notes=tuple(dict.fromkeys(notes)),
                              known_until=known_until, missing=tuple(missing))


def _check_balance(balance: Sequence[tuple[date, Money]]) -> str:
    if not balance:
        raise DomainRuleViolation("the balance needs at least one (date, amount) step", field="balance")
    currency = balance[0][1].currency
    previous: date | None = None
    for on, amount in balance:
        if amount.currency != currency:
            raise CurrencyMismatch(f"balance steps mix {currency} and {amount.currency}", field="balance")
        if amount.minor < 0:
            raise DomainRuleViolation(f"outstanding amount on {on.isoformat()} is negative", field="balance")
        if previous is not None and on < previous:
            raise DomainRuleViolation("balance steps must be sorted by date", field="balance")
        previous = on
    return currency


def _check_contract_rate(regime: PenaltyRegime, contract_rate: Decimal) -> None:
    if regime is not PenaltyRegime.PROFESSIONAL:
        raise DomainRuleViolation(f"a contract rate applies to the professional regime only, not {regime.value} "
                                  "(public and consumer rates are set by law)", field="contract_rate")
    if not isinstance(contract_rate, Decimal) or not contract_rate.is_finite() or contract_rate < 0:
        raise DomainRuleViolation("the contract rate is a non-negative Decimal in percent", field="contract_rate")


def _consumer_first_day(due_on: date, notice_on: date | None, notes: list[str]) -> date | None:
    """Against a consumer, interest at the legal rate runs only from the formal notice (Code civil 1231-6, 1344-1);
    a notice sent before the due date does not make the debt late earlier."""
    if notice_on is None:
        notes.append("no formal notice yet: a consumer owes interest only from the formal notice "
                     "(Code civil 1231-6, 1344-1)")
        return None
    return max(due_on, notice_on) + timedelta(days=1)


def _rate_policy(regime: PenaltyRegime, rates: RateTables, delay_began: date, contract_rate: Decimal | None,
                 split: bool, country: str | None, notes: list[str]) -> RateFor:
    """The annual rate in percent for a late day, per regime; tables are read lazily so that a half-year with
    nothing owed needs no rate."""
    if regime is PenaltyRegime.PUBLIC:  # R2192-31: the rate of the half-year where the delay began, not split
        return lambda day: rates.ecb_rate(half_year_start(delay_began)) + PUBLIC_POINTS
    if regime is PenaltyRegime.CONSUMER:  # the legal rate is set per half-year (CMF L313-2)
        return lambda day: rates.legal_rate(half_year_start(day))

    def reference(day: date) -> date:
        return half_year_start(day if split else delay_began)

    if regime is PenaltyRegime.EU:
        if not country:
            raise DomainRuleViolation("the EU regime needs the debtor's country", field="country")
        try:
            points = rates.eu_rule(country).points
        except MissingRate as missing:
            return partial(_unknown, missing)
        return lambda day: rates.ecb_rate(reference(day)) + points
    if contract_rate is None:  # L441-10: ECB rate of 1 January / 1 July + 10 points
        return lambda day: rates.ecb_rate(reference(day)) + PROFESSIONAL_POINTS
    agreed = contract_rate

    def floored(day: date) -> Decimal:
        start = reference(day)
        legal = rates.legal_rate(start)
        floor = CONTRACT_FLOOR_MULTIPLE * legal
        if agreed >= floor:
            return agreed
        notes.append(f"contract rate {percent(agreed)}% is below 3 x the legal rate of {half_year_label(start)} "
                     f"(3 x {percent(legal)}% = {percent(floor)}%, L441-10): {percent(floor)}% applied")
        return floor

    return floored


def _unknown(missing: MissingRate, day: date) -> Decimal:
    raise missing


def _base_before(balance: Sequence[tuple[date, Money]], day: date, currency: str) -> Money:
    """The amount outstanding at the start of `day`: the last step dated before it (zero before the first)."""
    base = Money.zero(currency)
    for on, amount in balance:
        if on >= day:
            break
        base = amount
    return base


def _pieces(balance: Sequence[tuple[date, Money]], first_day: date, until: date) -> list[tuple[date, date]]:
    """Cut [first_day, until] where the base changes (the day after each step) and at each half-year start."""
    cuts = {on + timedelta(days=1) for on, _ in balance}
    start = next_half_year_start(first_day)
    while start <= until:
        cuts.add(start)
        start = next_half_year_start(start)
    bounds = [first_day, *sorted(cut for cut in cuts if first_day < cut <= until)]
    ends = [cut - timedelta(days=1) for cut in bounds[1:]] + [until]
    return list(zip(bounds, ends, strict=True))


def _lines(balance: Sequence[tuple[date, Money]], first_day: date, until: date, rate_for: RateFor,
           currency: str, missing: dict[str, None], notes: list[str]) -> tuple[list[PenaltyLine], date]:
    """One line per run of consecutive days with the same base and rate, up to the first day whose rate is
    missing; then the last day counted."""
    runs: list[tuple[date, date, Money, Decimal]] = []
    pieces = _pieces(balance, first_day, until) if first_day <= until else []
    for n, (start, end) in enumerate(pieces):
        base = _base_before(balance, start, currency)
        if base.is_zero:
            continue
        try:
            rate = rate_for(start)
        except MissingRate as e:
            missing[e.label] = None
            _probe(balance, pieces[n + 1:], rate_for, currency, missing, notes)
            until = start - timedelta(days=1)
            break
        if runs and runs[-1][2] == base and runs[-1][3] == rate and runs[-1][1] + timedelta(days=1) == start:
            runs[-1] = (runs[-1][0], end, base, rate)
        else:
            runs.append((start, end, base, rate))
    return [_line(start, end, base, rate) for start, end, base, rate in runs], until


def _probe(balance: Sequence[tuple[date, Money]], pieces: Sequence[tuple[date, date]], rate_for: RateFor,
           currency: str, missing: dict[str, None], notes: list[str]) -> None:
    """Past the first missing rate nothing more is counted, but the other rates the rest waits for are named; the
    notes of rates not applied are dropped."""
    kept = len(notes)
    for start, _end in pieces:
        if _base_before(balance, start, currency).is_zero:
            continue
        try:
            rate_for(start)
        except MissingRate as e:
            missing[e.label] = None
    del notes[kept:]


def _line(start: date, end: date, base: Money, rate: Decimal) -> PenaltyLine:
    days = (end - start).days + 1
    return PenaltyLine(start=start, end=end, days=days, base=base, rate=rate,
                       amount=base.apply_rate(_year_fraction(rate, days)))


@lru_cache(maxsize=4096)
def _year_fraction(rate: Decimal, days: int) -> Decimal:
    """rate x days / 365 / 100, rounded up at 50 digits so that an exact half minor unit still rounds half up in
    `Money.apply_rate` (1/365 has no finite decimal expansion). Cached: a sweep meets the same few rates and day
    counts on thousands of invoices, and 50-digit division is the costliest step of a line."""
    with localcontext() as ctx:
        ctx.prec = 50
        ctx.rounding = ROUND_CEILING
        return rate * days / DAYS_PER_YEAR / HUNDRED


def _was_late(balance: Sequence[tuple[date, Money]], first_late_day: date, until: date, currency: str) -> bool:
    """Something was still owed on at least one day after the due date, up to `until`."""
    if until < first_late_day:
        return False
    if _base_before(balance, first_late_day, currency).is_positive:
        return True
    return any(amount.is_positive and first_late_day <= on + timedelta(days=1) <= until for on, amount in balance)


def _indemnity(regime: PenaltyRegime, currency: str, late: bool, rates: RateTables, country: str | None,
               per_invoice: bool, notes: list[str], missing: dict[str, None]) -> Money:
    """The fixed recovery indemnity per late invoice (D441-5, D2192-35, Directive art. 6); none for a consumer."""
    zero = Money.zero(currency)
    if regime is PenaltyRegime.CONSUMER:
        notes.append("no recovery indemnity against a consumer (L441-10 applies between professionals)")
        return zero
    if not late:
        return zero
    if not per_invoice:
        notes.append("recovery indemnity not charged on this invoice (indemnity per invoice is off)")
        return zero
    fixed = FIXED_INDEMNITY
    if regime is PenaltyRegime.EU:
        try:
            fixed = rates.eu_rule(country or "").indemnity
        except MissingRate as e:
            missing[e.label] = None
            return zero
    if fixed.currency != currency:
        notes.append(f"recovery indemnity of {fixed} not applied: the invoice is in {currency} and is not converted")
        return zero
    return fixed
