"""The awards rules kept across proposals and the rule book's amendments, pinned by mutation testing
(issue 8): one achievement one reward, overall-or-thematic, quotas, and a coherent rule set, salary and
calendar. Each refusal is pinned with its type, code, field, message and parameters, each accepted
command with its whole event. Domain only, no I/O."""

from datetime import date
from typing import Any

import pytest

from contracts.awards import (
    AchievementClaimed,
    AchievementReleased,
    BaseSalarySet,
    HolidaysDeclared,
    QuotaAllocated,
    QuotaReleased,
    QuotaUsed,
    RuleSetPublished,
)
from services.awards.domain.catalogue import builtin_rulebook
from services.awards.domain.ledgers import NomineeRecord, QuotaLedger, nominee_key, quota_key
from services.awards.domain.rulebook import RuleBookRecord, check_rule_set
from shared.errors import Conflict, Forbidden, InvalidInput, ThiduaError
from tests.awards.awards_helpers import BOOK, BTV_HN, BTV_NTL, FECON, HN, NTL, TODAY, actor, then

NTL_KEY, HN_KEY = "union_body:upper_level:u-ntl", "union_body:city:u-hn"


def refusal(error: pytest.ExceptionInfo[ThiduaError]) -> tuple[str, str, str | None, dict[str, Any]]:
    e = error.value
    return e.message, e.code, e.field, e.params


def claim(record: NomineeRecord, proposal_id: str, ref: str, key: str = NTL_KEY, year: int = 2025, **kw: Any) -> list:
    category, code = kw.get("category", "overall"), kw.get("award_code", "gk_ctt")
    return record.claim("m-an", proposal_id, ref, key, year, category, code)


# -- one achievement, one reward -------------------------------------------------------------------------


def test_a_claim_records_the_achievement_at_its_level_and_a_release_frees_it() -> None:
    assert nominee_key("individual", "m-an") == "individual-m-an" and quota_key("u-ntl", 2025) == "u-ntl-2025"
    record = NomineeRecord("individual-m-an")
    (event,) = claim(record, "p-1", "initiative:i-qr")
    assert event == AchievementClaimed(
        nominee_id="m-an", proposal_id="p-1", achievement_ref="initiative:i-qr", level_key=NTL_KEY,
        year=2025, category="overall", award_code="gk_ctt",
    )  # fmt: skip
    then(record, [event])
    assert record.release("m-an", "p-9", "withdrawn") == []  # never held
    (released,) = record.release("m-an", "p-1", "withdrawn")
    assert released == AchievementReleased(nominee_id="m-an", proposal_id="p-1", reason="withdrawn")
    then(record, [released])
    assert record.claims == {} and claim(record, "p-2", "initiative:i-qr")
    then(record, [released])  # a release replayed twice (an older history) still loads
    assert record.id == "individual-m-an" and record.claims == {}


def test_one_achievement_is_rewarded_once_at_a_level_whatever_else_is_held_there() -> None:
    record = NomineeRecord("individual-m-an")
    then(record, claim(record, "p-0", "initiative:i-qr", HN_KEY, award_code="bk_ldld"))  # another level
    then(record, claim(record, "p-1", "initiative:i-qr"))
    with pytest.raises(Conflict) as error:
        claim(record, "p-2", "initiative:i-qr", year=2026)
    assert refusal(error) == (
        "this achievement already rests on proposal p-1 (gk_ctt) at the same level: one achievement, one reward",
        "award.achievement_already_proposed", "achievement", {"earlier_proposal_id": "p-1", "award_code": "gk_ctt"},
    )  # fmt: skip


def test_an_overall_and_a_thematic_award_are_not_both_given_at_a_level_in_one_year() -> None:
    record = NomineeRecord("individual-m-an")
    then(record, claim(record, "p-0", "year:2025:x", HN_KEY, category="thematic"))  # another level
    then(record, claim(record, "p-1", "initiative:i-qr"))
    with pytest.raises(Conflict) as error:
        claim(record, "p-2", "campaign:dmst", category="thematic", award_code="dmst_gk_ctt")
    assert refusal(error) == (
        "the nominee already has a overall award proposed or given at this level for 2025 (proposal p-1); "
        "an overall and a thematic award are not both given",
        "award.overall_and_thematic", "award_code",
        {"earlier_proposal_id": "p-1", "category": "overall", "year": 2025},
    )  # fmt: skip
    assert claim(record, "p-3", "campaign:dmst", year=2026, category="thematic")  # another year
    assert claim(record, "p-4", "initiative:i-other")  # another overall achievement the same year


# -- quotas -----------------------------------------------------------------------------------------------


def test_a_level_allocates_quotas_to_its_direct_children_only() -> None:
    ledger = QuotaLedger("u-ntl-2025")
    assert ledger.id == "u-ntl-2025"
    (event,) = ledger.allocate(BTV_HN, HN, NTL, 2025, "bk_ldld", 3)
    assert event == QuotaAllocated(
        unit_id=NTL.unit_id, by_unit_id=HN.unit_id, by_path="hn", year=2025, award_code="bk_ldld", count=3,
        allocated_by="btv-hn",
    )  # fmt: skip
    with pytest.raises(Forbidden) as child:
        ledger.allocate(BTV_NTL, HN, NTL, 2025, "bk_ldld", 3)
    assert child.value.message == "only officials of hn may allocate quotas; you act for hn.ntl"
    with pytest.raises(Forbidden) as officer:
        ledger.allocate(actor(HN, "emulation_officer"), HN, NTL, 2025, "bk_ldld", 3)
    assert officer.value.message == "to allocate quotas at hn you need one of the roles: standing_committee, chair"
    with pytest.raises(InvalidInput) as grandchild:
        ledger.allocate(BTV_HN, HN, FECON, 2025, "bk_ldld", 3)
    assert refusal(grandchild) == (
        "hn.ntl.fecon is not a direct child of hn; a level allocates to its children",
        "award.not_a_child", "unit_path", {"unit": "hn.ntl.fecon", "parent": "hn"},
    )  # fmt: skip


def test_a_quota_never_goes_below_the_places_already_used() -> None:
    ledger = QuotaLedger("u-ntl-2025")
    _, rule = BOOK.award("bk_ldld", TODAY)
    then(ledger, ledger.take(NTL.unit_id, 2025, rule, ["p-1", "p-2"]))
    with pytest.raises(Conflict) as error:
        ledger.allocate(BTV_HN, HN, NTL, 2025, "bk_ldld", 1)
    assert refusal(error) == (
        "2 places are already used; the quota cannot go below that", "award.quota_below_used", "count", {"used": 2},
    )  # fmt: skip
    (exactly,) = ledger.allocate(BTV_HN, HN, NTL, 2025, "bk_ldld", 2)
    then(ledger, [exactly])
    assert (ledger.limit(rule), ledger.remaining(rule)) == (2, 0)
    assert ledger.allocate(BTV_HN, HN, NTL, 2025, "gk_ctt", 0)  # another award's places are its own


def test_places_are_taken_together_up_to_the_quota_and_a_resent_proposal_keeps_its_place() -> None:
    ledger = QuotaLedger("u-ntl-2025")
    _, rule = BOOK.award("blds_tld", TODAY)  # default quota 4
    assert (ledger.limit(rule), ledger.remaining(rule)) == (4, 4)
    taken = ledger.take(NTL.unit_id, 2025, rule, ["p-1", "p-2", "p-1"])
    assert taken == [
        QuotaUsed(unit_id=NTL.unit_id, year=2025, award_code="blds_tld", proposal_id="p-1"),
        QuotaUsed(unit_id=NTL.unit_id, year=2025, award_code="blds_tld", proposal_id="p-2"),
    ]
    then(ledger, taken)
    with pytest.raises(Conflict) as error:
        ledger.take(NTL.unit_id, 2025, rule, ["p-2", "p-3", "p-4", "p-5"])
    assert refusal(error) == (
        "over quota: 2 of 4 places for blds_tld in 2025 are used and 2 remain; 3 would leave",
        "award.quota_exceeded", "proposal_ids",
        {"award_code": "blds_tld", "year": 2025, "limit": 4, "used": 2, "remaining": 2},
    )  # fmt: skip
    then(ledger, ledger.take(NTL.unit_id, 2025, rule, ["p-2", "p-3", "p-4"]))  # exactly the two left
    assert ledger.remaining(rule) == 0
    assert ledger.give_back(NTL.unit_id, 2025, "blds_tld", "p-9") == []
    assert ledger.give_back(NTL.unit_id, 2025, "bk_ldld", "p-1") == []  # no place of that award was used
    (back,) = ledger.give_back(NTL.unit_id, 2025, "blds_tld", "p-3")
    assert back == QuotaReleased(unit_id=NTL.unit_id, year=2025, award_code="blds_tld", proposal_id="p-3")
    then(ledger, [back, QuotaReleased(unit_id=NTL.unit_id, year=2025, award_code="other", proposal_id="p-3")])
    assert ledger.remaining(rule) == 1
    fewer = rule.model_copy(update={"default_quota": 1})
    assert ledger.remaining(fewer) == 0  # a rule set that lowered the default: none left, never negative


def test_an_award_without_a_quota_takes_any_number_of_places() -> None:
    _, rule = BOOK.award("bk_ldld", TODAY)
    assert rule.default_quota is None
    ledger = QuotaLedger("u-ntl-2025")
    assert (ledger.limit(rule), ledger.remaining(rule)) == (None, None)
    assert len(ledger.take(NTL.unit_id, 2025, rule, [f"p-{i}" for i in range(50)])) == 50


# -- the rule book -----------------------------------------------------------------------------------------

CITY = actor(HN, "standing_committee", subject="btv-hn")


def state_rule_set(version: str = "state@2026-01-01", **changes: Any):
    current = BOOK.version("state@2025-07-01")
    assert current is not None
    return current.model_copy(update={"version": version, "effective_from": date(2026, 1, 1)} | changes)


def test_only_the_city_standing_committee_or_the_operator_amends_the_rule_book() -> None:
    record = RuleBookRecord(base=builtin_rulebook())
    amended = state_rule_set()
    assert record.publish(amended, CITY) == [RuleSetPublished(rule_set=amended, published_by="btv-hn")]
    assert record.publish(amended, actor(HN, "chair"))
    assert record.publish(amended, actor(None, "admin"))
    for stranger in (actor(HN, "emulation_officer"), BTV_NTL, actor(None, "chair")):
        with pytest.raises(Forbidden) as error:
            record.publish(amended, stranger)
        assert (error.value.message, error.value.code) == (
            "only the city federation's standing committee amends the rule book", "award.rulebook_keeper_only",
        )  # fmt: skip
    with pytest.raises(Forbidden):
        record.set_base_salary(date(2027, 1, 1), 1, "x", BTV_NTL)
    with pytest.raises(Forbidden):
        record.declare_holidays(2027, (), (), "x", BTV_NTL)


def test_a_rule_set_is_a_new_version_with_distinct_codes_of_its_own_family() -> None:
    with pytest.raises(Conflict) as exists:
        check_rule_set(BOOK, state_rule_set("state@2025-07-01"))
    assert refusal(exists) == (
        "rule set version state@2025-07-01 is already published; publish a new version",
        "award.rule_set_exists", "rule_set.version", {"version": "state@2025-07-01"},
    )  # fmt: skip
    with pytest.raises(InvalidInput) as empty:
        check_rule_set(BOOK, state_rule_set(awards=()))
    assert refusal(empty) == ("a rule set needs at least one award", "award.empty_rule_set", "rule_set.awards", {})
    ldtt, cstd_cs = state_rule_set().awards[:2]
    with pytest.raises(InvalidInput) as twice:
        check_rule_set(BOOK, state_rule_set(awards=(ldtt, cstd_cs, cstd_cs)))
    assert refusal(twice) == (
        "award code cstd_cs appears twice", "award.duplicate_code", "rule_set.awards.1.code", {"award_code": "cstd_cs"},
    )  # fmt: skip
    mine = state_rule_set("mine@1", family="mine", awards=(ldtt.model_copy(update={"code": "mine_1"}), cstd_cs))
    with pytest.raises(InvalidInput) as other:
        check_rule_set(BOOK, mine)
    assert refusal(other) == (
        "award code cstd_cs belongs to the state family",
        "award.code_of_other_family", "rule_set.awards.1.code", {"award_code": "cstd_cs", "family": "state"},
    )  # fmt: skip
    check_rule_set(BOOK, state_rule_set("mine@1", family="mine", awards=(ldtt.model_copy(update={"code": "mine_1"}),)))
    check_rule_set(BOOK, state_rule_set())  # the same codes in a new version of their own family


def test_an_awards_criteria_are_distinct_and_a_cap_names_both_its_title_and_share() -> None:
    ldtt, cstd_cs = state_rule_set().awards[:2]
    doubled = cstd_cs.model_copy(update={"criteria": (cstd_cs.criteria[0], cstd_cs.criteria[0])})
    with pytest.raises(InvalidInput) as criteria:
        check_rule_set(BOOK, state_rule_set(awards=(ldtt, doubled)))
    assert refusal(criteria) == (
        "criterion codes of cstd_cs must be distinct", "award.duplicate_criterion", "rule_set.awards.1.criteria", {},
    )  # fmt: skip
    for half in ({"cap_share": None}, {"cap_title": None}):
        with pytest.raises(InvalidInput) as cap:
            check_rule_set(BOOK, state_rule_set(awards=(ldtt, cstd_cs.model_copy(update=half))))
        assert refusal(cap) == (
            "a cap needs both cap_title and cap_share", "award.incomplete_cap", "rule_set.awards.1.cap_share", {},
        )  # fmt: skip
    uncapped = cstd_cs.model_copy(update={"cap_share": None, "cap_title": None})
    check_rule_set(BOOK, state_rule_set(awards=(ldtt, uncapped)))


def test_a_base_salary_is_positive_and_holidays_are_dated_in_their_year() -> None:
    record = RuleBookRecord(base=builtin_rulebook())
    with pytest.raises(InvalidInput) as zero:
        record.set_base_salary(date(2027, 7, 1), 0, "x", CITY)
    assert refusal(zero) == ("the base salary must be positive", "award.bad_salary", "amount_vnd", {})
    assert record.set_base_salary(date(2027, 7, 1), 1, "NĐ x", CITY) == [
        BaseSalarySet(effective_from=date(2027, 7, 1), amount_vnd=1, source="NĐ x", set_by="btv-hn")
    ]
    with pytest.raises(InvalidInput) as outside:
        record.declare_holidays(2027, (date(2027, 1, 1), date(2028, 1, 1)), (), "x", CITY)
    assert refusal(outside) == ("2028-01-01 is not in 2027", "award.holiday_outside_year", "days_off.1", {})
    with pytest.raises(InvalidInput) as friday:
        record.declare_holidays(2027, (), (date(2027, 1, 9), date(2027, 1, 8)), "x", CITY)
    assert refusal(friday) == (
        "2027-01-08 is not a weekend day of 2027", "award.not_a_weekend_day", "working_weekend_days.1", {},
    )  # fmt: skip
    with pytest.raises(InvalidInput):
        record.declare_holidays(2027, (), (date(2026, 1, 10),), "x", CITY)  # a Saturday of another year
    (declared,) = record.declare_holidays(
        2027, (date(2027, 9, 2), date(2027, 1, 1)), (date(2027, 1, 10), date(2027, 1, 9)), "QĐ x", CITY
    )
    assert declared == HolidaysDeclared(
        year=2027,
        days_off=(date(2027, 1, 1), date(2027, 9, 2)),
        working_weekend_days=(date(2027, 1, 9), date(2027, 1, 10)),
        source="QĐ x",
        declared_by="btv-hn",
    )
    then(record, [declared])
    assert record.book.calendar.is_working_day(date(2027, 1, 9))  # a Saturday worked
    assert not record.book.calendar.is_working_day(date(2027, 1, 1))
    assert record.book.calendar.declared(date(2027, 5, 5)) and not record.book.calendar.declared(date(2030, 5, 5))
