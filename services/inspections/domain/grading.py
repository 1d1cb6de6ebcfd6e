"""Yearly grading (đánh giá, xếp loại công đoàn cơ sở): a grassroots union scores itself on the indicator
set of its kind, the rule set turns points into a grade, and its parent level confirms (thẩm định) or
changes it with a reason. A union operating fewer months than the rule set requires is not graded, and
the refusal says why. One stream per unit and year; ``GradeConfirmed`` is what the awards service reads.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from contracts.inspections import Grade, GradeConfirmed, IndicatorScore, SelfGraded, UnionType
from services.inspections.domain.rules import GRADING_NEXT, GRASSROOTS, UnitRef, add_months, months_between
from services.inspections.domain.rulesets import GRADE_LABELS, RuleSet
from shared.aggregate import Aggregate
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from shared.events import Event


@dataclass(frozen=True)
class Scored:
    scores: tuple[IndicatorScore, ...]
    group_points: dict[str, float]
    points: float
    grade: str


def score(rules: RuleSet, union_type: str, given: Mapping[str, float], field: str = "scores") -> Scored:
    """Every indicator of the union's kind scored once, each within its points; the grade from the total."""
    indicators = rules.indicators(union_type)
    unknown = sorted(set(given) - set(indicators))
    if unknown:
        raise InvalidInput(
            f"rule set {rules.version} has no indicator {', '.join(unknown)} for {union_type}",
            field=f"{field}.{unknown[0]}",
            code="grading.unknown_indicator",
            params={"indicators": unknown, "rule_set": rules.version},
        )
    missing = [code for code in indicators if code not in given]
    if missing:
        raise InvalidInput(
            f"every indicator is scored; missing: {', '.join(missing)}",
            field=f"{field}.{missing[0]}",
            code="grading.unscored",
            params={"missing": missing},
        )
    groups: dict[str, float] = {}
    for code, indicator in indicators.items():
        points = given[code]
        if not 0 <= points <= indicator.max_points:
            raise InvalidInput(
                f"'{indicator.name}' is scored 0 to {indicator.max_points:g} points, not {points:g}",
                field=f"{field}.{code}",
                code="grading.points_out_of_range",
                params={"indicator": code, "max_points": indicator.max_points, "points": points},
            )
        groups[indicator.group] = round(groups.get(indicator.group, 0.0) + points, 2)
    total = round(sum(groups.values()), 2)
    scores = tuple(IndicatorScore(indicator=code, points=given[code]) for code in indicators)
    return Scored(scores, groups, total, rules.grade_for(total))


def check_eligible(
    unit: UnitRef, year: int, rules: RuleSet, operating_since: date | None, restructured_on: date | None = None
) -> None:
    """Operating at least N months by the end of the year graded (M after a split or merger): the dates
    come from the directory's history of the unit (its registration, the last merger it absorbed)."""
    if unit.kind != GRASSROOTS:
        raise Conflict(
            f"{unit.path} is not a grassroots union; only grassroots unions are graded",
            field="unit_id",
            code="grading.not_grassroots",
        )
    year_end = date(year, 12, 31)
    since, required, why = operating_since, rules.months_operating, "started operating"
    if restructured_on is not None and (since is None or restructured_on > since):
        since, required, why = restructured_on, rules.months_after_restructure, "was split or merged"
    if since is None or since > year_end or add_months(since, required) > year_end:
        months = months_between(since, year_end) if since is not None and since <= year_end else 0
        raise Conflict(
            f"{unit.path} {why} on {since.isoformat() if since else 'an unknown date'}: by the end of {year} it "
            f"had operated {months} month(s), and a union is graded after {required} (rule set {rules.version})",
            field="year",
            code="grading.not_eligible",
            params={
                "unit": unit.path,
                "since": since.isoformat() if since else None,
                "months": months,
                "required": required,
                "reason": "restructured" if why == "was split or merged" else "new",
                "rule_set": rules.version,
            },
        )


class Grading(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.status = "none"
        self.unit_id = ""
        self.year = 0
        self.union_type: str = ""
        self.self_grade: str = ""
        self.self_points = 0.0
        self.self_scores: dict[str, float] = {}
        self.rule_set = ""
        self.revision = 0
        self.confirmations = 0
        self.grade: str = ""

    def self_grade_for(
        self,
        unit: UnitRef,
        year: int,
        union_type: UnionType,
        given: Mapping[str, float],
        rules: RuleSet,
        today: date,
        actor: str,
        *,
        operating_since: date | None,
        restructured_on: date | None = None,
        founded_on: date | None = None,
    ) -> list[Event]:
        opens = date(year, *rules.grading_opens)
        if today < opens:
            raise InvalidInput(
                f"the year {year} is graded from {opens.isoformat()}; it is {today.isoformat()}",
                field="year",
                code="grading.too_early",
                params={"year": year, "opens": opens.isoformat()},
            )
        if self.status == "confirmed":
            raise IllegalTransition(
                f"the {year} grade was confirmed by the level above; ask it to revise the confirmation",
                code="grading.confirmed",
                allowed_next=GRADING_NEXT["confirmed"],
            )
        check_eligible(unit, year, rules, operating_since, restructured_on)
        scored = score(rules, union_type, given)
        return [
            SelfGraded(
                unit_id=unit.unit_id,
                unit_path=unit.path,
                year=year,
                union_type=union_type,
                scores=scored.scores,
                group_points=scored.group_points,
                points=scored.points,
                grade=scored.grade,  # type: ignore[arg-type]
                rule_set=rules.version,
                revision=self.revision + 1,
                graded_by=actor,
                founded_on=founded_on,
            )
        ]

    def confirm(
        self,
        parent: UnitRef,
        unit: UnitRef,
        rules: RuleSet,
        actor: str,
        *,
        grade: Grade | None = None,
        scores: Mapping[str, float] | None = None,
        reason: str = "",
    ) -> list[Event]:
        """Confirm the unit's grade, or change it (new scores, or another grade) with a reason."""
        if self.status == "none":
            raise IllegalTransition(
                "the unit has not graded itself yet",
                code="grading.not_self_graded",
                allowed_next=GRADING_NEXT["none"],
            )
        if unit.parent_id != parent.unit_id:
            raise Forbidden(
                f"only the level directly above {unit.path} confirms its grade; you act for {parent.path}",
                field="unit_id",
                code="grading.not_parent",
                params={"unit": unit.path, "level": parent.path},
            )
        if rules.version != self.rule_set:
            raise Conflict(
                f"the self-grading was judged by rule set {self.rule_set}; confirm it by the same rules",
                code="grading.rule_set_changed",
                params={"self": self.rule_set, "now": rules.version},
            )
        points, computed = self.self_points, self.self_grade
        if scores is not None:
            rescored = score(rules, self.union_type, scores)
            points, computed = rescored.points, rescored.grade
        final = grade or computed
        changed = final != self.self_grade
        revising = self.status == "confirmed"
        if (changed or revising or final != computed) and not reason.strip():
            if revising:
                why = "a revised confirmation"
            elif changed:
                why = f"a grade other than {GRADE_LABELS[self.self_grade]!r}"
            else:  # the unit's own grade kept against the parent's scoring: the other grade is the points'
                why = f"a grade other than {GRADE_LABELS[computed]!r}, which the points give,"
            raise InvalidInput(f"{why} needs its reason", field="reason", code="grading.reason_required")
        return [
            GradeConfirmed(
                unit_id=unit.unit_id,
                unit_path=unit.path,
                year=self.year,
                grade=final,  # type: ignore[arg-type]
                points=points,
                rule_set=self.rule_set,
                self_grade=self.self_grade,  # type: ignore[arg-type]
                changed=changed,
                reason=reason,
                revision=self.confirmations + 1,
                by_unit_id=parent.unit_id,
                by_path=parent.path,
                confirmed_by=actor,
            )
        ]

    def apply(self, event: Event) -> None:
        match event:
            case SelfGraded():
                self.status = "self_graded"
                self.unit_id, self.year, self.union_type = event.unit_id, event.year, event.union_type
                self.self_grade, self.self_points, self.rule_set = event.grade, event.points, event.rule_set
                self.self_scores = {s.indicator: s.points for s in event.scores}
                self.revision = event.revision
            case GradeConfirmed():
                self.status, self.grade, self.confirmations = "confirmed", event.grade, event.revision
            case _:
                raise TypeError(f"a grading cannot apply {type(event).__name__}")
