"""The formalism radar's rules, pinned by mutation testing (issue 8): each signal's threshold is inclusive
or exclusive as the rule says, the risk score weighs, caps and explains, the samples are the published
recipe, and the score rows change on the days the signs or the rules do. Domain only, no I/O."""

import hashlib
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.inspections.domain import radar
from services.inspections.domain.radar import Occurrence, Segment, Step
from services.inspections.domain.rules import add_months, months_between
from services.inspections.domain.rulesets import HD_1294_2019, grading_rules, rule_set, rules_on
from shared.errors import NotFound
from tests.inspections.test_inspections_rules_pinned import said

R = HD_1294_2019.radar
LATER = date(2026, 1, 1)
# A later text: never applied after three months, weighed triple; awards to officials from 70%.
SHORTER = replace(R, never_applied_months=3, weights={**R.weights, "never_applied": 3.0}, awards_max_official_share=0.7)
TWO = radar.segments([(LATER, SHORTER), (HD_1294_2019.effective_from, R)])  # given out of order


# -- the signals' thresholds ------------------------------------------------------------------------


def test_signal_thresholds_are_inclusive_where_the_rule_says_at_least() -> None:
    assert radar.near_duplicate(0.8, True, R) and not radar.near_duplicate(0.7999, True, R)
    assert radar.met(5, 5, "at_most") and not radar.met(5.1, 5, "at_most") and radar.met(5, 5, "at_least")
    assert radar.action_overdue("open", date(2025, 9, 30), date(2025, 10, 1))
    assert not radar.action_overdue("open", date(2025, 9, 30), date(2025, 9, 30))
    assert not radar.awards_to_officials(direct_workers=1, officials=1, rules=R)  # half is not more than half
    assert radar.awards_to_officials(direct_workers=0, officials=1, rules=R)
    assert not radar.awards_to_officials(direct_workers=0, officials=0, rules=R)
    assert radar.verifiable(["  HTTPS://fecon.vn/bb.pdf"], R) and not radar.verifiable(["ftp://x", " "], R)


def test_bunching_counts_the_last_k_days_up_to_the_deadline_and_the_minimums_are_inclusive() -> None:
    deadline, after = date(2025, 6, 30), date(2025, 3, 31)
    last_seven = [date(2025, 6, 24), date(2025, 6, 26), date(2025, 6, 30)]  # 24 June is the 7th last day
    found = radar.bunching([*last_seven, date(2025, 6, 23), date(2025, 4, 1), after], after, deadline, R)
    assert found == radar.Bunching(total=5, bunched=3, share=0.6)  # exactly the minimum share, five exactly
    assert radar.bunching([*last_seven, date(2025, 6, 23)], after, deadline, R) is None  # four: too few
    two_of_five = [date(2025, 6, 29), date(2025, 6, 30), date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 3)]
    assert radar.bunching(two_of_five, after, deadline, R) is None  # 40%
    thirds = [date(2025, 6, 30)] * 2 + [date(2025, 5, 1)] + [date(2025, 6, 29)] * 4 + [date(2025, 4, 2)] * 2
    assert radar.bunching(thirds, after, deadline, R) == radar.Bunching(9, 6, 0.6667)  # the share to 4 places


# -- the risk score and the samples -----------------------------------------------------------------


def test_the_risk_score_weighs_each_signal_caps_it_and_names_unknown_ones_by_their_code() -> None:
    found = radar.risk(
        {"contradicted": -1, "report_late": 2, "self_inspection_late": 0, "near_duplicate": 2, "new_signal": 3}, R
    )
    assert found.score == 8.0  # two late reports (4) and two near copies (4); an unknown signal weighs nothing
    assert found.reasons == (
        "Sáng kiến gần trùng với sáng kiến của đơn vị khác: 2",  # equal weight: by code
        "Báo cáo kết quả chậm hạn: 2",
        "new_signal: 3",
    )
    assert dict(found.counts) == {"near_duplicate": 2, "report_late": 2, "new_signal": 3}
    assert radar.risk({"never_applied": 5}, R).score == 5.0 and radar.risk({"never_applied": 6}, R).score == 5.0
    assert radar.risk({"never_applied": 1}, replace(R, weights={"never_applied": 1 / 3})).score == 0.33
    assert radar.risk({}, R) == radar.Risk(0, (), {})


@given(
    st.dictionaries(st.sampled_from([*radar.SIGNALS, "new_signal"]), st.integers(-2, 12)),
    st.dictionaries(st.sampled_from(list(radar.SIGNALS)), st.floats(0, 10, allow_nan=False)),
)
def test_the_settlings_score_is_the_risks_score(counts: dict[str, int], weights: dict[str, float]) -> None:
    """``risk_score`` (the score rows of a replay's settling) gives ``risk().score`` to the last bit."""
    rules = replace(R, weights={**R.weights, **weights})
    assert radar.risk_score(counts, rules) == radar.risk(counts, rules).score
    assert radar.risk_score({"report_late": 7}, R) == 10.0  # capped at 5 occurrences of weight 2


def test_the_risk_sample_includes_the_minimum_score_and_breaks_ties_by_path() -> None:
    def candidate(path: str, score: float) -> radar.Candidate:
        return radar.Candidate("u-" + path, path, radar.Risk(score, ()))

    pool = [candidate("hn.b", 4.0), candidate("hn.a", 4.0), candidate("hn.c", 3.99), candidate("hn.d", 9)]
    assert [c.path for c in radar.risk_sample(pool, 3, R)] == ["hn.d", "hn.a", "hn.b"]
    assert [c.path for c in radar.risk_sample(pool, 1, R)] == ["hn.d"]


def test_the_random_sample_is_the_published_recipe() -> None:
    units = ["u-3", "u-1", "u-2", "u-1", "u-4"]
    by_hash = sorted({*units}, key=lambda u: hashlib.sha256(f"7:{u}".encode()).hexdigest())
    assert radar.random_sample(units, 2, seed=7) == sorted(by_hash[:2]) == ["u-2", "u-3"]
    assert radar.population_digest(units) == hashlib.sha256(b"u-1\nu-2\nu-3\nu-4").hexdigest()


# -- the score rows ---------------------------------------------------------------------------------


def test_rule_sets_become_consecutive_segments_the_first_reaching_back_to_any_day() -> None:
    # computed here, not at import: the module's TWO is built before a mutant is switched on
    two = radar.segments([(LATER, SHORTER), (HD_1294_2019.effective_from, R)])
    assert two == [Segment(date.min, LATER, R), Segment(LATER, date.max, SHORTER)]
    three = radar.segments([(date(2027, 1, 1), R), (LATER, SHORTER), (date(2019, 8, 14), R)])
    assert three == [
        Segment(date.min, LATER, R),
        Segment(LATER, date(2027, 1, 1), SHORTER),
        Segment(date(2027, 1, 1), date.max, R),
    ]
    assert radar.segments([(HD_1294_2019.effective_from, R)]) == [Segment(date.min, date.max, R)]


def test_never_applied_starts_on_the_first_day_the_cutoff_reaches_the_registration() -> None:
    assert radar.stale_from(date(2025, 1, 10), R) == date(2025, 7, 10)
    assert radar.stale_from(date(2025, 2, 28), R) == date(2025, 8, 28)
    assert radar.stale_from(date(2024, 8, 29), R) == date(2025, 3, 1)  # 28 February is not six months yet
    assert radar.stale_from(date(2025, 1, 10), SHORTER) == date(2025, 4, 10)


def test_never_applied_spans_follow_the_rules_in_force() -> None:
    assert radar.never_applied_spans(date(2025, 5, 20), TWO) == [
        Occurrence("never_applied", date(2025, 11, 20), LATER),
        Occurrence("never_applied", LATER),  # three months under the later text: a sign from its first day
    ]
    assert radar.never_applied_spans(date(2025, 7, 1), TWO) == [Occurrence("never_applied", LATER)]  # not before
    assert radar.never_applied_spans(date(2025, 12, 1), TWO) == [Occurrence("never_applied", date(2026, 3, 1))]


def test_awards_to_officials_is_a_sign_where_the_rules_in_force_find_it() -> None:
    assert radar.awards_spans(2, 3, TWO) == [Occurrence("awards_to_officials", date.min, LATER)]  # 60%
    assert radar.awards_spans(1, 3, TWO) == [
        Occurrence("awards_to_officials", date.min, LATER), Occurrence("awards_to_officials", LATER, date.max),
    ]  # fmt: skip
    assert radar.awards_spans(3, 2, TWO) == []


def test_steps_add_up_occurrences_of_a_kind_and_skip_empty_ones() -> None:
    signs = [
        Occurrence("contradicted", date(2025, 6, 1), date(2025, 6, 1)),  # empty: never a sign
        Occurrence("contradicted", date(2025, 7, 1), date(2025, 6, 1)),  # reversed: never a sign
        Occurrence("report_late", date(2025, 3, 1), date(2025, 5, 1)),
        Occurrence("report_late", date(2025, 4, 1)),
        Occurrence("action_overdue", date(2025, 4, 1), date(2025, 5, 1)),
        Occurrence("action_overdue", date(2025, 4, 1), date(2025, 5, 1)),  # two on the same days
    ]
    one = radar.segments([(HD_1294_2019.effective_from, R)])
    assert radar.steps(signs, one) == [
        Step(date(2025, 3, 1), date(2025, 4, 1), {"report_late": 1}, 2.0),
        Step(date(2025, 4, 1), date(2025, 5, 1), {"action_overdue": 2, "report_late": 2}, 12.0),
        Step(date(2025, 5, 1), date.max, {"report_late": 1}, 2.0),
    ]
    # the day another rule set takes effect is a step of its own, the signs unchanged
    assert radar.steps([Occurrence("never_applied", date(2025, 9, 1))], TWO) == [
        Step(date(2025, 9, 1), LATER, {"never_applied": 1}, 1.0),
        Step(LATER, date.max, {"never_applied": 1}, 3.0),
    ]


def test_steps_end_when_the_signs_do_and_change_when_the_rules_do() -> None:
    signs = [Occurrence("never_applied", date(2025, 9, 1), date(2026, 3, 1)), Occurrence("report_late", LATER)]
    assert radar.steps(signs, TWO) == [
        Step(date(2025, 9, 1), LATER, {"never_applied": 1}, 1.0),
        Step(LATER, date(2026, 3, 1), {"never_applied": 1, "report_late": 1}, 5.0),  # weighed triple from 2026
        Step(date(2026, 3, 1), date.max, {"report_late": 1}, 2.0),
    ]
    same = radar.segments([(HD_1294_2019.effective_from, R), (LATER, R)])  # a new text with the same rules
    assert radar.steps([Occurrence("report_late", date(2025, 9, 1))], same) == [
        Step(date(2025, 9, 1), date.max, {"report_late": 1}, 2.0)
    ]
    gap = [Occurrence("report_late", date(2025, 3, 1), date(2025, 4, 1)), Occurrence("report_late", date(2025, 5, 1))]
    assert [(s.from_day, s.until_day) for s in radar.steps(gap, same)] == [
        (date(2025, 3, 1), date(2025, 4, 1)), (date(2025, 5, 1), date.max),
    ]  # fmt: skip


# -- rule sets and month arithmetic -------------------------------------------------------------------------------


def test_the_rule_set_in_force_is_the_latest_taken_effect_and_a_missing_one_is_named() -> None:
    later = replace(HD_1294_2019, version="2026.1", effective_from=LATER)
    assert (
        rules_on(LATER, (later, HD_1294_2019)) is later
        and rules_on(date(2025, 12, 31), (later, HD_1294_2019)) is HD_1294_2019
    )
    assert grading_rules(2025, (later, HD_1294_2019)) is HD_1294_2019 and grading_rules(2026, (later,)) is later
    with pytest.raises(NotFound) as none:
        rules_on(date(2019, 8, 13))
    assert said(none) == (
        "no inspection rule set was in force on 2019-08-13", None, "rules.none_in_force", {"day": "2019-08-13"},
    )  # fmt: skip
    assert rules_on(date(2019, 8, 14)) is HD_1294_2019
    with pytest.raises(NotFound) as unknown:
        rule_set("2026.9", (HD_1294_2019, later))
    assert said(unknown) == ("no rule set 2026.9", None, "rules.unknown_version", {"version": "2026.9"})
    assert rule_set("2026.1", (HD_1294_2019, later)) is later
    with pytest.raises(NotFound) as kind:
        HD_1294_2019.indicators("cooperative")
    assert said(kind) == (
        f"rule set {HD_1294_2019.version} has no indicator set for 'cooperative'; known: enterprise, public_sector",
        "union_type", "grading.unknown_union_type", {"union_type": "cooperative", "rule_set": HD_1294_2019.version},
    )  # fmt: skip


def test_months_are_whole_and_month_ends_count_as_a_full_month() -> None:
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 1, 31), 12) == date(2026, 1, 31)
    assert add_months(date(2025, 12, 15), 1) == date(2026, 1, 15)
    assert add_months(date(2025, 1, 15), -1) == date(2024, 12, 15)
    assert months_between(date(2025, 1, 15), date(2025, 2, 14)) == 0
    assert months_between(date(2025, 1, 15), date(2025, 2, 15)) == 1
    assert months_between(date(2024, 11, 30), date(2025, 2, 28)) == 3  # the last day of February is a month end
    assert months_between(date(2024, 11, 30), date(2025, 2, 27)) == 2
    assert months_between(date(2025, 3, 1), date(2025, 1, 1)) == 0  # before it started: none
