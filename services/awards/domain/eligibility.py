"""Eligibility, criterion by criterion, from the facts the service holds — met, not met or unknown, and
the facts behind each outcome (which initiative at what scope, applied where; which titles in which
years; which grade; which pledge at what rate).

The checks are code (one function per ``CheckKind``); their parameters are rule-set data. ``NomineeFacts``
is what the adapters assemble from the service's copies of the other services' events; evaluation is
pure and cheap, so every open proposal can be judged again whenever a fact or a rule set changes.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from contracts.awards import AwardRule, CriterionResult, CriterionRule, Eligibility, Evidence, Fact, Outcome

SCOPE_RANK = {"grassroots": 1, "upper_level": 2, "city": 3, "national": 4}
SCOPE_VI = {"grassroots": "cơ sở", "upper_level": "cấp trên trực tiếp", "city": "thành phố", "national": "toàn quốc"}
MAX_FACTS = 5  # facts listed per criterion


@dataclass(frozen=True, slots=True)
class InitiativeFact:
    initiative_id: str
    title: str
    unit_id: str
    scope: str | None = None  # the highest scope it is recognised at (None: not recognised, or revoked)
    recognised_on: date | None = None
    decision_number: str | None = None
    recognised_by: str | None = None  # the recognising level's path
    applied_on: date | None = None
    applied_where: str | None = None
    accepted_on: date | None = None
    benefit_vnd: int = 0
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class TitleFact:
    award_id: str
    award_code: str
    year: int
    decision_number: str
    decided_on: date | None = None
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class GradeFact:
    year: int
    grade: str
    points: float | None
    rule_set: str
    confirmed_by: str | None


@dataclass(frozen=True, slots=True)
class PledgeFact:
    pledge_id: str
    campaign_id: str
    signed_on: date
    fulfilment_rate: float | None = None  # achieved / committed over the pledge's indicators; None: no report yet


@dataclass(frozen=True, slots=True)
class MemberTitles:
    member_count: int
    holders: dict[str, int] = field(default_factory=dict)  # award code → members holding it that year


@dataclass(frozen=True)
class NomineeFacts:
    nominee_id: str
    initiatives: tuple[InitiativeFact, ...] = ()
    titles: tuple[TitleFact, ...] = ()
    grades: dict[int, GradeFact] = field(default_factory=dict)
    pledges: tuple[PledgeFact, ...] = ()
    members: dict[int, MemberTitles] = field(default_factory=dict)  # collectives: year → counts
    member_count: int | None = None  # collectives: members now (a year without titles still has them)


@dataclass(frozen=True)
class Claim:
    """What the proposal itself brings: the year, the campaign, attested criteria and evidence files."""

    year: int
    campaign_id: str | None = None
    attested: frozenset[str] = frozenset()
    evidence: tuple[Evidence, ...] = ()


# Every reason a check gives, by its stable code, with the parameters it carries (a client says each in
# its own language; ``reason`` stays the English sentence).
REASON_CODES: dict[str, tuple[str, ...]] = {
    "initiative.qualify": ("count",),
    "initiative.none": (),
    "initiative.too_few": ("count", "needed", "gaps", "scope", "from_year", "to_year"),
    "title_streak.held": ("from_year", "to_year"),
    "title_streak.missing": ("years", "revoked"),
    "grade.unknown": ("year",),
    "grade.met": ("grade",),
    "grade.not_met": ("grade", "grades"),
    "pledge.signed": (),
    "pledge.none": (),
    "pledge.no_progress": (),
    "pledge.fulfilment": ("rate", "needed"),
    "members.unknown": ("year",),
    "members.share_more_than": ("share", "needed"),
    "members.share_at_least": ("share", "needed"),
    "members.titles_unknown": ("year",),
    "members.count": ("count", "needed"),
    "attested.no": (),
    "attested.no_file": ("kind",),
    "attested.with_evidence": (),
}
# Why an initiative falls short (``gaps`` of ``initiative.too_few``), in the order they are listed.
INITIATIVE_GAPS = ("below_scope", "not_accepted", "not_applied", "not_recognised", "outside_years")


def _result(
    rule: CriterionRule,
    outcome: Outcome,
    reason: str,
    facts: list[Fact] | tuple[Fact, ...] = (),
    code: str = "",
    **params: int | float | str | tuple[int | str, ...],
) -> CriterionResult:
    return CriterionResult(
        code=rule.code, label=rule.label, outcome=outcome, reason=reason, facts=tuple(facts[:MAX_FACTS]),
        reason_code=code, reason_params=params,
    )  # fmt: skip


@lru_cache(maxsize=4096)  # a nominee's initiative is shown by each initiative criterion: built once
def _initiative_fact(i: InitiativeFact) -> Fact:
    parts = [f"«{i.title}»"]
    if i.scope:
        parts.append(f"công nhận phạm vi {SCOPE_VI.get(i.scope, i.scope)}")
    if i.decision_number:
        parts.append(f"QĐ {i.decision_number}")
    if i.applied_on:
        on = i.applied_on
        parts.append(f"áp dụng tại {i.applied_where or '—'} từ {on.day:02d}/{on.month:02d}/{on.year}")
    if i.accepted_on:
        parts.append("đã nghiệm thu")
    if i.revoked:
        parts.append("đã bị hủy công nhận")
    return Fact(kind="initiative", ref=i.initiative_id, summary="; ".join(parts), on=i.recognised_on)


def check_initiative(rule: CriterionRule, facts: NomineeFacts, claim: Claim) -> CriterionResult:
    lowest = rule.scope_at_least or "grassroots"  # a rule without a scope still needs a known one
    need = SCOPE_RANK[lowest]
    first_year = claim.year - rule.within_years + 1
    qualifying: list[Fact] = []
    near: list[Fact] = []
    reasons: set[str] = set()
    gaps: set[str] = set()
    for initiative in facts.initiatives:
        fact = _initiative_fact(initiative)
        if initiative.revoked or initiative.scope is None:
            reasons.add("not recognised or recognition revoked")
            gaps.add("not_recognised")
        elif SCOPE_RANK.get(initiative.scope, 0) < need:
            reasons.add(f"recognised below {lowest} scope")
            gaps.add("below_scope")
        elif initiative.recognised_on is not None and not first_year <= initiative.recognised_on.year <= claim.year:
            reasons.add(f"recognised outside {first_year}–{claim.year}")
            gaps.add("outside_years")
        elif rule.applied and initiative.applied_on is None:
            reasons.add("not applied")
            gaps.add("not_applied")
        elif rule.accepted and initiative.accepted_on is None:
            reasons.add("not accepted (nghiệm thu)")
            gaps.add("not_accepted")
        else:
            qualifying.append(fact)
            continue
        near.append(fact)
    if len(qualifying) >= rule.count_at_least:
        return _result(
            rule, "met", f"{len(qualifying)} initiative(s) qualify", qualifying, "initiative.qualify",
            count=len(qualifying),
        )  # fmt: skip
    if not facts.initiatives:
        return _result(rule, "not_met", "no recognised initiative of the nominee is known", (), "initiative.none")
    why = "; ".join(sorted(reasons)) or "too few"
    return _result(
        rule, "not_met", f"{len(qualifying)} of {rule.count_at_least} needed qualify ({why})", qualifying + near,
        "initiative.too_few", count=len(qualifying), needed=rule.count_at_least,
        gaps=tuple(g for g in INITIATIVE_GAPS if g in gaps), scope=lowest, from_year=first_year, to_year=claim.year,
    )  # fmt: skip


def check_title_streak(rule: CriterionRule, facts: NomineeFacts, claim: Claim) -> CriterionResult:
    held: dict[int, TitleFact] = {}
    revoked: dict[int, TitleFact] = {}
    for title in facts.titles:
        if title.award_code in rule.titles:
            (revoked if title.revoked else held).setdefault(title.year, title)
    last = claim.year if rule.streak_includes_year else claim.year - 1
    years = range(last - rule.consecutive_years + 1, last + 1)
    missing = [y for y in years if y not in held]
    shown = [held[y] if y in held else revoked[y] for y in years if y in held or y in revoked]
    out = [
        Fact(
            kind="award",
            ref=t.award_id,
            summary=f"{t.award_code} năm {t.year} (QĐ {t.decision_number}){' — đã bị thu hồi' if t.revoked else ''}",
            on=t.decided_on,
        )
        for t in shown
    ]
    if not missing:
        return _result(
            rule, "met", f"held in {years[0]}–{years[-1]}", out, "title_streak.held", from_year=years[0],
            to_year=years[-1],
        )  # fmt: skip
    lost = [y for y in missing if y in revoked]
    reason = f"missing in {', '.join(map(str, missing))}"
    if lost:
        reason += f" (revoked in {', '.join(map(str, lost))})"
    return _result(rule, "not_met", reason, out, "title_streak.missing", years=tuple(missing), revoked=tuple(lost))


def check_grade(rule: CriterionRule, facts: NomineeFacts, claim: Claim) -> CriterionResult:
    grade = facts.grades.get(claim.year)
    if grade is None:
        return _result(
            rule, "unknown", f"no confirmed grade for {claim.year} yet", (), "grade.unknown", year=claim.year
        )
    fact = Fact(
        kind="grade",
        ref=f"{facts.nominee_id}:{grade.year}",
        summary=f"xếp loại {grade.grade} năm {grade.year}"
        + (f", {grade.points:g} điểm" if grade.points is not None else "")
        + (f", xác nhận bởi {grade.confirmed_by}" if grade.confirmed_by else ""),
    )
    if grade.grade in rule.grades:
        return _result(rule, "met", f"graded {grade.grade}", [fact], "grade.met", grade=grade.grade)
    return _result(
        rule, "not_met", f"graded {grade.grade}; needs one of {', '.join(rule.grades)}", [fact], "grade.not_met",
        grade=grade.grade, grades=tuple(rule.grades),
    )  # fmt: skip


def _pledges(facts: NomineeFacts, claim: Claim) -> list[PledgeFact]:
    if claim.campaign_id:
        return [p for p in facts.pledges if p.campaign_id == claim.campaign_id]
    return [p for p in facts.pledges if p.signed_on.year == claim.year]


def _pledge_fact(p: PledgeFact) -> Fact:
    rate = f", thực hiện {p.fulfilment_rate:.0%}" if p.fulfilment_rate is not None else ""
    return Fact(
        kind="pledge",
        ref=p.pledge_id,
        summary=f"giao ước ký ngày {p.signed_on.strftime('%d/%m/%Y')}{rate}",
        on=p.signed_on,
    )


def check_pledge_signed(rule: CriterionRule, facts: NomineeFacts, claim: Claim) -> CriterionResult:
    pledges = _pledges(facts, claim)
    if pledges:
        return _result(rule, "met", "a pledge was signed", [_pledge_fact(p) for p in pledges], "pledge.signed")
    return _result(rule, "not_met", "no signed pledge is known", (), "pledge.none")


def check_pledge_fulfilment(rule: CriterionRule, facts: NomineeFacts, claim: Claim) -> CriterionResult:
    pledges = _pledges(facts, claim)
    if not pledges:
        return _result(rule, "not_met", "no signed pledge is known", (), "pledge.none")
    rated = [p for p in pledges if p.fulfilment_rate is not None]
    if not rated:
        facts_shown = [_pledge_fact(p) for p in pledges]
        return _result(rule, "unknown", "no progress reported on the pledge yet", facts_shown, "pledge.no_progress")
    best = max(rated, key=lambda p: p.fulfilment_rate or 0.0)
    rate = best.fulfilment_rate or 0.0
    outcome: Outcome = "met" if rate >= rule.rate_at_least else "not_met"
    return _result(
        rule, outcome, f"fulfilment {rate:.0%} against {rule.rate_at_least:.0%}", [_pledge_fact(best)],
        "pledge.fulfilment", rate=rate, needed=rule.rate_at_least,
    )  # fmt: skip


def _member_counts(
    rule: CriterionRule, facts: NomineeFacts, claim: Claim
) -> tuple[MemberTitles | None, int, Fact | None]:
    counts = facts.members.get(claim.year)
    if counts is None and facts.member_count is not None:
        counts = MemberTitles(facts.member_count, {})
    if counts is None:
        return None, 0, None
    holders = sum(counts.holders.get(code, 0) for code in rule.titles)
    fact = Fact(
        kind="members",
        ref=f"{facts.nominee_id}:{claim.year}",
        summary=f"{holders}/{counts.member_count} đoàn viên đạt {', '.join(rule.titles)} năm {claim.year}",
    )
    return counts, holders, fact


def check_member_title_share(rule: CriterionRule, facts: NomineeFacts, claim: Claim) -> CriterionResult:
    counts, holders, fact = _member_counts(rule, facts, claim)
    if counts is None or fact is None or counts.member_count == 0:
        return _result(rule, "unknown", f"no member count for {claim.year}", (), "members.unknown", year=claim.year)
    share = holders / counts.member_count
    if rule.share_more_than is not None:  # "trên 50%": strictly more
        outcome: Outcome = "met" if share > rule.share_more_than else "not_met"
        return _result(
            rule, outcome, f"{share:.0%} against more than {rule.share_more_than:.0%}", [fact],
            "members.share_more_than", share=share, needed=rule.share_more_than,
        )  # fmt: skip
    outcome = "met" if share >= rule.share_at_least else "not_met"
    return _result(
        rule, outcome, f"{share:.0%} against {rule.share_at_least:.0%}", [fact], "members.share_at_least",
        share=share, needed=rule.share_at_least,
    )  # fmt: skip


def check_member_title_count(rule: CriterionRule, facts: NomineeFacts, claim: Claim) -> CriterionResult:
    counts, holders, fact = _member_counts(rule, facts, claim)
    if counts is None or fact is None:
        reason = f"no member titles known for {claim.year}"
        return _result(rule, "unknown", reason, (), "members.titles_unknown", year=claim.year)
    outcome: Outcome = "met" if holders >= rule.count_at_least else "not_met"
    return _result(
        rule, outcome, f"{holders} against {rule.count_at_least}", [fact], "members.count", count=holders,
        needed=rule.count_at_least,
    )  # fmt: skip


def check_attested(rule: CriterionRule, facts: NomineeFacts, claim: Claim) -> CriterionResult:
    if rule.code not in claim.attested:
        return _result(rule, "unknown", "not attested by the proposing unit", (), "attested.no")
    files = [e for e in claim.evidence if rule.evidence_kind is None or e.kind == rule.evidence_kind]
    if not files:
        kind = rule.evidence_kind or "any"
        return _result(
            rule, "unknown", f"attested without an evidence file ({kind})", (), "attested.no_file", kind=kind
        )
    evidence = [Fact(kind="evidence", ref=e.file.sha256, summary=f"{e.label or e.kind}: {e.file.name}") for e in files]
    return _result(rule, "met", "attested with evidence", evidence, "attested.with_evidence")


CHECKS: dict[str, Callable[[CriterionRule, NomineeFacts, Claim], CriterionResult]] = {
    "initiative": check_initiative,
    "title_streak": check_title_streak,
    "grade": check_grade,
    "pledge_signed": check_pledge_signed,
    "pledge_fulfilment": check_pledge_fulfilment,
    "member_title_share": check_member_title_share,
    "member_title_count": check_member_title_count,
    "attested": check_attested,
}


def overall(results: tuple[CriterionResult, ...]) -> Outcome:
    outcomes = {r.outcome for r in results}
    if "not_met" in outcomes:
        return "not_met"
    return "unknown" if "unknown" in outcomes else "met"


def evaluate(rule: AwardRule, rule_set: str, facts: NomineeFacts, claim: Claim, on: date) -> Eligibility:
    results = tuple(CHECKS[criterion.check](criterion, facts, claim) for criterion in rule.criteria)
    return Eligibility(rule_set=rule_set, outcome=overall(results), criteria=results, evaluated_on=on)


def worse(before: Outcome, after: Outcome) -> bool:
    rank = {"met": 0, "unknown": 1, "not_met": 2}
    return rank[after] > rank[before]
