"""The inspections' rules, pinned by mutation testing (issue 8): closing a self-inspection round and
concluding an inspection refuse with the type, field, code, parameters and what is allowed next. Each test
fails if a check, or what its refusal says, is removed. Domain only, no I/O."""

from datetime import date
from typing import Any

import pytest

from services.inspections.domain.grading import Grading
from services.inspections.domain.inspection import InspectedUnit, Inspection, Plan
from services.inspections.domain.selfinspection import Checklist, Round
from shared.errors import IllegalTransition, InvalidInput, ThiduaError
from tests.inspections.test_inspection_domain import TODAY, decided, inspection, then
from tests.inspections.test_selfinspection_domain import DUE, round_


def said(refused: pytest.ExceptionInfo[Any]) -> tuple[str, str | None, str, dict[str, Any]]:
    """What a refusal says: its message, field, code and parameters (the type is what was raised)."""
    error: ThiduaError = refused.value
    return str(error), error.field, error.code, error.params


def test_a_round_closes_only_after_its_due_day_with_a_summary_and_once() -> None:
    with pytest.raises(IllegalTransition) as early:
        round_().close(DUE, "Tổng hợp", 1, 0, "btv-ntl")
    assert str(early.value) == "the round is due on 2025-06-30; close it after that day"
    assert (early.value.code, early.value.params, early.value.allowed_next) == (
        "round.not_due", {"due_on": "2025-06-30"}, [],
    )  # fmt: skip
    with pytest.raises(InvalidInput) as blank:
        round_().close(date(2025, 7, 5), " ", 1, 0, "btv-ntl")
    assert (str(blank.value), blank.value.field, blank.value.code) == (
        "the closing states a summary", "summary", "text.blank",
    )  # fmt: skip
    closed = round_(round_().close(date(2025, 7, 5), "Tổng hợp", 20, 3, "btv-ntl")[0])
    with pytest.raises(IllegalTransition) as again:
        closed.close(date(2025, 7, 6), "Lần nữa", 1, 0, "btv-ntl")
    assert (str(again.value), again.value.code, again.value.allowed_next) == (
        "the round is already closed", "round.closed", [],
    )  # fmt: skip


def test_a_conclusion_needs_a_decision_and_is_written_down() -> None:
    with pytest.raises(IllegalTransition) as early:
        inspection("notice").conclude("Kết luận", TODAY, "ubkt-ntl")
    assert "conclude it" in str(early.value) and early.value.allowed_next == ["issue_decision"]
    with pytest.raises(InvalidInput) as blank:
        decided().conclude("  ", TODAY, "ubkt-ntl")
    assert (str(blank.value), blank.value.field, blank.value.code) == (
        "the conclusion is written down", "conclusion", "text.blank",
    )  # fmt: skip
    assert then(decided(), decided().conclude("Tốt", TODAY, "ubkt-ntl")).status == "concluded"


def test_every_aggregate_keeps_the_id_it_is_loaded_with() -> None:
    """The repository saves an aggregate's events to the stream its id names."""
    for kind in (Grading, InspectedUnit, Inspection, Plan, Checklist, Round):
        assert kind("id-7").id == "id-7"
