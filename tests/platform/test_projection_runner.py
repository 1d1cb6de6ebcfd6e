"""Projection runner on a real nats-server: scoped filters, crash mid-batch, poison to the DLQ, rebuild."""

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from shared.db import Database, open_database
from shared.eventstore import EventStore
from shared.eventstore.migrate import migrate
from shared.messaging import connect, ensure_streams
from shared.projection import on
from shared.relay import OutboxRelay
from shared.runner import ProjectionRunner, checkpoints, read_messages
from shared.settings import Settings
from shared.subjects import DLQ_STREAM, STREAM
from tests.natsserver import free_port
from tests.platform.counting import Counted, CountingProjection, FoldingCountingProjection, counted, read_counts
from tests.platform.helpers import spawn, wait_for


async def publish(settings: Settings, appends: list) -> None:
    db = open_database(settings.database_url)
    await migrate(db)
    store = EventStore(db)
    for append in appends:
        await store.append(append)
    nc, js = await connect(settings.nats_url, "publisher")
    await ensure_streams(js, settings)
    await OutboxRelay(store, js, "testsvc").publish_pending()
    await nc.close()
    await store.close()
    await db.dispose()


async def counts_of(db: Database) -> dict[str, tuple[int, int]]:
    async with db.reader.connect() as conn:
        return await read_counts(conn)


async def test_each_level_sees_its_subtree_and_its_ancestors_own_events(settings: Settings, tmp_path: Path) -> None:
    paths = ["hn", "hn.ntl", "hn.ntl.fecon", "hn.ntl.fecon.to1", "hn.dd", "hn.dd.x", "hn.ntlx"]
    await publish(settings, [counted(p, 1, stream=f"s-{p}") for p in paths])
    nc, js = await connect(settings.nats_url, "levels")
    seen = {}
    for scope in ("hn", "hn.ntl", "hn.dd"):
        db = open_database(f"sqlite+aiosqlite:///{tmp_path}/{scope}.db")
        runner = ProjectionRunner(CountingProjection(), scope, db, js, settings)
        await runner.start()
        await runner.catch_up()
        seen[scope] = set(await counts_of(db))
        await db.dispose()
    await nc.close()
    assert seen["hn"] == set(paths)
    assert seen["hn.ntl"] == {"hn", "hn.ntl", "hn.ntl.fecon", "hn.ntl.fecon.to1"}  # not hn.ntlx, not hn.dd
    assert seen["hn.dd"] == {"hn", "hn.dd", "hn.dd.x"}


async def test_projector_killed_mid_batch_equals_a_fresh_rebuild(settings: Settings, tmp_path: Path) -> None:
    await publish(settings, [counted(f"hn.ntl.u{n % 7}", n, stream=f"m-{n}") for n in range(1200)])
    level_url = f"sqlite+aiosqlite:///{tmp_path}/level-hn.db"
    env = {
        "THIDUA_TEST_FOLD": "1",
        "THIDUA_NATS_URL": settings.nats_url,
        "THIDUA_PROJECTION_ACK_WAIT_SECONDS": "2",
        "THIDUA_PROJECTION_BATCH": "200",
        "THIDUA_LOG_JSON": "false",
    }
    level = open_database(level_url)

    async def checkpoint() -> int:
        async with level.reader.connect() as conn:
            try:
                return (await conn.scalar(select(checkpoints.c.last_sequence))) or 0
            except Exception:  # table not created yet
                return 0

    async def first_batch_done() -> bool:
        return await checkpoint() > 0

    projector = spawn(
        "tests.platform.counting", {**env, "THIDUA_TEST_APPLY_DELAY": "0.004"}, "--level", "hn", "--db", level_url
    )
    try:
        await wait_for(first_batch_done, what="the first batch to commit")
        await asyncio.sleep(0.3)  # well inside the next batch
        projector.send_signal(signal.SIGKILL)
        projector.wait(10)
        killed_at = await checkpoint()
        assert 0 < killed_at < 1200

        projector = spawn("tests.platform.counting", env, "--level", "hn", "--db", level_url)

        async def caught_up() -> bool:
            return await checkpoint() == 1200

        await wait_for(caught_up, seconds=30, what="the restarted projector to catch up")
    finally:
        projector.send_signal(signal.SIGTERM)
        projector.wait(10)

    nc, js = await connect(settings.nats_url, "rebuild")
    fresh = open_database(f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    rebuilt = ProjectionRunner(CountingProjection(), "hn", fresh, js, settings, durable="counting_fresh")
    await rebuilt.start()
    await rebuilt.rebuild()
    after_crash, from_scratch = await counts_of(level), await counts_of(fresh)
    assert sum(events for events, _ in after_crash.values()) == 1200
    assert after_crash == from_scratch
    await nc.close()
    await level.dispose()
    await fresh.dispose()


@pytest.mark.parametrize("projection", [CountingProjection, FoldingCountingProjection])
async def test_a_poison_event_goes_to_the_dlq_and_later_events_still_apply(
    settings: Settings, tmp_path: Path, projection: type[CountingProjection]
) -> None:
    appends = [counted("hn.ntl", n, stream=f"p-{n}") for n in range(5)]
    appends.append(counted("hn.ntl", 100, stream="poison", poison=True))
    appends += [counted("hn.ntl", n, stream=f"q-{n}") for n in range(5, 10)]
    await publish(settings, appends)
    nc, js = await connect(settings.nats_url, "poison")
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
    runner = ProjectionRunner(projection(), "hn", db, js, settings)
    await runner.start()
    await runner.catch_up()
    assert await counts_of(db) == {"hn.ntl": (10, sum(range(10)))}
    dead = await read_messages(js, DLQ_STREAM)
    assert len(dead) == 1
    assert "is poison" in dead[0].headers["Thidua-Error"]
    assert dead[0].headers["Thidua-Attempts"] == str(settings.projection_max_deliver)
    assert dead[0].headers["Thidua-Original-Subject"] == "thidua.testsvc.counted.hn.ntl"
    assert runner.dead_lettered == 1
    assert await runner.checkpoint() == len(await read_messages(js, STREAM))
    await nc.close()
    await db.dispose()


async def test_rebuild_gives_the_same_read_model(settings: Settings, tmp_path: Path) -> None:
    await publish(settings, [counted(f"hn.dd.u{n % 3}", n, stream=f"r-{n}") for n in range(90)])
    nc, js = await connect(settings.nats_url, "rebuild")
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
    runner = ProjectionRunner(CountingProjection(), "hn.dd", db, js, settings)
    await runner.start()
    await runner.catch_up()
    before = await counts_of(db)
    await runner.rebuild()
    assert await counts_of(db) == before
    assert sum(e for e, _ in before.values()) == 90
    await nc.close()
    await db.dispose()


async def test_a_changed_filter_recreates_the_consumer_from_the_checkpoint(settings: Settings, tmp_path: Path) -> None:
    await publish(settings, [counted("hn.ntl", n, stream=f"c-{n}") for n in range(5)])
    nc, js = await connect(settings.nats_url, "filters")
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
    first = ProjectionRunner(CountingProjection(), "hn", db, js, settings, durable="shared_name")
    await first.start()
    await first.catch_up()
    second = ProjectionRunner(CountingProjection(), "hn.ntl", db, js, settings, durable="shared_name")
    second.level = "hn"  # same checkpoint row, different filters: the consumer must be recreated
    await second.start()
    info = await js.consumer_info(STREAM, "shared_name")
    assert sorted(info.config.filter_subjects) == sorted(second.filters)
    await second.catch_up()
    assert await counts_of(db) == {"hn.ntl": (5, 10)}  # nothing applied twice
    await nc.close()
    await db.dispose()


async def test_a_dropped_level_database_replays_from_the_start_by_itself(settings: Settings, tmp_path: Path) -> None:
    """The read model's checkpoint is the truth: the durable consumer's old position must not leave a
    recreated database empty, and the level is not healthy until it has caught up again."""
    await publish(settings, [counted(f"hn.ntl.u{n % 4}", n, stream=f"d-{n}") for n in range(40)])
    nc, js = await connect(settings.nats_url, "dropped")
    level = tmp_path / "level.db"
    db = open_database(f"sqlite+aiosqlite:///{level}")
    runner = ProjectionRunner(CountingProjection(), "hn", db, js, settings)
    await runner.start()
    await runner.catch_up()
    before = await counts_of(db)
    assert runner.healthy and sum(e for e, _ in before.values()) == 40
    await db.dispose()
    for name in ("level.db", "level.db-wal", "level.db-shm"):  # the operator deletes the level's database
        (tmp_path / name).unlink(missing_ok=True)

    db = open_database(f"sqlite+aiosqlite:///{level}")
    again = ProjectionRunner(CountingProjection(), "hn", db, js, settings)
    await again.start()
    assert not again.healthy and again.health()["caught_up"] is False and again.pending == 40
    await again.catch_up()
    assert await counts_of(db) == before and again.healthy
    await nc.close()
    await db.dispose()


async def test_the_level_host_process_serves_its_health(settings: Settings, tmp_path: Path) -> None:
    await publish(settings, [counted("hn.ntl", 1, stream="h-1")])
    port = free_port()
    env = {"THIDUA_NATS_URL": settings.nats_url, "THIDUA_LOG_JSON": "false"}
    level_url = f"sqlite+aiosqlite:///{tmp_path}/level.db"
    projector = spawn("tests.platform.counting", env, "--level", "hn", "--db", level_url, "--port", str(port))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def healthy() -> bool:
                try:
                    response = await client.get("/health")
                except httpx.HTTPError:
                    return False
                return response.status_code == 200 and response.json()["levels"]["hn"]["applied"] == 1

            await wait_for(healthy, what="the level host to report its health")
            health = (await client.get("/health")).json()["levels"]["hn"]
        assert health["consumer"] == "counting__hn" and health["fetching"] is True and health["caught_up"] is True
    finally:
        projector.send_signal(signal.SIGTERM)
        assert projector.wait(10) == 0  # a clean stop on SIGTERM


async def test_a_live_event_is_applied_when_it_comes_not_when_the_wait_ends(settings: Settings, tmp_path: Path) -> None:
    """A caught-up runner waiting for the next event returns with it, not at the end of its wait."""
    nc, js = await connect(settings.nats_url, "live")
    await ensure_streams(js, settings)
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
    runner = ProjectionRunner(CountingProjection(), "hn", db, js, settings)
    await runner.start()
    waiting = asyncio.create_task(runner.step(wait=10.0))
    await asyncio.sleep(0.3)
    published = asyncio.get_running_loop().time()
    await publish(settings, [counted("hn.ntl", 7, stream="live-1")])
    assert await asyncio.wait_for(waiting, 5.0) == 1
    assert asyncio.get_running_loop().time() - published < 3.0  # not the 10 s wait
    assert await counts_of(db) == {"hn.ntl": (1, 7)}
    await nc.close()
    await db.dispose()


async def test_a_binding_dropped_between_batches_loses_and_doubles_nothing(settings: Settings, tmp_path: Path) -> None:
    """The runner's pull requests never outlive a fetch: after the binding is dropped (a lost ack, a
    reconnect, a level host rebinding), every event is still applied exactly once."""
    await publish(settings, [counted(f"hn.ntl.u{n % 5}", n, stream=f"b-{n}") for n in range(300)])
    nc, js = await connect(settings.nats_url, "dropped-binding")
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
    runner = ProjectionRunner(
        FoldingCountingProjection(), "hn", db, js, settings.model_copy(update={"projection_batch": 64})
    )
    await runner.start()
    for _ in range(3):
        assert await runner.step(wait=1.0) > 0
        runner._sub = None  # as LevelRunner.rebind does after a reconnect: the old inbox is not stopped
    await runner.catch_up()
    counts = await counts_of(db)
    assert sum(e for e, _ in counts.values()) == 300
    assert sum(t for _, t in counts.values()) == sum(range(300))
    await nc.close()
    await db.dispose()


class _FailsTwiceOnOne(CountingProjection):
    """Event n=1 fails its first two attempts (the batch's, then its own), as a database hiccup would."""

    attempts = 0

    @on(Counted)
    async def counted(self, conn, event, ctx):  # type: ignore[no-untyped-def,override]
        if event.n == 1 and _FailsTwiceOnOne.attempts < 2:
            _FailsTwiceOnOne.attempts += 1
            raise RuntimeError("a passing failure")
        await CountingProjection.counted(self, conn, event, ctx)


async def test_no_newer_message_overtakes_a_failed_one(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server keeps a nak'ed message 1.5 s longer than the runner waits before its next fetch. A newer
    message applied meanwhile would move the checkpoint past the failed one and its batch, which would be
    skipped when they came back; nats-server delivers nothing newer to this consumer (AckPolicy.ALL, one
    batch in flight) until they are back, and the runner applies them in order."""
    from nats.aio.msg import Msg

    nak = Msg.nak

    async def slow_nak(self: Msg, delay: float | None = None) -> None:
        await nak(self, delay=(delay or 0) + 1.5)

    monkeypatch.setattr(Msg, "nak", slow_nak)
    settings.projection_batch = 4
    await publish(settings, [counted("hn.ntl", n) for n in range(10)])
    nc, js = await connect(settings.nats_url, "overtaken")
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
    runner = ProjectionRunner(_FailsTwiceOnOne(), "hn", db, js, settings)
    await runner.start()
    await runner.catch_up(idle_timeout=0.5, deadline=60)
    assert _FailsTwiceOnOne.attempts == 2 and runner.dead_lettered == 0
    assert await counts_of(db) == {"hn.ntl": (10, sum(range(10)))}  # every event once, none skipped
    assert await runner.checkpoint() == 10
    await nc.close()
    await db.dispose()


async def test_a_message_delivered_twice_in_one_batch_is_applied_once(settings: Settings, tmp_path: Path) -> None:
    """A delivery that came after its fetch gave up (the puller keeps it for the next fetch) and its
    redelivery after the ack wait can reach one batch together: the batch applies each stream sequence once
    and acks the later delivery. (A relay test saw 51 applications of 50 events after a NATS restart.)"""
    await publish(settings, [counted("hn.ntl", n, stream=f"twice-{n}") for n in range(3)])
    nc, js = await connect(settings.nats_url, "twice")
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
    runner = ProjectionRunner(CountingProjection(), "hn", db, js, settings)
    await runner.start()
    await runner._bind()
    assert runner._puller is not None
    first = await runner._puller.fetch(3, 1.0)  # delivered, never acked
    await asyncio.sleep(settings.projection_ack_wait_seconds + 0.5)
    again = await runner._puller.fetch(3, 1.0)  # redelivered after the ack wait
    assert [m.metadata.num_delivered for m in again] == [2, 2, 2]
    await runner._handle([*first, *again])
    assert (await counts_of(db))["hn.ntl"] == (3, 0 + 1 + 2)
    assert runner.applied == 3
    await runner.catch_up()  # nothing left pending: the later deliveries were acked
    info = await js.consumer_info(STREAM, runner.durable)
    assert (info.num_ack_pending, info.num_pending) == (0, 0)
    assert (await counts_of(db))["hn.ntl"] == (3, 3)
    await nc.close()
    await db.dispose()
