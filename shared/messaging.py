"""NATS JetStream connection and the streams the platform relies on, created or updated at start-up."""

import asyncio
import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client as NATS
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError, ServiceUnavailableError

from shared.settings import Settings
from shared.subjects import DLQ_ROOT, DLQ_STREAM, ROOT, STREAM

log = logging.getLogger(__name__)

# The one header every published event carries besides the W3C trace context (the rest is in the payload).
H_MSG_ID = "Nats-Msg-Id"


async def connect(
    url: str, name: str, after_reconnect: Callable[[], None] | None = None
) -> tuple[NATS, JetStreamContext]:
    """Connect with endless reconnects: a NATS outage must pause publishing, never end the process.

    ``after_reconnect`` is called after each reconnect (the relay then checks the stream against its store:
    a node that came back may have lost what it had not written to disk).

    ``url`` may list several servers, comma-separated (a cluster); credentials in the first URL are
    used for every server, including those the cluster announces later.
    """
    servers = [u.strip() for u in url.split(",") if u.strip()]
    parsed = urlsplit(servers[0])
    credentials = {"user": parsed.username, "password": parsed.password} if parsed.username else {}
    state = {"down_since": 0.0}

    async def on_error(error: Exception) -> None:
        # nats-py would log a full traceback for every failed reconnect attempt; one line is enough.
        if time.monotonic() - state["down_since"] > 30:
            log.warning("NATS %s: %s (%s); reconnecting", name, type(error).__name__, error)
            state["down_since"] = time.monotonic()

    async def on_disconnected() -> None:
        log.warning("NATS %s: disconnected", name)

    async def on_reconnected() -> None:
        state["down_since"] = 0.0
        log.info("NATS %s: reconnected", name)
        if after_reconnect is not None:
            after_reconnect()

    nc = await nats.connect(
        servers=servers,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,  # a bcrypt password check on a busy server takes a second
        allow_reconnect=True,
        error_cb=on_error,
        disconnected_cb=on_disconnected,
        reconnected_cb=on_reconnected,
        **credentials,
    )
    return nc, nc.jetstream(timeout=5)


def stream_configs(settings: Settings) -> list[StreamConfig]:
    events = StreamConfig(
        name=STREAM,
        subjects=[f"{ROOT}.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=0,  # events are the platform's history: never aged out
        duplicate_window=float(settings.duplicate_window_seconds),
        num_replicas=settings.stream_replicas,
    )
    dead_letters = StreamConfig(
        name=DLQ_STREAM,
        subjects=[f"{DLQ_ROOT}.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        duplicate_window=float(settings.duplicate_window_seconds),
        num_replicas=settings.stream_replicas,
    )
    return [events, dead_letters]


async def ensure_streams(js: JetStreamContext, settings: Settings, patience: float = 60.0) -> None:
    """Create the streams, or bring an existing stream's config to what the code says.

    A cluster that is electing a leader (starting, or a node just lost) answers JetStream API requests
    late or not at all for a few seconds: those are retried for up to ``patience`` seconds.
    """
    deadline = time.monotonic() + patience
    for config in stream_configs(settings):
        while True:
            try:
                await _ensure_stream(js, config)
                break
            except (NatsTimeoutError, ServiceUnavailableError) as error:
                if time.monotonic() > deadline:
                    raise
                log.warning("stream %s: JetStream not answering yet (%s); retrying", config.name, type(error).__name__)
                await asyncio.sleep(0.5)


# What ensure_streams sets (a field left None takes the server's default); the server fills in the rest.
_MANAGED = ("subjects", "storage", "retention", "discard", "max_age", "duplicate_window", "num_replicas")


async def _ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        info = await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
        return
    wanted = {name: getattr(config, name) for name in _MANAGED if getattr(config, name) is not None}
    if all(getattr(info.config, name) == value for name, value in wanted.items()):
        return  # every replica starting would otherwise put an update through the cluster's meta leader
    try:
        await js.update_stream(config)
    except BadRequestError as error:  # e.g. replicas cannot change on a single server
        log.warning("stream %s kept its old config: %s", config.name, error)
