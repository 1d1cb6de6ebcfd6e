"""Commands (imperative), also the bodies of the HTTP routes. Every text is the shared hardened text type;
every number has a documented range; pydantic reports every invalid field of a request together."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from contracts.awards import RevocationReason, RuleSetData
from shared.evidence import EvidenceFileRef
from shared.numbers import Count, Day, Vnd, Year
from shared.text import LongText, Name, ShortText, UnitPath, text

Code = text(40, description="A catalogue code, e.g. cstd_cs")
Identifier = text(64, description="An identifier given by the platform")
Number = text(60, description="A document's number and code, e.g. 07/TTr-CĐCS")
Ids = Annotated[list[Identifier], Field(min_length=1, max_length=500)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceIn(_Command):
    kind: Literal["effect_certificate", "recognition_decision", "appraisal", "attestation", "other"]
    label: ShortText | None = None
    file: EvidenceFileRef


class NomineeIn(_Command):
    kind: Literal["individual", "collective"]
    member_id: Identifier | None = None  # an individual: the member
    unit_path: UnitPath | None = None  # a collective: the unit

    @model_validator(mode="after")
    def _one(self) -> "NomineeIn":
        if self.kind == "individual" and not self.member_id:
            raise ValueError("an individual nominee needs member_id")
        if self.kind == "collective" and not self.unit_path:
            raise ValueError("a collective nominee needs unit_path")
        return self


class AchievementIn(_Command):
    kind: Literal["initiative", "campaign", "year"]
    ref: Identifier
    summary: LongText


class FileProposal(_Command):
    unit_path: UnitPath | None = None  # the proposing unit; default: the caller's
    nominee: NomineeIn
    award_code: Code
    year: Year
    campaign_id: Identifier | None = None
    achievement: AchievementIn
    summary: LongText
    evidence: Annotated[list[EvidenceIn], Field(max_length=20)] = []
    attested: Annotated[list[Code], Field(max_length=20)] = []
    justification: LongText | None = None


class Justify(_Command):
    justification: LongText


class Publicise(_Command):
    proposal_ids: Ids
    opens_on: Day | None = None  # default: today (never before today)


class Object(_Command):
    text: LongText


class AnswerObjection(_Command):
    answer: LongText
    upheld: bool


class MeetingIn(_Command):
    minutes_number: Number
    held_on: Day
    place: Name
    chair: Name
    secretary: Name
    members_total: Annotated[int, Field(strict=True, ge=1, le=200, description="Council members, 1 to 200.")]
    members_present: Annotated[int, Field(strict=True, ge=0, le=200, description="Members present, 0 to 200.")]


class VoteIn(_Command):
    proposal_id: Identifier
    votes_for: Count
    votes_against: Count
    votes_abstain: Count


class RecordVote(_Command):
    meeting: MeetingIn
    votes: Annotated[list[VoteIn], Field(min_length=1, max_length=500)]


class Escalate(_Command):
    proposal_ids: Ids
    submission_number: Number
    submitted_on: Day | None = None


class Return(_Command):
    reasons: LongText


class Withdraw(_Command):
    reason: LongText


def _signature_lines(value: str) -> str:
    lines = [line.strip() for line in value.split("\n") if line.strip()]
    if len(lines) > SIGNER_TITLE_LINES:
        raise PydanticCustomError(
            "too_many_lines",
            "a signer's title has at most {max_lines} lines (e.g. TM. BAN THƯỜNG VỤ / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH)",
            {"max_lines": SIGNER_TITLE_LINES},
        )
    return "\n".join(lines)


# The signature block's title as Decree 30/2020 lays it out, one line per part: "TM. BAN THƯỜNG VỤ" (on
# behalf of the body), "KT. CHỦ TỊCH" (signing for the chair), then the signer's own title. A single line
# could not say who signs for whom; the documents print each line centred above the name.
SIGNER_TITLE_LINES = 3
SignerTitle = Annotated[
    text(200, multiline=True, description="Up to three lines, e.g. TM. BAN THƯỜNG VỤ / PHÓ CHỦ TỊCH."),
    AfterValidator(_signature_lines),
]


class Decide(_Command):
    proposal_ids: Ids
    decision_number: Number
    decided_on: Day
    deciding_body: Name | None = None  # default: the level's body (the employer or the state for state titles)
    signer_name: Name
    signer_title: SignerTitle


class Reject(_Command):
    reasons: LongText


class Revoke(_Command):
    reason: RevocationReason
    explanation: LongText
    decision_number: Number
    decided_on: Day
    signer_name: Name
    signer_title: SignerTitle


class AllocateQuota(_Command):
    unit_path: UnitPath  # a direct child of the caller's level
    year: Year
    award_code: Code
    count: Count


class RecordPastAward(_Command):
    nominee: NomineeIn
    award_code: Code
    year: Year
    decision_number: Number
    decided_on: Day
    deciding_body: Name


class PublishRuleSet(_Command):
    rule_set: RuleSetData


class SetBaseSalary(_Command):
    effective_from: Day
    amount_vnd: Vnd
    source: ShortText


class DeclareHolidays(_Command):
    year: Year
    days_off: Annotated[list[Day], Field(max_length=60)]
    working_weekend_days: Annotated[list[Day], Field(max_length=20)] = []
    source: ShortText
