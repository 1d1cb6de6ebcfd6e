"""The demo city for the local run, through the services' APIs with the platform admin's token.

    python -m demo load [--levels-out FILE]   # wait for the services, load the demo (once), write the levels
    python -m demo ready URL [URL …]          # wait until each level host has caught up and shows the demo

URLs of the services from THIDUA_DIRECTORY_PORT, THIDUA_REGISTRY_PORT, THIDUA_PLEDGES_PORT,
THIDUA_AWARDS_PORT, THIDUA_INSPECTIONS_PORT (8101-8105).
"""

import argparse
import asyncio
import json
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from demo import resend
from demo.awards import load_awards
from demo.campaign import load_campaign
from demo.city import CITY, load_city
from demo.initiatives import load_initiatives
from demo.inspections import load_inspections
from demo.paper import load_paper_records
from shared.settings import Settings
from shared.tokens import issue_token

# The first read of each level host that must show the demo (the service is the host's projection prefix).
DEMO_READS = {
    "directory_level": ("/levels/hn/directory/units", lambda body: len(body["units"]) > 1),
    "registry_level": ("/levels/hn/registry/book", lambda body: body["total"] > 0),
    "pledges_level": ("/levels/hn/pledges/campaigns", lambda body: len(body["campaigns"]) > 0),
    "awards_level": ("/levels/hn/awards/board", lambda body: len(body["items"]) > 0),
    # The last thing the inspections demo records is last year's grades; the actions come before them.
    "inspections_level": ("/levels/hn/inspections/actions", lambda body: body["total"] > 0),
}


def _client(url: str, token: str) -> httpx.AsyncClient:
    return resend.client(url, token, timeout=30)


def _url(port_env: str, default: int) -> str:
    return f"http://127.0.0.1:{os.environ.get(port_env, default)}"


async def load(
    directory: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    pledges: httpx.AsyncClient,
    awards: httpx.AsyncClient | None = None,
    inspections: httpx.AsyncClient | None = None,
) -> dict[str, Any]:
    """Every part of the demo, in order: the city, then (concurrently) initiatives, the campaign, awards,
    then the paper records, then inspections (its checklists are pre-filled from the campaign and the
    initiatives)."""
    city = await load_city(directory)
    parts = [load_initiatives(registry), load_campaign(pledges, directory, date.today().year)]
    if awards is not None:
        parts.append(load_awards(awards, directory))
    initiatives, campaign, *rest = await asyncio.gather(*parts)
    loaded = {"city": city, "initiatives": initiatives, "campaign": campaign, **({"awards": rest[0]} if rest else {})}
    # What units did on paper before the platform (the operator enters it with its days): the radar's
    # date-bound signs (reports late, registrations bunched before a deadline, initiatives never applied).
    loaded["paper records"] = await load_paper_records(registry, pledges, directory, date.today())
    if inspections is not None:
        loaded["inspections"] = await load_inspections(inspections, directory, awards=awards)
    return loaded


async def levels(directory: httpx.AsyncClient) -> list[str]:
    """The levels the local run's hosts serve: the city and each upper-level union."""
    city = (await directory.get(f"/units/by-path/{CITY[0]}")).json()
    units = (await directory.get(f"/units/{city['unit_id']}/subtree")).json()["units"]
    return [CITY[0], *sorted(u["path"] for u in units if u["kind"] == "upper_level_union")]


async def until(check: Any, what: str, seconds: float = 300.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if await check():
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        await asyncio.sleep(0.25)
    raise SystemExit(f"{what} did not happen within {seconds:.0f} s")


async def _load(levels_out: str | None, token: str) -> None:
    urls = [
        _url(e, d)
        for e, d in (("THIDUA_DIRECTORY_PORT", 8101), ("THIDUA_REGISTRY_PORT", 8102), ("THIDUA_PLEDGES_PORT", 8103))
    ]
    # The awards and inspections services take part where the run names their ports (the local run does;
    # a smaller test platform without them loads the rest).
    awards_url = _url("THIDUA_AWARDS_PORT", 8104) if "THIDUA_AWARDS_PORT" in os.environ else None
    inspections_url = _url("THIDUA_INSPECTIONS_PORT", 8105) if "THIDUA_INSPECTIONS_PORT" in os.environ else None
    async with (
        _client(urls[0], token) as directory,
        _client(urls[1], token) as registry,
        _client(urls[2], token) as pledges,
        _client(awards_url or urls[0], token) as awards,
        _client(inspections_url or urls[0], token) as inspections,
    ):
        optional = [*([awards] if awards_url else []), *([inspections] if inspections_url else [])]
        for client in (directory, registry, pledges, *optional):
            await until(lambda c=client: _ok(c.get("/health")), f"{client.base_url} to answer")
        loaded = await load(
            directory,
            registry,
            pledges,
            awards if awards_url else None,
            inspections if inspections_url else None,
        )
        print(loaded, flush=True)
        if levels_out:
            served = await levels(directory)
            Path(levels_out).write_text(json.dumps(served), encoding="utf-8")  # noqa: ASYNC240 - a few bytes


async def _ok(call: Any) -> bool:
    return (await call).status_code == 200


async def _ready(hosts: list[str], token: str) -> None:
    for url in hosts:
        async with _client(url, token) as host:
            await until(lambda h=host: _ok(h.get("/health")), f"the level host {url} to catch up")
            projection = (await host.get("/levels")).json()["projection"]
            path, shows_demo = DEMO_READS[projection]

            async def shows(h: httpx.AsyncClient = host, p: str = path, ok: Any = shows_demo) -> bool:
                return bool(ok((await h.get(p)).json()))

            await until(shows, f"the level host {url} to show the demo")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    load_parser = commands.add_parser("load", help="load the demo city into the running services (once)")
    load_parser.add_argument("--levels-out", help="write the levels the local run's hosts serve to this file")
    ready_parser = commands.add_parser("ready", help="wait until level hosts have caught up and show the demo")
    ready_parser.add_argument("hosts", nargs="+", help="level host URLs")
    args = parser.parse_args()
    token = issue_token(Settings(local=True), "admin")
    if args.command == "load":
        asyncio.run(_load(args.levels_out, token))
    else:
        asyncio.run(_ready(args.hosts, token))


if __name__ == "__main__":
    main()
