"""A NATS node SIGKILLed under a steady, bounded load of commands, then restarted: the production NATS
topology (three nodes, ``deploy/nats/`` accounts and users, streams at R3) on loopback ports.

The directory publishes as its own NATS user to every node's URL; a level host keeps the city's read model.
0 commands lost, 0 events missing or doubled in the stream (by event id) or in the level's read model.
"""

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from nats.errors import Error as NatsError

from shared.messaging import H_MSG_ID, connect
from shared.runner import read_messages
from shared.subjects import STREAM
from tests.cityscale.natscluster import NatsCluster
from tests.cityscale.topology import (
    ADMIN,
    Enrolments,
    directory_replica,
    level_host,
    register_city,
    stored_event_ids,
    until_healthy,
)
from tests.platform.helpers import wait_for

COMMANDS = 90


async def test_a_nats_node_killed_under_load_and_restarted_loses_and_doubles_nothing(tmp_path: Path) -> None:
    cluster = NatsCluster(tmp_path / "nats").start()
    store_url = f"sqlite+aiosqlite:///{tmp_path}/directory.db"
    replica = directory_replica(
        "directory", tmp_path, store_url, cluster.url("directory"), THIDUA_STREAM_REPLICAS="3"
    ).start()
    levels = level_host(
        "directory-levels",
        tmp_path,
        cluster.url("directory"),
        ["hn"],
        f"sqlite+aiosqlite:///{tmp_path}/{{projection}}-{{level}}.db",
        THIDUA_STREAM_REPLICAS="3",
    )
    nc, js = await connect(cluster.url("admin"), "test-admin")
    try:
        async with httpx.AsyncClient(timeout=20) as client:
            await until_healthy(client, replica)
            levels.start()
            await until_healthy(client, levels)

            async def replicated() -> bool:  # the stream at R3, its two followers current
                try:
                    info = await js.stream_info(STREAM)
                except Exception:  # leader election in progress
                    return False
                followers = info.cluster.replicas or []
                return info.config.num_replicas == 3 and len(followers) == 2 and all(r.current for r in followers)

            await wait_for(replicated, 60, "the stream at three current replicas")
            work = Enrolments(await register_city(client, replica))

            async def worker(first: int) -> None:  # two clients, a steady pace, a bounded count
                for n in range(first, COMMANDS, 2):
                    await work.enrol(client, [replica], n)
                    await asyncio.sleep(0.02)

            load = asyncio.gather(worker(0), worker(1))

            async def some_accepted() -> bool:
                return len(work.accepted) >= COMMANDS // 3

            await wait_for(some_accepted, 60, "a third of the commands")
            leader = (await js.stream_info(STREAM)).cluster.leader
            victim = int(leader.rsplit("-", 1)[1]) - 1  # the stream's leader: the harder node to lose
            killed = time.monotonic()
            cluster.kill(victim)
            await asyncio.sleep(2.0)
            cluster.start(victim)
            restarted = time.monotonic() - killed
            await load

            stored = await stored_event_ids(store_url)

            read: list[Any] = []  # the read that found them all is the one checked: a read after it may
            # still meet JetStream's 503 while the cluster settles its leaders again

            async def stream_has_all() -> bool:
                try:
                    read[:] = await read_messages(js, STREAM)
                except NatsError:  # the restarted node still catching up: JetStream answers 503 meanwhile
                    return False
                return len(read) >= len(stored)

            await wait_for(stream_has_all, 60, "every stored event in the stream")
            in_stream = [m.headers[H_MSG_ID] for m in read]

            async def projected() -> bool:
                try:
                    units = (await client.get(f"{levels.url}/levels/hn/directory/units", headers=ADMIN)).json()
                    return units["units"][0]["member_count"] >= COMMANDS
                except (httpx.HTTPError, KeyError, IndexError):
                    return False

            await wait_for(projected, 60, "every enrolment in the level's read model")
            (unit,) = (await client.get(f"{levels.url}/levels/hn/directory/units", headers=ADMIN)).json()["units"]
            after = await js.stream_info(STREAM)
            print(
                f"\nNATS node {leader} (stream leader) SIGKILLed under load, back in {restarted:.1f} s; "
                f"new leader {after.cluster.leader}; {len(stored)} events; "
                f"answers {dict(sorted(work.statuses.items()))}"
            )
            assert len(work.accepted) == COMMANDS  # 0 commands lost
            assert in_stream == stored  # 0 events missing or doubled, in the store's order
            assert unit["member_count"] == COMMANDS and unit["events_seen"] == COMMANDS + 1  # each applied once
            assert set(work.statuses) == {201}  # the service never noticed the lost node
    finally:
        await nc.close()
        for proc in (replica, levels):
            proc.stop()
        cluster.stop()
