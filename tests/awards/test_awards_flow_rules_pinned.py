"""The awards proposal's way up and its decision, pinned by mutation testing (issue 8): escalation,
where an escalated request waits after its unit moved, acceptance, return, decision and rejection refuse
with the error type, code, field, message, parameters and what is allowed next, and what they accept is
the whole event. Domain only, no I/O."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from contracts.awards import (
    AwardConferred,
    NomineeNotified,
    ProposalAccepted,
    ProposalEscalated,
    ProposalRejected,
    ProposalReturned,
)
from services.awards.domain.proposal import Proposal
from services.awards.domain.rules import NATIONAL, level_of
from shared.errors import Conflict, Forbidden, IllegalTransition, ThiduaError
from shared.units import UnitRef
from tests.awards.awards_helpers import (
    AN,
    BCH,
    BOOK,
    BTV_HN,
    BTV_NTL,
    DD,
    FECON,
    HN,
    NTL,
    OFFICER,
    TODAY,
    achievement,
    actor,
    decision,
    eligible,
    facts,
    then,
    titles,
)
from tests.awards.test_awards_domain import at_city, escalated, filed, publicised, voted

FECON_IN_DD = UnitRef(unit_id=FECON.unit_id, path="hn.dd.fecon", kind=FECON.kind, name=FECON.name, parent_id="u-dd")
FECON_UNDER_HN = UnitRef(unit_id=FECON.unit_id, path="hn.fecon", kind=FECON.kind, name=FECON.name, parent_id="u-hn")
SUBMITTED = date(2025, 11, 18)


def refusal(error: pytest.ExceptionInfo[ThiduaError]) -> tuple[str, str, str | None, dict[str, Any], Any]:
    e = error.value
    return e.message, e.code, e.field, e.params, e.allowed_next


def passed(code: str = "cstd_tinh", **overrides: Any) -> Proposal:
    p = filed(code, **({"eligibility": eligible(code)} | overrides))
    return voted(publicised(p) if BOOK.award(code, TODAY)[1].publicity_working_days else p)


def escalate(p: Proposal, by=BCH, to: UnitRef = NTL, number: str = "07/TTr-CĐ", **kw: Any) -> list:
    rule = kw.pop("rule", None) or BOOK.award(p.record.award_code, TODAY)[1]
    return p.escalate(by, rule, level_of(to) if to is not NATIONAL else NATIONAL, number, SUBMITTED)  # type: ignore[arg-type]


def at_national() -> Proposal:
    """A Bằng Lao động sáng tạo sent by the city to the confederation."""
    p = escalated(passed("blds_tld"))
    p = then(p, p.accept(BTV_NTL))
    p = voted(publicised(p, BTV_NTL, SUBMITTED), BTV_NTL, date(2025, 12, 3))
    p = escalated(p, BTV_NTL, HN, "2/TTr")
    p = then(p, p.accept(BTV_HN))
    p = voted(publicised(p, BTV_HN, date(2025, 12, 4)), BTV_HN, date(2025, 12, 19))
    _, rule = BOOK.award("blds_tld", TODAY)
    return then(p, p.escalate(BTV_HN, rule, NATIONAL, "9/TTr-LĐLĐ", TODAY))


# -- escalation -------------------------------------------------------------------------------------------


def test_an_escalation_carries_the_dossier_the_quota_unit_and_whether_it_is_forwarded() -> None:
    p = passed()
    (event,) = escalate(p)
    assert event == ProposalEscalated(
        proposal_id="p-1",
        unit_id=FECON.unit_id,
        from_level=level_of(FECON),
        to_level=level_of(NTL),
        submission_number="07/TTr-CĐ",
        submitted_on=SUBMITTED,
        dossier=(
            "submission_letter",
            "achievement_summary",
            "minutes_extract",
            "initiative_summary",
            "recognition_decision",
            "effect_certificate",
        ),
        forwarded=False,
        quota_unit_id=FECON.unit_id,
        escalated_by="bch-fecon",
    )
    p = then(p, [event])
    assert (p.status, p.inbox, p.sent_from, p.current, p.came_from) == (
        "escalated", level_of(NTL), level_of(FECON), level_of(FECON), {NTL.unit_id: level_of(FECON)},
    )  # fmt: skip
    forwarded = at_city().escalations[-1]
    assert (forwarded.forwarded, forwarded.from_level, forwarded.quota_unit_id) == (True, level_of(NTL), NTL.unit_id)


def test_only_a_deciding_official_of_the_level_sends_a_passed_or_returned_proposal_upward() -> None:
    with pytest.raises(IllegalTransition) as early:
        escalate(publicised(filed()))
    assert refusal(early) == (
        "the proposal is public; it cannot be sent upward; allowed next: object, answer_objection, vote, withdraw",
        "award.illegal_transition", None, {"status": "public"},
        ["object", "answer_objection", "vote", "withdraw"],
    )  # fmt: skip
    with pytest.raises(Forbidden) as officer:
        escalate(passed(), by=OFFICER)
    assert refusal(officer) == (
        "to send proposals upward at hn.ntl.fecon you need one of the roles: executive_committee, chair",
        "award.role_required", None, {"level": "hn.ntl.fecon", "roles": ["executive_committee", "chair"]}, None,
    )  # fmt: skip
    assert escalate(passed(), by=actor(FECON, "chair"))


def test_a_level_does_not_send_up_what_it_decides_itself_but_sends_what_is_decided_above() -> None:
    with pytest.raises(IllegalTransition) as here:
        escalate(passed("ldtt"))
    assert refusal(here) == (
        "ldtt is decided at hn.ntl.fecon; allowed next: decide or reject",
        "award.decided_here", None, {}, ["decide", "reject"],
    )  # fmt: skip
    (up,) = escalate(passed("gk_ctt"))  # decided one level up
    assert isinstance(up, ProposalEscalated)
    assert up.dossier == ("submission_letter", "achievement_summary", "minutes_extract")


def test_a_returned_proposal_is_sent_again_only_after_its_council_voted_at_that_level() -> None:
    p = escalated(passed())
    returned = then(p, p.return_down(BTV_NTL, "Bổ sung"))
    (again,) = escalate(returned, number="08/TTr-CĐ")
    assert again.submission_number == "08/TTr-CĐ"  # type: ignore[attr-defined]
    # Returned to a level whose council never voted on it (an older history): not sent up as it is.
    unvoted = then(filed(), [ProposalReturned(
        proposal_id="p-1", unit_id=FECON.unit_id, by_level=level_of(NTL), to_level=level_of(FECON),
        reasons="x", quota_unit_id=FECON.unit_id, returned_by="btv-ntl",
    )])  # fmt: skip
    with pytest.raises(IllegalTransition) as error:
        escalate(unvoted)
    assert refusal(error) == (
        "the proposal is returned; it cannot be sent upward before its council voted here; "
        "allowed next: escalate, withdraw",
        "award.illegal_transition", None, {"status": "returned"}, ["escalate", "withdraw"],
    )  # fmt: skip


def test_an_incomplete_dossier_does_not_leave_and_the_refusal_names_each_missing_piece() -> None:
    with pytest.raises(Conflict) as letter:
        escalate(passed(), number="  ")
    assert refusal(letter) == (
        "the dossier of proposal p-1 is missing: Tờ trình kèm danh sách (submission letter with the list)",
        "award.dossier_incomplete", None, {"proposal_id": "p-1", "missing": ["submission_letter"]}, None,
    )  # fmt: skip
    # The dossier follows the judgement as it stands now, not as it was filed.
    p = passed()
    worse = eligible("cstd_tinh", facts(initiatives=(), titles=titles("cstd_cs", 2023, 2024, 2025)))
    p = then(p, p.reevaluate(worse, "initiative revoked"))
    with pytest.raises(Conflict) as initiative:
        escalate(p)
    assert initiative.value.params["missing"] == ["initiative_summary", "recognition_decision"]
    assert initiative.value.message.endswith(
        "Báo cáo tóm tắt sáng kiến (summary of the initiative); "
        "Quyết định công nhận sáng kiến (decision recognising the initiative)"
    )


# -- where an escalated request waits -------------------------------------------------------------------


def test_an_escalated_request_waits_at_its_inbox_or_at_the_level_of_its_rank_above_the_unit_now() -> None:
    p = escalated(passed())
    assert p.waiting_at([HN, NTL, FECON]) == level_of(NTL)
    assert p.waiting_at([HN, DD, FECON_IN_DD]) == level_of(DD)  # moved: Đống Đa has it now
    assert p.waiting_at([HN, FECON_UNDER_HN]) == level_of(HN)  # no district above it: the top of the chain
    assert p.waiting_at([]) == level_of(NTL)
    assert at_national().waiting_at([HN]) == NATIONAL  # above the platform: a move changes nothing


def test_an_escalated_request_is_accepted_by_the_level_it_waits_at_now() -> None:
    p = escalated(passed())
    moved = [HN, DD, FECON_IN_DD]
    with pytest.raises(Forbidden) as old:
        p.accept(BTV_NTL, moved)
    assert refusal(old) == (
        "only officials of hn.dd may accept proposals; you act for hn.ntl",
        "award.not_your_level", None, {"level": "hn.dd", "you": "hn.ntl"}, None,
    )  # fmt: skip
    dd = actor(DD, "standing_committee", subject="btv-dd")
    assert p.accept(dd, moved) == [
        ProposalAccepted(proposal_id="p-1", unit_id=FECON.unit_id, level=level_of(DD), accepted_by="btv-dd")
    ]
    assert p.accept(BTV_NTL) == [
        ProposalAccepted(proposal_id="p-1", unit_id=FECON.unit_id, level=level_of(NTL), accepted_by="btv-ntl")
    ]
    accepted = then(p, p.accept(BTV_NTL))
    assert (accepted.current, accepted.inbox) == (level_of(NTL), None)
    with pytest.raises(IllegalTransition) as national:
        at_national().accept(BTV_HN)
    assert refusal(national) == (
        "the proposal is escalated; it cannot be accepted outside the platform (record the confederation's "
        "decision); allowed next: accept, return",
        "award.illegal_transition", None, {"status": "escalated"}, ["accept", "return"],
    )  # fmt: skip
    with pytest.raises(IllegalTransition) as not_sent:
        passed().accept(BTV_NTL)
    assert refusal(not_sent) == (
        "the proposal is passed; it cannot be accepted; allowed next: decide, escalate, reject",
        "award.illegal_transition", None, {"status": "passed"}, ["decide", "escalate", "reject"],
    )  # fmt: skip


def test_a_request_is_returned_by_where_it_waits_to_the_level_that_sent_it() -> None:
    p = escalated(passed())
    dd = actor(DD, "standing_committee", subject="btv-dd")
    returned, notice = p.return_down(dd, "Thiếu xác nhận", [HN, DD, FECON_IN_DD])
    assert returned == ProposalReturned(
        proposal_id="p-1",
        unit_id=FECON.unit_id,
        by_level=level_of(DD),
        to_level=level_of(FECON),
        reasons="Thiếu xác nhận",
        quota_unit_id=FECON.unit_id,
        returned_by="btv-dd",
    )
    assert notice == NomineeNotified(
        proposal_id="p-1", unit_id=FECON.unit_id, nominee_id="m-an", nominee_kind="individual",
        outcome="returned", message="Thiếu xác nhận",
    )  # fmt: skip
    with pytest.raises(Forbidden) as old:
        p.return_down(BTV_NTL, "x", [HN, DD, FECON_IN_DD])
    assert old.value.message == "only officials of hn.dd may return proposals; you act for hn.ntl"
    assert p.return_down(BTV_NTL, "x")[0].by_level == level_of(NTL)  # type: ignore[attr-defined]
    accepted = then(p, p.accept(BTV_NTL))
    assert accepted.return_down(BTV_NTL, "x", [HN, DD, FECON_IN_DD])[0].by_level == level_of(NTL)  # type: ignore[attr-defined]
    # Returned by the confederation: the city that sent it records the return.
    top = at_national()
    (back, _) = top.return_down(BTV_HN, "Không đủ chỉ tiêu")
    assert (back.by_level, back.to_level, back.quota_unit_id) == (NATIONAL, level_of(HN), HN.unit_id)  # type: ignore[attr-defined]
    with pytest.raises(Forbidden):
        top.return_down(BTV_NTL, "x")
    with pytest.raises(IllegalTransition) as error:
        passed().return_down(BTV_NTL, "x")
    assert error.value.message == (
        "the proposal is passed; it cannot be returned; allowed next: decide, escalate, reject"
    )


# -- decision and rejection --------------------------------------------------------------------------------


def ldtt_decision() -> tuple[Proposal, Any, Any]:
    p = passed("ldtt")
    _, rule = BOOK.award("ldtt", TODAY)
    return p, rule, decision(level_of(FECON), "15/QĐ-CTY", date(2025, 11, 20), "employer_head")


def test_a_decision_confers_the_award_with_everything_agencies_read_and_tells_the_nominee() -> None:
    p, rule, d = ldtt_decision()
    award, notice = p.decide(BCH, rule, "state@2025-07-01", "a-1", d, 710_000, 2_340_000)
    assert award == AwardConferred(
        proposal_id="p-1",
        award_id="a-1",
        unit_id=FECON.unit_id,
        unit_path=FECON.path,
        nominee=AN,
        award_code="ldtt",
        award_name="Danh hiệu Lao động tiên tiến",
        form="Danh hiệu thi đua",
        is_title=True,
        track="state",
        category="overall",
        year=2025,
        campaign_id=None,
        achievement=achievement(),
        decision=d,
        rule_set="state@2025-07-01",
        amount_vnd=710_000,
        base_salary_vnd=2_340_000,
        multiple=Decimal("0.3"),
        early_raise_months=None,
        recorded_by="bch-fecon",
    )
    assert notice == NomineeNotified(
        proposal_id="p-1", unit_id=FECON.unit_id, nominee_id="m-an", nominee_kind="individual",
        outcome="conferred", message="Danh hiệu Lao động tiên tiến — Quyết định số 15/QĐ-CTY",
    )  # fmt: skip
    done = then(p, [award, notice])
    assert (done.status, done.conferred) == ("conferred", award)
    # The months of early raise come from the rule; a thematic award carries its campaign.
    raising = rule.model_copy(update={"early_raise_months": 6})
    assert ldtt_decision()[0].decide(BCH, raising, "v", "a-1", d, 1, 1)[0].early_raise_months == 6  # type: ignore[attr-defined]
    thematic = passed("dmst_gk_cdcs", campaign_id="camp-1")
    (dmst, _) = thematic.decide(BCH, BOOK.award("dmst_gk_cdcs", TODAY)[1], "dmst@2019-03-11", "a-2", d, 1, 1)
    assert (dmst.campaign_id, dmst.category, dmst.track) == ("camp-1", "thematic", "union")  # type: ignore[attr-defined]


def test_a_decision_is_taken_by_a_deciding_official_of_the_level_with_the_authority() -> None:
    p, rule, d = ldtt_decision()
    with pytest.raises(Forbidden) as officer:
        p.decide(OFFICER, rule, "v", "a-1", d, 1, 1)
    assert refusal(officer) == (
        "to record award decisions at hn.ntl.fecon you need one of the roles: executive_committee, chair",
        "award.role_required", None, {"level": "hn.ntl.fecon", "roles": ["executive_committee", "chair"]}, None,
    )  # fmt: skip
    with pytest.raises(IllegalTransition) as early:
        filed("ldtt", eligibility=eligible("ldtt")).decide(BCH, rule, "v", "a-1", d, 1, 1)
    assert refusal(early) == (
        "the proposal is filed; it cannot be decided; allowed next: publicise, vote, withdraw",
        "award.illegal_transition", None, {"status": "filed"}, ["publicise", "vote", "withdraw"],
    )  # fmt: skip
    # A rule book that moved the authority below the level holding it: not decided there either.
    at_ntl = escalated(passed("gk_ctt"))
    at_ntl = then(at_ntl, at_ntl.accept(BTV_NTL))
    at_ntl = voted(publicised(at_ntl, BTV_NTL, SUBMITTED), BTV_NTL, date(2025, 12, 3))
    _, gk_ctt = BOOK.award("gk_ctt", TODAY)
    assert at_ntl.decide(BTV_NTL, gk_ctt, "v", "a-2", decision(level_of(NTL)), 1, 1)
    lowered = gk_ctt.model_copy(update={"authority": "grassroots"})
    with pytest.raises(IllegalTransition) as below:
        at_ntl.decide(BTV_NTL, lowered, "v", "a-2", decision(level_of(NTL)), 1, 1)
    assert refusal(below) == (
        "the proposal is passed at hn.ntl; gk_ctt is decided at grassroots level; "
        "allowed next: decide, escalate, reject",
        "award.not_decidable_here", None, {"status": "passed", "authority": "grassroots"},
        ["decide", "escalate", "reject"],
    )  # fmt: skip
    waiting = escalated(passed())
    with pytest.raises(IllegalTransition) as in_inbox:
        waiting.decide(BTV_NTL, BOOK.award("cstd_tinh", TODAY)[1], "v", "a-1", d, 1, 1)
    assert in_inbox.value.message == (
        "the proposal is escalated at hn.ntl.fecon; cstd_tinh is decided at city level; allowed next: accept, return"
    )


def test_the_confederations_decision_is_recorded_by_the_level_that_sent_it_there() -> None:
    p = at_national()
    _, rule = BOOK.award("blds_tld", TODAY)
    d = decision(level_of(HN), "1234/QĐ-TLĐ", date(2026, 4, 28))
    with pytest.raises(Forbidden) as district:
        p.decide(BTV_NTL, rule, "v", "a-9", d, 1, 1)
    assert district.value.message == "only officials of hn may record award decisions; you act for hn.ntl"
    assert p.decide(BTV_HN, rule, "v", "a-9", d, 1, 1)[0].recorded_by == "btv-hn"  # type: ignore[attr-defined]
    # A rule book that no longer sends the award above the platform: nothing to record from the confederation.
    city_rule = rule.model_copy(update={"authority": "city"})
    with pytest.raises(IllegalTransition) as error:
        p.decide(BTV_HN, city_rule, "v", "a-9", d, 1, 1)
    assert error.value.code == "award.not_decidable_here"


def test_a_proposal_not_eligible_is_decided_only_once_justified() -> None:
    p, rule, d = ldtt_decision()
    not_met = eligible("cstd_tinh", facts(titles=titles("cstd_cs", 2024, 2025)))
    p = then(p, p.reevaluate(not_met.model_copy(update={"rule_set": "state@2025-07-01"}), "x"))
    assert p.eligibility is not None and p.eligibility.outcome == "not_met"
    with pytest.raises(IllegalTransition) as error:
        p.decide(BCH, rule, "v", "a-1", d, 1, 1)
    assert refusal(error) == (
        "not eligible (three_cstd_cs not met) and not justified; allowed next: justify, reject",
        "award.not_eligible", None, {"not_met": ["three_cstd_cs"]}, ["justify", "reject"],
    )  # fmt: skip
    two_failing = eligible("cstd_tinh", facts(initiatives=(), titles=()))
    with pytest.raises(IllegalTransition) as both:
        then(ldtt_decision()[0], p.reevaluate(two_failing, "x")).decide(BCH, rule, "v", "a-1", d, 1, 1)
    assert both.value.message.startswith("not eligible (three_cstd_cs, initiative_city not met) and not justified")
    justified = then(p, p.justify(BCH, "Hồ sơ đang bổ sung"))
    assert justified.decide(BCH, rule, "v", "a-1", d, 1, 1)
    # Justified at filing: decided without another justification; unknown needs none.
    filed_justified = voted(publicised(filed(eligibility=not_met, justification="Có lý do")))
    assert filed_justified.eligibility == not_met
    unknown, rule_u, d_u = ldtt_decision()
    assert unknown.eligibility is not None and unknown.eligibility.outcome == "unknown"
    assert unknown.decide(BCH, rule_u, "v", "a-1", d_u, 1, 1)


def test_a_rejection_closes_the_proposal_at_the_deciding_level_and_tells_the_nominee_why() -> None:
    p, rule, _ = ldtt_decision()
    rejected, notice = p.reject(BCH, rule, "Chưa đủ tiêu chuẩn")
    assert rejected == ProposalRejected(
        proposal_id="p-1", unit_id=FECON.unit_id, level=level_of(FECON), reasons="Chưa đủ tiêu chuẩn",
        rejected_by="bch-fecon",
    )  # fmt: skip
    assert notice == NomineeNotified(
        proposal_id="p-1", unit_id=FECON.unit_id, nominee_id="m-an", nominee_kind="individual",
        outcome="rejected", message="Chưa đủ tiêu chuẩn",
    )  # fmt: skip
    closed = then(p, [rejected, notice])
    with pytest.raises(IllegalTransition) as again:
        closed.reject(BCH, rule, "x")
    assert refusal(again) == (
        "the proposal is rejected; it cannot be rejected; allowed next: nothing",
        "award.illegal_transition", None, {"status": "rejected"}, [],
    )  # fmt: skip
    # The decide command asks where it is decided before the proposal's own guard: a closed one says nothing is next.
    with pytest.raises(IllegalTransition) as where:
        closed.deciding_level(rule)
    assert refusal(where) == (
        "the proposal is rejected at hn.ntl.fecon; ldtt is decided at grassroots level; allowed next: nothing",
        "award.not_decidable_here", None, {"status": "rejected", "authority": "grassroots"}, [],
    )  # fmt: skip
    with pytest.raises(Forbidden) as officer:
        ldtt_decision()[0].reject(OFFICER, rule, "x")
    assert "to reject proposals at hn.ntl.fecon" in officer.value.message
    with pytest.raises(IllegalTransition) as above:
        passed().reject(BCH, BOOK.award("cstd_tinh", TODAY)[1], "x")
    assert above.value.code == "award.not_decidable_here"
    top = at_national()
    (national, _) = top.reject(BTV_HN, BOOK.award("blds_tld", TODAY)[1], "Không được chọn")
    assert national.level == level_of(HN)  # type: ignore[attr-defined]
