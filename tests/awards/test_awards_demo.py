"""The demo year of awards loads through the awards API (the platform admin's token) and leaves a proposal
in every state. The directory's two reads the loader makes are answered from the same people the awards
service's copy of the directory holds."""

from datetime import date

import httpx
from sqlalchemy import select

from contracts.directory import MemberEnrolled, RoleAssigned, UnitRegistered
from demo.awards import HOSPITAL, MARRIOTT, load_awards
from services.awards.adapters.records import proposals
from tests.awards.awards_api import Api, Clock, feed, unit_id

PATHS = ("hn.ntl.fecon", "hn.ntl.ceo", MARRIOTT, "hn.dd.handico", HOSPITAL)


def _directory() -> httpx.AsyncClient:
    """The directory's answers to the loader's reads (units by path, their members with roles)."""

    def answer(request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if parts[:2] == ["units", "by-path"]:
            return httpx.Response(200, json={"unit_id": unit_id(parts[2]), "path": parts[2]})
        path = next(p for p in PATHS if unit_id(p) == parts[1])
        items = [{"member_id": f"dm-{path}-{n}", "roles": ["chair"] if n == 0 else []} for n in range(4)]
        return httpx.Response(200, json={"items": items, "total": 4})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://directory")


async def test_the_demo_year_has_a_proposal_in_every_state(api: Api, clock: Clock) -> None:
    clock.today = date.today()  # the demo's year is last year: every date it records is in the past
    app = api.app
    events = []
    for path in (MARRIOTT, HOSPITAL):
        parent = path.rpartition(".")[0]
        registered = UnitRegistered(
            unit_id=unit_id(path), code=path.rsplit(".", 1)[-1], name=f"Công đoàn {path}",
            kind="grassroots_union", parent_id=unit_id(parent), path=path,
        )  # fmt: skip
        events.append((registered, path))
    for path in PATHS:
        for n in range(4):
            events.append(
                (MemberEnrolled(member_id=f"dm-{path}-{n}", unit_id=unit_id(path), full_name=f"Đoàn viên {n}"), path)
            )
        events.append((RoleAssigned(member_id=f"dm-{path}-0", unit_id=unit_id(path), role="chair"), path))
    await feed(app.state.directory, events)
    admin = httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://awards", headers=await api.headers("hn", "admin")
    )
    async with admin, _directory() as directory:
        outcome = await load_awards(admin, directory, year=date.today().year - 1)
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
        assert await load_awards(admin, directory) == {}  # a second load keeps the data
    listing = (await api.client.get("/public/awards")).json()["items"]
    assert [i["data"]["status"] for i in listing] == ["revoked", "conferred", "conferred"]
