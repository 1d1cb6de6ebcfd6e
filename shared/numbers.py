"""Bounded numbers: every number a caller sends has a documented range, and floats are finite.

Two families, because a JSON body and a query string are different inputs:

- **body types** (``Vnd``, ``Count``, ``Quantity``, ``Percent``, ``Share``, ``Score``, ``Year``, and
  ``Day`` for a calendar date) are strict: a JSON number only (``"5"`` or ``true`` is refused, as the
  schema says; a ``Day`` is an ISO date string), finite, in range;
- **query types** (``Offset``, ``Limit``, ``YearQuery``, ``MomentQuery``) parse the query string's text,
  then hold the same ranges.

Each carries its range and meaning into the OpenAPI schema (``minimum``/``maximum``, ``description``), so
a client knows the bounds before it sends. A value outside is a 422 naming the field, with pydantic's
error type (``less_than_equal``, ``finite_number``, …) and its limit in the error's ``params``.
Bounds are sized so that sums over a whole city stay exact (no overflow into ``inf``, no decimal error).
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

MAX_VND = 10**15  # a thousand trillion đồng: above any benefit value or award amount
MAX_COUNT = 10**9
MAX_QUANTITY = 1e15  # an indicator's target or reported value (a count, a percentage or an amount)
MAX_OFFSET = 1_000_000
MAX_LIMIT = 500
MIN_YEAR, MAX_YEAR = 2000, 2100

# -- in a JSON body ------------------------------------------------------------------------------------

Vnd = Annotated[
    int, Strict(), Field(ge=0, le=MAX_VND, description=f"An amount in Vietnamese đồng (VND), 0 to {MAX_VND:,}.")
]
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_COUNT, description="A count, 0 to 1,000,000,000.")]
Quantity = Annotated[
    float,
    Strict(),
    Field(
        ge=0,
        le=MAX_QUANTITY,
        allow_inf_nan=False,
        description="A measured quantity (target or achieved value of an indicator), finite, 0 to 10^15.",
    ),
]
Percent = Annotated[float, Strict(), Field(ge=0, le=100, allow_inf_nan=False, description="A percentage, 0 to 100.")]
Share = Annotated[
    int, Strict(), Field(ge=1, le=100, description="An author's contribution in whole percent, 1 to 100.")
]
Score = Annotated[int, Strict(), Field(ge=0, le=10, description="A council member's score, 0 to 10.")]
Year = Annotated[int, Strict(), Field(ge=MIN_YEAR, le=MAX_YEAR, description=f"A year, {MIN_YEAR} to {MAX_YEAR}.")]

FIRST_DAY, LAST_DAY = date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)


def _iso_day(value: Any) -> Any:
    """A day comes as ``YYYY-MM-DD`` text (or a ``date`` from Python code), never as a number."""
    if isinstance(value, str) or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    raise PydanticCustomError("date_type", "Input should be a valid date in the format YYYY-MM-DD")


def _day_schema(schema: dict[str, Any]) -> None:
    # JSON Schema has no bounds for a date string: the range is said in the description instead.
    schema.pop("ge", None)
    schema.pop("le", None)


Day = Annotated[
    date,
    BeforeValidator(_iso_day),
    Field(
        ge=FIRST_DAY,
        le=LAST_DAY,
        description=f"A calendar day (YYYY-MM-DD), {FIRST_DAY} to {LAST_DAY}.",
        json_schema_extra=_day_schema,
    ),
]

# -- in a query string ---------------------------------------------------------------------------------

Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description=f"Rows to skip, 0 to {MAX_OFFSET:,}.")]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"Rows to return, 1 to {MAX_LIMIT}.")]
YearQuery = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR, description=f"A year, {MIN_YEAR} to {MAX_YEAR}.")]
FIRST_MOMENT = datetime(MIN_YEAR, 1, 1, tzinfo=UTC)
LAST_MOMENT = datetime(MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC)


def _aware(value: Any) -> Any:
    """A moment without a zone is UTC (so it compares with the bounds and with stored moments)."""
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


MomentQuery = Annotated[
    datetime,
    AfterValidator(_aware),
    Field(
        ge=FIRST_MOMENT,
        le=LAST_MOMENT,
        description=f"A moment (ISO 8601; UTC when no zone is given), {MIN_YEAR} to {MAX_YEAR}.",
        json_schema_extra=_day_schema,
    ),
]
