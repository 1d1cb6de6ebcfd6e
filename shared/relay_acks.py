"""The JetStream acks of an outbox relay's batches (``shared.relay``), counted on one inbox."""

import asyncio
from typing import Any

import orjson
from nats.js.errors import APIError, NoStreamResponseError

from shared.subjects import STREAM


class BatchAcks:
    """The JetStream acks of the relay's batches, on one inbox: counted, checked, never a future each.

    A batch's messages reply to ``<inbox>.<batch>.<index>``; an ack of an earlier batch (one that timed
    out, then came) or a second ack for one index is ignored, so ``acked`` counts each message once.
    An ack that is an error (or says another stream stored the message) fails the batch.
    """

    def __init__(self, nc: Any, inbox: str) -> None:
        self.nc, self.inbox = nc, inbox
        self.batch = 0
        self.acked = 0
        self.seen = bytearray()
        self.error: Exception | None = None
        self.arrived = asyncio.Event()

    @classmethod
    async def start(cls, nc: Any) -> "BatchAcks":
        acks = cls(nc, nc.new_inbox())
        await nc.subscribe(f"{acks.inbox}.*.*", cb=acks._received)
        return acks

    def begin(self, size: int) -> str:
        """Start counting a batch of ``size`` messages; returns the reply prefix (``+ str(index)``)."""
        self.batch += 1
        self.acked, self.seen, self.error = 0, bytearray(size), None
        return f"{self.inbox}.{self.batch}."

    async def wait(self) -> None:
        self.arrived.clear()
        await self.arrived.wait()
        if self.error is not None:
            raise self.error

    async def _received(self, msg: Any) -> None:
        _, batch, index = msg.subject.rsplit(".", 2)
        if int(batch) != self.batch:
            return
        i = int(index)
        if i >= len(self.seen) or self.seen[i]:
            return
        self.seen[i] = 1
        if msg.headers and msg.headers.get("Status") == "503":
            self.error = NoStreamResponseError()
        else:
            ack = orjson.loads(msg.data) if msg.data else {}
            if "error" in ack:
                self.error = APIError.from_error(ack["error"])
            elif ack.get("stream") != STREAM:
                self.error = RuntimeError(f"event stored in {ack.get('stream')}, expected {STREAM}")
        self.acked += 1
        self.arrived.set()
