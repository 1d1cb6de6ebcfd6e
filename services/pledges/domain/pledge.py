"""The Pledge aggregate (giao ước thi đua): a unit's commitments for a campaign, signed by its officials;
an amendment is a new version with its reason, and every version stays in the stream."""

from collections.abc import Mapping, Sequence
from datetime import date

from contracts.pledges import Commitment, PledgeAmended, PledgeSigned, Signatory
from services.pledges.domain.campaign import Campaign
from services.pledges.domain.rules import fmt
from shared.aggregate import Aggregate
from shared.errors import Conflict, IllegalTransition, InvalidInput
from shared.events import Event
from shared.units import UnitRef


class Pledge(Aggregate):
    """One per unit and campaign: its id is ``<campaign id>-<unit id>``; ``pledge_id`` (in its events)
    is the stream's name."""

    def __init__(self, pledge_id: str) -> None:
        super().__init__(pledge_id)
        self.pledge_id = f"pledge-{pledge_id}"
        self.campaign_id = ""
        self.unit_id = ""
        self.amendment = 0  # the pledge's own version: 1 when signed, +1 per amendment
        self.commitments: tuple[Commitment, ...] = ()

    def sign(
        self,
        campaign: Campaign,
        unit: UnitRef,
        signed_on: date,
        commitments: Sequence[Commitment],
        signatories: Sequence[Signatory],
    ) -> list[Event]:
        _check_commitments(campaign, unit, commitments)
        if not signatories:
            raise InvalidInput("a pledge is signed by at least one official of the unit", field="signatories")
        if not campaign.starts_on <= signed_on <= campaign.ends_on:
            raise InvalidInput(
                f"a pledge is signed during the campaign ({campaign.starts_on} to {campaign.ends_on})",
                field="signed_on",
            )
        return [
            PledgeSigned(
                pledge_id=self.pledge_id,
                campaign_id=campaign.id,
                unit_id=unit.unit_id,
                signed_on=signed_on,
                commitments=tuple(commitments),
                signatories=tuple(signatories),
            )
        ]

    def amend(self, campaign: Campaign, unit: UnitRef, reason: str, commitments: Sequence[Commitment]) -> list[Event]:
        if not self.exists:
            raise IllegalTransition("the unit has not signed a pledge for this campaign yet")
        if not reason.strip():
            raise InvalidInput("an amendment states its reason", field="reason")
        if tuple(commitments) == self.commitments:
            raise Conflict("the amendment changes no commitment", field="commitments")
        _check_commitments(campaign, unit, commitments)
        return [
            PledgeAmended(
                pledge_id=self.pledge_id,
                campaign_id=self.campaign_id,
                unit_id=self.unit_id,
                amendment=self.amendment + 1,
                reason=reason,
                commitments=tuple(commitments),
            )
        ]

    def apply(self, event: Event) -> None:
        match event:
            case PledgeSigned():
                self.campaign_id, self.unit_id = event.campaign_id, event.unit_id
                self.amendment, self.commitments = 1, event.commitments
            case PledgeAmended():
                self.amendment, self.commitments = event.amendment, event.commitments
            case _:
                raise TypeError(f"a pledge cannot apply {type(event).__name__}")


def _check_commitments(campaign: Campaign, unit: UnitRef, commitments: Sequence[Commitment]) -> None:
    campaign._require_open()
    if not campaign.reaches(unit.path):
        raise Conflict(f"the campaign of {campaign.launcher_path} does not reach {unit.path}", field="unit_id")
    if not commitments:
        raise InvalidInput("a pledge makes at least one commitment", field="commitments")
    assigned: Mapping[str, float] = campaign.targets.get(unit.unit_id, {})
    seen: set[str] = set()
    for index, c in enumerate(commitments):
        field = f"commitments.{index}"
        indicator = campaign.indicators.get(c.indicator)
        if indicator is None:
            raise InvalidInput(f"the campaign has no indicator '{c.indicator}'", field=field)
        if c.indicator in seen:
            raise InvalidInput(f"'{c.indicator}' is committed twice", field=field)
        seen.add(c.indicator)
        if c.target < 0:
            raise InvalidInput("a commitment's target cannot be negative", field=field)
        if not campaign.starts_on <= c.deadline <= campaign.ends_on:
            raise InvalidInput(
                f"the deadline {c.deadline} is outside the campaign ({campaign.starts_on} to {campaign.ends_on})",
                field=field,
            )
        given = assigned.get(c.indicator)
        below = given is not None and (c.target < given if indicator.direction == "at_least" else c.target > given)
        if below:
            raise Conflict(
                f"the commitment to '{indicator.name}' ({fmt(c.target)}) falls short of the target "
                f"{fmt(given)} assigned to {unit.path}",
                field=field,
            )
