"""The proposals' records of the older shape (the filing's and the judgement's JSON in the row) are narrowed
at start-up, on SQLite and PostgreSQL: the first level's id kept in its own column, the JSON dropped, the
rows kept; a second start finds nothing to do."""

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, MetaData, Table, inspect, select

from services.awards.adapters.records import metadata, proposals, upgrade, waiting_upward
from shared.db import open_database

FILED = {"proposal_id": "p-1", "level": {"unit_id": "u-hn-ntl-fecon", "path": "hn.ntl.fecon"}}


def _older() -> Table:
    """``awards_proposals`` as it was before 2026-11-30."""
    kept = [
        Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
        for c in proposals.columns
        if c.name != "first_level_unit_id"
    ]
    return Table(
        proposals.name,
        MetaData(),
        *kept,
        Column("filed", JSON, nullable=False),
        Column("eligibility", JSON, nullable=False),
    )


def _row(pid: str, **more: object) -> dict:
    return {
        "proposal_id": pid, "unit_id": "u-hn-ntl-fecon", "level_unit_id": "u-hn-ntl", "inbox_unit_id": None,
        "nominee_id": "m-an", "nominee_kind": "individual", "nominee_name": "Nguyễn Văn An", "award_code": "cstd_cs",
        "year": 2025, "track": "state", "category": "overall", "status": "accepted", "outcome": "met",
        "flagged": False, "rule_set": "state@2025-07-01", "campaign_id": None, "attested": [], "evidence": [],
        "judgement": "0" * 32, "version": 3, "updated_at": datetime.now(UTC),
    } | more  # fmt: skip


async def test_the_older_rows_are_narrowed_at_start_up_and_kept(store_url: str) -> None:
    db = open_database(store_url)
    try:
        older = _older()
        async with db.writer.begin() as conn:
            await conn.run_sync(older.metadata.create_all)
            await conn.execute(older.insert().values(**_row("p-1", filed=FILED, eligibility={"outcome": "met"})))
        for _ in range(2):  # the start-up, twice: the second finds the current shape
            async with db.writer.begin() as conn:
                await conn.run_sync(metadata.create_all)
                await conn.run_sync(upgrade)
        async with db.writer.begin() as conn:
            columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns(proposals.name)})
            assert columns == set(proposals.c.keys())
            first = await conn.scalar(select(proposals.c.first_level_unit_id).where(proposals.c.proposal_id == "p-1"))
            assert first == "u-hn-ntl-fecon"
            # Handled above the level that first handled it: the settling of the tree still finds it.
            assert await waiting_upward(conn) == [("p-1", "u-hn-ntl-fecon", "u-hn-ntl")]
            await conn.execute(proposals.insert().values(**_row("p-2", first_level_unit_id="u-hn-ntl")))
            assert await waiting_upward(conn) == [("p-1", "u-hn-ntl-fecon", "u-hn-ntl")]
    finally:
        await db.dispose()
