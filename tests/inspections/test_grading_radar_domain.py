"""Grading (scores, grades, eligibility, confirmation), rule sets by effective date, and the radar's
signals, risk score and the two samples."""

from dataclasses import replace
from datetime import date

import pytest

from contracts.inspections import GradeConfirmed, SelfGraded
from services.inspections.domain import radar
from services.inspections.domain.grading import Grading, check_eligible, score
from services.inspections.domain.rules import add_months, months_between
from services.inspections.domain.rulesets import HD_1294_2019, RULE_SETS, grading_rules, rule_set, rules_on
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from tests.inspections.inspections_helpers import CEO, DD, FECON, FOUNDED, HN, NTL, given, then

R = HD_1294_2019
DECEMBER = date(2025, 12, 15)
FULL = {i.code: i.max_points for i in R.grading_indicators["enterprise"]}


def scores(total_off: float = 0.0) -> dict[str, float]:
    """Full marks less ``total_off`` points taken from the first indicator."""
    given_ = dict(FULL)
    given_["collective_agreement"] -= total_off
    return given_


def graded(off: float = 0.0) -> Grading:
    g = Grading("grade-u-fecon-2025")
    return then(
        g, g.self_grade_for(FECON, 2025, "enterprise", scores(off), R, DECEMBER, "bch-fecon", operating_since=FOUNDED)
    )


# -- scoring -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("off", "grade"), [(0, "excellent"), (10, "excellent"), (10.5, "good"), (15, "good")])
def test_points_give_the_grade_by_the_rule_sets_thresholds(off: float, grade: str) -> None:
    assert score(R, "enterprise", scores(off)).grade == grade


def test_thresholds_below_good() -> None:
    low = {code: 0.0 for code in FULL} | {
        "collective_agreement": 15,
        "wages_safety": 15,
        "welfare": 10,
        "membership": 10,
    }
    assert score(R, "enterprise", low).points == 50 and score(R, "enterprise", low).grade == "completed"
    assert score(R, "enterprise", low | {"membership": 9.5}).grade == "not_completed"


def test_group_points_follow_the_three_criteria_groups() -> None:
    scored = score(R, "enterprise", FULL)
    assert scored.group_points == {"representation": 50, "organisation": 35, "communication": 15}
    assert scored.points == 100


def test_the_indicator_set_differs_by_kind_of_union() -> None:
    public = {i.code: 0.0 for i in R.grading_indicators["public_sector"]}
    assert score(R, "public_sector", public).grade == "not_completed"
    with pytest.raises(InvalidInput) as refused:
        score(R, "public_sector", FULL)
    assert refused.value.code == "grading.unknown_indicator"
    with pytest.raises(NotFound):
        R.indicators("cooperative")


def test_every_indicator_is_scored_within_its_points() -> None:
    with pytest.raises(InvalidInput) as missing:
        score(R, "enterprise", {k: v for k, v in FULL.items() if k != "finance"})
    assert missing.value.field == "scores.finance" and missing.value.params["missing"] == ["finance"]
    with pytest.raises(InvalidInput) as over:
        score(R, "enterprise", FULL | {"reporting": 6})
    assert over.value.field == "scores.reporting" and over.value.params["max_points"] == 5


# -- eligibility -------------------------------------------------------------------------------------


def test_a_union_operating_under_twelve_months_is_not_graded_and_is_told_why() -> None:
    with pytest.raises(Conflict) as refused:
        check_eligible(FECON, 2025, R, date(2025, 3, 1))
    error = refused.value
    assert error.code == "grading.not_eligible" and error.field == "year"
    assert error.params | {} == {
        "unit": "hn.ntl.fecon",
        "since": "2025-03-01",
        "months": 9,
        "required": 12,
        "reason": "new",
        "rule_set": R.version,
    }
    check_eligible(FECON, 2025, R, date(2024, 12, 31))  # twelve months exactly


def test_six_months_suffice_after_a_split_or_merger() -> None:
    check_eligible(FECON, 2025, R, FOUNDED, date(2025, 6, 30))
    with pytest.raises(Conflict) as refused:
        check_eligible(FECON, 2025, R, FOUNDED, date(2025, 8, 1))
    assert refused.value.params["reason"] == "restructured" and refused.value.params["required"] == 6
    assert refused.value.params["months"] == 4


def test_only_grassroots_unions_are_graded_and_an_unknown_start_is_not_graded() -> None:
    with pytest.raises(Conflict) as upper:
        check_eligible(NTL, 2025, R, FOUNDED)
    assert upper.value.code == "grading.not_grassroots"
    with pytest.raises(Conflict) as unknown:
        check_eligible(FECON, 2025, R, None)
    assert unknown.value.params["since"] is None


def test_month_arithmetic() -> None:
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2025, 3, 15), -6) == date(2024, 9, 15)
    assert months_between(date(2025, 1, 31), date(2025, 2, 28)) == 1
    assert months_between(date(2025, 1, 15), date(2025, 12, 14)) == 10
    assert months_between(date(2025, 1, 15), date(2025, 12, 15)) == 11


# -- self-grading and confirmation -----------------------------------------------------------------


def test_self_grading_records_points_grade_and_rule_set() -> None:
    event = Grading("g").self_grade_for(
        FECON, 2025, "enterprise", scores(12), R, DECEMBER, "bch-fecon", operating_since=FOUNDED
    )[0]
    assert isinstance(event, SelfGraded)
    assert (event.points, event.grade, event.rule_set, event.revision) == (88, "good", R.version, 1)
    assert event.group_points["representation"] == 38


def test_a_year_is_graded_from_december() -> None:
    with pytest.raises(InvalidInput) as early:
        Grading("g").self_grade_for(
            FECON, 2025, "enterprise", FULL, R, date(2025, 11, 30), "x", operating_since=FOUNDED
        )
    assert early.value.code == "grading.too_early" and early.value.params["opens"] == "2025-12-01"


def test_the_parent_confirms_or_changes_the_grade_with_a_reason() -> None:
    with pytest.raises(IllegalTransition) as first:
        Grading("g").confirm(NTL, FECON, R, "btv-ntl")
    assert first.value.allowed_next == ["self_grade"]
    with pytest.raises(Forbidden) as stranger:
        graded().confirm(DD, FECON, R, "btv-dd")
    assert stranger.value.code == "grading.not_parent"
    with pytest.raises(Forbidden):
        graded().confirm(HN, FECON, R, "btv-hn")  # the city is above, but not directly
    confirmed = graded().confirm(NTL, FECON, R, "btv-ntl")[0]
    assert isinstance(confirmed, GradeConfirmed)
    assert (confirmed.grade, confirmed.points, confirmed.changed, confirmed.revision) == ("excellent", 100, False, 1)
    assert (confirmed.unit_path, confirmed.year, confirmed.by_path, confirmed.confirmed_by) == (
        "hn.ntl.fecon",
        2025,
        "hn.ntl",
        "btv-ntl",
    )
    with pytest.raises(InvalidInput) as unexplained:
        graded().confirm(NTL, FECON, R, "btv-ntl", grade="good")
    assert unexplained.value.field == "reason" and unexplained.value.code == "grading.reason_required"
    changed = graded().confirm(NTL, FECON, R, "btv-ntl", grade="good", reason="Chưa đối thoại định kỳ")[0]
    assert changed.changed and changed.grade == "good" and changed.self_grade == "excellent"


def test_the_parent_may_rescore_and_the_grade_follows_its_points() -> None:
    lower = scores(10) | {"wages_safety": 0.0}
    with pytest.raises(InvalidInput):
        graded().confirm(NTL, FECON, R, "btv-ntl", scores=lower)
    event = graded().confirm(NTL, FECON, R, "btv-ntl", scores=lower, reason="Thỏa ước chưa thực hiện")[0]
    assert (event.points, event.grade, event.changed) == (75, "good", True)


def test_a_confirmed_grade_is_revised_only_by_the_parent_with_a_reason() -> None:
    confirmed = then(graded(), graded().confirm(NTL, FECON, R, "btv-ntl"))
    with pytest.raises(IllegalTransition) as regrade:
        confirmed.self_grade_for(FECON, 2025, "enterprise", FULL, R, DECEMBER, "bch-fecon", operating_since=FOUNDED)
    assert regrade.value.allowed_next == ["revise_confirmation"]
    with pytest.raises(InvalidInput):
        confirmed.confirm(NTL, FECON, R, "btv-ntl", grade="completed")
    revised = confirmed.confirm(NTL, FECON, R, "btv-ntl", grade="completed", reason="Kết luận kiểm tra tài chính")[0]
    assert revised.revision == 2 and revised.grade == "completed"


def test_a_unit_may_regrade_itself_before_confirmation() -> None:
    again = graded(15).self_grade_for(
        FECON, 2025, "enterprise", FULL, R, DECEMBER, "bch-fecon", operating_since=FOUNDED
    )[0]
    assert again.revision == 2 and again.grade == "excellent"


def test_a_grade_is_confirmed_by_the_rule_set_that_judged_it() -> None:
    later = replace(R, version="2026.1", effective_from=date(2026, 1, 1))
    with pytest.raises(Conflict) as refused:
        graded().confirm(NTL, FECON, later, "btv-ntl")
    assert refused.value.code == "grading.rule_set_changed"


# -- rule sets -------------------------------------------------------------------------------------


def test_the_rule_set_in_force_is_the_latest_to_have_taken_effect() -> None:
    stricter = replace(
        R,
        version="2026.1",
        effective_from=date(2026, 1, 1),
        grade_thresholds=(("excellent", 95), ("good", 75), ("completed", 50), ("not_completed", 0)),
    )
    sets = (R, stricter)
    assert rules_on(date(2025, 12, 31), sets).version == R.version
    assert rules_on(date(2026, 1, 1), sets).version == "2026.1"
    assert grading_rules(2025, sets) is R and grading_rules(2026, sets) is stricter
    assert score(stricter, "enterprise", scores(8)).grade == "good"  # 92 points: excellent before 2026
    assert score(R, "enterprise", scores(8)).grade == "excellent"
    with pytest.raises(NotFound):
        rules_on(date(2019, 1, 1), sets)
    assert rule_set(R.version) is R and RULE_SETS[0] is R
    with pytest.raises(NotFound):
        rule_set("nope")


# -- the radar's judgements --------------------------------------------------------------------------

RR = R.radar


def test_an_initiative_never_applied_n_months_after_registration() -> None:
    registered = date(2025, 1, 31)
    assert not radar.never_applied(registered, None, date(2025, 7, 30), RR)
    assert radar.never_applied(registered, None, date(2025, 7, 31), RR)
    assert not radar.never_applied(registered, date(2025, 9, 1), date(2025, 10, 1), RR)
    assert radar.stale_cutoff(date(2025, 7, 31), RR) == date(2025, 1, 31)


def test_near_duplicates_count_only_across_units_and_above_the_score() -> None:
    assert radar.near_duplicate(0.9, True, RR)
    assert not radar.near_duplicate(0.9, False, RR)
    assert not radar.near_duplicate(0.79, True, RR)


def test_registrations_bunched_before_a_deadline() -> None:
    deadline = date(2025, 6, 30)
    spread = [date(2025, 2, d) for d in range(1, 6)] + [date(2025, 6, 29)]
    assert radar.bunching(spread, date(2024, 12, 31), deadline, RR) is None
    rushed = [date(2025, 6, 24), date(2025, 6, 25), date(2025, 6, 29), date(2025, 6, 30), date(2025, 3, 1)]
    found = radar.bunching(rushed, date(2024, 12, 31), deadline, RR)
    assert found is not None and (found.total, found.bunched, found.share) == (5, 4, 0.8)
    assert radar.bunching(rushed[:4], date(2024, 12, 31), deadline, RR) is None  # fewer than the minimum
    assert radar.bunching([*rushed, date(2025, 7, 1)], date(2024, 12, 31), deadline, RR) == found  # after: not counted


def test_reported_values_without_checkable_evidence() -> None:
    assert not radar.verifiable(["Biên bản họp"], RR)
    assert radar.verifiable(["Biên bản", "https://fecon.vn/bb.pdf"], RR)
    assert radar.verifiable(["sha256:" + "a" * 64], RR)
    assert radar.met(5, 5, "at_least") and not radar.met(4, 5, "at_least") and radar.met(4, 5, "at_most")


def test_actions_overdue_and_awards_to_officials() -> None:
    assert radar.action_overdue("open", date(2025, 9, 30), date(2025, 10, 1))
    assert not radar.action_overdue("open", date(2025, 9, 30), date(2025, 9, 30))
    assert not radar.action_overdue("fix_reported", date(2025, 9, 30), date(2025, 10, 9))
    assert radar.awards_to_officials(direct_workers=2, officials=3, rules=RR)
    assert not radar.awards_to_officials(direct_workers=3, officials=3, rules=RR)
    assert not radar.awards_to_officials(direct_workers=0, officials=0, rules=RR)


def test_the_risk_score_weighs_and_caps_each_signal_and_says_why() -> None:
    found = radar.risk({"contradicted": 1, "never_applied": 9, "report_late": 0}, RR)
    assert found.score == 4.0 + 5 * 1.0
    # nine never-applied initiatives count as five (5 points), above one contradiction (4 points)
    assert found.reasons == ("Sáng kiến đăng ký nhưng chưa áp dụng sau N tháng: 9", "Tự đánh giá trái với số liệu: 1")
    assert found.counts == {"never_applied": 9, "contradicted": 1}


def test_the_risk_sample_takes_the_riskiest_above_the_minimum() -> None:
    def candidate(path: str, counts: dict[str, int]) -> radar.Candidate:
        return radar.Candidate(path, path, radar.risk(counts, RR))

    pool = [
        candidate("hn.a", {"never_applied": 2}),
        candidate("hn.b", {"contradicted": 1}),
        candidate("hn.c", {"action_overdue": 2}),
        candidate("hn.d", {"contradicted": 1}),
    ]
    assert [c.path for c in radar.risk_sample(pool, 2, RR)] == ["hn.c", "hn.b"]
    assert [c.path for c in radar.risk_sample(pool, 10, RR)] == ["hn.c", "hn.b", "hn.d"]  # 2 points is below 4


def test_the_random_sample_is_reproducible_from_its_seed() -> None:
    units = [f"u-{n:03d}" for n in range(200)]
    first = radar.random_sample(units, 10, seed=20250901)
    assert first == radar.random_sample(list(reversed(units)), 10, seed=20250901)
    assert first != radar.random_sample(units, 10, seed=20250902)
    assert len(first) == 10 and set(first) <= set(units)
    assert radar.random_sample(units[:3], 10, seed=1) == units[:3]
    assert radar.population_digest(units) == radar.population_digest(reversed(units))
    assert radar.population_digest(units) != radar.population_digest(units[1:])


def test_ceo_and_fecon_are_siblings_in_the_helpers() -> None:
    assert CEO.parent_id == FECON.parent_id == NTL.unit_id and given(Grading, "g").status == "none"
