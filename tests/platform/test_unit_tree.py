"""The shared copy of the directory tree follows registrations, renames, moves and merges."""

from pathlib import Path

from sqlalchemy import MetaData, select

from shared.db import open_database
from shared.unit_tree import apply_unit_event, unit_table


async def test_moves_and_merges_re_path_the_copied_subtree(tmp_path: Path) -> None:
    metadata = MetaData()
    units = unit_table("copy_units", metadata)
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/copy.db")
    async with db.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)

        async def register(unit_id: str, path: str, parent: str | None, kind: str = "grassroots_union") -> None:
            data = {"unit_id": unit_id, "code": path.rsplit(".", 1)[-1], "name": f"Công đoàn {unit_id}"}
            await apply_unit_event(
                conn, units, "UnitRegistered", data | {"kind": kind, "parent_id": parent, "path": path}
            )

        await register("hn", "hn", None, "city_federation")
        await register("ntl", "hn.ntl", "hn", "upper_level_union")
        await register("dd", "hn.dd", "hn", "upper_level_union")
        await register("fecon", "hn.ntl.fecon", "ntl")
        await register("kt", "hn.ntl.fecon.kt", "fecon", "sub_unit")
        await register("ceo", "hn.ntl.ceo", "ntl")
        await register("vp", "hn.ntl.ceo.vp", "ceo", "sub_unit")
        await apply_unit_event(conn, units, "UnitRenamed", {"unit_id": "fecon", "name": "Công đoàn Fecon"})
        move = {"unit_id": "fecon", "from_path": "hn.ntl.fecon", "to_path": "hn.dd.fecon", "new_parent_id": "dd"}
        await apply_unit_event(conn, units, "UnitMovedIn", move)
        await apply_unit_event(conn, units, "UnitMerged", {"unit_id": "ceo", "into_unit_id": "fecon"})
        absorbed = {"unit_id": "fecon", "absorbed_unit_id": "ceo", "absorbed_path": "hn.ntl.ceo"}
        await apply_unit_event(conn, units, "UnitAbsorbed", absorbed)
        rows = {r.unit_id: r for r in await conn.execute(select(units))}
    await db.dispose()
    assert rows["fecon"].path == "hn.dd.fecon" and rows["fecon"].parent_id == "dd"
    assert rows["fecon"].name == "Công đoàn Fecon"
    assert rows["kt"].path == "hn.dd.fecon.kt"  # the subtree moved with its unit
    assert rows["ceo"].status == "merged" and rows["ceo"].merged_into == "fecon"
    assert rows["vp"].path == "hn.dd.fecon.vp" and rows["vp"].parent_id == "fecon"  # the absorbed unit's child
