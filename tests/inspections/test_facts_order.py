"""The facts a checklist is pre-filled from list their items in one order whatever order the database
keeps them in: commitments by campaign and indicator, initiatives without a registration day first (by
id), then by day and id — read for a level's whole subtree or for named unions (real SQLite)."""

import random
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import insert

from services.inspections.adapters import tables as t
from services.inspections.adapters.facts import FactsReader
from services.inspections.domain.selfinspection import period_window
from shared.db import Database, open_database
from shared.directory_copy import metadata as copy_metadata
from shared.directory_copy import units

CAMPAIGNS = ("c-b", "c-a")
DAYS = (None, date(2025, 3, 1), date(2025, 1, 5), None, date(2025, 3, 1), date(2024, 12, 30))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/facts.db")
    async with db.writer.begin() as conn:
        await conn.run_sync(t.metadata.create_all)
        await conn.run_sync(copy_metadata.create_all)
        unit_rows = [("hn", None, "hn", "city_federation")] + [
            (f"g{n}", "hn", f"hn.g{n}", "grassroots_union") for n in range(3)
        ]
        await conn.execute(insert(units), [
            {"unit_id": uid, "code": path.rsplit(".", 1)[-1], "name": uid, "kind": kind, "parent_id": parent,
             "path": path, "status": "active", "merged_into": None}
            for uid, parent, path, kind in unit_rows
        ])  # fmt: skip
        await conn.execute(insert(t.campaigns), [
            {"campaign_id": cid, "launcher_path": "hn", "title": cid, "starts_on": date(2025, 1, 1),
             "ends_on": date(2025, 12, 31), "status": "open", "report_deadlines": [],
             "indicators": [{"code": code, "name": code, "unit_of_measure": "x", "direction": "at_least",
                             "method": "reported", "source": None, "evidence_required": None}
                            for code in ("z", "a")]}
            for cid in CAMPAIGNS
        ])  # fmt: skip
        rng = random.Random(9)
        commitments = [
            {"campaign_id": cid, "unit_id": f"g{n}", "indicator": code, "target": 1, "deadline": date(2025, 11, 30)}
            for n in range(3) for cid in CAMPAIGNS for code in ("z", "a")
        ]  # fmt: skip
        rng.shuffle(commitments)
        await conn.execute(insert(t.commitments), commitments)
        initiatives = [
            {"initiative_id": f"g{n}-{chr(ord('f') - i)}", "unit_id": f"g{n}", "title": "x", "campaign_id": None,
             "status": "registered", "registered_on": day, "applied_on": None, "recognised": False}
            for n in range(3) for i, day in enumerate(DAYS)
        ]  # fmt: skip
        rng.shuffle(initiatives)
        await conn.execute(insert(t.initiatives), initiatives)
    yield db
    await db.dispose()


@pytest.mark.parametrize("path", ["hn", None])
async def test_items_come_in_one_order_whatever_the_database_keeps(db: Database, path: str | None) -> None:
    found = await FactsReader(db, units).for_units(["g0", "g1", "g2"], period_window(2025, "year"), path=path)
    for n in range(3):
        facts = found[f"g{n}"]
        assert [(c.campaign_id, c.indicator) for c in facts.commitments] == [
            ("c-a", "a"), ("c-a", "z"), ("c-b", "a"), ("c-b", "z")
        ]  # fmt: skip
        assert [(i.registered_on, i.initiative_id[3:]) for i in facts.initiatives] == [
            (None, "c"), (None, "f"), (date(2024, 12, 30), "a"), (date(2025, 1, 5), "d"),
            (date(2025, 3, 1), "b"), (date(2025, 3, 1), "e"),
        ]  # fmt: skip
