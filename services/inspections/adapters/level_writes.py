"""Writes the inspections projection puts off to the end of its batch (``level.InspectionsProjection.flush``),
inside the batch's own transaction: a crash loses them with the batch, and the batch is applied again.

A replay runs one or two statements per event otherwise, each paying SQLAlchemy's and the driver's cost
per call; put off, a batch's statements of one kind go to the database as one ``executemany``.

- ``Writes``: statements in the order the handlers gave them, per table; consecutive ones that are the
  same statement go as one ``executemany``. Both drivers run an ``executemany`` row by row, in order
  (neither folds it into one multi-row statement), so the rows of a table end as if each had run at
  once, provided nothing read or wrote that table in between: a handler that touches the database
  directly first writes what is put off (``PutOff._written``).
- ``InitiativeChanges``: what the registry's events do to initiatives, kept per initiative in order and
  applied at the write to the rows as they are (read in one statement), then written back in one
  statement each for new and changed rows. It does exactly what running each event's statement would:
  a registration adds the row unless it exists, a status change moves an existing row (a later
  recognition never undoes an application; ``applied_on`` keeps the earliest day).
"""

import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.inspections.adapters.tables import commitments, counts, initiatives, targets
from shared.bulk import executemany

_CHUNK = 500


class Writes:
    """Statements put off, in order per table (tables share no keys, triggers or foreign keys)."""

    def __init__(self) -> None:
        self._runs: dict[Table, list[tuple[Any, list[dict[str, Any]]]]] = {}

    def __bool__(self) -> bool:
        return bool(self._runs)

    def add(self, table: Table, statement: Any, params: dict[str, Any]) -> None:
        """``statement`` built once (the same object for every event): consecutive ones go together."""
        runs = self._runs.setdefault(table, [])
        if runs and runs[-1][0] is statement:
            runs[-1][1].append(params)
        else:
            runs.append((statement, [params]))

    async def write(self, conn: AsyncConnection) -> None:
        runs, self._runs = self._runs, {}
        for table_runs in runs.values():
            for statement, rows in table_runs:
                await executemany(conn, statement, rows)

    def clear(self) -> None:
        self._runs.clear()


# Status ranks: an event moving an initiative to a status keeps any status ranked above it.
STATUS_RANK = {"registered": 1, "returned": 1, "rejected": 1, "recognised": 2, "applied": 3, "accepted": 4}


@functools.cache  # once per status: it is asked for every status change of a replay
def ahead(new: str) -> tuple[str, ...]:
    """The statuses an initiative keeps when an event would move it to ``new`` (a decision sends it back
    whatever it was)."""
    if new in ("returned", "rejected", "registered"):
        return ()
    return tuple(status for status, rank in STATUS_RANK.items() if rank > STATUS_RANK.get(new, 0))


@dataclass(frozen=True)
class Registration:
    row: dict[str, Any]  # every column of the initiative's row


@dataclass(frozen=True)
class StatusChange:
    new: str
    values: dict[str, Any] = field(default_factory=dict)  # title, applied_on, recognised
    # A recognition is counted once: this count is made if the initiative was not recognised before it.
    count_unless_recognised: tuple[str, str, date, str] | None = None


Change = Registration | StatusChange
_INSERT = insert(initiatives)
# Built once: an IN list built per batch coerced each of its hundreds of ids on the way.
_STORED = select(initiatives).where(initiatives.c.initiative_id.in_(bindparam("ids", expanding=True)))
_CHANGING = ("initiative_id", "title", "status", "applied_on", "recognised")  # what a status change may change
_UPDATE = (
    update(initiatives)
    .where(initiatives.c.initiative_id == bindparam("b_initiative_id"))
    .values({c: bindparam(f"b_{c}", type_=initiatives.c[c].type) for c in _CHANGING[1:]})
)


def changed(row: dict[str, Any], change: StatusChange) -> None:
    """``change`` made to ``row`` as the status statement would make it."""
    if row["status"] not in ahead(change.new):
        row["status"] = change.new
    for column, value in change.values.items():
        if column == "applied_on" and row["applied_on"] is not None and row["applied_on"] <= value:
            continue  # the first application's day: the earliest
        row[column] = value


class InitiativeChanges:
    def __init__(self) -> None:
        self._changes: dict[str, list[Change]] = {}

    def __bool__(self) -> bool:
        return bool(self._changes)

    def add(self, initiative_id: str, change: Change) -> None:
        self._changes.setdefault(initiative_id, []).append(change)

    def clear(self) -> None:
        self._changes.clear()

    async def write(
        self,
        conn: AsyncConnection,
        touched: Callable[..., None],
        count: Callable[[tuple[str, str, date, str]], None],
    ) -> None:
        """Apply the changes to the rows as they are and write the rows they made or changed; ``touched``
        gets the units of rows a status change reached, ``count`` the recognitions counted."""
        changes, self._changes = self._changes, {}
        ids = sorted(changes)
        stored: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), _CHUNK):
            rows = await conn.execute(_STORED, {"ids": ids[start : start + _CHUNK]})
            stored |= {row.initiative_id: dict(row._mapping) for row in rows}
        new, moved = [], []
        for initiative_id, steps in changes.items():
            before = stored.get(initiative_id)
            row = dict(before) if before is not None else None
            for step in steps:
                if isinstance(step, Registration):
                    row = row if row is not None else dict(step.row)  # delivered again: nothing changes
                    continue
                if step.count_unless_recognised is not None and not (row is not None and row["recognised"]):
                    count(step.count_unless_recognised)
                if row is not None:
                    changed(row, step)
                    touched(row["unit_id"])
            if row is None:
                continue
            if before is None:
                new.append(row)
            elif row != before:
                moved.append({f"b_{k}": row[k] for k in _CHANGING})
        await executemany(conn, _INSERT, new)
        await executemany(conn, _UPDATE, moved)


# A unit's targets or commitments for a campaign are replaced by the latest event's.
_REPLACE = {
    table: delete(table).where(table.c.campaign_id == bindparam("campaign"), table.c.unit_id == bindparam("unit"))
    for table in (targets, commitments)
}
_INSERT_GOALS = {table: insert(table) for table in (targets, commitments)}


@functools.cache
def _add_counts(dialect: str) -> Any:
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(counts)
    return stmt.on_conflict_do_update(
        index_elements=[counts.c.unit_id, counts.c.source, counts.c.day, counts.c.campaign_key],
        set_={"n": counts.c.n + stmt.excluded.n},
    )


class PutOff:
    """What every part of the level projection shares: the writes it puts off to the end of the batch,
    and the units whose score rows are rebuilt then."""

    _dirty: set[str]  # units whose score rows (adapters/risk.py) are rebuilt at the batch's flush
    _counts: defaultdict[tuple[str, str, date, str], int]  # counted events, added up
    _goals: dict[tuple[Table, str, str], list[dict[str, Any]]]  # (table, campaign, unit): its rows now
    _initiative_changes: InitiativeChanges
    _writes: Writes

    def _put_off_nothing(self) -> None:
        self._dirty, self._counts, self._goals = set(), defaultdict(int), {}
        self._initiative_changes, self._writes = InitiativeChanges(), Writes()

    def _forget_put_off(self) -> None:
        self._counts.clear()
        self._goals.clear()
        self._initiative_changes.clear()
        self._writes.clear()

    def _touched(self, *unit_ids: str | None) -> None:
        for unit_id in unit_ids:  # (a loop: a generator per call cost more, at one call or two per event)
            if unit_id:
                self._dirty.add(unit_id)

    def _counted(self, key: tuple[str, str, date, str]) -> None:
        self._counts[key] += 1

    async def _written(self, conn: AsyncConnection) -> None:
        """Write what is put off: before any statement of a handler on these tables, and at the flush."""
        if self._initiative_changes:  # first: a recognition it counts is written with the counts
            await self._initiative_changes.write(conn, self._touched, self._counted)
        if self._goals:
            goals, self._goals = self._goals, {}
            for table in (targets, commitments):
                keys = [{"campaign": c, "unit": u} for t, c, u in goals if t is table]
                await executemany(conn, _REPLACE[table], keys)
                rows = [row for (t, _, _), kept in goals.items() if t is table for row in kept]
                await executemany(conn, _INSERT_GOALS[table], rows)
        if self._counts:
            rows = [
                {"unit_id": u, "source": s, "day": d, "campaign_key": c, "n": n}
                for (u, s, d, c), n in self._counts.items()
            ]
            self._counts.clear()
            await executemany(conn, _add_counts(conn.dialect.name), rows)
        if self._writes:
            await self._writes.write(conn)
