"""The Progress aggregate: the reported values of one unit in one campaign. Counted indicators are
never reported: they come from the registry's and the directory's events."""

from collections.abc import Sequence
from datetime import datetime

from contracts.pledges import ProgressReported
from services.pledges.domain.campaign import Campaign
from shared.aggregate import Aggregate
from shared.errors import Conflict, InvalidInput
from shared.events import Event
from shared.units import UnitRef


class Progress(Aggregate):
    """One per unit and campaign: its id is ``<campaign id>-<unit id>``."""

    def __init__(self, progress_id: str) -> None:
        super().__init__(progress_id)
        self.values: dict[str, float] = {}

    def report(
        self, campaign: Campaign, unit: UnitRef, indicator: str, value: float, evidence: Sequence[str], now: datetime
    ) -> list[Event]:
        campaign._require_open()
        if not campaign.reaches(unit.path):
            raise Conflict(f"the campaign of {campaign.launcher_path} does not reach {unit.path}", field="unit_id")
        found = campaign.indicators.get(indicator)
        if found is None:
            raise InvalidInput(f"the campaign has no indicator '{indicator}'", field="indicator")
        if found.method == "counted":
            raise Conflict(
                f"'{found.name}' is counted automatically from {found.source}; it is not reported", field="indicator"
            )
        if value < 0:
            raise InvalidInput("a reported value cannot be negative", field="value")
        evidence = [e for e in evidence if e.strip()]
        if not evidence:
            raise InvalidInput(f"a reported value needs its evidence: {found.evidence_required}", field="evidence")
        if now.date() < campaign.starts_on:
            raise InvalidInput(f"the campaign starts on {campaign.starts_on}", field="value")
        previous = self.values.get(indicator, 0.0)
        return [
            ProgressReported(
                campaign_id=campaign.id,
                unit_id=unit.unit_id,
                indicator=indicator,
                value=value,
                delta=value - previous,
                evidence=tuple(evidence),
                reported_at=now,
            )
        ]

    def apply(self, event: Event) -> None:
        if not isinstance(event, ProgressReported):
            raise TypeError(f"progress cannot apply {type(event).__name__}")
        self.values[event.indicator] = event.value
