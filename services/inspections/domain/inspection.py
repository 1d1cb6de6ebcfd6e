"""Upper-level inspections (kiểm tra của cấp trên): the inspection committee's plan, an inspection of
chosen units announced by a notice then a decision, findings per unit with a recommendation, and
corrective actions the unit fixes and the inspecting level verifies or reopens.

An inspection's own stream (``Inspection``) belongs to the inspecting level; the findings and actions of
one inspected unit (``InspectedUnit``) are that unit's stream, so they travel with it when it moves. A
unit that leaves the inspecting level's subtree, or merges into another, strands nothing: its open
actions are then verified by the level above it now (``verifier_for``), and the absorbing unit reports
the fixes of a unit it absorbed.
"""

from collections.abc import Sequence
from datetime import date

from contracts.inspections import (
    Content,
    CorrectiveActionAssigned,
    CorrectiveActionFixReported,
    CorrectiveActionReopened,
    CorrectiveActionVerified,
    Evidence,
    FindingRecorded,
    InspectionConcluded,
    InspectionDecisionIssued,
    InspectionNoticeIssued,
    InspectionPlanAdopted,
    InspectionScheduled,
    PlannedInspection,
    Programme,
    SelectedUnit,
    Selection,
    Severity,
    TeamMember,
)
from services.inspections.domain.rules import ACTION_NEXT, INSPECTION_NEXT, UnitRef, below
from services.inspections.domain.selfinspection import has_evidence
from shared.aggregate import Aggregate
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from shared.events import Event

PROGRAMME_MONTHS: dict[str, tuple[int, int]] = {"year": (1, 12), "first_half": (1, 6), "second_half": (7, 12)}


# -- the plan -------------------------------------------------------------------------------------------


class Plan(Aggregate):
    """A level's yearly inspection plan or half-year programme (one per level, year and programme)."""

    def __init__(self, plan_id: str) -> None:
        super().__init__(plan_id)
        self.revision = 0
        self.unit_id = ""
        self.year = 0
        self.programme: Programme = "year"

    @staticmethod
    def _check(year: int, programme: Programme, items: Sequence[PlannedInspection], today: date) -> None:
        if year < today.year - 1 or year > today.year + 1:
            raise InvalidInput(
                f"a plan is for last year, this year or next year, not {year}",
                field="year",
                code="plan.year_out_of_range",
                params={"year": year},
            )
        if not items:
            raise InvalidInput("a plan lists at least one inspection", field="items", code="plan.empty")
        first, last = PROGRAMME_MONTHS[programme]
        for index, item in enumerate(items):
            if not first <= item.from_month <= item.to_month <= last:
                raise InvalidInput(
                    f"months {item.from_month}–{item.to_month} are not within the {programme} programme "
                    f"({first}–{last})",
                    field=f"items.{index}.from_month",
                    code="plan.months_outside_programme",
                    params={"from": item.from_month, "to": item.to_month, "programme": programme},
                )

    def adopt(
        self,
        unit: UnitRef,
        year: int,
        programme: Programme,
        title: str,
        items: Sequence[PlannedInspection],
        today: date,
        actor: str,
    ) -> list[Event]:
        if self.exists:
            raise Conflict(
                f"{unit.path} already has its {programme} plan for {year}; revise it with a reason",
                code="plan.exists",
                allowed_next=("revise",),
            )
        self._check(year, programme, items, today)
        return [
            InspectionPlanAdopted(
                plan_id=self.id,
                unit_id=unit.unit_id,
                unit_path=unit.path,
                year=year,
                programme=programme,
                title=title,
                items=tuple(items),
                revision=1,
                adopted_by=actor,
            )
        ]

    def revise(
        self, unit: UnitRef, title: str, items: Sequence[PlannedInspection], reason: str, today: date, actor: str
    ) -> list[Event]:
        if not self.exists:
            raise NotFound("there is no plan to revise; adopt it first", code="plan.not_found")
        if not reason.strip():
            raise InvalidInput("a revised plan says why", field="reason", code="plan.reason_required")
        self._check(self.year, self.programme, items, today)
        return [
            InspectionPlanAdopted(
                plan_id=self.id,
                unit_id=unit.unit_id,
                unit_path=unit.path,
                year=self.year,
                programme=self.programme,
                title=title,
                items=tuple(items),
                revision=self.revision + 1,
                reason=reason,
                adopted_by=actor,
            )
        ]

    def apply(self, event: Event) -> None:
        match event:
            case InspectionPlanAdopted():
                self.unit_id, self.year, self.programme = event.unit_id, event.year, event.programme
                self.revision = event.revision
            case _:
                raise TypeError(f"a plan cannot apply {type(event).__name__}")


# -- the inspection -------------------------------------------------------------------------------------


class Inspection(Aggregate):
    def __init__(self, inspection_id: str) -> None:
        super().__init__(inspection_id)
        self.status = "scheduled"
        self.by_unit_id = ""
        self.by_path = ""
        self.units: dict[str, SelectedUnit] = {}
        self.team: dict[str, TeamMember] = {}
        self.notice_on: date | None = None
        self.content: str = ""
        # What was announced and decided, as the events said it (the inspection's own view shows it at once;
        # a level's list of inspections may still be catching up).
        self.scheduled: InspectionScheduled | None = None
        self.notice: InspectionNoticeIssued | None = None
        self.decision: InspectionDecisionIssued | None = None
        self.conclusion: InspectionConcluded | None = None

    @staticmethod
    def schedule(
        inspection_id: str,
        by: UnitRef,
        units: Sequence[tuple[UnitRef, tuple[str, ...]]],
        team: Sequence[TeamMember],
        selection: Selection,
        *,
        purpose: str,
        content: Content,
        period_from: date,
        period_to: date,
        plan_id: str | None,
        actor: str,
    ) -> list[Event]:
        if not purpose.strip():
            raise InvalidInput("an inspection states its purpose", field="purpose", code="text.blank")
        if period_to < period_from:
            raise InvalidInput(
                "the inspected period ends after it starts", field="period_to", code="inspection.period_reversed"
            )
        if not units:
            raise InvalidInput("an inspection names the units it inspects", field="units", code="inspection.no_units")
        if not team:
            raise InvalidInput("an inspection names its team", field="team", code="inspection.no_team")
        seen: set[str] = set()
        for index, (unit, _reasons) in enumerate(units):
            if not below(unit, by):
                raise Forbidden(
                    f"{unit.path} is not below {by.path}: a level inspects only units of its subtree",
                    field=f"units.{index}",
                    code="inspection.unit_outside",
                    params={"unit": unit.path, "level": by.path},
                )
            if unit.status != "active":
                raise Conflict(f"{unit.path} is no longer active", field=f"units.{index}", code="unit.inactive")
            if unit.unit_id in seen:
                raise InvalidInput(f"{unit.path} is listed twice", field=f"units.{index}", code="inspection.unit_twice")
            seen.add(unit.unit_id)
        return [
            InspectionScheduled(
                inspection_id=inspection_id,
                by_unit_id=by.unit_id,
                by_path=by.path,
                plan_id=plan_id,
                purpose=purpose,
                content=content,
                period_from=period_from,
                period_to=period_to,
                units=tuple(SelectedUnit(unit_id=u.unit_id, path=u.path, reasons=r) for u, r in units),
                team=tuple(team),
                selection=selection,
                scheduled_by=actor,
            )
        ]

    def issue_notice(self, number: str, issued_on: date, starts_on: date, actor: str) -> list[Event]:
        self._require("scheduled", "issue the notice")
        if starts_on < issued_on:
            raise InvalidInput(
                "the inspection starts after its notice", field="starts_on", code="inspection.starts_before_notice"
            )
        return [
            InspectionNoticeIssued(
                inspection_id=self.id, number=number, issued_on=issued_on, starts_on=starts_on, issued_by=actor
            )
        ]

    def issue_decision(self, number: str, decided_on: date, actor: str) -> list[Event]:
        self._require("noticed", "issue the decision")
        assert self.notice_on is not None
        if decided_on < self.notice_on:
            raise InvalidInput(
                f"the decision comes after the notice of {self.notice_on.isoformat()}",
                field="decided_on",
                code="inspection.decision_before_notice",
            )
        return [InspectionDecisionIssued(inspection_id=self.id, number=number, decided_on=decided_on, issued_by=actor)]

    def conclude(self, conclusion: str, today: date, actor: str) -> list[Event]:
        self._require("decided", "conclude it")
        if not conclusion.strip():
            raise InvalidInput("the conclusion is written down", field="conclusion", code="text.blank")
        return [
            InspectionConcluded(inspection_id=self.id, concluded_on=today, conclusion=conclusion, concluded_by=actor)
        ]

    def _require(self, status: str, what: str) -> None:
        if self.status != status:
            raise IllegalTransition(
                f"the inspection is {self.status}; it cannot {what} now",
                code="inspection.illegal_transition",
                params={"status": self.status},
                allowed_next=INSPECTION_NEXT[self.status],
            )

    def require_decided(self, what: str) -> None:
        self._require("decided", what)

    def on_team(self, member_id: str) -> bool:
        return member_id in self.team

    def apply(self, event: Event) -> None:
        match event:
            case InspectionScheduled():
                self.by_unit_id, self.by_path, self.content = event.by_unit_id, event.by_path, event.content
                self.units = {u.unit_id: u for u in event.units}
                self.team = {m.member_id: m for m in event.team}
                self.scheduled = event
            case InspectionNoticeIssued():
                self.status, self.notice_on, self.notice = "noticed", event.issued_on, event
            case InspectionDecisionIssued():
                self.status, self.decision = "decided", event
            case InspectionConcluded():
                self.status, self.conclusion = "concluded", event
            case _:
                raise TypeError(f"an inspection cannot apply {type(event).__name__}")


def verifier_for(inspection: Inspection, inspecting: UnitRef, unit_now: UnitRef) -> str:
    """The unit id that verifies the unit's fixes: the inspecting level while it is still above the unit,
    else the level above the unit now (a unit that moved away does not leave its actions orphaned)."""
    if below(unit_now, inspecting):
        return inspection.by_unit_id
    return unit_now.parent_id or inspection.by_unit_id


# -- one inspected unit: findings and corrective actions ---------------------------------------------


class _Action:
    def __init__(self, finding_id: str, due_on: date) -> None:
        self.finding_id, self.due_on, self.status = finding_id, due_on, "open"


class InspectedUnit(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.findings: set[str] = set()
        self.actions: dict[str, _Action] = {}

    def record_finding(
        self,
        inspection: Inspection,
        inspecting: UnitRef,
        unit: UnitRef,
        finding_id: str,
        *,
        severity: Severity,
        description: str,
        recommendation: str,
        evidence: Evidence,
        actor: str,
    ) -> list[Event]:
        inspection.require_decided("record findings")
        _require_inspected(inspection, unit)
        if unit.status != "active":
            raise Conflict(
                f"{unit.path} merged into another unit; its inspection records no more findings",
                field="unit_id",
                code="inspection.unit_merged",
            )
        if not below(unit, inspecting):
            raise Conflict(
                f"{unit.path} is no longer below {inspecting.path}; conclude the inspection without it",
                field="unit_id",
                code="inspection.unit_left",
                params={"unit": unit.path, "level": inspecting.path},
            )
        if not description.strip():
            raise InvalidInput("a finding describes what was found", field="description", code="text.blank")
        if finding_id in self.findings:
            raise Conflict(f"finding {finding_id} is already recorded", code="finding.exists")
        return [
            FindingRecorded(
                inspection_id=inspection.id,
                unit_id=unit.unit_id,
                finding_id=finding_id,
                by_path=inspecting.path,
                severity=severity,
                description=description,
                recommendation=recommendation,
                evidence=evidence,
                recorded_by=actor,
            )
        ]

    def assign_action(
        self,
        inspection: Inspection,
        inspecting: UnitRef,
        unit: UnitRef,
        action_id: str,
        *,
        finding_id: str,
        description: str,
        owner: str,
        due_on: date,
        today: date,
        actor: str,
    ) -> list[Event]:
        inspection.require_decided("assign corrective actions")
        _require_inspected(inspection, unit)
        if finding_id not in self.findings:
            raise InvalidInput(
                f"{unit.path} has no finding {finding_id} in this inspection",
                field="finding_id",
                code="finding.not_found",
            )
        if due_on <= today:
            raise InvalidInput(
                f"a corrective action is due after the day it is assigned ({today.isoformat()})",
                field="due_on",
                code="action.due_in_past",
                params={"today": today.isoformat()},
            )
        if not description.strip() or not owner.strip():
            raise InvalidInput(
                "an action says what is to be done and who answers for it",
                field="description" if not description.strip() else "owner",
                code="text.blank",
            )
        return [
            CorrectiveActionAssigned(
                inspection_id=inspection.id,
                unit_id=unit.unit_id,
                action_id=action_id,
                finding_id=finding_id,
                by_path=inspecting.path,
                description=description,
                owner=owner,
                due_on=due_on,
                assigned_by=actor,
            )
        ]

    def report_fix(
        self,
        inspection: Inspection,
        unit_id: str,
        action_id: str,
        description: str,
        evidence: Evidence,
        today: date,
        actor: str,
    ) -> list[Event]:
        self._action(action_id, "open", "report a fix")
        if not description.strip():
            raise InvalidInput("the fix says what was done", field="description", code="text.blank")
        if not has_evidence(evidence):
            raise InvalidInput("a fix is reported with its evidence", field="evidence", code="action.evidence_required")
        return [
            CorrectiveActionFixReported(
                inspection_id=inspection.id,
                unit_id=unit_id,
                action_id=action_id,
                description=description,
                evidence=evidence,
                reported_on=today,
                reported_by=actor,
            )
        ]

    def verify(
        self, inspection: Inspection, unit_id: str, action_id: str, by_path: str, note: str, today: date, actor: str
    ) -> list[Event]:
        self._action(action_id, "fix_reported", "verify it")
        return [
            CorrectiveActionVerified(
                inspection_id=inspection.id,
                unit_id=unit_id,
                action_id=action_id,
                by_path=by_path,
                note=note,
                verified_on=today,
                verified_by=actor,
            )
        ]

    def reopen(
        self,
        inspection: Inspection,
        unit_id: str,
        action_id: str,
        by_path: str,
        reason: str,
        due_on: date,
        today: date,
        actor: str,
    ) -> list[Event]:
        self._action(action_id, "fix_reported", "reopen it")
        if not reason.strip():
            raise InvalidInput(
                "a reopened action says why the fix is not enough", field="reason", code="action.reason_required"
            )
        if due_on <= today:
            raise InvalidInput(
                "the new due date is after today",
                field="due_on",
                code="action.due_in_past",
                params={"today": today.isoformat()},
            )
        return [
            CorrectiveActionReopened(
                inspection_id=inspection.id,
                unit_id=unit_id,
                action_id=action_id,
                by_path=by_path,
                reason=reason,
                due_on=due_on,
                reopened_by=actor,
            )
        ]

    def _action(self, action_id: str, status: str, what: str) -> _Action:
        action = self.actions.get(action_id)
        if action is None:
            raise NotFound(
                f"no corrective action {action_id} for this unit", field="action_id", code="action.not_found"
            )
        if action.status != status:
            raise IllegalTransition(
                f"the action is {action.status}; you cannot {what} now",
                code="action.illegal_transition",
                params={"status": action.status},
                allowed_next=ACTION_NEXT[action.status],
            )
        return action

    def status_of(self, action_id: str) -> str | None:
        action = self.actions.get(action_id)
        return action.status if action else None

    def apply(self, event: Event) -> None:
        match event:
            case FindingRecorded():
                self.findings.add(event.finding_id)
            case CorrectiveActionAssigned():
                self.actions[event.action_id] = _Action(event.finding_id, event.due_on)
            case CorrectiveActionFixReported():
                self.actions[event.action_id].status = "fix_reported"
            case CorrectiveActionVerified():
                self.actions[event.action_id].status = "verified"
            case CorrectiveActionReopened():
                action = self.actions[event.action_id]
                action.status, action.due_on = "open", event.due_on
            case _:
                raise TypeError(f"an inspected unit cannot apply {type(event).__name__}")


def _require_inspected(inspection: Inspection, unit: UnitRef) -> None:
    if unit.unit_id not in inspection.units:
        raise NotFound(
            f"{unit.path} is not among the units of this inspection",
            field="unit_id",
            code="inspection.unit_not_inspected",
        )
