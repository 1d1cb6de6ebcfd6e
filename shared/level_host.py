"""The level host: one process serves many levels of one service's projection.

    python -m services.registry.entrypoints.projector --level hn --level hn.ntl --port 8202

Each level keeps its own durable consumer, checkpoint and database (``--db``, a URL template with
``{projection}`` and ``{level}``; ``{level}`` is ``directory_<host name>`` for the host's own copy of the
directory), so it can be rebuilt alone. Reads are at ``/levels/{level}/…``
behind the same bearer token and subtree rule as the services: the host keeps its own copy of the
directory to know who is calling. ``GET /levels`` lists what this host serves; ``GET /health`` is 503
until every level has caught up with the stream; ``POST /levels/{level}/rebuild`` (admin) drops a
level's read model and replays it while the others keep serving.

A deployment assigns levels to hosts: a small city runs one host per service with every level; a large
one splits the levels of a service across hosts (e.g. the city and half the districts on one, the other
districts on another), each host started with its own ``--level`` list and its own ``--name`` (the
durable consumer of its copy of the directory is the host's own).

A district's deployment runs its host under its own NATS account, which may read and ack the consumers
an operator created for it and nothing else: with ``THIDUA_LEVEL_ATTACH_ONLY=true`` the host binds to
them by name and calls no other JetStream API, and its copy of the directory follows only its levels'
subjects. The operator creates those consumers beforehand by running the same command with
``--provision`` as the city's admin user.

A level whose stream was replaced under it starts over by itself (``LevelRunner``): its checkpoint is a
stream sequence, which means nothing in a recreated stream.
"""

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError as NatsNotFound
from sqlalchemy import Column, MetaData, String, Table, select

from shared.auth import CurrentCaller
from shared.db import Database, open_database
from shared.directory_copy import DirectoryCopy
from shared.errors import Conflict, Forbidden, NotFound
from shared.http import create_app
from shared.identity import Caller
from shared.messaging import connect, ensure_streams
from shared.projection import Projection
from shared.runner import ProjectionRunner, checkpoints, consumer_name, outermost
from shared.settings import Settings
from shared.subjects import STREAM, in_subtree, level_filters
from shared.telemetry import setup_telemetry

log = logging.getLogger(__name__)

DEFAULT_DB = "sqlite+aiosqlite:///data/levels/{projection}-{level}.db"


@dataclass
class LevelRead:
    """A read at one level, by one caller: the level's database and the rule for what they may see."""

    level: str
    db: Database
    caller: Caller

    def unit(self, path: str | None = None, field: str = "unit") -> str:
        """The unit a read is about: ``path`` if given, else the level (or the caller's own unit, for a
        caller below the level). It must be inside the level and the caller's subtree."""
        if path is None:
            if self.caller.sees(self.level):
                return self.level
            if self.caller.unit is not None and in_subtree(self.caller.unit_path, self.level):
                return self.caller.unit_path
            raise Forbidden(f"the level {self.level} is outside your unit {self.caller.unit_path}", field=field)
        if not in_subtree(path, self.level):
            raise NotFound(f"{path} is not in the level {self.level}", field=field)
        self.caller.require_subtree(path, field)
        return path

    def require_level(self) -> None:
        """Views of the level as a whole (its inbox): its own officials and the levels above."""
        self.caller.require_subtree(self.level, "level")


# The stream a level's checkpoint counts in: its creation time, as the server reports it.
source_metadata = MetaData()
level_sources = Table(
    "level_sources",
    source_metadata,
    Column("projection", String(100), primary_key=True),
    Column("level", String(400), primary_key=True),
    Column("stream_created", String(40), nullable=False),
)


class LevelRunner(ProjectionRunner):
    """The projection runner as a level host runs it: attach-only if told, and a level whose stream was
    replaced starts over instead of skipping what it believes it has applied.

    Attach-only, it binds its durable consumer by name and calls no JetStream API: a district's account
    may pull from and ack its consumers, and JetStream answers even their info only in the stream's own
    account.

    A checkpoint is a stream sequence. After the stream was deleted and recreated (the relays refill it
    from their stores, in a new interleaving) or lost its tail, the sequences below it are other events:
    - with the stream's info (the city's account), at start and at every rebind (a lost consumer, a
      reconnect): a stream created after the one the checkpoint was recorded in, or ending before the
      checkpoint, drops the read model and its checkpoint, and the consumer is recreated from the start;
    - attached: a consumer's very first delivery (consumer sequence 1, delivered once) while the level
      holds a checkpoint means the consumer is new, and an operator provisions consumers from the
      stream's start (after a stream was recreated, or to rebuild a level): the level starts over with it.
    """

    def __init__(self, *args: Any, attach_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attach_only = attach_only
        self.started_over: list[str] = []  # why, each time the level started over by itself

    def consumer_config(self) -> ConsumerConfig:
        """The consumer an operator provisions for this level: its filters, from the stream's start."""
        return self._config(0)

    async def start(self) -> None:
        async with self.db.writer.begin() as conn:
            await conn.run_sync(source_metadata.create_all)
        await super().start()

    def rebind(self) -> None:
        """Bind (and check the stream) again before the next fetch (called after a NATS reconnect)."""
        self._sub = None

    async def _ensure_consumer(self) -> None:
        if self.attach_only:  # pulling and acking need no JetStream API
            await self._bind()
            return
        await self._check_stream()
        await super()._ensure_consumer()

    async def _check_stream(self) -> None:
        info = await self.js.stream_info(STREAM)
        created = info.created.isoformat() if info.created else ""
        key = (level_sources.c.projection == self.projection.name) & (level_sources.c.level == self.level)
        async with self.db.reader.connect() as conn:
            recorded = await conn.scalar(select(level_sources.c.stream_created).where(key))
        checkpoint = await self.checkpoint()
        if checkpoint and recorded is not None and recorded != created:
            await self.start_over(f"the stream {STREAM} was recreated (created {recorded}, now {created})")
        elif checkpoint > info.state.last_seq:
            await self.start_over(
                f"the stream {STREAM} ends at {info.state.last_seq}, before the checkpoint {checkpoint}"
            )
        if recorded != created:
            async with self.db.writer.begin() as conn:
                await conn.execute(level_sources.delete().where(key))
                await conn.execute(
                    level_sources.insert().values(
                        projection=self.projection.name, level=self.level, stream_created=created
                    )
                )

    async def _handle(self, msgs: list[Msg]) -> None:
        first = msgs[0].metadata
        if self.attach_only and first.sequence.consumer == 1 and first.num_delivered == 1 and await self.checkpoint():
            await self.start_over(f"its consumer {self.durable} is new (first delivery: #{first.sequence.stream})")
        await super()._handle(msgs)

    async def start_over(self, why: str) -> None:
        """Drop the read model and its checkpoint: the level replays what its consumer delivers from now."""
        log.warning("level %s of %s starts over: %s", self.level, self.projection.name, why)
        async with self.db.writer.begin() as conn:
            for metadata in self._metadatas():
                await conn.run_sync(metadata.drop_all)
                await conn.run_sync(metadata.create_all)
            await conn.execute(
                checkpoints.delete().where(
                    checkpoints.c.projection == self.projection.name, checkpoints.c.level == self.level
                )
            )
        self._forget()
        self.caught_up = False
        self.started_over.append(why)

    def health(self) -> dict[str, Any]:
        return {**super().health(), "attach_only": self.attach_only, "started_over": self.started_over[-3:]}


def copy_filters(levels: Sequence[str]) -> list[str]:
    """What an attached host's copy of the directory follows: its levels' subtrees and their ancestors'
    own subjects (the people who may read those levels), without overlap (JetStream refuses it)."""
    filters = {f for level in outermost(levels) for f in level_filters(level, "directory")}
    return sorted(filters)


async def provision(js: JetStreamContext, runners: Sequence[LevelRunner]) -> None:
    """Create each consumer a host attaches to, from the stream's start; an existing one is kept."""
    for runner in runners:
        try:
            info = await js.consumer_info(STREAM, runner.durable)
        except NatsNotFound:
            await js.add_consumer(STREAM, runner.consumer_config())
            print(f"{runner.durable}: created, filtered to {' '.join(runner.filters)}")
            continue
        print(f"{runner.durable}: kept (exists, {info.num_pending} pending)")


@dataclass
class Host:
    projection: str
    levels: dict[str, LevelRunner] = field(default_factory=dict)
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    directory: LevelRunner | None = None

    def rebind(self) -> None:
        for runner in [*self.levels.values(), *([self.directory] if self.directory else [])]:
            runner.rebind()


async def level_read(request: Request, level: str, caller: CurrentCaller) -> LevelRead:
    host: Host = request.app.state.host
    runner = host.levels.get(level)
    if runner is None:
        raise NotFound(f"this host serves the levels {', '.join(sorted(host.levels))}, not {level}", field="level")
    return LevelRead(level, runner.db, caller)


Level = Annotated[LevelRead, Depends(level_read)]


def host_app(
    settings: Settings, host: Host, copy: DirectoryCopy, reads: APIRouter | None, stop: asyncio.Event
) -> FastAPI:
    app = create_app(settings, title=f"thidua level host ({host.projection})")
    app.state.directory, app.state.host = copy, host

    @app.get("/health", tags=["ops"])
    async def health() -> JSONResponse:
        levels = {level: runner.health() for level, runner in host.levels.items()}
        runners = [*host.levels.values(), *([host.directory] if host.directory else [])]
        ok = all(runner.healthy for runner in runners)
        body = {"status": "ok" if ok else "catching up", "projection": host.projection, "levels": levels}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/levels", tags=["ops"])
    async def levels(caller: CurrentCaller) -> dict[str, Any]:
        return {"projection": host.projection, "levels": sorted(host.levels)}

    @app.post("/levels/{level}/rebuild", tags=["ops"])
    async def rebuild(level: str, caller: CurrentCaller) -> dict[str, Any]:
        """Drop the level's read model and replay it from the stream (the other levels keep serving)."""
        caller.require_role("admin")
        runner = host.levels.get(level)
        if runner is None:
            raise NotFound(f"this host does not serve the level {level}", field="level")
        if runner.attach_only:
            raise Conflict(
                f"the level {level} is attached to a consumer it may not delete: an operator deletes "
                f"{runner.durable} and provisions it again (--provision), and the level starts over by itself",
                field="level",
            )
        task = host.tasks.pop(level, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runner.rebuild()
        host.tasks[level] = asyncio.create_task(runner.run(stop), name=f"level-{level}")
        return {"level": level, "applied": runner.applied, "checkpoint": await runner.checkpoint()}

    if reads is not None:
        app.include_router(reads, prefix="/levels/{level}")
    return app


def _arguments(projection: str, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=f"level host for {projection}")
    parser.add_argument("--level", action="append", required=True, help="a level to serve, e.g. hn (repeatable)")
    parser.add_argument("--db", default=DEFAULT_DB, help="database URL template ({projection}, {level})")
    parser.add_argument("--rebuild", action="store_true", help="drop the levels' read models and replay first")
    parser.add_argument("--port", type=int, help="serve /health and /levels/{level}/… on this port")
    parser.add_argument(
        "--name",
        help="this host's name, unique per projection (default: its levels); names its directory copy's consumer",
    )
    parser.add_argument(
        "--provision",
        action="store_true",
        help="create the consumers an attach-only host binds to (as the city's admin user), then exit",
    )
    args = parser.parse_args(argv)
    args.name = args.name or "-".join(args.level)
    return args


async def run_host(
    factory: Callable[[], Projection], reads: APIRouter | None = None, argv: list[str] | None = None
) -> None:
    name = factory().name
    args = _arguments(name, argv)
    settings = Settings()
    settings.check_deployable()
    setup_telemetry(settings)
    attach = settings.level_attach_only and not args.provision
    if attach and args.rebuild:
        raise SystemExit(
            "--rebuild needs rights an attach-only host has not: an operator provisions its consumers again"
        )
    host = Host(name)
    nc, js = await connect(settings.nats_url, f"thidua-{name}-host", after_reconnect=lambda: host.rebind())
    if not attach:  # an attached host may not read the stream's info, let alone create it
        await ensure_streams(js, settings)
    databases: list[Database] = []

    def database(level: str) -> Database:
        databases.append(
            open_database(args.db.format(projection=name, level=level), pool_size=settings.database_pool_size)
        )
        return databases[-1]

    copy_db = database(f"directory_{args.name}")  # the host's own: two hosts' copies never share a checkpoint
    copy = DirectoryCopy(copy_db, name=f"{name}_host_directory")
    durable = consumer_name(f"{name}_host_directory", args.name)
    host.directory = LevelRunner(copy, "*", copy_db, js, settings, durable=durable, attach_only=attach)
    if settings.level_attach_only:  # a district's copy: the people of its levels and above, no one else's
        host.directory.filters = copy_filters(args.level)
    for level in args.level:
        host.levels[level] = LevelRunner(factory(), level, database(level), js, settings, attach_only=attach)
    if args.provision:
        await provision(js, [*host.levels.values(), host.directory])
        await nc.close()
        return
    await host.directory.start()
    for runner in host.levels.values():
        await runner.start()
        if args.rebuild:
            await runner.rebuild()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    background = [asyncio.create_task(host.directory.run(stop), name="directory-copy")]
    host.tasks = {level: asyncio.create_task(r.run(stop), name=f"level-{level}") for level, r in host.levels.items()}
    server = None
    if args.port:
        config = uvicorn.Config(
            host_app(settings, host, copy, reads, stop), host="127.0.0.1", port=args.port, log_level="warning"
        )
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        background.append(asyncio.create_task(server.serve(), name="http"))
    log.info("level host %s (%s) serves %s%s", name, args.name, ", ".join(args.level), " attached" if attach else "")
    await stop.wait()
    if server is not None:
        server.should_exit = True
    for task in [*host.tasks.values(), *background]:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 5)
    await nc.close()
    for db in databases:
        await db.dispose()


def level_host_main(factory: Callable[[], Projection], reads: APIRouter | None = None) -> None:
    asyncio.run(run_host(factory, reads))
