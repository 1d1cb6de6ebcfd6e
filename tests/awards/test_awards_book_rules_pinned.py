"""The awards' levels, statuses, calendar, rule-book reading and dossier, pinned by mutation testing
(issue 8): who acts at which level, which status follows which event, how working days and the rule set
in force are found, and which dossier pieces a proposal has. Domain only, no I/O."""

from datetime import date
from decimal import Decimal

import pytest

from contracts.awards import (
    AwardRevoked,
    BaseSalarySet,
    CouncilVoted,
    CriterionResult,
    Eligibility,
    HolidaysDeclared,
    ProposalReaddressed,
    RuleSetPublished,
)
from services.awards.domain.calendar import WorkingCalendar
from services.awards.domain.dossier import missing_pieces, pieces_present
from services.awards.domain.rulebook import AMOUNT_STEP, RuleBook, RuleBookRecord, SalaryStep, amount_of
from services.awards.domain.rules import (
    NATIONAL,
    allowed_next,
    authority_unit,
    handling_level,
    level_key,
    level_kind,
    level_of,
    require_at_level,
    status_after,
)
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.units import UnitRef
from tests.awards.awards_helpers import BOOK, CEO, FECON, HN, NTL, QR, THI_CONG, TODAY, actor, eligible, evidence
from tests.awards.test_awards_domain import conferred

TEAM = UnitRef(unit_id="u-team", path="hn.ntl.fecon.thi-cong.to-1", kind="sub_unit", name="Tổ 1", parent_id="u-tc")


# -- levels and who acts there ------------------------------------------------------------------------------


def test_officials_act_at_their_own_level_with_one_of_its_roles_and_the_operator_anywhere() -> None:
    require_at_level(actor(FECON, "chair"), level_of(FECON), ("chair",), "decide")
    require_at_level(actor(None, "admin"), level_of(FECON), ("chair",), "decide")
    with pytest.raises(Forbidden) as elsewhere:
        require_at_level(actor(CEO, "chair"), level_of(FECON), ("chair",), "decide")
    assert (elsewhere.value.message, elsewhere.value.code, elsewhere.value.params) == (
        "only officials of hn.ntl.fecon may decide; you act for hn.ntl.ceo",
        "award.not_your_level", {"level": "hn.ntl.fecon", "you": "hn.ntl.ceo"},
    )  # fmt: skip
    with pytest.raises(Forbidden) as role:
        require_at_level(actor(FECON, "member"), level_of(FECON), ("chair", "executive_committee"), "decide")
    assert (role.value.message, role.value.code, role.value.params) == (
        "to decide at hn.ntl.fecon you need one of the roles: chair, executive_committee",
        "award.role_required", {"level": "hn.ntl.fecon", "roles": ["chair", "executive_committee"]},
    )  # fmt: skip


def test_union_levels_are_found_from_directory_units() -> None:
    assert [level_kind(u) for u in (HN, NTL, FECON, THI_CONG)] == ["city", "upper_level", "grassroots", "grassroots"]
    assert level_of(NTL).model_dump() == {
        "unit_id": "u-ntl", "path": "hn.ntl", "name": "Liên đoàn Lao động quận Nam Từ Liêm", "kind": "upper_level",
    }  # fmt: skip
    assert handling_level(TEAM, [HN, NTL, FECON, THI_CONG]) == FECON  # the nearest union above nested sub-units
    assert handling_level(FECON, [HN, NTL]) == FECON
    assert handling_level(THI_CONG, [THI_CONG]) == THI_CONG  # no union known above: itself
    assert authority_unit([HN, NTL, FECON], "city") == level_of(HN)
    assert authority_unit([HN, NTL, FECON], "grassroots") == level_of(FECON)
    assert authority_unit([HN, NTL, FECON, THI_CONG], "grassroots") == level_of(FECON)  # never a sub-unit
    assert authority_unit([HN, FECON], "upper_level") == level_of(HN)  # no district: the nearest above
    assert authority_unit([FECON], "city") == level_of(FECON)  # nothing above: the chain's first
    assert authority_unit([HN, NTL], "grassroots") == level_of(NTL)  # no grassroots union: the nearest above
    assert authority_unit([HN, NTL, THI_CONG], "grassroots") == level_of(NTL)  # a sub-unit never decides
    assert authority_unit([THI_CONG, FECON], "national") == NATIONAL
    assert level_key("union_body", level_of(NTL)) == "union_body:upper_level:u-ntl"


def test_each_event_moves_the_status_and_each_status_says_what_is_allowed_next() -> None:
    vote = CouncilVoted.model_construct(passed=False)
    assert status_after("public", vote) == "public"  # a failed vote alone moves nothing
    assert status_after("public", CouncilVoted.model_construct(passed=True)) == "passed"
    assert status_after("escalated", ProposalReaddressed.model_construct(to_level=None)) == "returned"
    assert status_after("accepted", ProposalReaddressed.model_construct(to_level=level_of(HN))) == "escalated"
    assert status_after("conferred", AwardRevoked.model_construct()) == "revoked"
    assert status_after("filed", BaseSalarySet.model_construct()) == "filed"
    assert allowed_next("filed") == ["publicise", "vote", "withdraw"]
    assert allowed_next("accepted") == ["publicise", "vote", "return"]
    assert allowed_next("returned") == ["escalate", "withdraw"]
    assert allowed_next("conferred") == ["revoke"]
    assert allowed_next("revoked") == allowed_next("withdrawn") == allowed_next("nonsense") == []
    assert conferred().status == "conferred"


# -- the calendar -------------------------------------------------------------------------------------


def test_a_window_counts_working_days_from_its_opening_day() -> None:
    calendar = WorkingCalendar()
    assert calendar.window(date(2025, 11, 3), 1) == date(2025, 11, 3)  # Monday counts itself
    assert calendar.window(date(2025, 11, 1), 1) == date(2025, 11, 3)  # from a Saturday: the Monday
    assert calendar.window(date(2025, 11, 7), 2) == date(2025, 11, 10)
    assert calendar.window(date(2025, 11, 3), -1) == date(2025, 11, 2)
    assert calendar.working_days_between(date(2025, 11, 3), date(2025, 11, 3)) == 1
    assert calendar.working_days_between(date(2025, 11, 4), date(2025, 11, 3)) == 0
    assert calendar.working_days_between(date(2025, 11, 1), date(2025, 11, 9)) == 5
    every_day_off = WorkingCalendar(days_off=frozenset(date(2025, 1, 1).fromordinal(date(2025, 1, 1).toordinal() + n)
                                                       for n in range(800)))  # fmt: skip
    with pytest.raises(ValueError, match="3 working days do not fit in a year from 2025-01-01"):
        every_day_off.window(date(2025, 1, 1), 3)
    assert WorkingCalendar().window(date(2025, 1, 1), 286) == date(2026, 2, 4)  # the last day of the 400-day span
    with pytest.raises(ValueError):
        WorkingCalendar().window(date(2025, 1, 1), 287)


def test_a_declared_year_replaces_only_that_years_days() -> None:
    calendar = WorkingCalendar().with_year(2025, [date(2025, 9, 2)], [date(2025, 4, 26)])
    calendar = calendar.with_year(2026, [date(2026, 9, 2)])
    assert calendar.years == frozenset({2025, 2026})
    assert calendar.days_off == frozenset({date(2025, 9, 2), date(2026, 9, 2)})
    assert calendar.working_weekend_days == frozenset({date(2025, 4, 26)})
    redeclared = calendar.with_year(2025, [date(2025, 9, 1)])
    assert redeclared.days_off == frozenset({date(2025, 9, 1), date(2026, 9, 2)})
    assert redeclared.working_weekend_days == frozenset()
    assert calendar.is_working_day(date(2025, 4, 26)) and not calendar.is_working_day(date(2025, 4, 27))
    assert calendar.is_working_day(date(2025, 4, 25)) and not calendar.is_working_day(date(2025, 9, 2))


# -- reading the rule book ---------------------------------------------------------------------------------


def test_the_rule_set_and_salary_in_force_are_those_from_their_effective_day() -> None:
    assert BOOK.rule_set("state", date(2025, 7, 1)).version == "state@2025-07-01"
    assert BOOK.rule_set("state", date(2024, 1, 1)).version == "state@2024-01-01"
    assert BOOK.rule_set("state", date(2017, 7, 31)).version == "state@2017-07-31"
    with pytest.raises(NotFound) as none:
        BOOK.rule_set("nope", TODAY)
    assert (none.value.message, none.value.code, none.value.params) == (
        "no nope rule set is in force on 2025-11-03", "award.no_rule_set", {"family": "nope", "on": "2025-11-03"},
    )  # fmt: skip
    assert BOOK.base_salary(date(2024, 7, 1)).amount_vnd == 2_340_000
    assert BOOK.base_salary(date(2024, 6, 30)).amount_vnd == 1_800_000
    assert BOOK.base_salary(date(2023, 7, 1)).amount_vnd == 1_800_000
    with pytest.raises(NotFound) as before:
        BOOK.base_salary(date(2023, 6, 30))
    assert (before.value.message, before.value.code, before.value.params) == (
        "no base salary is recorded for 2023-06-30", "award.no_base_salary", {"on": "2023-06-30"},
    )  # fmt: skip
    assert BOOK.version("state@1900") is None and BOOK.family_of("nope") is None
    assert BOOK.family_of("bk_ldld") == "union" and BOOK.family_of("dmst_gk_cdcs") == "dmst"


def test_an_award_is_looked_up_in_the_rule_set_in_force_and_named_by_the_callers_field() -> None:
    rule_set, rule = BOOK.award("cstd_cs", TODAY)
    assert (rule_set.version, rule.code) == ("state@2025-07-01", "cstd_cs")
    with pytest.raises(InvalidInput) as unknown:
        BOOK.award("nope", TODAY, "awards.2.code")
    assert (unknown.value.message, unknown.value.code, unknown.value.field, unknown.value.params) == (
        "no award 'nope' in any rule set", "award.unknown_award", "awards.2.code", {"award_code": "nope"},
    )  # fmt: skip
    later = BOOK.version("state@2025-07-01")
    assert later is not None
    extra = later.awards[0].model_copy(update={"code": "ldtt_2026"})
    book = BOOK.with_rule_set(
        later.model_copy(update={"version": "state@2026", "effective_from": date(2026, 1, 1), "awards": (extra,)})
    )
    with pytest.raises(InvalidInput) as not_yet:
        book.award("ldtt_2026", TODAY)
    assert (not_yet.value.message, not_yet.value.code, not_yet.value.field, not_yet.value.params) == (
        "'ldtt_2026' is not in the rule set in force on 2025-11-03 (state@2025-07-01)",
        "award.not_in_rule_set", "award_code", {"award_code": "ldtt_2026", "rule_set": "state@2025-07-01"},
    )  # fmt: skip
    assert book.award("ldtt_2026", date(2026, 1, 1))[1] == extra


def test_amounts_are_rounded_up_to_ten_thousand_only_when_not_already_round() -> None:
    assert AMOUNT_STEP == 10_000
    assert amount_of(Decimal("1.0"), 2_530_000) == 2_530_000
    assert amount_of(Decimal("0.3"), 2_530_000) == 760_000  # 759,000
    assert amount_of(Decimal("0.15"), 1_800_000) == 270_000
    assert amount_of(Decimal("0.3"), 1_000_001) == 310_000  # 300,000.3


def test_amending_replaces_a_version_or_a_salary_of_the_same_day_and_keeps_the_rest() -> None:
    current = BOOK.version("state@2025-07-01")
    assert current is not None
    again = current.model_copy(update={"title": "sửa"})
    book = BOOK.with_rule_set(again)
    assert [v.version for v in book.families["state"]] == [v.version for v in BOOK.families["state"]]
    assert book.version("state@2025-07-01") == again and book.families["union"] == BOOK.families["union"]
    book = book.with_salary(SalaryStep(date(2026, 7, 1), 2_600_000, "x"))
    assert [s.amount_vnd for s in book.salaries] == [1_800_000, 2_340_000, 2_600_000]
    book = book.with_salary(SalaryStep(date(2025, 1, 1), 2_000_000, "y"))
    assert [s.effective_from for s in book.salaries] == [date(2023, 7, 1), date(2024, 7, 1), date(2025, 1, 1),
                                                         date(2026, 7, 1)]  # fmt: skip
    assert RuleBook().families == {} and RuleBook().salaries == ()


def test_the_rule_book_record_applies_each_amendment_over_the_built_in_book() -> None:
    record = RuleBookRecord()
    assert record.id == "rulebook" and record.book.families.keys() == BOOK.families.keys()
    current = BOOK.version("state@2025-07-01")
    assert current is not None
    new = current.model_copy(update={"version": "state@2027", "effective_from": date(2027, 1, 1)})
    record.apply(RuleSetPublished(rule_set=new, published_by="x"))
    record.apply(BaseSalarySet(effective_from=date(2027, 7, 1), amount_vnd=3_000_000, source="s", set_by="x"))
    record.apply(HolidaysDeclared(year=2027, days_off=(date(2027, 1, 1),), working_weekend_days=(date(2027, 1, 9),),
                                  source="s", declared_by="x"))  # fmt: skip
    assert record.book.rule_set("state", date(2027, 2, 1)).version == "state@2027"
    assert record.book.base_salary(date(2027, 7, 1)) == SalaryStep(date(2027, 7, 1), 3_000_000, "s")
    assert not record.book.calendar.is_working_day(date(2027, 1, 1))
    assert record.book.calendar.is_working_day(date(2027, 1, 9))


# -- the dossier ----------------------------------------------------------------------------------------


def without_decision(criterion: CriterionResult) -> CriterionResult:
    facts = tuple(f.model_copy(update={"summary": "«x»"}) for f in criterion.facts)
    return criterion.model_copy(update={"facts": facts})


def present(eligibility: Eligibility, files: tuple = ()) -> set[str]:
    return set(
        pieces_present(submission_number="1", summary="s", eligibility=eligibility, evidence=files, voted_here=False)
    )


def test_a_dossier_has_the_pieces_the_proposal_shows() -> None:
    met: Eligibility = eligible("cstd_tinh")
    full = pieces_present(
        submission_number="07/TTr", summary="Tóm tắt", eligibility=met, evidence=(evidence("effect_certificate"),),
        voted_here=True,
    )  # fmt: skip
    assert full == {
        "submission_letter", "achievement_summary", "initiative_summary", "recognition_decision", "minutes_extract",
        "effect_certificate",
    }  # fmt: skip
    bare = pieces_present(submission_number=" ", summary=" ", eligibility=met, evidence=(), voted_here=False)
    assert bare == {"initiative_summary", "recognition_decision"}  # the initiative's QĐ is in its fact
    unnumbered = met.model_copy(update={"criteria": tuple(without_decision(c) for c in met.criteria)})
    assert present(unnumbered) == {"submission_letter", "achievement_summary", "initiative_summary"}
    assert "recognition_decision" in present(unnumbered, (evidence("recognition_decision"),))
    failing = tuple(c.model_copy(update={"outcome": "not_met"}) for c in met.criteria)
    # An initiative behind a criterion it does not meet is not in the dossier.
    assert present(met.model_copy(update={"criteria": failing})) == {"submission_letter", "achievement_summary"}
    _, rule = BOOK.award("cstd_tinh", TODAY)
    assert missing_pieces(rule, {"submission_letter", "minutes_extract"}) == [
        "achievement_summary", "initiative_summary", "recognition_decision", "effect_certificate",
    ]  # fmt: skip
    assert QR.decision_number == "12/QĐ-LĐLĐ"
