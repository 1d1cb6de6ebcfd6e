"""Given events → command → expected events or error, for every rule of rounds and checklists."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from contracts.inspections import (
    ChecklistIssued,
    ChecklistWithdrawn,
    Evidence,
    SelfInspectionAmended,
    SelfInspectionOverdue,
    SelfInspectionRoundClosed,
    SelfInspectionSubmitted,
)
from services.inspections.domain.rulesets import HD_1294_2019
from services.inspections.domain.selfinspection import Checklist, Round, UnitFacts
from shared.errors import Conflict, IllegalTransition, InvalidInput
from tests.inspections.inspections_helpers import (
    ACTIVITIES,
    CEO,
    FECON,
    HANDICO,
    NTL,
    QR,
    REGISTERED,
    ROBOT,
    THI_CONG,
    answered,
    facts,
    given,
    then,
)

TODAY = date(2025, 6, 1)
DUE = date(2025, 6, 30)
AFTER_DUE = datetime(2025, 7, 3, 9, 0, tzinfo=UTC)
ON_TIME = datetime(2025, 6, 20, 9, 0, tzinfo=UTC)


def opened(*units: UnitFacts, level=NTL, **overrides):  # type: ignore[no-untyped-def]
    fields = {
        "year": 2025,
        "period": "half_year",
        "title": "Tự kiểm tra 6 tháng đầu năm 2025",
        "due_on": DUE,
        "today": TODAY,
        "rules": HD_1294_2019,
        "actor": "btv-ntl",
    } | overrides
    return Round.open("r-1", level, list(units) or [facts()], **fields)


def round_(*history) -> Round:  # type: ignore[no-untyped-def]
    opening, _ = opened()
    return given(Round, "round-r-1", opening, *history)


def checklist(*later) -> Checklist:  # type: ignore[no-untyped-def]
    _, issued = opened()
    return given(Checklist, "checklist", issued[0], *later)


ALL_DONE = [answered(REGISTERED, "partly"), answered(ACTIVITIES), answered(QR, "not_done", Evidence()), answered(ROBOT)]


def submitted() -> Checklist:
    c = checklist()
    return then(c, c.submit(round_(), ALL_DONE, ["Chưa tổ chức đối thoại"], facts(), ON_TIME, "bch-fecon"))


# -- opening a round --------------------------------------------------------------------------------


def test_a_round_issues_one_prefilled_checklist_per_active_grassroots_union_below_the_level() -> None:
    merged = replace(CEO, status="merged", merged_into="u-fecon")
    opening, issued = opened(facts(), UnitFacts(merged), UnitFacts(THI_CONG), UnitFacts(HANDICO))
    assert [c.unit_id for c in issued] == ["u-fecon"]
    first = issued[0]
    assert isinstance(first, ChecklistIssued) and first.due_on == DUE and first.level_path == "hn.ntl"
    assert [c.key for c in first.commitments] == [REGISTERED, ACTIVITIES]
    assert first.commitments[0].target == 10 and first.commitments[0].measured == 4
    assert [i.key for i in first.initiatives] == [QR, ROBOT]
    assert opening.unit_count == 1 and opening.rule_set == HD_1294_2019.version and opening.opened_by == "btv-ntl"


def test_a_grassroots_union_may_open_a_round_for_itself() -> None:
    _, issued = opened(facts(), level=FECON)
    assert [c.unit_id for c in issued] == ["u-fecon"]


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"due_on": TODAY}, "due_on", "round.due_in_past"),
        ({"year": 2023}, "year", "round.year_out_of_range"),
        ({"year": 2026}, "year", "round.year_out_of_range"),
        ({"title": "  "}, "title", "text.blank"),
    ],
)
def test_opening_refuses_bad_dates_and_years(overrides: dict, field: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        opened(**overrides)
    assert (refused.value.field, refused.value.code) == (field, code)


def test_a_round_with_nobody_to_inspect_is_refused() -> None:
    with pytest.raises(Conflict) as refused:
        opened(UnitFacts(HANDICO))
    assert refused.value.code == "round.no_units" and refused.value.params["level"] == "hn.ntl"


# -- answering ---------------------------------------------------------------------------------------


def test_done_on_a_commitment_below_its_target_is_flagged_before_submission() -> None:
    events = checklist().answer(round_(), answered(REGISTERED), facts(measured=4), "bch-fecon")
    flag = events[0].contradiction
    assert flag is not None and flag.code == "done_below_target"
    assert (flag.measured, flag.target) == (4, 10)
    assert "measures 4 sáng kiến against a target of 10" in flag.message


def test_done_on_a_commitment_that_met_its_target_is_not_flagged() -> None:
    events = checklist().answer(round_(), answered(REGISTERED), facts(measured=12), "bch-fecon")
    assert events[0].contradiction is None


def test_an_indicator_kept_low_is_contradicted_when_above_its_target() -> None:
    item = facts().commitments[0].model_copy(update={"direction": "at_most", "target": 3, "measured": 5})
    limit = UnitFacts(FECON, (item,), ())
    events = checklist().answer(round_(), answered(REGISTERED), limit, "bch-fecon")
    assert events[0].contradiction is not None and events[0].contradiction.measured == 5


def test_applied_on_an_initiative_without_an_application_is_flagged() -> None:
    events = checklist().answer(round_(), answered(QR), facts(applied_on=None), "bch-fecon")
    assert events[0].contradiction is not None and events[0].contradiction.code == "applied_without_application"
    fine = checklist().answer(round_(), answered(QR), facts(applied_on=date(2025, 5, 2)), "bch-fecon")
    assert fine[0].contradiction is None


def test_partly_and_not_done_are_never_contradictions() -> None:
    for answer in ("partly", "not_done"):
        events = checklist().answer(round_(), answered(REGISTERED, answer), facts(measured=0), "bch-fecon")
        assert events[0].contradiction is None


def test_done_or_partly_needs_evidence_but_not_done_does_not() -> None:
    with pytest.raises(InvalidInput) as refused:
        checklist().answer(round_(), answered(REGISTERED, "partly", Evidence()), facts(), "bch-fecon")
    assert refused.value.field == "answer.evidence" and refused.value.code == "checklist.evidence_required"
    assert checklist().answer(round_(), answered(REGISTERED, "not_done", Evidence()), facts(), "bch-fecon")
    linked = Evidence(links=("https://fecon.vn/bien-ban.pdf",))
    assert checklist().answer(round_(), answered(REGISTERED, "done", linked), facts(measured=10), "x")


def test_an_item_the_checklist_does_not_have_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        checklist().answer(round_(), answered("initiative:i-other"), facts(), "bch-fecon")
    assert refused.value.field == "item" and refused.value.params == {"item": "initiative:i-other"}


# -- submitting ----------------------------------------------------------------------------------------


def test_submission_needs_every_item_answered_and_names_the_missing() -> None:
    with pytest.raises(InvalidInput) as refused:
        checklist().submit(round_(), ALL_DONE[:2], [], facts(), ON_TIME, "bch-fecon")
    assert refused.value.field == "answers" and refused.value.params["missing"] == [QR, ROBOT]


def test_drafts_saved_earlier_count_towards_the_submission() -> None:
    c = checklist()
    for answer in ALL_DONE[:3]:
        c = then(c, c.answer(round_(), answer, facts(), "bch-fecon"))
    events = c.submit(round_(), [ALL_DONE[3]], [], facts(), ON_TIME, "bch-fecon")
    assert [a.item for a in events[0].answers] == [REGISTERED, ACTIVITIES, QR, ROBOT]


def test_submission_judges_contradictions_on_the_facts_as_they_are_then() -> None:
    c = checklist()
    c = then(c, c.answer(round_(), answered(REGISTERED), facts(measured=11), "bch-fecon"))  # met when answered
    rest = [answered(ACTIVITIES), answered(QR), answered(ROBOT)]
    events = c.submit(round_(), rest, [], facts(measured=9), ON_TIME, "bch-fecon")  # one was withdrawn since
    submission = events[0]
    assert isinstance(submission, SelfInspectionSubmitted) and submission.days_late == 0
    assert sorted(f.code for f in submission.contradictions) == ["applied_without_application", "done_below_target"]


def test_a_late_submission_records_how_late() -> None:
    events = checklist().submit(round_(), ALL_DONE, [], facts(), AFTER_DUE, "bch-fecon")
    assert events[0].days_late == 3


def test_a_submitted_checklist_is_not_answered_or_submitted_again() -> None:
    with pytest.raises(IllegalTransition) as again:
        submitted().submit(round_(), ALL_DONE, [], facts(), ON_TIME, "bch-fecon")
    assert again.value.code == "checklist.submitted" and again.value.allowed_next == ["amend"]
    with pytest.raises(IllegalTransition) as answer:
        submitted().answer(round_(), answered(REGISTERED), facts(), "bch-fecon")
    assert answer.value.allowed_next == ["amend"]


# -- amending ----------------------------------------------------------------------------------------


def test_an_amendment_needs_a_reason_and_keeps_a_number() -> None:
    with pytest.raises(InvalidInput) as refused:
        submitted().amend(round_(), " ", [answered(QR)], None, facts(), "bch-fecon")
    assert refused.value.field == "reason" and refused.value.code == "checklist.reason_required"
    c = submitted()
    first = c.amend(round_(), "Bổ sung biên bản", [answered(QR)], None, facts(), "bch-fecon")
    assert isinstance(first[0], SelfInspectionAmended) and first[0].amendment == 1
    assert first[0].findings == ("Chưa tổ chức đối thoại",)  # unchanged findings are kept
    assert [f.code for f in first[0].contradictions] == ["applied_without_application"]
    c = then(c, first)
    second = c.amend(round_(), "Sửa", [answered(QR, "not_done", Evidence())], ["Đã khắc phục"], facts(), "x")
    assert second[0].amendment == 2 and second[0].contradictions == () and second[0].findings == ("Đã khắc phục",)


def test_only_a_submitted_checklist_is_amended_and_an_empty_amendment_is_refused() -> None:
    with pytest.raises(IllegalTransition) as early:
        checklist().amend(round_(), "Lý do", [answered(QR)], None, facts(), "bch-fecon")
    assert early.value.allowed_next == ["answer", "submit"]
    with pytest.raises(InvalidInput) as empty:
        submitted().amend(round_(), "Lý do", [], None, facts(), "bch-fecon")
    assert empty.value.code == "checklist.empty_amendment"


# -- overdue, merge, closing -----------------------------------------------------------------------------


def test_overdue_is_recorded_once_with_how_late() -> None:
    c = checklist()
    assert c.mark_overdue(datetime(2025, 6, 30, 23, 0, tzinfo=UTC), HD_1294_2019) == []  # the due day itself
    events = c.mark_overdue(AFTER_DUE, HD_1294_2019)
    assert isinstance(events[0], SelfInspectionOverdue) and events[0].days_late == 3 and events[0].due_on == DUE
    assert then(c, events).mark_overdue(datetime(2025, 7, 9, tzinfo=UTC), HD_1294_2019) == []
    assert submitted().mark_overdue(AFTER_DUE, HD_1294_2019) == []


def test_the_grace_days_are_rule_set_data() -> None:
    lenient = replace(HD_1294_2019, overdue_grace_days=5)
    assert checklist().mark_overdue(AFTER_DUE, lenient) == []
    assert checklist().mark_overdue(datetime(2025, 7, 6, tzinfo=UTC), lenient)[0].days_late == 6


def test_a_unit_that_merged_has_its_open_checklist_withdrawn_not_overdue() -> None:
    c = checklist()
    events = c.withdraw("u-ceo", AFTER_DUE)
    assert isinstance(events[0], ChecklistWithdrawn) and events[0].merged_into_unit_id == "u-ceo"
    c = then(c, events)
    assert c.mark_overdue(AFTER_DUE, HD_1294_2019) == [] and c.withdraw("u-ceo", AFTER_DUE) == []
    with pytest.raises(IllegalTransition) as refused:
        c.answer(round_(), answered(REGISTERED), facts(), "bch-fecon")
    assert refused.value.code == "checklist.withdrawn" and refused.value.allowed_next == []
    assert submitted().withdraw("u-ceo", AFTER_DUE) == []  # a submitted self-inspection stays as it was


def test_closing_a_round() -> None:
    with pytest.raises(IllegalTransition) as early:
        round_().close(DUE, "Tổng hợp", 1, 0, "btv-ntl")
    assert early.value.code == "round.not_due"
    with pytest.raises(InvalidInput):
        round_().close(date(2025, 7, 5), " ", 1, 0, "btv-ntl")
    events = round_().close(date(2025, 7, 5), "Tổng hợp kết quả", 20, 3, "btv-ntl")
    assert isinstance(events[0], SelfInspectionRoundClosed) and (events[0].submitted, events[0].overdue) == (20, 3)
    closed = round_(events[0])
    with pytest.raises(IllegalTransition):
        closed.close(date(2025, 7, 6), "Lần nữa", 1, 0, "btv-ntl")
    with pytest.raises(IllegalTransition) as refused:
        checklist().submit(closed, ALL_DONE, [], facts(), AFTER_DUE, "bch-fecon")
    assert refused.value.code == "round.closed"
