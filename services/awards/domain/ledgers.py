"""Two small aggregates that keep rules across proposals consistent under concurrent commands:

- ``NomineeRecord`` (one stream per nominee): one achievement, one reward at a level; an overall and a
  thematic award are not both given at the same level in the same year (research §1.1). A proposal's
  claim is appended with its filing, in the same transaction, so two racing proposals cannot both pass.
- ``QuotaLedger`` (one stream per unit and year): how many proposals of each kind the unit may send up,
  allocated by its parent (or the rule set's default), and which proposals used a place.
"""

from contracts.awards import (
    AchievementClaimed,
    AchievementReleased,
    AwardRule,
    Category,
    QuotaAllocated,
    QuotaReleased,
    QuotaUsed,
)
from services.awards.domain.rules import Actor, level_of, require_decider
from shared.aggregate import Aggregate
from shared.errors import Conflict, InvalidInput
from shared.events import Event
from shared.units import UnitRef


def nominee_key(kind: str, nominee_id: str) -> str:
    """The id of a nominee's record (stream ``nominee-<key>``)."""
    return f"{kind}-{nominee_id}"


def quota_key(unit_id: str, year: int) -> str:
    """The id of a unit's quota ledger for a year (stream ``quota-<key>``)."""
    return f"{unit_id}-{year}"


class NomineeRecord(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.claims: dict[str, AchievementClaimed] = {}  # proposal id → its claim, while held

    def apply(self, event: Event) -> None:
        match event:
            case AchievementClaimed():
                self.claims[event.proposal_id] = event
            case AchievementReleased():
                self.claims.pop(event.proposal_id, None)

    def claim(
        self,
        nominee_id: str,
        proposal_id: str,
        achievement_ref: str,
        level_key: str,
        year: int,
        category: Category,
        award_code: str,
    ) -> list[Event]:
        for held in self.claims.values():
            if held.level_key != level_key:
                continue
            if held.achievement_ref == achievement_ref:
                raise Conflict(
                    f"this achievement already rests on proposal {held.proposal_id} ({held.award_code}) at the same "
                    "level: one achievement, one reward",
                    code="award.achievement_already_proposed",
                    field="achievement",
                    params={"earlier_proposal_id": held.proposal_id, "award_code": held.award_code},
                )
            if held.year == year and held.category != category:
                raise Conflict(
                    f"the nominee already has a {held.category} award proposed or given at this level for {year} "
                    f"(proposal {held.proposal_id}); an overall and a thematic award are not both given",
                    code="award.overall_and_thematic",
                    field="award_code",
                    params={"earlier_proposal_id": held.proposal_id, "category": held.category, "year": year},
                )
        return [
            AchievementClaimed(
                nominee_id=nominee_id,
                proposal_id=proposal_id,
                achievement_ref=achievement_ref,
                level_key=level_key,
                year=year,
                category=category,
                award_code=award_code,
            )
        ]

    def release(self, nominee_id: str, proposal_id: str, reason: str) -> list[Event]:
        if proposal_id not in self.claims:
            return []
        return [AchievementReleased(nominee_id=nominee_id, proposal_id=proposal_id, reason=reason)]


class QuotaLedger(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.allocated: dict[str, int] = {}
        self.used: dict[str, set[str]] = {}

    def apply(self, event: Event) -> None:
        match event:
            case QuotaAllocated():
                self.allocated[event.award_code] = event.count
            case QuotaUsed():
                self.used.setdefault(event.award_code, set()).add(event.proposal_id)
            case QuotaReleased():
                self.used.get(event.award_code, set()).discard(event.proposal_id)

    def limit(self, rule: AwardRule) -> int | None:
        return self.allocated.get(rule.code, rule.default_quota)

    def remaining(self, rule: AwardRule) -> int | None:
        limit = self.limit(rule)
        return None if limit is None else max(0, limit - len(self.used.get(rule.code, ())))

    def allocate(
        self, actor: Actor, parent: UnitRef, child: UnitRef, year: int, award_code: str, count: int
    ) -> list[Event]:
        require_decider(actor, level_of(parent), "allocate quotas")
        if child.parent_id != parent.unit_id:
            raise InvalidInput(
                f"{child.path} is not a direct child of {parent.path}; a level allocates to its children",
                code="award.not_a_child",
                field="unit_path",
                params={"unit": child.path, "parent": parent.path},
            )
        used = len(self.used.get(award_code, ()))
        if count < used:
            raise Conflict(
                f"{used} places are already used; the quota cannot go below that",
                code="award.quota_below_used",
                field="count",
                params={"used": used},
            )
        return [
            QuotaAllocated(
                unit_id=child.unit_id,
                by_unit_id=parent.unit_id,
                by_path=parent.path,
                year=year,
                award_code=award_code,
                count=count,
                allocated_by=actor.subject,
            )
        ]

    def take(self, unit_id: str, year: int, rule: AwardRule, proposal_ids: list[str]) -> list[Event]:
        """Places for proposals leaving the unit together; over the quota, refused saying how many remain."""
        used = self.used.get(rule.code, set())
        new = [p for p in dict.fromkeys(proposal_ids) if p not in used]  # a re-sent proposal kept its place
        limit = self.limit(rule)
        remaining = self.remaining(rule)
        if limit is not None and remaining is not None and len(new) > remaining:
            raise Conflict(
                f"over quota: {len(used)} of {limit} places for {rule.code} in {year} are used and {remaining} "
                f"remain; {len(new)} would leave",
                code="award.quota_exceeded",
                field="proposal_ids",
                params={
                    "award_code": rule.code,
                    "year": year,
                    "limit": limit,
                    "used": len(used),
                    "remaining": remaining,
                },
            )
        return [QuotaUsed(unit_id=unit_id, year=year, award_code=rule.code, proposal_id=p) for p in new]

    def give_back(self, unit_id: str, year: int, award_code: str, proposal_id: str) -> list[Event]:
        if proposal_id not in self.used.get(award_code, ()):
            return []
        return [QuotaReleased(unit_id=unit_id, year=year, award_code=award_code, proposal_id=proposal_id)]
