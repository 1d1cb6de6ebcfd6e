"""The directory level projection, applied directly (no NATS): each level must equal the truth after
every step of a restructuring story, and a fresh rebuild must equal the incrementally kept level."""

import random
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from contracts.directory import MemberEnrolled, UnitMovedIn, UnitMovedOut, UnitRegistered
from services.directory.adapters.level import DirectoryLevelProjection, read_units
from services.directory.domain.rules import PARENT_KIND
from shared.db import open_database
from shared.errors import ThiduaError
from shared.events import EventMetadata, new_envelope
from shared.membership import Membership, level_units
from shared.membership import metadata as membership_metadata
from shared.projection import Message
from shared.subjects import event_subject
from tests.directory.directory_helpers import Driver
from tests.directory.level_harness import Level, MessageLog, truth

SCOPES = ["hn", "hn.ntl", "hn.dd", "hn.gl", "hn.ntl.fecon", "hn.dd.fecon", "hn.ntl.ceo"]


@pytest.fixture
async def levels(app: FastAPI, tmp_path: Path) -> dict[str, Level]:
    log = MessageLog()
    return {scope: Level(scope, log, tmp_path) for scope in SCOPES}


async def check(app: FastAPI, levels: dict[str, Level], step: str) -> None:
    log = next(iter(levels.values())).log
    await log.sync(app.state.store)
    for scope, level in levels.items():
        await level.catch_up()
        assert await level.state() == await truth(app.state.store.db, scope), f"{scope} after {step}"


async def test_levels_follow_moves_and_merges_and_equal_a_rebuild(
    app: FastAPI, driver: Driver, levels: dict[str, Level], tmp_path: Path
) -> None:
    d = driver
    for path, kind in [
        ("hn", "city_federation"),
        ("hn.ntl", "upper_level_union"),
        ("hn.dd", "upper_level_union"),
        ("hn.gl", "upper_level_union"),
        ("hn.ntl.fecon", "grassroots_union"),
        ("hn.ntl.fecon.kt", "sub_unit"),
        ("hn.ntl.fecon.vp", "sub_unit"),
        ("hn.ntl.ceo", "grassroots_union"),
        ("hn.dd.handico", "grassroots_union"),
        ("hn.dd.handico.xd", "sub_unit"),
        ("hn.gl.thanh-hung", "grassroots_union"),
        ("hn.gl.thanh-hung.may", "sub_unit"),
    ]:
        await d.register(path, kind)
    await d.enrol("hn", "Nguyễn Thị Tuyến")  # an ancestor's own event: ignored below it
    await d.enrol("hn.ntl.fecon", "Trần Văn An", "Lê Thị Bình")
    (officer,) = await d.enrol("hn.ntl.fecon.kt", "Phạm Văn Cường")
    await d.enrol("hn.dd.handico.xd", "Hoàng Thị Dung", "Vũ Văn Em")
    await d.enrol("hn.gl.thanh-hung.may", "Đỗ Thị Phương")
    await d.rename("hn.ntl.fecon", "Công đoàn Công ty Cổ phần Fecon")
    await d.assign(officer, "emulation_officer")
    await check(app, levels, "set-up")

    await d.move("hn.ntl.fecon", "hn.dd")  # Nam Từ Liêm loses it, Đống Đa back-fills it
    await check(app, levels, "fecon to Đống Đa")

    await d.enrol("hn.dd.fecon.kt", "Bùi Văn Giang")
    await d.rename("hn.dd.fecon.kt", "Tổ công đoàn Kỹ thuật thi công")
    await d.move("hn.gl.thanh-hung", "hn.dd")
    await d.enrol("hn.dd.thanh-hung", "Đặng Thị Hoa")
    await check(app, levels, "thanh-hung to Đống Đa")

    await d.move("hn.dd.thanh-hung", "hn.ntl")  # its history spans Gia Lâm and Đống Đa: nested back-fill
    await check(app, levels, "thanh-hung on to Nam Từ Liêm")

    await d.merge("hn.dd.handico", "hn.ntl.ceo")  # across levels: Nam Từ Liêm back-fills the absorbed
    await d.move("hn.dd.fecon.vp", "hn.ntl.ceo")  # a sub-unit alone, across levels
    await check(app, levels, "handico into ceo, vp to ceo")

    await d.merge("hn.ntl.thanh-hung", "hn.ntl.ceo")  # within one level
    await d.move("hn.dd.fecon", "hn.ntl")  # the round trip: re-adopted without counting twice
    await check(app, levels, "thanh-hung into ceo, fecon back")

    # A stranger on an old path: a new unit takes the code fecon in Đống Đa, then leaves for Gia Lâm.
    await d.register("hn.dd.fecon", "grassroots_union", "Công đoàn Công ty Fecon Miền Bắc")
    await d.enrol("hn.dd.fecon", "Ngô Văn Khoa")
    await d.move("hn.dd.fecon", "hn.gl")
    # A unit whose sub-unit already moved into the level ahead of it.
    await d.register("hn.gl.u2", "grassroots_union")
    await d.register("hn.gl.u2.s1", "sub_unit")
    await d.enrol("hn.gl.u2.s1", "Dương Thị Lan")
    await d.move("hn.gl.u2.s1", "hn.ntl.ceo")
    await d.move("hn.gl.u2", "hn.ntl")
    await d.merge("hn.ntl.ceo", "hn.ntl.fecon")  # a chain: handico → ceo → fecon
    await check(app, levels, "strangers, forerunners and chains")

    # A fresh rebuild of every level from the whole stream equals what was kept step by step.
    log = levels["hn"].log
    for scope, level in levels.items():
        fresh = Level(scope, log, tmp_path / "rebuild")
        await fresh.catch_up()
        assert await fresh.state() == await level.state(), scope
        await fresh.db.dispose()
    assert len(await levels["hn.ntl"].state()) >= 10  # the story ends with most units in Nam Từ Liêm
    for level in levels.values():
        await level.db.dispose()


# -- hand-built messages --------------------------------------------------------------------------


def message(sequence: int, event: object, path: str, stream: str) -> Message:
    envelope = new_envelope(stream, sequence, event, EventMetadata(actor="test", unit_path=path))  # type: ignore[arg-type]
    return Message(event_subject("directory", envelope.event_type, path), sequence, path, envelope)


async def test_a_unit_leaving_takes_its_subtree_and_ancestor_events_are_ignored(tmp_path: Path) -> None:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
    projection = DirectoryLevelProjection()
    reg = [
        ("u-hn", "hn", "city_federation", None, "hn"),
        ("u-ntl", "ntl", "upper_level_union", "u-hn", "hn.ntl"),
        ("u-f", "fecon", "grassroots_union", "u-ntl", "hn.ntl.fecon"),
        ("u-kt", "kt", "sub_unit", "u-f", "hn.ntl.fecon.kt"),
    ]
    log = [
        message(i + 1, UnitRegistered(unit_id=u, code=c, name=c.upper(), kind=k, parent_id=p, path=path), path, u)
        for i, (u, c, k, p, path) in enumerate(reg)
    ]
    log.append(
        message(5, MemberEnrolled(member_id="m", unit_id="u-kt", full_name="Lý Văn Mạnh"), "hn.ntl.fecon.kt", "m")
    )
    move = {"unit_id": "u-f", "from_path": "hn.ntl.fecon", "to_path": "hn.dd.fecon"}
    move |= {"old_parent_id": "u-ntl", "new_parent_id": "u-dd"}
    log.append(message(6, UnitMovedOut(**move), "hn.ntl.fecon", "u-f"))
    log.append(message(7, UnitMovedIn(**move), "hn.dd.fecon", "u-f"))

    async def no_history(paths: object, before: int) -> list[Message]:
        return []

    membership = Membership("hn.ntl", projection, no_history)
    async with db.writer.begin() as conn:
        await conn.run_sync(projection.metadata.create_all)
        await conn.run_sync(membership_metadata.create_all)
        for msg in log[:5]:
            if msg.path != "hn.dd.fecon":  # what the hn.ntl filters deliver
                await membership.route(conn, msg)
        rows = {row["unit_id"]: row for row in await read_units(conn)}
        assert set(rows) == {"u-ntl", "u-f", "u-kt"}  # hn is an ancestor: its own events are not this level's
        assert (rows["u-kt"]["member_count"], rows["u-kt"]["events_seen"]) == (1, 2)
        await membership.route(conn, log[5])
        assert [row.unit_id for row in await conn.execute(select(level_units))] == ["u-ntl"]
    await db.dispose()


async def test_random_restructuring_keeps_every_level_true(app: FastAPI, driver: Driver, tmp_path: Path) -> None:
    """Seeded random moves, merges, registrations and enrolments; every level checked after each."""
    rng = random.Random(18)  # Kế hoạch 18/KH-LĐLĐ
    log = MessageLog()
    levels = {scope: Level(scope, log, tmp_path) for scope in ["hn.a", "hn.b", "hn.c"]}  # the city: story test
    for path, kind in [("hn", "city_federation"), *((f"hn.{c}", "upper_level_union") for c in "abc")]:
        await driver.register(path, kind)
    tree = driver.records
    for step in range(50):
        active = await tree.subtree("hn")
        by_kind = {kind: [u for u in active if u.kind == kind] for kind in PARENT_KIND}
        op = rng.choice(["register", "register", "enrol", "move", "move", "merge", "rename"])
        try:
            if op == "register":
                kind = rng.choice(["grassroots_union", "sub_unit"])
                parent = rng.choice(by_kind[PARENT_KIND[kind]] or [None])
                if parent is not None:
                    await driver.register(f"{parent.path}.{rng.choice('pqrst')}{rng.randint(1, 3)}", kind)
            elif op == "enrol":
                await driver.enrol(rng.choice(active).path, f"Thành viên {step}")
            elif op == "rename":
                await driver.rename(rng.choice(active).path, f"Tên {step}")
            else:
                kind = rng.choice(["grassroots_union", "sub_unit"])
                unit = rng.choice(by_kind[kind] or [None])
                other = rng.choice(by_kind[PARENT_KIND[kind] if op == "move" else kind] or [None])
                if unit is not None and other is not None:
                    await (driver.move if op == "move" else driver.merge)(unit.path, other.path)
        except ThiduaError:
            continue  # a refused command (duplicate code, same parent, ...) writes nothing
        await log.sync(driver.deps.store)
        for scope, level in levels.items():
            await level.catch_up()
            assert await level.state() == await truth(driver.deps.store.db, scope), f"{scope} after step {step} ({op})"
    for scope, level in levels.items():
        fresh = Level(scope, log, tmp_path / "rebuild")
        await fresh.catch_up()
        assert await fresh.state() == await level.state(), scope
        await fresh.db.dispose()
        await level.db.dispose()
