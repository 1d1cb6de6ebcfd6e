"""Self-inspection's rules, pinned by mutation testing (issue 8): opening a round, answering, submitting,
amending, overdue and withdrawal refuse with the type, field, code, message and parameters, and each
event says everything it decided. Domain only, no I/O."""

from datetime import date

import pytest

from contracts.inspections import SelfInspectionRoundOpened
from services.inspections.domain.rulesets import HD_1294_2019
from services.inspections.domain.selfinspection import UnitFacts
from shared.errors import Conflict, InvalidInput
from tests.inspections.inspections_helpers import CEO, FECON, HANDICO, HN, NTL, THI_CONG, facts
from tests.inspections.test_inspections_rules_pinned import said
from tests.inspections.test_selfinspection_domain import DUE, TODAY, opened

# -- opening a round --------------------------------------------------------------------------------


def test_a_round_needs_a_title() -> None:
    with pytest.raises(InvalidInput) as refused:
        opened(title="\t ")
    assert said(refused) == ("a round needs a title", "title", "text.blank", {})


@pytest.mark.parametrize("year", [2023, 2026])
def test_a_round_inspects_this_year_or_last_year(year: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        opened(year=year)
    assert said(refused) == (
        f"a round inspects this year or last year (2024–2025), not {year}",
        "year",
        "round.year_out_of_range",
        {"year": year, "from": 2024, "to": 2025},
    )
    assert opened(year=2024)[0].year == 2024


def test_a_round_is_due_after_the_day_it_opens() -> None:
    with pytest.raises(InvalidInput) as refused:
        opened(due_on=TODAY)
    assert said(refused) == (
        "the due date must be after today (2025-06-01)",
        "due_on",
        "round.due_in_past",
        {"due_on": "2025-06-01", "today": "2025-06-01"},
    )
    assert opened(due_on=date(2025, 6, 2))[0].due_on == date(2025, 6, 2)


def test_an_inactive_level_opens_no_round_and_a_round_needs_someone_to_inspect() -> None:
    from dataclasses import replace

    with pytest.raises(Conflict) as inactive:
        opened(level=replace(NTL, status="merged"))
    assert said(inactive) == ("hn.ntl is no longer active", "level_unit_id", "unit.inactive", {})
    with pytest.raises(Conflict) as nobody:
        opened(UnitFacts(HANDICO), UnitFacts(THI_CONG), UnitFacts(replace(CEO, status="merged")))
    assert said(nobody) == (
        "no grassroots union under hn.ntl is without a checklist for half_year 2025",
        "level_unit_id",
        "round.no_units",
        {"level": "hn.ntl", "year": 2025, "period": "half_year"},
    )


def test_the_opening_says_everything_it_decided() -> None:
    opening, issued = opened(facts(), facts(CEO), level=HN, year=2024, today=date(2025, 6, 1))
    assert opening == SelfInspectionRoundOpened(
        round_id="r-1",
        level_unit_id="u-hn",
        level_path="hn",
        year=2024,
        period="half_year",
        title="Tự kiểm tra 6 tháng đầu năm 2025",
        opened_on=date(2025, 6, 1),
        due_on=DUE,
        unit_count=2,
        rule_set=HD_1294_2019.version,
        opened_by="btv-ntl",
    )
    assert [(c.round_id, c.unit_id, c.level_path, c.year, c.period, c.due_on) for c in issued] == [
        ("r-1", "u-fecon", "hn", 2024, "half_year", DUE),
        ("r-1", "u-ceo", "hn", 2024, "half_year", DUE),
    ]
    assert issued[1].commitments == facts(CEO).commitments and issued[1].initiatives == facts(CEO).initiatives
    assert [c.unit_id for c in opened(facts(FECON), level=FECON)[1]] == ["u-fecon"]  # a union's own round
