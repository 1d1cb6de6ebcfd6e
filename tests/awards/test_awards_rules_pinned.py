"""The awards proposal's rules, pinned by mutation testing (issue 8): filing, the council's vote and a
withdrawal refuse with the error type, code, field, message, parameters and what is allowed next, and
what they accept is the whole event. Each test fails if a check, a boundary, or what a refusal or an
event says, is removed. Domain only, no I/O. (Escalation and decision: ``test_awards_flow_rules_pinned``.)"""

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.awards import CouncilVoted, NomineeNotified, ProposalFiled, ProposalRejected, ProposalWithdrawn
from services.awards.domain.commands import Decide
from services.awards.domain.proposal import Proposal
from services.awards.domain.rules import level_of
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, ThiduaError
from tests.awards.awards_helpers import (
    AN,
    BCH,
    BOOK,
    BTV_NTL,
    FECON,
    FECON_COLLECTIVE,
    MEMBER,
    NTL,
    OFFICER,
    TODAY,
    achievement,
    actor,
    eligible,
    facts,
    meeting,
    then,
    titles,
)
from tests.awards.test_awards_domain import CERT, escalated, file, filed, publicised, voted

HELD = date(2025, 11, 17)  # the day after the ten-working-day window of TODAY closes
LATER = date(2025, 12, 31)


def refusal(error: pytest.ExceptionInfo[ThiduaError]) -> tuple[str, str, str | None, dict[str, Any], Any]:
    e = error.value
    return e.message, e.code, e.field, e.params, e.allowed_next


def vote(p: Proposal, total: int = 9, present: int = 9, votes: tuple[int, int, int] = (9, 0, 0), **kw: Any) -> list:
    rule = kw.pop("rule", None) or BOOK.award(p.record.award_code, HELD)[1]
    held_on = kw.pop("held_on", HELD)
    by = kw.pop("by", OFFICER)
    return p.vote(by, rule, "state@2025-07-01", meeting(held_on, total, present), *votes, today=kw.pop("today", LATER))


# -- filing ---------------------------------------------------------------------------------------------


def test_a_filing_records_the_whole_proposal_as_the_preparer_sent_it() -> None:
    (event,) = file(attested=("three_cstd_cs",), campaign_id="camp-1")
    assert event == ProposalFiled(
        proposal_id="p-1",
        unit_id=FECON.unit_id,
        level=level_of(FECON),
        nominee=AN,
        award_code="cstd_tinh",
        award_name="Danh hiệu Chiến sĩ thi đua thành phố",
        track="state",
        category="overall",
        authority="city",
        year=2025,
        campaign_id="camp-1",
        achievement=achievement(),
        summary="Tác giả sáng kiến mã QR, tiết kiệm 200 giờ công mỗi năm",
        evidence=(CERT,),
        attested=("three_cstd_cs",),
        eligibility=eligible("cstd_tinh"),
        justification=None,
        filed_by="bch-fecon",
    )
    p = filed()
    assert (p.status, p.current, p.justification, p.flagged, p.eligibility) == (
        "filed", level_of(FECON), None, False, eligible("cstd_tinh"),
    )  # fmt: skip


def test_only_a_preparing_official_of_the_handling_level_files() -> None:
    with pytest.raises(Forbidden) as outside:
        file(actor=BTV_NTL)
    assert refusal(outside) == (
        "only officials of hn.ntl.fecon may propose awards; you act for hn.ntl",
        "award.not_your_level", None, {"level": "hn.ntl.fecon", "you": "hn.ntl"}, None,
    )  # fmt: skip
    with pytest.raises(Forbidden) as member:
        file(actor=MEMBER)
    assert refusal(member) == (
        "to propose awards at hn.ntl.fecon you need one of the roles: "
        "emulation_officer, executive_committee, standing_committee, chair",
        "award.role_required", None,
        {"level": "hn.ntl.fecon", "roles": ["emulation_officer", "executive_committee", "standing_committee", "chair"]},
        None,
    )  # fmt: skip
    with pytest.raises(Forbidden) as nowhere:
        file(actor=actor(None, "chair"))
    assert nowhere.value.message == "only officials of hn.ntl.fecon may propose awards; you act for an unknown unit"
    assert file(actor=OFFICER)[0].filed_by == "officer-fecon"  # type: ignore[attr-defined]
    assert file(actor=actor(None, "admin", subject="operator"))[0].filed_by == "operator"  # type: ignore[attr-defined]


def test_an_award_is_for_its_kind_of_nominee_both_ways() -> None:
    with pytest.raises(InvalidInput) as collective:
        file(nominee=FECON_COLLECTIVE)
    assert refusal(collective) == (
        "cstd_tinh is for an individual, not a collective",
        "award.wrong_nominee_kind", "nominee", {"award_code": "cstd_tinh", "expected": "individual"}, None,
    )  # fmt: skip
    with pytest.raises(InvalidInput) as individual:
        file("tt_ldtt", eligibility=eligible("tt_ldtt"))
    assert refusal(individual) == (
        "tt_ldtt is for a collective, not an individual",
        "award.wrong_nominee_kind", "nominee", {"award_code": "tt_ldtt", "expected": "collective"}, None,
    )  # fmt: skip


def test_an_award_is_proposed_at_or_below_its_deciding_level_never_above() -> None:
    with pytest.raises(InvalidInput) as above:
        file("gk_cdcs", level=level_of(NTL), actor=BTV_NTL, eligibility=eligible("gk_cdcs"))
    assert refusal(above) == (
        "gk_cdcs is decided at grassroots level, below hn.ntl; propose it there",
        "award.below_level", "award_code", {"award_code": "gk_cdcs", "authority": "grassroots"}, None,
    )  # fmt: skip
    # The deciding level itself may file (equal rank), and so may any level below it.
    at_ntl = file("gk_ctt", unit_id=NTL.unit_id, level=level_of(NTL), actor=BTV_NTL, eligibility=eligible("gk_ctt"))
    assert at_ntl[0].level == level_of(NTL)  # type: ignore[attr-defined]
    assert file("gk_ctt", eligibility=eligible("gk_ctt"))[0].authority == "upper_level"  # type: ignore[attr-defined]


def test_a_thematic_award_names_its_campaign_and_an_overall_one_need_not() -> None:
    with pytest.raises(InvalidInput) as error:
        file("dmst_gk_cdcs", eligibility=eligible("dmst_gk_cdcs"))
    assert refusal(error) == (
        "dmst_gk_cdcs is a thematic award of a campaign; name the campaign",
        "award.campaign_required", "campaign_id", {}, None,
    )  # fmt: skip
    (thematic,) = file("dmst_gk_cdcs", eligibility=eligible("dmst_gk_cdcs"), campaign_id="camp-1")
    assert (thematic.category, thematic.campaign_id) == ("thematic", "camp-1")  # type: ignore[attr-defined]


def test_only_the_awards_own_criteria_are_attested_and_the_refusal_names_the_position() -> None:
    with pytest.raises(InvalidInput) as error:
        file(attested=("three_cstd_cs", "good_work"))
    assert refusal(error) == (
        "'good_work' is not a criterion of cstd_tinh",
        "award.unknown_criterion", "attested.1", {"criteria": ["initiative_city", "three_cstd_cs"]}, None,
    )  # fmt: skip


def test_a_proposal_not_eligible_is_filed_only_with_a_justification_and_stays_flagged() -> None:
    not_met = eligible("cstd_tinh", facts(titles=titles("cstd_cs", 2025)))
    with pytest.raises(InvalidInput) as error:
        file(eligibility=not_met)
    assert refusal(error) == (
        "not eligible (three_cstd_cs not met): a proposal that is not eligible needs a justification",
        "award.justification_required", "justification", {"not_met": ["three_cstd_cs"]}, None,
    )  # fmt: skip
    with pytest.raises(InvalidInput) as blank:
        file(eligibility=not_met, justification="")
    assert blank.value.code == "award.justification_required"
    nothing = eligible("cstd_tinh", facts(initiatives=(), titles=()))
    with pytest.raises(InvalidInput) as both:
        file(eligibility=nothing)
    assert both.value.message.startswith("not eligible (three_cstd_cs, initiative_city not met):")
    justified = filed(eligibility=not_met, justification="Bổ sung sau")
    assert (justified.flagged, justified.justification) == (True, "Bổ sung sau")
    # Unknown (a fact not yet known) is filed without a justification, flagged for the council.
    unknown = eligible("ldtt")
    assert unknown.outcome == "unknown"
    assert filed("ldtt", eligibility=unknown).flagged


# -- the council's vote ------------------------------------------------------------------------------------


def test_a_passed_vote_records_the_meeting_the_counts_and_the_rule_sets_shares() -> None:
    p = publicised(filed())
    (event,) = vote(p, 9, 9, (9, 0, 0))
    assert event == CouncilVoted(
        proposal_id="p-1",
        unit_id=FECON.unit_id,
        level=level_of(FECON),
        meeting=meeting(HELD),
        votes_for=9,
        votes_against=0,
        votes_abstain=0,
        quorum_share=2 / 3,
        threshold_share=0.9,
        threshold_of="all_members",
        passed=True,
        rule_set="state@2025-07-01",
        recorded_by="officer-fecon",
    )
    assert then(p, [event]).status == "passed"


def test_a_failed_vote_rejects_the_proposal_and_tells_the_nominee_how_many_voted_for() -> None:
    p = filed("ldtt", eligibility=eligible("ldtt"))
    vote_event, rejected, notice = vote(p, 9, 9, (4, 3, 2))
    assert isinstance(vote_event, CouncilVoted) and not vote_event.passed
    assert rejected == ProposalRejected(
        proposal_id="p-1",
        unit_id=FECON.unit_id,
        level=level_of(FECON),
        reasons="4 of 9 votes for; 50% needed",
        rejected_by="officer-fecon",
    )
    assert notice == NomineeNotified(
        proposal_id="p-1",
        unit_id=FECON.unit_id,
        nominee_id="m-an",
        nominee_kind="individual",
        outcome="rejected",
        message="4 of 9 votes for; 50% needed",
    )
    assert then(p, [vote_event, rejected, notice]).status == "rejected"


def test_the_threshold_is_met_at_exactly_its_share_of_all_members_or_of_those_present() -> None:
    p = filed("ldtt", eligibility=eligible("ldtt"))
    assert vote(p, 10, 10, (5, 5, 0))[0].passed  # type: ignore[attr-defined]  # 5 ≥ 50% of 10
    assert len(vote(p, 10, 10, (4, 6, 0))) == 3  # 4 < 5: rejected
    assert vote(p, 10, 7, (5, 0, 0))[0].passed  # type: ignore[attr-defined]  # of all members: 5 ≥ 5
    assert not vote(p, 10, 8, (4, 0, 0))[0].passed  # type: ignore[attr-defined]  # 4 < 5 although 4 ≥ 50% of 8
    _, ldtt = BOOK.award("ldtt", HELD)
    of_present = ldtt.model_copy(update={"vote": ldtt.vote.model_copy(update={"of": "present"})})
    (passed,) = vote(p, 10, 8, (4, 0, 0), rule=of_present)
    assert isinstance(passed, CouncilVoted) and passed.passed and passed.threshold_of == "present"
    failed = vote(p, 10, 8, (3, 0, 0), rule=of_present)
    assert failed[1].reasons == "3 of 8 votes for; 50% needed"  # type: ignore[attr-defined]


def test_the_council_votes_only_with_a_quorum_of_its_members() -> None:
    p = filed("ldtt", eligibility=eligible("ldtt"))
    with pytest.raises(InvalidInput) as error:
        vote(p, 9, 5, (5, 0, 0))
    assert refusal(error) == (
        "no quorum: 5 of 9 present, 67% needed",
        "award.no_quorum", "meeting.members_present", {"needed_share": 2 / 3}, None,
    )  # fmt: skip
    assert vote(p, 9, 6, (6, 0, 0))[0].passed  # type: ignore[attr-defined]  # exactly two thirds


def test_the_counts_fit_the_meeting_and_the_meeting_is_over() -> None:
    p = filed("ldtt", eligibility=eligible("ldtt"))
    with pytest.raises(InvalidInput) as over_total:
        vote(p, 9, 10, (9, 0, 0))
    assert refusal(over_total) == (
        "more members present than the council has", "award.present_over_total", "meeting.members_present", {}, None,
    )  # fmt: skip
    with pytest.raises(InvalidInput) as over_present:
        vote(p, 9, 8, (5, 2, 2))
    assert refusal(over_present) == (
        "9 votes from 8 members present", "award.votes_over_present", "votes_for", {}, None,
    )  # fmt: skip
    assert vote(p, 9, 9, (5, 2, 2))[0].votes_abstain == 2  # type: ignore[attr-defined]  # every member voted
    with pytest.raises(InvalidInput) as future:
        vote(p, today=date(2025, 11, 16))
    assert refusal(future) == (
        "a council vote is recorded after the meeting, not before",
        "award.meeting_in_future", "meeting.held_on", {}, None,
    )  # fmt: skip
    assert vote(p, today=HELD)[0].passed  # type: ignore[attr-defined]  # recorded the day it met


def test_the_vote_waits_for_the_publicity_window_to_close() -> None:
    with pytest.raises(IllegalTransition) as missing:
        vote(filed())
    assert refusal(missing) == (
        "cstd_tinh is made public for 10 working days before the vote; allowed next: publicise",
        "award.publicity_required", None, {"working_days": 10}, ["publicise"],
    )  # fmt: skip
    _, ldtt = BOOK.award("ldtt", HELD)
    one_day = ldtt.model_copy(update={"publicity_working_days": 1})
    with pytest.raises(IllegalTransition):
        vote(filed("ldtt", eligibility=eligible("ldtt")), rule=one_day)
    p = publicised(filed())
    with pytest.raises(IllegalTransition) as early:
        vote(p, held_on=date(2025, 11, 14))
    assert refusal(early) == (
        "the list is public until 2025-11-14; the council meets after that",
        "award.publicity_not_over", "meeting.held_on", {"closes_on": "2025-11-14"}, None,
    )  # fmt: skip
    assert vote(p, held_on=date(2025, 11, 15))[0].passed  # type: ignore[attr-defined]
    # A list made public although the rule set does not require it still keeps its window.
    ldtt_public = publicised(filed("ldtt", eligibility=eligible("ldtt")))
    assert ldtt_public.publicity[FECON.unit_id].closes_on == date(2025, 11, 2)
    assert vote(ldtt_public, held_on=TODAY, today=TODAY)[0].passed  # type: ignore[attr-defined]


def test_the_vote_waits_for_every_objection_to_be_answered() -> None:
    p = publicised(filed())
    p = then(p, p.object(MEMBER, "o-1", "Chưa áp dụng"))
    p = then(p, p.object(MEMBER, "o-2", "Khai chưa đủ"))
    p = then(p, p.answer(BCH, "o-1", "Đã áp dụng", upheld=False))
    with pytest.raises(IllegalTransition) as error:
        vote(p)
    assert refusal(error) == (
        "1 objection(s) are not answered; answer them before the vote",
        "award.objections_open", None, {"objection_ids": ["o-2"]}, ["answer_objection"],
    )  # fmt: skip
    p = then(p, p.answer(BCH, "o-2", "Đã bổ sung", upheld=False))
    assert vote(p)[0].passed  # type: ignore[attr-defined]


def test_the_vote_is_taken_once_by_a_preparer_of_the_handling_level_while_open() -> None:
    p = filed("ldtt", eligibility=eligible("ldtt"))
    with pytest.raises(Forbidden) as member:
        vote(p, by=MEMBER)
    assert member.value.message.startswith("to record its council's vote at hn.ntl.fecon you need one of the roles")
    done = filed("ldtt", eligibility=eligible("ldtt"))
    with pytest.raises(IllegalTransition) as passed:
        vote(then(done, vote(done)))
    assert refusal(passed) == (
        "the proposal is passed; it cannot be voted on; allowed next: decide, escalate, reject",
        "award.illegal_transition", None, {"status": "passed"}, ["decide", "escalate", "reject"],
    )  # fmt: skip
    # A failed vote from an older history (no rejection recorded with it) still counts as the vote.
    failed_only = then(filed("ldtt", eligibility=eligible("ldtt")), vote(p, votes=(1, 8, 0))[:1])
    assert failed_only.status == "filed"
    with pytest.raises(Conflict) as again:
        vote(failed_only)
    assert refusal(again) == (
        "the council of hn.ntl.fecon has already voted", "award.already_voted", None, {}, None,
    )  # fmt: skip
    # The level a proposal was sent up to votes on it after accepting it.
    at_ntl = escalated(voted(publicised(filed())))
    at_ntl = then(at_ntl, at_ntl.accept(BTV_NTL))
    at_ntl = publicised(at_ntl, BTV_NTL, date(2025, 11, 18))
    (ntl_vote,) = vote(at_ntl, by=BTV_NTL, held_on=date(2025, 12, 3))
    assert ntl_vote.level == level_of(NTL)  # type: ignore[attr-defined]


# -- withdrawal ---------------------------------------------------------------------------------------------


def test_a_preparer_withdraws_a_filed_public_or_returned_proposal_with_a_reason() -> None:
    expected = ProposalWithdrawn(
        proposal_id="p-1",
        unit_id=FECON.unit_id,
        level=level_of(FECON),
        reason="Tác giả xin rút",
        withdrawn_by="bch-fecon",
    )
    assert filed().withdraw(BCH, "Tác giả xin rút") == [expected]
    assert publicised(filed()).withdraw(BCH, "Tác giả xin rút") == [expected]
    p = escalated(voted(publicised(filed())))
    returned = then(p, p.return_down(BTV_NTL, "Thiếu giấy xác nhận"))
    assert returned.withdraw(BCH, "Tác giả xin rút") == [expected]
    assert then(returned, [expected]).status == "withdrawn"
    with pytest.raises(IllegalTransition) as passed:
        voted(publicised(filed())).withdraw(BCH, "x")
    assert refusal(passed) == (
        "the proposal is passed; it cannot be withdrawn; allowed next: decide, escalate, reject",
        "award.illegal_transition", None, {"status": "passed"}, ["decide", "escalate", "reject"],
    )  # fmt: skip
    with pytest.raises(IllegalTransition):
        p.withdraw(BCH, "x")  # escalated: the level above has it
    with pytest.raises(Forbidden) as member:
        filed().withdraw(MEMBER, "x")
    assert member.value.code == "award.role_required"
    assert "to withdraw proposals at hn.ntl.fecon" in member.value.message
    with pytest.raises(Forbidden) as above:
        filed().withdraw(BTV_NTL, "x")
    assert above.value.code == "award.not_your_level"


def test_an_unknown_proposal_is_not_found_by_any_command() -> None:
    empty = Proposal("p-x")
    for command in (lambda: empty.withdraw(BCH, "x"), lambda: vote(empty, rule=BOOK.award("ldtt", HELD)[1])):
        with pytest.raises(ThiduaError) as error:
            command()
        assert (error.value.code, error.value.message) == ("award.proposal_not_found", "no proposal p-x")


def test_a_signers_title_is_at_most_three_trimmed_lines() -> None:
    """The decide command's signature block (Decree 30): blank lines and the spaces around each line go; a
    fourth line is refused naming the field, its code and the most lines allowed."""
    decide = {"proposal_ids": ["p-1"], "decision_number": "2150/QĐ-UBND", "decided_on": "2025-12-20"}
    signed = Decide(
        **decide, signer_name="Trần Sỹ Thanh", signer_title=" TM. BAN THƯỜNG VỤ\r\n\r\n  KT. CHỦ TỊCH \r\nPHÓ CHỦ TỊCH"
    )
    assert signed.signer_title == "TM. BAN THƯỜNG VỤ\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    assert Decide(**decide, signer_name="A", signer_title="CHỦ TỊCH").signer_title == "CHỦ TỊCH"
    with pytest.raises(ValidationError) as four:
        Decide(**decide, signer_name="A", signer_title="TM. BAN THƯỜNG VỤ\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nTHƯỜNG TRỰC")
    (error,) = four.value.errors()
    assert (error["type"], error["loc"], error["ctx"]) == ("too_many_lines", ("signer_title",), {"max_lines": 3})
    assert error["msg"] == (
        "a signer's title has at most 3 lines (e.g. TM. BAN THƯỜNG VỤ / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH)"
    )
