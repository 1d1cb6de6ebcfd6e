"""The demo initiatives: a few hundred, in Vietnamese, in every state, across the demo city; loaded once."""

from fastapi import FastAPI

from services.directory.demo import CITY, UPPER_LEVEL
from services.registry.demo import load_demo
from tests.registry.api_helpers import seed_units


async def test_the_demo_city_gets_a_living_book(app: FastAPI) -> None:
    tree = [(CITY[0], "city_federation", CITY[1])]
    for code, name, below in UPPER_LEVEL:
        tree.append((f"hn.{code}", "upper_level_union", name))
        tree += [(f"hn.{code}.{g}", "grassroots_union", g_name) for g, g_name, _ in below]
    await seed_units(app, tree)
    fates = await load_demo(app.state.registry)
    assert sum(fates.values()) >= 250
    assert set(fates) == {
        "registered", "under_review", "returned", "rejected", "recognised", "applied", "accepted", "district", "city",
    }  # fmt: skip
    assert await load_demo(app.state.registry) == {}  # a second start keeps the data
