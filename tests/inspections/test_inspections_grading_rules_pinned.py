"""Grading's rules, pinned by mutation testing (issue 8): scoring, eligibility, self-grading and the
parent's confirmation refuse with the type, field, code, message and parameters, and each event says
everything it decided. Each test fails if a check, a boundary, or what its refusal says, is changed.
Domain only, no I/O."""

from dataclasses import replace
from datetime import date

import pytest

from contracts.inspections import GradeConfirmed, IndicatorScore, SelfGraded
from services.inspections.domain.grading import Grading, check_eligible, score
from services.inspections.domain.rulesets import HD_1294_2019
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from tests.inspections.inspections_helpers import DD, FECON, FOUNDED, NTL, then
from tests.inspections.test_grading_radar_domain import DECEMBER, FULL, graded, scores
from tests.inspections.test_inspections_rules_pinned import said

R = HD_1294_2019
V = R.version
EXCELLENT = "'Hoàn thành xuất sắc nhiệm vụ'"


# -- scoring ----------------------------------------------------------------------------------------


def test_an_unknown_indicator_is_named_with_the_rule_set() -> None:
    with pytest.raises(InvalidInput) as refused:
        score(R, "enterprise", FULL | {"zeta": 1, "beta": 2})
    assert said(refused) == (
        f"rule set {V} has no indicator beta, zeta for enterprise",
        "scores.beta",
        "grading.unknown_indicator",
        {"indicators": ["beta", "zeta"], "rule_set": V},
    )


def test_every_missing_indicator_is_named_in_the_rule_sets_order() -> None:
    with pytest.raises(InvalidInput) as refused:
        score(R, "enterprise", {k: v for k, v in FULL.items() if k not in ("reporting", "finance")})
    assert said(refused) == (
        "every indicator is scored; missing: finance, reporting",
        "scores.finance",
        "grading.unscored",
        {"missing": ["finance", "reporting"]},
    )


@pytest.mark.parametrize("points", [-0.5, 5.5])
def test_points_outside_an_indicators_range_are_refused(points: float) -> None:
    with pytest.raises(InvalidInput) as refused:
        score(R, "enterprise", FULL | {"reporting": points})
    assert said(refused) == (
        f"'Thực hiện chế độ thông tin, báo cáo' is scored 0 to 5 points, not {points:g}",
        "scores.reporting",
        "grading.points_out_of_range",
        {"indicator": "reporting", "max_points": 5, "points": points},
    )


def test_zero_and_full_points_are_within_range_and_the_total_is_rounded_to_hundredths() -> None:
    scored = score(R, "enterprise", FULL | {"reporting": 0.0, "collective_agreement": 14.125})
    # 14.125 + 35 is 49.125 exactly in binary: rounded to hundredths it is 49.12
    assert scored.group_points == {"representation": 49.12, "organisation": 30, "communication": 15}
    assert scored.points == 94.12 and scored.grade == "excellent"
    assert scored.scores[0] == IndicatorScore(indicator="collective_agreement", points=14.125)
    assert [s.indicator for s in scored.scores] == list(FULL)


@pytest.mark.parametrize(
    ("points", "grade"),
    [(90, "excellent"), (89.99, "good"), (70, "good"), (69.99, "completed"), (50, "completed"),
     (49.99, "not_completed"), (0, "not_completed"), (-1, "not_completed")],
)  # fmt: skip
def test_each_threshold_is_the_lowest_points_of_its_grade(points: float, grade: str) -> None:
    assert R.grade_for(points) == grade


# -- eligibility ----------------------------------------------------------------------------------


def test_only_a_grassroots_union_is_graded() -> None:
    with pytest.raises(Conflict) as refused:
        check_eligible(NTL, 2025, R, FOUNDED)
    assert said(refused) == (
        "hn.ntl is not a grassroots union; only grassroots unions are graded", "unit_id", "grading.not_grassroots", {},
    )  # fmt: skip


def test_a_new_union_is_told_how_long_it_operated_and_how_long_it_must() -> None:
    with pytest.raises(Conflict) as refused:
        check_eligible(FECON, 2025, R, date(2025, 1, 1))  # one day short of twelve months
    assert said(refused) == (
        f"hn.ntl.fecon started operating on 2025-01-01: by the end of 2025 it had operated 11 month(s), and a "
        f"union is graded after 12 (rule set {V})",
        "year",
        "grading.not_eligible",
        {"unit": "hn.ntl.fecon", "since": "2025-01-01", "months": 11, "required": 12, "reason": "new", "rule_set": V},
    )


def test_an_unknown_start_or_one_after_the_year_counts_no_months() -> None:
    with pytest.raises(Conflict) as unknown:
        check_eligible(FECON, 2025, R, None)
    assert str(unknown.value).startswith("hn.ntl.fecon started operating on an unknown date: ")
    assert (unknown.value.params["since"], unknown.value.params["months"]) == (None, 0)
    with pytest.raises(Conflict) as later:
        check_eligible(FECON, 2025, R, date(2026, 1, 20))
    assert (later.value.params["since"], later.value.params["months"]) == ("2026-01-20", 0)


def test_after_a_split_or_merger_the_months_count_from_it() -> None:
    with pytest.raises(Conflict) as refused:
        check_eligible(FECON, 2025, R, FOUNDED, date(2025, 7, 1))
    assert str(refused.value) == (
        f"hn.ntl.fecon was split or merged on 2025-07-01: by the end of 2025 it had operated 5 month(s), and a "
        f"union is graded after 6 (rule set {V})"
    )
    assert refused.value.params | {} == {
        "unit": "hn.ntl.fecon", "since": "2025-07-01", "months": 5, "required": 6, "reason": "restructured",
        "rule_set": V,
    }  # fmt: skip
    check_eligible(FECON, 2025, R, None, date(2025, 6, 30))  # a union born of a split: six months from it


def test_a_restructuring_on_the_day_it_started_is_its_start() -> None:
    with pytest.raises(Conflict) as refused:
        check_eligible(FECON, 2025, R, date(2025, 3, 1), date(2025, 3, 1))
    assert (refused.value.params["reason"], refused.value.params["required"]) == ("new", 12)
    check_eligible(FECON, 2025, R, date(2025, 3, 1), date(2025, 4, 1))  # a later merger: six months from it


# -- self-grading ---------------------------------------------------------------------------------


def test_a_year_is_graded_from_its_opening_day_and_not_before() -> None:
    with pytest.raises(InvalidInput) as early:
        Grading("g").self_grade_for(
            FECON, 2025, "enterprise", FULL, R, date(2025, 11, 30), "x", operating_since=FOUNDED
        )
    assert said(early) == (
        "the year 2025 is graded from 2025-12-01; it is 2025-11-30",
        "year",
        "grading.too_early",
        {"year": 2025, "opens": "2025-12-01"},
    )
    assert Grading("g").self_grade_for(
        FECON, 2025, "enterprise", FULL, R, date(2025, 12, 1), "x", operating_since=FOUNDED
    )  # fmt: skip


def test_a_confirmed_grade_is_not_self_graded_again() -> None:
    confirmed = then(graded(), graded().confirm(NTL, FECON, R, "btv-ntl"))
    with pytest.raises(IllegalTransition) as refused:
        confirmed.self_grade_for(FECON, 2025, "enterprise", FULL, R, DECEMBER, "x", operating_since=FOUNDED)
    assert said(refused) == (
        "the 2025 grade was confirmed by the level above; ask it to revise the confirmation",
        None,
        "grading.confirmed",
        {},
    )
    assert refused.value.allowed_next == ["revise_confirmation"]


def test_self_grading_refuses_an_ineligible_union_before_scoring() -> None:
    with pytest.raises(Conflict) as refused:
        Grading("g").self_grade_for(FECON, 2025, "enterprise", {}, R, DECEMBER, "x", operating_since=date(2025, 6, 1))
    assert refused.value.code == "grading.not_eligible"
    with pytest.raises(Conflict) as merged:
        Grading("g").self_grade_for(
            FECON, 2025, "enterprise", FULL, R, DECEMBER, "x", operating_since=FOUNDED, restructured_on=date(2025, 8, 1)
        )
    assert merged.value.params["reason"] == "restructured"


def test_the_self_grading_says_everything_it_decided() -> None:
    event = Grading("g").self_grade_for(
        FECON, 2025, "enterprise", scores(12), R, DECEMBER, "bch-fecon",
        operating_since=FOUNDED, founded_on=date(2009, 3, 2),
    )[0]  # fmt: skip
    assert event == SelfGraded(
        unit_id="u-fecon",
        unit_path="hn.ntl.fecon",
        year=2025,
        union_type="enterprise",
        scores=score(R, "enterprise", scores(12)).scores,
        group_points={"representation": 38, "organisation": 35, "communication": 15},
        points=88,
        grade="good",
        rule_set=V,
        revision=1,
        graded_by="bch-fecon",
        founded_on=date(2009, 3, 2),
    )
    again = then(graded(12), [event])
    assert (again.status, again.revision, again.self_grade, again.self_points) == ("self_graded", 1, "good", 88)
    assert (again.unit_id, again.year, again.union_type, again.rule_set) == ("u-fecon", 2025, "enterprise", V)
    assert again.self_scores == scores(12)


# -- the parent's confirmation --------------------------------------------------------------------


def test_nothing_is_confirmed_before_the_unit_grades_itself() -> None:
    with pytest.raises(IllegalTransition) as refused:
        Grading("g").confirm(NTL, FECON, R, "btv-ntl")
    assert said(refused) == ("the unit has not graded itself yet", None, "grading.not_self_graded", {})
    assert refused.value.allowed_next == ["self_grade"]


def test_only_the_level_directly_above_confirms() -> None:
    with pytest.raises(Forbidden) as refused:
        graded().confirm(DD, FECON, R, "btv-dd")
    assert said(refused) == (
        "only the level directly above hn.ntl.fecon confirms its grade; you act for hn.dd",
        "unit_id",
        "grading.not_parent",
        {"unit": "hn.ntl.fecon", "level": "hn.dd"},
    )


def test_the_confirmation_uses_the_rule_set_of_the_self_grading() -> None:
    with pytest.raises(Conflict) as refused:
        graded().confirm(NTL, FECON, replace(R, version="2026.1"), "btv-ntl")
    assert said(refused) == (
        f"the self-grading was judged by rule set {V}; confirm it by the same rules",
        None,
        "grading.rule_set_changed",
        {"self": V, "now": "2026.1"},
    )


def test_another_grade_needs_a_reason_and_blank_is_no_reason() -> None:
    with pytest.raises(InvalidInput) as refused:
        graded().confirm(NTL, FECON, R, "btv-ntl", grade="good", reason="  ")
    assert said(refused) == (
        f"a grade other than {EXCELLENT} needs its reason", "reason", "grading.reason_required", {},
    )  # fmt: skip


def test_keeping_the_self_grade_against_the_parents_own_points_needs_a_reason() -> None:
    lower = scores(10) | {"wages_safety": 0.0}  # 75 points: good, though the unit said excellent
    with pytest.raises(InvalidInput) as refused:
        graded().confirm(NTL, FECON, R, "btv-ntl", grade="excellent", scores=lower)
    assert said(refused) == (
        "a grade other than 'Hoàn thành tốt nhiệm vụ', which the points give, needs its reason", "reason",
        "grading.reason_required", {},
    )  # fmt: skip
    kept = graded().confirm(NTL, FECON, R, "btv-ntl", grade="excellent", scores=lower, reason="Điểm chưa đủ căn cứ")[0]
    assert (kept.grade, kept.points, kept.changed) == ("excellent", 75, False)


def test_revising_a_confirmation_needs_a_reason_even_for_the_same_grade() -> None:
    confirmed = then(graded(), graded().confirm(NTL, FECON, R, "btv-ntl"))
    with pytest.raises(InvalidInput) as refused:
        confirmed.confirm(NTL, FECON, R, "btv-ntl")
    assert said(refused) == ("a revised confirmation needs its reason", "reason", "grading.reason_required", {})
    with pytest.raises(InvalidInput):
        confirmed.confirm(NTL, FECON, R, "btv-ntl", grade="good")
    revised = confirmed.confirm(NTL, FECON, R, "btv-ntl", reason="Rà soát lại hồ sơ")[0]
    assert (revised.grade, revised.changed, revised.revision) == ("excellent", False, 2)


def test_the_confirmation_says_everything_it_decided() -> None:
    event = graded(12).confirm(NTL, FECON, R, "btv-ntl", grade="completed", reason="Kết luận kiểm tra tài chính")[0]
    assert event == GradeConfirmed(
        unit_id="u-fecon",
        unit_path="hn.ntl.fecon",
        year=2025,
        grade="completed",
        points=88,
        rule_set=V,
        self_grade="good",
        changed=True,
        reason="Kết luận kiểm tra tài chính",
        revision=1,
        by_unit_id="u-ntl",
        by_path="hn.ntl",
        confirmed_by="btv-ntl",
    )
    confirmed = then(graded(12), [event])
    assert (confirmed.status, confirmed.grade, confirmed.confirmations) == ("confirmed", "completed", 1)
    with pytest.raises(TypeError, match="a grading cannot apply str"):
        confirmed.apply("not an event")  # type: ignore[arg-type]
