"""The registry's events (its contract): ideas, initiatives, escalation and replication.

Each is stored on its idea's or initiative's stream and published on the path of the
unit the initiative belongs to, except the replication events, which are broadcasts: an order goes out on
the path of the level that issues it, a report on the path of the unit that applied it (DESIGN §3).

Every initiative event carries ``initiative_id`` and ``unit_id`` (the directory unit of the initiative):
the pledges service counts progress from them.
"""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.events import Event, event

Pillar = Literal["doi_moi", "sang_tao", "hieu_qua"]  # đổi mới / sáng tạo / hiệu quả
Scope = Literal["grassroots", "upper_level", "city", "national"]


class Author(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    member_id: str | None = None
    share: int  # % contribution; the shares of an initiative sum to 100


class Registration(BaseModel):
    """The registration form (seed 003 §III.2, Nghị định 13/2012): everything a reviewer reads."""

    model_config = ConfigDict(frozen=True)

    title: str
    objective: str
    steps: str
    scope_of_application: str
    expected_effectiveness: str
    pillar: Pillar
    field: str
    campaign_id: str | None = None
    authors: tuple[Author, ...]
    estimated_benefit_vnd: int
    first_applied_on: date


class PossibleDuplicate(BaseModel):
    model_config = ConfigDict(frozen=True)

    initiative_id: str
    unit_id: str
    title: str
    score: float  # 0..1
    other_unit: bool  # a near-copy from another unit is flagged


# -- ideas ------------------------------------------------------------------------------------------


@event
class IdeaSubmitted(Event):
    idea_id: str
    unit_id: str
    text: str
    submitted_by: str


@event
class IdeaClaimed(Event):
    idea_id: str
    unit_id: str
    mentor: str


@event
class IdeaCommented(Event):
    idea_id: str
    unit_id: str
    by: str
    comment: str


@event
class IdeaConverted(Event):
    idea_id: str
    unit_id: str
    initiative_id: str
    by: str


# -- initiatives ------------------------------------------------------------------------------------


@event
class InitiativeDrafted(Event):
    """An incubator mentor turned an idea into a draft with its author(s)."""

    initiative_id: str
    unit_id: str
    idea_id: str | None
    title: str
    authors: tuple[Author, ...]
    drafted_by: str


@event
class InitiativeRegistered(Event):
    initiative_id: str
    unit_id: str
    campaign_id: str | None
    registration: Registration
    registered_by: str
    possible_duplicates: tuple[PossibleDuplicate, ...] = ()
    # The day of a registration made on paper and entered later by the platform operator; None: the day
    # of the event. Where a registration's day matters (a year's count, the days before a deadline).
    registered_on: date | None = None


@event
class InitiativeRevised(Event):
    """The authors answered a return with a revised registration; it goes back to review."""

    initiative_id: str
    unit_id: str
    registration: Registration
    revised_by: str
    possible_duplicates: tuple[PossibleDuplicate, ...] = ()


@event
class InitiativeScored(Event):
    """One council member's scores (0–10 per criterion) with a comment."""

    initiative_id: str
    unit_id: str
    scorer: str
    scorer_name: str
    novelty: int
    feasibility: int
    effectiveness: int
    influence: int
    comment: str


@event
class InitiativeRecognised(Event):
    initiative_id: str
    unit_id: str
    scope: Scope
    by_unit_id: str
    by_unit_path: str
    decision_number: str
    decision_date: date
    decided_by: str


@event
class InitiativeRejected(Event):
    initiative_id: str
    unit_id: str
    by_unit_path: str
    reasons: str
    decided_by: str


@event
class InitiativeReturned(Event):
    """Returned to the authors for revision with the reviewers' requests."""

    initiative_id: str
    unit_id: str
    by_unit_path: str
    requests: str
    decided_by: str


@event
class InitiativeApplied(Event):
    initiative_id: str
    unit_id: str
    where: str
    since: date
    evidence: str
    actual_benefit_vnd: int
    reported_by: str


@event
class InitiativeAccepted(Event):
    """Acceptance (nghiệm thu) by the unit that recognised it at grassroots level."""

    initiative_id: str
    unit_id: str
    by_unit_path: str
    actual_benefit_vnd: int
    note: str
    decided_by: str


@event
class EscalationRequested(Event):
    """Addressed to the parent of the level that recognised the initiative last."""

    initiative_id: str
    unit_id: str
    from_unit_id: str
    from_path: str
    to_unit_id: str
    to_path: str
    summary: str
    requested_by: str


@event
class EscalationForwarded(Event):
    initiative_id: str
    unit_id: str
    from_unit_id: str
    from_path: str
    to_unit_id: str
    to_path: str
    note: str
    decided_by: str


@event
class EscalationReturned(Event):
    initiative_id: str
    unit_id: str
    by_unit_id: str
    by_path: str
    reasons: str
    decided_by: str


@event
class EscalationReaddressed(Event):
    """The tree changed under a waiting request (its unit moved, a level merged): the level it waited at
    is no longer above the initiative's unit. It now waits at the unit of the same rank in the unit's new
    chain (``to_*``), or, if there is none, it is back with the level that sent it (``to_*`` empty)."""

    initiative_id: str
    unit_id: str
    from_unit_id: str
    to_unit_id: str | None
    to_path: str | None
    reason: str


@event
class ReplicationOrdered(Event):
    """A level orders replication in some (``target_paths``) or all (empty) units of its subtree.

    It carries the book entry's summary: the receiving levels may never have seen the initiative.
    """

    unit_field = "by_unit_id"  # published on the ordering level's path, for every level below it
    broadcast = True

    initiative_id: str
    unit_id: str
    by_unit_id: str
    by_unit_path: str
    target_paths: tuple[str, ...]
    origin_unit_path: str
    title: str
    pillar: Pillar
    scope: Scope
    benefit_vnd: int
    note: str
    ordered_by: str


@event
class ReplicationApplied(Event):
    """Published on the path of the unit that applied it (the initiative's own unit may be elsewhere)."""

    unit_field = "applying_unit_id"

    initiative_id: str
    unit_id: str
    applying_unit_id: str
    applying_unit_path: str
    evidence: str
    reported_by: str
