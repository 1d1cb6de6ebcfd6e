"""Commands as accepted over HTTP. Text is NFC and bounded, every number has a documented range and
floats refuse NaN and ±Infinity; the domain checks what depends on state (which items a checklist has,
whose grade it is) so that a refusal says what is wrong, not only which field failed a schema."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.inspections import Answer, Content, Grade, Period, Programme, SelectionMethod, Severity, UnionType
from shared.evidence import EvidenceFileRef
from shared.text import LongText, Name, ShortText

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Id = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=UUID_PATTERN)]
ItemKey = Annotated[str, StringConstraints(pattern=r"^(commitment|initiative):[A-Za-z0-9._:-]{1,200}$")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://[^\s]+$")]
DocumentNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
IndicatorCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")]
Year = Annotated[int, Field(ge=2000, le=2100, description="A year, 2000 to 2100.")]
Month = Annotated[int, Field(ge=1, le=12, description="A month, 1 to 12.")]
Points = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False, description="Points, 0 to 100, finite.")]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvidenceSpec(_Command):
    """A statement, links, and files uploaded first with ``POST /evidence`` (named by SHA-256)."""

    text: LongText = ""
    links: list[Url] = Field(default_factory=list, max_length=10)
    files: list[EvidenceFileRef] = Field(default_factory=list, max_length=10)


# -- self-inspection -----------------------------------------------------------------------------------


class OpenRound(_Command):
    level_unit_id: Id  # the level whose grassroots unions self-inspect
    year: Year
    period: Period
    title: Name
    due_on: date


class AnswerItem(_Command):
    item: ItemKey
    answer: Answer
    comment: LongText = ""
    evidence: EvidenceSpec = EvidenceSpec()


class SubmitSelfInspection(_Command):
    answers: list[AnswerItem] = Field(default_factory=list, max_length=500)  # with the drafts already saved
    findings: list[LongText] = Field(default_factory=list, max_length=50)


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
    units_planned: int = Field(ge=1, le=20_000)


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
    seed: int | None = Field(default=None, ge=0, le=2**53, description="Random sample seed, 0 to 2^53.")
    size: int | None = Field(default=None, ge=1, le=1000, description="Units to draw, 1 to 1,000.")


class ScheduleInspection(_Command):
    by_unit_id: Id
    purpose: LongText
    content: Content
    period_from: date
    period_to: date
    plan_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    team: list[Id] = Field(max_length=20)  # member ids of officials of the inspecting level
    selection: SelectionSpec = SelectionSpec()
    units: list[Id] = Field(default_factory=list, max_length=1000)  # chosen by hand, or out of a proposal


class IssueNotice(_Command):
    number: DocumentNumber
    issued_on: date
    starts_on: date


class IssueDecision(_Command):
    number: DocumentNumber
    decided_on: date


class RecordFinding(_Command):
    severity: Severity
    description: LongText
    recommendation: LongText = ""
    evidence: EvidenceSpec = EvidenceSpec()


class AssignAction(_Command):
    finding_id: Annotated[str, StringConstraints(max_length=100)]
    description: LongText
    owner: Name
    due_on: date


class ReportFix(_Command):
    description: LongText
    evidence: EvidenceSpec


class VerifyAction(_Command):
    note: LongText = ""


class ReopenAction(_Command):
    reason: LongText
    due_on: date


class ConcludeInspection(_Command):
    conclusion: LongText


# -- grading ---------------------------------------------------------------------------------------------


class SelfGrade(_Command):
    year: Year
    union_type: UnionType
    scores: dict[IndicatorCode, Points] = Field(max_length=50)


class ConfirmGrade(_Command):
    grade: Grade | None = None  # another grade than the points give (with a reason)
    scores: dict[IndicatorCode, Points] | None = Field(default=None, max_length=50)  # the parent's own scoring
    reason: LongText = ""
