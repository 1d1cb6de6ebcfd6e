"""Reads of a level's views: the initiative book, counts per unit, the escalation inbox, a unit's and an
author's initiatives, replication orders reaching a unit; served by the level host at
``/levels/{level}/registry/…`` to callers who see the unit read (the level, or a unit below it)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy import Integer, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters.export import book_csv, book_xlsx
from services.registry.adapters.level import WORD_RE
from services.registry.adapters.level_tables import SEARCH_FTS, authors, book, replication_reports, replications, terms
from services.registry.domain.rules import IN_BOOK
from shared import numbers
from shared.errors import NotFound
from shared.level_host import Level, LevelRead
from shared.membership import level_units
from shared.subjects import in_subtree
from shared.subtree import at_or_below
from shared.text import fold

t = book
SEARCH_COUNT_BOUND = 1000
Path400 = Annotated[str | None, Query(max_length=400)]


def _matches(word: str, prefix: bool) -> Any:
    """Initiatives with the word, or a word starting with it (a range over the terms' primary key)."""
    found = (terms.c.term >= word) & (terms.c.term < word + "{") if prefix else terms.c.term == word
    return t.c.initiative_id.in_(select(terms.c.initiative_id).where(found))


def _searched(conn: AsyncConnection, words: list[str]) -> list[Any]:
    """Initiatives with every word; the last (the word being typed, if long enough to be selective)
    may be the start of a word. One FTS5 query on SQLite (its integer matches are checked against the
    book's ordered index), one postings lookup per word elsewhere."""
    prefix = [index == len(words) - 1 and len(word) >= 3 for index, word in enumerate(words)]
    if conn.dialect.name != "sqlite":
        return [_matches(word, p) for word, p in zip(words, prefix, strict=True)]
    query = " ".join(f'"{word}"' + ("*" if p else "") for word, p in zip(words, prefix, strict=True))
    fts = text(f"SELECT rowid FROM {SEARCH_FTS} WHERE {SEARCH_FTS} MATCH :match").bindparams(match=query)
    return [t.c.doc.in_(fts.columns(rowid=Integer))]


def _row(row: Any) -> dict[str, Any]:
    item = dict(row._mapping)
    item.pop("search", None)
    item.pop("doc", None)
    return item


async def read_book(
    conn: AsyncConnection,
    *,
    unit: str | None = None,
    year: int | None = None,
    pillar: str | None = None,
    status: str | None = None,
    scope: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """Every recognised initiative of the subtree (or of one status), newest first, filtered."""
    where = [t.c.status == status] if status else [t.c.in_book == 1]
    if unit:
        where.append(at_or_below(t.c.unit_path, unit))
    if year:
        where.append(t.c.year == year)
    if pillar:
        where.append(t.c.pillar == pillar)
    if scope:
        where.append(t.c.scope == scope)
    words = list(dict.fromkeys(WORD_RE.findall(fold(q or ""))))
    if words:
        where += _searched(conn, words)
    counted = select(t.c.initiative_id).where(*where)
    if words:  # a search counts its matches up to a bound: past it, "more than" is all a reader needs
        counted = counted.limit(SEARCH_COUNT_BOUND + 1)
    total = await conn.scalar(select(func.count()).select_from(counted.subquery()))
    rows = await conn.execute(
        select(t).where(*where).order_by(t.c.recognised_at.desc(), t.c.initiative_id).limit(limit).offset(offset)
    )
    page = {"total": total, "limit": limit, "offset": offset, "items": [_row(r) for r in rows]}
    if words and total > SEARCH_COUNT_BOUND:
        page |= {"total": SEARCH_COUNT_BOUND, "total_is_lower_bound": True}
    return page


async def read_counts(conn: AsyncConnection, under: str | None = None) -> list[dict[str, Any]]:
    """Per unit: registered, recognised, applied, accepted, and the benefit value summed."""
    in_book = t.c.status.in_(IN_BOOK)
    applied = t.c.status.in_(("applied", "accepted"))
    stmt = select(
        t.c.unit_id,
        func.count().label("registered"),
        func.sum(_flag(in_book)).label("recognised"),
        func.sum(_flag(applied)).label("applied"),
        func.sum(_flag(t.c.status == "accepted")).label("accepted"),
        func.sum(_benefit(in_book)).label("benefit_vnd"),
    ).where(t.c.status != "draft")
    if under:
        stmt = stmt.where(at_or_below(t.c.unit_path, under))
    counted = {row.unit_id: row for row in await conn.execute(stmt.group_by(t.c.unit_id))}
    unit_rows = select(level_units).where(level_units.c.status == "active").order_by(level_units.c.path)
    result = []
    for unit in await conn.execute(unit_rows):
        if under and not in_subtree(unit.path, under):
            continue
        row = counted.get(unit.unit_id)
        result.append(
            {
                "unit_id": unit.unit_id, "path": unit.path, "name": unit.name,
                "registered": row.registered if row else 0, "recognised": int(row.recognised or 0) if row else 0,
                "applied": int(row.applied or 0) if row else 0, "accepted": int(row.accepted or 0) if row else 0,
                "benefit_vnd": int(row.benefit_vnd or 0) if row else 0,
            }
        )  # fmt: skip
    return result


def _flag(condition: Any) -> Any:
    return case((condition, 1), else_=0)


def _benefit(condition: Any) -> Any:
    return case((condition, t.c.benefit_vnd), else_=0)


async def read_inbox(conn: AsyncConnection, level: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """Escalation requests waiting at the level's own unit, oldest first, with their age."""
    now = now or datetime.now(UTC)
    rows = await conn.execute(select(t).where(t.c.pending_at_path == level).order_by(t.c.pending_since))
    items = []
    for row in rows:
        since = row.pending_since if row.pending_since.tzinfo else row.pending_since.replace(tzinfo=UTC)
        age = now - since
        items.append({**_row(row), "age_seconds": int(age.total_seconds()), "age_days": age.days})
    return items


async def read_initiative(conn: AsyncConnection, initiative_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(t).where(t.c.initiative_id == initiative_id))).first()
    return None if row is None else _row(row)


async def read_by_author(conn: AsyncConnection, member_id: str) -> list[dict[str, Any]]:
    """An author's view: their initiatives with status, scope and every decision taken."""
    ids = select(authors.c.initiative_id).where(authors.c.member_id == member_id)
    rows = await conn.execute(select(t).where(t.c.initiative_id.in_(ids)).order_by(t.c.registered_at.desc()))
    return [_row(r) for r in rows]


async def read_replications(conn: AsyncConnection, unit_path: str) -> list[dict[str, Any]]:
    """Replication orders reaching the unit (from its level or any above), with whether it reported."""
    reached = []
    for row in await conn.execute(select(replications).order_by(replications.c.ordered_at)):
        targets = row.target_paths or [row.by_unit_path]
        if in_subtree(unit_path, row.by_unit_path) and any(in_subtree(unit_path, p) for p in targets):
            reached.append(dict(row._mapping))
    if not reached:
        return []
    reports = select(replication_reports.c.initiative_id).where(replication_reports.c.unit_path == unit_path)
    done = {initiative_id for (initiative_id,) in await conn.execute(reports)}
    return [{**item, "applied_here": item["initiative_id"] in done} for item in reached]


async def read_replication_reach(conn: AsyncConnection, initiative_id: str) -> list[str]:
    rows = await conn.execute(
        select(replication_reports.c.unit_path).where(replication_reports.c.initiative_id == initiative_id)
    )
    return sorted(path for (path,) in rows)


router = APIRouter(prefix="/registry", tags=["registry level"])


async def _book(read: LevelRead, unit: str | None, **filters: Any) -> dict[str, Any]:
    """The book of ``unit`` (default: what the caller sees of the level)."""
    path = read.unit(unit)
    async with read.db.reader.connect() as conn:
        page = await read_book(conn, unit=None if path == read.level else path, **filters)
    return {"level": read.level, **page}


@router.get("/book")
async def get_book(
    read: Level, unit: Path400 = None, year: Annotated[numbers.YearQuery | None, Query()] = None,
    pillar: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    scope: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[numbers.Limit, Query()] = 50, offset: Annotated[numbers.Offset, Query()] = 0,
) -> dict[str, Any]:  # fmt: skip
    """The initiative book (recognised initiatives; or those of one status), newest first, searchable."""
    return await _book(
        read, unit, year=year, pillar=pillar, status=status, scope=scope, q=q, limit=limit, offset=offset
    )


CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _file(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI of an export: a file of ``media_type`` (not JSON), for agencies' clients and the fuzzer."""
    return {200: {"description": what, "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}}


@router.get("/book.csv", response_class=Response, responses=_file(CSV, "The book as CSV (UTF-8 with BOM)"))
async def get_book_csv(
    read: Level, unit: Path400 = None, year: Annotated[numbers.YearQuery | None, Query()] = None
) -> Response:
    page = await _book(read, unit, year=year, limit=100_000)
    return Response(
        book_csv(page["items"]),
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="so-vang-sang-kien-{read.level}.csv"'},
    )


@router.get("/book.xlsx", response_class=Response, responses=_file(XLSX, "The book as an Excel workbook"))
async def get_book_xlsx(
    read: Level, unit: Path400 = None, year: Annotated[numbers.YearQuery | None, Query()] = None
) -> Response:
    page = await _book(read, unit, year=year, limit=100_000)
    return Response(
        book_xlsx(page["items"], read.level),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="so-vang-sang-kien-{read.level}.xlsx"'},
    )


@router.get("/counts")
async def get_counts(read: Level, under: Path400 = None) -> dict[str, Any]:
    path = read.unit(under, "under")
    async with read.db.reader.connect() as conn:
        return {"level": read.level, "units": await read_counts(conn, None if path == read.level else path)}


@router.get("/inbox")
async def get_inbox(read: Level) -> dict[str, Any]:
    """Escalation requests waiting at the level's own unit (for its officials and the levels above)."""
    read.require_level()
    async with read.db.reader.connect() as conn:
        return {"level": read.level, "items": await read_inbox(conn, read.level)}


@router.get("/initiatives/{initiative_id}")
async def get_initiative(read: Level, initiative_id: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
    async with read.db.reader.connect() as conn:
        found = await read_initiative(conn, initiative_id)
    if found is None or not read.caller.sees(found["unit_path"]):
        raise NotFound(f"initiative {initiative_id} is not in the level {read.level} within your unit's subtree")
    return found


@router.get("/authors/{member_id}")
async def get_author(read: Level, member_id: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
    """An author's initiatives, as far as the caller sees (an author sees their own anywhere in the level)."""
    async with read.db.reader.connect() as conn:
        items = await read_by_author(conn, member_id)
    if member_id != read.caller.subject:
        items = [item for item in items if read.caller.sees(item["unit_path"])]
    return {"level": read.level, "items": items}


@router.get("/replications")
async def get_replications(read: Level, unit: Annotated[str, Query(max_length=400)]) -> dict[str, Any]:
    path = read.unit(unit)
    async with read.db.reader.connect() as conn:
        return {"level": read.level, "unit": path, "items": await read_replications(conn, path)}
