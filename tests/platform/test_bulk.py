"""``shared/bulk.executemany``: rows through the SQLite driver, converted as SQLAlchemy would convert them,
failing as SQLAlchemy would fail (the event store's group commit and the inspections level use it)."""

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Table, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError, OperationalError

from shared import bulk
from shared.db import Database, driver_errors, open_database, unavailable_reason

metadata = MetaData()
stamps = Table(
    "stamps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("day", Date, nullable=False),
)
DIALECT = sqlite.dialect()
ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-3, minutes=-30))])


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/bulk.db")
    async with db.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield db
    await db.dispose()


def processor(type_: object) -> object:
    return type_.dialect_impl(DIALECT).bind_processor(DIALECT)  # type: ignore[attr-defined]


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59), timezones=ZONES))
def test_a_time_is_written_as_sqlalchemys_sqlite_processor_writes_it(value: datetime) -> None:
    """The quick path writes the wall-clock parts with six digits of microseconds, any zone dropped."""
    process = processor(DateTime(timezone=True))
    assert bulk._quicker(process, DateTime(timezone=True), DIALECT)(value) == process(value)  # type: ignore[operator]


@given(st.dates())
def test_a_day_is_written_as_sqlalchemys_sqlite_processor_writes_it(value: date) -> None:
    process = processor(Date())
    assert bulk._quicker(process, Date(), DIALECT)(value) == process(value)  # type: ignore[operator]


async def test_rows_go_in_as_sqlalchemy_would_write_them_and_read_back_alike(db: Database) -> None:
    rows = [
        {"id": 1, "at": datetime(2026, 12, 1, 9, 30, 0, 5, tzinfo=UTC), "day": date(2026, 12, 1)},
        {"id": 2, "at": datetime(2026, 12, 1, 16, 30, tzinfo=timezone(timedelta(hours=7))), "day": date(999, 1, 2)},
    ]
    async with db.writer.begin() as conn:
        await bulk.executemany(conn, insert(stamps), rows)
        await conn.execute(insert(stamps), [{**row, "id": row["id"] + 10} for row in rows])
    async with db.reader.connect() as conn:
        raw = (await conn.exec_driver_sql("SELECT id, at, day FROM stamps ORDER BY id")).all()
    assert [tuple(row[1:]) for row in raw[:2]] == [tuple(row[1:]) for row in raw[2:]]  # the same text
    assert raw[0][1:] == ("2026-12-01 09:30:00.000005", "2026-12-01")
    assert raw[1][1:] == ("2026-12-01 16:30:00.000000", "0999-01-02")


async def test_a_broken_constraint_is_sqlalchemys_integrity_error_and_the_transaction_writes_nothing(
    db: Database,
) -> None:
    """The event store falls back to committing a batch's commands one by one on an IntegrityError: the
    driver's own error would escape that and fail the whole batch."""
    row = {"id": 1, "at": datetime(2026, 12, 1, tzinfo=UTC), "day": date(2026, 12, 1)}
    with pytest.raises(IntegrityError) as broken:
        async with db.writer.begin() as conn:
            await bulk.executemany(conn, insert(stamps), [row, {**row, "id": 2}, row])
    assert "UNIQUE constraint failed: stamps.id" in str(broken.value.orig)
    assert broken.value.statement.startswith("INSERT INTO stamps")
    async with db.reader.connect() as conn:
        assert (await conn.execute(select(stamps))).all() == []


async def test_no_rows_write_nothing_and_a_statement_sqlalchemy_must_complete_goes_through_it(db: Database) -> None:
    """A statement whose rows leave out a column SQLAlchemy fills in has no plan: SQLAlchemy runs it."""
    async with db.writer.begin() as conn:
        await bulk.executemany(conn, insert(stamps), [])
        assert bulk._plan(DIALECT, insert(stamps).values(day=date(2026, 1, 1)), ("id", "at")) is None
        await bulk.executemany(
            conn, insert(stamps).values(day=date(2026, 1, 1)), [{"id": 5, "at": datetime(2026, 1, 1, tzinfo=UTC)}]
        )
    async with db.reader.connect() as conn:
        assert (await conn.execute(select(stamps.c.id, stamps.c.day))).all() == [(5, date(2026, 1, 1))]


async def test_a_statement_sent_past_sqlalchemy_fails_as_sqlalchemy_would_report_it(db: Database) -> None:
    """``driver_errors``: the service answers a ``DBAPIError`` of a lost database with 503 and Retry-After;
    the driver's own error would be a 500."""
    async with db.writer.connect() as conn:
        with pytest.raises(OperationalError) as failed:
            async with driver_errors(conn, "SELECT id FROM nowhere") as driver:
                await driver.execute("SELECT id FROM nowhere")
        assert failed.value.statement == "SELECT id FROM nowhere"
        assert str(failed.value.orig) == "no such table: nowhere"
        assert failed.value.connection_invalidated is False
        assert unavailable_reason(failed.value) is None  # a bad statement is not an outage
        locked = sqlite3.OperationalError("database is locked")
        with pytest.raises(OperationalError) as busy:
            async with driver_errors(conn, "BEGIN IMMEDIATE"):
                raise locked
        assert busy.value.orig is locked and unavailable_reason(busy.value) is not None
