"""Awards events: what the awards service publishes (decision 2 of the briefing).

Every proposal event is stored on the proposal's stream and published on the path of the unit that
proposed it (DESIGN §3): the proposing unit's levels and every ancestor see it, so a decision taken at
the city flows back down without being addressed downward. Quota events are on the path of the unit
whose quota it is; rule-book events (rule sets, the base salary, the holiday calendar) on the path of
the level that publishes them (a broadcast).

Rule sets are data (``RuleSetData``): the catalogue of titles and forms, their criteria, vote
thresholds, publicity periods, dossier pieces, default quotas and amounts as multiples of the base
salary. A rule set belongs to a *family* (``state`` titles, ``union`` forms, a ``movement``'s thematic
awards) and is in force from its ``effective_from``; every eligibility and decision records the
version that judged it.

Personal data: an event names the nominee (name, unit) and says whether they held an official role
when the proposal was filed and decided (the formalism radar's signal); nothing else about them.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Event, event
from shared.evidence import EvidenceFile
from shared.text import text

Track = Literal["union", "state"]  # union awards decided by union bodies; state titles by the employer/state
NomineeKind = Literal["individual", "collective"]
Category = Literal["overall", "thematic"]  # toàn diện / chuyên đề (one per nominee, level and year)
LevelKind = Literal["grassroots", "upper_level", "city", "national"]
Outcome = Literal["met", "not_met", "unknown"]
DeciderKind = Literal["union_body", "employer_head", "state_authority"]
RevocationReason = Literal["false_claims", "forged_evidence", "unlawful_approval", "standard_not_met"]
NoticeOutcome = Literal["conferred", "rejected", "returned", "revoked"]
Scope = Literal["grassroots", "upper_level", "city", "national"]
DossierPiece = Literal[
    "submission_letter",  # tờ trình (TTr) with the list of nominees
    "achievement_summary",  # báo cáo tóm tắt thành tích
    "initiative_summary",  # báo cáo tóm tắt sáng kiến
    "recognition_decision",  # quyết định công nhận sáng kiến
    "minutes_extract",  # trích biên bản họp và kết quả bỏ phiếu (BB)
    "effect_certificate",  # giấy xác nhận hiệu quả áp dụng, phạm vi ảnh hưởng (NĐ 152/2025 Mẫu 13)
]
CheckKind = Literal[
    "initiative",  # recognised at a scope, applied / accepted, within some years
    "title_streak",  # consecutive years holding one of some titles
    "grade",  # the unit's yearly union grade
    "pledge_signed",  # the unit signed a pledge (of the campaign, or in the year)
    "pledge_fulfilment",  # the pledge's fulfilment rate
    "member_title_share",  # share of a collective's members holding some titles
    "member_title_count",  # number of a collective's members holding some titles
    "attested",  # not in the facts: the proposer attests it, with an evidence file
]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# The rule book's texts, as an official publishes them (``POST /rulebook/rule-sets``): the shared hardened
# text (NFC, invisible characters removed, never blank), bounded well above the built-in catalogue's longest.
RuleCode = text(40, description="A code of the catalogue (award, criterion, title, grade), e.g. cstd_cs")
RuleText = text(300, description="A name, label or title of the rule book, in Vietnamese")
RuleForm = text(100, description="The form as agencies report it, e.g. Bằng khen")
RuleSource = text(300, description="A legal source of the rule set")
RuleVersion = text(60, description="A rule set's version, e.g. state@2025-07-01")
OptionalBody = text(300, empty_ok=True, description="The deciding body outside the platform; empty when none")


# -- the rule book ------------------------------------------------------------------------------------


class CriterionRule(_Part):
    """One criterion of an award: a check (code) with its parameters (data)."""

    code: RuleCode
    label: RuleText  # Vietnamese, shown on the review board and in the dossier
    check: CheckKind
    scope_at_least: Scope | None = None
    applied: bool = False
    accepted: bool = False
    within_years: int = Field(default=1, ge=1, le=10)
    titles: Annotated[tuple[RuleCode, ...], Field(max_length=20)] = ()
    consecutive_years: int = Field(default=0, ge=0, le=10)
    streak_includes_year: bool = False  # the streak may end in the proposal's year (else the year before)
    count_at_least: int = Field(default=1, ge=0, le=100_000)
    share_at_least: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)
    # "trên 50%": the share must exceed this one (strictly), as the law words it; when set, share_at_least is not used
    share_more_than: float | None = Field(default=None, ge=0, lt=1, allow_inf_nan=False)
    rate_at_least: float = Field(default=0.0, ge=0, le=10, allow_inf_nan=False)
    grades: Annotated[tuple[RuleCode, ...], Field(max_length=10)] = ()
    evidence_kind: RuleCode | None = None  # "attested": the evidence kind that proves it
    unverified: bool = False  # the research notes mark the source as not verified


class VoteRule(_Part):
    quorum_share: float = Field(ge=0, le=1, allow_inf_nan=False)  # of all council members, present
    threshold_share: float = Field(ge=0, le=1, allow_inf_nan=False)  # votes for, as a share of ...
    of: Literal["all_members", "present"] = "all_members"
    secret_ballot: bool = False


class AwardRule(_Part):
    """One title or form of the catalogue."""

    code: RuleCode
    name: RuleText  # e.g. "Giấy khen của Ban Chấp hành Công đoàn cơ sở"
    form: RuleForm  # hình thức / danh hiệu as agencies report it: "Giấy khen", "Bằng khen", "Danh hiệu thi đua"
    is_title: bool  # a danh hiệu (title) rather than a hình thức (form)
    track: Track
    nominee_kind: NomineeKind
    category: Category = "overall"
    authority: LevelKind  # the level whose body decides (or records the employer's / state's decision)
    decider: DeciderKind = "union_body"
    decider_title: RuleText  # who signs, e.g. "TM. BAN CHẤP HÀNH / CHỦ TỊCH" or "Thủ trưởng cơ quan, đơn vị"
    deciding_body: OptionalBody = ""  # decided outside the platform, e.g. "Tổng Liên đoàn Lao động Việt Nam"
    criteria: Annotated[tuple[CriterionRule, ...], Field(max_length=30)]
    multiple: Decimal = Field(ge=0, le=1000)  # × the base salary in force on the decision date
    vote: VoteRule
    publicity_working_days: int = Field(ge=0, le=60)
    dossier: Annotated[tuple[DossierPiece, ...], Field(max_length=10)]
    default_quota: int | None = Field(default=None, ge=0, le=100_000)  # per sending unit and year
    cap_title: RuleCode | None = None  # e.g. CSTĐ cơ sở: at most cap_share of the holders of cap_title
    cap_share: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    early_raise_months: int | None = Field(default=None, ge=0, le=24)  # số tháng xét nâng lương trước hạn
    campaign_plan: RuleText | None = None  # a movement's thematic award: the plan that launched it


class RuleSetData(_Part):
    family: RuleCode  # "state", "union", or a movement ("dmst" …)
    version: RuleVersion  # e.g. "state@2025-07-01"
    effective_from: date
    title: RuleText
    sources: Annotated[tuple[RuleSource, ...], Field(max_length=20)]
    awards: Annotated[tuple[AwardRule, ...], Field(min_length=1, max_length=200)]


@event
class RuleSetPublished(Event):
    """A rule set (new family or new version) takes effect from ``rule_set.effective_from``."""

    rule_set: RuleSetData
    published_by: str


@event
class BaseSalarySet(Event):
    """The base salary (lương cơ sở) in force from a date; amounts use the one in force on the decision date."""

    effective_from: date
    amount_vnd: int
    source: str
    set_by: str


@event
class HolidaysDeclared(Event):
    """A year's public holidays and the weekend days worked instead (days swapped by the government)."""

    year: int
    days_off: tuple[date, ...]
    working_weekend_days: tuple[date, ...] = ()
    source: str
    declared_by: str


# -- proposals ----------------------------------------------------------------------------------------


class Level(_Part):
    """A union level as it was when the event happened."""

    unit_id: str
    path: str
    name: str
    kind: LevelKind


class Nominee(_Part):
    kind: NomineeKind
    id: str  # member id or unit id
    name: str
    unit_id: str  # the member's unit, or the collective itself
    unit_path: str
    unit_name: str
    is_official: bool  # held an official role (not a direct worker) at the time: the formalism radar's signal
    job_title: str | None = None


class Achievement(_Part):
    """What is rewarded. One achievement, one reward at a level (Law 2022, Điều 6)."""

    kind: Literal["initiative", "campaign", "year"]
    ref: str  # initiative id, campaign id, or the year
    summary: str


class Evidence(_Part):
    """An uploaded evidence file (``shared.evidence``: content-addressed, type sniffed) and what it proves."""

    kind: str  # "effect_certificate", "recognition_decision", "appraisal", "other" …
    label: str = ""
    file: EvidenceFile


class Fact(_Part):
    """A fact behind a criterion's outcome: which initiative, award, grade or pledge, and what it showed."""

    kind: Literal["initiative", "award", "grade", "pledge", "members", "evidence"]
    ref: str
    summary: str
    on: date | None = None


ReasonParam = int | float | str | tuple[int | str, ...]


class CriterionResult(_Part):
    """A criterion's outcome. ``reason`` is said in English; ``reason_code`` and ``reason_params`` say the
    same for a client to put in its own language (a judgement recorded before the codes has neither)."""

    code: str
    label: str
    outcome: Outcome
    reason: str
    facts: tuple[Fact, ...] = ()
    reason_code: str = ""
    reason_params: dict[str, ReasonParam] = Field(default_factory=dict)


class Eligibility(_Part):
    rule_set: str
    outcome: Outcome
    criteria: tuple[CriterionResult, ...]
    evaluated_on: date


@event
class ProposalFiled(Event):
    """A unit proposes an award for a member or a collective, evaluated against the rule set in force.

    A proposal that is not eligible is filed only with a ``justification`` and stays flagged.
    """

    proposal_id: str
    unit_id: str  # the proposing unit
    level: Level  # the level that handles it first (a sub-unit's grassroots union)
    nominee: Nominee
    award_code: str
    award_name: str
    track: Track
    category: Category
    authority: LevelKind
    year: int
    campaign_id: str | None
    achievement: Achievement
    summary: str
    evidence: tuple[Evidence, ...] = ()
    attested: tuple[str, ...] = ()  # criterion codes the proposer attests (with evidence)
    eligibility: Eligibility
    justification: str | None = None
    filed_by: str


@event
class ProposalJustified(Event):
    """The proposing level explains why a proposal goes on although a criterion is not met."""

    proposal_id: str
    unit_id: str
    justification: str
    justified_by: str


@event
class EligibilityReevaluated(Event):
    """A fact or a rule set changed: the proposal or award is judged again and flagged if it got worse."""

    proposal_id: str
    unit_id: str
    eligibility: Eligibility
    previous_outcome: Outcome
    cause: str
    flagged: bool


@event
class ProposalPublicised(Event):
    """The level's list is published in its subtree for the rule set's number of working days."""

    proposal_id: str
    unit_id: str
    level: Level
    opens_on: date
    closes_on: date  # the last working day of the window; the council meets after it
    working_days: int
    rule_set: str
    publicised_by: str


@event
class ObjectionRaised(Event):
    proposal_id: str
    unit_id: str
    objection_id: str
    level_path: str
    text: str
    raised_by: str


@event
class ObjectionAnswered(Event):
    proposal_id: str
    unit_id: str
    objection_id: str
    answer: str
    upheld: bool  # an upheld objection stops the proposal at this level
    answered_by: str


class Meeting(_Part):
    minutes_number: str
    held_on: date
    place: str
    chair: str
    secretary: str
    members_total: int
    members_present: int


@event
class CouncilVoted(Event):
    """The level's council (BCH / BTV) voted on the nominee; ``passed`` is the rule set's verdict."""

    proposal_id: str
    unit_id: str
    level: Level
    meeting: Meeting
    votes_for: int
    votes_against: int
    votes_abstain: int
    quorum_share: float
    threshold_share: float
    threshold_of: Literal["all_members", "present"]
    passed: bool
    rule_set: str
    recorded_by: str


@event
class ProposalEscalated(Event):
    """Sent upward with its dossier: it lands in ``to_level``'s inbox (``forwarded`` by a level above
    the proposing one)."""

    proposal_id: str
    unit_id: str
    from_level: Level
    to_level: Level
    submission_number: str
    submitted_on: date
    dossier: tuple[DossierPiece, ...]
    forwarded: bool
    quota_unit_id: str
    escalated_by: str


@event
class ProposalAccepted(Event):
    """The level took the proposal on: its publicity and council vote come next."""

    proposal_id: str
    unit_id: str
    level: Level
    accepted_by: str


@event
class ProposalReturned(Event):
    proposal_id: str
    unit_id: str
    by_level: Level
    to_level: Level
    reasons: str
    quota_unit_id: str
    returned_by: str


@event
class ProposalReaddressed(Event):
    """The tree changed under a proposal waiting or handled at a level above its unit (the unit moved, or
    the level merged away): ``from_level`` is no longer above the unit (``shared.upward``). It lands in
    the inbox of the level of the same rank above the unit now (``to_level``), or, when the unit's chain
    has no level of that rank, goes back to the level that sent it up (``to_level`` None: returned to
    ``sender``, whose quota place is given back). Decided by the platform, following the directory."""

    proposal_id: str
    unit_id: str
    from_level: Level
    to_level: Level | None
    sender: Level  # the level that sent it to ``from_level``
    reason: str
    readdressed_by: str


@event
class ProposalWithdrawn(Event):
    proposal_id: str
    unit_id: str
    level: Level
    reason: str
    withdrawn_by: str


@event
class ProposalRejected(Event):
    """Not conferred: the council did not pass it, an objection was upheld, or the decider declined."""

    proposal_id: str
    unit_id: str
    level: Level
    reasons: str
    rejected_by: str


class Decision(_Part):
    number: str  # e.g. "15/QĐ-LĐLĐ"
    decided_on: date
    level: Level  # the union level that decided or recorded the decision
    deciding_body: str  # e.g. "Ban Thường vụ Liên đoàn Lao động Thành phố Hà Nội" or the employer
    decider: DeciderKind
    signer_name: str
    signer_title: str


@event
class AwardConferred(Event):
    """The decision: who decided, under which rule set, for how much."""

    proposal_id: str
    award_id: str
    unit_id: str
    unit_path: str
    nominee: Nominee
    award_code: str
    award_name: str
    form: str
    is_title: bool
    track: Track
    category: Category
    year: int
    campaign_id: str | None
    achievement: Achievement
    decision: Decision
    rule_set: str
    amount_vnd: int
    base_salary_vnd: int
    multiple: Decimal
    early_raise_months: int | None = None
    recorded_by: str


@event
class AwardRevoked(Event):
    """Revocation (Law 2022, Chương VII): the decision annulled, the object and money recovered."""

    proposal_id: str
    award_id: str
    unit_id: str
    unit_path: str
    nominee: Nominee
    award_code: str
    award_name: str
    year: int
    reason: RevocationReason
    explanation: str
    decision: Decision
    amount_to_recover_vnd: int
    revoked_by: str


@event
class NomineeNotified(Event):
    """The nominee (or the collective's officials) is told the outcome."""

    proposal_id: str
    unit_id: str
    nominee_id: str
    nominee_kind: NomineeKind
    outcome: NoticeOutcome
    message: str


@event
class PastAwardRecorded(Event):
    """An award decided on paper before the platform, recorded for streaks (not published as new)."""

    award_id: str
    unit_id: str
    nominee: Nominee
    award_code: str
    award_name: str
    year: int
    decision_number: str
    decided_on: date
    deciding_body: str
    recorded_by: str


# -- one achievement, one reward; quotas ------------------------------------------------------------


@event
class AchievementClaimed(Event):
    """On the nominee's record: a proposal rests on this achievement at this level (held until released)."""

    nominee_id: str
    proposal_id: str
    achievement_ref: str
    level_key: str  # the deciding level: decider kind, level kind and unit
    year: int
    category: Category
    award_code: str


@event
class AchievementReleased(Event):
    nominee_id: str
    proposal_id: str
    reason: str


@event
class QuotaAllocated(Event):
    """A level allocates to a child how many proposals of a kind it may send up in a year."""

    unit_id: str  # the child whose quota it is
    by_unit_id: str
    by_path: str
    year: int
    award_code: str
    count: int
    allocated_by: str


@event
class QuotaUsed(Event):
    unit_id: str
    year: int
    award_code: str
    proposal_id: str


@event
class QuotaReleased(Event):
    """A returned or withdrawn proposal gives its place back."""

    unit_id: str
    year: int
    award_code: str
    proposal_id: str


# -- the public feed ----------------------------------------------------------------------------------


class PublicAward(_Part):
    """The data of a public CloudEvent: what an agency needs, no personal data beyond name, unit and award.

    Fields follow what the national database and HR systems record per decision (research §5).
    """

    award_id: str
    status: Literal["conferred", "revoked"]
    nominee_kind: NomineeKind
    nominee_name: str
    unit_name: str
    unit_path: str
    award_code: str
    award_name: str  # danh hiệu / khen thưởng đạt
    form: str  # hình thức
    is_title: bool
    track: Track
    year: int
    achievement: str
    decision_number: str
    decided_on: date
    deciding_body: str
    deciding_level: LevelKind  # cấp quyết định
    early_raise_months: int | None = None
    revocation_reason: RevocationReason | None = None
    revocation_decision_number: str | None = None
    revoked_on: date | None = None
