"""Given events → command → expected events or error, for plans, inspections, findings and actions."""

from dataclasses import replace
from datetime import date

import pytest

from contracts.inspections import (
    CorrectiveActionAssigned,
    CorrectiveActionReopened,
    CorrectiveActionVerified,
    Evidence,
    InspectionPlanAdopted,
    InspectionScheduled,
    PlannedInspection,
    Selection,
    TeamMember,
)
from services.inspections.domain.inspection import InspectedUnit, Inspection, Plan, verifier_for
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from tests.inspections.inspections_helpers import CEO, DD, FECON, HANDICO, HN, NTL, PROOF, given, moved, then

TODAY = date(2025, 9, 1)
TEAM = [TeamMember(member_id="m-ubkt", full_name="Trần Văn Kiểm", role="inspection_committee")]
MANUAL = Selection(method="manual")


def schedule(units=((FECON, ()), (CEO, ("Tự đánh giá trái với số liệu: 1",))), by=NTL, **overrides):  # type: ignore[no-untyped-def]
    fields = {
        "purpose": "Kiểm tra việc thực hiện giao ước thi đua",
        "content": "pledge_fulfilment",
        "period_from": date(2025, 1, 1),
        "period_to": date(2025, 6, 30),
        "plan_id": None,
        "actor": "ubkt-ntl",
    } | overrides
    return Inspection.schedule("ins-1", by, list(units), TEAM, MANUAL, **fields)


def inspection(*steps: str) -> Inspection:
    ins = given(Inspection, "inspection-ins-1", *schedule())
    if "notice" in steps:
        ins = then(ins, ins.issue_notice("05/TB-UBKT", date(2025, 8, 20), date(2025, 9, 1), "ubkt-ntl"))
    if "decision" in steps:
        ins = then(ins, ins.issue_decision("07/QĐ-UBKT", date(2025, 8, 25), "ubkt-ntl"))
    return ins


def decided() -> Inspection:
    return inspection("notice", "decision")


def finding(unit=FECON, finding_id: str = "f-1"):  # type: ignore[no-untyped-def]
    return InspectedUnit("x").record_finding(
        decided(),
        NTL,
        unit,
        finding_id,
        severity="moderate",
        description="Chưa tổ chức đối thoại định kỳ",
        recommendation="Tổ chức đối thoại trong quý IV",
        evidence=PROOF,
        actor="ubkt-ntl",
    )


def with_action() -> InspectedUnit:
    unit = given(InspectedUnit, "inspection-ins-1-u-fecon", *finding())
    return then(
        unit,
        unit.assign_action(
            decided(),
            NTL,
            FECON,
            "a-1",
            finding_id="f-1",
            description="Tổ chức đối thoại",
            owner="Chủ tịch CĐCS",
            due_on=date(2025, 10, 31),
            today=TODAY,
            actor="x",
        ),
    )


FIX = Evidence(text="Biên bản đối thoại ngày 15/10", links=("https://fecon.vn/doi-thoai.pdf",))


def fixed() -> InspectedUnit:
    unit = with_action()
    return then(unit, unit.report_fix(decided(), "u-fecon", "a-1", "Đã tổ chức đối thoại", FIX, TODAY, "bch-fecon"))


# -- plans ---------------------------------------------------------------------------------------------

ITEM = PlannedInspection(content="finance", purpose="Kiểm tra tài chính", from_month=3, to_month=5, units_planned=4)


def test_a_plan_is_adopted_once_then_revised_with_a_reason() -> None:
    events = Plan("p").adopt(NTL, 2025, "first_half", "Chương trình 6 tháng", [ITEM], TODAY, "ubkt-ntl")
    assert isinstance(events[0], InspectionPlanAdopted) and events[0].revision == 1
    plan = given(Plan, "p", *events)
    with pytest.raises(Conflict) as twice:
        plan.adopt(NTL, 2025, "first_half", "Lại", [ITEM], TODAY, "x")
    assert twice.value.code == "plan.exists" and twice.value.allowed_next == ["revise"]
    with pytest.raises(InvalidInput) as no_reason:
        plan.revise(NTL, "Chương trình", [ITEM], " ", TODAY, "x")
    assert no_reason.value.field == "reason"
    revised = plan.revise(NTL, "Chương trình (sửa)", [ITEM, ITEM], "Thêm một cuộc kiểm tra", TODAY, "x")
    assert revised[0].revision == 2 and revised[0].programme == "first_half" and len(revised[0].items) == 2


def test_a_plan_keeps_its_items_within_its_programme_and_year() -> None:
    late = ITEM.model_copy(update={"from_month": 5, "to_month": 8})
    with pytest.raises(InvalidInput) as refused:
        Plan("p").adopt(NTL, 2025, "first_half", "Chương trình", [late], TODAY, "x")
    assert refused.value.field == "items.0.from_month" and refused.value.code == "plan.months_outside_programme"
    with pytest.raises(InvalidInput) as year:
        Plan("p").adopt(NTL, 2030, "year", "Kế hoạch", [ITEM], TODAY, "x")
    assert year.value.field == "year"
    with pytest.raises(InvalidInput):
        Plan("p").adopt(NTL, 2025, "year", "Kế hoạch", [], TODAY, "x")
    with pytest.raises(NotFound):
        Plan("p").revise(NTL, "x", [ITEM], "lý do", TODAY, "x")


# -- scheduling ----------------------------------------------------------------------------------------


def test_an_inspection_names_units_below_the_level_with_the_reasons_they_were_proposed() -> None:
    event = schedule()[0]
    assert isinstance(event, InspectionScheduled)
    assert [(u.path, u.reasons) for u in event.units] == [
        ("hn.ntl.fecon", ()),
        ("hn.ntl.ceo", ("Tự đánh giá trái với số liệu: 1",)),
    ]
    assert event.team == tuple(TEAM) and event.by_path == "hn.ntl"


@pytest.mark.parametrize("outsider", [HANDICO, NTL, HN])
def test_a_level_inspects_only_units_strictly_below_it(outsider) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Forbidden) as refused:
        schedule(units=[(FECON, ()), (outsider, ())])
    assert refused.value.field == "units.1" and refused.value.code == "inspection.unit_outside"


def test_scheduling_refusals() -> None:
    with pytest.raises(InvalidInput) as twice:
        schedule(units=[(FECON, ()), (FECON, ())])
    assert twice.value.code == "inspection.unit_twice"
    with pytest.raises(InvalidInput) as reversed_:
        schedule(period_to=date(2024, 12, 31))
    assert reversed_.value.field == "period_to"
    with pytest.raises(InvalidInput):
        schedule(units=[])
    with pytest.raises(InvalidInput) as no_team:
        Inspection.schedule(
            "i",
            NTL,
            [(FECON, ())],
            [],
            MANUAL,
            purpose="x",
            content="finance",
            period_from=TODAY,
            period_to=TODAY,
            plan_id=None,
            actor="x",
        )
    assert no_team.value.field == "team"
    with pytest.raises(Conflict):
        schedule(units=[(replace(FECON, status="merged"), ())])


def test_a_notice_then_a_decision_then_the_conclusion() -> None:
    ins = inspection()
    with pytest.raises(IllegalTransition) as early:
        ins.issue_decision("07/QĐ", TODAY, "x")
    assert early.value.allowed_next == ["issue_notice"]
    with pytest.raises(InvalidInput) as starts:
        ins.issue_notice("05/TB", TODAY, date(2025, 8, 1), "x")
    assert starts.value.field == "starts_on"
    noticed = inspection("notice")
    with pytest.raises(InvalidInput) as before:
        noticed.issue_decision("07/QĐ", date(2025, 8, 19), "x")
    assert before.value.code == "inspection.decision_before_notice"
    with pytest.raises(IllegalTransition) as conclude_early:
        noticed.conclude("Kết luận", TODAY, "x")
    assert conclude_early.value.allowed_next == ["issue_decision"]
    done = then(decided(), decided().conclude("Đơn vị thực hiện cơ bản tốt", TODAY, "ubkt-ntl"))
    assert done.status == "concluded"
    with pytest.raises(IllegalTransition) as after:
        InspectedUnit("x").record_finding(
            done, NTL, FECON, "f-9", severity="minor", description="x", recommendation="", evidence=PROOF, actor="x"
        )
    assert after.value.allowed_next == []


# -- findings and actions ----------------------------------------------------------------------------


def test_findings_are_recorded_only_after_the_decision_and_for_listed_units_still_below() -> None:
    with pytest.raises(IllegalTransition) as early:
        InspectedUnit("x").record_finding(
            inspection("notice"),
            NTL,
            FECON,
            "f",
            severity="minor",
            description="x",
            recommendation="",
            evidence=PROOF,
            actor="x",
        )
    assert early.value.allowed_next == ["issue_decision"]
    with pytest.raises(NotFound) as unlisted:
        finding(replace(CEO, unit_id="u-other", path="hn.ntl.other"))
    assert unlisted.value.code == "inspection.unit_not_inspected"
    with pytest.raises(Conflict) as left:
        finding(moved(FECON, DD))
    assert left.value.code == "inspection.unit_left" and left.value.params["unit"] == "hn.dd.fecon"
    with pytest.raises(Conflict) as merged:
        finding(replace(FECON, status="merged", merged_into="u-ceo"))
    assert merged.value.code == "inspection.unit_merged"
    with pytest.raises(Conflict):
        given(InspectedUnit, "s", *finding()).record_finding(
            decided(),
            NTL,
            FECON,
            "f-1",
            severity="minor",
            description="x",
            recommendation="",
            evidence=PROOF,
            actor="x",
        )


def test_an_action_follows_a_finding_and_is_due_in_the_future() -> None:
    unit = given(InspectedUnit, "s", *finding())
    with pytest.raises(InvalidInput) as unknown:
        unit.assign_action(
            decided(),
            NTL,
            FECON,
            "a",
            finding_id="f-9",
            description="x",
            owner="y",
            due_on=date(2025, 12, 1),
            today=TODAY,
            actor="x",
        )
    assert unknown.value.field == "finding_id"
    with pytest.raises(InvalidInput) as past:
        unit.assign_action(
            decided(),
            NTL,
            FECON,
            "a",
            finding_id="f-1",
            description="x",
            owner="y",
            due_on=TODAY,
            today=TODAY,
            actor="x",
        )
    assert past.value.code == "action.due_in_past"
    assigned = with_action()
    assert assigned.status_of("a-1") == "open"


def test_a_fix_needs_evidence_and_the_inspecting_level_verifies_or_reopens_it() -> None:
    with pytest.raises(InvalidInput) as bare:
        with_action().report_fix(decided(), "u-fecon", "a-1", "Đã làm", Evidence(), TODAY, "bch-fecon")
    assert bare.value.code == "action.evidence_required"
    with pytest.raises(IllegalTransition) as unverified:
        with_action().verify(decided(), "u-fecon", "a-1", "hn.ntl", "", TODAY, "ubkt")
    assert unverified.value.allowed_next == ["report_fix"]
    with pytest.raises(NotFound):
        with_action().report_fix(decided(), "u-fecon", "a-9", "x", FIX, TODAY, "x")
    verified = fixed().verify(decided(), "u-fecon", "a-1", "hn.ntl", "Đạt yêu cầu", TODAY, "ubkt-ntl")
    assert isinstance(verified[0], CorrectiveActionVerified)
    done = then(fixed(), verified)
    with pytest.raises(IllegalTransition) as closed:
        done.reopen(decided(), "u-fecon", "a-1", "hn.ntl", "Chưa đạt", date(2025, 12, 1), TODAY, "x")
    assert closed.value.allowed_next == []


def test_a_reopened_action_has_a_reason_and_a_new_due_date_and_goes_round_again() -> None:
    with pytest.raises(InvalidInput) as no_reason:
        fixed().reopen(decided(), "u-fecon", "a-1", "hn.ntl", "", date(2025, 12, 1), TODAY, "x")
    assert no_reason.value.field == "reason"
    with pytest.raises(InvalidInput) as past:
        fixed().reopen(decided(), "u-fecon", "a-1", "hn.ntl", "Chưa đạt", TODAY, TODAY, "x")
    assert past.value.field == "due_on"
    events = fixed().reopen(
        decided(), "u-fecon", "a-1", "hn.ntl", "Biên bản chưa có chữ ký", date(2025, 12, 1), TODAY, "ubkt-ntl"
    )
    assert isinstance(events[0], CorrectiveActionReopened)
    again = then(fixed(), events)
    assert again.status_of("a-1") == "open"
    assert again.report_fix(decided(), "u-fecon", "a-1", "Bổ sung chữ ký", FIX, TODAY, "bch-fecon")


def test_actions_of_a_unit_that_moved_away_are_verified_by_the_level_above_it_now() -> None:
    ins = decided()
    assert verifier_for(ins, NTL, FECON) == "u-ntl"
    assert verifier_for(ins, NTL, moved(FECON, DD)) == "u-dd"


def test_the_assigned_action_names_the_finding_owner_and_due_date() -> None:
    events = given(InspectedUnit, "s", *finding()).assign_action(
        decided(),
        NTL,
        FECON,
        "a-1",
        finding_id="f-1",
        description="Tổ chức đối thoại",
        owner="Chủ tịch CĐCS",
        due_on=date(2025, 10, 31),
        today=TODAY,
        actor="ubkt-ntl",
    )
    event = events[0]
    assert isinstance(event, CorrectiveActionAssigned)
    assert (event.finding_id, event.owner, event.due_on, event.by_path) == (
        "f-1",
        "Chủ tịch CĐCS",
        date(2025, 10, 31),
        "hn.ntl",
    )
