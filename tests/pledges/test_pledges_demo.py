"""The demo campaign on the real demo city: the directory's own demo loader writes the city, its events
feed the pledges service's unit copy, and the pledges demo cascades targets to every unit and has
most (not all) units sign."""

from pathlib import Path

from fastapi import FastAPI

from services.directory.adapters.tree import Tree
from services.directory.demo import load_demo as load_directory_demo
from services.pledges.adapters.units import UnitsCopy
from services.pledges.demo import PLAN, UNSIGNED, demo_paths, load_demo
from shared.db import open_database
from shared.eventstore import EventStore
from shared.eventstore.migrate import migrate
from shared.projections import ProjectedMessage
from shared.subjects import event_subject
from tests.pledges.pledges_helpers import Clock


async def test_the_demo_campaign_reaches_every_unit(app: FastAPI, tmp_path: Path, clock: Clock) -> None:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/directory.db")
    await migrate(db)
    tree = Tree(db)
    await tree.create_tables()
    directory = EventStore(db, inline=[tree])
    await load_directory_demo(directory, tree)
    copy = UnitsCopy()
    async with app.state.db.writer.begin() as conn:
        for env in await directory.read_after(0, limit=100_000):
            path = env.metadata.unit_path
            message = ProjectedMessage(event_subject("directory", env.event_type, path), env.position or 0, path, env)
            await copy.apply(conn, message)
    await directory.close()
    await db.dispose()
    units: UnitsCopy = app.state.units
    assert await units.officials_ready(demo_paths()[1:])  # the city itself has no staff in the demo

    counts = await load_demo(app.state.store, units, app.state.records, clock)
    below_city = len(demo_paths()) - 1
    signers = below_city - 2 - len(UNSIGNED)  # the two sub-units do not sign; three unions have not yet
    assert counts == {"campaigns": 1, "targets": below_city, "pledges": signers, "reports": counts["reports"]}
    assert counts["reports"] > 5
    total, campaigns = await app.state.records.campaigns_for("hn.ntl.fecon", 10, 0)
    assert total == 1 and campaigns[0]["plan_number"] == PLAN and campaigns[0]["launcher_path"] == "hn"
    targets = await app.state.records.targets_of(campaigns[0]["campaign_id"])
    assert sorted(t["path"] for t in targets) == sorted(demo_paths()[1:])
    ntl = next(t for t in targets if t["path"] == "hn.ntl")
    assert ntl["targets"]["registered"] == 8 * 40  # eight grassroots unions in Nam Từ Liêm
    assert await load_demo(app.state.store, units, app.state.records, clock) == {
        "campaigns": 0, "targets": 0, "pledges": 0, "reports": 0,
    }  # fmt: skip
