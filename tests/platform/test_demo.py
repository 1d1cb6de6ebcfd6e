"""The demo city, loaded through the services' HTTP APIs as ``make run`` loads it: the directory's units
and people, ~300 initiatives in every state, the campaign cascaded to every unit, the demo users; and a
second load changes nothing. (No NATS here: the directory's events are fed to the other services' copies.)"""

import unicodedata
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from contracts.registry import InitiativeRegistered
from demo.campaign import PLAN, UNSIGNED, demo_paths, load_campaign
from demo.city import demo_people, load_city
from demo.initiatives import COPIES, load_initiatives
from demo.inspections import CLAIM_ALL_DONE, round_year
from demo.users import DEMO_USERS, demo_member, demo_token
from services.directory.entrypoints.main import create_app as directory_app
from services.pledges.entrypoints.main import create_app as pledges_app
from services.registry.entrypoints.main import create_app as registry_app
from shared.auth import issue_token
from shared.settings import Settings
from tests.copies import feed


@pytest.fixture
async def apps(tmp_path: Path) -> AsyncIterator[dict[str, FastAPI]]:
    made = {}
    async with AsyncExitStack() as stack:
        for name, factory in (("directory", directory_app), ("registry", registry_app), ("pledges", pledges_app)):
            settings = Settings(
                service=name, database_url=f"sqlite+aiosqlite:///{tmp_path}/{name}.db", relay_enabled=False,
                log_json=False, log_level="WARNING",
            )  # fmt: skip
            app = factory(settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            made[name] = app
        yield made


def client(app: FastAPI, token: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://demo", headers=headers)


async def test_the_demo_city_loads_once_through_the_apis(apps: dict[str, FastAPI]) -> None:
    settings = apps["directory"].state.settings
    admin = issue_token(settings, "admin")
    directory, registry, pledges = (client(apps[n], admin) for n in ("directory", "registry", "pledges"))
    city = await load_city(directory)
    assert await load_city(directory) == {"units": 0, "members": 0}  # loaded once
    assert city["members"] >= 300 and city["units"] == len(demo_paths())
    stored = await apps["directory"].state.store.read_after(0, limit=100_000)
    for name in ("registry", "pledges"):  # what their consumers would copy from NATS
        await feed(apps[name].state.directory, [(env.to_event(), env.metadata.unit_path) for env in stored])

    hn = (await directory.get("/units/by-path/hn")).json()
    units = (await directory.get(f"/units/{hn['unit_id']}/subtree")).json()["units"]
    kinds = [u["kind"] for u in units]
    assert kinds.count("upper_level_union") >= 4 and kinds.count("grassroots_union") >= 20
    assert all(unicodedata.is_normalized("NFC", u["name"]) for u in units)
    assert demo_people("hn.ntl.fecon", 5) == demo_people("hn.ntl.fecon", 5)  # deterministic

    fates = await load_initiatives(registry, per_unit=4)  # make run loads 12 per unit
    assert sum(fates.values()) == 4 * 25 + len(COPIES)
    assert set(fates) == {
        "registered", "under_review", "returned", "rejected", "recognised", "applied", "accepted", "district", "city",
        "copied",
    }  # fmt: skip
    for copier, _, _ in COPIES:  # each copy is flagged at its registration as a near-copy of another union's
        filed = (await registry.get("/initiatives", params={"under": copier, "limit": 100})).json()["items"]
        assert any(d["other_unit"] and d["score"] >= 0.95 for i in filed for d in i.get("possible_duplicates", [])), (
            copier
        )
    assert await load_initiatives(registry) == {}  # a second load keeps the data
    # Part of the book is the half-year's paper records (the demo's round lists the half-year's initiatives):
    # everything later applied, and all of the unions' that claim everything done in that round.
    year, units = round_year(date.today()), {u["unit_id"]: u["path"] for u in units}
    registered = [
        (units[e.unit_id], e.registered_on)
        for e in (env.to_event() for env in await apps["registry"].state.store.read_after(0, limit=100_000))
        if isinstance(e, InitiativeRegistered)
    ]
    on_paper = [day for _, day in registered if day is not None]
    assert len(on_paper) > 25 and all(date(year, 1, 10) <= day <= date(year, 6, 10) for day in on_paper)
    for claimer in CLAIM_ALL_DONE:  # its four (a copy it filed of another's is registered today)
        assert sum(1 for path, day in registered if path == claimer and day is not None) == 4, claimer
    assert len(on_paper) < len(registered)  # the rest registered today

    year = date.today().year
    counts = await load_campaign(pledges, directory, year)
    below_city = len(demo_paths()) - 1
    signers = below_city - 2 - len(UNSIGNED)  # the two sub-units do not sign; three unions have not yet
    assert counts == {"campaigns": 1, "targets": below_city, "pledges": signers, "reports": counts["reports"]}
    assert counts["reports"] > 5
    campaigns = (await pledges.get("/campaigns")).json()["items"]
    assert [c["plan_number"] for c in campaigns] == [PLAN] and campaigns[0]["launcher_path"] == "hn"
    targets = (await pledges.get(f"/campaigns/{campaigns[0]['campaign_id']}")).json()["targets"]
    assert sorted(t["path"] for t in targets) == sorted(demo_paths()[1:])
    ntl = next(t for t in targets if t["path"] == "hn.ntl")
    assert ntl["targets"]["registered"] == 8 * 40  # eight grassroots unions in Nam Từ Liêm
    assert (await load_campaign(pledges, directory, year))["campaigns"] == 0

    # Every demo user is a person of the demo city; their token acts as them.
    for name, user in DEMO_USERS.items():
        member_id, _ = await demo_member(directory, name)
        async with client(apps["directory"], await demo_token(settings, directory, name)) as as_them:
            own = await as_them.get(f"/units/by-path/{user.path or 'hn'}")
            assert own.status_code == 200, (name, own.text)
        if user.path is not None:
            member = (await directory.get(f"/members/{member_id}")).json()
            assert member["path"] == user.path and (user.role in member["roles"] if user.role else not member["roles"])
    for each in (directory, registry, pledges):
        await each.aclose()
