"""A level whose checkpoint counts in a stream that is gone starts over by itself.

The stream is deleted under a running directory and its level host (an operator's mistake, or a NATS
store lost); the directory's relay recreates it and refills it from the store, in store order, so the
sequences the level's checkpoint counted in now number other events. Another service's events
were in the old stream first, so the directory's events now sit at lower sequences, and the enrolments
made meanwhile at sequences the level's checkpoint already passed. The level host notices when it binds
its consumer again (the stream is newer than the one its checkpoint was recorded in, or ends before the
checkpoint) and replays the level from the new stream: the read model ends equal to the store, each
enrolment counted once. Without that, the level would skip the enrolments made meanwhile.
The attach-only variant (a new consumer's first delivery) is in ``test_district_isolation.py``.
"""

from pathlib import Path

import httpx
import nats

from shared.subjects import STREAM
from tests.cityscale.topology import (
    ADMIN,
    Enrolments,
    directory_replica,
    level_host,
    register_districts,
    stored_event_ids,
    stream_event_ids,
    until_healthy,
)
from tests.natsserver import NatsServer
from tests.platform.helpers import wait_for

FOREIGN, BEFORE, AFTER = 10, 16, 12


async def test_a_level_past_a_recreated_stream_is_rebuilt_from_it(nats_server: NatsServer, tmp_path: Path) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/directory.db"
    replica = directory_replica("directory", tmp_path, store_url, nats_server.url)
    db = f"sqlite+aiosqlite:///{tmp_path}/{{projection}}-{{level}}.db"
    host = level_host("levels", tmp_path, nats_server.url, ["hn", "hn.ntl"], db)
    try:
        async with httpx.AsyncClient(timeout=20) as client:
            replica.start()
            await until_healthy(client, replica)
            other = await nats.connect(nats_server.url, name="another service")
            for n in range(FOREIGN):  # not the directory's: its store will not refill them
                await other.jetstream().publish(f"thidua.registry.probe.hn.x{n}", b"{}")
            await other.close()
            ids = await register_districts(client, replica, "ntl")
            # The city's own enrolments first: after the refill, hn.ntl's events sit at other sequences.
            work = Enrolments(ids["hn"])
            for n in range(BEFORE // 2):
                await work.enrol(client, [replica], n)
            work.units = [ids["hn.ntl"]]
            for n in range(BEFORE // 2, BEFORE):
                await work.enrol(client, [replica], n)
            host.start()
            await until_healthy(client, host)

            async def counted(level: str, path: str, members: int) -> bool:
                response = await client.get(f"{host.url}/levels/{level}/directory/units", headers=ADMIN)
                units = {u["path"]: u for u in response.json().get("units", [])} if response.status_code == 200 else {}
                return units.get(path, {}).get("member_count") == members

            async def all_counted() -> bool:
                return await counted("hn", "hn", BEFORE // 2) and await counted("hn.ntl", "hn.ntl", BEFORE // 2)

            await wait_for(all_counted, 30, "both levels to count every enrolment")

            # The stream goes; the next command's publish fails, and the relay recreates and refills it.
            operator = await nats.connect(nats_server.url, name="operator")
            await operator.jetstream().delete_stream(STREAM)
            await operator.close()
            for n in range(BEFORE, BEFORE + AFTER):
                await work.enrol(client, [replica], n)
            stored = await stored_event_ids(store_url)

            async def refilled() -> bool:
                try:
                    return await stream_event_ids(nats_server.url) == stored
                except nats.js.errors.NotFoundError:  # not recreated yet: the next publish recreates it
                    return False

            await wait_for(refilled, 30, "the relay to refill the stream from the store")

            async def both_started_over() -> bool:
                levels = (await client.get(f"{host.url}/health")).json()["levels"]
                return all(levels[level]["started_over"] for level in ("hn", "hn.ntl"))

            await wait_for(both_started_over, 30, "the levels to notice the stream was recreated")
            ntl_members = BEFORE // 2 + AFTER

            async def recounted() -> bool:
                return await counted("hn", "hn", BEFORE // 2) and await counted("hn.ntl", "hn.ntl", ntl_members)

            await wait_for(recounted, 30, "the levels replayed from the new stream")
            response = await client.get(f"{host.url}/levels/hn/directory/units", headers=ADMIN)
            city = {u["path"]: u for u in response.json()["units"]}
            assert city["hn"]["events_seen"] == 1 + BEFORE // 2  # registered, and each enrolment once
            assert city["hn.ntl"]["member_count"] == ntl_members and city["hn.ntl"]["events_seen"] == 1 + ntl_members
            health = (await client.get(f"{host.url}/health")).json()["levels"]
            for level in ("hn", "hn.ntl"):  # once, not at every rebind
                (why,) = health[level]["started_over"]
                assert "was recreated" in why or "before the checkpoint" in why, health
    finally:
        for proc in (host, replica):
            proc.stop()
