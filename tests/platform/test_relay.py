"""Outbox relay on a real nats-server: order, headers, crash between publish and progress, NATS outage, and
the lease that lets one relay per store publish (on SQLite and PostgreSQL)."""

import asyncio
import signal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from nats.js.errors import NotFoundError

from shared.db import open_database
from shared.eventstore import EventStore
from shared.eventstore.migrate import migrate
from shared.messaging import H_MSG_ID, connect, ensure_streams
from shared.relay import LeaseLost, OutboxRelay, PostgresLease, decode, lease_key, relay_lease, run_supervised
from shared.runner import ProjectionRunner, read_messages
from shared.settings import Settings
from shared.subjects import STREAM
from tests.conftest import PG_ADMIN_DSN
from tests.natsserver import NatsServer
from tests.platform.counting import CountingProjection, counted, read_counts
from tests.platform.helpers import spawn, wait_for


async def open_store(settings: Settings) -> EventStore:
    db = open_database(settings.database_url)
    await migrate(db)
    return EventStore(db)


async def test_relay_publishes_in_global_order_with_ids_and_subjects(settings: Settings) -> None:
    store = await open_store(settings)
    for n in range(30):
        await store.append(counted(["hn.ntl.fecon", "hn.dd", "hn"][n % 3], n))
    nc, js = await connect(settings.nats_url, "test")
    await ensure_streams(js, settings)
    relay = OutboxRelay(store, js, "testsvc", batch=7, max_in_flight=4)
    assert await relay.publish_pending() == 30
    assert await relay.publish_pending() == 0  # progress was recorded
    msgs = await read_messages(js, STREAM)
    envelopes = [decode(m.data) for m in msgs]
    assert [e.data["n"] for e in envelopes] == list(range(30))
    assert msgs[0].subject == "thidua.testsvc.counted.hn.ntl.fecon"
    assert all(m.headers[H_MSG_ID] == e.event_id for m, e in zip(msgs, envelopes, strict=True))
    await nc.close()
    await store.db.dispose()


async def test_relay_killed_between_publishing_and_recording_progress(settings: Settings, tmp_path: Path) -> None:
    store = await open_store(settings)
    await asyncio.gather(*[store.append(counted("hn.ntl.fecon", n, stream=f"k-{n}")) for n in range(250)])
    env = {
        "THIDUA_DATABASE_URL": settings.database_url,
        "THIDUA_NATS_URL": settings.nats_url,
        "THIDUA_SERVICE": "testsvc",
        "THIDUA_RELAY_BATCH": "100",
        "THIDUA_LOG_JSON": "false",
    }
    pause = tmp_path / "published-not-recorded"
    relay = spawn("shared.relay", {**env, "THIDUA_RELAY_PAUSE_BEFORE_PROGRESS": str(pause)})
    nc, js = await connect(settings.nats_url, "test")
    try:

        async def paused() -> bool:
            return pause.exists()

        await wait_for(paused, what="the relay to publish a batch")
        relay.send_signal(signal.SIGKILL)
        relay.wait(10)
        assert (await js.stream_info(STREAM)).state.messages == 100  # published, progress not recorded
        check = OutboxRelay(store, js, "testsvc")
        assert await check.position() == 0

        relay = spawn("shared.relay", env)

        async def all_recorded() -> bool:
            return await check.position() == 250

        await wait_for(all_recorded, what="the restarted relay to catch up")
        msgs = await read_messages(js, STREAM)
        ids = [m.headers[H_MSG_ID] for m in msgs]
        assert len(ids) == 250 and len(set(ids)) == 250  # every event exactly once
        stored = [e.event_id for e in await store.read_after(0, 1000)]
        assert ids == stored  # and in the store's order
    finally:
        relay.kill()
        relay.wait(10)
        await nc.close()
        await store.db.dispose()


async def test_commands_are_stored_while_nats_is_down_and_delivered_when_it_is_back(
    settings: Settings, nats_server: NatsServer, tmp_path: Path
) -> None:
    store = await open_store(settings)
    nc, js = await connect(settings.nats_url, "service")
    await ensure_streams(js, settings)
    relay = OutboxRelay(store, js, "testsvc", idle_poll_seconds=0.05)
    projection_db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
    runner = ProjectionRunner(CountingProjection(), "hn", projection_db, js, settings)
    await runner.start()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(runner.run(stop))]
    try:
        for n in range(10):
            await store.append(counted("hn.ntl", n, stream=f"before-{n}"))
        nats_server.stop()
        for n in range(40):  # accepted and stored with nobody to publish to
            await store.append(counted("hn.ntl", n, stream=f"during-{n}"))
        assert await store.last_position() == 50
        await asyncio.sleep(1.0)
        nats_server.start()

        async def all_projected() -> bool:
            async with projection_db.reader.connect() as conn:
                return (await read_counts(conn)).get("hn.ntl", (0, 0))[0] == 50

        try:
            await wait_for(all_projected, seconds=30, what="every event to reach the projection")
        except AssertionError:
            info = await js.consumer_info("THIDUA", runner.durable)
            stream = await js.stream_info("THIDUA")
            async with projection_db.reader.connect() as conn:
                counted_now = await read_counts(conn)
            raise AssertionError(
                f"counted {counted_now}; {runner.health()} {info} {stream.state} relay at {await relay.position()}"
            ) from None
        assert await relay.position() == 50
        msgs = await read_messages(js, STREAM)
        assert len({m.headers[H_MSG_ID] for m in msgs}) == len(msgs) == 50
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await nc.close()
        await store.db.dispose()
        await projection_db.dispose()


# -- one relay per store: the lease -----------------------------------------------------------------


async def _lease_holders(admin: Any, database: str, name: str = "relay") -> list[int]:
    key = lease_key(name)
    rows = await admin.fetch(
        "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' "
        "AND l.granted AND d.datname = $1 AND l.classid::bigint = $2 AND l.objid::bigint = $3 AND l.objsubid = 1",
        database,
        (key >> 32) & 0xFFFFFFFF,
        key & 0xFFFFFFFF,
    )
    return [row["pid"] for row in rows]


async def test_two_relays_on_one_store_one_publishes_and_the_other_takes_over(
    settings: Settings, store_url: str
) -> None:
    """Two replicas' relays (in one process, separate connections): one holds the lease and publishes;
    when it goes, the other takes the lease and carries on from the recorded position."""
    settings = settings.model_copy(update={"database_url": store_url, "relay_lease_poll_seconds": 0.1})
    stores = [await open_store(settings), EventStore(open_database(store_url))]
    stops = [asyncio.Event(), asyncio.Event()]
    started: list[int] = []
    relays = [
        asyncio.create_task(run_supervised(stores[i], settings, stops[i], lambda _r, i=i: started.append(i)))
        for i in range(2)
    ]
    nc, js = await connect(settings.nats_url, "test")
    check = OutboxRelay(stores[0], js, "testsvc")
    try:
        await asyncio.gather(*[stores[n % 2].append(counted("hn", n, stream=f"a-{n}")) for n in range(60)])

        async def at(position: int) -> bool:
            return await check.position() == position

        await wait_for(lambda: at(60), what="the first relay to publish")
        assert len(started) == 1  # exactly one relay holds the lease
        holder = started[0]
        stops[holder].set()  # the holder goes away; the other takes the lease
        await asyncio.wait_for(relays[holder], 10)
        await asyncio.gather(*[stores[n % 2].append(counted("hn", n, stream=f"b-{n}")) for n in range(60, 120)])
        await wait_for(lambda: at(120), what="the second relay to take over")
        assert started == [holder, 1 - holder]
        msgs = await read_messages(js, STREAM)
        ids = [m.headers[H_MSG_ID] for m in msgs]
        assert len(ids) == len(set(ids)) == 120
        assert ids == [e.event_id for e in await stores[0].read_after(0, 1000)]
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*relays, return_exceptions=True)
        await nc.close()
        for store in stores:
            await store.db.dispose()


@pytest.mark.postgres
async def test_a_relay_that_lost_its_lease_neither_publishes_nor_records(settings: Settings, postgres_url: str) -> None:
    """Fencing: the lease's session is terminated under the holder (as a failover would); its next batch is
    refused before publishing and its progress record fails, so another holder's position stands."""
    store = await open_store(settings.model_copy(update={"database_url": postgres_url}))
    nc, js = await connect(settings.nats_url, "test")
    await ensure_streams(js, settings)
    lease = relay_lease(store.db)
    assert isinstance(lease, PostgresLease)
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        assert await lease.acquire(asyncio.Event())
        relay = OutboxRelay(store, js, "testsvc", lease=lease)
        for n in range(5):
            await store.append(counted("hn", n))
        assert await relay.publish_pending() == 5
        database = postgres_url.rsplit("/", 1)[1]
        (pid,) = await _lease_holders(admin, database)
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        await wait_for(lambda: _no_holder(admin, database), what="the lease to be released by the server")

        for n in range(5, 10):
            await store.append(counted("hn", n))
        with pytest.raises(LeaseLost):
            await relay.publish_pending()
        assert (await js.stream_info(STREAM)).state.messages == 5  # nothing published without the lease
        with pytest.raises(LeaseLost):
            await relay._record(10)
        assert await relay.position() == 5  # nor recorded
        assert await lease.acquire(asyncio.Event())  # taken again: publishing resumes where it was
        assert await relay.publish_pending() == 5 and await relay.position() == 10
    finally:
        await lease.release()
        await admin.close()
        await nc.close()
        await store.db.dispose()


async def _no_holder(admin: Any, database: str) -> bool:
    return not await _lease_holders(admin, database)


# -- the store heals the stream ---------------------------------------------------------------------


async def _stream_ids(js: Any) -> list[str]:
    try:
        return [m.headers[H_MSG_ID] for m in await read_messages(js, STREAM)]
    except NotFoundError:  # not recreated yet
        return []


async def test_a_deleted_stream_is_republished_from_the_store_and_a_level_rebuilt_from_it_matches(
    settings: Settings, tmp_path: Path
) -> None:
    store = await open_store(settings)
    nc, js = await connect(settings.nats_url, "test")
    stop = asyncio.Event()
    relay = asyncio.create_task(run_supervised(store, settings, stop))
    check = OutboxRelay(store, js, "testsvc")
    try:
        for n in range(40):
            await store.append(counted(["hn.ntl", "hn.dd"][n % 2], n, stream=f"a-{n}"))
        await wait_for(lambda: _at(check, 40), what="the relay to publish")
        stop.set()
        await asyncio.wait_for(relay, 10)

        await js.delete_stream(STREAM)  # an operator's mistake, or a cluster rebuilt from scratch
        for n in range(40, 50):
            await store.append(counted("hn.ntl", n, stream=f"b-{n}"))
        stop = asyncio.Event()
        relay = asyncio.create_task(run_supervised(store, settings, stop))
        stored = [e.event_id for e in await store.read_after(0, 1000)]

        async def healed() -> bool:
            return len(await _stream_ids(js)) >= 50

        await wait_for(healed, what="the stream to be republished from the store")
        assert await _stream_ids(js) == stored  # every event once, in the store's order

        level_db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
        runner = ProjectionRunner(CountingProjection(), "hn", level_db, js, settings)
        await runner.start()
        await runner.catch_up()
        async with level_db.reader.connect() as conn:
            counts = await read_counts(conn)
        evens = [n for n in range(40) if n % 2 == 0]
        ntl = evens + list(range(40, 50))
        assert counts == {"hn.dd": (20, sum(range(1, 40, 2))), "hn.ntl": (len(ntl), sum(ntl))}
        await level_db.dispose()
    finally:
        stop.set()
        await asyncio.gather(relay, return_exceptions=True)
        await nc.close()
        await store.db.dispose()


async def test_a_tail_lost_by_the_server_is_republished_after_the_relay_reconnects(
    settings: Settings, nats_server: NatsServer
) -> None:
    """A power cut loses what the server had not fsynced; here the tail is deleted and the server restarted
    (it then rebuilds its duplicate table from what it holds, as after a power cut). The running relay
    notices on reconnect and republishes the tail."""
    store = await open_store(settings)
    stop = asyncio.Event()
    started: list[OutboxRelay] = []
    relay = asyncio.create_task(run_supervised(store, settings, stop, started.append))
    nc, js = await connect(settings.nats_url, "test")
    check = OutboxRelay(store, js, "testsvc")
    try:
        for n in range(30):
            await store.append(counted("hn", n, stream=f"a-{n}"))
        await wait_for(lambda: _at(check, 30), what="the relay to publish")
        last = (await js.stream_info(STREAM)).state.last_seq
        for seq in range(last - 11, last + 1):  # the last 12 events are gone
            await js.delete_msg(STREAM, seq)
        await nc.close()
        nats_server.stop()
        nats_server.start()
        nc, js = await connect(settings.nats_url, "test")
        stored = [e.event_id for e in await store.read_after(0, 1000)]

        async def healed() -> bool:
            return len(await _stream_ids(js)) >= 30

        await wait_for(healed, 30, "the lost tail to be republished")
        assert await _stream_ids(js) == stored
        assert started[-1].healed == 12
    finally:
        stop.set()
        await asyncio.gather(relay, return_exceptions=True)
        await nc.close()
        await store.db.dispose()


async def _at(relay: OutboxRelay, position: int) -> bool:
    return await relay.position() == position
