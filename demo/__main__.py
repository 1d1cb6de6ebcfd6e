"""``python -m demo``: load the demo city into a running platform (once; a second run changes nothing).

URLs from THIDUA_DIRECTORY_PORT, THIDUA_REGISTRY_PORT, THIDUA_PLEDGES_PORT (8101-8103 by default).
"""

import asyncio
import os
from datetime import date

import httpx

from demo.campaign import load_campaign
from demo.city import load_city
from demo.initiatives import load_initiatives
from shared.auth import issue_token
from shared.settings import Settings


def _client(port_env: str, default: int, token: str) -> httpx.AsyncClient:
    url = f"http://127.0.0.1:{os.environ.get(port_env, default)}"
    return httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


async def load(directory: httpx.AsyncClient, registry: httpx.AsyncClient, pledges: httpx.AsyncClient) -> dict:  # type: ignore[type-arg]
    """Every part of the demo, in order: the city, then (concurrently) initiatives and the campaign."""
    city = await load_city(directory)
    initiatives, campaign = await asyncio.gather(
        load_initiatives(registry), load_campaign(pledges, directory, date.today().year)
    )
    return {"city": city, "initiatives": initiatives, "campaign": campaign}


async def main() -> None:
    token = issue_token(Settings(local=True), "admin")
    async with (
        _client("THIDUA_DIRECTORY_PORT", 8101, token) as directory,
        _client("THIDUA_REGISTRY_PORT", 8102, token) as registry,
        _client("THIDUA_PLEDGES_PORT", 8103, token) as pledges,
    ):
        print(await load(directory, registry, pledges))


if __name__ == "__main__":
    asyncio.run(main())
