"""The pledges service's events (its contract): campaigns, targets, pledges, registrations, progress.

Each is stored on its aggregate's stream and published on the path of the unit it is
about: a launch or a close on the launching level's path (a broadcast to its subtree), a target on the
path of the unit it is assigned to (so the target travels with the unit's history when it moves), a
pledge, registration, report or reminder on its unit's path.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.events import Event, event

Direction = Literal["at_least", "at_most"]
Method = Literal["counted", "reported"]
# What a counted indicator counts: events of the registry (initiatives) and the directory (members), each on
# its own day (a paper registration's ``registered_on``, an application's ``since``; else the day it happened).
Source = Literal[
    "initiatives_registered",
    "initiatives_recognised",
    "initiatives_applied",
    "initiatives_accepted",
    "members_enrolled",
]
ReminderKind = Literal["report_due_soon", "report_overdue", "commitment_due_soon", "campaign_close_overdue"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Indicator(_Part):
    """A measurable indicator (chỉ tiêu): how it is measured and what evidence proves a reported value."""

    code: str
    name: str
    unit_of_measure: str
    direction: Direction
    method: Method
    source: Source | None = None  # counted indicators
    evidence_required: str | None = None  # reported indicators


class Commitment(_Part):
    indicator: str
    target: float
    deadline: date
    note: str | None = None


class Signatory(_Part):
    member_id: str
    full_name: str
    role: str


class Topic(_Part):
    title: str
    kind: Literal["topic", "initiative"] = "topic"


@event
class CampaignLaunched(Event):
    unit_field = "launcher_unit_id"  # a broadcast on the launcher's path: every level below keeps it
    broadcast = True

    campaign_id: str
    launcher_unit_id: str
    launcher_path: str
    title: str
    plan_number: str
    pillars: tuple[str, ...]
    starts_on: date
    ends_on: date
    report_deadlines: tuple[date, ...]
    indicators: tuple[Indicator, ...]


@event
class TargetAssigned(Event):
    """The target of one unit, set by its parent (or the launcher) — a cascade is one of these per child."""

    campaign_id: str
    unit_id: str
    by_unit_id: str
    targets: dict[str, float]


@event
class CampaignClosed(Event):
    """The closing review (tổng kết): results, lessons, units to commend."""

    broadcast = True

    campaign_id: str
    closed_on: date
    results: str
    lessons: str
    commended_unit_ids: tuple[str, ...] = ()


@event
class PledgeSigned(Event):
    pledge_id: str
    campaign_id: str
    unit_id: str
    signed_on: date
    commitments: tuple[Commitment, ...]
    signatories: tuple[Signatory, ...]


@event
class PledgeAmended(Event):
    """A new version of the pledge; the earlier versions stay in the stream."""

    pledge_id: str
    campaign_id: str
    unit_id: str
    amendment: int  # the pledge's new version number (the signed pledge is version 1)
    reason: str
    commitments: tuple[Commitment, ...]


@event
class RegistrationSubmitted(Event):
    """A member's registration for the year: titles aimed at and topics or initiatives to deliver."""

    registration_id: str
    member_id: str
    unit_id: str
    year: int
    target_titles: tuple[str, ...]
    topics: tuple[Topic, ...]


@event
class ProgressReported(Event):
    """A reported indicator's value now, with its evidence; ``delta`` is the change since the last report."""

    campaign_id: str
    unit_id: str
    indicator: str
    value: float
    delta: float
    evidence: tuple[str, ...]
    reported_at: datetime


@event
class ReminderIssued(Event):
    campaign_id: str
    unit_id: str
    kind: ReminderKind
    deadline: date
    issued_at: datetime
    message: str
