"""What every inspections handler works with (``Deps``, built once in ``entrypoints/main.py``): the store
and one repository per aggregate, the service's copy of the directory (where units sit now, who holds
which role), its copy of the facts, its records, the evidence files and the clock."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from contracts.inspections import Evidence
from services.inspections.adapters.facts import FactsReader
from services.inspections.adapters.records import InspectionsRecords
from services.inspections.domain.commands import EvidenceSpec
from services.inspections.domain.grading import Grading
from services.inspections.domain.inspection import InspectedUnit, Inspection, Plan
from services.inspections.domain.rulesets import RULE_SETS, RuleSet, rules_on
from services.inspections.domain.selfinspection import Checklist, Round
from shared import paper
from shared.commands import CommandContext
from shared.directory_copy import DirectoryCopy
from shared.errors import NotFound
from shared.eventstore import EventStore
from shared.evidence import EvidenceStore
from shared.repository import Repository
from shared.units import UnitRef

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    store: EventStore
    directory: DirectoryCopy
    facts: FactsReader
    records: InspectionsRecords
    evidence: EvidenceStore
    clock: Clock = system_clock
    rule_sets: tuple[RuleSet, ...] = RULE_SETS
    rounds: Repository[Round] = field(init=False)
    checklists: Repository[Checklist] = field(init=False)
    plans: Repository[Plan] = field(init=False)
    inspections: Repository[Inspection] = field(init=False)
    inspected: Repository[InspectedUnit] = field(init=False)
    gradings: Repository[Grading] = field(init=False)

    def __post_init__(self) -> None:
        self.rounds = Repository(self.store, Round, "round", what="self-inspection round")
        self.checklists = Repository(self.store, Checklist, "checklist", what="checklist")
        self.plans = Repository(self.store, Plan, "plan", what="inspection plan")
        self.inspections = Repository(self.store, Inspection, "inspection", what="inspection")
        self.inspected = Repository(self.store, InspectedUnit, "inspected", what="inspected unit")
        self.gradings = Repository(self.store, Grading, "grading", what="grading")

    def today(self) -> date:
        return self.clock().date()

    def day_of(self, ctx: CommandContext, given: date | None, field: str) -> date:
        """The day a command happened: today, or an earlier day when the platform operator enters what was
        done on paper (a round, a submission, an action from before the service was used). Nobody else
        backdates: a date in the past from them would move a due date or a lateness they are judged by."""
        return paper.day_of(ctx.caller, given, self.today(), field)

    def rules(self, day: date | None = None) -> RuleSet:
        return rules_on(day or self.today(), self.rule_sets)

    async def unit(self, unit_id: str, field: str = "unit_id", what: str = "unit") -> UnitRef:
        """The unit as the service's copy of the directory sees it now (404 if it has not arrived)."""
        found = await self.directory.unit(unit_id)
        if found is None:
            raise NotFound(
                f"{what} {unit_id} is not known to the inspections service", field=field, code="unit.not_found"
            )
        return found

    async def current(self, unit: UnitRef) -> UnitRef:
        """The unit a merged unit's duties passed to (itself when active)."""
        seen = {unit.unit_id}
        while unit.status != "active" and unit.merged_into and unit.merged_into not in seen:
            seen.add(unit.merged_into)
            unit = await self.unit(unit.merged_into)
        return unit

    def evidence_of(self, spec: EvidenceSpec, unit_id: str, field: str) -> Evidence:
        """A command's evidence as the event records it: uploaded files resolved by their SHA-256."""
        files = self.evidence.resolve(list(spec.files), unit_id, f"{field}.files")
        return Evidence(text=spec.text, links=tuple(spec.links), files=files)


def checklist_id(unit_id: str, year: int, period: str) -> str:
    """One checklist per unit, year and period, whichever round issued it."""
    return f"{unit_id}-{year}-{period}"


def inspected_id(inspection_id: str, unit_id: str) -> str:
    return f"{inspection_id}-{unit_id}"


def grading_id(unit_id: str, year: int) -> str:
    return f"{unit_id}-{year}"


def plan_id(unit_id: str, year: int, programme: str) -> str:
    return f"{unit_id}-{year}-{programme}"
