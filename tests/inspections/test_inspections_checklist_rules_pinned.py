"""Self-inspection's rules, pinned by mutation testing (issue 8): opening a round, answering, submitting,
amending, overdue and withdrawal refuse with the type, field, code, message and parameters, and each
event says everything it decided. Domain only, no I/O."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from contracts.inspections import (
    ChecklistItemAnswered,
    ChecklistWithdrawn,
    Contradiction,
    Evidence,
    SelfInspectionAmended,
    SelfInspectionOverdue,
    SelfInspectionRoundClosed,
    SelfInspectionRoundOpened,
    SelfInspectionSubmitted,
)
from services.inspections.domain.rulesets import HD_1294_2019
from services.inspections.domain.selfinspection import Checklist, UnitFacts, contradiction
from shared.errors import Conflict, IllegalTransition, InvalidInput
from tests.inspections.inspections_helpers import (
    ACTIVITIES,
    CEO,
    FECON,
    HANDICO,
    HN,
    NTL,
    QR,
    REGISTERED,
    ROBOT,
    THI_CONG,
    answered,
    commitment,
    facts,
    given,
    initiative,
    then,
)
from tests.inspections.test_inspections_rules_pinned import said
from tests.inspections.test_selfinspection_domain import (
    AFTER_DUE,
    ALL_DONE,
    DUE,
    ON_TIME,
    TODAY,
    checklist,
    opened,
    round_,
    submitted,
)

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


def test_the_round_keeps_what_its_opening_said_and_closes_with_its_figures() -> None:
    r = round_()
    assert (r.level_unit_id, r.level_path, r.year, r.period, r.due_on, r.opened_on, r.rule_set, r.closed) == (
        "u-ntl", "hn.ntl", 2025, "half_year", DUE, TODAY, HD_1294_2019.version, False,
    )  # fmt: skip
    assert r.close(date(2025, 7, 1), "Tổng hợp", 20, 3, "btv-ntl") == [
        SelfInspectionRoundClosed(
            round_id="round-r-1", level_unit_id="u-ntl", closed_on=date(2025, 7, 1), summary="Tổng hợp",
            submitted=20, overdue=3, closed_by="btv-ntl",
        )
    ]  # fmt: skip
    with pytest.raises(TypeError, match="a round cannot apply str"):
        r.apply("x")  # type: ignore[arg-type]


# -- contradictions ---------------------------------------------------------------------------------


def test_done_below_a_target_says_what_was_measured_against_what() -> None:
    fact = commitment(target=2000, measured=1234.5)
    found = contradiction(answered(REGISTERED), fact)
    assert found == Contradiction(
        item=REGISTERED,
        code="done_below_target",
        message="'Sáng kiến đăng ký' is marked done but measures 1,234.5 sáng kiến against a target of 2,000",
        measured=1234.5,
        target=2000,
    )
    assert (
        "measures 2.25 sáng kiến against a target of 2.5"
        in contradiction(answered(REGISTERED), commitment(target=2.5, measured=2.25)).message
    )  # type: ignore[union-attr]
    assert (
        "measures 3 sáng kiến against a target of 3.5"
        in contradiction(answered(REGISTERED), commitment(target=3.5, measured=3.001)).message
    )  # type: ignore[union-attr]  # shown to hundredths, no trailing zeros or point
    assert contradiction(answered(REGISTERED), commitment(target=10, measured=10)) is None  # met exactly
    kept_low = commitment(direction="at_most", target=3, measured=3)
    assert contradiction(answered(REGISTERED), kept_low) is None
    assert contradiction(answered(REGISTERED), commitment(direction="at_most", target=3, measured=4)) is not None
    assert contradiction(answered(REGISTERED), None) is None


def test_applied_without_an_application_names_the_initiative() -> None:
    assert contradiction(answered(QR), initiative()) == Contradiction(
        item=QR,
        code="applied_without_application",
        message="the initiative 'Ứng dụng mã QR trong quản lý đoàn viên' is marked applied but no application of it "
        "is recorded",
    )
    assert contradiction(answered(QR), initiative(applied_on=date(2025, 5, 2))) is None
    assert contradiction(answered(QR, "partly"), initiative()) is None


# -- answering --------------------------------------------------------------------------------------


def test_a_withdrawn_checklist_or_a_closed_round_takes_nothing_more() -> None:
    withdrawn = then(checklist(), checklist().withdraw("u-ceo", AFTER_DUE))
    for act in (
        lambda c, r: c.answer(r, answered(REGISTERED), facts(), "x"),
        lambda c, r: c.submit(r, ALL_DONE, [], facts(), AFTER_DUE, "x"),
        lambda c, r: c.amend(r, "Lý do", [answered(QR)], None, facts(), "x"),
    ):
        with pytest.raises(IllegalTransition) as refused:
            act(withdrawn, round_())
        assert said(refused) == ("the unit merged into another; its checklist was withdrawn", None,
                                 "checklist.withdrawn", {})  # fmt: skip
        assert refused.value.allowed_next == []
    closed = round_(round_().close(date(2025, 7, 5), "Tổng hợp", 1, 0, "x")[0])
    for what, act in (
        ("answer", lambda c: c.answer(closed, answered(REGISTERED), facts(), "x")),
        ("submit", lambda c: c.submit(closed, ALL_DONE, [], facts(), AFTER_DUE, "x")),
        ("amend", lambda c: c.amend(closed, "Lý do", [answered(QR)], None, facts(), "x")),
    ):
        with pytest.raises(IllegalTransition) as refused:
            act(submitted() if what == "amend" else checklist())
        assert said(refused) == (
            f"the round was closed; nothing more can be done to its checklists ({what})", None, "round.closed", {},
        )  # fmt: skip
        assert refused.value.allowed_next == []


def test_an_answer_is_for_an_item_of_the_checklist_with_evidence_unless_not_done() -> None:
    with pytest.raises(IllegalTransition) as after:
        submitted().answer(round_(), answered(REGISTERED), facts(), "x")
    assert said(after) == ("the self-inspection was submitted; amend it with a reason", None, "checklist.submitted", {})
    with pytest.raises(InvalidInput) as unknown:
        checklist().answer(round_(), answered("initiative:i-other"), facts(), "x")
    assert said(unknown) == (
        "the checklist has no item initiative:i-other", "item", "checklist.unknown_item",
        {"item": "initiative:i-other"},
    )  # fmt: skip
    with pytest.raises(InvalidInput) as bare:
        checklist().answer(round_(), answered(REGISTERED, "partly", Evidence(text=" ")), facts(), "x")
    assert said(bare) == (
        f"'partly' on {REGISTERED} needs its evidence: a statement, a link or a file", "answer.evidence",
        "checklist.evidence_required", {"item": REGISTERED, "answer": "partly"},
    )  # fmt: skip


def test_the_answer_is_judged_on_the_issued_item_when_the_facts_no_longer_list_it() -> None:
    events = checklist().answer(round_(), answered(REGISTERED, comment="Đã đăng ký"), UnitFacts(FECON), "bch-fecon")
    issued = commitment(measured=4)
    assert events == [
        ChecklistItemAnswered(
            round_id="r-1", unit_id="u-fecon", answer=answered(REGISTERED, comment="Đã đăng ký"),
            contradiction=contradiction(answered(REGISTERED), issued), answered_by="bch-fecon",
        )
    ]  # fmt: skip
    assert events[0].contradiction is not None
    c = then(checklist(), events)
    assert c.answers == {REGISTERED: answered(REGISTERED, comment="Đã đăng ký")} and c.status == "issued"


# -- submitting -------------------------------------------------------------------------------------


def test_nothing_is_submitted_twice_or_before_the_round_opened() -> None:
    with pytest.raises(IllegalTransition) as twice:
        submitted().submit(round_(), ALL_DONE, [], facts(), ON_TIME, "x")
    assert said(twice) == (
        "the self-inspection was already submitted; amend it with a reason", None, "checklist.submitted", {},
    )  # fmt: skip
    assert twice.value.allowed_next == ["amend"]
    with pytest.raises(InvalidInput) as early:
        checklist().submit(round_(), ALL_DONE, [], facts(), datetime(2025, 5, 31, 23, tzinfo=UTC), "x")
    assert said(early) == (
        "the round opened on 2025-06-01; nothing was submitted before that", "submitted_on",
        "checklist.submitted_before_round", {"opened_on": "2025-06-01"},
    )  # fmt: skip
    assert checklist().submit(round_(), ALL_DONE, [], facts(), datetime(2025, 6, 1, tzinfo=UTC), "x")


def test_the_unanswered_items_are_counted_and_the_first_five_named() -> None:
    many = UnitFacts(FECON, initiatives=tuple(initiative(f"i-{n}") for n in range(7)))
    c = given(Checklist, "checklist", opened(many)[1][0])
    with pytest.raises(InvalidInput) as refused:
        c.submit(round_(), [answered("initiative:i-0", "not_done", Evidence())], [], many, ON_TIME, "x")
    missing = [f"initiative:i-{n}" for n in range(1, 7)]
    assert said(refused) == (
        f"6 item(s) are not answered yet: {', '.join(missing[:5])}", "answers", "checklist.unanswered",
        {"missing": missing},
    )  # fmt: skip


def test_each_answer_submitted_is_checked_where_it_stands_in_the_list() -> None:
    with pytest.raises(InvalidInput) as unknown:
        checklist().submit(round_(), [ALL_DONE[0], answered("initiative:i-x")], [], facts(), ON_TIME, "x")
    assert (unknown.value.field, unknown.value.params) == ("answers.1.item", {"item": "initiative:i-x"})
    with pytest.raises(InvalidInput) as bare:
        checklist().submit(round_(), [answered(QR, "done", Evidence())], [], facts(), ON_TIME, "x")
    assert bare.value.field == "answers.0.evidence"


def test_the_submission_says_everything_it_decided() -> None:
    events = checklist().submit(round_(), ALL_DONE[::-1], [" ", "Chưa đối thoại", ""], facts(), AFTER_DUE, "bch")
    assert events == [
        SelfInspectionSubmitted(
            round_id="r-1", unit_id="u-fecon", submitted_at=AFTER_DUE, days_late=3, answers=tuple(ALL_DONE),
            findings=("Chưa đối thoại",), contradictions=(), submitted_by="bch",
        )
    ]  # fmt: skip
    on_due_day = checklist().submit(round_(), ALL_DONE, [], facts(), datetime(2025, 6, 30, 23, tzinfo=UTC), "x")
    assert (
        on_due_day[0].days_late == 0
        and checklist().submit(round_(), ALL_DONE, [], facts(), ON_TIME, "x")[0].days_late == 0
    )
    c = then(checklist(), checklist().submit(round_(), [*ALL_DONE[:3], answered(ROBOT)], ["A"], facts(), ON_TIME, "x"))
    assert (c.status, c.findings, list(c.answers)) == ("submitted", ("A",), [REGISTERED, ACTIVITIES, QR, ROBOT])


# -- amending ---------------------------------------------------------------------------------------


def test_only_a_submitted_self_inspection_is_amended_with_a_reason_and_a_change() -> None:
    with pytest.raises(IllegalTransition) as early:
        checklist().amend(round_(), "Lý do", [answered(QR)], None, facts(), "x")
    assert said(early) == (
        "only a submitted self-inspection is amended; submit it first", None, "checklist.not_submitted", {},
    )  # fmt: skip
    assert early.value.allowed_next == ["answer", "submit"]
    with pytest.raises(InvalidInput) as blank:
        submitted().amend(round_(), "  ", [answered(QR)], None, facts(), "x")
    assert said(blank) == (
        "an amendment after submission needs its reason", "reason", "checklist.reason_required", {},
    )  # fmt: skip
    with pytest.raises(InvalidInput) as empty:
        submitted().amend(round_(), "Lý do", [], None, facts(), "x")
    assert said(empty) == (
        "the amendment changes no answer and no finding", "answers", "checklist.empty_amendment", {},
    )  # fmt: skip
    with pytest.raises(InvalidInput) as unknown:
        submitted().amend(round_(), "Lý do", [answered("initiative:i-x")], None, facts(), "x")
    assert unknown.value.field == "answers.0.item"


def test_the_amendment_says_everything_it_changed() -> None:
    cleared = submitted().amend(round_(), "Bỏ phát hiện", [], [], facts(), "bch")  # findings cleared: a change
    assert cleared == [
        SelfInspectionAmended(
            round_id="r-1", unit_id="u-fecon", amendment=1, reason="Bỏ phát hiện", answers=tuple(ALL_DONE),
            findings=(), contradictions=(), amended_by="bch",
        )
    ]  # fmt: skip
    c = then(submitted(), cleared)
    assert (c.amendments, c.findings) == (1, ())
    second = c.amend(round_(), "Sửa", [answered(QR)], None, facts(), "bch")[0]
    assert second.amendment == 2 and second.findings == () and second.answers[2] == answered(QR)
    assert [x.item for x in second.contradictions] == [QR]
    c = then(c, [second])
    assert (c.amendments, c.answers[QR], c.contradictions) == (2, answered(QR), second.contradictions)


# -- overdue and withdrawal -------------------------------------------------------------------------


def test_overdue_says_when_it_was_due_when_it_was_seen_and_how_late() -> None:
    assert checklist().mark_overdue(AFTER_DUE, HD_1294_2019) == [
        SelfInspectionOverdue(round_id="r-1", unit_id="u-fecon", due_on=DUE, detected_at=AFTER_DUE, days_late=3)
    ]
    assert checklist().mark_overdue(datetime(2025, 7, 1, tzinfo=UTC), HD_1294_2019)[0].days_late == 1
    lenient = replace(HD_1294_2019, overdue_grace_days=3)
    assert checklist().mark_overdue(AFTER_DUE, lenient) == []  # three days late is within three days' grace
    withdrawn = then(checklist(), checklist().withdraw("u-ceo", AFTER_DUE))
    assert withdrawn.mark_overdue(datetime(2025, 8, 1, tzinfo=UTC), HD_1294_2019) == []
    assert then(checklist(), checklist().mark_overdue(AFTER_DUE, HD_1294_2019)).overdue


def test_the_withdrawal_names_the_absorbing_unit() -> None:
    assert checklist().withdraw("u-ceo", AFTER_DUE) == [
        ChecklistWithdrawn(round_id="r-1", unit_id="u-fecon", merged_into_unit_id="u-ceo", withdrawn_at=AFTER_DUE)
    ]
    c = then(checklist(), checklist().withdraw("u-ceo", AFTER_DUE))
    assert c.status == "withdrawn"
    with pytest.raises(TypeError, match="a checklist cannot apply str"):
        c.apply("x")  # type: ignore[arg-type]


def test_a_submission_is_judged_on_the_facts_now_else_on_the_issued_copy() -> None:
    done = [answered(REGISTERED), *ALL_DONE[1:]]  # "done" on 10 registered; 4 when the checklist was issued
    met_since = checklist().submit(round_(), done, [], facts(measured=12), ON_TIME, "x")[0]
    assert met_since.contradictions == ()
    gone = checklist().submit(round_(), done, [], UnitFacts(FECON), ON_TIME, "x")[0]  # the facts no longer list it
    assert [c.item for c in gone.contradictions] == [REGISTERED]
    amended = submitted().amend(round_(), "Sửa", [answered(REGISTERED)], None, facts(measured=12), "x")[0]
    assert amended.contradictions == ()
