"""Given events → command → expected events or error, for every rule of the Idea and Initiative aggregates."""

from datetime import date

import pytest

from contracts.registry import (
    Author,
    EscalationForwarded,
    EscalationRequested,
    EscalationReturned,
    IdeaClaimed,
    IdeaConverted,
    IdeaSubmitted,
    InitiativeAccepted,
    InitiativeApplied,
    InitiativeDrafted,
    InitiativeRecognised,
    InitiativeRegistered,
    InitiativeRejected,
    InitiativeReturned,
    InitiativeRevised,
    InitiativeScored,
    ReplicationApplied,
    ReplicationOrdered,
)
from services.registry.domain.idea import Idea
from services.registry.domain.initiative import Initiative
from services.registry.domain.rules import reviewing_unit
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from shared.events import EventMetadata, new_envelope
from tests.registry.registry_helpers import (
    BCH,
    BTV_HN,
    BTV_NTL,
    CEO,
    CHAIN,
    DD,
    FECON,
    HANDICO,
    HN,
    MEMBER,
    NTL,
    THI_CONG,
    actor,
    given,
    registered,
    registration,
    then,
)

SCORES = {"novelty": 8, "feasibility": 9, "effectiveness": 7, "influence": 6}
D = date(2025, 6, 1)


def scored() -> Initiative:
    initiative = given(registered())
    return then(initiative, initiative.score(BCH, FECON, "Lê Văn Cường", SCORES, "Có tính mới"))


def recognised() -> Initiative:
    initiative = scored()
    return then(initiative, initiative.recognise(BCH, CHAIN, FECON, "12/QĐ-CĐ", D))


def applied() -> Initiative:
    initiative = recognised()
    return then(initiative, initiative.report_application(MEMBER, "Khối thi công", D, "Biên bản", 80_000_000))


def escalated() -> Initiative:
    initiative = applied()
    return then(initiative, initiative.request_escalation(BCH, CHAIN, "Đề nghị công nhận cấp quận"))


# -- ideas ---------------------------------------------------------------------------------------------


def idea(*later: object) -> Idea:
    meta = EventMetadata(actor="t", unit_path=FECON.path)
    history = [
        IdeaSubmitted(idea_id="d-1", unit_id=FECON.unit_id, text="Số hoá sổ đoàn viên", submitted_by="m"),
        *later,
    ]
    return Idea.from_history("d-1", [new_envelope("s", i + 1, e, meta) for i, e in enumerate(history)])  # type: ignore[arg-type]


MENTOR = actor(FECON, "incubator_mentor", subject="mentor-1")
AUTHORS = (Author(name="Nguyễn Văn An", share=100),)


def test_a_mentor_claims_comments_and_converts_an_idea_into_a_draft() -> None:
    assert idea().claim(MENTOR) == [IdeaClaimed(idea_id="d-1", unit_id="u-fecon", mentor="mentor-1")]
    claimed = idea(IdeaClaimed(idea_id="d-1", unit_id="u-fecon", mentor="mentor-1"))
    (commented,) = claimed.comment(MENTOR, "Cần nêu rõ số giờ tiết kiệm")
    assert commented.comment == "Cần nêu rõ số giờ tiết kiệm"
    converted, drafted = claimed.convert(MENTOR, "i-9", "Số hoá sổ đoàn viên", AUTHORS)
    assert isinstance(converted, IdeaConverted) and converted.initiative_id == "i-9"
    assert isinstance(drafted, InitiativeDrafted) and drafted.idea_id == "d-1" and drafted.authors == AUTHORS


def test_idea_rules() -> None:
    with pytest.raises(Forbidden, match="incubator mentor"):
        idea().claim(MEMBER)
    with pytest.raises(IllegalTransition, match="not claimed yet"):
        idea().convert(MENTOR, "i", "Tiêu đề", AUTHORS)
    claimed = idea(IdeaClaimed(idea_id="d-1", unit_id="u-fecon", mentor="mentor-1"))
    with pytest.raises(IllegalTransition, match="cannot be claimed again"):
        claimed.claim(MENTOR)
    with pytest.raises(Forbidden, match="claimed by the mentor mentor-1"):
        claimed.comment(actor(FECON, "incubator_mentor", subject="mentor-2"), "x")
    done = idea(
        IdeaClaimed(idea_id="d-1", unit_id="u-fecon", mentor="mentor-1"),
        IdeaConverted(idea_id="d-1", unit_id="u-fecon", initiative_id="i", by="mentor-1"),
    )
    with pytest.raises(IllegalTransition, match="already converted"):
        done.convert(MENTOR, "i2", "Tiêu đề", AUTHORS)


# -- registration and review ----------------------------------------------------------------------------


def test_a_draft_is_completed_by_registering_it() -> None:
    draft = given(
        InitiativeDrafted(
            initiative_id="i-1", unit_id="u-fecon", idea_id="d", title="T", authors=AUTHORS, drafted_by="x"
        )
    )
    (event,) = draft.complete(registration(), MEMBER)
    assert isinstance(event, InitiativeRegistered) and event.unit_id == "u-fecon" and event.campaign_id == "camp-1"
    with pytest.raises(IllegalTransition, match="not a draft"):
        given(registered()).complete(registration(), MEMBER)


def test_the_council_scores_and_each_official_scores_once() -> None:
    initiative = given(registered())
    (event,) = initiative.score(BCH, FECON, "Lê Văn Cường", SCORES, "Tốt")
    assert isinstance(event, InitiativeScored) and event.novelty == 8 and event.scorer == "bch-fecon"
    with pytest.raises(Forbidden, match="review council"):
        initiative.score(MEMBER, FECON, "x", SCORES, "x")
    with pytest.raises(Forbidden, match="review council"):
        initiative.score(actor(CEO, "executive_committee"), FECON, "x", SCORES, "x")
    with pytest.raises(Conflict, match="already scored"):
        scored().score(BCH, FECON, "Lê Văn Cường", SCORES, "again")


def test_recognition_at_grassroots_needs_the_council_and_the_executive_committee() -> None:
    with pytest.raises(IllegalTransition, match="not scored"):
        given(registered()).recognise(BCH, CHAIN, FECON, "1/QĐ", D)
    with pytest.raises(Forbidden, match=r"only officials of hn.ntl.fecon"):
        scored().recognise(actor(CEO, "executive_committee"), CHAIN, FECON, "1/QĐ", D)
    with pytest.raises(Forbidden, match="executive_committee, chair"):
        scored().recognise(actor(FECON, "emulation_officer"), CHAIN, FECON, "1/QĐ", D)
    (event,) = scored().recognise(BCH, CHAIN, FECON, "12/QĐ-CĐ", D)
    assert event == InitiativeRecognised(
        initiative_id="i-1", unit_id="u-fecon", scope="grassroots", by_unit_id="u-fecon",
        by_unit_path="hn.ntl.fecon", decision_number="12/QĐ-CĐ", decision_date=D, decided_by="bch-fecon",
    )  # fmt: skip
    assert recognised().status == "recognised"


def test_a_sub_unit_initiative_is_reviewed_by_its_grassroots_union() -> None:
    assert reviewing_unit(THI_CONG, [HN, NTL, FECON]) == FECON
    assert reviewing_unit(FECON, [HN, NTL]) == FECON


def test_recognising_a_draft_is_illegal_and_says_what_is_next() -> None:
    draft = given(
        InitiativeDrafted(
            initiative_id="i-1", unit_id="u-fecon", idea_id=None, title="T", authors=AUTHORS, drafted_by="x"
        )
    )
    with pytest.raises(IllegalTransition, match="allowed next: complete and register it"):
        draft.recognise(BCH, CHAIN, FECON, "1", D)


def test_reject_and_return_with_reasons_then_revise() -> None:
    (rejected,) = scored().reject(BCH, FECON, "Trùng với sáng kiến đã công nhận")
    assert isinstance(rejected, InitiativeRejected) and rejected.by_unit_path == "hn.ntl.fecon"
    initiative = scored()
    (returned,) = initiative.return_for_revision(BCH, FECON, "Bổ sung số liệu hiệu quả")
    assert isinstance(returned, InitiativeReturned)
    then(initiative, [returned])
    assert initiative.status == "returned"
    with pytest.raises(IllegalTransition, match="the authors revise and resubmit"):
        initiative.recognise(BCH, CHAIN, FECON, "1", D)
    (revised,) = initiative.revise(registration(title="Ứng dụng mã QR (bản sửa)"), MEMBER)
    assert isinstance(revised, InitiativeRevised)
    then(initiative, [revised])
    assert initiative.status == "registered" and initiative.scores == {}  # a revision is scored afresh
    with pytest.raises(IllegalTransition, match="only a returned initiative"):
        recognised().revise(registration(), MEMBER)
    with pytest.raises(Forbidden):
        scored().reject(MEMBER, FECON, "x")


# -- application and acceptance -----------------------------------------------------------------------


def test_application_and_acceptance() -> None:
    initiative = recognised()
    (event,) = initiative.report_application(MEMBER, "Khối thi công", D, "Biên bản", 80_000_000)
    assert isinstance(event, InitiativeApplied) and event.actual_benefit_vnd == 80_000_000
    then(initiative, [event])
    assert initiative.status == "applied"
    with pytest.raises(IllegalTransition, match="acceptance needs a reported application"):
        recognised().accept(BCH, FECON, 1, "")
    with pytest.raises(Forbidden):
        initiative.accept(MEMBER, FECON, 1, "")
    (accepted,) = initiative.accept(BCH, FECON, 75_000_000, "Nghiệm thu đạt")
    assert isinstance(accepted, InitiativeAccepted) and accepted.actual_benefit_vnd == 75_000_000


def test_applying_a_rejected_initiative_is_illegal() -> None:
    initiative = scored()
    then(initiative, initiative.reject(BCH, FECON, "Không có tính mới"))
    with pytest.raises(IllegalTransition, match=r"rejected initiative cannot be applied: .*closed"):
        initiative.report_application(MEMBER, "x", D, "x", 1)
    with pytest.raises(IllegalTransition, match="registered initiative cannot be applied"):
        given(registered()).report_application(MEMBER, "x", D, "x", 1)


# -- escalation -------------------------------------------------------------------------------------------


def test_only_a_recognised_and_applied_initiative_goes_up_to_the_parent() -> None:
    with pytest.raises(IllegalTransition, match="recognised and applied"):
        recognised().request_escalation(BCH, CHAIN, "x")
    (event,) = applied().request_escalation(BCH, CHAIN, "Đề nghị")
    assert isinstance(event, EscalationRequested)
    assert (event.from_path, event.to_path, event.to_unit_id) == ("hn.ntl.fecon", "hn.ntl", "u-ntl")
    with pytest.raises(IllegalTransition, match="already waiting"):
        escalated().request_escalation(BCH, CHAIN, "again")
    with pytest.raises(Forbidden):
        applied().request_escalation(MEMBER, CHAIN, "x")


def test_the_parent_forwards_one_level_up_and_the_city_recognises_at_its_scope() -> None:
    initiative = escalated()
    with pytest.raises(Forbidden, match=r"only officials of hn.ntl"):
        initiative.forward(BTV_HN, CHAIN, "skip")  # the city cannot act before Nam Từ Liêm: no skipping
    with pytest.raises(Forbidden, match="standing_committee, chair"):
        initiative.forward(actor(NTL, "executive_committee"), CHAIN, "x")
    (forwarded,) = initiative.forward(BTV_NTL, CHAIN, "Đề nghị Thành phố xem xét")
    assert isinstance(forwarded, EscalationForwarded) and (forwarded.from_path, forwarded.to_path) == ("hn.ntl", "hn")
    then(initiative, [forwarded])
    with pytest.raises(Forbidden):
        initiative.recognise(BTV_NTL, CHAIN, FECON, "x", D)  # now it waits at the city
    (event,) = initiative.recognise(BTV_HN, CHAIN, FECON, "99/QĐ-LĐLĐ", D)
    assert isinstance(event, InitiativeRecognised) and (event.scope, event.by_unit_path) == ("city", "hn")
    then(initiative, [event])
    assert initiative.status == "applied" and initiative.scope == "city" and initiative.pending_at is None
    with pytest.raises(IllegalTransition, match="highest level on this platform"):
        initiative.request_escalation(BTV_HN, CHAIN, "toàn quốc")


def test_recognition_at_the_upper_level_then_a_new_request_goes_from_there() -> None:
    initiative = escalated()
    then(initiative, initiative.recognise(BTV_NTL, CHAIN, FECON, "5/QĐ", D))
    assert initiative.scope == "upper_level"
    with pytest.raises(Forbidden, match=r"only officials of hn.ntl"):
        initiative.request_escalation(BCH, CHAIN, "x")  # the grassroots level no longer speaks for it
    (event,) = initiative.request_escalation(BTV_NTL, CHAIN, "Lên Thành phố")
    assert (event.from_path, event.to_path) == ("hn.ntl", "hn")  # type: ignore[attr-defined]


def test_a_returned_request_clears_the_inbox_and_forwarding_needs_a_request() -> None:
    initiative = escalated()
    (event,) = initiative.return_escalation(BTV_NTL, CHAIN, "Chưa đủ hồ sơ")
    assert isinstance(event, EscalationReturned) and event.by_path == "hn.ntl"
    then(initiative, [event])
    assert initiative.pending_at is None
    with pytest.raises(IllegalTransition, match="no escalation request is waiting"):
        initiative.forward(BTV_NTL, CHAIN, "x")


# -- replication -----------------------------------------------------------------------------------------


def test_replication_is_ordered_by_the_recognising_level_or_above_inside_its_subtree() -> None:
    initiative = applied()
    with pytest.raises(Forbidden, match=r"only hn.ntl.fecon and the levels above it"):
        initiative.order_replication(actor(DD, "standing_committee"), CHAIN, FECON, [], "")
    with pytest.raises(Forbidden, match=r"recognised at grassroots scope; hn.ntl replicates only"):
        initiative.order_replication(BTV_NTL, CHAIN, FECON, [], "")
    then(initiative, initiative.request_escalation(BCH, CHAIN, "x"))
    then(initiative, initiative.recognise(BTV_NTL, CHAIN, FECON, "5/QĐ", D))
    with pytest.raises(InvalidInput, match="outside your subtree"):
        initiative.order_replication(BTV_NTL, CHAIN, FECON, ["hn.dd.handico"], "")
    (event,) = initiative.order_replication(BTV_NTL, CHAIN, FECON, ["hn.ntl.ceo"], "Nhân rộng")
    assert isinstance(event, ReplicationOrdered)
    assert (event.by_unit_path, event.target_paths, event.origin_unit_path) == (
        "hn.ntl",
        ("hn.ntl.ceo",),
        "hn.ntl.fecon",
    )
    with pytest.raises(IllegalTransition, match="cannot be replicated"):
        given(registered()).order_replication(BTV_NTL, CHAIN, FECON, [], "")


def test_only_units_an_order_reaches_report_replication_and_each_once() -> None:
    initiative = applied()
    then(initiative, initiative.order_replication(BCH, CHAIN, FECON, [], ""))
    assert initiative.report_replication(actor(FECON, "chair"), FECON, "ok")
    with pytest.raises(IllegalTransition, match=r"reaches hn.ntl.ceo"):
        initiative.report_replication(actor(CEO, "chair"), CEO, "x")  # a grassroots order stays in its unit
    then(initiative, initiative.request_escalation(BCH, CHAIN, "x"))
    then(initiative, initiative.recognise(BTV_NTL, CHAIN, FECON, "5/QĐ", D))
    then(initiative, initiative.order_replication(BTV_NTL, CHAIN, FECON, ["hn.ntl.ceo"], ""))
    ceo = actor(CEO, "chair")
    (event,) = initiative.report_replication(ceo, CEO, "Đã áp dụng tại CEO")
    assert isinstance(event, ReplicationApplied) and event.applying_unit_path == "hn.ntl.ceo"
    with pytest.raises(IllegalTransition, match=r"no replication order of this initiative reaches hn.dd.handico"):
        initiative.report_replication(actor(HANDICO, "chair"), HANDICO, "x")
    then(initiative, [event])
    with pytest.raises(Conflict, match="already reported"):
        initiative.report_replication(ceo, CEO, "again")
    # an order for the whole subtree (no targets) reaches every unit under the level
    whole = escalated()
    then(whole, whole.forward(BTV_NTL, CHAIN, ""))
    then(whole, whole.recognise(BTV_HN, CHAIN, FECON, "9/QĐ", D))
    then(whole, whole.order_replication(BTV_HN, CHAIN, FECON, [], ""))
    assert whole.report_replication(actor(HANDICO, "chair"), HANDICO, "ok")


def test_an_initiative_stream_rebuilds_from_its_events() -> None:
    source = escalated()
    meta = EventMetadata(actor="t", unit_path="hn.ntl.fecon")
    history = [
        registered(),
        InitiativeScored(initiative_id="i-1", unit_id="u-fecon", scorer="a", scorer_name="A", comment="c", **SCORES),
    ]
    rebuilt = Initiative.from_history("i-1", [new_envelope("s", i + 1, e, meta) for i, e in enumerate(history)])
    assert rebuilt.status == "under_review" and rebuilt.version == 2
    assert source.pending_at == "u-ntl"
