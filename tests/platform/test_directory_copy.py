"""The shared copy of the directory follows registrations, renames, moves and merges, and says who is
calling: a person's unit and the roles they hold there now."""

import asyncio
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from contracts.directory import (
    MemberEnrolled,
    RoleAssigned,
    RoleRevoked,
    UnitAbsorbed,
    UnitMerged,
    UnitMovedIn,
    UnitRegistered,
    UnitRenamed,
)
from shared.db import open_database
from shared.directory_copy import DirectoryCopy
from shared.directory_copy import metadata as copy_metadata
from shared.directory_copy import roles as copy_roles
from shared.events import Event, EventMetadata
from shared.eventstore import EventStore
from shared.eventstore.migrate import migrate
from shared.eventstore.store import StreamAppend
from shared.messaging import connect, ensure_streams
from shared.relay import OutboxRelay
from shared.runner import ProjectionRunner
from shared.settings import Settings
from tests.copies import feed


async def test_moves_and_merges_re_path_the_copied_subtree(tmp_path: Path) -> None:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/copy.db")
    copy = DirectoryCopy(db)
    await copy.create_tables()

    def registered(unit_id: str, path: str, parent: str | None, kind: str = "grassroots_union") -> tuple:
        code = path.rsplit(".", 1)[-1]
        event = UnitRegistered(
            unit_id=unit_id, code=code, name=f"Công đoàn {unit_id}", kind=kind, parent_id=parent, path=path
        )  # type: ignore[arg-type]
        return event, path

    await feed(
        copy,
        [
            registered("hn", "hn", None, "city_federation"),
            registered("ntl", "hn.ntl", "hn", "upper_level_union"),
            registered("dd", "hn.dd", "hn", "upper_level_union"),
            registered("fecon", "hn.ntl.fecon", "ntl"),
            registered("kt", "hn.ntl.fecon.kt", "fecon", "sub_unit"),
            registered("ceo", "hn.ntl.ceo", "ntl"),
            registered("vp", "hn.ntl.ceo.vp", "ceo", "sub_unit"),
            (UnitRenamed(unit_id="fecon", name="Công đoàn Fecon", previous_name="x"), "hn.ntl.fecon"),
            (
                UnitMovedIn(unit_id="fecon", from_path="hn.ntl.fecon", to_path="hn.dd.fecon", old_parent_id="ntl",
                            new_parent_id="dd"),
                "hn.dd.fecon",
            ),
            (UnitMerged(unit_id="ceo", into_unit_id="fecon", from_path="hn.ntl.ceo", into_path="x"), "hn.ntl.ceo"),
            (UnitAbsorbed(unit_id="fecon", absorbed_unit_id="ceo", absorbed_path="hn.ntl.ceo"), "hn.dd.fecon"),
        ],
    )  # fmt: skip
    fecon, kt, ceo, vp = [await copy.unit(uid) for uid in ("fecon", "kt", "ceo", "vp")]
    assert fecon is not None and kt is not None and ceo is not None and vp is not None
    assert fecon.path == "hn.dd.fecon" and fecon.parent_id == "dd"
    assert fecon.name == "Công đoàn Fecon"
    assert kt.path == "hn.dd.fecon.kt"  # the subtree moved with its unit
    assert ceo.status == "merged" and ceo.merged_into == "fecon"
    assert vp.path == "hn.dd.fecon.vp" and vp.parent_id == "fecon"  # the absorbed unit's child
    assert [u.path for u in await copy.chain(kt)] == ["hn", "hn.dd", "hn.dd.fecon", "hn.dd.fecon.kt"]
    await db.dispose()


async def test_the_caller_is_who_the_directory_says_now(tmp_path: Path) -> None:
    """A revoked role stops at once; a moved unit keeps its people; a merge takes them to the absorbing unit."""
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/copy.db")
    copy = DirectoryCopy(db)
    await copy.create_tables()
    kinds = {"hn": "city_federation", "hn.ntl": "upper_level_union", "hn.dd": "upper_level_union"}
    units = [
        UnitRegistered(
            unit_id=path.rsplit(".", 1)[-1], code=path.rsplit(".", 1)[-1], name=path, path=path,
            kind=kinds.get(path, "grassroots_union"),  # type: ignore[arg-type]
            parent_id=path.rsplit(".", 2)[-2] if "." in path else None,
        )
        for path in ("hn", "hn.ntl", "hn.dd", "hn.ntl.fecon", "hn.ntl.ceo")
    ]  # fmt: skip
    await feed(copy, [(u, u.path) for u in units])
    assert await copy.caller("m-lan") is None  # not a member (yet)
    await feed(
        copy,
        [
            (MemberEnrolled(member_id="m-lan", unit_id="fecon", full_name="Nguyễn Thị Lan"), "hn.ntl.fecon"),
            (RoleAssigned(member_id="m-lan", unit_id="fecon", role="chair"), "hn.ntl.fecon"),
            (RoleAssigned(member_id="m-lan", unit_id="fecon", role="emulation_officer"), "hn.ntl.fecon"),
        ],
    )
    lan = await copy.caller("m-lan")
    assert lan is not None and lan.unit_path == "hn.ntl.fecon" and lan.roles == {"member", "chair", "emulation_officer"}
    await feed(copy, [(RoleRevoked(member_id="m-lan", unit_id="fecon", role="chair"), "hn.ntl.fecon")])
    lan = await copy.caller("m-lan")
    assert lan is not None and lan.roles == {"member", "emulation_officer"}  # at once
    moved = UnitMovedIn(
        unit_id="fecon", from_path="hn.ntl.fecon", to_path="hn.dd.fecon", old_parent_id="ntl", new_parent_id="dd"
    )
    await feed(copy, [(moved, "hn.dd.fecon")])
    lan = await copy.caller("m-lan")
    assert lan is not None and lan.unit_path == "hn.dd.fecon" and lan.sees("hn.dd.fecon")  # the same person
    await feed(
        copy,
        [
            (UnitMerged(unit_id="fecon", into_unit_id="ceo", from_path="hn.dd.fecon", into_path="x"), "hn.dd.fecon"),
            (UnitAbsorbed(unit_id="ceo", absorbed_unit_id="fecon", absorbed_path="hn.dd.fecon"), "hn.ntl.ceo"),
        ],
    )  # fmt: skip
    lan = await copy.caller("m-lan")
    assert lan is not None and lan.unit_path == "hn.ntl.ceo" and lan.roles == {"member"}  # roles of a merged unit lapse
    await db.dispose()


async def _copy_with_chair(tmp_path: Path, recheck_seconds: float = 0.05) -> tuple[Any, DirectoryCopy]:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/copy.db")
    copy = DirectoryCopy(db, recheck_seconds=recheck_seconds)
    await copy.create_tables()
    hn = UnitRegistered(unit_id="hn", code="hn", name="Hà Nội", kind="city_federation", parent_id=None, path="hn")
    await feed(
        copy,
        [
            (hn, "hn"),
            (MemberEnrolled(member_id="m-lan", unit_id="hn", full_name="Nguyễn Thị Lan"), "hn"),
            (RoleAssigned(member_id="m-lan", unit_id="hn", role="chair"), "hn"),
        ],
    )
    return db, copy


async def _drop_role_behind_its_back(db: Any) -> None:
    """The row gone without an event: only a caller read again from the tables would lose the role."""
    async with db.writer.begin() as conn:
        await conn.execute(delete(copy_roles))


async def test_a_caller_is_kept_in_memory_until_an_event_that_changes_callers_is_applied(tmp_path: Path) -> None:
    db, copy = await _copy_with_chair(tmp_path)
    assert (await copy.caller("m-lan")).roles == {"member", "chair"}  # type: ignore[union-attr]
    await _drop_role_behind_its_back(db)
    assert (await copy.caller("m-lan")).roles == {"member", "chair"}  # type: ignore[union-attr]  # kept
    new_member = MemberEnrolled(member_id="m-binh", unit_id="hn", full_name="Trần Văn Bình")
    await feed(copy, [(new_member, "hn")])  # a new member changes no one read before: still kept
    assert (await copy.caller("m-lan")).roles == {"member", "chair"}  # type: ignore[union-attr]
    assert (await copy.caller("m-binh")).roles == {"member"}  # type: ignore[union-attr]  # found at once
    await feed(copy, [(RoleAssigned(member_id="m-binh", unit_id="hn", role="emulation_officer"), "hn")])
    assert (await copy.caller("m-lan")).roles == {"member"}  # type: ignore[union-attr]  # read again at once
    assert (await copy.caller("m-binh")).roles == {"member", "emulation_officer"}  # type: ignore[union-attr]
    await db.dispose()


async def test_another_replica_sees_a_revocation_within_its_recheck(tmp_path: Path) -> None:
    db, applying = await _copy_with_chair(tmp_path)
    other = DirectoryCopy(db, recheck_seconds=0.05)  # another replica on the same database
    assert (await other.caller("m-lan")).roles == {"member", "chair"}  # type: ignore[union-attr]
    await feed(applying, [(RoleRevoked(member_id="m-lan", unit_id="hn", role="chair"), "hn")])
    await asyncio.sleep(0.06)
    assert (await other.caller("m-lan")).roles == {"member"}  # type: ignore[union-attr]
    await db.dispose()


async def test_a_rebuilt_copy_never_serves_a_caller_kept_from_before(tmp_path: Path) -> None:
    """A rebuild drops and creates the tables: the counter starts again (here back at the very value the
    caller was kept under), under a new epoch."""
    db, copy = await _copy_with_chair(tmp_path)
    assert (await copy.caller("m-lan")).roles == {"member", "chair"}  # type: ignore[union-attr]
    async with db.writer.begin() as conn:  # as ProjectionRunner.rebuild does
        await conn.run_sync(copy_metadata.drop_all)
        await conn.run_sync(copy_metadata.create_all)
    hn = UnitRegistered(unit_id="hn", code="hn", name="Hà Nội", kind="city_federation", parent_id=None, path="hn")
    enrolled = MemberEnrolled(member_id="m-lan", unit_id="hn", full_name="Nguyễn Thị Lan")
    officer = RoleAssigned(member_id="m-lan", unit_id="hn", role="emulation_officer")
    nothing = RoleRevoked(member_id="m-lan", unit_id="hn", role="standing_committee")
    await feed(copy, [(hn, "hn"), (enrolled, "hn"), (officer, "hn"), (nothing, "hn")])  # two bumps: 0, then 1
    assert (await copy.caller("m-lan")).roles == {"member", "emulation_officer"}  # type: ignore[union-attr]
    await db.dispose()


async def test_the_runner_applies_the_copy_through_its_handle_so_a_revocation_reaches_kept_callers(
    settings: Settings, tmp_path: Path
) -> None:
    """Over a real nats-server, as a service's consumer runs its copy (level ``*``, no membership): a caller
    kept in memory loses a revoked role and follows a moved unit at the next request."""
    store_db = open_database(f"sqlite+aiosqlite:///{tmp_path}/directory.db")
    await migrate(store_db)
    store = EventStore(store_db)
    nc, js = await connect(settings.nats_url, "copy-runner")
    await ensure_streams(js, settings)
    relay = OutboxRelay(store, js, "directory")

    async def directory_says(*events: tuple[Event, str]) -> None:
        for event, path in events:
            meta = EventMetadata(actor="directory", unit_path=path)
            await store.append(StreamAppend.of(f"dir-{uuid.uuid4()}", 0, [(event, meta)]))
        await relay.publish_pending()
        await runner.catch_up()

    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/copy.db")
    copy = DirectoryCopy(db)
    await copy.create_tables()  # as the service's start does
    runner = ProjectionRunner(copy, "*", db, js, settings, durable="copy_runner")
    await runner.start()
    city = UnitRegistered(unit_id="hn", code="hn", name="Hà Nội", kind="city_federation", parent_id=None, path="hn")
    ntl = UnitRegistered(unit_id="ntl", code="ntl", name="Nam Từ Liêm", kind="upper_level_union", parent_id="hn",
                         path="hn.ntl")  # fmt: skip
    dd = UnitRegistered(unit_id="dd", code="dd", name="Đống Đa", kind="upper_level_union", parent_id="hn",
                        path="hn.dd")  # fmt: skip
    fecon = UnitRegistered(unit_id="fecon", code="fecon", name="Fecon", kind="grassroots_union", parent_id="ntl",
                           path="hn.ntl.fecon")  # fmt: skip
    lan = MemberEnrolled(member_id="m-lan", unit_id="fecon", full_name="Nguyễn Thị Lan")
    chair = RoleAssigned(member_id="m-lan", unit_id="fecon", role="chair")
    await directory_says((city, "hn"), (ntl, "hn.ntl"), (dd, "hn.dd"), (fecon, "hn.ntl.fecon"),
                         (lan, "hn.ntl.fecon"), (chair, "hn.ntl.fecon"))  # fmt: skip
    kept = await copy.caller("m-lan")
    assert kept is not None and kept.roles == {"member", "chair"} and kept.unit.path == "hn.ntl.fecon"

    await directory_says((RoleRevoked(member_id="m-lan", unit_id="fecon", role="chair"), "hn.ntl.fecon"))
    assert (await copy.caller("m-lan")).roles == {"member"}  # type: ignore[union-attr]
    moved = UnitMovedIn(unit_id="fecon", from_path="hn.ntl.fecon", to_path="hn.dd.fecon", old_parent_id="ntl",
                        new_parent_id="dd", previous_paths=("hn.ntl.fecon",))  # fmt: skip
    await directory_says((moved, "hn.dd.fecon"))
    assert (await copy.caller("m-lan")).unit.path == "hn.dd.fecon"  # type: ignore[union-attr]
    await nc.close()
    await store.close()
    await db.dispose()
    await store_db.dispose()
