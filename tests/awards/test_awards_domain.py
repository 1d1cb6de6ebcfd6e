"""Given events → command → expected events or error, for every rule of the awards domain."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from contracts.awards import (
    AchievementClaimed,
    AwardConferred,
    AwardRevoked,
    CouncilVoted,
    EligibilityReevaluated,
    NomineeNotified,
    ObjectionAnswered,
    ProposalEscalated,
    ProposalFiled,
    ProposalPublicised,
    ProposalRejected,
    ProposalReturned,
    QuotaAllocated,
    QuotaUsed,
    RuleSetPublished,
)
from services.awards.domain.calendar import WorkingCalendar
from services.awards.domain.catalogue import builtin_rulebook
from services.awards.domain.eligibility import Claim, GradeFact, MemberTitles, NomineeFacts, PledgeFact
from services.awards.domain.ledgers import NomineeRecord, QuotaLedger
from services.awards.domain.proposal import Proposal
from services.awards.domain.rulebook import RuleBookRecord, amount_of
from services.awards.domain.rules import NATIONAL, authority_unit, handling_level, level_of
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound, ThiduaError
from tests.awards.awards_helpers import (
    AN,
    BCH,
    BOOK,
    BTV_HN,
    BTV_NTL,
    CEO,
    CHAIN,
    DD,
    FECON,
    FECON_COLLECTIVE,
    HN,
    MEMBER,
    NTL,
    OFFICER,
    OUTSIDER,
    QR,
    THI_CONG,
    TODAY,
    achievement,
    actor,
    decision,
    eligible,
    evidence,
    facts,
    given,
    meeting,
    proposal,
    then,
    titles,
)

CERT = evidence("effect_certificate", "xac-nhan-hieu-qua.pdf")


def code_of(error: pytest.ExceptionInfo[ThiduaError]) -> str:
    return error.value.code


def file(code: str = "cstd_tinh", **overrides: object) -> list:
    rule_set, rule = BOOK.award(code, TODAY)
    fields: dict = {
        "unit_id": FECON.unit_id,
        "level": level_of(FECON),
        "nominee": AN,
        "rule_set": rule_set,
        "rule": rule,
        "year": 2025,
        "campaign_id": None,
        "achievement": achievement(),
        "summary": "Tác giả sáng kiến mã QR, tiết kiệm 200 giờ công mỗi năm",
        "evidence": (CERT,),
        "attested": (),
        "eligibility": eligible(code),
        "justification": None,
        "actor": BCH,
    }
    return Proposal.file("p-1", **(fields | overrides))  # type: ignore[arg-type]


def filed(code: str = "cstd_tinh", **overrides: object) -> Proposal:
    return proposal(*file(code, **overrides))


def publicised(p: Proposal, by=OFFICER, opens_on: date = TODAY) -> Proposal:
    rule_set, rule = BOOK.award(p.record.award_code, opens_on)
    return then(p, p.publicise(by, rule, rule_set.version, BOOK.calendar, opens_on))


def voted(p: Proposal, by=OFFICER, held_on: date = date(2025, 11, 17), **counts: int) -> Proposal:
    rule_set, rule = BOOK.award(p.record.award_code, held_on)
    votes = {"votes_for": 9, "votes_against": 0, "votes_abstain": 0} | counts
    return then(p, p.vote(by, rule, rule_set.version, meeting(held_on), **votes, today=date(2025, 12, 31)))


def escalated(p: Proposal, by=BCH, to=NTL, number: str = "07/TTr-CĐ") -> Proposal:
    _, rule = BOOK.award(p.record.award_code, TODAY)
    return then(p, p.escalate(by, rule, level_of(to), number, date(2025, 11, 18)))


def at_city() -> Proposal:
    p = escalated(voted(publicised(filed())))
    p = then(p, p.accept(BTV_NTL))
    p = voted(publicised(p, BTV_NTL, date(2025, 11, 18)), BTV_NTL, date(2025, 12, 3))
    p = escalated(p, BTV_NTL, HN, "15/TTr-LĐLĐ")
    p = then(p, p.accept(BTV_HN))
    return voted(publicised(p, BTV_HN, date(2025, 12, 4)), BTV_HN, date(2025, 12, 19))


def conferred() -> Proposal:
    p = at_city()
    _, rule = BOOK.award("cstd_tinh", date(2025, 12, 22))
    amount, base = BOOK.amount(rule, date(2025, 12, 22))
    d = decision(level_of(HN), "2150/QĐ-UBND", date(2025, 12, 22), "state_authority")
    return then(p, p.decide(BTV_HN, rule, "state@2025-07-01", "a-1", d, amount, base))


# -- the rule book ------------------------------------------------------------------------------------


def test_rule_sets_are_chosen_by_their_effective_date() -> None:
    assert BOOK.rule_set("state", date(2023, 12, 31)).version == "state@2017-07-31"
    assert BOOK.rule_set("state", date(2025, 6, 30)).version == "state@2024-01-01"
    assert BOOK.rule_set("state", date(2025, 7, 1)).version == "state@2025-07-01"
    assert "effect_certificate" not in BOOK.award("cstd_tinh", date(2025, 6, 30))[1].dossier
    assert "effect_certificate" in BOOK.award("cstd_tinh", date(2025, 7, 1))[1].dossier
    with pytest.raises(NotFound) as error:
        BOOK.rule_set("state", date(2017, 7, 30))
    assert code_of(error) == "award.no_rule_set"
    with pytest.raises(InvalidInput) as error:
        BOOK.award("huan_chuong", TODAY)
    assert code_of(error) == "award.unknown_award" and error.value.field == "award_code"


def test_amounts_use_the_base_salary_on_the_decision_date_rounded_up_to_ten_thousand() -> None:
    _, ldtt = BOOK.award("ldtt", date(2026, 8, 1))
    assert BOOK.amount(ldtt, date(2024, 6, 30)) == (540_000, 1_800_000)
    assert BOOK.amount(ldtt, date(2024, 7, 1)) == (710_000, 2_340_000)  # 702,000 rounded up
    assert BOOK.amount(ldtt, date(2026, 7, 1)) == (760_000, 2_530_000)  # 759,000 rounded up
    _, cstd = BOOK.award("cstd_cs", date(2026, 8, 1))
    assert BOOK.amount(cstd, date(2026, 7, 1)) == (2_530_000, 2_530_000)
    assert amount_of(Decimal("4.5"), 2_340_000) == 10_530_000
    with pytest.raises(NotFound):
        BOOK.base_salary(date(2023, 6, 30))


def test_working_days_skip_weekends_holidays_and_count_swapped_saturdays() -> None:
    calendar = BOOK.calendar
    assert calendar.window(date(2025, 11, 3), 10) == date(2025, 11, 14)  # two plain weeks
    # Around 30/4 – 1/5 2025: Saturday 26/4 was worked, 30/4, 1/5, 2/5 were off.
    assert calendar.window(date(2025, 4, 21), 10) == date(2025, 5, 6)
    # Tết 2025: 27–31/1 off.
    assert calendar.window(date(2025, 1, 20), 10) == date(2025, 2, 7)
    assert calendar.window(date(2025, 11, 3), 0) == date(2025, 11, 2)
    assert not WorkingCalendar().with_year(2025, [date(2025, 11, 4)]).is_working_day(date(2025, 11, 4))
    assert calendar.working_days_between(date(2025, 4, 28), date(2025, 5, 4)) == 2


def test_the_rule_book_is_amended_by_the_city_only_with_coherent_rule_sets() -> None:
    record = RuleBookRecord(base=builtin_rulebook())
    city = actor(HN, "standing_committee")
    current = BOOK.version("state@2025-07-01")
    assert current is not None
    amended = current.model_copy(update={"version": "state@2026-01-01", "effective_from": date(2026, 1, 1)})
    (published,) = record.publish(amended, city)
    assert isinstance(published, RuleSetPublished)
    then(record, [published])
    assert record.book.rule_set("state", date(2026, 2, 1)).version == "state@2026-01-01"
    with pytest.raises(Forbidden) as error:
        record.publish(amended, BCH)
    assert code_of(error) == "award.rulebook_keeper_only"
    with pytest.raises(Conflict) as error:
        record.publish(amended, city)
    assert code_of(error) == "award.rule_set_exists" and error.value.field == "rule_set.version"
    union = BOOK.version("union@2024-05-29")
    assert union is not None
    stolen = union.model_copy(update={"family": "mine", "version": "mine@1"})
    with pytest.raises(InvalidInput) as error:
        record.publish(stolen, city)
    assert code_of(error) == "award.code_of_other_family" and error.value.field == "rule_set.awards.0.code"
    (salary,) = record.set_base_salary(date(2027, 7, 1), 2_800_000, "NĐ giả định", city)
    then(record, [salary])
    assert record.book.base_salary(date(2027, 7, 2)).amount_vnd == 2_800_000
    with pytest.raises(InvalidInput) as error:
        record.declare_holidays(2026, (date(2027, 1, 1),), (), "x", city)
    assert error.value.field == "days_off.0"
    (declared,) = record.declare_holidays(2026, (date(2026, 11, 24),), (), "Ngày Văn hoá", city)
    then(record, [declared])
    assert not record.book.calendar.is_working_day(date(2026, 11, 24))
    assert record.book.calendar.is_working_day(date(2026, 2, 16))  # a declaration replaces the whole year


# -- eligibility ----------------------------------------------------------------------------------------


def test_eligibility_is_met_criterion_by_criterion_with_the_facts_behind_it() -> None:
    result = eligible("cstd_tinh")
    assert result.outcome == "met" and result.rule_set == "state@2025-07-01"
    streak, initiative = result.criteria
    assert streak.code == "three_cstd_cs" and streak.outcome == "met"
    assert [f.ref for f in streak.facts] == ["a-cstd_cs-2023", "a-cstd_cs-2024", "a-cstd_cs-2025"]
    assert initiative.outcome == "met" and initiative.facts[0].ref == "i-qr"
    assert "thành phố" in initiative.facts[0].summary and "12/QĐ-LĐLĐ" in initiative.facts[0].summary


def test_a_streak_with_a_revoked_year_or_a_gap_is_not_met_and_says_which_year() -> None:
    revoked = eligible("cstd_tinh", facts(titles=titles("cstd_cs", 2023, 2024, 2025, revoked=(2024,))))
    assert revoked.outcome == "not_met"
    assert revoked.criteria[0].reason == "missing in 2024 (revoked in 2024)"
    gap = eligible("cstd_tinh", facts(titles=titles("cstd_cs", 2022, 2024, 2025)))
    assert gap.criteria[0].reason == "missing in 2023"


def test_an_initiative_below_the_scope_or_not_applied_or_revoked_does_not_count() -> None:
    low = replace(QR, scope="upper_level")
    result = eligible("cstd_tinh", facts(initiatives=(low,)))
    assert result.criteria[1].outcome == "not_met" and "below city scope" in result.criteria[1].reason
    unapplied = eligible("cstd_cs", facts(initiatives=(replace(QR, applied_on=None),), titles=titles("ldtt", 2025)))
    assert unapplied.criteria[1].outcome == "not_met" and "not applied" in unapplied.criteria[1].reason
    revoked = eligible(
        "cstd_cs", facts(initiatives=(replace(QR, scope=None, revoked=True),), titles=titles("ldtt", 2025))
    )
    assert "recognition revoked" in revoked.criteria[1].reason
    none = eligible("cstd_cs", facts(initiatives=(), titles=titles("ldtt", 2025)))
    assert none.criteria[1].reason == "no recognised initiative of the nominee is known"
    unaccepted = eligible("blds_tld", facts(initiatives=(replace(QR, accepted_on=None),)))
    assert "not accepted" in unaccepted.criteria[0].reason


def test_collective_criteria_grade_pledges_member_titles_and_attestations() -> None:
    unit = NomineeFacts(
        nominee_id=FECON.unit_id,
        initiatives=(QR, replace(QR, initiative_id="i-2", title="Sổ tay điện tử")),
        grades={2025: GradeFact(2025, "good", 88.0, "grading@2019", "hn.ntl")},
        pledges=(PledgeFact("pl-1", "camp-1", date(2025, 3, 1), 1.12),),
        members={2025: MemberTitles(40, {"ldtt": 30, "cstd_cs": 2})},
    )
    claim = Claim(
        year=2025, campaign_id="camp-1", attested=frozenset({"launched", "reviewed"}), evidence=(evidence("other"),)
    )
    result = eligible("dmst_gk_ctt_tt", unit, claim)
    outcomes = {c.code: c.outcome for c in result.criteria}
    assert outcomes == {
        "launched": "met",
        "pledge_signed": "met",
        "reviewed": "met",
        "many_initiatives": "met",
        "unity": "unknown",  # not attested
        "graded_good": "met",
    }
    assert result.outcome == "unknown"
    xs = eligible(
        "tt_ldxs",
        unit,
        Claim(year=2025, attested=frozenset({"excellent_work", "unity"}), evidence=(evidence("appraisal"),)),
    )
    assert {c.code: c.outcome for c in xs.criteria} == {
        "excellent_work": "met",
        "seventy_ldtt": "met",  # 30/40 = 75%
        "one_cstd_cs": "met",
        "unity": "met",
    }
    assert xs.criteria[1].facts[0].summary == "30/40 đoàn viên đạt ldtt năm 2025"
    flag = eligible("co_ldld", unit, Claim(year=2025))
    assert [c.outcome for c in flag.criteria] == ["not_met", "met", "unknown"]  # graded good, not excellent
    ungraded = eligible("co_ldld", NomineeFacts(nominee_id="u-x"), Claim(year=2025))
    assert ungraded.criteria[0].outcome == "unknown" and ungraded.criteria[1].outcome == "not_met"
    no_evidence = eligible("ldtt", facts(), Claim(year=2025, attested=frozenset({"good_work"})))
    assert no_evidence.criteria[0].reason == "attested without an evidence file (appraisal)"


# -- filing ---------------------------------------------------------------------------------------------


def test_a_grassroots_official_files_a_proposal_with_its_eligibility() -> None:
    (event,) = file()
    assert isinstance(event, ProposalFiled)
    assert event.level == level_of(FECON) and event.authority == "city" and event.track == "state"
    assert event.eligibility.outcome == "met" and event.nominee.is_official is False
    assert filed().status == "filed" and not filed().flagged


def test_filing_refusals_name_the_field() -> None:
    with pytest.raises(Forbidden) as error:
        file(actor=MEMBER)
    assert code_of(error) == "award.role_required"
    with pytest.raises(Forbidden) as error:
        file(actor=BTV_NTL)
    assert code_of(error) == "award.not_your_level"
    with pytest.raises(InvalidInput) as error:
        file(nominee=FECON_COLLECTIVE)
    assert code_of(error) == "award.wrong_nominee_kind" and error.value.field == "nominee"
    with pytest.raises(InvalidInput) as error:
        file("gk_cdcs", level=level_of(NTL), actor=BTV_NTL)
    assert code_of(error) == "award.below_level" and error.value.field == "award_code"
    with pytest.raises(InvalidInput) as error:
        file("dmst_gk_cdcs", eligibility=eligible("dmst_gk_cdcs"))
    assert code_of(error) == "award.campaign_required" and error.value.field == "campaign_id"
    with pytest.raises(InvalidInput) as error:
        file(attested=("good_work",))
    assert error.value.field == "attested.0"
    not_met = eligible("cstd_tinh", facts(titles=titles("cstd_cs", 2025)))
    with pytest.raises(InvalidInput) as error:
        file(eligibility=not_met)
    assert code_of(error) == "award.justification_required" and error.value.field == "justification"
    assert error.value.params == {"not_met": ["three_cstd_cs"]}
    flagged = filed(eligibility=not_met, justification="Hồ sơ năm 2023 đang được bổ sung")
    assert flagged.flagged


def test_a_sub_unit_proposes_through_its_grassroots_union_and_authority_finds_the_deciding_level() -> None:
    assert handling_level(THI_CONG, [HN, NTL, FECON]) == FECON
    assert authority_unit(CHAIN, "upper_level") == level_of(NTL)
    assert authority_unit(CHAIN, "national") == NATIONAL
    assert authority_unit([HN, CEO], "upper_level") == level_of(HN)  # no district between: the nearest above


# -- publicity, objections, votes ---------------------------------------------------------------------------


def test_the_list_is_public_for_ten_working_days_before_the_council_meets() -> None:
    p = publicised(filed())
    window = p.publicity[FECON.unit_id]
    assert (
        isinstance(window, ProposalPublicised) and window.closes_on == date(2025, 11, 14) and window.working_days == 10
    )
    with pytest.raises(IllegalTransition) as error:
        voted(p, held_on=date(2025, 11, 14))
    assert code_of(error) == "award.publicity_not_over" and error.value.field == "meeting.held_on"
    with pytest.raises(IllegalTransition) as error:
        voted(filed())
    assert code_of(error) == "award.publicity_required"


def test_objections_are_answered_before_the_vote_and_an_upheld_one_stops_the_proposal() -> None:
    p = publicised(filed())
    with pytest.raises(Forbidden) as error:
        p.object(OUTSIDER, "o-1", "Không đúng")
    assert code_of(error) == "award.outside_publicity"
    p = then(p, p.object(MEMBER, "o-1", "Sáng kiến chưa được áp dụng thực tế"))
    with pytest.raises(IllegalTransition) as error:
        voted(p)
    assert code_of(error) == "award.objections_open"
    dismissed = then(p, p.answer(BCH, "o-1", "Đã áp dụng tại Khối thi công từ 01/5/2025", upheld=False))
    assert isinstance(dismissed.answered["o-1"], ObjectionAnswered)
    assert voted(dismissed).status == "passed"
    with pytest.raises(Conflict):
        dismissed.answer(BCH, "o-1", "x", upheld=False)
    p2 = publicised(filed())
    p2 = then(p2, p2.object(MEMBER, "o-2", "Khai không đúng"))
    _, rejected, notice = p2.answer(BCH, "o-2", "Phản ánh đúng", upheld=True)
    assert (
        isinstance(rejected, ProposalRejected) and isinstance(notice, NomineeNotified) and notice.outcome == "rejected"
    )


def test_the_council_vote_needs_a_quorum_and_the_rule_sets_share_of_all_members() -> None:
    p = publicised(filed())
    _, rule = BOOK.award("cstd_tinh", TODAY)
    with pytest.raises(InvalidInput) as error:
        p.vote(OFFICER, rule, "v", meeting(date(2025, 11, 17), 9, 5), 5, 0, 0, date(2025, 12, 1))
    assert code_of(error) == "award.no_quorum" and error.value.field == "meeting.members_present"
    with pytest.raises(InvalidInput) as error:
        voted(p, votes_for=9, votes_against=1)
    assert code_of(error) == "award.votes_over_present"
    vote, rejected, _ = p.vote(
        OFFICER, BOOK.award("cstd_tinh", TODAY)[1], "v", meeting(date(2025, 11, 17)), 8, 1, 0, date(2025, 12, 1)
    )
    assert isinstance(vote, CouncilVoted) and not vote.passed and vote.threshold_share == 0.9  # 8 of 9 < 90%
    assert isinstance(rejected, ProposalRejected) and rejected.reasons == "8 of 9 votes for; 90% needed"
    with pytest.raises(InvalidInput) as error:
        p.vote(OFFICER, rule, "v", meeting(date(2025, 11, 17)), 9, 0, 0, date(2025, 11, 16))
    assert code_of(error) == "award.meeting_in_future" and error.value.field == "meeting.held_on"
    passed = voted(p)
    with pytest.raises(IllegalTransition) as error:
        passed.vote(OFFICER, rule, "v", meeting(date(2025, 11, 18)), 9, 0, 0, date(2025, 12, 1))
    assert code_of(error) == "award.illegal_transition"


# -- escalation and decision ------------------------------------------------------------------------------


def test_escalated_twice_and_conferred_at_the_city_with_amount_rule_set_and_decider() -> None:
    p = escalated(voted(publicised(filed())))
    (sent,) = [e for e in p.escalations]
    assert isinstance(sent, ProposalEscalated) and sent.to_level == level_of(NTL) and not sent.forwarded
    assert set(sent.dossier) == set(BOOK.award("cstd_tinh", TODAY)[1].dossier)
    assert p.status == "escalated" and p.inbox == level_of(NTL)
    with pytest.raises(Forbidden):
        p.accept(BTV_HN)
    p = then(p, p.accept(BTV_NTL))
    assert p.status == "accepted" and p.current == level_of(NTL)
    p = at_city()
    assert p.escalations[-1].forwarded and p.escalations[-1].quota_unit_id == NTL.unit_id
    done = conferred()
    award = done.conferred
    assert isinstance(award, AwardConferred) and done.status == "conferred"
    assert award.decision.decider == "state_authority" and award.rule_set == "state@2025-07-01"
    assert award.amount_vnd == 7_020_000 and award.base_salary_vnd == 2_340_000 and award.multiple == Decimal("3.0")


def test_a_level_never_decides_above_its_authority_and_never_escalates_what_it_decides() -> None:
    passed = voted(publicised(filed()))
    _, rule = BOOK.award("cstd_tinh", TODAY)
    with pytest.raises(IllegalTransition) as error:
        passed.decide(BCH, rule, "v", "a-1", decision(level_of(FECON)), 1, 1)
    assert code_of(error) == "award.not_decidable_here"
    assert error.value.allowed_next == ["decide", "escalate", "reject"]
    local = voted(filed("ldtt", eligibility=eligible("ldtt")))  # no publicity for LĐTT in the rule set
    _, ldtt = BOOK.award("ldtt", TODAY)
    with pytest.raises(IllegalTransition) as error:
        local.escalate(BCH, ldtt, level_of(NTL), "1/TTr", TODAY)
    assert code_of(error) == "award.decided_here"


def test_a_dossier_missing_a_piece_cannot_leave_and_the_refusal_lists_what_is_missing() -> None:
    p = voted(publicised(filed(evidence=())))
    with pytest.raises(Conflict) as error:
        escalated(p)
    assert code_of(error) == "award.dossier_incomplete"
    assert error.value.params["missing"] == ["effect_certificate"]
    assert "Giấy xác nhận hiệu quả" in error.value.message


def test_returned_with_reasons_goes_back_down_and_can_be_sent_again() -> None:
    p = escalated(voted(publicised(filed())))
    returned, notice = p.return_down(BTV_NTL, "Bổ sung xác nhận của đơn vị áp dụng")
    assert isinstance(returned, ProposalReturned) and returned.to_level == level_of(FECON)
    assert returned.quota_unit_id == FECON.unit_id and notice.outcome == "returned"
    p = then(p, [returned, notice])
    assert p.status == "returned" and p.current == level_of(FECON)
    again = escalated(p)
    assert again.status == "escalated" and len(again.escalations) == 2


def test_not_eligible_after_a_fact_changed_is_flagged_and_needs_a_justification_to_be_decided() -> None:
    p = at_city()
    worse = eligible("cstd_tinh", facts(titles=titles("cstd_cs", 2023, 2024, 2025, revoked=(2024,))))
    (event,) = p.reevaluate(worse, "award a-cstd_cs-2024 revoked")
    assert isinstance(event, EligibilityReevaluated) and event.flagged and event.previous_outcome == "met"
    assert p.reevaluate(eligible("cstd_tinh"), "nothing changed") == []
    p = then(p, [event])
    _, rule = BOOK.award("cstd_tinh", TODAY)
    with pytest.raises(IllegalTransition) as error:
        p.decide(BTV_HN, rule, "v", "a-1", decision(level_of(HN)), 1, 1)
    assert code_of(error) == "award.not_eligible"
    p = then(p, p.justify(actor(HN, "chair"), "Quyết định thu hồi năm 2024 đang bị khiếu nại"))
    assert p.decide(BTV_HN, rule, "v", "a-1", decision(level_of(HN)), 1, 1)


def test_revocation_by_the_deciding_level_recovers_the_amount_and_notifies_the_nominee() -> None:
    p = conferred()
    d = decision(level_of(HN), "30/QĐ-UBND", date(2026, 3, 2), "state_authority")
    with pytest.raises(Forbidden):
        p.revoke(BTV_NTL, "false_claims", "Khai không đúng", d)
    with pytest.raises(InvalidInput) as error:
        p.revoke(BTV_HN, "false_claims", "x", decision(level_of(HN), on=date(2025, 1, 1)))
    assert error.value.field == "decided_on"
    revoked, notice = p.revoke(BTV_HN, "forged_evidence", "Giấy xác nhận giả mạo", d)
    assert isinstance(revoked, AwardRevoked) and revoked.amount_to_recover_vnd == 7_020_000
    assert notice.outcome == "revoked"
    p = then(p, [revoked, notice])
    with pytest.raises(IllegalTransition) as error:
        p.revoke(BTV_HN, "false_claims", "x", d)
    assert error.value.allowed_next == []


def test_an_award_above_the_platform_is_sent_to_the_confederation_and_its_decision_recorded_by_the_city() -> None:
    rule_set, rule = BOOK.award("blds_tld", TODAY)
    p = filed("blds_tld", eligibility=eligible("blds_tld"))
    p = escalated(voted(publicised(p)))
    p = then(p, p.accept(BTV_NTL))
    p = escalated(voted(publicised(p, BTV_NTL, date(2025, 11, 18)), BTV_NTL, date(2025, 12, 3)), BTV_NTL, HN, "2/TTr")
    p = then(p, p.accept(BTV_HN))
    p = voted(publicised(p, BTV_HN, date(2025, 12, 4)), BTV_HN, date(2025, 12, 19))
    p = then(p, p.escalate(BTV_HN, rule, NATIONAL, "9/TTr-LĐLĐ", TODAY))
    with pytest.raises(IllegalTransition):
        p.accept(BTV_HN)
    d = decision(level_of(HN), "1234/QĐ-TLĐ", date(2026, 4, 28))
    award, _ = p.decide(BTV_HN, rule, rule_set.version, "a-9", d, *BOOK.amount(rule, d.decided_on))
    assert isinstance(award, AwardConferred) and award.decision.level == level_of(HN)


# -- one achievement, one reward; quotas ------------------------------------------------------------------


def test_one_achievement_one_reward_at_a_level_and_not_overall_and_thematic_in_one_year() -> None:
    record = NomineeRecord("nominee-individual-m-an")
    (claim,) = record.claim("m-an", "p-1", "initiative:i-qr", "union_body:upper_level:u-ntl", 2025, "overall", "gk_ctt")
    assert isinstance(claim, AchievementClaimed)
    then(record, [claim])
    with pytest.raises(Conflict) as error:
        record.claim("m-an", "p-2", "initiative:i-qr", "union_body:upper_level:u-ntl", 2025, "overall", "gk_ctt")
    assert code_of(error) == "award.achievement_already_proposed" and error.value.params["earlier_proposal_id"] == "p-1"
    with pytest.raises(Conflict) as error:
        record.claim("m-an", "p-3", "year:2025:dmst", "union_body:upper_level:u-ntl", 2025, "thematic", "dmst_gk_ctt")
    assert code_of(error) == "award.overall_and_thematic"
    assert record.claim("m-an", "p-4", "initiative:i-qr", "union_body:city:u-hn", 2025, "overall", "bk_ldld")
    then(record, record.release("m-an", "p-1", "withdrawn"))
    assert record.claim("m-an", "p-2", "initiative:i-qr", "union_body:upper_level:u-ntl", 2025, "overall", "gk_ctt")


def test_quotas_are_allocated_by_the_parent_and_an_overrun_is_refused_saying_how_many_remain() -> None:
    ledger = QuotaLedger("quota-u-ntl-2025")
    _, rule = BOOK.award("bk_ldld", TODAY)
    with pytest.raises(Forbidden):
        ledger.allocate(BTV_NTL, HN, NTL, 2025, "bk_ldld", 2)
    with pytest.raises(InvalidInput) as error:
        ledger.allocate(BTV_HN, HN, FECON, 2025, "bk_ldld", 2)
    assert code_of(error) == "award.not_a_child"
    (allocated,) = ledger.allocate(BTV_HN, HN, NTL, 2025, "bk_ldld", 2)
    assert isinstance(allocated, QuotaAllocated)
    then(ledger, [allocated])
    used = ledger.take(NTL.unit_id, 2025, rule, ["p-1"])
    assert [type(e) for e in used] == [QuotaUsed]
    then(ledger, used)
    with pytest.raises(Conflict) as error:
        ledger.take(NTL.unit_id, 2025, rule, ["p-2", "p-3"])
    assert code_of(error) == "award.quota_exceeded" and error.value.params["remaining"] == 1
    assert "1 remain" in error.value.message
    assert ledger.take(NTL.unit_id, 2025, rule, ["p-1"]) == []  # re-sent: keeps its place
    then(ledger, ledger.take(NTL.unit_id, 2025, rule, ["p-2"]))
    with pytest.raises(Conflict) as error:
        ledger.take(NTL.unit_id, 2025, rule, ["p-3"])
    assert error.value.params["remaining"] == 0
    then(ledger, ledger.give_back(NTL.unit_id, 2025, "bk_ldld", "p-2"))
    assert ledger.remaining(rule) == 1
    with pytest.raises(Conflict) as error:
        ledger.allocate(BTV_HN, HN, NTL, 2025, "bk_ldld", 0)
    assert code_of(error) == "award.quota_below_used"
    _, blds = BOOK.award("blds_tld", TODAY)
    assert QuotaLedger("q").remaining(blds) == 4  # the rule set's default without an allocation


def test_history_rebuilds_the_same_state() -> None:
    live = proposal(*file())
    history = [*file()]
    _, rule = BOOK.award("cstd_tinh", TODAY)
    steps = [
        lambda q: q.publicise(OFFICER, rule, "v", BOOK.calendar, TODAY),
        lambda q: q.vote(OFFICER, rule, "v", meeting(date(2025, 11, 17)), 9, 0, 0, date(2025, 12, 31)),
        lambda q: q.escalate(BCH, rule, level_of(NTL), "1/TTr", TODAY),
        lambda q: q.accept(BTV_NTL),
        lambda q: q.return_down(BTV_NTL, "Bổ sung hồ sơ"),
        lambda q: q.escalate(BCH, rule, level_of(NTL), "2/TTr", TODAY),
    ]
    for step in steps:
        events = step(live)
        history += events
        then(live, events)
    rebuilt = given(Proposal, "p-1", *history)
    assert (rebuilt.status, rebuilt.inbox, rebuilt.sent_from, rebuilt.version) == (
        live.status,
        live.inbox,
        live.sent_from,
        live.version,
    )
    assert rebuilt.votes == live.votes and len(rebuilt.escalations) == 2


def test_a_proposal_is_readdressed_only_from_where_it_waits_above_its_first_level() -> None:
    platform = actor(None, subject="platform")
    p = voted(publicised(filed()))
    assert p.position() is None  # at Fecon, its first level: nothing waits above it
    with pytest.raises(Conflict) as not_waiting:
        p.readdress(platform, FECON.unit_id, level_of(DD), "moved")
    assert code_of(not_waiting) == "award.moved_meanwhile"
    p = escalated(p)
    assert p.position() == level_of(NTL)
    with pytest.raises(Conflict) as elsewhere:  # settled meanwhile by another replica
        p.readdress(platform, DD.unit_id, level_of(HN), "moved")
    assert code_of(elsewhere) == "award.moved_meanwhile"
    to_dd = p.readdress(platform, NTL.unit_id, level_of(DD), "hn.dd.fecon now sits under hn.dd")
    p = then(p, to_dd)
    assert (p.status, p.inbox, p.sent_from, p.level) == ("escalated", level_of(DD), level_of(FECON), level_of(FECON))
    p = then(p, p.accept(actor(DD, "standing_committee")))
    assert p.position() == level_of(DD)
    back = p.readdress(platform, DD.unit_id, None, "no district above hn.fecon")
    assert [type(e).__name__ for e in back] == ["ProposalReaddressed", "NomineeNotified"]
    assert back[1].outcome == "returned"  # type: ignore[attr-defined]
    p = then(p, back)
    assert (p.status, p.inbox, p.level, p.position()) == ("returned", None, level_of(FECON), None)
