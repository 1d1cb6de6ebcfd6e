"""Upper-level inspections' rules, pinned by mutation testing (issue 8): a plan's years and months, the
scheduling of an inspection, its notice, decision and conclusion refuse with the type, field, code,
message and parameters, and each event says everything it decided. Domain only, no I/O."""

from dataclasses import replace
from datetime import date

import pytest

from contracts.inspections import (
    InspectionConcluded,
    InspectionDecisionIssued,
    InspectionNoticeIssued,
    InspectionPlanAdopted,
    InspectionScheduled,
    PlannedInspection,
    SelectedUnit,
)
from services.inspections.domain.inspection import Inspection, Plan, verifier_for
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from tests.inspections.inspections_helpers import CEO, DD, FECON, HANDICO, NTL, given, moved
from tests.inspections.test_inspection_domain import MANUAL, TEAM, TODAY, decided, inspection, schedule
from tests.inspections.test_inspections_rules_pinned import said

ID = "inspection-ins-1"  # the id the test helpers load the inspection with
ITEM = PlannedInspection(content="finance", purpose="Kiểm tra tài chính", from_month=3, to_month=5, units_planned=4)


def months(first: int, last: int) -> PlannedInspection:
    return ITEM.model_copy(update={"from_month": first, "to_month": last})


def adopted(programme: str = "first_half") -> Plan:
    return given(Plan, "p", *Plan("p").adopt(NTL, 2025, programme, "Chương trình", [ITEM], TODAY, "ubkt-ntl"))  # type: ignore[arg-type]


# -- the plan ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2023, 2027])
def test_a_plan_is_for_last_this_or_next_year(year: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        Plan("p").adopt(NTL, year, "year", "Kế hoạch", [ITEM], TODAY, "x")
    assert said(refused) == (
        f"a plan is for last year, this year or next year, not {year}", "year", "plan.year_out_of_range",
        {"year": year},
    )  # fmt: skip
    for year_ in (2024, 2026):
        assert Plan("p").adopt(NTL, year_, "year", "Kế hoạch", [ITEM], TODAY, "x")


def test_a_plan_lists_at_least_one_inspection() -> None:
    with pytest.raises(InvalidInput) as refused:
        Plan("p").adopt(NTL, 2025, "year", "Kế hoạch", [], TODAY, "x")
    assert said(refused) == ("a plan lists at least one inspection", "items", "plan.empty", {})


@pytest.mark.parametrize(
    ("programme", "item"), [("first_half", months(5, 7)), ("second_half", months(6, 8)), ("year", months(9, 8))]
)
def test_every_item_keeps_within_its_programmes_months_in_order(programme: str, item: PlannedInspection) -> None:
    first, last = {"first_half": (1, 6), "second_half": (7, 12), "year": (1, 12)}[programme]
    fine = months(first, first)  # the first item is within; the second is refused by its index
    with pytest.raises(InvalidInput) as refused:
        Plan("p").adopt(NTL, 2025, programme, "Kế hoạch", [fine, item], TODAY, "x")  # type: ignore[arg-type]
    assert said(refused) == (
        f"months {item.from_month}–{item.to_month} are not within the {programme} programme ({first}–{last})",
        "items.1.from_month",
        "plan.months_outside_programme",
        {"from": item.from_month, "to": item.to_month, "programme": programme},
    )


def test_a_programmes_first_and_last_months_are_within_it() -> None:
    assert Plan("p").adopt(NTL, 2025, "first_half", "x", [months(1, 6)], TODAY, "x")
    assert Plan("p").adopt(NTL, 2025, "second_half", "x", [months(7, 12), months(9, 9)], TODAY, "x")


def test_an_adopted_plan_says_everything_and_is_not_adopted_twice() -> None:
    event = Plan("p").adopt(NTL, 2025, "first_half", "Chương trình", [ITEM], TODAY, "ubkt-ntl")
    assert event == [
        InspectionPlanAdopted(
            plan_id="p", unit_id="u-ntl", unit_path="hn.ntl", year=2025, programme="first_half",
            title="Chương trình", items=(ITEM,), revision=1, adopted_by="ubkt-ntl",
        )
    ]  # fmt: skip
    with pytest.raises(Conflict) as twice:
        adopted().adopt(NTL, 2025, "first_half", "Lại", [ITEM], TODAY, "x")
    assert said(twice) == ("hn.ntl already has its first_half plan for 2025; revise it with a reason", None,
                           "plan.exists", {})  # fmt: skip
    assert twice.value.allowed_next == ["revise"]


def test_a_revision_needs_a_plan_and_a_reason_and_keeps_year_and_programme() -> None:
    with pytest.raises(NotFound) as missing:
        Plan("p").revise(NTL, "x", [ITEM], "lý do", TODAY, "x")
    assert said(missing) == ("there is no plan to revise; adopt it first", None, "plan.not_found", {})
    with pytest.raises(InvalidInput) as blank:
        adopted().revise(NTL, "x", [ITEM], "  ", TODAY, "x")
    assert said(blank) == ("a revised plan says why", "reason", "plan.reason_required", {})
    with pytest.raises(InvalidInput) as outside:
        adopted().revise(NTL, "x", [months(6, 7)], "lý do", TODAY, "x")
    assert outside.value.params == {"from": 6, "to": 7, "programme": "first_half"}
    with pytest.raises(InvalidInput) as stale:
        adopted().revise(NTL, "x", [ITEM], "lý do", date(2027, 1, 5), "x")
    assert stale.value.params == {"year": 2025}
    plan = adopted()
    first = plan.revise(NTL, "Chương trình (sửa)", [ITEM, ITEM], "Thêm một cuộc", TODAY, "ubkt-ntl")
    assert first == [
        InspectionPlanAdopted(
            plan_id="p", unit_id="u-ntl", unit_path="hn.ntl", year=2025, programme="first_half",
            title="Chương trình (sửa)", items=(ITEM, ITEM), revision=2, reason="Thêm một cuộc", adopted_by="ubkt-ntl",
        )
    ]  # fmt: skip
    plan.apply(first[0])
    assert (plan.unit_id, plan.year, plan.programme, plan.revision) == ("u-ntl", 2025, "first_half", 2)
    assert plan.revise(NTL, "x", [ITEM], "Lần ba", TODAY, "x")[0].revision == 3
    with pytest.raises(TypeError, match="a plan cannot apply str"):
        plan.apply("x")  # type: ignore[arg-type]


# -- scheduling -------------------------------------------------------------------------------------


def test_an_inspection_states_its_purpose_period_units_and_team() -> None:
    with pytest.raises(InvalidInput) as purpose:
        schedule(purpose=" ")
    assert said(purpose) == ("an inspection states its purpose", "purpose", "text.blank", {})
    with pytest.raises(InvalidInput) as period:
        schedule(period_to=date(2024, 12, 31))
    assert said(period) == ("the inspected period ends after it starts", "period_to", "inspection.period_reversed", {})
    assert schedule(period_from=date(2025, 3, 1), period_to=date(2025, 3, 1))  # one day is a period
    with pytest.raises(InvalidInput) as units:
        schedule(units=[])
    assert said(units) == ("an inspection names the units it inspects", "units", "inspection.no_units", {})
    with pytest.raises(InvalidInput) as team:
        Inspection.schedule(
            "i", NTL, [(FECON, ())], [], MANUAL, purpose="x", content="finance",
            period_from=TODAY, period_to=TODAY, plan_id=None, actor="x",
        )  # fmt: skip
    assert said(team) == ("an inspection names its team", "team", "inspection.no_team", {})


def test_each_unit_is_below_the_level_active_and_listed_once() -> None:
    with pytest.raises(Forbidden) as outside:
        schedule(units=[(FECON, ()), (HANDICO, ())])
    assert said(outside) == (
        "hn.dd.handico is not below hn.ntl: a level inspects only units of its subtree",
        "units.1",
        "inspection.unit_outside",
        {"unit": "hn.dd.handico", "level": "hn.ntl"},
    )
    with pytest.raises(Conflict) as inactive:
        schedule(units=[(FECON, ()), (replace(CEO, status="merged"), ())])
    assert said(inactive) == ("hn.ntl.ceo is no longer active", "units.1", "unit.inactive", {})
    with pytest.raises(InvalidInput) as twice:
        schedule(units=[(FECON, ()), (CEO, ()), (FECON, ())])
    assert said(twice) == ("hn.ntl.fecon is listed twice", "units.2", "inspection.unit_twice", {})


def test_the_scheduling_says_everything_it_decided() -> None:
    event = schedule(plan_id="p-1")[0]
    assert event == InspectionScheduled(
        inspection_id="ins-1",
        by_unit_id="u-ntl",
        by_path="hn.ntl",
        plan_id="p-1",
        purpose="Kiểm tra việc thực hiện giao ước thi đua",
        content="pledge_fulfilment",
        period_from=date(2025, 1, 1),
        period_to=date(2025, 6, 30),
        units=(
            SelectedUnit(unit_id="u-fecon", path="hn.ntl.fecon"),
            SelectedUnit(unit_id="u-ceo", path="hn.ntl.ceo", reasons=("Tự đánh giá trái với số liệu: 1",)),
        ),
        team=tuple(TEAM),
        selection=MANUAL,
        scheduled_by="ubkt-ntl",
    )
    ins = inspection()
    assert (ins.by_unit_id, ins.by_path, ins.content, ins.scheduled) == ("u-ntl", "hn.ntl", "pledge_fulfilment",
                                                                          schedule()[0])  # fmt: skip
    assert list(ins.units) == ["u-fecon", "u-ceo"] and ins.units["u-ceo"].path == "hn.ntl.ceo"
    assert ins.on_team("m-ubkt") and not ins.on_team("m-other") and ins.team["m-ubkt"] == TEAM[0]


# -- notice, decision, conclusion -------------------------------------------------------------------


def test_each_step_in_its_turn_says_what_the_inspection_is_and_allows() -> None:
    with pytest.raises(IllegalTransition) as notice_again:
        inspection("notice").issue_notice("06/TB", TODAY, TODAY, "x")
    assert said(notice_again) == (
        "the inspection is noticed; it cannot issue the notice now", None, "inspection.illegal_transition",
        {"status": "noticed"},
    )  # fmt: skip
    assert notice_again.value.allowed_next == ["issue_decision"]
    with pytest.raises(IllegalTransition) as decision_early:
        inspection().issue_decision("07/QĐ", TODAY, "x")
    assert said(decision_early)[0] == "the inspection is scheduled; it cannot issue the decision now"
    assert decision_early.value.params == {"status": "scheduled"}
    with pytest.raises(IllegalTransition) as conclude_early:
        inspection("notice").conclude("Kết luận", TODAY, "x")
    assert str(conclude_early.value) == "the inspection is noticed; it cannot conclude it now"
    with pytest.raises(IllegalTransition) as record_early:
        inspection().require_decided("record findings")
    assert str(record_early.value) == "the inspection is scheduled; it cannot record findings now"
    assert record_early.value.allowed_next == ["issue_notice"]
    decided().require_decided("record findings")
    concluded = decided()
    concluded.apply(concluded.conclude("Tốt", TODAY, "x")[0])
    with pytest.raises(IllegalTransition) as after:
        concluded.conclude("Lần nữa", TODAY, "x")
    assert after.value.params == {"status": "concluded"} and after.value.allowed_next == []


def test_the_notice_comes_before_the_start_and_the_decision_after_the_notice() -> None:
    with pytest.raises(InvalidInput) as starts:
        inspection().issue_notice("05/TB", TODAY, date(2025, 8, 31), "x")
    assert said(starts) == (
        "the inspection starts after its notice", "starts_on", "inspection.starts_before_notice", {},
    )  # fmt: skip
    same_day = inspection().issue_notice("05/TB-UBKT", TODAY, TODAY, "ubkt-ntl")
    assert same_day == [
        InspectionNoticeIssued(
            inspection_id=ID, number="05/TB-UBKT", issued_on=TODAY, starts_on=TODAY, issued_by="ubkt-ntl"
        )
    ]
    with pytest.raises(InvalidInput) as before:
        inspection("notice").issue_decision("07/QĐ", date(2025, 8, 19), "x")
    assert said(before) == (
        "the decision comes after the notice of 2025-08-20", "decided_on", "inspection.decision_before_notice", {},
    )  # fmt: skip
    decision = inspection("notice").issue_decision("07/QĐ-UBKT", date(2025, 8, 20), "ubkt-ntl")
    assert decision == [
        InspectionDecisionIssued(inspection_id=ID, number="07/QĐ-UBKT", decided_on=date(2025, 8, 20),
                                 issued_by="ubkt-ntl")
    ]  # fmt: skip


def test_the_inspection_keeps_what_was_announced_decided_and_concluded() -> None:
    scheduled = inspection()  # its own view shows nothing announced yet
    assert (scheduled.status, scheduled.notice_on, scheduled.notice, scheduled.decision, scheduled.conclusion) == (
        "scheduled", None, None, None, None,
    )  # fmt: skip
    noticed = inspection("notice")
    assert (noticed.status, noticed.notice_on) == ("noticed", date(2025, 8, 20))
    assert noticed.notice is not None and noticed.notice.number == "05/TB-UBKT" and noticed.decision is None
    ins = decided()
    assert ins.status == "decided" and ins.decision is not None and ins.decision.number == "07/QĐ-UBKT"
    concluded = ins.conclude("Đơn vị thực hiện cơ bản tốt", TODAY, "ubkt-ntl")
    assert concluded == [
        InspectionConcluded(inspection_id=ID, concluded_on=TODAY, conclusion="Đơn vị thực hiện cơ bản tốt",
                            concluded_by="ubkt-ntl")
    ]  # fmt: skip
    ins.apply(concluded[0])
    assert (ins.status, ins.conclusion) == ("concluded", concluded[0])
    with pytest.raises(TypeError, match="an inspection cannot apply str"):
        ins.apply("x")  # type: ignore[arg-type]


def test_the_verifier_is_the_inspecting_level_while_the_unit_is_below_it() -> None:
    ins = decided()
    assert verifier_for(ins, NTL, FECON) == "u-ntl"
    assert verifier_for(ins, NTL, moved(FECON, DD)) == "u-dd"
    orphan = replace(FECON, path="fecon", parent_id=None)  # nothing above it now: the inspecting level still
    assert verifier_for(ins, NTL, orphan) == "u-ntl"
