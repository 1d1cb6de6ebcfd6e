"""Commands as accepted over HTTP. Text is NFC and bounded; indicators are checked by the domain so
that a refusal says what is missing, not just which field failed a schema."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.pledges import Direction, Method, Source, Topic
from shared.text import LongText, Name, ShortText

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Id = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=UUID_PATTERN)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")]
Targets = dict[Id, dict[Code, float]]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorSpec(_Command):
    code: Code
    name: Name
    unit_of_measure: ShortText | None = None
    direction: Direction = "at_least"
    method: Method | None = None
    source: Source | None = None
    evidence_required: ShortText | None = None


class LaunchCampaign(_Command):
    unit_id: Id  # the launching unit
    title: Name
    plan_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    pillars: list[Name] = Field(default_factory=list, max_length=20)
    starts_on: date
    ends_on: date
    report_deadlines: list[date] = Field(default_factory=list, max_length=24)
    indicators: list[IndicatorSpec] = Field(max_length=30)
    targets: Targets = Field(default_factory=dict)  # direct child unit id → indicator code → target


class SplitTargets(_Command):
    unit_id: Id  # the unit whose target is split among its direct children
    targets: Targets


class CloseCampaign(_Command):
    results: LongText
    lessons: LongText = ""
    commended: list[Id] = Field(default_factory=list, max_length=500)
    closed_on: date | None = None  # defaults to today


class CommitmentSpec(_Command):
    indicator: Code
    target: float
    deadline: date
    note: ShortText | None = None


class SignPledge(_Command):
    campaign_id: Id
    unit_id: Id
    signed_on: date | None = None
    commitments: list[CommitmentSpec] = Field(max_length=30)
    signatories: list[Id] = Field(max_length=20)  # member ids of the unit's officials


class AmendPledge(_Command):
    reason: LongText
    commitments: list[CommitmentSpec] = Field(max_length=30)


class Register(_Command):
    member_id: Id
    year: int = Field(ge=2000, le=2100)
    target_titles: list[str] = Field(max_length=4)
    topics: list[Topic] = Field(default_factory=list, max_length=20)


class ReportProgress(_Command):
    unit_id: Id
    indicator: Code
    value: float
    evidence: list[ShortText] = Field(max_length=20)
