"""Commands (imperative), also the bodies of the HTTP routes. Text is cleaned and bounded
(``shared.text``), numbers are bounded (``shared.numbers``); pydantic reports every invalid field of a
request together."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from contracts.registry import Pillar
from shared.numbers import Day, Score, Share, Vnd
from shared.text import LongText, Name, Note, ShortText, UnitPath, text

Title = text(200, min_length=3)
IdeaText = text(10_000, min_length=3, multiline=True)
DecisionNumber = text(100, description="The number of the recognition decision, e.g. 12/QĐ-CĐCS.")
Ref = Annotated[str, Field(min_length=1, max_length=64)]
SHARES_RULE = "The authors' contribution shares (whole percent) must sum to exactly 100."


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthorIn(_Command):
    name: Name
    member_id: Ref | None = None
    share: Share


def _check_shares(authors: list[AuthorIn]) -> list[AuthorIn]:
    total = sum(author.share for author in authors)
    if total != 100:
        raise PydanticCustomError(
            "share_total",
            "the authors' contribution shares must sum to 100 (they sum to {total})",
            {"total": total, "expected": 100},
        )
    return authors


Authors = Annotated[list[AuthorIn], Field(min_length=1, max_length=20, description=SHARES_RULE)]


class SubmitIdea(_Command):
    text: IdeaText
    unit_path: UnitPath | None = None  # default: the caller's unit


class CommentIdea(_Command):
    comment: LongText


class ConvertIdea(_Command):
    title: Title
    authors: Authors

    _shares = field_validator("authors")(_check_shares)


class RegistrationIn(_Command):
    title: Title
    objective: LongText
    steps: LongText
    scope_of_application: LongText
    expected_effectiveness: LongText
    pillar: Pillar
    field: ShortText
    campaign_id: Ref | None = None
    authors: Authors
    estimated_benefit_vnd: Vnd
    first_applied_on: Day

    _shares = field_validator("authors")(_check_shares)


class RegisterInitiative(RegistrationIn):
    unit_path: UnitPath | None = None  # default: the caller's unit
    draft_id: Ref | None = None  # complete a draft made from an idea
    registered_on: Day | None = None  # a registration made on paper (a past day: the platform operator only)


class ScoreInitiative(_Command):
    scorer_name: Name
    novelty: Score
    feasibility: Score
    effectiveness: Score
    influence: Score
    comment: LongText


class RecogniseInitiative(_Command):
    decision_number: DecisionNumber
    decision_date: Day


class RejectInitiative(_Command):
    reasons: LongText


class ReturnInitiative(_Command):
    requests: LongText


class ReportApplication(_Command):
    where: ShortText
    since: Day
    evidence: LongText
    actual_benefit_vnd: Vnd


class AcceptInitiative(_Command):
    actual_benefit_vnd: Vnd
    note: Note = ""


class RequestEscalation(_Command):
    summary: LongText


class ForwardEscalation(_Command):
    note: Note = ""


class ReturnEscalation(_Command):
    reasons: LongText


class OrderReplication(_Command):
    target_paths: Annotated[list[UnitPath], Field(max_length=200)] = []  # empty: the whole subtree
    note: Note = ""


class ReportReplication(_Command):
    unit_path: UnitPath | None = None  # default: the caller's unit
    evidence: LongText
