"""Commands as accepted over HTTP. Text is cleaned and bounded (``shared.text``), numbers and days are
bounded (``shared.numbers``: finite, in a documented range); the domain checks what depends on state
(which items a checklist has, whose grade it is) so that a refusal says what is wrong, not only which
field failed a schema."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from contracts.inspections import Answer, Content, Grade, Period, Programme, SelectionMethod, Severity, UnionType
from shared.evidence import EvidenceFileRef
from shared.numbers import Day, Year
from shared.text import LongText, Name, Note, ShortText, text

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Id = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=UUID_PATTERN)]
# A directory member id (UUIDs from the directory; any id of letters, digits, "-" and "_" is accepted).
MemberId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ItemKey = Annotated[str, StringConstraints(pattern=r"^(commitment|initiative):[A-Za-z0-9._:-]{1,200}$")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://[^\s]+$")]
DocumentNumber = text(60, description="The number of a notice or decision, e.g. 05/TB-UBKT.")
IndicatorCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")]
Month = Annotated[int, Strict(), Field(ge=1, le=12, description="A month, 1 to 12.")]
Points = Annotated[
    float, Strict(), Field(ge=0, le=100, allow_inf_nan=False, description="An indicator's points, 0 to 100.")
]
Seed = Annotated[int, Strict(), Field(ge=0, le=2**53, description="A random sample's seed, 0 to 2^53.")]
SampleSize = Annotated[int, Strict(), Field(ge=1, le=1000, description="Units to draw, 1 to 1,000.")]
PlannedUnits = Annotated[int, Strict(), Field(ge=1, le=20_000, description="Units planned, 1 to 20,000.")]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvidenceSpec(_Command):
    """A statement, links, and files uploaded first with ``POST /evidence`` (named by SHA-256)."""

    text: Note = ""
    links: list[Url] = Field(default_factory=list, max_length=10)
    files: list[EvidenceFileRef] = Field(default_factory=list, max_length=10)


# -- self-inspection -----------------------------------------------------------------------------------


class OpenRound(_Command):
    level_unit_id: Id  # the level whose grassroots unions self-inspect
    year: Year
    period: Period
    title: Name
    due_on: Day
    # The day the round opened when it is entered from paper records (the platform operator only); today else.
    opened_on: Day | None = None


class AnswerItem(_Command):
    item: ItemKey
    answer: Answer
    comment: Note = ""
    evidence: EvidenceSpec = EvidenceSpec()


class SubmitSelfInspection(_Command):
    answers: list[AnswerItem] = Field(default_factory=list, max_length=500)  # with the drafts already saved
    findings: list[LongText] = Field(default_factory=list, max_length=50)
    # The day it was submitted on paper, when entered later (the platform operator only); today else.
    submitted_on: Day | None = None


class AmendSelfInspection(_Command):
    reason: LongText
    answers: list[AnswerItem] = Field(default_factory=list, max_length=500)
    findings: list[LongText] | None = Field(default=None, max_length=50)


class CloseRound(_Command):
    summary: LongText


# -- upper-level inspections ---------------------------------------------------------------------------


class PlannedSpec(_Command):
    content: Content
    purpose: ShortText
    from_month: Month
    to_month: Month
    units_planned: PlannedUnits


class AdoptPlan(_Command):
    unit_id: Id
    year: Year
    programme: Programme
    title: Name
    items: list[PlannedSpec] = Field(max_length=50)


class RevisePlan(_Command):
    title: Name
    items: list[PlannedSpec] = Field(max_length=50)
    reason: LongText


class SelectionSpec(_Command):
    """By hand (``units``), a reproducible random sample (``seed``, ``size``) or the riskiest (``size``)."""

    method: SelectionMethod = "manual"
    seed: Seed | None = None
    size: SampleSize | None = None


class ScheduleInspection(_Command):
    by_unit_id: Id
    purpose: LongText
    content: Content
    period_from: Day
    period_to: Day
    plan_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    team: list[MemberId] = Field(max_length=20)  # member ids of officials of the inspecting level
    selection: SelectionSpec = SelectionSpec()
    units: list[Id] = Field(default_factory=list, max_length=1000)  # chosen by hand, or out of a proposal


class IssueNotice(_Command):
    number: DocumentNumber
    issued_on: Day
    starts_on: Day


class IssueDecision(_Command):
    number: DocumentNumber
    decided_on: Day


class RecordFinding(_Command):
    severity: Severity
    description: LongText
    recommendation: Note = ""
    evidence: EvidenceSpec = EvidenceSpec()


class AssignAction(_Command):
    finding_id: Annotated[str, StringConstraints(max_length=100)]
    description: LongText
    owner: Name
    due_on: Day
    # The day it was assigned on paper, when entered later (the platform operator only); today else.
    assigned_on: Day | None = None


class ReportFix(_Command):
    description: LongText
    evidence: EvidenceSpec


class VerifyAction(_Command):
    note: Note = ""


class ReopenAction(_Command):
    reason: LongText
    due_on: Day


class ConcludeInspection(_Command):
    conclusion: LongText


# -- grading ---------------------------------------------------------------------------------------------


class SelfGrade(_Command):
    unit_id: Id  # the grassroots union grading itself
    year: Year
    union_type: UnionType
    scores: dict[IndicatorCode, Points] = Field(max_length=50)
    # When the union started operating, by its founding decision, for a union older than the directory's
    # record of it (the directory knows it from its registration on the platform): the platform operator
    # only. The months are counted from the earlier of the two.
    founded_on: Day | None = None


class ConfirmGrade(_Command):
    grade: Grade | None = None  # another grade than the points give (with a reason)
    scores: dict[IndicatorCode, Points] | None = Field(default=None, max_length=50)  # the parent's own scoring
    reason: Note = ""
