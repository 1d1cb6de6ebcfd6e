"""Who acts in inspections, what each state allows next, and the facts the aggregates are given.

Where a unit sits now comes from the service's copy of the directory (``shared.units.UnitRef``); what a
unit committed to and registered comes from its copy of the pledges and registry facts (``UnitFacts``);
when it started operating or last merged, from the directory's history. The handlers pass them in: the
aggregates do no I/O.
"""

import calendar
from datetime import date

from contracts.directory import CITY, GRASSROOTS, SUB_UNIT, UPPER
from shared.subjects import in_subtree
from shared.units import ACTIVE, MERGED, UnitRef

__all__ = ["ACTIVE", "CITY", "GRASSROOTS", "MERGED", "SUB_UNIT", "UPPER", "UnitRef", "below"]

# Officials of a unit who answer its checklist and grade it; of a level who open rounds and inspect.
UNIT_OFFICIALS: tuple[str, ...] = ("chair", "executive_committee", "inspection_committee", "emulation_officer")
LEVEL_LEADERS: tuple[str, ...] = ("chair", "standing_committee", "executive_committee")
ROUND_OPENERS: tuple[str, ...] = (*LEVEL_LEADERS, "inspection_committee")
INSPECTORS: tuple[str, ...] = ("chair", "standing_committee", "inspection_committee")
CONFIRMERS: tuple[str, ...] = ("chair", "standing_committee")
TEAM_ROLES: tuple[str, ...] = ("chair", "standing_committee", "executive_committee", "inspection_committee")


def below(unit: UnitRef, level: UnitRef) -> bool:
    """Strictly inside ``level``'s subtree (a level does not inspect itself)."""
    return unit.path != level.path and in_subtree(unit.path, level.path)


# -- what each state allows next (said in every 409) ----------------------------------------------------

CHECKLIST_NEXT: dict[str, tuple[str, ...]] = {
    "issued": ("answer", "submit"),
    "submitted": ("amend",),
    "withdrawn": (),
}
INSPECTION_NEXT: dict[str, tuple[str, ...]] = {
    "scheduled": ("issue_notice",),
    "noticed": ("issue_decision",),
    "decided": ("record_finding", "assign_action", "conclude"),
    "concluded": (),
}
ACTION_NEXT: dict[str, tuple[str, ...]] = {
    "open": ("report_fix",),
    "fix_reported": ("verify", "reopen"),
    "verified": (),
}
GRADING_NEXT: dict[str, tuple[str, ...]] = {
    "none": ("self_grade",),
    "self_graded": ("self_grade", "confirm"),
    "confirmed": ("revise_confirmation",),
}


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's last day (31/08 + 6 months → 28/02)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 if ``end`` is before a month has passed)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day and end != date(end.year, end.month, calendar.monthrange(end.year, end.month)[1]):
        months -= 1
    return max(months, 0)
