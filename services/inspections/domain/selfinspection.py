"""Self-inspection (tự kiểm tra): a level opens a round for its subtree; every grassroots union gets a
checklist pre-filled from the facts, answers each item, sees where the facts contradict it, submits once
and amends with a reason. Not submitted by the due date is overdue, recorded once with how late.

A unit has one checklist per year and period, whichever round issued it (a district's round and the
city's do not give a union two checklists for the same half-year).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from contracts.inspections import (
    AnsweredItem,
    ChecklistIssued,
    ChecklistItemAnswered,
    ChecklistWithdrawn,
    CommitmentItem,
    Contradiction,
    Evidence,
    InitiativeItem,
    Period,
    SelfInspectionAmended,
    SelfInspectionOverdue,
    SelfInspectionRoundClosed,
    SelfInspectionRoundOpened,
    SelfInspectionSubmitted,
)
from services.inspections.domain.rules import CHECKLIST_NEXT, GRASSROOTS, UnitRef, below
from services.inspections.domain.rulesets import RuleSet
from shared.aggregate import Aggregate
from shared.errors import Conflict, IllegalTransition, InvalidInput
from shared.events import Event


@dataclass(frozen=True)
class UnitFacts:
    """What the facts say about one grassroots union now: its commitments and its members' initiatives."""

    unit: UnitRef
    commitments: tuple[CommitmentItem, ...] = ()
    initiatives: tuple[InitiativeItem, ...] = ()

    def items(self) -> dict[str, CommitmentItem | InitiativeItem]:
        return {**{c.key: c for c in self.commitments}, **{i.key: i for i in self.initiatives}}


@dataclass(frozen=True)
class Window:
    """The days a checklist's facts are selected from, first and last included."""

    starts_on: date
    ends_on: date


def period_window(year: int, period: Period) -> Window:
    """The half-year review (sơ kết 6 tháng) covers January to June, the year review the whole year: a
    checklist lists the campaigns running in its window and the initiatives registered in it (with those
    carried over from before), and shows its facts as they stood on its last day (counted commitments
    counted up to it, reported ones as last reported by it, applications by their own day) — so a
    half-year checklist opened or answered in November shows the half-year, not what was done since."""
    return Window(date(year, 1, 1), date(year, 6, 30) if period == "half_year" else date(year, 12, 31))


def commitment_key(campaign_id: str, indicator: str) -> str:
    return f"commitment:{campaign_id}:{indicator}"


def initiative_key(initiative_id: str) -> str:
    return f"initiative:{initiative_id}"


def contradiction(answer: AnsweredItem, fact: CommitmentItem | InitiativeItem | None) -> Contradiction | None:
    """ "Done" on a commitment whose measured value misses its target, or on an initiative never applied."""
    if answer.answer != "done" or fact is None:
        return None
    if isinstance(fact, CommitmentItem):
        missed = fact.measured < fact.target if fact.direction == "at_least" else fact.measured > fact.target
        if not missed:
            return None
        return Contradiction(
            item=answer.item,
            code="done_below_target",
            message=(
                f"'{fact.indicator_name}' is marked done but measures {_fmt(fact.measured)} "
                f"{fact.unit_of_measure} against a target of {_fmt(fact.target)}"
            ),
            measured=fact.measured,
            target=fact.target,
        )
    if fact.applied_on is None:
        return Contradiction(
            item=answer.item,
            code="applied_without_application",
            message=f"the initiative '{fact.title}' is marked applied but no application of it is recorded",
        )
    return None


def _fmt(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")


def _illegal(message: str, status: str, code: str, **params: object) -> IllegalTransition:
    return IllegalTransition(message, code=code, params=params, allowed_next=CHECKLIST_NEXT[status])


# -- the round ----------------------------------------------------------------------------------------


class Round(Aggregate):
    def __init__(self, round_id: str) -> None:
        super().__init__(round_id)
        self.level_unit_id = ""
        self.level_path = ""
        self.year = 0
        self.period: Period = "half_year"
        self.due_on = date.min
        self.opened_on = date.min
        self.closed = False
        self.rule_set = ""

    @property
    def window(self) -> Window:
        """The days its checklists' facts come from."""
        return period_window(self.year, self.period)

    @staticmethod
    def open(
        round_id: str,
        level: UnitRef,
        units: Sequence[UnitFacts],
        *,
        year: int,
        period: Period,
        title: str,
        due_on: date,
        today: date,
        rules: RuleSet,
        actor: str,
    ) -> tuple[SelfInspectionRoundOpened, list[ChecklistIssued]]:
        """The opening and one pre-filled checklist per active grassroots union of the subtree given;
        ``today``: the day it opens (an earlier one when the operator enters a round run on paper)."""
        if not title.strip():
            raise InvalidInput("a round needs a title", field="title", code="text.blank")
        if year > today.year or year < today.year - 1:
            raise InvalidInput(
                f"a round inspects this year or last year ({today.year - 1}–{today.year}), not {year}",
                field="year",
                code="round.year_out_of_range",
                params={"year": year, "from": today.year - 1, "to": today.year},
            )
        if due_on <= today:
            raise InvalidInput(
                f"the due date must be after today ({today.isoformat()})",
                field="due_on",
                code="round.due_in_past",
                params={"due_on": due_on.isoformat(), "today": today.isoformat()},
            )
        if level.status != "active":
            raise Conflict(f"{level.path} is no longer active", field="level_unit_id", code="unit.inactive")
        issued = [
            ChecklistIssued(
                round_id=round_id,
                unit_id=facts.unit.unit_id,
                level_path=level.path,
                year=year,
                period=period,
                due_on=due_on,
                commitments=facts.commitments,
                initiatives=facts.initiatives,
            )
            for facts in units
            if facts.unit.kind == GRASSROOTS
            and facts.unit.status == "active"
            and (facts.unit.path == level.path or below(facts.unit, level))
        ]
        if not issued:
            raise Conflict(
                f"no grassroots union under {level.path} is without a checklist for {period} {year}",
                field="level_unit_id",
                code="round.no_units",
                params={"level": level.path, "year": year, "period": period},
            )
        opened = SelfInspectionRoundOpened(
            round_id=round_id,
            level_unit_id=level.unit_id,
            level_path=level.path,
            year=year,
            period=period,
            title=title,
            opened_on=today,
            due_on=due_on,
            unit_count=len(issued),
            rule_set=rules.version,
            opened_by=actor,
        )
        return opened, issued

    def close(self, today: date, summary: str, submitted: int, overdue: int, actor: str) -> list[Event]:
        if self.closed:
            raise IllegalTransition("the round is already closed", code="round.closed", allowed_next=())
        if today <= self.due_on:
            raise IllegalTransition(
                f"the round is due on {self.due_on.isoformat()}; close it after that day",
                code="round.not_due",
                params={"due_on": self.due_on.isoformat()},
                allowed_next=(),
            )
        if not summary.strip():
            raise InvalidInput("the closing states a summary", field="summary", code="text.blank")
        return [
            SelfInspectionRoundClosed(
                round_id=self.id,
                level_unit_id=self.level_unit_id,
                closed_on=today,
                summary=summary,
                submitted=submitted,
                overdue=overdue,
                closed_by=actor,
            )
        ]

    def apply(self, event: Event) -> None:
        match event:
            case SelfInspectionRoundOpened():
                self.level_unit_id, self.level_path = event.level_unit_id, event.level_path
                self.year, self.period, self.due_on = event.year, event.period, event.due_on
                self.rule_set, self.opened_on = event.rule_set, event.opened_on
            case SelfInspectionRoundClosed():
                self.closed = True
            case _:
                raise TypeError(f"a round cannot apply {type(event).__name__}")


# -- one unit's checklist -----------------------------------------------------------------------------


class Checklist(Aggregate):
    def __init__(self, checklist_id: str) -> None:
        super().__init__(checklist_id)
        self.round_id = ""
        self.unit_id = ""
        self.due_on = date.min
        self.status = "issued"
        self.items: dict[str, CommitmentItem | InitiativeItem] = {}
        self.answers: dict[str, AnsweredItem] = {}
        self.findings: tuple[str, ...] = ()
        self.contradictions: tuple[Contradiction, ...] = ()
        self.overdue = False
        self.amendments = 0

    # -- commands --------------------------------------------------------------------------------

    def answer(self, round_: Round, answer: AnsweredItem, facts: UnitFacts, actor: str) -> list[ChecklistItemAnswered]:
        self._require_open(round_, "answer")
        if self.status == "submitted":
            raise _illegal(
                "the self-inspection was submitted; amend it with a reason", "submitted", "checklist.submitted"
            )
        self._require_item(answer.item, "item")
        check_answer(answer, "answer")
        found = contradiction(answer, self._current(answer.item, facts))
        return [
            ChecklistItemAnswered(
                round_id=self.round_id, unit_id=self.unit_id, answer=answer, contradiction=found, answered_by=actor
            )
        ]

    def submit(
        self,
        round_: Round,
        answers: Sequence[AnsweredItem],
        findings: Sequence[str],
        facts: UnitFacts,
        now: datetime,
        actor: str,
    ) -> list[SelfInspectionSubmitted]:
        self._require_open(round_, "submit")
        if self.status == "submitted":
            raise _illegal(
                "the self-inspection was already submitted; amend it with a reason", "submitted", "checklist.submitted"
            )
        if now.date() < round_.opened_on:
            raise InvalidInput(
                f"the round opened on {round_.opened_on.isoformat()}; nothing was submitted before that",
                field="submitted_on",
                code="checklist.submitted_before_round",
                params={"opened_on": round_.opened_on.isoformat()},
            )
        merged = self._merge(answers, "answers")
        missing = [key for key in self.items if key not in merged]
        if missing:
            raise InvalidInput(
                f"{len(missing)} item(s) are not answered yet: {', '.join(missing[:5])}",
                field="answers",
                code="checklist.unanswered",
                params={"missing": missing},
            )
        return [
            SelfInspectionSubmitted(
                round_id=self.round_id,
                unit_id=self.unit_id,
                submitted_at=now,
                days_late=max(0, (now.date() - self.due_on).days),
                answers=tuple(merged[key] for key in self.items),
                findings=_findings(findings),
                contradictions=self._contradictions(merged, facts),
                submitted_by=actor,
            )
        ]

    def amend(
        self,
        round_: Round,
        reason: str,
        answers: Sequence[AnsweredItem],
        findings: Sequence[str] | None,
        facts: UnitFacts,
        actor: str,
    ) -> list[SelfInspectionAmended]:
        self._require_open(round_, "amend")
        if self.status != "submitted":
            raise _illegal(
                "only a submitted self-inspection is amended; submit it first", self.status, "checklist.not_submitted"
            )
        if not reason.strip():
            raise InvalidInput(
                "an amendment after submission needs its reason", field="reason", code="checklist.reason_required"
            )
        if not answers and findings is None:
            raise InvalidInput(
                "the amendment changes no answer and no finding", field="answers", code="checklist.empty_amendment"
            )
        merged = self._merge(answers, "answers")
        return [
            SelfInspectionAmended(
                round_id=self.round_id,
                unit_id=self.unit_id,
                amendment=self.amendments + 1,
                reason=reason,
                answers=tuple(merged[key] for key in self.items),
                findings=self.findings if findings is None else _findings(findings),
                contradictions=self._contradictions(merged, facts),
                amended_by=actor,
            )
        ]

    def mark_overdue(self, now: datetime, rules: RuleSet) -> list[SelfInspectionOverdue]:
        """Once per unit and round: nothing if submitted, withdrawn, already recorded, or not yet late."""
        late = (now.date() - self.due_on).days
        if self.status != "issued" or self.overdue or late <= rules.overdue_grace_days:
            return []
        return [
            SelfInspectionOverdue(
                round_id=self.round_id, unit_id=self.unit_id, due_on=self.due_on, detected_at=now, days_late=late
            )
        ]

    def withdraw(self, merged_into: str, now: datetime) -> list[ChecklistWithdrawn]:
        """The unit merged into another: an unsubmitted checklist closes rather than turning overdue."""
        if self.status != "issued":
            return []
        return [
            ChecklistWithdrawn(
                round_id=self.round_id, unit_id=self.unit_id, merged_into_unit_id=merged_into, withdrawn_at=now
            )
        ]

    # -- helpers ---------------------------------------------------------------------------------

    def _require_open(self, round_: Round, what: str) -> None:
        if self.status == "withdrawn":
            raise _illegal(
                "the unit merged into another; its checklist was withdrawn", "withdrawn", "checklist.withdrawn"
            )
        if round_.closed:
            raise IllegalTransition(
                f"the round was closed; nothing more can be done to its checklists ({what})",
                code="round.closed",
                allowed_next=(),
            )

    def _require_item(self, key: str, field: str) -> None:
        if key not in self.items:
            raise InvalidInput(
                f"the checklist has no item {key}",
                field=field,
                code="checklist.unknown_item",
                params={"item": key},
            )

    def _merge(self, answers: Sequence[AnsweredItem], field: str) -> dict[str, AnsweredItem]:
        merged = dict(self.answers)
        for index, answer in enumerate(answers):
            self._require_item(answer.item, f"{field}.{index}.item")
            check_answer(answer, f"{field}.{index}")
            merged[answer.item] = answer
        return merged

    def _current(self, key: str, facts: UnitFacts) -> CommitmentItem | InitiativeItem | None:
        """The item as the facts stand now (the issued copy if the facts no longer list it)."""
        return facts.items().get(key) or self.items.get(key)

    def _contradictions(self, answers: Mapping[str, AnsweredItem], facts: UnitFacts) -> tuple[Contradiction, ...]:
        now = facts.items()
        found = (contradiction(answers[key], now.get(key) or self.items[key]) for key in self.items if key in answers)
        return tuple(c for c in found if c is not None)

    # -- state -----------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        match event:
            case ChecklistIssued():
                self.round_id, self.unit_id, self.due_on = event.round_id, event.unit_id, event.due_on
                self.items = {**{c.key: c for c in event.commitments}, **{i.key: i for i in event.initiatives}}
            case ChecklistItemAnswered():
                self.answers[event.answer.item] = event.answer
            case SelfInspectionSubmitted():
                self.status = "submitted"
                self.answers = {a.item: a for a in event.answers}
                self.findings, self.contradictions = event.findings, event.contradictions
            case SelfInspectionAmended():
                self.answers = {a.item: a for a in event.answers}
                self.findings, self.contradictions = event.findings, event.contradictions
                self.amendments = event.amendment
            case SelfInspectionOverdue():
                self.overdue = True
            case ChecklistWithdrawn():
                self.status = "withdrawn"
            case _:
                raise TypeError(f"a checklist cannot apply {type(event).__name__}")


def _findings(findings: Sequence[str]) -> tuple[str, ...]:
    return tuple(f for f in findings if f.strip())


def has_evidence(evidence: Evidence) -> bool:
    return bool(evidence.text.strip() or evidence.links or evidence.files)


def check_answer(answer: AnsweredItem, field: str) -> None:
    """Done or partly done says what proves it (seed 001: "cụ thể, đo lường, minh bạch")."""
    if answer.answer != "not_done" and not has_evidence(answer.evidence):
        raise InvalidInput(
            f"'{answer.answer}' on {answer.item} needs its evidence: a statement, a link or a file",
            field=f"{field}.evidence",
            code="checklist.evidence_required",
            params={"item": answer.item, "answer": answer.answer},
        )
