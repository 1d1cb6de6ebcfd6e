"""Paper records: what a unit did before it used the platform, entered later with the day it happened.

Only the platform operator enters a past day (a registration, a report, a round run on paper): anyone
else acts today, because a past day from them would move a deadline or a lateness they are judged by
(403 ``date.backdated``). Nobody enters a day after today (422 ``date.in_future``). For the same reason
only the operator sets a deadline that has already passed (a campaign run on paper): from anyone else it
would make the units below late for a report they never had the chance to make.
"""

from datetime import date

from shared.errors import Forbidden, InvalidInput
from shared.identity import Caller


def day_of(caller: Caller, given: date | None, today: date, field: str) -> date:
    """The day a command happened: today, or (the operator only) the earlier day ``given``."""
    if given is None or given == today:
        return today
    not_after(given, today, field)
    if not caller.is_admin:
        raise Forbidden(
            f"only the platform operator enters a past day ({given.isoformat()}) from paper records; "
            "leave it out to act today",
            field=field,
            code="date.backdated",
            params={"given": given.isoformat(), "today": today.isoformat()},
        )
    return given


def not_after(given: date, day: date, field: str, day_is: str = "today") -> None:
    """Refuse a day after ``day`` (today, or the day a paper record happened): nothing had happened yet."""
    if given > day:
        raise InvalidInput(
            f"{given.isoformat()} is after {day_is} ({day.isoformat()})",
            field=field,
            code="date.in_future",
            params={"given": given.isoformat(), "today": day.isoformat()},
        )


def deadlines_ahead(caller: Caller, deadlines: list[date], today: date, field: str) -> None:
    """Refuse deadlines before today, unless the operator is entering a plan that ran on paper."""
    passed = sorted({d for d in deadlines if d < today})
    if passed and not caller.is_admin:
        days = ", ".join(d.isoformat() for d in passed)
        raise Forbidden(
            f"deadlines already passed ({days}) would make units late for reports they could not make; "
            "only the platform operator enters a plan that ran on paper",
            field=field,
            code="date.deadline_passed",
            params={"passed": [d.isoformat() for d in passed], "today": today.isoformat()},
        )
