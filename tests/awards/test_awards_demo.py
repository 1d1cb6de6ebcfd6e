"""The demo year of awards loads through the handlers and leaves a proposal in every state."""

from sqlalchemy import select

from contracts.directory import MemberEnrolled, RoleAssigned, UnitRegistered
from demo.awards import BV_DONG_DA, CEO, FECON, HANDICO, MARRIOTT, load_demo
from services.awards.adapters.records import proposals
from tests.awards.awards_api import Api, feed, unit_id


async def test_the_demo_year_has_a_proposal_in_every_state(api: Api) -> None:
    app = api.app
    events = []
    for path in (MARRIOTT, BV_DONG_DA):
        parent = path.rpartition(".")[0]
        events.append(
            (
                UnitRegistered(
                    unit_id=unit_id(path),
                    code=path.rsplit(".", 1)[-1],
                    name=f"Công đoàn {path}",
                    kind="grassroots_union",
                    parent_id=unit_id(parent),
                    path=path,
                ),
                path,
            )
        )
    for path in (FECON, CEO, MARRIOTT, HANDICO, BV_DONG_DA):
        for n in range(4):
            member = f"dm-{path}-{n}"
            events.append((MemberEnrolled(member_id=member, unit_id=unit_id(path), full_name=f"Đoàn viên {n}"), path))
        events.append((RoleAssigned(member_id=f"dm-{path}-0", unit_id=unit_id(path), role="chair"), path))
    await feed(app.state.directory, events)
    outcome = await load_demo(app.state.deps)
    assert outcome == {
        "conferred at the city": 1,
        "returned": 1,
        "refused over quota": 1,
        "escalated": 1,
        "objected to": 1,
        "revoked": 1,
        "filed": 1,
        "public": 1,
        "passed": 1,
    }
    async with app.state.db.reader.connect() as conn:
        statuses = sorted(r.status for r in await conn.execute(select(proposals.c.status)))
    assert statuses == [
        "conferred",
        "escalated",
        "filed",
        "passed",
        "passed",
        "public",
        "rejected",
        "returned",
        "revoked",
    ]
    assert await load_demo(app.state.deps) == {}  # a second start keeps the data
    listing = (await api.client.get("/public/awards")).json()["items"]
    assert [i["data"]["status"] for i in listing] == ["revoked", "conferred", "conferred"]
