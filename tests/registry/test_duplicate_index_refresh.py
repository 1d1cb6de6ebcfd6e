"""The duplicate index's refresh under a burst of registrations: a caller whose wait saw a fresh refresh
begin reads nothing again, every text stored before a caller asked is in the index when its refresh returns,
and every connection goes back to the pool. Real SQLite through the platform's pool,
on driver threads (as PostgreSQL, each read awaits; the inline SQLite driver never yields mid-refresh)."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import event, insert

from services.registry.adapters.duplicates import DuplicateIndex
from services.registry.adapters.records import metadata, texts
from shared.db import open_database


def row(n: int) -> dict[str, object]:
    return {"initiative_id": f"i-{n}", "unit_id": "u", "city": "hn", "title": f"Sáng kiến {n}",
            "text": f"Ứng dụng mã QR số {n} trong quản lý đoàn viên"}  # fmt: skip


async def test_a_burst_of_refreshes_reads_once_and_finds_what_was_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THIDUA_SQLITE_THREADS", "1")
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/registry.db", pool_size=10)
    try:
        async with db.writer.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(insert(texts), [row(n) for n in range(3)])
        out, reads = 0, 0

        def checkout(*_: object) -> None:
            nonlocal out
            out += 1

        def checkin(*_: object) -> None:
            nonlocal out
            out -= 1

        def counted(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            nonlocal reads
            reads += "registry_similarity_texts" in statement

        event.listen(db.reader.sync_engine.pool, "checkout", checkout)
        event.listen(db.reader.sync_engine.pool, "checkin", checkin)
        event.listen(db.reader.sync_engine, "before_cursor_execute", counted)
        index = DuplicateIndex()
        await asyncio.gather(*(index.refresh(db.reader) for _ in range(20)))
        assert reads <= 2  # one read, and at most one more for the callers that asked while it ran
        assert out == 0
        assert set(index.docs) == {"i-0", "i-1", "i-2"}

        async with db.writer.begin() as conn:
            await conn.execute(insert(texts), [row(3)])
        await index.refresh(db.reader)  # asked after the last refresh began: it reads again
        assert "i-3" in index.docs and index.seen == 4
    finally:
        await db.dispose()
