"""Statements of the level projection over many rows or many units at once.

``rows_of``: a query's rows for a set of units. A few units are read by IN lists; every unit of a level
(its settling after a replay: the final rescore and judgements) by one read of the query, kept here by
unit: SQLAlchemy builds and renders an IN list's parameters one by one, a fifth of that settling.
"""

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.ext.asyncio import AsyncConnection

CHUNK = 500  # ids per IN list
WHOLE = 2_000  # more units than this: one read of the query


async def rows_of(
    conn: AsyncConnection, query: Select[Any], column: ColumnElement[Any], ids: Collection[str]
) -> list[Any]:
    """The rows of ``query`` whose ``column`` (one of the columns it selects) is one of ``ids``."""
    if len(ids) > WHOLE:
        at = next(i for i, selected in enumerate(query.selected_columns) if selected is column)
        wanted = set(ids)
        return [row for row in (await conn.execute(query)).all() if row[at] in wanted]
    listed, found = list(ids), []
    for start in range(0, len(listed), CHUNK):
        found += (await conn.execute(query.where(column.in_(listed[start : start + CHUNK])))).all()
    return found
