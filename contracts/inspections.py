"""Events the inspections service publishes.

Each is stored on its aggregate's stream and published on the path of the unit it is about: a round's
opening and closing on the level that runs it (a broadcast to its subtree), a checklist and everything
answered in it on its grassroots union's path, an inspection's schedule, notice, decision and conclusion
on the inspecting level's path, the findings and corrective actions of one inspected unit on that unit's
path (so they travel with it when it moves), a grade on the graded unit's path.

Consumers: the awards service reads ``GradeConfirmed`` (the latest revision of a unit's grade for a year
is the one in force) for collective awards. Rule-set versions (``rule_set``) name the rules that judged a
grade, a sample or a round (``services/inspections/domain/rulesets.py``).
"""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.events import Event, event
from shared.evidence import EvidenceFile

Period = Literal["half_year", "year"]  # the half-year review (sơ kết 6 tháng) or the full year
Answer = Literal["done", "partly", "not_done"]
ContradictionCode = Literal["done_below_target", "applied_without_application"]
# What an upper-level inspection examines (QĐ 684/QĐ-TLĐ's procedures that apply to a lower unit).
Content = Literal["charter_compliance", "pledge_fulfilment", "finance", "signs_of_violation"]
Programme = Literal["year", "first_half", "second_half"]
SelectionMethod = Literal["manual", "random", "risk"]
Severity = Literal["minor", "moderate", "serious"]
UnionType = Literal["enterprise", "public_sector"]
# hoàn thành xuất sắc / hoàn thành tốt / hoàn thành / không hoàn thành nhiệm vụ (HD 1294/HD-TLĐ)
Grade = Literal["excellent", "good", "completed", "not_completed"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Evidence(_Part):
    """What backs an answer, a finding or a fix: a statement, links, and uploaded files (by SHA-256)."""

    text: str = ""
    links: tuple[str, ...] = ()
    files: tuple[EvidenceFile, ...] = ()


# -- self-inspection ---------------------------------------------------------------------------------


class CommitmentItem(_Part):
    """A pledge commitment as the facts stood when the checklist was issued."""

    key: str  # "commitment:<campaign id>:<indicator code>"
    campaign_id: str
    campaign_title: str
    indicator: str
    indicator_name: str
    unit_of_measure: str
    direction: Literal["at_least", "at_most"]
    method: Literal["counted", "reported"]
    target: float
    deadline: date
    measured: float  # the unit's measured value (its whole subtree) when issued


class InitiativeItem(_Part):
    """An initiative the unit's members registered, as the registry's events stood when issued."""

    key: str  # "initiative:<initiative id>"
    initiative_id: str
    title: str
    status: str
    registered_on: date | None
    applied_on: date | None


class AnsweredItem(_Part):
    item: str  # the item's key
    answer: Answer
    comment: str = ""
    evidence: Evidence = Evidence()


class Contradiction(_Part):
    """A self-assessment the facts contradict, with the facts as they were when it was made."""

    item: str
    code: ContradictionCode
    message: str
    measured: float | None = None
    target: float | None = None


@event
class SelfInspectionRoundOpened(Event):
    """Published on the level's path: every level below it keeps it (its checklists follow)."""

    unit_field = "level_unit_id"
    broadcast = True

    round_id: str
    level_unit_id: str
    level_path: str
    year: int
    period: Period
    title: str
    opened_on: date
    due_on: date
    unit_count: int  # checklists issued (one per active grassroots union of the subtree)
    rule_set: str
    opened_by: str


@event
class ChecklistIssued(Event):
    """One grassroots union's checklist, pre-filled from the facts."""

    round_id: str
    unit_id: str
    level_path: str
    year: int
    period: Period
    due_on: date
    commitments: tuple[CommitmentItem, ...]
    initiatives: tuple[InitiativeItem, ...]


@event
class ChecklistItemAnswered(Event):
    """A draft answer; the unit sees any contradiction with the facts before it submits."""

    round_id: str
    unit_id: str
    answer: AnsweredItem
    contradiction: Contradiction | None = None
    answered_by: str


@event
class SelfInspectionSubmitted(Event):
    round_id: str
    unit_id: str
    submitted_at: datetime
    days_late: int  # whole days after the due date (0: on time)
    answers: tuple[AnsweredItem, ...]
    findings: tuple[str, ...]
    contradictions: tuple[Contradiction, ...]
    submitted_by: str


@event
class SelfInspectionAmended(Event):
    """A change after submission, with its reason; the submission and earlier amendments stay."""

    round_id: str
    unit_id: str
    amendment: int  # 1 for the first amendment
    reason: str
    answers: tuple[AnsweredItem, ...]
    findings: tuple[str, ...]
    contradictions: tuple[Contradiction, ...]
    amended_by: str


@event
class SelfInspectionOverdue(Event):
    """Not submitted by the due date: recorded once per unit and round."""

    round_id: str
    unit_id: str
    due_on: date
    detected_at: datetime
    days_late: int


@event
class ChecklistWithdrawn(Event):
    """The unit merged into another while the round was open: its checklist is closed, not overdue."""

    round_id: str
    unit_id: str
    merged_into_unit_id: str
    withdrawn_at: datetime


@event
class SelfInspectionRoundClosed(Event):
    unit_field = "level_unit_id"
    broadcast = True

    round_id: str
    level_unit_id: str
    closed_on: date
    summary: str
    submitted: int
    overdue: int
    closed_by: str


# -- upper-level inspections -------------------------------------------------------------------------


class PlannedInspection(_Part):
    content: Content
    purpose: str
    from_month: int
    to_month: int
    units_planned: int


@event
class InspectionPlanAdopted(Event):
    """A level's inspection committee's yearly plan or half-year programme; a revision replaces it."""

    plan_id: str
    unit_id: str
    unit_path: str
    year: int
    programme: Programme
    title: str
    items: tuple[PlannedInspection, ...]
    revision: int  # 1 when adopted
    reason: str = ""  # why it was revised
    adopted_by: str


class SelectedUnit(_Part):
    unit_id: str
    path: str  # where it sat when selected
    reasons: tuple[str, ...] = ()  # why a risk-based sample proposed it


class Selection(_Part):
    """How the units were chosen: by hand, by a reproducible random sample (seed recorded), or by risk."""

    method: SelectionMethod
    seed: int | None = None
    population: int = 0  # units the sample was drawn from
    population_digest: str | None = None  # SHA-256 of the sorted unit ids drawn from
    rule_set: str | None = None  # the radar's rules that scored a risk-based proposal


class TeamMember(_Part):
    member_id: str
    full_name: str
    role: str


@event
class InspectionScheduled(Event):
    """Published on the inspecting level's path: every level below it keeps it (their units are inspected)."""

    unit_field = "by_unit_id"
    broadcast = True

    inspection_id: str
    by_unit_id: str
    by_path: str
    plan_id: str | None
    purpose: str
    content: Content
    period_from: date
    period_to: date
    units: tuple[SelectedUnit, ...]
    team: tuple[TeamMember, ...]
    selection: Selection
    scheduled_by: str


@event
class InspectionNoticeIssued(Event):
    """The notice (thông báo kiểm tra) announcing the inspection to the units."""

    inspection_id: str
    number: str
    issued_on: date
    starts_on: date
    issued_by: str


@event
class InspectionDecisionIssued(Event):
    """The decision (quyết định kiểm tra): from here the team records findings."""

    inspection_id: str
    number: str
    decided_on: date
    issued_by: str


@event
class FindingRecorded(Event):
    inspection_id: str
    unit_id: str
    finding_id: str
    by_path: str
    severity: Severity
    description: str
    recommendation: str  # kiến nghị
    evidence: Evidence
    recorded_by: str


@event
class CorrectiveActionAssigned(Event):
    inspection_id: str
    unit_id: str
    action_id: str
    finding_id: str
    by_path: str
    description: str
    owner: str  # who at the unit answers for it
    due_on: date
    assigned_by: str


@event
class CorrectiveActionFixReported(Event):
    inspection_id: str
    unit_id: str
    action_id: str
    description: str
    evidence: Evidence
    reported_on: date
    reported_by: str


@event
class CorrectiveActionVerified(Event):
    inspection_id: str
    unit_id: str
    action_id: str
    by_path: str
    note: str
    verified_on: date
    verified_by: str


@event
class CorrectiveActionReopened(Event):
    inspection_id: str
    unit_id: str
    action_id: str
    by_path: str
    reason: str
    due_on: date  # the new due date
    reopened_by: str


@event
class InspectionConcluded(Event):
    inspection_id: str
    concluded_on: date
    conclusion: str
    concluded_by: str


# -- yearly grading ----------------------------------------------------------------------------------


class IndicatorScore(_Part):
    indicator: str
    points: float


@event
class SelfGraded(Event):
    """The grassroots union's own scoring for the year (a new revision replaces an earlier one)."""

    unit_id: str
    unit_path: str
    year: int
    union_type: UnionType
    scores: tuple[IndicatorScore, ...]
    group_points: dict[str, float]
    points: float
    grade: Grade
    rule_set: str
    revision: int
    graded_by: str
    founded_on: date | None = None  # the founding date the operator declared, when older than the directory's


@event
class GradeConfirmed(Event):
    """The parent level's confirmation (thẩm định) — or change, with a reason — of a unit's yearly grade.

    Published to the unit's members. A later revision (``revision`` > 1) replaces the earlier one.
    """

    unit_id: str
    unit_path: str
    year: int
    grade: Grade
    points: float
    rule_set: str
    self_grade: Grade
    changed: bool  # the parent gave another grade than the unit's own
    reason: str = ""
    revision: int
    by_unit_id: str
    by_path: str
    confirmed_by: str
