"""Findings and corrective actions, pinned by mutation testing (issue 8): recording a finding, assigning,
fixing, verifying and reopening an action refuse with the type, field, code, message and parameters, and
each event says everything it decided. Domain only, no I/O."""

from dataclasses import replace
from datetime import date

import pytest

from contracts.inspections import (
    CorrectiveActionAssigned,
    CorrectiveActionFixReported,
    CorrectiveActionReopened,
    CorrectiveActionVerified,
    Evidence,
    EvidenceFile,
    FindingRecorded,
)
from services.inspections.domain.inspection import InspectedUnit
from shared.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from tests.inspections.inspections_helpers import CEO, DD, FECON, NTL, PROOF, given, moved, then
from tests.inspections.test_inspection_domain import FIX, TODAY, decided, finding, fixed, inspection, with_action
from tests.inspections.test_inspections_rules_pinned import said

ID = "inspection-ins-1"  # the id the test helpers load the inspection with
DUE = date(2025, 10, 31)


def record(unit=FECON, description: str = "Chưa tổ chức đối thoại định kỳ", ins=None):  # type: ignore[no-untyped-def]
    return given(InspectedUnit, "s", *finding()).record_finding(
        ins or decided(), NTL, unit, "f-2", severity="serious", description=description,
        recommendation="Đối thoại trong quý IV", evidence=PROOF, actor="ubkt-ntl",
    )  # fmt: skip


def assign(description: str = "Tổ chức đối thoại", owner: str = "Chủ tịch CĐCS", **overrides):  # type: ignore[no-untyped-def]
    fields = {"finding_id": "f-1", "due_on": DUE, "today": TODAY, "actor": "ubkt-ntl", "unit": FECON} | overrides
    unit = fields.pop("unit")
    ins = fields.pop("inspection", None) or decided()
    return given(InspectedUnit, "s", *finding()).assign_action(
        ins, NTL, unit, "a-1", description=description, owner=owner, **fields
    )


# -- findings ---------------------------------------------------------------------------------------


def test_a_finding_is_recorded_for_a_listed_active_unit_still_below() -> None:
    with pytest.raises(NotFound) as unlisted:
        record(replace(CEO, unit_id="u-other", path="hn.ntl.other"))
    assert said(unlisted) == (
        "hn.ntl.other is not among the units of this inspection", "unit_id", "inspection.unit_not_inspected", {},
    )  # fmt: skip
    with pytest.raises(Conflict) as merged:
        record(replace(FECON, status="merged", merged_into="u-ceo"))
    assert said(merged) == (
        "hn.ntl.fecon merged into another unit; its inspection records no more findings", "unit_id",
        "inspection.unit_merged", {},
    )  # fmt: skip
    with pytest.raises(Conflict) as left:
        record(moved(FECON, DD))
    assert said(left) == (
        "hn.dd.fecon is no longer below hn.ntl; conclude the inspection without it", "unit_id",
        "inspection.unit_left", {"unit": "hn.dd.fecon", "level": "hn.ntl"},
    )  # fmt: skip
    with pytest.raises(IllegalTransition) as early:
        record(ins=inspection("notice"))
    assert str(early.value) == "the inspection is noticed; it cannot record findings now"


def test_a_finding_describes_what_was_found_and_is_recorded_once() -> None:
    with pytest.raises(InvalidInput) as blank:
        record(description="  ")
    assert said(blank) == ("a finding describes what was found", "description", "text.blank", {})
    with pytest.raises(Conflict) as twice:
        given(InspectedUnit, "s", *finding()).record_finding(
            decided(), NTL, FECON, "f-1", severity="minor", description="x", recommendation="", evidence=PROOF,
            actor="x",
        )  # fmt: skip
    assert said(twice) == ("finding f-1 is already recorded", None, "finding.exists", {})


def test_the_finding_says_everything_it_recorded() -> None:
    assert record() == [
        FindingRecorded(
            inspection_id=ID, unit_id="u-fecon", finding_id="f-2", by_path="hn.ntl", severity="serious",
            description="Chưa tổ chức đối thoại định kỳ", recommendation="Đối thoại trong quý IV", evidence=PROOF,
            recorded_by="ubkt-ntl",
        )
    ]  # fmt: skip
    unit = given(InspectedUnit, "s", *finding(), *record())
    assert unit.findings == {"f-1", "f-2"} and unit.actions == {}


# -- assigning an action ----------------------------------------------------------------------------


def test_an_action_follows_a_finding_of_this_unit() -> None:
    with pytest.raises(InvalidInput) as unknown:
        assign(finding_id="f-9")
    assert said(unknown) == (
        "hn.ntl.fecon has no finding f-9 in this inspection", "finding_id", "finding.not_found", {},
    )  # fmt: skip
    with pytest.raises(NotFound) as unlisted:
        assign(unit=replace(CEO, unit_id="u-other", path="hn.ntl.other"))
    assert unlisted.value.code == "inspection.unit_not_inspected"
    concluded = decided()
    concluded.apply(concluded.conclude("Xong", TODAY, "x")[0])
    with pytest.raises(IllegalTransition) as after:
        assign(inspection=concluded)
    assert str(after.value) == "the inspection is concluded; it cannot assign corrective actions now"


def test_an_action_is_due_after_the_day_it_is_assigned() -> None:
    with pytest.raises(InvalidInput) as today:
        assign(due_on=TODAY)
    assert said(today) == (
        "a corrective action is due after the day it is assigned (2025-09-01)", "due_on", "action.due_in_past",
        {"today": "2025-09-01"},
    )  # fmt: skip
    assert assign(due_on=date(2025, 9, 2))[0].due_on == date(2025, 9, 2)


@pytest.mark.parametrize(
    ("description", "owner", "field"),
    [(" ", "Chủ tịch CĐCS", "description"), ("Đối thoại", "\t", "owner"), ("", "", "description")],
)
def test_an_action_says_what_is_to_be_done_and_who_answers_for_it(description: str, owner: str, field: str) -> None:
    with pytest.raises(InvalidInput) as blank:
        assign(description, owner)
    assert said(blank) == ("an action says what is to be done and who answers for it", field, "text.blank", {})


def test_the_assignment_says_everything_it_decided() -> None:
    assert assign() == [
        CorrectiveActionAssigned(
            inspection_id=ID, unit_id="u-fecon", action_id="a-1", finding_id="f-1", by_path="hn.ntl",
            description="Tổ chức đối thoại", owner="Chủ tịch CĐCS", due_on=DUE, assigned_by="ubkt-ntl",
        )
    ]  # fmt: skip
    unit = with_action()
    assert unit.status_of("a-1") == "open" and unit.status_of("a-9") is None
    assert (unit.actions["a-1"].finding_id, unit.actions["a-1"].due_on) == ("f-1", DUE)


# -- fixing, verifying, reopening -------------------------------------------------------------------


def test_a_fix_is_reported_for_an_open_action_with_what_was_done_and_its_evidence() -> None:
    with pytest.raises(NotFound) as missing:
        with_action().report_fix(decided(), "u-fecon", "a-9", "x", FIX, TODAY, "x")
    assert said(missing) == ("no corrective action a-9 for this unit", "action_id", "action.not_found", {})
    with pytest.raises(IllegalTransition) as twice:
        fixed().report_fix(decided(), "u-fecon", "a-1", "x", FIX, TODAY, "x")
    assert said(twice) == (
        "the action is fix_reported; you cannot report a fix now", None, "action.illegal_transition",
        {"status": "fix_reported"},
    )  # fmt: skip
    assert twice.value.allowed_next == ["verify", "reopen"]
    with pytest.raises(InvalidInput) as blank:
        with_action().report_fix(decided(), "u-fecon", "a-1", " ", FIX, TODAY, "x")
    assert said(blank) == ("the fix says what was done", "description", "text.blank", {})
    with pytest.raises(InvalidInput) as bare:
        with_action().report_fix(decided(), "u-fecon", "a-1", "Đã làm", Evidence(text="  "), TODAY, "x")
    assert said(bare) == ("a fix is reported with its evidence", "evidence", "action.evidence_required", {})


@pytest.mark.parametrize(
    "evidence",
    [Evidence(text="Biên bản"), Evidence(links=("https://fecon.vn/bb.pdf",)),
     Evidence(files=(EvidenceFile(sha256="a" * 64, name="bb.pdf", media_type="application/pdf", size_bytes=10),))],
)  # fmt: skip
def test_a_statement_a_link_or_a_file_is_evidence(evidence: Evidence) -> None:
    assert with_action().report_fix(decided(), "u-fecon", "a-1", "Đã làm", evidence, TODAY, "x")


def test_the_fix_says_everything_it_reported() -> None:
    events = with_action().report_fix(decided(), "u-fecon", "a-1", "Đã tổ chức đối thoại", FIX, TODAY, "bch-fecon")
    assert events == [
        CorrectiveActionFixReported(
            inspection_id=ID, unit_id="u-fecon", action_id="a-1", description="Đã tổ chức đối thoại", evidence=FIX,
            reported_on=TODAY, reported_by="bch-fecon",
        )
    ]  # fmt: skip
    assert fixed().status_of("a-1") == "fix_reported"


def test_a_verification_follows_a_reported_fix_and_closes_the_action() -> None:
    with pytest.raises(IllegalTransition) as early:
        with_action().verify(decided(), "u-fecon", "a-1", "hn.ntl", "", TODAY, "x")
    assert said(early) == (
        "the action is open; you cannot verify it now", None, "action.illegal_transition", {"status": "open"},
    )  # fmt: skip
    assert early.value.allowed_next == ["report_fix"]
    events = fixed().verify(decided(), "u-dd", "a-1", "hn.dd", "Đạt yêu cầu", TODAY, "ubkt-dd")
    assert events == [
        CorrectiveActionVerified(
            inspection_id=ID, unit_id="u-dd", action_id="a-1", by_path="hn.dd", note="Đạt yêu cầu",
            verified_on=TODAY, verified_by="ubkt-dd",
        )
    ]  # fmt: skip
    done = then(fixed(), events)
    assert done.status_of("a-1") == "verified"
    with pytest.raises(IllegalTransition) as closed:
        done.reopen(decided(), "u-fecon", "a-1", "hn.ntl", "Chưa đạt", date(2025, 12, 1), TODAY, "x")
    assert said(closed)[0] == "the action is verified; you cannot reopen it now" and closed.value.allowed_next == []


def test_a_reopening_says_why_and_sets_a_new_due_date_after_today() -> None:
    with pytest.raises(IllegalTransition) as early:
        with_action().reopen(decided(), "u-fecon", "a-1", "hn.ntl", "Chưa đạt", date(2025, 12, 1), TODAY, "x")
    assert str(early.value) == "the action is open; you cannot reopen it now"
    with pytest.raises(InvalidInput) as blank:
        fixed().reopen(decided(), "u-fecon", "a-1", "hn.ntl", " ", date(2025, 12, 1), TODAY, "x")
    assert said(blank) == (
        "a reopened action says why the fix is not enough", "reason", "action.reason_required", {},
    )  # fmt: skip
    with pytest.raises(InvalidInput) as past:
        fixed().reopen(decided(), "u-fecon", "a-1", "hn.ntl", "Chưa đạt", TODAY, TODAY, "x")
    assert said(past) == ("the new due date is after today", "due_on", "action.due_in_past", {"today": "2025-09-01"})
    events = fixed().reopen(decided(), "u-fecon", "a-1", "hn.ntl", "Thiếu chữ ký", date(2025, 9, 2), TODAY, "ubkt")
    assert events == [
        CorrectiveActionReopened(
            inspection_id=ID, unit_id="u-fecon", action_id="a-1", by_path="hn.ntl", reason="Thiếu chữ ký",
            due_on=date(2025, 9, 2), reopened_by="ubkt",
        )
    ]  # fmt: skip
    again = then(fixed(), events)
    assert (again.status_of("a-1"), again.actions["a-1"].due_on) == ("open", date(2025, 9, 2))
    with pytest.raises(TypeError, match="an inspected unit cannot apply str"):
        again.apply("x")  # type: ignore[arg-type]
