"""The built-in catalogue of state titles against the research facts (``research/awards-inspections.md``
§0, §1.2, §1.5, §1.6), each with the section it comes from: who is nominated, who decides, the criteria's
parameters, the council's vote, the publicity window, the dossier, the multiple of the base salary, and the
dates the rule sets and salaries take effect. A fact changed in the catalogue without the research (or the
other way round) fails here. Values the research marks [U] are pinned as the defaults it names; an official
changes them by publishing a rule set, and this test then keeps the built-in defaults honest."""

from datetime import date
from decimal import Decimal

import pytest

from contracts.awards import AwardRule, CriterionRule
from services.awards.domain.catalogue import builtin_rulebook
from tests.awards.awards_helpers import BOOK

STATE_VERSIONS = ("state@2017-07-31", "state@2024-01-01", "state@2025-07-01")
NAMES = {  # §1.2: the state titles ("Danh hiệu …"); a province-level title is the city's in Hà Nội
    "ldtt": "Danh hiệu Lao động tiên tiến",
    "cstd_cs": "Danh hiệu Chiến sĩ thi đua cơ sở",
    "cstd_tinh": "Danh hiệu Chiến sĩ thi đua thành phố",
    "cstd_tq": "Danh hiệu Chiến sĩ thi đua toàn quốc",
    "tt_ldtt": "Danh hiệu Tập thể lao động tiên tiến",
    "tt_ldxs": "Danh hiệu Tập thể lao động xuất sắc",
}
MULTIPLES = {  # §1.6, NĐ 152/2025 (× lương cơ sở)
    "ldtt": "0.3",
    "cstd_cs": "1.0",
    "cstd_tinh": "3.0",
    "cstd_tq": "4.5",
    "tt_ldtt": "0.8",
    "tt_ldxs": "1.5",
}
EMPLOYER = "Thủ trưởng cơ quan, đơn vị"
CITY_CHAIR, CITY_BODY = "Chủ tịch Ủy ban nhân dân thành phố", "Ủy ban nhân dân thành phố"
# §1.3 inference: state titles are decided by the employer's head on its council's advice (grassroots), the
# province's (the city's) chair for CSTĐ tỉnh and Tập thể LĐXS, the Prime Minister for CSTĐ toàn quốc.
DECIDERS = {
    "ldtt": ("individual", "grassroots", "employer_head", EMPLOYER, ""),
    "cstd_cs": ("individual", "grassroots", "employer_head", EMPLOYER, ""),
    "cstd_tinh": ("individual", "city", "state_authority", CITY_CHAIR, CITY_BODY),
    "cstd_tq": ("individual", "national", "state_authority", "Thủ tướng Chính phủ", "Thủ tướng Chính phủ"),
    "tt_ldtt": ("collective", "grassroots", "employer_head", EMPLOYER, ""),
    "tt_ldxs": ("collective", "city", "state_authority", CITY_CHAIR, CITY_BODY),
}
BASE_DOSSIER = ("submission_letter", "achievement_summary", "minutes_extract")  # seed 003 §IV.3
INITIATIVE_DOSSIER = (*BASE_DOSSIER, "initiative_summary", "recognition_decision")


def state_award(version: str, code: str) -> AwardRule:
    rule_set = BOOK.version(version)
    assert rule_set is not None and rule_set.family == "state"
    (rule,) = [a for a in rule_set.awards if a.code == code]
    return rule


def criteria(rule: AwardRule) -> dict[str, CriterionRule]:
    return {c.code: c for c in rule.criteria}


def test_the_state_rule_sets_take_effect_with_the_law_and_each_decree() -> None:
    # §0: Law 06/2022 with NĐ 98/2023 from 01/01/2024; NĐ 152/2025 from 01/07/2025 (the old regime before).
    versions = [(v.version, v.effective_from) for v in BOOK.families["state"]]
    assert versions == [
        ("state@2017-07-31", date(2017, 7, 31)),
        ("state@2024-01-01", date(2024, 1, 1)),
        ("state@2025-07-01", date(2025, 7, 1)),
    ]
    for version in STATE_VERSIONS:
        rule_set = BOOK.version(version)
        assert rule_set is not None and [a.code for a in rule_set.awards] == list(NAMES)
    assert [v.version for v in BOOK.families["union"]] == ["union@2019-11-12", "union@2024-05-29"]  # §0: 1689, 999
    assert [v.effective_from for v in BOOK.families["union"]] == [date(2019, 11, 12), date(2024, 5, 29)]
    assert [v.version for v in BOOK.families["dmst"]] == ["dmst@2019-03-11"]


@pytest.mark.parametrize("version", STATE_VERSIONS)
def test_each_state_title_is_named_nominated_decided_and_paid_as_the_research_says(version: str) -> None:
    for code, name in NAMES.items():
        rule = state_award(version, code)
        assert (rule.name, rule.form, rule.is_title, rule.track, rule.category) == (
            name, "Danh hiệu thi đua", True, "state", "overall",
        ), code  # fmt: skip
        assert (rule.nominee_kind, rule.authority, rule.decider, rule.decider_title, rule.deciding_body) == DECIDERS[
            code
        ], code
        assert rule.multiple == Decimal(MULTIPLES[code]), code
        assert (rule.default_quota, rule.early_raise_months, rule.campaign_plan) == (None, None, None), code


@pytest.mark.parametrize("version", STATE_VERSIONS)
def test_the_individual_titles_build_on_each_other_with_initiatives_of_widening_scope(version: str) -> None:
    # §1.2: LĐTT = good work; CSTĐ cơ sở = LĐTT + an initiative recognised at the grassroots and applied;
    # CSTĐ tỉnh = 03 consecutive CSTĐ cơ sở + an initiative applied with influence in the province (city);
    # CSTĐ toàn quốc = 02 consecutive CSTĐ tỉnh + an initiative of nationwide influence.
    (good_work,) = state_award(version, "ldtt").criteria
    assert (good_work.code, good_work.check, good_work.evidence_kind) == ("good_work", "attested", "appraisal")
    ladder = {
        "cstd_cs": ("ldtt_this_year", "ldtt", 1, "initiative_grassroots", "grassroots"),
        "cstd_tinh": ("three_cstd_cs", "cstd_cs", 3, "initiative_city", "city"),
        "cstd_tq": ("two_cstd_tinh", "cstd_tinh", 2, "initiative_national", "national"),
    }
    for code, (streak_code, title, years, initiative_code, scope) in ladder.items():
        streak, initiative = state_award(version, code).criteria
        assert (streak.code, streak.check, streak.titles, streak.consecutive_years, streak.streak_includes_year) == (
            streak_code, "title_streak", (title,), years, True,
        ), code  # fmt: skip
        assert (initiative.code, initiative.check, initiative.scope_at_least) == (
            initiative_code, "initiative", scope,
        ), code  # fmt: skip
        assert (initiative.applied, initiative.accepted, initiative.count_at_least, initiative.within_years) == (
            True, False, 1, 1,
        ), code  # fmt: skip


@pytest.mark.parametrize("version", STATE_VERSIONS)
def test_the_collective_titles_need_shares_of_members_with_titles(version: str) -> None:
    # §1.2: Tập thể LĐTT: good work, > 50% LĐTT [the old law; 2022 text unread], unity.
    tt = criteria(state_award(version, "tt_ldtt"))
    assert list(tt) == ["good_work", "half_ldtt", "unity"]
    half = tt["half_ldtt"]
    assert (half.check, half.titles, half.share_more_than, half.share_at_least, half.unverified) == (
        "member_title_share", ("ldtt",), 0.5, 0.0, True,
    )  # fmt: skip
    assert (tt["unity"].check, tt["unity"].evidence_kind) == ("attested", None)
    # Tập thể LĐXS (2022 text): excellent work, ≥ 70% LĐTT, at least one CSTĐ cơ sở, unity.
    xs = criteria(state_award(version, "tt_ldxs"))
    assert list(xs) == ["excellent_work", "seventy_ldtt", "one_cstd_cs", "unity"]
    assert (xs["excellent_work"].check, xs["excellent_work"].evidence_kind) == ("attested", "appraisal")
    seventy, one = xs["seventy_ldtt"], xs["one_cstd_cs"]
    assert (seventy.check, seventy.titles, seventy.share_at_least) == ("member_title_share", ("ldtt",), 0.7)
    assert (one.check, one.titles, one.count_at_least) == ("member_title_count", ("cstd_cs",), 1)
    assert not any(c.unverified for c in xs.values())


@pytest.mark.parametrize("version", STATE_VERSIONS)
def test_votes_publicity_and_the_cap_follow_the_research(version: str) -> None:
    # §1.5: CSTĐ tỉnh and toàn quốc: secret ballot, ≥ 90% of all council members; grassroots thresholds
    # are a council parameter (a simple majority of all members by default), quorum two thirds.
    for code in NAMES:
        vote = state_award(version, code).vote
        high = code in ("cstd_tinh", "cstd_tq")
        assert (vote.quorum_share, vote.of) == (2 / 3, "all_members"), code
        assert (vote.threshold_share, vote.secret_ballot) == ((0.9, True) if high else (0.5, False)), code
        # §1.5: lists made public ≥ 10 working days before the council (CSTĐ toàn quốc; provincial titles
        # in practice); no statutory period below.
        assert state_award(version, code).publicity_working_days == (10 if high else 0), code
    # §1.2: CSTĐ cơ sở at most 15% of the LĐTT holders (NĐ 91/2017; a per-rule-set parameter).
    cstd_cs = state_award(version, "cstd_cs")
    assert (cstd_cs.cap_title, cstd_cs.cap_share) == ("ldtt", 0.15)
    assert all(state_award(version, c).cap_title is None for c in NAMES if c != "cstd_cs")


def test_the_effect_certificate_joins_the_cstd_dossier_from_nd_152() -> None:
    # Seed 003 §IV.3: letter, summary, minutes; an initiative's summary and recognition for initiative titles;
    # §1.2: NĐ 152/2025 Mẫu 13 adds the certificate of the initiative's effect for CSTĐ.
    for version in STATE_VERSIONS:
        certificate = version == "state@2025-07-01"
        for code in NAMES:
            dossier = state_award(version, code).dossier
            if code in ("cstd_tinh", "cstd_tq"):
                assert dossier == ((*INITIATIVE_DOSSIER, "effect_certificate") if certificate else INITIATIVE_DOSSIER)
            elif code == "cstd_cs":
                assert dossier == INITIATIVE_DOSSIER
            else:
                assert dossier == BASE_DOSSIER, (version, code)


def test_base_salaries_and_the_first_example_amounts() -> None:
    # §0: 1,800,000 đ from 01/07/2023; 2,340,000 đ from 01/07/2024; 2,530,000 đ from 01/07/2026.
    assert [(s.effective_from, s.amount_vnd) for s in BOOK.salaries] == [
        (date(2023, 7, 1), 1_800_000),
        (date(2024, 7, 1), 2_340_000),
        (date(2026, 7, 1), 2_530_000),
    ]
    assert [s.source for s in BOOK.salaries] == ["NĐ 24/2023/NĐ-CP", "NĐ 73/2024/NĐ-CP [U]", "NĐ 161/2026/NĐ-CP"]
    # §1.6 example: CSTĐ cơ sở 2,530,000 đ; LĐTT 759,000 rounded up to 760,000 đ.
    on = date(2026, 7, 1)
    assert BOOK.amount(state_award("state@2025-07-01", "cstd_cs"), on) == (2_530_000, 2_530_000)
    assert BOOK.amount(state_award("state@2025-07-01", "ldtt"), on) == (760_000, 2_530_000)


def test_the_built_in_calendar_declares_the_years_it_knows() -> None:
    calendar = builtin_rulebook().calendar
    assert calendar.years == frozenset({2023, 2024, 2025, 2026})
    assert not calendar.is_working_day(date(2026, 9, 2))  # Quốc khánh
    assert calendar.is_working_day(date(2025, 4, 26))  # a Saturday worked in the 30/4 swap


# -- the union's forms and the movement's thematic awards ----------------------------------------------------

UNION_MULTIPLES = {  # §1.6: NĐ 91/2017 values as defaults [U for union finance]: Giấy khen 0.3, Bằng khen 1.0,
    # a collective's Giấy khen twice an individual's, Cờ thi đua of a province 8.0
    "gk_cdcs": ("0.3", "individual", "grassroots"),
    "gk_cdcs_tt": ("0.6", "collective", "grassroots"),
    "gk_ctt": ("0.3", "individual", "upper_level"),
    "gk_ctt_tt": ("0.6", "collective", "upper_level"),
    "bk_ldld": ("1.0", "individual", "city"),
    "bk_ldld_tt": ("2.0", "collective", "city"),
    "co_ldld": ("8.0", "collective", "city"),
    "bk_tld": ("1.0", "individual", "national"),
    "blds_tld": ("1.0", "individual", "national"),
}


def test_the_unions_forms_are_its_own_track_decided_by_its_committees() -> None:
    for version in ("union@2019-11-12", "union@2024-05-29"):
        rule_set = BOOK.version(version)
        assert rule_set is not None
        rules = {a.code: a for a in rule_set.awards}
        assert list(rules) == list(UNION_MULTIPLES)
        for code, (multiple, kind, authority) in UNION_MULTIPLES.items():
            rule = rules[code]
            assert (rule.multiple, rule.nominee_kind, rule.authority) == (Decimal(multiple), kind, authority), code
            assert (rule.track, rule.decider, rule.category, rule.publicity_working_days) == (
                "union", "union_body", "overall", 5,
            ), code  # fmt: skip
            signer = "TM. BAN CHẤP HÀNH CHỦ TỊCH" if authority == "grassroots" else "TM. BAN THƯỜNG VỤ CHỦ TỊCH"
            assert rule.decider_title == signer, code
            assert rule.is_title == (code == "co_ldld"), code
        # §1.3: a Cờ thi đua of the province for units graded "hoàn thành xuất sắc nhiệm vụ"; one a year [U].
        flag = criteria(rules["co_ldld"])
        assert flag["graded_excellent"].grades == ("excellent",) and rules["co_ldld"].default_quota == 1
        assert (flag["pledge_fulfilled"].rate_at_least, flag["pledge_fulfilled"].unverified) == (1.0, True)
        # §1.3: Bằng Lao động sáng tạo: an accepted, applied initiative of city scope; at most 4 per province.
        (creative,) = rules["blds_tld"].criteria
        assert (creative.scope_at_least, creative.applied, creative.accepted) == ("city", True, True)
        assert rules["blds_tld"].default_quota == 4
        assert (
            rules["blds_tld"].deciding_body
            == rules["bk_tld"].deciding_body
            == ("Ban Chấp hành Tổng Liên đoàn Lao động Việt Nam")
        )


def test_the_movements_awards_are_thematic_with_the_seeds_criteria_and_dossier() -> None:
    # §1.4 (seed 003, 08/HD-LĐLĐ 2019): individuals need an initiative accepted and applied; collectives
    # launched the movement, signed a pledge, kept it alive, had initiatives recognised, unity, graded well.
    rule_set = BOOK.version("dmst@2019-03-11")
    assert rule_set is not None
    for rule in rule_set.awards:
        assert (rule.category, rule.track, rule.campaign_plan) == ("thematic", "union", "05/KH-TLĐ"), rule.code
        assert rule.form == ("Bằng khen" if rule.authority == "city" else "Giấy khen"), rule.code
        if rule.nominee_kind == "individual":
            initiative, obeys = rule.criteria
            assert (initiative.check, initiative.applied, initiative.accepted, obeys.check) == (
                "initiative", True, True, "attested",
            ), rule.code  # fmt: skip
            assert rule.dossier == (*BASE_DOSSIER[:2], "initiative_summary", "recognition_decision", BASE_DOSSIER[2])
        else:
            assert [c.code for c in rule.criteria] == [
                "launched", "pledge_signed", "reviewed", "many_initiatives", "unity", "graded_good",
            ], rule.code  # fmt: skip
            assert criteria(rule)["graded_good"].grades == ("excellent", "good")
            assert criteria(rule)["many_initiatives"].count_at_least == 2
            assert rule.dossier == BASE_DOSSIER
    scopes = {
        r.code: (r.authority, r.criteria[0].scope_at_least) for r in rule_set.awards if r.nominee_kind == "individual"
    }
    assert scopes == {
        "dmst_gk_cdcs": ("grassroots", "grassroots"),
        "dmst_gk_ctt": ("upper_level", "upper_level"),
        "dmst_bk_ldld": ("city", "upper_level"),
    }
