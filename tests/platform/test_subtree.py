"""``shared.subtree``: a unit's subtree is exactly the paths under it, read through the path index."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Index, MetaData, String, Table, insert, select, text

from shared.db import Database, open_database
from shared.subtree import at_or_below, below

metadata = MetaData()
units = Table("subtree_units", metadata, Column("unit_id", String, primary_key=True), Column("path", String))
Index("ix_subtree_units_path", units.c.path)

PATHS = ["hn", "hn.ntl", "hn.ntl.fecon", "hn.ntl.fecon.to-1", "hn.ntl-x", "hn.ntlx", "hn.ntl0", "hn.dd", "hn.dd.ntl"]


@pytest.fixture
async def db(store_url: str) -> AsyncIterator[Database]:
    db = open_database(store_url)
    async with db.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(insert(units), [{"unit_id": f"u{n}", "path": p} for n, p in enumerate(PATHS)])
        await conn.execute(insert(units), [{"unit_id": f"filler{n}", "path": f"hn.z{n:05d}"} for n in range(2000)])
        if db.is_postgres:
            await conn.execute(text("ANALYZE subtree_units"))
    yield db
    await db.dispose()


async def _paths(db: Database, condition: object) -> set[str]:
    async with db.reader.connect() as conn:
        return set((await conn.scalars(select(units.c.path).where(condition))).all())  # type: ignore[arg-type]


async def test_the_subtree_holds_its_descendants_and_no_sibling_sharing_a_prefix(db: Database) -> None:
    assert await _paths(db, at_or_below(units.c.path, "hn.ntl")) == {"hn.ntl", "hn.ntl.fecon", "hn.ntl.fecon.to-1"}
    assert await _paths(db, below(units.c.path, "hn.ntl")) == {"hn.ntl.fecon", "hn.ntl.fecon.to-1"}
    assert await _paths(db, below(units.c.path, "hn.ntl.fecon.to-1")) == set()


async def _plan(db: Database, condition: object) -> str:
    async with db.reader.connect() as conn:
        sql = str(
            select(units.c.unit_id).where(condition).compile(conn.sync_engine, compile_kwargs={"literal_binds": True})
        )  # type: ignore[arg-type]
        if db.is_postgres:
            await conn.execute(text("SET enable_seqscan = off"))  # a small table: ask whether an index *can* serve
            return "\n".join((await conn.exec_driver_sql("EXPLAIN " + sql)).scalars())
        return "\n".join(str(row[-1]) for row in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


async def test_the_subtree_is_read_through_the_path_index_where_like_scans(db: Database) -> None:
    plan = await _plan(db, at_or_below(units.c.path, "hn.ntl"))
    assert "ix_subtree_units_path" in plan, plan
    if not db.is_postgres:
        assert "SCAN subtree_units" not in plan, plan
        assert "SCAN subtree_units" in await _plan(
            db, units.c.path.like("hn.ntl.%")
        )  # the baseline: LIKE reads every row
