"""Working days: weekends and public holidays skipped, kept as dated data (a calendar can be amended).

A publicity window of N working days opens on a date and covers the N working days from it (the opening
day counts if it is a working day); the council may meet on the first day after the window closes.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

_DAY = timedelta(days=1)
_MAX_SPAN_DAYS = 400  # a window never spans more than a year of calendar days


@dataclass(frozen=True)
class WorkingCalendar:
    days_off: frozenset[date] = field(default_factory=frozenset)
    working_weekend_days: frozenset[date] = field(default_factory=frozenset)  # a Saturday worked in a swap
    years: frozenset[int] = field(default_factory=frozenset)  # the years whose holidays are declared

    def with_year(
        self, year: int, days_off: Iterable[date], working_weekend_days: Iterable[date] = ()
    ) -> "WorkingCalendar":
        """Declare (or re-declare) a year: its days replace what was known for that year."""
        keep_off = {d for d in self.days_off if d.year != year}
        keep_work = {d for d in self.working_weekend_days if d.year != year}
        return WorkingCalendar(
            frozenset(keep_off | set(days_off)),
            frozenset(keep_work | set(working_weekend_days)),
            self.years | {year},
        )

    def is_working_day(self, day: date) -> bool:
        if day in self.working_weekend_days:
            return True
        return day.weekday() < 5 and day not in self.days_off

    def window(self, opens_on: date, working_days: int) -> date:
        """The last working day of a window of ``working_days`` opening on ``opens_on``."""
        if working_days <= 0:
            return opens_on - _DAY  # no window: the council may meet the day it opens
        day, counted = opens_on, 0
        for _ in range(_MAX_SPAN_DAYS):
            if self.is_working_day(day):
                counted += 1
                if counted == working_days:
                    return day
            day += _DAY
        raise ValueError(f"{working_days} working days do not fit in a year from {opens_on}")

    def declared(self, day: date) -> bool:
        """False when the holidays of ``day``'s year are not known (the window is then an estimate)."""
        return day.year in self.years

    def working_days_between(self, start: date, end: date) -> int:
        """Working days from ``start`` to ``end``, both included."""
        count, day = 0, start
        while day <= end:
            count += self.is_working_day(day)
            day += _DAY
        return count
