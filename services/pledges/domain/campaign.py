"""The Campaign aggregate: launched by a unit for its subtree with measurable indicators, targets
cascaded level by level, closed with a review.

Where units sit comes from the service's copy of the directory (``UnitRef``): the handlers pass
the launcher, the splitting unit and its children in.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from contracts.pledges import CampaignClosed, CampaignLaunched, Indicator, TargetAssigned
from services.pledges.domain.rules import CLOSED, OPEN, check_measurable, check_split_covers, check_targets
from shared.aggregate import Aggregate
from shared.errors import Conflict, IllegalTransition, InvalidInput
from shared.events import Event
from shared.subjects import in_subtree
from shared.units import UnitRef


class Campaign(Aggregate):
    def __init__(self, campaign_id: str) -> None:
        super().__init__(campaign_id)
        self.launcher_unit_id = ""
        self.launcher_path = ""
        self.title = ""
        self.starts_on = date.min
        self.ends_on = date.min
        self.status = OPEN
        self.indicators: dict[str, Indicator] = {}
        self.targets: dict[str, dict[str, float]] = {}  # unit_id → indicator code → target

    def overdue(self, today: date) -> bool:
        """Past its end and not closed with a review."""
        return self.status == OPEN and today > self.ends_on

    def reaches(self, path: str) -> bool:
        return in_subtree(path, self.launcher_path)

    # -- commands --------------------------------------------------------------------------------

    @staticmethod
    def launch(
        campaign_id: str,
        launcher: UnitRef,
        children: Sequence[UnitRef],
        *,
        title: str,
        plan_number: str,
        pillars: Sequence[str],
        starts_on: date,
        ends_on: date,
        report_deadlines: Sequence[date],
        indicators: Sequence[Mapping[str, Any]],
        targets: Mapping[str, Mapping[str, float]],
    ) -> list[Event]:
        if ends_on <= starts_on:
            raise InvalidInput("a campaign ends after it starts", field="ends_on")
        outside = [d.isoformat() for d in report_deadlines if not starts_on <= d <= ends_on]
        if outside:
            raise InvalidInput(f"report deadlines outside the period: {', '.join(outside)}", field="report_deadlines")
        measured = check_measurable(indicators)
        launched = CampaignLaunched(
            campaign_id=campaign_id,
            launcher_unit_id=launcher.unit_id,
            launcher_path=launcher.path,
            title=title,
            plan_number=plan_number,
            pillars=tuple(pillars),
            starts_on=starts_on,
            ends_on=ends_on,
            report_deadlines=tuple(sorted(set(report_deadlines))) or (ends_on,),
            indicators=measured,
        )
        by_code = {i.code: i for i in measured}
        return [launched, *_assign(campaign_id, by_code, launcher, children, targets)]

    def split(
        self, unit: UnitRef, children: Sequence[UnitRef], targets: Mapping[str, Mapping[str, float]]
    ) -> list[Event]:
        """``unit`` sets its children's targets; unless it launched the campaign, they must cover its own."""
        self._require_open()
        if not self.reaches(unit.path):
            raise Conflict(f"the campaign of {self.launcher_path} does not reach {unit.path}", field="unit_id")
        if unit.unit_id != self.launcher_unit_id:
            own = self.targets.get(unit.unit_id)
            if own is None:
                raise Conflict(f"{unit.path} has no target of its own to split yet", field="unit_id")
            missing = sorted(set(own) - {code for child in targets.values() for code in child})
            if missing:
                raise Conflict(f"the split leaves out the indicators {', '.join(missing)}", field="targets")
            check_split_covers(self.indicators, unit.path, own, targets)
        return _assign(self.id, self.indicators, unit, children, targets)

    def close(
        self, closer: UnitRef, today: date, results: str, lessons: str, commended: Sequence[UnitRef]
    ) -> list[Event]:
        self._require_open()
        if closer.unit_id != self.launcher_unit_id:
            raise Conflict(f"only {self.launcher_path}, which launched it, closes the campaign", field="unit_id")
        if not results.strip():
            raise InvalidInput("the closing review states the results", field="results")
        if today < self.starts_on:
            raise IllegalTransition(f"the campaign has not started yet (it starts on {self.starts_on})")
        strangers = [u.path for u in commended if not self.reaches(u.path)]
        if strangers:
            raise InvalidInput(
                f"units outside the campaign cannot be commended: {', '.join(strangers)}", field="commended"
            )
        return [
            CampaignClosed(
                campaign_id=self.id,
                closed_on=today,
                results=results,
                lessons=lessons,
                commended_unit_ids=tuple(u.unit_id for u in commended),
            )
        ]

    def _require_open(self) -> None:
        if self.status != OPEN:
            raise IllegalTransition(f"the campaign {self.title!r} was closed with its review and no longer changes")

    # -- state -----------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        match event:
            case CampaignLaunched():
                self.launcher_unit_id, self.launcher_path = event.launcher_unit_id, event.launcher_path
                self.title, self.starts_on, self.ends_on = event.title, event.starts_on, event.ends_on
                self.indicators = {i.code: i for i in event.indicators}
            case TargetAssigned():
                self.targets[event.unit_id] = dict(event.targets)
            case CampaignClosed():
                self.status = CLOSED
            case _:
                raise TypeError(f"a campaign cannot apply {type(event).__name__}")


def _assign(
    campaign_id: str,
    indicators: Mapping[str, Indicator],
    unit: UnitRef,
    children: Sequence[UnitRef],
    targets: Mapping[str, Mapping[str, float]],
) -> list[Event]:
    by_id = {c.unit_id: c for c in children if c.active}
    events: list[Event] = []
    for child_id, child_targets in targets.items():
        if child_id not in by_id:
            raise InvalidInput(f"unit {child_id} is not an active direct child of {unit.path}", field="targets")
        check_targets(indicators, child_targets, f"targets.{child_id}")
        events.append(
            TargetAssigned(
                campaign_id=campaign_id, unit_id=child_id, by_unit_id=unit.unit_id, targets=dict(child_targets)
            )
        )
    return events
