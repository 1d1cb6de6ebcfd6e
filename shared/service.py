"""The wiring every service shares: database, migrations, event store, in-process relay, HTTP app,
and (for every service but the directory) the service's copy of the directory.

A service's ``main.py`` says only what is its own: its inline read models, its routes, its start-up
work (tables) and any background consumers it runs.
"""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse

from shared.db import Database, open_database
from shared.directory_copy import DirectoryCopy
from shared.eventstore import EventStore
from shared.eventstore.migrate import migrate
from shared.eventstore.store import InlineProjection
from shared.http import create_app
from shared.messaging import connect, ensure_streams
from shared.projection import Projection
from shared.relay import RelayLease, relay_backlog, relay_lease, run_supervised
from shared.runner import ProjectionRunner
from shared.settings import Settings
from shared.telemetry import setup_telemetry
from shared.upward import UpwardRequests, settle_task

log = logging.getLogger(__name__)

StartHook = Callable[[FastAPI], Awaitable[None]]
BackgroundTask = Callable[[FastAPI, asyncio.Event], Awaitable[None]]


def service_app(
    settings: Settings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    inline: Callable[[Database], Sequence[InlineProjection]] = lambda _db: (),
    on_start: Sequence[StartHook] = (),
    background: Sequence[BackgroundTask] = (),
    directory_copy: bool = True,
    upward: Callable[[FastAPI], UpwardRequests] | None = None,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app whose lifespan migrates the store, runs the start hooks, then the relay and tasks.

    ``app.state`` carries ``settings``, ``db``, ``store``, ``inline`` (the inline read models),
    ``directory`` (the service's copy of the directory, kept from JetStream while the relay runs; the
    directory service sets its own tree instead) and, once connected, ``relay``. ``upward``: the
    service's requests waiting at a level above their unit, re-addressed when the tree changes under
    them (``shared.upward``).
    """
    settings.check_deployable()
    setup_telemetry(settings)
    db = open_database(settings.database_url, pool_size=settings.database_pool_size)
    inline_models = list(inline(db))
    store = EventStore(db, inline=inline_models, idempotency_retention=timedelta(days=settings.idempotency_retention))
    copy = DirectoryCopy(db, name=f"{settings.service}_directory_copy") if directory_copy else None
    tasks_to_run = list(background)
    if copy is not None and settings.relay_enabled:  # without NATS (tests) the copy is fed by hand
        tasks_to_run.insert(0, consumer_task(lambda: copy, durable=copy.name))
        if upward is not None:  # requests waiting upward follow the tree (shared.upward)
            tasks_to_run.append(settle_task(upward))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with db.startup_lock():  # replicas starting together migrate one after the other
            await migrate(db)
            if copy is not None:
                await copy.create_tables()  # read models are rebuildable: created, not migrated
            for hook in on_start:
                await hook(app)
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        if settings.relay_enabled:

            def remember(relay: Any) -> None:
                app.state.relay = relay

            tasks.append(asyncio.create_task(run_supervised(store, settings, stop, remember), name="relay"))
        tasks += [asyncio.create_task(task(app, stop), name=getattr(task, "__name__", "task")) for task in tasks_to_run]
        try:
            with steady_gc():  # the start-up's objects frozen, young collections rarer
                yield
        finally:
            stop.set()
            for task in tasks:
                try:
                    await asyncio.wait_for(task, timeout=5)
                except (TimeoutError, asyncio.CancelledError):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                except Exception:
                    log.exception("background task %s failed on shutdown", task.get_name())
            await store.close()
            await db.dispose()

    app = create_app(settings, title=title, lifespan=lifespan, **fastapi_kwargs)
    app.state.db, app.state.store, app.state.inline = db, store, inline_models
    if copy is not None:
        app.state.directory = copy
    for router in routers:
        app.include_router(router)
    app.add_api_route("/metrics", relay_metrics(settings, db), include_in_schema=False, tags=["ops"])
    return app


GC_YOUNG_THRESHOLD = 10_000


@contextlib.contextmanager
def steady_gc() -> Iterator[None]:
    """The cyclic garbage collector tuned for a server that has started: what exists then is frozen (a full
    collection no longer walks the app, its routes, models and caches), and a young collection waits for
    ``GC_YOUNG_THRESHOLD`` new container objects instead of 700.

    Under load the default collected the young generation every couple of requests, promoting the objects
    of the ~64 requests in flight, so a full collection of the ~150,000 objects of the directory ran every
    ~1,000 commands: 15% of its CPU (py-spy --native, ``tests/benchmarks/latency.py``). Garbage is still
    collected; a request's objects are freed by reference counting as before. The previous thresholds and
    the frozen objects are given back when the service stops (tests start many apps in one process).
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], GC_YOUNG_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def relay_metrics(settings: Settings, db: Database) -> Callable[..., Awaitable[PlainTextResponse]]:
    """``GET /metrics`` (Prometheus text): the store's relay backlog, what an operator or KEDA watches.

    ``thidua_relay_backlog`` is read from the store, so every replica reports the same figure whichever
    holds the relay's lease; ``thidua_relay_publishing`` says whether this replica's relay holds it.
    """

    async def metrics(request: Request) -> PlainTextResponse:
        relay = getattr(request.app.state, "relay", None)
        publishing = relay is not None and relay.lease is not None and relay.lease.holding
        labels = f'service="{settings.service}"'
        lines = [
            "# HELP thidua_relay_backlog Events stored but not yet published to JetStream.",
            "# TYPE thidua_relay_backlog gauge",
            f"thidua_relay_backlog{{{labels}}} {await relay_backlog(db)}",
            "# HELP thidua_relay_publishing 1 while this replica's relay holds the store's lease.",
            "# TYPE thidua_relay_publishing gauge",
            f"thidua_relay_publishing{{{labels}}} {int(publishing)}",
            "# HELP thidua_relay_published_total Events this replica's relay has published since it took the lease.",
            "# TYPE thidua_relay_published_total counter",
            f"thidua_relay_published_total{{{labels}}} {relay.published if relay is not None else 0}",
        ]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

    return metrics


def consumer_task(projection: Callable[[], Projection], level: str = "*", durable: str | None = None) -> BackgroundTask:
    """A background task that keeps ``projection`` in the service's own database from JetStream.

    For a service's own view of other services' events (e.g. its copy of the directory): same runner,
    same checkpoints and dead letters as a level host. ``app.state.consumers`` lists the runners for
    health checks.

    The replicas of a service share this durable consumer and its checkpoint, so one replica applies at a
    time (a lease like the relay's): two appliers could each take a batch and commit them out of stream
    order, and the checkpoint would then skip the earlier batch or move back and repeat the later one. A
    replica that loses the lease stops its runner; another takes over from the checkpoint.
    """

    async def run(app: FastAPI, stop: asyncio.Event) -> None:
        settings: Settings = app.state.settings
        name = durable or getattr(projection, "name", "projection")
        lease = relay_lease(app.state.db, f"consumer:{name}")
        while not stop.is_set():
            if not await lease.acquire(stop):
                return
            mine = asyncio.Event()  # set when the service stops or the lease is lost
            watch = asyncio.create_task(_keep(lease, stop, mine), name=f"lease-{name}")
            try:
                await _consume(app, settings, projection, level, durable, mine)
            finally:
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watch
                await lease.release()

    run.__name__ = f"consume-{getattr(projection, 'name', 'projection')}"
    return run


async def _keep(lease: RelayLease, stop: asyncio.Event, mine: asyncio.Event, every: float = 2.0) -> None:
    """Set ``mine`` once the service stops or the lease is no longer held (checked every ``every`` s)."""
    while not mine.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if stop.is_set() or not await lease.held():
            mine.set()


async def _consume(
    app: FastAPI,
    settings: Settings,
    projection: Callable[[], Projection],
    level: str,
    durable: str | None,
    mine: asyncio.Event,
) -> None:
    """Run the projection while ``mine`` is not set, reconnecting to NATS as needed."""
    runner: ProjectionRunner | None = None
    while not mine.is_set():
        try:
            nc, js = await connect(settings.nats_url, f"thidua-{settings.service}-consumer")
        except Exception as error:
            log.warning("consumer cannot reach NATS (%s); retrying", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(mine.wait(), 1.0)
            continue
        try:
            await ensure_streams(js, settings)
            runner = ProjectionRunner(projection(), level, app.state.db, js, settings, durable=durable)
            await runner.start()
            others = [c for c in getattr(app.state, "consumers", []) if c.durable != runner.durable]
            app.state.consumers = [*others, runner]
            await runner.run(mine)
        except Exception as error:
            log.warning("consumer stopped (%s); restarting", error)
            await asyncio.sleep(1.0)
        finally:
            await nc.close()
    # A replica without the lease lists no runner of this consumer (its health says it is standing by).
    app.state.consumers = [c for c in getattr(app.state, "consumers", []) if c is not runner]
