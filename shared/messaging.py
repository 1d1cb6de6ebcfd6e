"""NATS JetStream connection and the streams the platform relies on, created or updated at start-up."""

import logging

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from shared.settings import Settings
from shared.subjects import DLQ_ROOT, DLQ_STREAM, ROOT, STREAM

log = logging.getLogger(__name__)

# The one header every published event carries besides the W3C trace context (the rest is in the payload).
H_MSG_ID = "Nats-Msg-Id"


async def connect(url: str, name: str) -> tuple[NATS, JetStreamContext]:
    """Connect with endless reconnects: a NATS outage must pause publishing, never end the process."""
    nc = await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=2,
        allow_reconnect=True,
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


async def ensure_streams(js: JetStreamContext, settings: Settings) -> None:
    """Create the streams, or bring an existing stream's config to what the code says."""
    for config in stream_configs(settings):
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)
            continue
        try:
            await js.update_stream(config)
        except BadRequestError as error:  # e.g. replicas cannot change on a single server
            log.warning("stream %s kept its old config: %s", config.name, error)
