"""The radar's score rows (``tables.risk``): each accountable unit's count of every sign and its risk
score as a step function of the day read, rebuilt from its facts when they change, so a radar read is
one ordered, paged statement over one row per unit instead of counting every sign of every unit and
scoring them in Python on each read (see tests/benchmarks/inspections.py).

A unit's rows add up its own facts and those of the units that count for it (``tables.owners``): fixed
signs (``signals``: active from their day), initiatives never applied (a sign from N months after
registration, N as the rules in force on the day read say), open corrective actions (a sign from the day
after their due date) and, for a level, the years its awards went mostly to officials. Thresholds,
weights and caps are data: ``rebuild_if_rules_changed`` rebuilds every row when the rule sets the rows
were built by are not the ones deployed.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from sqlalchemy import case, delete, func, insert, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from services.inspections.adapters.bulk import CHUNK, WHOLE, rows_of
from services.inspections.adapters.tables import actions, awarded, initiatives, owners, risk, risk_rules, signals
from services.inspections.domain import radar
from services.inspections.domain.rulesets import RULE_SETS, SIGNALS, RuleSet
from shared.bulk import executemany

_INSERT = insert(risk)


def rule_segments(rule_sets: Sequence[RuleSet] = RULE_SETS) -> list[radar.Segment]:
    return radar.segments([(r.effective_from, r.radar) for r in rule_sets])


def fingerprint(spans: Sequence[radar.Segment]) -> str:
    """The rules the rows were built by: every radar rule of every rule set, and the signs counted."""
    parts = [f"{s.start}:{s.rules!r}" for s in spans] + [",".join(SIGNALS)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


async def owners_of(conn: AsyncConnection, unit_ids: Iterable[str]) -> dict[str, str]:
    """unit → the unit its signs count for now (itself unless the directory said otherwise)."""
    ids = sorted(set(unit_ids))
    found = {uid: uid for uid in ids}
    found |= {uid: owner for uid, owner in await rows_of(conn, select(owners), owners.c.unit_id, ids)}
    return found


async def rescore(conn: AsyncConnection, unit_ids: Iterable[str], spans: Sequence[radar.Segment]) -> None:
    """Rebuild the score rows of the units these units' signs count for (and drop the rows of any that
    no longer counts for itself). Many units (a level settling after a replay) are rebuilt in one pass."""
    owner = await owners_of(conn, unit_ids)
    accountable = sorted(set(owner.values()) | {u for u, o in owner.items() if o != u})
    step = len(accountable) if len(accountable) > WHOLE else CHUNK
    for start in range(0, len(accountable), step):
        await _rescore(conn, accountable[start : start + step], spans)


async def _rescore(conn: AsyncConnection, chunk: list[str], spans: Sequence[radar.Segment]) -> None:
    await _drop_rows(conn, chunk)
    mine = set(chunk)
    rows = await rows_of(conn, select(owners), owners.c.owner_id, mine)
    rows += await rows_of(conn, select(owners), owners.c.unit_id, mine)
    counted_for = {uid: uid for uid in chunk} | {uid: owner for uid, owner in rows}
    found: dict[str, list[radar.Occurrence]] = defaultdict(list)  # by the unit they count for
    sources = sorted(uid for uid, owner in counted_for.items() if owner in mine)
    for unit_id, occurrence in await _occurrences(conn, sources, spans):
        found[counted_for[unit_id]].append(occurrence)
    values = [
        {
            "unit_id": unit_id,
            "from_day": step.from_day,
            "until_day": step.until_day,
            "score": step.score,
            **{kind: step.counts.get(kind, 0) for kind in SIGNALS},
        }
        for unit_id, occurrences in found.items()
        if counted_for[unit_id] == unit_id
        for step in radar.steps(occurrences, spans)
    ]
    await executemany(conn, _INSERT, values)


async def _drop_rows(conn: AsyncConnection, unit_ids: list[str]) -> None:
    """Delete the units' score rows (of many units, only those of units that have any: after a replay
    from the start, none has)."""
    if len(unit_ids) > WHOLE:
        held = {uid for (uid,) in await conn.execute(select(risk.c.unit_id).distinct())}
        unit_ids = sorted(held.intersection(unit_ids))
    for start in range(0, len(unit_ids), CHUNK):
        await conn.execute(delete(risk).where(risk.c.unit_id.in_(unit_ids[start : start + CHUNK])))


async def _occurrences(
    conn: AsyncConnection, ids: list[str], spans: Sequence[radar.Segment]
) -> list[tuple[str, radar.Occurrence]]:
    """Every sign of these units, each with the unit it belongs to."""
    found: list[tuple[str, radar.Occurrence]] = []
    query = select(signals.c.unit_id, signals.c.kind, signals.c.active_from)
    rows = await rows_of(conn, query, signals.c.unit_id, ids)
    found += [(unit_id, radar.Occurrence(kind, active_from)) for unit_id, kind, active_from in rows]
    query = select(initiatives.c.unit_id, initiatives.c.registered_on).where(
        initiatives.c.applied_on.is_(None),
        initiatives.c.registered_on.is_not(None),
        initiatives.c.status != "rejected",
    )
    spans_from: dict[date, list[radar.Occurrence]] = {}  # a city's initiatives share a few hundred days
    for u, registered_on in await rows_of(conn, query, initiatives.c.unit_id, ids):
        if registered_on not in spans_from:
            spans_from[registered_on] = radar.never_applied_spans(registered_on, spans)
        found += [(u, o) for o in spans_from[registered_on]]
    query = select(actions.c.unit_id, actions.c.due_on).where(actions.c.status == "open")
    rows = await rows_of(conn, query, actions.c.unit_id, ids)
    found += [(u, radar.Occurrence("action_overdue", due_on + timedelta(days=1))) for u, due_on in rows]
    officials = func.sum(case((awarded.c.official, 1), else_=0))
    query = select(awarded.c.by_unit_id, func.count(), officials).group_by(awarded.c.by_unit_id, awarded.c.year)
    rows = await rows_of(conn, query, awarded.c.by_unit_id, ids)
    found += [
        (u, o) for u, total, to_officials in rows for o in radar.awards_spans(total - to_officials, to_officials, spans)
    ]
    return found


async def scored_units(conn: AsyncConnection) -> list[str]:
    """Every unit with a fact that may make a sign."""
    query = union(
        select(signals.c.unit_id),
        select(initiatives.c.unit_id).where(initiatives.c.applied_on.is_(None)),
        select(actions.c.unit_id).where(actions.c.status == "open"),
        select(awarded.c.by_unit_id),
        select(risk.c.unit_id),
    )
    return [uid for (uid,) in await conn.execute(query)]


async def rebuild_if_rules_changed(conn: AsyncConnection, spans: Sequence[radar.Segment]) -> bool:
    """Rebuild every score row if the rows were built by other rules (or never built); True if it did."""
    wanted = fingerprint(spans)
    built = await conn.scalar(select(risk_rules.c.fingerprint).where(risk_rules.c.name == "radar"))
    if built == wanted:
        return False
    await rescore(conn, await scored_units(conn), spans)
    await conn.execute(delete(risk_rules).where(risk_rules.c.name == "radar"))
    await conn.execute(insert(risk_rules).values(name="radar", fingerprint=wanted))
    return True
