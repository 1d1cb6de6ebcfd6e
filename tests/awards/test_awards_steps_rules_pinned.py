"""The awards proposal's other steps, pinned by mutation testing (issue 8): publicity, objections,
justification, judging again, re-addressing after the tree changed, and revocation refuse with the error
type, code, field, message and parameters, and what they accept is the whole event. Domain only, no I/O."""

from datetime import date
from typing import Any

import pytest

from contracts.awards import (
    AwardRevoked,
    EligibilityReevaluated,
    NomineeNotified,
    ObjectionAnswered,
    ObjectionRaised,
    ProposalJustified,
    ProposalPublicised,
    ProposalReaddressed,
    ProposalRejected,
)
from services.awards.domain.proposal import Proposal, judged_again, reevaluation
from services.awards.domain.rules import level_of
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound, ThiduaError
from tests.awards.awards_helpers import (
    AN,
    BCH,
    BOOK,
    BTV_HN,
    BTV_NTL,
    DD,
    FECON,
    HN,
    MEMBER,
    NTL,
    OFFICER,
    OUTSIDER,
    THI_CONG,
    TODAY,
    actor,
    decision,
    eligible,
    facts,
    then,
    titles,
)
from tests.awards.test_awards_domain import at_city, conferred, escalated, filed, publicised, voted
from tests.awards.test_awards_flow_rules_pinned import FECON_IN_DD, at_national


def refusal(error: pytest.ExceptionInfo[ThiduaError]) -> tuple[str, str, str | None, dict[str, Any], Any]:
    e = error.value
    return e.message, e.code, e.field, e.params, e.allowed_next


def publicise(p: Proposal, by=OFFICER, opens_on: date = TODAY) -> list:
    rule_set, rule = BOOK.award(p.record.award_code, opens_on)
    return p.publicise(by, rule, rule_set.version, BOOK.calendar, opens_on)


# -- publicity and objections ---------------------------------------------------------------------------


def test_a_preparer_makes_the_list_public_for_the_rule_sets_working_days() -> None:
    (event,) = publicise(filed())
    assert event == ProposalPublicised(
        proposal_id="p-1",
        unit_id=FECON.unit_id,
        level=level_of(FECON),
        opens_on=TODAY,
        closes_on=date(2025, 11, 14),
        working_days=10,
        rule_set="state@2025-07-01",
        publicised_by="officer-fecon",
    )
    with pytest.raises(Forbidden) as member:
        publicise(filed(), by=MEMBER)
    assert member.value.message.startswith("to publish its list at hn.ntl.fecon you need one of the roles")
    with pytest.raises(IllegalTransition) as twice:
        publicise(publicised(filed()))
    assert refusal(twice) == (
        "the proposal is public; it cannot be made public; allowed next: object, answer_objection, vote, withdraw",
        "award.illegal_transition", None, {"status": "public"}, ["object", "answer_objection", "vote", "withdraw"],
    )  # fmt: skip
    p = escalated(voted(publicised(filed())))
    p = then(p, p.accept(BTV_NTL))
    (at_ntl,) = publicise(p, BTV_NTL, date(2025, 11, 18))
    assert at_ntl.level == level_of(NTL)  # type: ignore[attr-defined]


def test_anyone_in_the_levels_subtree_objects_while_the_list_is_public() -> None:
    p = publicised(filed())
    (event,) = p.object(MEMBER, "o-1", "Chưa áp dụng")
    assert event == ObjectionRaised(
        proposal_id="p-1", unit_id=FECON.unit_id, objection_id="o-1", level_path="hn.ntl.fecon",
        text="Chưa áp dụng", raised_by="member-fecon",
    )  # fmt: skip
    below = actor(THI_CONG, "member")
    assert p.object(below, "o-2", "x")
    assert p.object(actor(None, "admin"), "o-3", "x")
    with pytest.raises(Forbidden) as outside:
        p.object(OUTSIDER, "o-4", "x")
    assert refusal(outside) == (
        "the list is public in hn.ntl.fecon's subtree; you act for hn.dd",
        "award.outside_publicity", None, {"level": "hn.ntl.fecon"}, None,
    )  # fmt: skip
    with pytest.raises(Forbidden) as above:
        p.object(BTV_NTL, "o-5", "x")  # the level above is not in the subtree
    assert above.value.code == "award.outside_publicity"
    with pytest.raises(Forbidden) as nowhere:
        p.object(actor(None, "member"), "o-6", "x")
    assert nowhere.value.message == "the list is public in hn.ntl.fecon's subtree; you act for an unknown unit"
    with pytest.raises(IllegalTransition) as closed:
        filed().object(MEMBER, "o-7", "x")
    assert closed.value.message.startswith("the proposal is filed; it cannot take objections;")


def test_a_decider_answers_each_objection_once_and_an_upheld_one_rejects_the_proposal() -> None:
    with pytest.raises(IllegalTransition) as not_public:
        filed().answer(BCH, "o-1", "x", upheld=False)
    assert not_public.value.message == (
        "the proposal is filed; it cannot answer objections; allowed next: publicise, vote, withdraw"
    )
    p = publicised(filed())
    p = then(p, p.object(MEMBER, "o-1", "Chưa áp dụng"))
    with pytest.raises(NotFound) as unknown:
        p.answer(BCH, "o-9", "x", upheld=False)
    assert refusal(unknown) == ("no objection o-9 on this proposal", "award.objection_not_found", None, {}, None)
    with pytest.raises(Forbidden) as officer:
        p.answer(OFFICER, "o-1", "x", upheld=False)
    assert officer.value.message.startswith("to answer objections at hn.ntl.fecon you need one of the roles")
    (dismissed,) = p.answer(BCH, "o-1", "Đã áp dụng", upheld=False)
    assert dismissed == ObjectionAnswered(
        proposal_id="p-1", unit_id=FECON.unit_id, objection_id="o-1", answer="Đã áp dụng", upheld=False,
        answered_by="bch-fecon",
    )  # fmt: skip
    answered_event, rejected, notice = p.answer(BCH, "o-1", "Phản ánh đúng", upheld=True)
    assert isinstance(answered_event, ObjectionAnswered) and answered_event.upheld
    assert rejected == ProposalRejected(
        proposal_id="p-1", unit_id=FECON.unit_id, level=level_of(FECON),
        reasons="objection upheld: Phản ánh đúng", rejected_by="bch-fecon",
    )  # fmt: skip
    assert notice == NomineeNotified(
        proposal_id="p-1", unit_id=FECON.unit_id, nominee_id="m-an", nominee_kind="individual",
        outcome="rejected", message="objection upheld: Phản ánh đúng",
    )  # fmt: skip
    then(p, [dismissed])
    with pytest.raises(Conflict) as again:
        p.answer(BCH, "o-1", "x", upheld=False)
    assert refusal(again) == ("objection o-1 is already answered", "award.objection_answered", None, {}, None)


# -- justification and judging again ------------------------------------------------------------------------


def test_a_preparer_justifies_an_open_proposal() -> None:
    assert filed().justify(OFFICER, "Lý do") == [
        ProposalJustified(proposal_id="p-1", unit_id=FECON.unit_id, justification="Lý do", justified_by="officer-fecon")
    ]
    with pytest.raises(Forbidden) as member:
        filed().justify(MEMBER, "x")
    assert member.value.message.startswith("to justify proposals at hn.ntl.fecon you need one of the roles")
    with pytest.raises(IllegalTransition) as closed:
        conferred().justify(BTV_HN, "x")
    assert closed.value.message == "the proposal is conferred; it cannot be justified; allowed next: revoke"


def test_an_open_or_conferred_proposal_is_judged_again_and_flagged_when_worse_or_not_met() -> None:
    met = eligible("cstd_tinh")
    not_met = eligible("cstd_tinh", facts(titles=titles("cstd_cs", 2025)))
    (event,) = filed().reevaluate(not_met, "award revoked")
    assert event == EligibilityReevaluated(
        proposal_id="p-1", unit_id=FECON.unit_id, eligibility=not_met, previous_outcome="met",
        cause="award revoked", flagged=True,
    )  # fmt: skip
    assert conferred().reevaluate(not_met, "x")  # a conferred award is judged again too
    assert Proposal("p-x").reevaluate(not_met, "x") == []
    closed = filed()
    then(closed, closed.withdraw(BCH, "x"))
    assert closed.reevaluate(not_met, "x") == []
    # Better again: not flagged; unknown is flagged although not worse than unknown.
    flagged = then(filed(eligibility=not_met, justification="j"), [])
    (better,) = flagged.reevaluate(met, "restored")
    assert (better.previous_outcome, better.flagged) == ("not_met", False)  # type: ignore[attr-defined]
    unknown = eligible("ldtt")
    assert judged_again("p-1", "u", "unknown", unknown, "c").flagged  # type: ignore[attr-defined]
    assert not judged_again("p-1", "u", "unknown", met, "c").flagged  # type: ignore[attr-defined]
    # The same outcome with other facts is a new judgement; the same judgement is none.
    other_facts = met.model_copy(update={"criteria": met.criteria[:1]})
    assert reevaluation("p-1", "u", met, other_facts, "c")
    assert reevaluation("p-1", "u", met, met.model_copy(update={"evaluated_on": date(2030, 1, 1)}), "c") == []
    assert reevaluation("p-1", "u", unknown, unknown.model_copy(update={"outcome": "met"}), "c")


# -- re-addressed after the tree changed -----------------------------------------------------------------


def test_a_readdressed_request_carries_where_it_was_where_it_goes_and_who_sent_it() -> None:
    platform = actor(None, subject="platform")
    p = escalated(voted(publicised(filed())))
    (moved,) = p.readdress(platform, NTL.unit_id, level_of(DD), "moved")
    assert moved == ProposalReaddressed(
        proposal_id="p-1", unit_id=FECON.unit_id, from_level=level_of(NTL), to_level=level_of(DD),
        sender=level_of(FECON), reason="moved", readdressed_by="platform",
    )  # fmt: skip
    with pytest.raises(Conflict) as same:
        p.readdress(platform, NTL.unit_id, level_of(NTL), "moved")
    assert refusal(same) == ("proposal p-1 is already at hn.ntl", "award.moved_meanwhile", None, {}, None)
    with pytest.raises(Conflict) as gone:
        p.readdress(platform, DD.unit_id, None, "moved")
    assert refusal(gone) == (
        "proposal p-1 no longer waits at u-dd", "award.moved_meanwhile", None, {"waiting_at": "u-dd"}, None,
    )  # fmt: skip
    back, notice = p.readdress(platform, NTL.unit_id, None, "no district above")
    assert (back.to_level, back.sender) == (None, level_of(FECON))  # type: ignore[attr-defined]
    assert notice == NomineeNotified(
        proposal_id="p-1", unit_id=FECON.unit_id, nominee_id="m-an", nominee_kind="individual",
        outcome="returned", message="no district above",
    )  # fmt: skip
    # Accepted at the district: the sender is the level that sent it there.
    accepted = then(p, p.accept(BTV_NTL))
    assert accepted.position() == level_of(NTL)
    (from_ntl,) = accepted.readdress(platform, NTL.unit_id, level_of(DD), "merged")
    assert (from_ntl.sender, from_ntl.from_level) == (level_of(FECON), level_of(NTL))  # type: ignore[attr-defined]
    # Accepted at the level the request waited at after a move: sent by its first level.
    moved = escalated(voted(publicised(filed())))
    moved = then(moved, moved.accept(actor(DD, "standing_committee"), [HN, DD, FECON_IN_DD]))
    (from_dd,) = moved.readdress(platform, DD.unit_id, level_of(HN), "merged")
    assert from_dd.sender == level_of(FECON)  # type: ignore[attr-defined]
    # Handled at the city: the district sent it there.
    city = at_city()
    assert city.readdress(platform, HN.unit_id, None, "x")[0].sender == level_of(NTL)  # type: ignore[attr-defined]
    # Returned by the city to the district: the district got it from its first level.
    sent = escalated(voted(publicised(filed())))
    sent = then(sent, sent.accept(BTV_NTL))
    sent = escalated(voted(publicised(sent, BTV_NTL, date(2025, 11, 18)), BTV_NTL, date(2025, 12, 3)), BTV_NTL, HN)
    back_at_ntl = then(sent, sent.return_down(BTV_HN, "Bổ sung"))
    assert (back_at_ntl.status, back_at_ntl.position(), back_at_ntl.sent_from) == (
        "returned",
        level_of(NTL),
        level_of(NTL),
    )
    (from_ntl_again,) = back_at_ntl.readdress(platform, NTL.unit_id, level_of(DD), "merged")
    assert from_ntl_again.sender == level_of(FECON)  # type: ignore[attr-defined]
    # Closed, or above the platform: nothing waits to be moved.
    assert conferred().position() is None and Proposal("p-x").position() is None
    assert at_national().position() is None


# -- revocation -----------------------------------------------------------------------------------------


def test_the_deciding_level_revokes_on_or_after_the_decision_and_recovers_the_amount() -> None:
    p = conferred()
    award = p.conferred
    assert award is not None
    d = decision(level_of(HN), "30/QĐ-UBND", date(2025, 12, 22), "state_authority")  # the same day
    revoked, notice = p.revoke(BTV_HN, "forged_evidence", "Giấy xác nhận giả mạo", d)
    assert revoked == AwardRevoked(
        proposal_id="p-1",
        award_id="a-1",
        unit_id=FECON.unit_id,
        unit_path=FECON.path,
        nominee=AN,
        award_code="cstd_tinh",
        award_name="Danh hiệu Chiến sĩ thi đua thành phố",
        year=2025,
        reason="forged_evidence",
        explanation="Giấy xác nhận giả mạo",
        decision=d,
        amount_to_recover_vnd=7_020_000,
        revoked_by="btv-hn",
    )
    assert notice == NomineeNotified(
        proposal_id="p-1", unit_id=FECON.unit_id, nominee_id="m-an", nominee_kind="individual", outcome="revoked",
        message="Danh hiệu Chiến sĩ thi đua thành phố — thu hồi theo Quyết định số 30/QĐ-UBND",
    )  # fmt: skip
    with pytest.raises(InvalidInput) as early:
        p.revoke(BTV_HN, "false_claims", "x", decision(level_of(HN), on=date(2025, 12, 21)))
    assert refusal(early) == (
        "a revocation cannot predate the decision it annuls",
        "award.revocation_before_decision", "decided_on", {"decided_on": "2025-12-22"}, None,
    )  # fmt: skip
    with pytest.raises(Forbidden) as officer:
        p.revoke(actor(HN, "emulation_officer"), "false_claims", "x", d)
    assert officer.value.message.startswith("to revoke its decisions at hn you need one of the roles")
    with pytest.raises(IllegalTransition) as open_:
        filed().revoke(BTV_HN, "false_claims", "x", d)
    assert open_.value.message == (
        "the proposal is filed; it cannot be revoked; allowed next: publicise, vote, withdraw"
    )


def test_the_proposals_state_keeps_each_event_it_reads_later() -> None:
    p = publicised(filed())
    (raised,) = p.object(MEMBER, "o-1", "Chưa áp dụng")
    then(p, [raised])
    assert p.objections == {"o-1": raised}
    (judged,) = p.reevaluate(eligible("cstd_tinh", facts(titles=titles("cstd_cs", 2025))), "x")
    then(p, [judged])
    assert (p.flagged, p.eligibility) == (True, judged.eligibility)  # type: ignore[attr-defined]
    sent = escalated(voted(publicised(filed())))
    (moved,) = sent.readdress(actor(None, subject="platform"), NTL.unit_id, level_of(DD), "moved")
    then(sent, [moved])
    assert sent.readdressed == [moved]
    back = then(sent, sent.return_down(actor(DD, "standing_committee"), "x"))
    assert (back.status, back.inbox, back.current) == ("returned", None, level_of(FECON))
    done = conferred()
    d = decision(level_of(HN), "30/QĐ-UBND", date(2026, 3, 2), "state_authority")
    revoked, notice = done.revoke(BTV_HN, "false_claims", "x", d)
    then(done, [revoked, notice])
    assert (done.status, done.revoked) == ("revoked", revoked)
