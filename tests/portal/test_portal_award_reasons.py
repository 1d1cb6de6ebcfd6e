"""An eligibility reason is said in the person's language from the awards service's stable code and its
parameters; a judgement recorded before the codes shows its fixed reasons translated, the rest as written."""

from collections.abc import Iterator
from dataclasses import replace

import pytest

from contracts.awards import CriterionRule
from services.awards.domain import eligibility
from services.awards.domain.eligibility import Claim, MemberTitles, NomineeFacts
from services.portal.entrypoints import i18n
from services.portal.entrypoints.award_words import INITIATIVE_GAPS, REASON_CODES, reason
from tests.awards.awards_helpers import QR, titles

SAMPLE = {"count": 1, "needed": 2, "gaps": ["below_scope", "outside_years"], "scope": "city", "from_year": 2023,
          "to_year": 2025, "years": [2024], "revoked": [2024], "year": 2025, "grade": "good", "grades": ["excellent"],
          "rate": 0.8, "share": 0.6, "kind": "appraisal"}  # fmt: skip


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    token = i18n.current_locale.set("vi")
    yield
    i18n.current_locale.reset(token)


def said(criterion: object) -> str:
    """What the portal shows for a criterion as the service sends it (JSON: tuples become lists)."""
    return reason(criterion.model_dump(mode="json"))  # type: ignore[attr-defined]


def test_every_reason_the_service_gives_has_words_in_the_portal() -> None:
    assert set(REASON_CODES) == set(eligibility.REASON_CODES)
    assert set(INITIATIVE_GAPS) == set(eligibility.INITIATIVE_GAPS)
    for code, names in eligibility.REASON_CODES.items():
        shown = reason({"reason": "English", "reason_code": code, "reason_params": {n: SAMPLE[n] for n in names}})
        assert "{" not in shown and "English" not in shown, (code, shown)
        assert i18n.gettext(REASON_CODES[code]) != REASON_CODES[code], f"{code} has no Vietnamese words"
        assert "2.02" not in shown, (code, shown)  # a year is written as a year, never grouped like a number


def test_the_reasons_of_real_judgements_read_in_vietnamese_with_their_figures() -> None:
    def rule(check: str, **params: object) -> CriterionRule:
        return CriterionRule(code="c", label="Tiêu chí", check=check, **params)  # type: ignore[arg-type]

    claim = Claim(year=2025)
    city = rule("initiative", scope_at_least="city")
    low = eligibility.check_initiative(city, NomineeFacts("n", initiatives=(replace(QR, scope="upper_level"),)), claim)
    assert said(low) == "0/1 sáng kiến cần có đạt yêu cầu (công nhận dưới cấp Thành phố)"
    streak = rule("title_streak", titles=("cstd_cs",), consecutive_years=3, streak_includes_year=True)
    lost = NomineeFacts("n", titles=titles("cstd_cs", 2023, 2024, 2025, revoked=(2024,)))
    assert said(eligibility.check_title_streak(streak, lost, claim)) == "thiếu năm 2024 (bị thu hồi năm 2024)"
    half = NomineeFacts("n", members={2025: MemberTitles(10, {"ldtt": 5})})
    share = rule("member_title_share", titles=("ldtt",), share_more_than=0.5)
    assert said(eligibility.check_member_title_share(share, half, claim)) == (
        "50% đoàn viên đạt danh hiệu; cần trên 50%"
    )
    attested = rule("attested")
    bare = Claim(year=2025, attested=frozenset({"c"}))
    assert said(eligibility.check_attested(attested, NomineeFacts("n"), bare)) == (
        i18n.gettext("attested without an evidence file")
    )
    assert said(eligibility.check_grade(rule("grade", grades=("excellent",)), NomineeFacts("n"), claim)) == (
        "chưa có xếp loại được xác nhận cho năm 2025"
    )


def test_a_judgement_recorded_before_the_codes_keeps_its_words() -> None:
    assert (
        reason({"reason": "no signed pledge is known"})
        == i18n.gettext("no signed pledge is known")
        != ("no signed pledge is known")
    )
    assert reason({"reason": "2 of 3 needed qualify (too few)", "reason_code": ""}) == "2 of 3 needed qualify (too few)"
