"""Shapes shared by every resource: money, problems, events, and the input types every request is made of.

Input hygiene lives here, once, as types: a text that either database cannot store (NUL, a lone surrogate) or that
has no business in a one-line value (control characters) is refused with a 422 naming the field; dates are ISO
strings within the business range; every number is bounded. Each type says in the OpenAPI (pattern, format,
minimum, maximum) exactly what it enforces, so the contract and the server never disagree, and a new field or
query parameter gets all of it by using the type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StrictInt,
    WithJsonSchema,
)
from pydantic import GetJsonSchemaHandler as JsonHandler
from pydantic.config import JsonDict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from ar.domain.money import Money

# Text -------------------------------------------------------------------------------------------------------------
# C0 controls, DEL and C1 controls. A multi-line text keeps tab, line feed and carriage return.
_CONTROLS = "\\x00-\\x1F\\x7F-\\x9F"
_LINE_PATTERN = f"^[^{_CONTROLS}]*$"
_MULTILINE_PATTERN = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
_LINE_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f]")
_MULTILINE_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Storable:
    """A string both databases can store and a person can read: no control character (tab and line breaks only in
    a multi-line text), no lone surrogate (not encodable in UTF-8). Adds the matching `pattern` to the schema."""

    multiline: bool = False

    @property
    def pattern(self) -> str:
        return _MULTILINE_PATTERN if self.multiline else _LINE_PATTERN

    def check(self, value: str) -> str:
        if bad := (_MULTILINE_REFUSED if self.multiline else _LINE_REFUSED).search(value):
            raise PydanticCustomError("control_character", "contains the control character U+{code} (refused: a "
                                      "text holds printable characters{lines})",
                                      {"code": f"{ord(bad.group()):04X}",
                                       "lines": ", tabs and line breaks" if self.multiline else ""})
        if _SURROGATE.search(value):
            raise PydanticCustomError("lone_surrogate", "contains a lone UTF-16 surrogate, which is not a character")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: JsonHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


Text = Annotated[str, Storable(), Field(min_length=1, max_length=500)]
"""One line of text, 1 to 500 characters; narrow the length with `Annotated[Text, Field(max_length=...)]`."""
MultilineText = Annotated[str, Storable(multiline=True), Field(min_length=1, max_length=2000)]
"""Text where a line break means something (an outcome, a note)."""
_EMAIL_PATTERN = r"^[^\s@\x00-\x1F\x7F-\x9F]+@[^\s@\x00-\x1F\x7F-\x9F]+\.[^\s@\x00-\x1F\x7F-\x9F]+$"
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=_EMAIL_PATTERN,
                             examples=["compta@martin.fr"], json_schema_extra={"format": "email"})]
"""local@domain.tld: enough to catch a typo without refusing a valid address (no new dependency)."""
CURRENCY_PATTERN = r"^[A-Z]{3}$"
Currency = Annotated[str, Field(pattern=CURRENCY_PATTERN, examples=["EUR"], description="ISO 4217 code")]
ExternalId = Annotated[Text, Field(max_length=128, examples=["ERP-10442"])]

# Dates ------------------------------------------------------------------------------------------------------------
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
_DAY = r"20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_DATE_PATTERN = f"^{_DAY}$"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
_INSTANT_PATTERN = f"^{_DAY}T{_TIME}(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
_RANGE = f"from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"


def _iso(pattern: str, kind: str, example: str) -> Any:
    """Only an ISO string reaches the parser: a number would otherwise be read as seconds since 1970."""

    def check(value: object) -> object:
        if isinstance(value, date):  # from Python callers; the range is checked after
            return value
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise PydanticCustomError(f"{kind}_format", "a {kind} is an ISO 8601 string such as {example}, "
                                      "{range}", {"kind": kind, "example": example, "range": _RANGE})
        return value

    return BeforeValidator(check)


def _in_range(value: date) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PydanticCustomError("date_range", "dates run {range}", {"range": _RANGE})
    return value


BusinessDate = Annotated[date, _iso(_DATE_PATTERN, "date", "2026-03-01"), AfterValidator(_in_range),
                         Field(json_schema_extra={"pattern": _DATE_PATTERN}, examples=["2026-03-01"])]
"""A business day, YYYY-MM-DD, from 2000-01-01 to 2099-12-31."""
Instant = Annotated[datetime, _iso(_INSTANT_PATTERN, "date-time", "2026-03-01T12:00:00+01:00"),
                    AfterValidator(_in_range),
                    Field(json_schema_extra={"pattern": _INSTANT_PATTERN}, examples=["2026-03-01T12:00:00Z"])]
"""An instant with its UTC offset, ISO 8601, in the business range."""

# Numbers ----------------------------------------------------------------------------------------------------------
_WHOLE = re.compile(r"-?[0-9]{1,18}")


def _digits(value: object) -> object:
    """Query strings: only plain digits are a number (not `1.0`, ` 1`, `1_000`)."""
    if isinstance(value, str) and not _WHOLE.fullmatch(value):
        raise PydanticCustomError("int_parsing", "a whole number, written in digits")
    return value


def _true_false(value: object) -> object:
    """Query strings: `true` or `false`, nothing else (not `1`, `yes`, `on`)."""
    if isinstance(value, str) and value not in ("true", "false"):
        raise PydanticCustomError("bool_parsing", "`true` or `false`")
    return value == "true" if isinstance(value, str) else value


QueryInt = Annotated[int, BeforeValidator(_digits)]
"""An integer query parameter; bound it with `Query(ge=..., le=...)`."""
QueryBool = Annotated[bool, BeforeValidator(_true_false)]
Days = Annotated[StrictInt, Field(ge=0, le=3650)]

# 10^15 minor units (10 trillion euros) bounds every amount so that read-model columns (BIGINT) never overflow.
MAX_MINOR = 10**15
MinorUnits = Annotated[StrictInt, Field(ge=-MAX_MINOR, le=MAX_MINOR, examples=[120000],
                                        description="Amount in minor units (cents for EUR); never a float")]
PositiveMinor = Annotated[StrictInt, Field(gt=0, le=MAX_MINOR, examples=[120000],
                                           description="Amount in minor units (cents for EUR), > 0")]

_PERCENT_PATTERN = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$"


def _percent_string(value: object) -> object:
    """A rate is exact: a decimal string, never a float that would round it (`5.5`, not 5.5)."""
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str) or not re.fullmatch(_PERCENT_PATTERN, value):
        raise PydanticCustomError("percent_format", "a percentage from 0 to 100 written as a string, with at most "
                                  "4 decimals, such as \"20\" or \"5.5\"")
    return value


Percent = Annotated[Decimal, BeforeValidator(_percent_string), WithJsonSchema(
    {"type": "string", "pattern": _PERCENT_PATTERN, "examples": ["20.0"], "description": "percent, a decimal string"})]

# Headers ----------------------------------------------------------------------------------------------------------
ETAG_PATTERN = r'^(\*|(W/)?"[0-9]{1,18}")$'
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7E]{1,255}$"
"""1 to 255 visible ASCII characters (no space): what a header carries unaltered."""


PATTERN_WORDS: dict[str, str] = {
    ETAG_PATTERN: 'an ETag as a write or a read returned it: "3", W/"3", or * for any version',
    IDEMPOTENCY_KEY_PATTERN: "1 to 255 visible ASCII characters (no space), e.g. a UUID",
    _EMAIL_PATTERN: "an email address such as compta@martin.fr",
    CURRENCY_PATTERN: "an ISO 4217 currency code in capitals, such as EUR",
}
"""How a 422 names a pattern in words; other modules add theirs (`PATTERN_WORDS[MY_PATTERN] = ...`)."""


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyOut(BaseModel):
    minor: int = Field(description="minor units")
    currency: str
    formatted: str = Field(examples=["1200.00 EUR"])

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(minor=money.minor, currency=money.currency, formatted=str(money))


def money_example(minor: int, currency: str = "EUR") -> JsonDict:
    """A `MoneyOut` in an answer's documented example, formatted as the server formats it."""
    return MoneyOut.of(Money(minor, currency)).model_dump()


class Problem(BaseModel):
    """application/problem+json (RFC 9457)."""

    type: str = Field(examples=["https://ar.invalid/problems/over-allocation"])
    title: str = Field(examples=["Rule violated"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["1300.00 EUR exceeds the open amount 1200.00 EUR of invoice F2026-000001"])
    field: str | None = Field(None, examples=["allocations[0].amount_minor"])
    errors: list[dict[str, Any]] | None = None


class EventOut(BaseModel):
    version: int
    type: str = Field(examples=["PaymentAllocated"])
    recorded_at: str
    caused_by: str | None = Field(None, description="who caused it: `key:<key id>` (an API key, never its secret), "
                                  "`webhook:<source>` or `system`; null on events recorded before this was kept",
                                  examples=["key:k_3f9a2c"])
    data: dict[str, Any]
