"""The formalism radar's judgements and the two ways of proposing units to inspect, as pure functions.

The level projection keeps the facts; these functions say, under a rule set, which facts are signs of
formalism, how much each weighs in a unit's risk score, and which units a sample proposes. Signals that
depend on the date (an initiative never applied N months after registration, a corrective action past
its due date) are judged when read, by the rules in force that day; signals fixed by an event (a
contradicted self-assessment, a late report, registrations bunched before a passed deadline) are judged
when the event arrives, by the rules in force on its date, and keep that rule set's version.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.inspections.domain.rules import add_months
from services.inspections.domain.rulesets import SIGNALS, RadarRules


def never_applied(registered_on: date, applied_on: date | None, today: date, rules: RadarRules) -> bool:
    """Registered at least N months ago and still not applied."""
    return applied_on is None and add_months(registered_on, rules.never_applied_months) <= today


def stale_cutoff(today: date, rules: RadarRules) -> date:
    """Initiatives registered on or before this day and never applied are a sign today."""
    return add_months(today, -rules.never_applied_months)


def near_duplicate(score: float, other_unit: bool, rules: RadarRules) -> bool:
    """The registry flagged a near-copy of another unit's initiative, at least as similar as the rule says."""
    return other_unit and score >= rules.duplicate_min_score


@dataclass(frozen=True)
class Bunching:
    total: int  # registrations counted for the deadline
    bunched: int  # of which in its last K days
    share: float


def bunching(registered: Iterable[date], after: date, deadline: date, rules: RadarRules) -> Bunching | None:
    """Registrations in (``after``, ``deadline``]: a sign if enough of them fell in the last K days."""
    window = [day for day in registered if after < day <= deadline]
    if len(window) < rules.bunching_min_count:
        return None
    first_bunched = deadline - timedelta(days=rules.bunching_days - 1)
    bunched = sum(1 for day in window if day >= first_bunched)
    share = bunched / len(window)
    return Bunching(len(window), bunched, round(share, 4)) if share >= rules.bunching_min_share else None


def verifiable(evidence: Sequence[str], rules: RadarRules) -> bool:
    """Is any evidence item something a person can check: a link or an uploaded file's hash?"""
    return any(item.strip().lower().startswith(rules.verifiable_evidence_prefixes) for item in evidence)


def met(value: float, target: float, direction: str) -> bool:
    return value >= target if direction == "at_least" else value <= target


def action_overdue(status: str, due_on: date, today: date) -> bool:
    return status == "open" and due_on < today


def awards_to_officials(direct_workers: int, officials: int, rules: RadarRules) -> bool:
    """More of a level's awards went to officials than the rule allows (seed 001: awards aimed at direct
    workers). Fed by the awards service's events; see services/inspections/README.md."""
    total = direct_workers + officials
    return total > 0 and officials / total > rules.awards_max_official_share


# -- risk ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Risk:
    score: float
    reasons: tuple[str, ...]  # the signals behind the score, heaviest first, as a person reads them
    counts: Mapping[str, int] = field(default_factory=dict)


def risk(counts: Mapping[str, int], rules: RadarRules) -> Risk:
    """Weighted occurrences of each signal (each capped, so one signal does not drown the others)."""
    parts = _parts(counts, rules)
    reasons = tuple(f"{SIGNALS.get(signal, signal)}: {count}" for _, signal, count in parts)
    return Risk(_score(parts), reasons, {s: c for _, s, c in parts})


def risk_score(counts: Mapping[str, int], rules: RadarRules) -> float:
    """``risk(counts, rules).score`` without the reasons: the score rows of a level's settling after a
    replay keep only the score, and wording the reasons of every step of 13,000 units was a few percent
    of it."""
    return _score(_parts(counts, rules))


def _parts(counts: Mapping[str, int], rules: RadarRules) -> list[tuple[float, str, int]]:
    """(weighted and capped occurrences, signal, count) of each signal that occurred, heaviest first."""
    parts = []
    for signal, count in counts.items():
        if count <= 0:
            continue
        weight = rules.weights.get(signal, 0.0)
        parts.append((weight * min(count, rules.cap_per_signal), signal, count))
    parts.sort(key=lambda p: (-p[0], p[1]))
    return parts


def _score(parts: list[tuple[float, str, int]]) -> float:
    return round(sum(p[0] for p in parts), 2)  # summed heaviest first, the same order for both callers


@dataclass(frozen=True)
class Candidate:
    unit_id: str
    path: str
    risk: Risk


def risk_sample(candidates: Sequence[Candidate], size: int, rules: RadarRules) -> list[Candidate]:
    """The ``size`` riskiest units at or above the rule's minimum score (ties by path, so it is stable)."""
    eligible = [c for c in candidates if c.risk.score >= rules.risk_min_score]
    eligible.sort(key=lambda c: (-c.risk.score, c.path))
    return eligible[:size]


# -- a reproducible random sample ---------------------------------------------------------------------


def random_sample(unit_ids: Iterable[str], size: int, seed: int) -> list[str]:
    """``size`` units drawn by ordering each id by SHA-256 of ``"<seed>:<unit id>"``.

    Anyone can redraw it from the recorded seed and population, in any language; the same seed over the
    same units always gives the same sample, and a unit's chance does not depend on its name.
    """
    population = sorted(set(unit_ids))
    keyed = sorted(population, key=lambda uid: hashlib.sha256(f"{seed}:{uid}".encode()).hexdigest())
    return sorted(keyed[:size])


def population_digest(unit_ids: Iterable[str]) -> str:
    """SHA-256 of the sorted unit ids (one per line): proves which population a sample was drawn from."""
    return hashlib.sha256("\n".join(sorted(set(unit_ids))).encode()).hexdigest()


# -- the score rows: a unit's signs as a function of the day read --------------------------------------


@dataclass(frozen=True)
class Occurrence:
    """One sign of a unit, active from ``start`` until ``end`` (exclusive)."""

    kind: str
    start: date
    end: date = date.max


@dataclass(frozen=True)
class Step:
    """A unit's count of each sign and its score on every day from ``from_day`` until ``until_day``."""

    from_day: date
    until_day: date
    counts: Mapping[str, int]
    score: float = 0.0


@dataclass(frozen=True)
class Segment:
    """The days a rule set judges the time-dependent signs on: from its effective date to the next one's."""

    start: date
    end: date
    rules: RadarRules


def segments(rule_sets: Sequence[tuple[date, RadarRules]]) -> list[Segment]:
    """(effective date, radar rules) pairs as consecutive segments; the first reaches back to any day."""
    ordered = sorted(rule_sets, key=lambda r: r[0])
    return [
        Segment(date.min if i == 0 else day, ordered[i + 1][0] if i + 1 < len(ordered) else date.max, rules)
        for i, (day, rules) in enumerate(ordered)
    ]


def stale_from(registered_on: date, rules: RadarRules) -> date:
    """The first day on which an initiative registered on ``registered_on`` and never applied is a sign
    (the first day whose ``stale_cutoff`` reaches it; month ends make it a day or two after N months)."""
    day = add_months(registered_on, rules.never_applied_months) - timedelta(days=3)
    while stale_cutoff(day, rules) < registered_on:
        day += timedelta(days=1)
    return day


def never_applied_spans(registered_on: date, spans: Sequence[Segment]) -> list[Occurrence]:
    found = []
    for segment in spans:
        start = max(segment.start, stale_from(registered_on, segment.rules))
        if start < segment.end:
            found.append(Occurrence("never_applied", start, segment.end))
    return found


def awards_spans(direct_workers: int, officials: int, spans: Sequence[Segment]) -> list[Occurrence]:
    """A level's awards of one year, a sign wherever the rules in force find too many went to officials."""
    return [
        Occurrence("awards_to_officials", s.start, s.end)
        for s in spans
        if awards_to_officials(direct_workers, officials, s.rules)
    ]


def steps(occurrences: Iterable[Occurrence], spans: Sequence[Segment]) -> list[Step]:
    """The counts of each sign and the risk score as a step function of the day read: a step each day
    they change or another rule set takes effect, none for the days without any sign."""
    deltas: dict[date, dict[str, int]] = {s.start: {} for s in spans if s.start != date.min}
    for o in occurrences:
        if o.start >= o.end:
            continue
        at = deltas.setdefault(o.start, {})
        at[o.kind] = at.get(o.kind, 0) + 1
        if o.end != date.max:
            at = deltas.setdefault(o.end, {})
            at[o.kind] = at.get(o.kind, 0) - 1
    current: dict[str, int] = {}
    changes: list[tuple[date, dict[str, int], RadarRules]] = []
    for day in sorted(deltas):
        for kind, n in deltas[day].items():
            current[kind] = current.get(kind, 0) + n
        counts = {k: n for k, n in sorted(current.items()) if n > 0}
        rules = next(s.rules for s in reversed(spans) if s.start <= day)
        if not changes or changes[-1][1:] != (counts, rules):
            changes.append((day, counts, rules))
    return [
        Step(day, changes[i + 1][0] if i + 1 < len(changes) else date.max, counts, risk_score(counts, rules))
        for i, (day, counts, rules) in enumerate(changes)
        if counts
    ]
