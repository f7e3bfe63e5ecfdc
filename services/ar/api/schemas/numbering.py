from __future__ import annotations

from pydantic import BaseModel, Field

from ar.api.schemas.invoices import NumberedBy
from ar.projections.numbering_queries import SeriesNumbers


class SeriesOut(BaseModel):
    series: str
    numbered_by: NumberedBy = Field(description=(
        "`ar`: ar gives the next number, gapless; `issuer`: the invoicing system numbers its invoices"))
    invoices: int = Field(description="how many invoices the series holds (credit notes not counted)")
    first_number: str = Field(description="the number of the first invoice issued (issue date, then number)")
    last_number: str = Field(description="the number of the last invoice issued")
    gaps: list[str] = Field(description=(
        "issuer-numbered series: the first 100 numbers missing between the first and the last of those sharing a "
        "prefix and a numeric suffix (FA-2026-0041, FA-2026-0043: FA-2026-0042), written with the issuer's zero "
        "padding; a number without a numeric suffix claims no gap. Empty for ar's series, gapless by construction"))
    gap_count: int = Field(description="how many numbers are missing in all (the list stops at 100)")

    @classmethod
    def of(cls, s: SeriesNumbers) -> SeriesOut:
        return cls(series=s.series, numbered_by=s.numbered_by, invoices=s.invoices,
                   first_number=s.first_number, last_number=s.last_number, gaps=list(s.gaps.missing),
                   gap_count=s.gaps.count)


class SeriesList(BaseModel):
    items: list[SeriesOut]

    model_config = {"json_schema_extra": {"examples": [{"items": [
        {"series": "F2026", "numbered_by": "ar", "invoices": 120, "first_number": "F2026-000001",
         "last_number": "F2026-000120", "gaps": [], "gap_count": 0},
        {"series": "ERP", "numbered_by": "issuer", "invoices": 2, "first_number": "FA-2026-0041",
         "last_number": "FA-2026-0043", "gaps": ["FA-2026-0042"], "gap_count": 1},
    ]}]}}
