"""Commands (imperative), also the bodies of the HTTP routes. Text is NFC-normalised and bounded;
pydantic reports every invalid field of a request together."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.registry import Pillar
from shared.text import LongText, Name, ShortText, UnitPath

Vnd = Annotated[int, Field(ge=0, le=10**15)]
Score = Annotated[int, Field(ge=0, le=10)]
Required = Annotated[LongText, Field(min_length=1)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthorIn(_Command):
    name: Name
    member_id: Annotated[str | None, Field(max_length=64)] = None
    share: Annotated[int, Field(ge=1, le=100)]


def _check_shares(authors: list[AuthorIn]) -> list[AuthorIn]:
    total = sum(author.share for author in authors)
    if total != 100:
        raise ValueError(f"the authors' contribution shares must sum to 100 (they sum to {total})")
    return authors


class SubmitIdea(_Command):
    text: Annotated[LongText, Field(min_length=3)]
    unit_path: UnitPath | None = None  # default: the caller's unit


class CommentIdea(_Command):
    comment: Annotated[LongText, Field(min_length=1)]


class ConvertIdea(_Command):
    title: Annotated[Name, Field(min_length=3)]
    authors: Annotated[list[AuthorIn], Field(min_length=1, max_length=20)]

    _shares = field_validator("authors")(_check_shares)


class RegistrationIn(_Command):
    title: Annotated[Name, Field(min_length=3)]
    objective: Required
    steps: Required
    scope_of_application: Required
    expected_effectiveness: Required
    pillar: Pillar
    field: Annotated[ShortText, Field(min_length=1)]
    campaign_id: Annotated[str | None, Field(max_length=64)] = None
    authors: Annotated[list[AuthorIn], Field(min_length=1, max_length=20)]
    estimated_benefit_vnd: Vnd
    first_applied_on: date

    _shares = field_validator("authors")(_check_shares)


class RegisterInitiative(RegistrationIn):
    unit_path: UnitPath | None = None  # default: the caller's unit
    draft_id: Annotated[str | None, Field(max_length=64)] = None  # complete a draft made from an idea


class ScoreInitiative(_Command):
    scorer_name: Name
    novelty: Score
    feasibility: Score
    effectiveness: Score
    influence: Score
    comment: Annotated[LongText, Field(min_length=1)]


class RecogniseInitiative(_Command):
    decision_number: Annotated[ShortText, Field(min_length=1, max_length=100)]
    decision_date: date


class RejectInitiative(_Command):
    reasons: Annotated[LongText, Field(min_length=1)]


class ReturnInitiative(_Command):
    requests: Annotated[LongText, Field(min_length=1)]


class ReportApplication(_Command):
    where: Annotated[ShortText, Field(min_length=1)]
    since: date
    evidence: Annotated[LongText, Field(min_length=1)]
    actual_benefit_vnd: Vnd


class AcceptInitiative(_Command):
    actual_benefit_vnd: Vnd
    note: LongText = ""


class RequestEscalation(_Command):
    summary: Annotated[LongText, Field(min_length=1)]


class ForwardEscalation(_Command):
    note: LongText = ""


class ReturnEscalation(_Command):
    reasons: Annotated[LongText, Field(min_length=1)]


class OrderReplication(_Command):
    target_paths: Annotated[list[UnitPath], Field(max_length=200)] = []  # empty: the whole subtree
    note: LongText = ""


class ReportReplication(_Command):
    unit_path: UnitPath | None = None  # default: the caller's unit
    evidence: Annotated[LongText, Field(min_length=1)]
