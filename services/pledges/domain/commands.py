"""Commands as accepted over HTTP. Text is cleaned and bounded (``shared.text``), numbers and days are
bounded (``shared.numbers``); indicators are checked by the domain so that a refusal says what is
missing, not just which field failed a schema."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.pledges import Direction, Method, Source, Topic
from shared.numbers import Day, Quantity, Year
from shared.text import LongText, Name, Note, ShortText, text

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Id = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=UUID_PATTERN)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")]
PlanNumber = text(60, description="The number of the launching plan, e.g. 18/KH-LĐLĐ.")
# direct child unit id → indicator code → target
Targets = Annotated[dict[Id, Annotated[dict[Code, Quantity], Field(max_length=30)]], Field(max_length=500)]


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
    plan_number: PlanNumber
    pillars: list[Name] = Field(default_factory=list, max_length=20)
    starts_on: Day
    ends_on: Day
    report_deadlines: list[Day] = Field(default_factory=list, max_length=24)
    indicators: list[IndicatorSpec] = Field(max_length=30)
    targets: Targets = Field(default_factory=dict)


class SplitTargets(_Command):
    unit_id: Id  # the unit whose target is split among its direct children
    targets: Targets


class CloseCampaign(_Command):
    results: LongText
    lessons: Note = ""
    commended: list[Id] = Field(default_factory=list, max_length=500)
    closed_on: Day | None = None  # defaults to today


class CommitmentSpec(_Command):
    indicator: Code
    target: Quantity
    deadline: Day
    note: ShortText | None = None


class SignPledge(_Command):
    campaign_id: Id
    unit_id: Id
    signed_on: Day | None = None
    commitments: list[CommitmentSpec] = Field(max_length=30)
    signatories: list[Id] = Field(max_length=20)  # member ids of the unit's officials


class AmendPledge(_Command):
    reason: LongText
    commitments: list[CommitmentSpec] = Field(max_length=30)


class TopicIn(Topic):
    """A topic as a member types it (the event's ``Topic`` with its title cleaned and bounded)."""

    title: Name


class Register(_Command):
    member_id: Id
    year: Year
    target_titles: list[Name] = Field(max_length=4)
    topics: list[TopicIn] = Field(default_factory=list, max_length=20)


class ReportProgress(_Command):
    unit_id: Id
    indicator: Code
    value: Quantity
    evidence: list[ShortText] = Field(max_length=20)
    reported_on: Day | None = None  # a report made on paper (a past day: the platform operator only)
