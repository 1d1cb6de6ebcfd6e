"""Two replicas of a service on one PostgreSQL store: one relay publishes, the other takes over when the
holder is SIGKILLed under a load of commands sent through both. 0 commands lost, 0 events missing or
doubled in the stream (by event id), and the takeover time printed."""

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.cityscale.topology import (
    ADMIN,
    Enrolments,
    directory_replica,
    lease_holder,
    pg_admin,
    pg_name,
    register_city,
    stored_event_ids,
    stream_event_ids,
    until_healthy,
)
from tests.natsserver import NatsServer
from tests.platform.helpers import wait_for

pytestmark = pytest.mark.postgres


async def test_the_relay_lease_moves_to_the_surviving_replica_when_its_holder_is_killed(
    postgres_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    database = pg_name(postgres_url)
    replicas = [
        directory_replica(
            f"directory-{i}", tmp_path, postgres_url, nats_server.url, THIDUA_RELAY_LEASE_POLL_SECONDS="0.2"
        )
        for i in range(2)
    ]
    for replica in replicas:
        replica.start()
    try:
        async with httpx.AsyncClient(timeout=20) as client, pg_admin() as admin:
            for replica in replicas:
                await until_healthy(client, replica)

            async def publishing() -> list[int]:
                found = []
                for i, replica in enumerate(replicas):
                    if not replica.alive:
                        continue
                    health = (await client.get(f"{replica.url}/health", headers=ADMIN)).json()
                    if health.get("relay") is not None:
                        found.append(i)
                return found

            async def one_holder() -> bool:
                return len(await publishing()) == 1 and await lease_holder(admin, database) is not None

            await wait_for(one_holder, 30, "one replica to hold the relay lease")
            (holder,) = await publishing()
            work = Enrolments(await register_city(client, replicas[1 - holder]))

            async def worker(first: int) -> None:  # two clients, each alternating between the replicas
                for n in range(first, 120, 2):
                    await work.enrol(client, replicas, n)
                    await asyncio.sleep(0.01)

            load = asyncio.gather(worker(0), worker(1))

            async def some_accepted() -> bool:
                return len(work.accepted) >= 40

            await wait_for(some_accepted, 60, "40 enrolments")
            before = await lease_holder(admin, database)
            killed = time.monotonic()
            replicas[holder].kill()

            async def taken_over() -> bool:
                now = await lease_holder(admin, database)
                return now is not None and now != before

            await wait_for(taken_over, 30, "the surviving replica to take the relay lease")
            takeover = time.monotonic() - killed
            await load
            load_done = time.monotonic()
            survivor = replicas[1 - holder]
            stored = await stored_event_ids(postgres_url)

            async def all_published() -> bool:
                return len(await stream_event_ids(nats_server.url)) >= len(stored)

            await wait_for(all_published, 30, "every stored event in the stream")
            caught_up = time.monotonic() - load_done
            in_stream = await stream_event_ids(nats_server.url)
            print(
                f"\nrelay takeover after SIGKILL of the holder: lease taken in {takeover * 1000:.0f} ms "
                f"(lease poll 0.2 s); stream complete {caught_up * 1000:.0f} ms after the last command; "
                f"{len(stored)} events; answers {dict(sorted(work.statuses.items()))}"
            )
            assert len(work.accepted) == 120  # 0 commands lost
            assert in_stream == stored  # 0 missing, 0 doubled, in the store's order
            listed = await client.get(f"{survivor.url}/units/{work.unit_id}/members?limit=100", headers=ADMIN)
            assert listed.json()["total"] == 120
            assert await publishing() == [1 - holder]
            assert 500 not in work.statuses
    finally:
        for replica in replicas:
            replica.stop()
