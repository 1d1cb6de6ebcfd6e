"""The rule book: every rule set by family and effective date, the base salary table, the working-day
calendar — built-in data (``catalogue.py``) amended by events an authorised official appends.

``RuleBookRecord`` is the aggregate (one stream, ``rulebook``) that checks an amendment before it is
recorded; ``RuleBook`` is the immutable value the rest of the domain reads.
"""

import bisect
import math
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_CEILING, Decimal

from contracts.awards import AwardRule, BaseSalarySet, HolidaysDeclared, RuleSetData, RuleSetPublished
from services.awards.domain.calendar import WorkingCalendar
from services.awards.domain.rules import Actor
from shared.aggregate import Aggregate
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events import Event

AMOUNT_STEP = 10_000  # amounts are rounded UP to tens of thousands of đồng (NĐ 98/2023)
RULEBOOK_STREAM = "rulebook"


@dataclass(frozen=True)
class SalaryStep:
    effective_from: date
    amount_vnd: int
    source: str


@dataclass(frozen=True)
class RuleBook:
    families: dict[str, tuple[RuleSetData, ...]] = field(default_factory=dict)  # each sorted by date
    salaries: tuple[SalaryStep, ...] = ()
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    # -- reading -----------------------------------------------------------------------------------

    def rule_set(self, family: str, on: date) -> RuleSetData:
        versions = self.families.get(family, ())
        index = bisect.bisect_right([v.effective_from for v in versions], on) - 1
        if index < 0:
            raise NotFound(
                f"no {family} rule set is in force on {on.isoformat()}",
                code="award.no_rule_set",
                params={"family": family, "on": on.isoformat()},
            )
        return versions[index]

    def version(self, version: str) -> RuleSetData | None:
        for versions in self.families.values():
            for rule_set in versions:
                if rule_set.version == version:
                    return rule_set
        return None

    def family_of(self, award_code: str) -> str | None:
        for family, versions in self.families.items():
            if any(a.code == award_code for v in versions for a in v.awards):
                return family
        return None

    def award(self, code: str, on: date, field_name: str = "award_code") -> tuple[RuleSetData, AwardRule]:
        family = self.family_of(code)
        if family is None:
            raise InvalidInput(
                f"no award {code!r} in any rule set",
                code="award.unknown_award",
                field=field_name,
                params={"award_code": code},
            )
        rule_set = self.rule_set(family, on)
        for rule in rule_set.awards:
            if rule.code == code:
                return rule_set, rule
        raise InvalidInput(
            f"{code!r} is not in the rule set in force on {on.isoformat()} ({rule_set.version})",
            code="award.not_in_rule_set",
            field=field_name,
            params={"award_code": code, "rule_set": rule_set.version},
        )

    def base_salary(self, on: date) -> SalaryStep:
        index = bisect.bisect_right([s.effective_from for s in self.salaries], on) - 1
        if index < 0:
            raise NotFound(
                f"no base salary is recorded for {on.isoformat()}",
                code="award.no_base_salary",
                params={"on": on.isoformat()},
            )
        return self.salaries[index]

    def amount(self, rule: AwardRule, decided_on: date) -> tuple[int, int]:
        """(amount, base salary): the multiple × the base salary in force on the decision date, rounded up."""
        base = self.base_salary(decided_on).amount_vnd
        return amount_of(rule.multiple, base), base

    # -- amending ----------------------------------------------------------------------------------

    def with_rule_set(self, rule_set: RuleSetData) -> "RuleBook":
        versions = sorted(
            [v for v in self.families.get(rule_set.family, ()) if v.version != rule_set.version] + [rule_set],
            key=lambda v: v.effective_from,
        )
        return replace(self, families={**self.families, rule_set.family: tuple(versions)})

    def with_salary(self, step: SalaryStep) -> "RuleBook":
        steps = sorted(
            [s for s in self.salaries if s.effective_from != step.effective_from] + [step],
            key=lambda s: s.effective_from,
        )
        return replace(self, salaries=tuple(steps))

    def with_holidays(self, year: int, days_off: tuple[date, ...], working: tuple[date, ...]) -> "RuleBook":
        return replace(self, calendar=self.calendar.with_year(year, days_off, working))


def amount_of(multiple: Decimal, base_salary_vnd: int) -> int:
    raw = (Decimal(multiple) * base_salary_vnd / AMOUNT_STEP).quantize(Decimal(1), rounding=ROUND_CEILING)
    return int(raw) * AMOUNT_STEP


def check_rule_set(book: RuleBook, rule_set: RuleSetData) -> None:
    """A rule set is coherent on its own and with the other families; every problem names its field."""
    if book.version(rule_set.version) is not None:
        raise Conflict(
            f"rule set version {rule_set.version} is already published; publish a new version",
            code="award.rule_set_exists",
            field="rule_set.version",
            params={"version": rule_set.version},
        )
    codes = [a.code for a in rule_set.awards]
    if not codes:
        raise InvalidInput("a rule set needs at least one award", code="award.empty_rule_set", field="rule_set.awards")
    for index, rule in enumerate(rule_set.awards):
        if codes.count(rule.code) > 1:
            raise InvalidInput(
                f"award code {rule.code} appears twice",
                code="award.duplicate_code",
                field=f"rule_set.awards.{index}.code",
                params={"award_code": rule.code},
            )
        owner = book.family_of(rule.code)
        if owner is not None and owner != rule_set.family:
            raise InvalidInput(
                f"award code {rule.code} belongs to the {owner} family",
                code="award.code_of_other_family",
                field=f"rule_set.awards.{index}.code",
                params={"award_code": rule.code, "family": owner},
            )
        criteria = [c.code for c in rule.criteria]
        if len(set(criteria)) != len(criteria):
            raise InvalidInput(
                f"criterion codes of {rule.code} must be distinct",
                code="award.duplicate_criterion",
                field=f"rule_set.awards.{index}.criteria",
            )
        if (rule.cap_title is None) != (rule.cap_share is None):
            raise InvalidInput(
                "a cap needs both cap_title and cap_share",
                code="award.incomplete_cap",
                field=f"rule_set.awards.{index}.cap_share",
            )


class RuleBookRecord(Aggregate):
    """The stream of amendments to the built-in rule book."""

    def __init__(self, aggregate_id: str = RULEBOOK_STREAM, base: RuleBook | None = None) -> None:
        super().__init__(aggregate_id)
        if base is None:
            from services.awards.domain.catalogue import builtin_rulebook  # the data module imports this one

            base = builtin_rulebook()
        self.book = base

    def apply(self, event: Event) -> None:
        match event:
            case RuleSetPublished(rule_set=rule_set):
                self.book = self.book.with_rule_set(rule_set)
            case BaseSalarySet():
                self.book = self.book.with_salary(SalaryStep(event.effective_from, event.amount_vnd, event.source))
            case HolidaysDeclared():
                self.book = self.book.with_holidays(event.year, event.days_off, event.working_weekend_days)

    @staticmethod
    def _require_keeper(actor: Actor) -> None:
        # The rule book is city-wide: the city federation's standing committee or the operator amends it.
        at_top = actor.unit is not None and actor.unit.kind == "city_federation"
        if not (actor.is_admin or (at_top and actor.has("standing_committee", "chair"))):
            raise Forbidden(
                "only the city federation's standing committee amends the rule book",
                code="award.rulebook_keeper_only",
            )

    def publish(self, rule_set: RuleSetData, actor: Actor) -> list[Event]:
        self._require_keeper(actor)
        check_rule_set(self.book, rule_set)
        return [RuleSetPublished(rule_set=rule_set, published_by=actor.subject)]

    def set_base_salary(self, effective_from: date, amount_vnd: int, source: str, actor: Actor) -> list[Event]:
        self._require_keeper(actor)
        if amount_vnd <= 0 or not math.isfinite(amount_vnd):
            raise InvalidInput("the base salary must be positive", code="award.bad_salary", field="amount_vnd")
        return [
            BaseSalarySet(effective_from=effective_from, amount_vnd=amount_vnd, source=source, set_by=actor.subject)
        ]

    def declare_holidays(
        self, year: int, days_off: tuple[date, ...], working: tuple[date, ...], source: str, actor: Actor
    ) -> list[Event]:
        self._require_keeper(actor)
        for index, day in enumerate(days_off):
            if day.year != year:
                raise InvalidInput(
                    f"{day.isoformat()} is not in {year}",
                    code="award.holiday_outside_year",
                    field=f"days_off.{index}",
                )
        for index, day in enumerate(working):
            if day.year != year or day.weekday() < 5:
                raise InvalidInput(
                    f"{day.isoformat()} is not a weekend day of {year}",
                    code="award.not_a_weekend_day",
                    field=f"working_weekend_days.{index}",
                )
        return [
            HolidaysDeclared(
                year=year,
                days_off=tuple(sorted(days_off)),
                working_weekend_days=tuple(sorted(working)),
                source=source,
                declared_by=actor.subject,
            )
        ]
