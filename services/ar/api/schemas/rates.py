"""Bodies of the rates API: a rate recorded at run time, the rate book, and the half-years still waiting for one."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ar.api.schemas.common import In, MultilineText, Percent, Text
from ar.api.schemas.dunning_tasks import TaskOut
from ar.application.commands import derived_id
from ar.domain.rate_book import RateBook, RateFact, RateNeed, RateTable, RecordedRate, parse_half_year
from ar.domain.rate_tables import half_year_label

HalfYear = Annotated[str, Field(pattern=r"^(20[0-9]{2}-[Hh][12]|[Hh][12]-20[0-9]{2})$", examples=["2027-H1"],
                                description="the half-year the rate is in force: 2027-H1 (from 1 January) or "
                                            "2027-H2 (from 1 July); H1-2027 is read too")]


class RateIn(In):
    table: RateTable = Field(description="ecb: ECB main refinancing rate on 1 January / 1 July; legal: French "
                                         "legal interest rate (creditor not a private individual); "
                                         "legal_individual: the same, creditor who is a private individual")
    half_year: HalfYear
    value: Percent = Field(description="percent, as a decimal string: \"2.15\"")
    source: Annotated[Text, Field(examples=["ECB press release of 17 December 2026 (MRO 2.15%)"])]
    recorded_by: Annotated[Text, Field(max_length=128, examples=["marie@finance"])]
    to_confirm: StrictBool = Field(False, description="used as given, but shown as to be checked against its "
                                                      "source until recorded again without the mark")
    note: MultilineText | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "table": "ecb", "half_year": "2027-H1", "value": "2.15",
        "source": "ECB press release of 17 December 2026 (MRO 2.15%)", "recorded_by": "marie@finance",
        "to_confirm": False, "note": "taux BCE applicable au 1er janvier 2027"}]})

    def to_fact(self) -> RateFact:
        return RateFact(table=self.table, half_year_start=parse_half_year(self.half_year), value=self.value,
                        source=self.source, to_confirm=self.to_confirm, note=self.note)


class RateOut(BaseModel):
    table: RateTable
    half_year: str = Field(examples=["H1-2027"])
    half_year_start: date
    value: str = Field(examples=["2.15"], description="percent, a decimal string")
    source: str
    recorded_by: str
    recorded_at: datetime
    to_confirm: bool
    note: str | None
    corrections: int = Field(0, description="how many earlier entries for this half-year it replaced")

    @classmethod
    def of(cls, entry: RecordedRate, corrections: int = 0) -> RateOut:
        fact = entry.fact
        return cls(table=fact.table, half_year=half_year_label(fact.half_year_start),
                   half_year_start=fact.half_year_start, value=str(fact.value), source=fact.source,
                   recorded_by=entry.recorded_by, recorded_at=entry.recorded_at, to_confirm=fact.to_confirm,
                   note=fact.note, corrections=corrections)


class RateTableOut(BaseModel):
    table: RateTable
    name: str = Field(examples=["ECB main refinancing rate"])
    rates: list[RateOut] = Field(description="one per half-year, oldest first: the latest entry of each")


class RateNeedOut(BaseModel):
    """A half-year of a table the penalties read, without its rate: announced 30 days before it starts."""

    table: RateTable
    half_year: str = Field(examples=["H1-2027"])
    half_year_start: date
    needed_from: date
    due_on: date = Field(description="the day the rate is in force: penalties past it wait for the rate")
    summary: str

    @classmethod
    def of(cls, need: RateNeed) -> RateNeedOut:
        return cls(table=need.table, half_year=half_year_label(need.half_year_start),
                   half_year_start=need.half_year_start, needed_from=need.needed_from, due_on=need.due_on,
                   summary=need.summary)


class RateBookOut(BaseModel):
    version: int = Field(description="the rate book's version (its ETag)")
    tables: list[RateTableOut]
    to_confirm: list[str] = Field(examples=[["ecb:2026-07-01", "eu:DE"]],
                                  description="values used as given but to be checked against their source")
    missing: list[RateNeedOut] = Field(description="half-years without a rate, up to the one starting within "
                                                   "30 days")

    @classmethod
    def of(cls, book: RateBook, to_confirm: list[str], needs: list[RateNeed]) -> RateBookOut:
        return cls(version=book.version,
                   tables=[RateTableOut(table=t, name=t.display_name,
                                        rates=[RateOut.of(r, book.corrections(t, r.fact.half_year_start))
                                               for r in book.rates_of(t)]) for t in RateTable],
                   to_confirm=to_confirm, missing=[RateNeedOut.of(n) for n in needs])


def rate_task(need: RateNeed, done: RecordedRate | None = None) -> TaskOut:
    """A rate the penalties need, as an ops task: one per table and half-year (never one per invoice), open from
    30 days before the half-year starts, done when a person records the rate."""
    summary = need.summary
    if done is not None:
        summary += f": {done.fact.value}% recorded"
    return TaskOut(id=derived_id("rate-task", need.label), customer_id=None, kind="rate", step_key=need.label,
                   due_on=need.due_on, state="open" if done is None else "done", summary=summary,
                   outcome=None if done is None else f"{done.fact.value}% ({done.fact.source})",
                   done_by=None if done is None else done.recorded_by,
                   created_at=datetime.combine(need.needed_from, time(0, 0), tzinfo=UTC),
                   done_at=None if done is None else done.recorded_at)
